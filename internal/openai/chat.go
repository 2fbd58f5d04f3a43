package openai

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"

	"flywheel/internal/llm"
)

// Bounds of what one request may ask for.
const (
	MaxChoices     = 16      // n
	MaxStops       = 4       // stop strings, as OpenAI allows
	MaxTopLogprobs = 20      // top_logprobs
	maxTokensLimit = 1 << 20 // max_tokens beyond any context
)

// ChatRequest is a validated POST /v1/chat/completions body.
type ChatRequest struct {
	Model    string
	Messages []llm.Message
	// Stream sends the completion as server-sent events; IncludeUsage adds
	// a last chunk with the usage (stream_options.include_usage).
	Stream, IncludeUsage bool
	// N is the number of choices (≥ 1).
	N int
	// Params holds max_tokens, temperature, top_p, seed, stop, logprobs and
	// the JSON schema of response_format; Messages and Model are left empty.
	Params llm.Request
}

// chatWire is the JSON of a chat request. Fields that may take more than
// one JSON type are kept raw and read by validate, which knows their path.
type chatWire struct {
	Model    string `json:"model"`
	Messages []struct {
		Role      string          `json:"role"`
		Content   json.RawMessage `json:"content"`
		Name      string          `json:"name"`
		ToolCalls json.RawMessage `json:"tool_calls"`
	} `json:"messages"`
	Stream        bool `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Stop                json.RawMessage `json:"stop"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Seed                *int64          `json:"seed"`
	N                   *int            `json:"n"`
	Logprobs            bool            `json:"logprobs"`
	TopLogprobs         *int            `json:"top_logprobs"`
	ResponseFormat      *responseFormat `json:"response_format"`
	Tools               json.RawMessage `json:"tools"`
	Functions           json.RawMessage `json:"functions"`
	// Accepted and ignored: user, frequency_penalty, presence_penalty,
	// metadata, store, parallel_tool_calls, service_tier.
}

type responseFormat struct {
	Type       string `json:"type"`
	JSONSchema *struct {
		Name   string          `json:"name"`
		Schema json.RawMessage `json:"schema"`
		Strict *bool           `json:"strict"`
	} `json:"json_schema"`
}

// objectSchema is the schema of response_format {"type": "json_object"}:
// any JSON object.
var objectSchema = []byte(`{"type":"object"}`)

// DecodeChatRequest parses and validates a chat completions body. Its
// error is a *RequestError naming the field.
func DecodeChatRequest(body []byte) (ChatRequest, error) {
	var w chatWire
	if err := decode(body, &w); err != nil {
		return ChatRequest{}, err
	}
	return w.validate()
}

func (w *chatWire) validate() (ChatRequest, error) {
	r := ChatRequest{Model: w.Model, Stream: w.Stream}
	if w.StreamOptions != nil {
		if !w.Stream {
			return r, badParam("stream_options", "is only allowed when stream is true")
		}
		r.IncludeUsage = w.StreamOptions.IncludeUsage
	}
	if err := w.messages(&r); err != nil {
		return r, err
	}
	if notEmpty(w.Tools) || notEmpty(w.Functions) {
		return r, badParam("tools", "tool and function calling are not supported by this server; send plain messages")
	}
	var err error
	if r.N, err = choices(w.N); err != nil {
		return r, err
	}
	p := &r.Params
	if p.Stop, err = stops(w.Stop); err != nil {
		return r, err
	}
	maxTokens, param := w.MaxTokens, "max_tokens"
	if w.MaxCompletionTokens != nil {
		maxTokens, param = w.MaxCompletionTokens, "max_completion_tokens"
	}
	if p.MaxTokens, err = tokenLimit(param, maxTokens, 0); err != nil {
		return r, err
	}
	if err := sampling(p, w.Temperature, w.TopP, w.Seed); err != nil {
		return r, err
	}
	p.Logprobs = w.Logprobs
	if w.TopLogprobs != nil {
		if *w.TopLogprobs < 0 || *w.TopLogprobs > MaxTopLogprobs {
			return r, badParam("top_logprobs", "%d is out of range: send 0 to %d", *w.TopLogprobs, MaxTopLogprobs)
		}
		if *w.TopLogprobs > 0 && !w.Logprobs {
			return r, badParam("top_logprobs", "needs logprobs: true")
		}
		p.TopLogprobs = *w.TopLogprobs
	}
	if p.JSONSchema, err = w.ResponseFormat.schema(); err != nil {
		return r, err
	}
	return r, nil
}

// messages reads the conversation: roles system (or developer), user and
// assistant, content a string or an array of text parts.
func (w *chatWire) messages(r *ChatRequest) error {
	if len(w.Messages) == 0 {
		return badParam("messages", "is required: send at least one {\"role\": \"user\", \"content\": \"...\"}")
	}
	for i, m := range w.Messages {
		at := fmt.Sprintf("messages[%d]", i)
		role := m.Role
		switch role {
		case "system", "user", "assistant":
		case "developer":
			role = llm.RoleSystem
		case "tool", "function":
			return badParam(at+".role", "%q messages are not supported (no tool calling); use system, user or assistant", role)
		case "":
			return badParam(at+".role", "is required: system, user or assistant")
		default:
			return badParam(at+".role", "unknown role %q: use system, user or assistant", role)
		}
		if notEmpty(m.ToolCalls) {
			return badParam(at+".tool_calls", "tool calls are not supported by this server")
		}
		text, err := content(at+".content", m.Content)
		if err != nil {
			return err
		}
		r.Messages = append(r.Messages, llm.Message{Role: role, Content: text})
	}
	return nil
}

// content reads a message's content: a string, or text parts joined.
func content(param string, raw json.RawMessage) (string, error) {
	if !notEmpty(raw) {
		return "", badParam(param, "is required: send the message text as a string")
	}
	var s string
	if raw[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", badParam(param, "invalid string: %v", err)
		}
		return s, nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", badParam(param, "expected a string or an array of {\"type\": \"text\", \"text\": \"...\"} parts")
	}
	var b bytes.Buffer
	for i, p := range parts {
		if p.Type != "text" || p.Text == nil {
			return "", badParam(fmt.Sprintf("%s[%d]", param, i), "only text parts are supported (got type %q); send {\"type\": \"text\", \"text\": \"...\"}", p.Type)
		}
		b.WriteString(*p.Text)
	}
	return b.String(), nil
}

// schema is the JSON schema response_format asks for: nil for text, any
// object for json_object, the given schema for json_schema.
func (f *responseFormat) schema() ([]byte, error) {
	if f == nil {
		return nil, nil
	}
	switch f.Type {
	case "", "text":
		return nil, nil
	case "json_object":
		return objectSchema, nil
	case "json_schema":
		if f.JSONSchema == nil || !notEmpty(f.JSONSchema.Schema) {
			return nil, badParam("response_format.json_schema.schema", "is required with type json_schema: send the JSON schema object")
		}
		s := bytes.TrimSpace(f.JSONSchema.Schema)
		if s[0] != '{' {
			return nil, badParam("response_format.json_schema.schema", "must be a JSON object (a JSON schema)")
		}
		return s, nil
	}
	return nil, badParam("response_format.type", "unknown type %q: use text, json_object or json_schema", f.Type)
}

// notEmpty reports whether a raw field holds a value other than null,
// [] or {}.
func notEmpty(raw json.RawMessage) bool {
	s := string(bytes.TrimSpace(raw))
	return s != "" && s != "null" && s != "[]" && s != "{}"
}

// choices reads n.
func choices(n *int) (int, error) {
	if n == nil {
		return 1, nil
	}
	if *n < 1 || *n > MaxChoices {
		return 0, badParam("n", "%d is out of range: send 1 to %d", *n, MaxChoices)
	}
	return *n, nil
}

// stops reads stop: a string or an array of up to MaxStops strings.
func stops(raw json.RawMessage) ([]string, error) {
	if !notEmpty(raw) {
		return nil, nil
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, badParam("stop", "expected a string or an array of strings")
	}
	if len(many) > MaxStops {
		return nil, badParam("stop", "%d stop strings: send at most %d", len(many), MaxStops)
	}
	out := many[:0]
	for _, s := range many {
		if s != "" {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// tokenLimit reads max_tokens (nil: def).
func tokenLimit(param string, n *int, def int) (int, error) {
	if n == nil {
		return def, nil
	}
	if *n < 1 || *n > maxTokensLimit {
		return 0, badParam(param, "%d is out of range: send a positive number of tokens", *n)
	}
	return *n, nil
}

// sampling reads temperature (default 1, as OpenAI), top_p and seed. A
// top_p of 0 decodes greedily. An explicit seed 0 maps to a fixed seed
// of its own, since llm.Request.Seed 0 means "pick one".
func sampling(p *llm.Request, temperature, topP *float64, seed *int64) error {
	p.Temperature = 1
	if temperature != nil {
		t := *temperature
		if math.IsNaN(t) || t < 0 || t > 2 {
			return badParam("temperature", "%v is out of range: send 0 to 2", t)
		}
		p.Temperature = t
	}
	if topP != nil {
		v := *topP
		if math.IsNaN(v) || v < 0 || v > 1 {
			return badParam("top_p", "%v is out of range: send 0 to 1", v)
		}
		if v == 0 {
			p.Temperature = 0
		}
		p.TopP = v
	}
	if seed != nil {
		p.Seed = uint64(*seed)
		if p.Seed == 0 {
			p.Seed = zeroSeed
		}
	}
	return nil
}

// zeroSeed stands for an explicit seed 0.
const zeroSeed = 1 << 63

// Request returns the llm request of choice i (0 ≤ i < N): choices after
// the first draw with the seed plus i, so that they differ.
func (r ChatRequest) Request(i int) llm.Request {
	req := r.Params
	req.Model = r.Model
	req.Messages = r.Messages
	if req.Seed != 0 {
		req.Seed += uint64(i)
	}
	return req
}
