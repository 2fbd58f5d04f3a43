package llm

import (
	"context"
	"errors"
	"time"

	"flywheel/internal/prompt"
)

// Roles of chat messages.
const (
	RoleSystem    = "system"
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one turn of a conversation (prompt renders them).
type Message = prompt.Message

// Request is one chat completion. The zero value of every field but
// Messages works: the model's default, greedy decoding, up to the context.
type Request struct {
	// Model names the model; for the local engine "base:adapter" picks a
	// LoRA adapter. "" is the implementation's default.
	Model    string
	Messages []Message
	// Prompt, set instead of Messages, asks for a plain-text completion:
	// the local engine continues it as it is, with no chat template (what
	// /v1/completions means); remote endpoints receive it as one user
	// message.
	Prompt string
	// MaxTokens bounds the completion (≤ 0: the implementation's limit).
	MaxTokens int
	// Temperature ≤ 0 decodes greedily.
	Temperature float64
	TopP        float64 // 0 or ≥ 1: off
	Seed        uint64  // 0: the implementation picks
	Stop        []string
	// TopLogprobs > 0 asks for each token's log-probability and this many
	// alternatives; Logprobs alone asks for the token's own.
	Logprobs    bool
	TopLogprobs int
	// JSONSchema, when set, is a JSON schema the completion must satisfy:
	// constrained decoding in the local engine, response_format plus
	// validate-and-repair for remote models.
	JSONSchema []byte
	// Key identifies who pays (an API key's name) for budgets and cost
	// totals; "" is anonymous.
	Key string
}

// Conversation is the request's messages: Messages, or Prompt as one user
// message.
func (r Request) Conversation() []Message {
	if r.Prompt != "" && len(r.Messages) == 0 {
		return []Message{{Role: RoleUser, Content: r.Prompt}}
	}
	return r.Messages
}

// TokenLogprob is one token with its log-probability.
type TokenLogprob struct {
	Token   string  `json:"token"`
	Logprob float64 `json:"logprob"`
}

// Logprob is a generated token, its log-probability and the most likely
// alternatives at its position.
type Logprob struct {
	TokenLogprob
	Top []TokenLogprob `json:"top_logprobs,omitempty"`
}

// Usage counts the tokens of one request.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Add returns the sum of u and v.
func (u Usage) Add(v Usage) Usage {
	return Usage{u.PromptTokens + v.PromptTokens, u.CompletionTokens + v.CompletionTokens, u.TotalTokens + v.TotalTokens}
}

// Finish reasons.
const (
	FinishStop      = "stop"
	FinishLength    = "length"
	FinishCancelled = "cancelled"
)

// Response is a finished completion.
type Response struct {
	// Model is the model that answered (after routing).
	Model        string
	Text         string
	Logprobs     []Logprob // when asked for
	Usage        Usage
	FinishReason string
	// Cost is in US dollars, from the pricing table (0 when unpriced).
	Cost    float64
	Latency time.Duration
	// Trace says, in order, what routing, retries and cascades did.
	Trace []string
}

// Model is the chat-model contract. Chat completes req; when stream is not
// nil it receives the text as it is generated, and an error it returns
// stops the generation. On cancellation Chat returns what was generated
// with ctx's error.
type Model interface {
	Chat(ctx context.Context, req Request, stream func(delta string) error) (*Response, error)
}

// Func adapts a function to Model.
type Func func(ctx context.Context, req Request, stream func(delta string) error) (*Response, error)

// Chat calls f.
func (f Func) Chat(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	return f(ctx, req, stream)
}

// Errors a Model wraps so callers can tell the client's mistakes from
// failures.
var (
	// ErrUnknownModel: Request.Model names no model served here.
	ErrUnknownModel = errors.New("unknown model")
	// ErrInvalidRequest: the request cannot be served as it is, such as a
	// prompt longer than the model's context.
	ErrInvalidRequest = errors.New("invalid request")
)
