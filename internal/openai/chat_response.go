package openai

import (
	"flywheel/internal/llm"
)

// ChatCompletion is the body of a finished chat completion.
type ChatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"` // "chat.completion"
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []ChatChoice `json:"choices"`
	Usage   llm.Usage    `json:"usage"`
}

// ChatChoice is one choice of a ChatCompletion.
type ChatChoice struct {
	Index        int            `json:"index"`
	Message      AssistantText  `json:"message"`
	Logprobs     *ChoiceLogprob `json:"logprobs"`
	FinishReason string         `json:"finish_reason"`
}

// AssistantText is the message of a choice.
type AssistantText struct {
	Role    string  `json:"role"` // "assistant"
	Content string  `json:"content"`
	Refusal *string `json:"refusal"`
}

// ChoiceLogprob holds the log-probabilities of a choice's tokens.
type ChoiceLogprob struct {
	Content []TokenLogprob `json:"content"`
	Refusal []TokenLogprob `json:"refusal"`
}

// TokenLogprob is one token with its log-probability, its UTF-8 bytes
// (a token may hold part of a character) and the most likely alternatives.
type TokenLogprob struct {
	Token       string       `json:"token"`
	Logprob     float64      `json:"logprob"`
	Bytes       []int        `json:"bytes"`
	TopLogprobs []TopLogprob `json:"top_logprobs"`
}

// TopLogprob is an alternative token at a position.
type TopLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
	Bytes   []int   `json:"bytes"`
}

// ChatCompletionChunk is one server-sent event of a streamed completion.
type ChatCompletionChunk struct {
	ID      string        `json:"id"`
	Object  string        `json:"object"` // "chat.completion.chunk"
	Created int64         `json:"created"`
	Model   string        `json:"model"`
	Choices []ChunkChoice `json:"choices"`
	Usage   *llm.Usage    `json:"usage,omitempty"`
}

// ChunkChoice is a choice's increment; FinishReason is null until its
// last chunk.
type ChunkChoice struct {
	Index        int            `json:"index"`
	Delta        Delta          `json:"delta"`
	Logprobs     *ChoiceLogprob `json:"logprobs"`
	FinishReason *string        `json:"finish_reason"`
}

// Delta is the text a chunk adds; the first chunk of a choice carries the
// role.
type Delta struct {
	Role    string `json:"role,omitempty"`
	Content string `json:"content,omitempty"`
}

// FinishReason maps an llm finish reason to OpenAI's: "length" when the
// token limit cut the text, else "stop".
func FinishReason(r string) string {
	if r == llm.FinishLength {
		return "length"
	}
	return "stop"
}

// NewChatCompletion builds the body of n finished choices, one response
// each. Usage counts the prompt once and the completions of every choice.
func NewChatCompletion(id string, created int64, model string, resps []*llm.Response, logprobs bool) ChatCompletion {
	c := ChatCompletion{ID: id, Object: "chat.completion", Created: created, Model: responseModel(model, resps), Choices: []ChatChoice{}}
	for i, r := range resps {
		ch := ChatChoice{Index: i, Message: AssistantText{Role: llm.RoleAssistant, Content: r.Text}, FinishReason: FinishReason(r.FinishReason)}
		if logprobs {
			ch.Logprobs = NewChoiceLogprob(r.Logprobs)
		}
		c.Choices = append(c.Choices, ch)
	}
	c.Usage = TotalUsage(resps)
	return c
}

// responseModel is the model that answered (after routing), else the
// requested one.
func responseModel(requested string, resps []*llm.Response) string {
	if len(resps) > 0 && resps[0].Model != "" {
		return resps[0].Model
	}
	return requested
}

// TotalUsage sums the usage of the choices of one prompt: its tokens
// once, every completion's.
func TotalUsage(resps []*llm.Response) llm.Usage {
	var u llm.Usage
	for i, r := range resps {
		if i == 0 {
			u.PromptTokens = r.Usage.PromptTokens
		}
		u.CompletionTokens += r.Usage.CompletionTokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	return u
}

// NewChoiceLogprob converts the logprobs of a response.
func NewChoiceLogprob(lps []llm.Logprob) *ChoiceLogprob {
	out := &ChoiceLogprob{Content: make([]TokenLogprob, len(lps))}
	for i, lp := range lps {
		t := TokenLogprob{Token: lp.Token, Logprob: lp.Logprob, Bytes: utf8Bytes(lp.Token), TopLogprobs: make([]TopLogprob, len(lp.Top))}
		for j, alt := range lp.Top {
			t.TopLogprobs[j] = TopLogprob{Token: alt.Token, Logprob: alt.Logprob, Bytes: utf8Bytes(alt.Token)}
		}
		out.Content[i] = t
	}
	return out
}

func utf8Bytes(s string) []int {
	b := make([]int, len(s))
	for i := range len(s) {
		b[i] = int(s[i])
	}
	return b
}

// ChatStream makes the chunks of one streamed completion.
type ChatStream struct {
	ID      string
	Created int64
	Model   string
}

func (s ChatStream) chunk(choices ...ChunkChoice) ChatCompletionChunk {
	return ChatCompletionChunk{ID: s.ID, Object: "chat.completion.chunk", Created: s.Created, Model: s.Model, Choices: choices}
}

// Start is the first chunk of choice i: the assistant role, no text.
func (s ChatStream) Start(i int) ChatCompletionChunk {
	return s.chunk(ChunkChoice{Index: i, Delta: Delta{Role: llm.RoleAssistant}})
}

// Text is a chunk adding delta to choice i.
func (s ChatStream) Text(i int, delta string) ChatCompletionChunk {
	return s.chunk(ChunkChoice{Index: i, Delta: Delta{Content: delta}})
}

// Finish is the last chunk of choice i, with its finish reason and, when
// asked for, the logprobs of all its tokens.
func (s ChatStream) Finish(i int, r *llm.Response, logprobs bool) ChatCompletionChunk {
	reason := FinishReason(r.FinishReason)
	ch := ChunkChoice{Index: i, FinishReason: &reason}
	if logprobs {
		ch.Logprobs = NewChoiceLogprob(r.Logprobs)
	}
	c := s.chunk(ch)
	if r.Model != "" {
		c.Model = r.Model
	}
	return c
}

// Usage is the chunk after the last choice when the client asked for
// stream_options.include_usage: no choices, the usage.
func (s ChatStream) Usage(u llm.Usage) ChatCompletionChunk {
	c := s.chunk()
	c.Choices = []ChunkChoice{}
	c.Usage = &u
	return c
}
