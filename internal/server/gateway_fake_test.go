package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"flywheel/internal/llm"
	"flywheel/internal/store"
)

// gwEcho is a fake chat model: it answers with the words of the last
// message, one stream delta per word, honouring max_tokens (words), stop
// strings, logprobs and JSON schemas, and records the requests it got.
type gwEcho struct {
	names []string
	// block, when set, holds every call until it is closed (or the call's
	// context ends); entered receives a value as each call starts.
	block   chan struct{}
	entered chan struct{}
	// failAfter > 0 makes a call fail after streaming that many words.
	failAfter int

	mu   sync.Mutex
	reqs []llm.Request
}

func (m *gwEcho) Chat(ctx context.Context, req llm.Request, stream func(string) error) (*llm.Response, error) {
	m.mu.Lock()
	m.reqs = append(m.reqs, req)
	m.mu.Unlock()
	if m.entered != nil {
		m.entered <- struct{}{}
	}
	if m.block != nil {
		select {
		case <-m.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	model := m.names[0]
	if req.Model != "" {
		if !slices.Contains(m.names, req.Model) {
			return nil, fmt.Errorf("echo: %w %q", llm.ErrUnknownModel, req.Model)
		}
		model = req.Model
	}
	resp := &llm.Response{Model: model, FinishReason: llm.FinishStop}
	for _, msg := range req.Conversation() {
		resp.Usage.PromptTokens += len(strings.Fields(msg.Content))
	}
	words := m.reply(req, resp)
	for i, w := range words {
		if m.failAfter > 0 && i == m.failAfter {
			return resp, fmt.Errorf("echo: the model broke down after %d words", i)
		}
		delta := w
		if i > 0 {
			delta = " " + w
		}
		if stream != nil {
			if err := stream(delta); err != nil {
				return resp, err
			}
		}
		resp.Text += delta
		if req.Logprobs || req.TopLogprobs > 0 {
			lp := llm.Logprob{TokenLogprob: llm.TokenLogprob{Token: delta, Logprob: -0.5 * float64(i+1)}}
			alts := []llm.TokenLogprob{{Token: delta, Logprob: lp.Logprob}, {Token: " alt", Logprob: -5}, {Token: " other", Logprob: -6}}
			lp.Top = alts[:min(req.TopLogprobs, len(alts))]
			resp.Logprobs = append(resp.Logprobs, lp)
		}
	}
	resp.Usage.CompletionTokens = len(words)
	resp.Usage.TotalTokens = resp.Usage.PromptTokens + resp.Usage.CompletionTokens
	resp.Cost = 0.001 * float64(len(words))
	return resp, nil
}

// reply is the words to answer: the last message's, or a JSON object
// holding it under a schema; cut at a stop string or at MaxTokens.
func (m *gwEcho) reply(req llm.Request, resp *llm.Response) []string {
	conv := req.Conversation()
	text := conv[len(conv)-1].Content
	if len(req.JSONSchema) > 0 {
		text = fmt.Sprintf(`{"echo": %q}`, text)
	}
	for _, s := range req.Stop {
		if i := strings.Index(text, s); i >= 0 {
			text = text[:i]
		}
	}
	words := strings.Fields(text)
	if req.MaxTokens > 0 && len(words) > req.MaxTokens {
		words = words[:req.MaxTokens]
		resp.FinishReason = llm.FinishLength
	}
	return words
}

func (m *gwEcho) requests() []llm.Request {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.reqs)
}

// gwEmbedder is a fake embedder: [len(text), count of 'a', 1].
type gwEmbedder struct{}

func (gwEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = []float32{float32(len(t)), float32(strings.Count(t, "a")), 1}
	}
	return out, nil
}
func (gwEmbedder) Dim() int     { return 3 }
func (gwEmbedder) Name() string { return "fake-embed" }

// gwServer starts a server over cfg (a new store when cfg.Store is nil)
// behind httptest.
func gwServer(t *testing.T, cfg Config) (*Server, *httptest.Server) {
	t.Helper()
	if cfg.Store == nil {
		st, err := store.Open(context.Background(), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		cfg.Store = st
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return s, ts
}

// gwEchoConfig serves gwEcho as "tiny" and "tiny:sql", and gwEmbedder.
func gwEchoConfig(m *gwEcho) Config {
	if m.names == nil {
		m.names = []string{"tiny", "tiny:sql"}
	}
	return Config{Model: m, ModelNames: func() []string { return m.names }, Embedder: gwEmbedder{}}
}

// gwDo sends a request and returns the status, the headers and the body.
func gwDo(t *testing.T, method, url, key string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}
