package openai

import (
	"encoding/json"

	"flywheel/internal/llm"
)

// MaxPrompts bounds the prompts of one completions request.
const MaxPrompts = 64

// defaultCompletionTokens is OpenAI's max_tokens for /v1/completions.
const defaultCompletionTokens = 16

// CompletionRequest is a validated POST /v1/completions body. Each prompt
// is sent to the model as one user message (the chat contract has no raw
// text mode).
type CompletionRequest struct {
	Model                string
	Prompts              []string
	Stream, IncludeUsage bool
	N                    int
	// Echo puts the prompt before each completion's text.
	Echo bool
	// Logprobs is the number of alternatives asked for at each token (the
	// request's logprobs; -1 when not asked).
	Logprobs int
	Params   llm.Request
}

type completionWire struct {
	Model         string          `json:"model"`
	Prompt        json.RawMessage `json:"prompt"`
	Suffix        *string         `json:"suffix"`
	Stream        bool            `json:"stream"`
	StreamOptions *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Stop        json.RawMessage `json:"stop"`
	MaxTokens   *int            `json:"max_tokens"`
	Temperature *float64        `json:"temperature"`
	TopP        *float64        `json:"top_p"`
	Seed        *int64          `json:"seed"`
	N           *int            `json:"n"`
	BestOf      *int            `json:"best_of"`
	Logprobs    *int            `json:"logprobs"`
	Echo        bool            `json:"echo"`
}

// DecodeCompletionRequest parses and validates a completions body. Its
// error is a *RequestError naming the field.
func DecodeCompletionRequest(body []byte) (CompletionRequest, error) {
	var w completionWire
	if err := decode(body, &w); err != nil {
		return CompletionRequest{}, err
	}
	return w.validate()
}

func (w *completionWire) validate() (CompletionRequest, error) {
	r := CompletionRequest{Model: w.Model, Stream: w.Stream, Echo: w.Echo, Logprobs: -1}
	if w.StreamOptions != nil {
		if !w.Stream {
			return r, badParam("stream_options", "is only allowed when stream is true")
		}
		r.IncludeUsage = w.StreamOptions.IncludeUsage
	}
	var err error
	if r.Prompts, err = prompts(w.Prompt); err != nil {
		return r, err
	}
	if w.Suffix != nil && *w.Suffix != "" {
		return r, badParam("suffix", "is not supported (no fill-in-the-middle); send the prompt alone")
	}
	if r.N, err = choices(w.N); err != nil {
		return r, err
	}
	if w.BestOf != nil && *w.BestOf != r.N {
		return r, badParam("best_of", "is not supported; leave it out or equal to n")
	}
	p := &r.Params
	if p.Stop, err = stops(w.Stop); err != nil {
		return r, err
	}
	if p.MaxTokens, err = tokenLimit("max_tokens", w.MaxTokens, defaultCompletionTokens); err != nil {
		return r, err
	}
	if err := sampling(p, w.Temperature, w.TopP, w.Seed); err != nil {
		return r, err
	}
	if w.Logprobs != nil {
		if *w.Logprobs < 0 || *w.Logprobs > 5 {
			return r, badParam("logprobs", "%d is out of range: send 0 to 5", *w.Logprobs)
		}
		r.Logprobs = *w.Logprobs
		p.Logprobs, p.TopLogprobs = true, *w.Logprobs
	}
	return r, nil
}

// prompts reads prompt: a string or an array of strings.
func prompts(raw json.RawMessage) ([]string, error) {
	if !notEmpty(raw) {
		return nil, badParam("prompt", "is required: send the text to continue")
	}
	var one string
	if err := json.Unmarshal(raw, &one); err == nil {
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, badParam("prompt", "expected a string or an array of strings (token arrays are not supported: send the text)")
	}
	if len(many) > MaxPrompts {
		return nil, badParam("prompt", "%d prompts: send at most %d per request", len(many), MaxPrompts)
	}
	return many, nil
}

// Request returns the llm request of choice j of prompt i.
func (r CompletionRequest) Request(i, j int) llm.Request {
	req := r.Params
	req.Model = r.Model
	req.Prompt = r.Prompts[i]
	if req.Seed != 0 {
		req.Seed += uint64(j)
	}
	return req
}

// Completion is the body of a finished completion, and of each chunk of a
// streamed one (with one choice and a null finish reason until its end).
type Completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"` // "text_completion"
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []CompletionChoice `json:"choices"`
	Usage   *llm.Usage         `json:"usage,omitempty"`
}

// CompletionChoice is one text of a Completion. Index is prompt×n+choice.
type CompletionChoice struct {
	Text         string              `json:"text"`
	Index        int                 `json:"index"`
	Logprobs     *CompletionLogprobs `json:"logprobs"`
	FinishReason *string             `json:"finish_reason"`
}

// CompletionLogprobs are the legacy logprobs of a completion's tokens.
type CompletionLogprobs struct {
	Tokens        []string             `json:"tokens"`
	TokenLogprobs []float64            `json:"token_logprobs"`
	TopLogprobs   []map[string]float64 `json:"top_logprobs"`
	TextOffset    []int                `json:"text_offset"`
}

// NewCompletionLogprobs converts a response's logprobs; offset is where
// its text starts in the choice's text (the prompt's length when echoed).
func NewCompletionLogprobs(lps []llm.Logprob, offset int) *CompletionLogprobs {
	out := &CompletionLogprobs{Tokens: []string{}, TokenLogprobs: []float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for _, lp := range lps {
		top := make(map[string]float64, len(lp.Top))
		for _, alt := range lp.Top {
			top[alt.Token] = alt.Logprob
		}
		out.Tokens = append(out.Tokens, lp.Token)
		out.TokenLogprobs = append(out.TokenLogprobs, lp.Logprob)
		out.TopLogprobs = append(out.TopLogprobs, top)
		out.TextOffset = append(out.TextOffset, offset)
		offset += len(lp.Token)
	}
	return out
}

// NewCompletion builds the body of finished completions: resps[i*N+j] is
// choice j of prompt i.
func (r CompletionRequest) NewCompletion(id string, created int64, resps []*llm.Response) Completion {
	c := Completion{ID: id, Object: "text_completion", Created: created, Model: responseModel(r.Model, resps), Choices: []CompletionChoice{}}
	var u llm.Usage
	for k, resp := range resps {
		c.Choices = append(c.Choices, r.choice(k, resp))
		if k%r.N == 0 {
			u.PromptTokens += resp.Usage.PromptTokens
		}
		u.CompletionTokens += resp.Usage.CompletionTokens
	}
	u.TotalTokens = u.PromptTokens + u.CompletionTokens
	c.Usage = &u
	return c
}

// choice is the finished choice k (prompt k/N).
func (r CompletionRequest) choice(k int, resp *llm.Response) CompletionChoice {
	prefix := r.echo(k)
	reason := FinishReason(resp.FinishReason)
	ch := CompletionChoice{Text: prefix + resp.Text, Index: k, FinishReason: &reason}
	if r.Logprobs >= 0 {
		ch.Logprobs = NewCompletionLogprobs(resp.Logprobs, len(prefix))
	}
	return ch
}

func (r CompletionRequest) echo(k int) string {
	if !r.Echo {
		return ""
	}
	return r.Prompts[k/r.N]
}

// CompletionStream makes the chunks of one streamed completions request.
type CompletionStream struct {
	Req     CompletionRequest
	ID      string
	Created int64
	Model   string
}

func (s CompletionStream) chunk(ch CompletionChoice) Completion {
	return Completion{ID: s.ID, Object: "text_completion", Created: s.Created, Model: s.Model, Choices: []CompletionChoice{ch}}
}

// Start is the first chunk of choice k: the echoed prompt, if asked for
// (else nothing to send: ok is false).
func (s CompletionStream) Start(k int) (c Completion, ok bool) {
	prefix := s.Req.echo(k)
	return s.chunk(CompletionChoice{Index: k, Text: prefix}), prefix != ""
}

// Text is a chunk adding delta to choice k.
func (s CompletionStream) Text(k int, delta string) Completion {
	return s.chunk(CompletionChoice{Index: k, Text: delta})
}

// Finish is the last chunk of choice k: its finish reason and logprobs.
func (s CompletionStream) Finish(k int, resp *llm.Response) Completion {
	reason := FinishReason(resp.FinishReason)
	ch := CompletionChoice{Index: k, FinishReason: &reason}
	if s.Req.Logprobs >= 0 {
		ch.Logprobs = NewCompletionLogprobs(resp.Logprobs, len(s.Req.echo(k)))
	}
	return s.chunk(ch)
}

// Usage is the last chunk when stream_options.include_usage was set.
func (s CompletionStream) Usage(u llm.Usage) Completion {
	return Completion{ID: s.ID, Object: "text_completion", Created: s.Created, Model: s.Model, Choices: []CompletionChoice{}, Usage: &u}
}
