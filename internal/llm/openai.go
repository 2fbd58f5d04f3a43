package llm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"strings"
	"time"

	"flywheel/internal/upstream"
)

// OpenAIConfig addresses an OpenAI-compatible chat endpoint: OpenAI,
// DeepSeek, vLLM, a llama.cpp server, Ollama. The zero value of every field
// but URL and Model picks the default.
type OpenAIConfig struct {
	URL       string        // base URL ("https://api.openai.com/v1", "http://localhost:8080") or the full …/chat/completions URL
	Model     string        // model name sent when Request.Model is ""
	APIKey    string        // bearer token; when empty it is read from APIKeyEnv (never logged)
	APIKeyEnv string        // environment variable holding the key (default OPENAI_API_KEY)
	Timeout   time.Duration // per attempt, streaming included (default 2 min)
	Retries   int           // further attempts after a 429, a 5xx, a timeout or a network error (default 3; negative: none)
	Backoff   time.Duration // first wait between attempts, doubled each time; Retry-After overrides it (default 500 ms)
	Client    *http.Client  // default: http.DefaultClient's transport, Timeout applied per attempt
	Name      string        // label in traces (default Model)
	// StrictSchema sends response_format.json_schema.strict = true, which
	// OpenAI accepts only for schemas whose objects list every property as
	// required and forbid additional ones.
	StrictSchema bool
}

// OpenAI is a Model served by an OpenAI-compatible /chat/completions
// endpoint.
type OpenAI struct {
	cfg      OpenAIConfig
	endpoint string
}

// NewOpenAI checks cfg and returns the client. It makes no request.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if cfg.URL == "" || cfg.Model == "" {
		return nil, fmt.Errorf("llm: an OpenAI-compatible endpoint needs a URL and a model name (got URL %q, model %q)", cfg.URL, cfg.Model)
	}
	if !strings.HasPrefix(cfg.URL, "http://") && !strings.HasPrefix(cfg.URL, "https://") {
		return nil, fmt.Errorf("llm: URL %q: want http:// or https://", cfg.URL)
	}
	if cfg.APIKeyEnv == "" {
		cfg.APIKeyEnv = "OPENAI_API_KEY"
	}
	if cfg.APIKey == "" {
		cfg.APIKey = os.Getenv(cfg.APIKeyEnv)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 2 * time.Minute
	}
	if cfg.Retries == 0 {
		cfg.Retries = 3
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 500 * time.Millisecond
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{}
	}
	if cfg.Name == "" {
		cfg.Name = cfg.Model
	}
	return &OpenAI{cfg: cfg, endpoint: chatEndpoint(cfg.URL)}, nil
}

// chatEndpoint completes a base URL to its chat-completions path.
func chatEndpoint(base string) string {
	base = strings.TrimRight(base, "/")
	switch {
	case strings.HasSuffix(base, "/chat/completions"):
		return base
	case strings.HasSuffix(base, "/v1"):
		return base + "/chat/completions"
	}
	return base + "/v1/chat/completions"
}

// Name is the label of the endpoint in traces.
func (o *OpenAI) Name() string { return o.cfg.Name }

// Chat posts req to the endpoint, retrying what may succeed on a second
// try. With Request.JSONSchema set it validates the answer and sends one
// repair turn when it does not validate; the text is then streamed as one
// delta once it is final, because an invalid first answer cannot be
// taken back.
func (o *OpenAI) Chat(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	start := time.Now()
	var resp *Response
	var err error
	if len(req.JSONSchema) > 0 {
		resp, err = o.chatSchema(ctx, req, stream)
	} else {
		resp, err = o.chatRetrying(ctx, req, stream)
	}
	if resp != nil {
		resp.Latency = time.Since(start)
		for i, line := range resp.Trace {
			resp.Trace[i] = o.redactString(line)
		}
	}
	return resp, o.redact(err)
}

// chatRetrying makes attempts until one succeeds, the error is permanent,
// text has been streamed, or the retries are spent.
func (o *OpenAI) chatRetrying(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	body, err := o.requestBody(req, stream != nil)
	if err != nil {
		return nil, err
	}
	var trace []string
	wait := o.cfg.Backoff
	for attempt := 1; ; attempt++ {
		resp, a := o.attempt(ctx, body, req, stream)
		if a.err == nil {
			resp.Trace = append(trace, resp.Trace...)
			return resp, nil
		}
		retry := a.retryable && !a.streamed && attempt <= o.cfg.Retries && ctx.Err() == nil
		if !retry {
			if resp == nil {
				resp = &Response{Model: o.modelName(req)}
			}
			resp.Trace = append(append(trace, resp.Trace...), fmt.Sprintf("%s: attempt %d failed: %v", o.cfg.Name, attempt, a.err))
			if ctx.Err() != nil {
				resp.FinishReason = FinishCancelled
			}
			return resp, fmt.Errorf("llm: %s: %w", o.cfg.Name, a.err)
		}
		if a.retryAfter > 0 {
			wait = a.retryAfter
		}
		trace = append(trace, fmt.Sprintf("%s: attempt %d failed: %v; retrying in %v", o.cfg.Name, attempt, a.err, wait))
		select {
		case <-ctx.Done():
			resp := &Response{Model: o.modelName(req), FinishReason: FinishCancelled, Trace: trace}
			return resp, fmt.Errorf("llm: %s: %w (after: %v)", o.cfg.Name, ctx.Err(), a.err)
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// attemptResult says how one attempt failed and whether another may help.
type attemptResult struct {
	err        error
	retryable  bool          // 429, 5xx, timeout, network error
	retryAfter time.Duration // the upstream's Retry-After
	streamed   bool          // text already reached the stream callback
}

// attempt makes one request under the per-attempt timeout.
func (o *OpenAI) attempt(ctx context.Context, body []byte, req Request, stream func(string) error) (*Response, attemptResult) {
	actx, cancel := context.WithTimeout(ctx, o.cfg.Timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, o.endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, attemptResult{err: err}
	}
	hreq.Header.Set("Content-Type", "application/json")
	if stream != nil {
		hreq.Header.Set("Accept", "text/event-stream")
	}
	if o.cfg.APIKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+o.cfg.APIKey)
	}
	hresp, err := o.cfg.Client.Do(hreq)
	if err != nil {
		return nil, o.transportFailure(ctx, actx, err, false)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		return nil, o.statusFailure(hresp)
	}
	if strings.HasPrefix(hresp.Header.Get("Content-Type"), "text/event-stream") {
		return o.readStream(ctx, actx, hresp.Body, req, stream)
	}
	raw, err := io.ReadAll(io.LimitReader(hresp.Body, maxResponseBytes))
	if err != nil {
		return nil, o.transportFailure(ctx, actx, fmt.Errorf("reading the response: %w", err), false)
	}
	resp, err := parseChatResponse(raw)
	if err != nil {
		return nil, attemptResult{err: fmt.Errorf("POST %s: %w", o.endpoint, err)}
	}
	o.finish(resp, req)
	if stream != nil && resp.Text != "" {
		if err := stream(resp.Text); err != nil {
			return resp, attemptResult{err: err, streamed: true}
		}
	}
	return resp, attemptResult{}
}

// maxResponseBytes bounds a non-streamed response body.
const maxResponseBytes = 64 << 20

// transportFailure classifies a network error or a timeout of one attempt.
func (o *OpenAI) transportFailure(ctx, actx context.Context, err error, streamed bool) attemptResult {
	switch {
	case ctx.Err() != nil:
		return attemptResult{err: ctx.Err(), streamed: streamed}
	case actx.Err() != nil:
		return attemptResult{err: fmt.Errorf("POST %s: no complete answer within the %v timeout", o.endpoint, o.cfg.Timeout), retryable: true, streamed: streamed}
	}
	return attemptResult{err: fmt.Errorf("POST %s: %w", o.endpoint, err), retryable: true, streamed: streamed}
}

// statusFailure reads the upstream's error message from a non-200 reply.
func (o *OpenAI) statusFailure(hresp *http.Response) attemptResult {
	raw, _ := io.ReadAll(io.LimitReader(hresp.Body, 64<<10))
	err := &StatusError{Endpoint: o.endpoint, StatusCode: hresp.StatusCode, Status: hresp.Status, Message: upstream.Message(raw)}
	if hresp.StatusCode == http.StatusUnauthorized || hresp.StatusCode == http.StatusForbidden {
		err.Hint = "set the key in $" + o.cfg.APIKeyEnv
	}
	retryable := hresp.StatusCode == http.StatusTooManyRequests || hresp.StatusCode >= 500
	return attemptResult{err: err, retryable: retryable, retryAfter: upstream.RetryAfter(hresp.Header)}
}

// StatusError is an upstream's non-200 reply.
type StatusError struct {
	Endpoint   string
	StatusCode int
	Status     string // "429 Too Many Requests"
	Message    string // the upstream's error message
	Hint       string // what to do, when known
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("POST %s: %s: %s", e.Endpoint, e.Status, e.Message)
	if e.Hint != "" {
		s += " (" + e.Hint + ")"
	}
	return s
}

// readStream reads a server-sent-event body, passing text deltas to
// stream (when not nil).
func (o *OpenAI) readStream(ctx, actx context.Context, body io.Reader, req Request, stream func(string) error) (*Response, attemptResult) {
	var acc chatStream
	var dataErr, streamErr error
	err := readSSE(body, func(ev sseEvent) error {
		delta, err := acc.add(ev)
		if err != nil {
			dataErr = err
			return err
		}
		if delta == "" || stream == nil {
			return nil
		}
		if streamErr = stream(delta); streamErr != nil {
			return streamErr
		}
		acc.streamed = true
		return nil
	})
	resp := acc.response()
	o.finish(resp, req)
	switch {
	case streamErr != nil:
		return resp, attemptResult{err: streamErr, streamed: true}
	case dataErr != nil:
		return resp, attemptResult{err: fmt.Errorf("POST %s: %w", o.endpoint, dataErr), streamed: acc.streamed}
	case err != nil:
		if ctx.Err() != nil {
			resp.FinishReason = FinishCancelled
		}
		return resp, o.transportFailure(ctx, actx, fmt.Errorf("reading the stream: %w", err), acc.streamed)
	case !acc.done && acc.finish == "":
		// llama.cpp and Ollama may close after the last chunk without
		// [DONE]; a finish reason is enough, nothing at all is a failure.
		return resp, attemptResult{err: fmt.Errorf("POST %s: the stream ended before a finish reason or [DONE]", o.endpoint), retryable: true, streamed: acc.streamed}
	}
	return resp, attemptResult{}
}

// finish fills what the upstream left out: the model name, the finish
// reason and, estimated and said so, the usage.
func (o *OpenAI) finish(resp *Response, req Request) {
	if resp.Model == "" {
		resp.Model = o.modelName(req)
	}
	if resp.Usage == (Usage{}) {
		p, c := EstimateTokens(req.Conversation()), estimateTextTokens(resp.Text)
		resp.Usage = Usage{PromptTokens: p, CompletionTokens: c, TotalTokens: p + c}
		resp.Trace = append(resp.Trace, fmt.Sprintf("%s: the upstream reported no usage; estimated %d prompt + %d completion tokens", o.cfg.Name, p, c))
	}
	if resp.Usage.TotalTokens == 0 {
		resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	}
}

func (o *OpenAI) modelName(req Request) string {
	if req.Model != "" {
		return req.Model
	}
	return o.cfg.Model
}

// redact removes the API key from err's message, in case an upstream
// echoed it.
func (o *OpenAI) redact(err error) error {
	if err == nil {
		return nil
	}
	if msg := o.redactString(err.Error()); msg != err.Error() {
		return redactedError{msg: msg, err: err}
	}
	return err
}

func (o *OpenAI) redactString(s string) string {
	if o.cfg.APIKey == "" {
		return s
	}
	return strings.ReplaceAll(s, o.cfg.APIKey, "[redacted]")
}

// redactedError keeps the chain of err (for errors.Is) with a message
// that no longer holds the key.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

// chatRequest is the body of POST /chat/completions.
type chatRequest struct {
	Model          string          `json:"model"`
	Messages       []Message       `json:"messages"`
	MaxTokens      int             `json:"max_tokens,omitempty"`
	Temperature    float64         `json:"temperature"`
	TopP           float64         `json:"top_p,omitempty"`
	Seed           *int64          `json:"seed,omitempty"`
	Stop           []string        `json:"stop,omitempty"`
	Logprobs       bool            `json:"logprobs,omitempty"`
	TopLogprobs    int             `json:"top_logprobs,omitempty"`
	ResponseFormat *responseFormat `json:"response_format,omitempty"`
	Stream         bool            `json:"stream,omitempty"`
	StreamOptions  *streamOptions  `json:"stream_options,omitempty"`
}

type responseFormat struct {
	Type       string      `json:"type"`
	JSONSchema *jsonSchema `json:"json_schema,omitempty"`
}

type jsonSchema struct {
	Name   string          `json:"name"`
	Schema json.RawMessage `json:"schema"`
	Strict bool            `json:"strict"`
}

type streamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// requestBody encodes req for the wire. Seeds keep their low 63 bits
// (OpenAI takes a signed 64-bit integer).
func (o *OpenAI) requestBody(req Request, stream bool) ([]byte, error) {
	body := chatRequest{
		Model:       o.modelName(req),
		Messages:    req.Conversation(),
		MaxTokens:   max(req.MaxTokens, 0),
		Temperature: max(req.Temperature, 0),
		Stop:        req.Stop,
		Logprobs:    req.Logprobs || req.TopLogprobs > 0,
		TopLogprobs: max(req.TopLogprobs, 0),
	}
	if req.TopP > 0 && req.TopP < 1 {
		body.TopP = req.TopP
	}
	if req.Seed != 0 {
		s := int64(req.Seed & math.MaxInt64)
		body.Seed = &s
	}
	if len(req.JSONSchema) > 0 {
		if !json.Valid(req.JSONSchema) {
			return nil, errors.New("llm: Request.JSONSchema is not valid JSON; pass the schema document itself")
		}
		body.ResponseFormat = &responseFormat{Type: "json_schema", JSONSchema: &jsonSchema{Name: "response", Schema: req.JSONSchema, Strict: o.cfg.StrictSchema}}
	}
	if stream {
		body.Stream = true
		body.StreamOptions = &streamOptions{IncludeUsage: true}
	}
	return json.Marshal(body)
}
