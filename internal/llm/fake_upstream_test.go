package llm

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// testKey is the API key the fake upstream expects; no error or trace may
// ever contain it.
const testKey = "sk-test-Zq81SECRETkey"

// fakeUpstream is a fake OpenAI-compatible server on loopback. reply answers
// the n-th call (from 1); the requests are recorded.
type fakeUpstream struct {
	srv   *httptest.Server
	mu    sync.Mutex
	reqs  []map[string]any
	reply func(n int, req map[string]any, w http.ResponseWriter, r *http.Request)
}

func newUpstream(t *testing.T, reply func(n int, req map[string]any, w http.ResponseWriter, r *http.Request)) *fakeUpstream {
	t.Helper()
	u := &fakeUpstream{reply: reply}
	u.srv = httptest.NewServer(http.HandlerFunc(u.serve))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *fakeUpstream) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/chat/completions" || r.Method != http.MethodPost {
		http.Error(w, `{"error":{"message":"no such route"}}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testKey {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprintf(w, `{"error":{"message":"Incorrect API key provided: %s","type":"invalid_request_error"}}`, strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		return
	}
	raw, _ := io.ReadAll(r.Body)
	var req map[string]any
	if err := json.Unmarshal(raw, &req); err != nil {
		http.Error(w, `{"error":{"message":"bad json"}}`, http.StatusBadRequest)
		return
	}
	u.mu.Lock()
	u.reqs = append(u.reqs, req)
	n := len(u.reqs)
	u.mu.Unlock()
	u.reply(n, req, w, r)
}

func (u *fakeUpstream) calls() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.reqs)
}

func (u *fakeUpstream) request(i int) map[string]any {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.reqs[i]
}

// client is an OpenAI client of u with fast retries.
func (u *fakeUpstream) client(t *testing.T, cfg OpenAIConfig) *OpenAI {
	t.Helper()
	t.Setenv("LLM_TEST_KEY", testKey)
	cfg.URL = u.srv.URL
	if cfg.Model == "" {
		cfg.Model = "gpt-4o-mini"
	}
	cfg.APIKeyEnv = "LLM_TEST_KEY"
	if cfg.Backoff == 0 {
		cfg.Backoff = time.Millisecond
	}
	o, err := NewOpenAI(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// completion is what a fake reply says.
type completion struct {
	model    string
	text     string
	usage    *Usage
	logprobs []float64 // one per chunk (stream) or per word (whole)
	finish   string
}

// writeReply answers as the request asks: streamed or whole.
func writeReply(w http.ResponseWriter, req map[string]any, c completion, pieces []string) {
	if req["stream"] == true {
		writeSSE(w, c, pieces)
		return
	}
	c.text = strings.Join(pieces, "")
	writeJSON(w, c)
}

// writeJSON answers with a whole chat completion.
func writeJSON(w http.ResponseWriter, c completion) {
	choice := map[string]any{"index": 0, "message": map[string]any{"role": "assistant", "content": c.text}, "finish_reason": nilIfEmpty(c.finish, "stop")}
	if c.logprobs != nil {
		choice["logprobs"] = map[string]any{"content": wireLogprobsOf(strings.SplitAfter(c.text, " "), c.logprobs)}
	}
	body := map[string]any{"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": c.model, "choices": []any{choice}}
	if c.usage != nil {
		body["usage"] = c.usage
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// writeSSE streams chunks the way OpenAI does: a role chunk, one chunk per
// piece, a finish chunk, a usage chunk with no choices, [DONE].
func writeSSE(w http.ResponseWriter, c completion, pieces []string) {
	w.Header().Set("Content-Type", "text/event-stream")
	send := func(v any) {
		raw, _ := json.Marshal(v)
		fmt.Fprintf(w, "data: %s\n\n", raw)
		w.(http.Flusher).Flush()
	}
	chunk := func(delta map[string]any, lp []any, finish any) map[string]any {
		choice := map[string]any{"index": 0, "delta": delta, "finish_reason": finish}
		if lp != nil {
			choice["logprobs"] = map[string]any{"content": lp}
		}
		return map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": c.model, "choices": []any{choice}}
	}
	send(chunk(map[string]any{"role": "assistant", "content": ""}, nil, nil))
	for i, p := range pieces {
		var lp []any
		if i < len(c.logprobs) {
			lp = wireLogprobsOf([]string{p}, c.logprobs[i:i+1])
		}
		send(chunk(map[string]any{"content": p}, lp, nil))
	}
	send(chunk(map[string]any{}, nil, nilIfEmpty(c.finish, "stop")))
	if c.usage != nil {
		send(map[string]any{"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": c.model, "choices": []any{}, "usage": c.usage})
	}
	fmt.Fprint(w, "data: [DONE]\n\n")
}

func wireLogprobsOf(tokens []string, lps []float64) []any {
	out := make([]any, 0, len(tokens))
	for i, tok := range tokens {
		lp := lps[min(i, len(lps)-1)]
		out = append(out, map[string]any{"token": tok, "logprob": lp, "bytes": []byte(tok), "top_logprobs": []any{map[string]any{"token": tok, "logprob": lp}}})
	}
	return out
}

func nilIfEmpty(s, def string) any {
	if s == "" {
		return def
	}
	return s
}

// assertNoKey fails when the API key leaks into an error or a trace.
func assertNoKey(t *testing.T, resp *Response, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testKey) {
		t.Errorf("the API key leaked into the error: %v", err)
	}
	if resp != nil {
		for _, s := range resp.Trace {
			if strings.Contains(s, testKey) {
				t.Errorf("the API key leaked into the trace: %q", s)
			}
		}
	}
}

func user(text string) []Message { return []Message{{Role: RoleUser, Content: text}} }
