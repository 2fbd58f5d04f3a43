package prompt

// Message is one turn of a conversation, as chat models take it.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}
