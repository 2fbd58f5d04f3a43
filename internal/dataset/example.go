package dataset

import (
	"fmt"
	"strings"
)

// Role says who speaks a [Message].
type Role string

// The roles of a conversation. They follow LLaMA-Factory: a user turn or a
// tool's result is answered by the assistant or by a tool call.
const (
	RoleSystem       Role = "system"        // the system prompt (only first, see Example.System)
	RoleUser         Role = "user"          // the person asking
	RoleAssistant    Role = "assistant"     // the model's answer
	RoleFunctionCall Role = "function_call" // the model calling tools: Content is JSON {"name", "arguments"} or a list of them
	RoleObservation  Role = "observation"   // a tool's result, given back to the model
)

// assistantSide reports whether the model speaks the role (the turns a
// fine-tuning loss is computed on).
func (r Role) assistantSide() bool { return r == RoleAssistant || r == RoleFunctionCall }

// userSide reports whether the role is one the model answers.
func (r Role) userSide() bool { return r == RoleUser || r == RoleObservation }

// Message is one turn of a conversation.
type Message struct {
	Role    Role   `json:"role"`
	Content string `json:"content"`
}

// Kind is what an [Example] trains: supervised answers, a preference between
// two answers, or a single answer labelled good or bad.
type Kind int

// The kinds of example.
const (
	KindSFT        Kind = iota // Messages ends with the answer to learn
	KindPreference             // Messages is the prompt; Chosen is preferred to Rejected (DPO, ORPO, SimPO)
	KindKTO                    // Messages ends with an answer; Label says whether it is desirable (KTO)
)

func (k Kind) String() string {
	switch k {
	case KindSFT:
		return "sft"
	case KindPreference:
		return "preference"
	case KindKTO:
		return "kto"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Example is one training record, whatever file format it came from.
//
// Messages alternate: after the optional system prompt (kept in System, never
// in Messages), a user-side turn (user, observation) is answered by an
// assistant-side turn (assistant, function_call).
//
//   - Supervised (SFT): Messages ends with an assistant-side turn; a trainer
//     learns every assistant-side turn.
//   - Preference (DPO): Messages is the prompt and ends with a user-side turn;
//     Chosen and Rejected are the two assistant-side answers to it.
//   - KTO: as SFT, and Label says whether the last answer is desirable.
type Example struct {
	System   string    `json:"system,omitempty"`
	Tools    string    `json:"tools,omitempty"` // JSON text: a list of function schemas {"name", "description", "parameters"}
	Messages []Message `json:"messages"`
	Chosen   *Message  `json:"chosen,omitempty"`
	Rejected *Message  `json:"rejected,omitempty"`
	Label    *bool     `json:"label,omitempty"`

	// Extra holds the record's other keys (an id, a category, image paths)
	// in file order, so conversion keeps them.
	Extra []Field `json:"-"`
	// Pos is where the record was read; zero for examples made in memory.
	Pos Position `json:"-"`
}

// Field is one extra key of a record with its value as compact JSON.
type Field struct {
	Key   string
	Value []byte
}

// Kind says what the example trains.
func (e *Example) Kind() Kind {
	switch {
	case e.Chosen != nil || e.Rejected != nil:
		return KindPreference
	case e.Label != nil:
		return KindKTO
	}
	return KindSFT
}

// ExtraValue returns the compact JSON value of an extra key.
func (e *Example) ExtraValue(key string) ([]byte, bool) {
	for _, f := range e.Extra {
		if f.Key == key {
			return f.Value, true
		}
	}
	return nil, false
}

// Prompt is what the model is given: the messages before the last answer
// (all of them for a preference pair).
func (e *Example) Prompt() []Message {
	if e.Kind() == KindPreference || len(e.Messages) == 0 {
		return e.Messages
	}
	if e.Messages[len(e.Messages)-1].Role.assistantSide() {
		return e.Messages[:len(e.Messages)-1]
	}
	return e.Messages
}

// Response is the last assistant-side answer of an SFT or KTO example, and
// the empty string for a preference pair (see Chosen and Rejected).
func (e *Example) Response() string {
	if e.Kind() == KindPreference || len(e.Messages) == 0 {
		return ""
	}
	last := e.Messages[len(e.Messages)-1]
	if !last.Role.assistantSide() {
		return ""
	}
	return last.Content
}

// Turns counts the user-side messages: the number of exchanges.
func (e *Example) Turns() int {
	n := 0
	for _, m := range e.Messages {
		if m.Role.userSide() {
			n++
		}
	}
	return n
}

// Answers returns the assistant-side texts a model is asked to produce: the
// last answer of SFT and KTO examples, both answers of a preference pair.
func (e *Example) Answers() []string {
	if e.Kind() == KindPreference {
		var out []string
		for _, m := range []*Message{e.Chosen, e.Rejected} {
			if m != nil {
				out = append(out, m.Content)
			}
		}
		return out
	}
	if r := e.Response(); r != "" || len(e.Messages) > 0 && e.Messages[len(e.Messages)-1].Role.assistantSide() {
		return []string{r}
	}
	return nil
}

// Text joins every text of the example (system, messages, chosen, rejected)
// with newlines: what dedup, language detection and filters look at.
func (e *Example) Text() string {
	var b strings.Builder
	e.eachText(func(_ string, s *string) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(*s)
	})
	return b.String()
}

// eachText calls f with a field path and a pointer to each text of the
// example, so cleaning can rewrite them in place. Tools and function calls are
// JSON and are not visited.
func (e *Example) eachText(f func(field string, s *string)) {
	if e.System != "" {
		f("system", &e.System)
	}
	for i := range e.Messages {
		if e.Messages[i].Role == RoleFunctionCall {
			continue
		}
		f(fmt.Sprintf("messages[%d]", i), &e.Messages[i].Content)
	}
	if e.Chosen != nil && e.Chosen.Role != RoleFunctionCall {
		f("chosen", &e.Chosen.Content)
	}
	if e.Rejected != nil && e.Rejected.Role != RoleFunctionCall {
		f("rejected", &e.Rejected.Content)
	}
}

// Position is where a record sits in its file.
type Position struct {
	File  string `json:"file"`   // the name given to the reader ("-" for standard input)
	Line  int    `json:"line"`   // 1-based line of the record's first byte
	Index int    `json:"record"` // 0-based record number in the file (array index for JSON arrays)
}

func (p Position) String() string {
	if p.File == "" && p.Line == 0 {
		return fmt.Sprintf("record %d", p.Index)
	}
	return fmt.Sprintf("%s:%d (record %d)", p.File, p.Line, p.Index)
}
