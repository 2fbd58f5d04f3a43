package llm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestChatEndpoint(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://api.openai.com/v1", "https://api.openai.com/v1/chat/completions"},
		{"https://api.deepseek.com/v1/", "https://api.deepseek.com/v1/chat/completions"},
		{"http://localhost:8080", "http://localhost:8080/v1/chat/completions"},
		{"http://localhost:11434/v1/chat/completions", "http://localhost:11434/v1/chat/completions"},
	} {
		if got := chatEndpoint(tc.in); got != tc.want {
			t.Errorf("chatEndpoint(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNewOpenAIErrors(t *testing.T) {
	for _, cfg := range []OpenAIConfig{{Model: "m"}, {URL: "http://x"}, {URL: "ftp://x", Model: "m"}} {
		if _, err := NewOpenAI(cfg); err == nil {
			t.Errorf("NewOpenAI(%+v) succeeded", cfg)
		}
	}
}

// TestOpenAIRequestBody checks what reaches the wire for each Request field.
func TestOpenAIRequestBody(t *testing.T) {
	schema := `{"type":"object","properties":{"a":{"type":"integer"}}}`
	for _, tc := range []struct {
		name   string
		req    Request
		stream bool
		want   map[string]any
	}{
		{"defaults", Request{Messages: user("hi")}, false, map[string]any{
			"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": "hi"}}, "temperature": 0.0}},
		{"sampling", Request{Model: "gpt-4o", Messages: user("hi"), MaxTokens: 7, Temperature: 0.7, TopP: 0.9, Seed: 42, Stop: []string{"\n"}, TopLogprobs: 3}, false, map[string]any{
			"model": "gpt-4o", "messages": []any{map[string]any{"role": "user", "content": "hi"}}, "max_tokens": 7.0, "temperature": 0.7, "top_p": 0.9,
			"seed": 42.0, "stop": []any{"\n"}, "logprobs": true, "top_logprobs": 3.0}},
		{"top_p off, negative temperature", Request{Messages: user("hi"), Temperature: -1, TopP: 1}, false, map[string]any{
			"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": "hi"}}, "temperature": 0.0}},
		{"stream", Request{Messages: user("hi"), Logprobs: true}, true, map[string]any{
			"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": "hi"}}, "temperature": 0.0, "logprobs": true,
			"stream": true, "stream_options": map[string]any{"include_usage": true}}},
		{"json schema", Request{Messages: user("hi"), JSONSchema: []byte(schema)}, false, map[string]any{
			"model": "gpt-4o-mini", "messages": []any{map[string]any{"role": "user", "content": "hi"}}, "temperature": 0.0,
			"response_format": map[string]any{"type": "json_schema", "json_schema": map[string]any{"name": "response", "strict": false,
				"schema": map[string]any{"type": "object", "properties": map[string]any{"a": map[string]any{"type": "integer"}}}}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
				c := completion{model: "gpt-4o-mini-2024-07-18", text: `{"a":1}`, usage: &Usage{5, 3, 8}}
				if req["stream"] == true {
					writeSSE(w, c, []string{c.text})
				} else {
					writeJSON(w, c)
				}
			})
			var stream func(string) error
			if tc.stream {
				stream = func(string) error { return nil }
			}
			resp, err := u.client(t, OpenAIConfig{}).Chat(context.Background(), tc.req, stream)
			if err != nil {
				t.Fatal(err)
			}
			if got := u.request(0); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("body\n got %v\nwant %v", got, tc.want)
			}
			if resp.Model != "gpt-4o-mini-2024-07-18" || resp.Usage != (Usage{5, 3, 8}) {
				t.Errorf("response model %q usage %+v", resp.Model, resp.Usage)
			}
		})
	}
}

func TestOpenAIChat(t *testing.T) {
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, completion{model: "gpt-4o-mini-2024-07-18", text: "Paris is the capital.", usage: &Usage{12, 5, 17}, logprobs: []float64{-0.1, -0.2, -0.3, -0.4}})
	})
	var streamed []string
	resp, err := u.client(t, OpenAIConfig{}).Chat(context.Background(), Request{Messages: user("capital of France?"), TopLogprobs: 1}, func(d string) error {
		streamed = append(streamed, d)
		return nil
	})
	assertNoKey(t, resp, err)
	if err != nil {
		t.Fatal(err)
	}
	want := Response{Model: "gpt-4o-mini-2024-07-18", Text: "Paris is the capital.", Usage: Usage{12, 5, 17}, FinishReason: FinishStop}
	if resp.Model != want.Model || resp.Text != want.Text || resp.Usage != want.Usage || resp.FinishReason != want.FinishReason {
		t.Errorf("got %+v, want %+v", *resp, want)
	}
	wantLP := []Logprob{
		{TokenLogprob{"Paris ", -0.1}, []TokenLogprob{{"Paris ", -0.1}}},
		{TokenLogprob{"is ", -0.2}, []TokenLogprob{{"is ", -0.2}}},
		{TokenLogprob{"the ", -0.3}, []TokenLogprob{{"the ", -0.3}}},
		{TokenLogprob{"capital.", -0.4}, []TokenLogprob{{"capital.", -0.4}}},
	}
	if !reflect.DeepEqual(resp.Logprobs, wantLP) {
		t.Errorf("logprobs %+v, want %+v", resp.Logprobs, wantLP)
	}
	if !reflect.DeepEqual(streamed, []string{"Paris is the capital."}) {
		t.Errorf("a whole JSON answer to a streaming request reached the stream as %q", streamed)
	}
	if resp.Latency <= 0 {
		t.Errorf("latency %v", resp.Latency)
	}
}

func TestOpenAIStream(t *testing.T) {
	pieces := []string{"Once", " upon", " a", " time", "…"}
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		writeSSE(w, completion{model: "llama-3.2-1b", usage: &Usage{9, 5, 14}, logprobs: []float64{-1, -0.5, -0.25, -0.125, -2}, finish: "length"}, pieces)
	})
	var got []string
	resp, err := u.client(t, OpenAIConfig{}).Chat(context.Background(), Request{Messages: user("story"), Logprobs: true}, func(d string) error {
		got = append(got, d)
		return nil
	})
	assertNoKey(t, resp, err)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, pieces) {
		t.Errorf("deltas %q, want %q", got, pieces)
	}
	if resp.Text != strings.Join(pieces, "") || resp.Usage != (Usage{9, 5, 14}) || resp.FinishReason != FinishLength || resp.Model != "llama-3.2-1b" {
		t.Errorf("response %+v", *resp)
	}
	if len(resp.Logprobs) != 5 || resp.Logprobs[1].Token != " upon" || resp.Logprobs[4].Logprob != -2 {
		t.Errorf("logprobs %+v", resp.Logprobs)
	}
}

// TestOpenAIStreamLlamaCpp reads a llama.cpp-style stream: usage and the
// finish reason in the last chunk, no [DONE], an SSE comment.
func TestOpenAIStreamLlamaCpp(t *testing.T) {
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, ": keep-alive\n\n")
		fmt.Fprint(w, `data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant"}}],"object":"chat.completion.chunk"}`+"\r\n\r\n")
		fmt.Fprint(w, `data: {"choices":[{"finish_reason":null,"index":0,"delta":{"content":"Hi"}}],"object":"chat.completion.chunk"}`+"\n\n")
		fmt.Fprint(w, `data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"model":"gpt-3.5-turbo","object":"chat.completion.chunk","usage":{"completion_tokens":1,"prompt_tokens":7,"total_tokens":8},"timings":{"prompt_n":7}}`+"\n\n")
	})
	var got []string
	resp, err := u.client(t, OpenAIConfig{}).Chat(context.Background(), Request{Messages: user("hello")}, func(d string) error {
		got = append(got, d)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, []string{"Hi"}) || resp.Usage != (Usage{7, 1, 8}) || resp.FinishReason != FinishStop {
		t.Errorf("deltas %q, response %+v", got, *resp)
	}
	// A server that streams a request that did not ask to be streamed.
	resp, err = u.client(t, OpenAIConfig{}).Chat(context.Background(), Request{Messages: user("hello")}, nil)
	if err != nil || resp.Text != "Hi" || resp.Usage != (Usage{7, 1, 8}) {
		t.Errorf("unasked stream: %+v, %v", resp, err)
	}
}

func TestOpenAIEstimatedUsage(t *testing.T) {
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		writeSSE(w, completion{model: "qwen"}, []string{"abcd", "efgh"})
	})
	resp, err := u.client(t, OpenAIConfig{}).Chat(context.Background(), Request{Messages: user("12345678")}, func(string) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	// prompt: 4 (message) + 8 bytes / 4; completion: 8 bytes / 4.
	if resp.Usage != (Usage{6, 2, 8}) {
		t.Errorf("usage %+v, want {6 2 8}", resp.Usage)
	}
	if !traceHas(resp, "reported no usage; estimated 6 prompt + 2 completion tokens") {
		t.Errorf("trace %q does not say the usage is estimated", resp.Trace)
	}
}

func TestOpenAIRetries(t *testing.T) {
	ok := completion{model: "gpt-4o-mini", text: "ok", usage: &Usage{1, 1, 2}}
	for _, tc := range []struct {
		name      string
		retries   int
		fail      func(n int, w http.ResponseWriter) bool // true: the call was answered with a failure
		stream    bool
		wantCalls int
		wantErr   string // "" for success
		wantWait  time.Duration
	}{
		{name: "429 with Retry-After, then success", retries: 3, wantCalls: 2, wantWait: time.Second,
			fail: func(n int, w http.ResponseWriter) bool {
				if n == 1 {
					w.Header().Set("Retry-After", "1")
					w.WriteHeader(http.StatusTooManyRequests)
					fmt.Fprint(w, `{"error":{"message":"Rate limit reached for requests","type":"requests"}}`)
					return true
				}
				return false
			}},
		{name: "500 three times, then fail", retries: 2, wantCalls: 3,
			wantErr: "POST http://127.0.0.1:*/v1/chat/completions: 500 Internal Server Error: The server had an error",
			fail: func(n int, w http.ResponseWriter) bool {
				w.WriteHeader(http.StatusInternalServerError)
				fmt.Fprint(w, `{"error":{"message":"The server had an error while processing your request."}}`)
				return true
			}},
		{name: "503 plain text, no retries", retries: -1, wantCalls: 1, wantErr: "503 Service Unavailable: upstream connect error",
			fail: func(n int, w http.ResponseWriter) bool {
				w.WriteHeader(http.StatusServiceUnavailable)
				fmt.Fprint(w, "upstream connect error")
				return true
			}},
		{name: "400 is not retried", retries: 3, wantCalls: 1, wantErr: "400 Bad Request: 'messages' must contain the word 'json'",
			fail: func(n int, w http.ResponseWriter) bool {
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error":{"message":"'messages' must contain the word 'json'"}}`)
				return true
			}},
		{name: "network error, then success", retries: 3, wantCalls: 2,
			fail: func(n int, w http.ResponseWriter) bool {
				if n == 1 {
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return true
				}
				return false
			}},
		{name: "stream dies before text, then success", retries: 3, stream: true, wantCalls: 2,
			fail: func(n int, w http.ResponseWriter) bool {
				if n == 1 {
					w.Header().Set("Content-Type", "text/event-stream")
					fmt.Fprint(w, `data: {"choices":[{"index":0,"delta":{"role":"assistant"}}]}`+"\n\n")
					return true
				}
				return false
			}},
		{name: "stream dies after text: no retry", retries: 3, stream: true, wantCalls: 1, wantErr: "the stream ended before a finish reason",
			fail: func(n int, w http.ResponseWriter) bool {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, `data: {"choices":[{"index":0,"delta":{"content":"partial"}}]}`+"\n\n")
				return true
			}},
		{name: "error event in the stream", retries: 3, stream: true, wantCalls: 1, wantErr: "the upstream sent an error event: the context is full",
			fail: func(n int, w http.ResponseWriter) bool {
				w.Header().Set("Content-Type", "text/event-stream")
				fmt.Fprint(w, `error: {"code":400,"message":"the context is full","type":"invalid_request_error"}`+"\n\n")
				return true
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
				if tc.fail(n, w) {
					return
				}
				if tc.stream {
					writeSSE(w, ok, []string{ok.text})
				} else {
					writeJSON(w, ok)
				}
			})
			var stream func(string) error
			if tc.stream {
				stream = func(string) error { return nil }
			}
			start := time.Now()
			resp, err := u.client(t, OpenAIConfig{Retries: tc.retries}).Chat(context.Background(), Request{Messages: user("hi")}, stream)
			assertNoKey(t, resp, err)
			if u.calls() != tc.wantCalls {
				t.Errorf("%d calls, want %d", u.calls(), tc.wantCalls)
			}
			if tc.wantErr == "" {
				if err != nil || resp.Text != "ok" {
					t.Fatalf("got %v, %v", resp, err)
				}
			} else if err == nil || !wildcardContains(err.Error(), tc.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
			}
			if waited := time.Since(start); waited < tc.wantWait {
				t.Errorf("retried after %v, before the Retry-After of %v", waited, tc.wantWait)
			}
			if tc.wantWait > 0 && !traceHas(resp, "retrying in 1s") {
				t.Errorf("trace %q does not show the wait", resp.Trace)
			}
		})
	}
}

// wildcardContains reports whether s contains pattern, where * in pattern
// matches any run of non-space characters.
func wildcardContains(s, pattern string) bool {
	parts := strings.Split(pattern, "*")
	for i := 0; i <= len(s); i++ {
		if matchFrom(s[i:], parts) {
			return true
		}
	}
	return false
}

func matchFrom(s string, parts []string) bool {
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	if len(parts) == 1 {
		return true
	}
	s = s[len(parts[0]):]
	for j := 0; j <= len(s) && (j == 0 || s[j-1] != ' '); j++ {
		if matchFrom(s[j:], parts[1:]) {
			return true
		}
	}
	return false
}

func TestOpenAIStatusError(t *testing.T) {
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"error":{"message":"You exceeded your current quota"}}`)
	})
	_, err := u.client(t, OpenAIConfig{Retries: -1}).Chat(context.Background(), Request{Messages: user("hi")}, nil)
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 429 || se.Message != "You exceeded your current quota" {
		t.Fatalf("error %v (%#v), want a *StatusError 429", err, se)
	}
}

func TestOpenAITimeout(t *testing.T) {
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	for _, tc := range []struct {
		retries, wantCalls int
	}{{-1, 1}, {1, 2}} {
		before := u.calls()
		resp, err := u.client(t, OpenAIConfig{Timeout: 50 * time.Millisecond, Retries: tc.retries}).Chat(context.Background(), Request{Messages: user("hi")}, nil)
		assertNoKey(t, resp, err)
		if err == nil || !strings.Contains(err.Error(), "no complete answer within the 50ms timeout") {
			t.Errorf("retries %d: error %v, want a timeout", tc.retries, err)
		}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			t.Errorf("an attempt's timeout reads as the caller's cancellation: %v", err)
		}
		if got := u.calls() - before; got != tc.wantCalls {
			t.Errorf("retries %d: %d calls, want %d", tc.retries, got, tc.wantCalls)
		}
	}
}

func TestOpenAICancel(t *testing.T) {
	release := make(chan struct{})
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, `data: {"choices":[{"index":0,"delta":{"content":"half"}}]}`+"\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := u.client(t, OpenAIConfig{}).Chat(ctx, Request{Messages: user("hi")}, func(d string) error {
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if resp == nil || resp.Text != "half" || resp.FinishReason != FinishCancelled {
		t.Errorf("response %+v, want the partial text, cancelled", resp)
	}
	if u.calls() != 1 {
		t.Errorf("%d calls after a cancellation, want 1", u.calls())
	}
}

func TestOpenAIStreamCallbackError(t *testing.T) {
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		writeSSE(w, completion{model: "m"}, []string{"a", "b", "c"})
	})
	stop := errors.New("client went away")
	var got []string
	_, err := u.client(t, OpenAIConfig{}).Chat(context.Background(), Request{Messages: user("hi")}, func(d string) error {
		got = append(got, d)
		return stop
	})
	if !errors.Is(err, stop) || len(got) != 1 || u.calls() != 1 {
		t.Errorf("error %v, deltas %q, %d calls: want the callback's error after one delta and no retry", err, got, u.calls())
	}
}

// TestOpenAIKeyNeverLeaks has the fake upstream echo the key in its error
// message (as OpenAI does, partly masked, for a wrong key).
func TestOpenAIKeyNeverLeaks(t *testing.T) {
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `{"error":{"message":"key %s is not allowed to use this model"}}`, testKey)
	})
	resp, err := u.client(t, OpenAIConfig{Retries: -1}).Chat(context.Background(), Request{Messages: user("hi")}, nil)
	assertNoKey(t, resp, err)
	if err == nil || !strings.Contains(err.Error(), "key [redacted] is not allowed") || !strings.Contains(err.Error(), "set the key in $LLM_TEST_KEY") {
		t.Errorf("error %v", err)
	}
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusForbidden {
		t.Errorf("the redacted error lost its chain: %v", err)
	}

	// A wrong key: the upstream's 401 says where to set it.
	t.Setenv("LLM_WRONG_KEY", "sk-wrong")
	o, _ := NewOpenAI(OpenAIConfig{URL: u.srv.URL, Model: "m", APIKeyEnv: "LLM_WRONG_KEY", Retries: -1})
	_, err = o.Chat(context.Background(), Request{Messages: user("hi")}, nil)
	if err == nil || !strings.Contains(err.Error(), "401 Unauthorized") || strings.Contains(err.Error(), "sk-wrong") {
		t.Errorf("wrong key: error %v", err)
	}
}

func TestOpenAIJSONSchemaRepair(t *testing.T) {
	schema := []byte(`{"type":"object","properties":{"answer":{"type":"string"}},"required":["answer"]}`)
	for _, tc := range []struct {
		name      string
		answers   []string
		wantText  string
		wantErr   string
		wantTrace string
	}{
		{"valid at once", []string{`{"answer":"42"}`}, `{"answer":"42"}`, "", "the answer satisfies the JSON schema"},
		{"fenced", []string{"```json\n{\"answer\":\"42\"}\n```"}, `{"answer":"42"}`, "", "the answer satisfies the JSON schema"},
		{"not JSON, repaired", []string{`The answer is {"answer": 42`, `{"answer":"42"}`}, `{"answer":"42"}`, "", "the repaired answer satisfies the JSON schema"},
		{"wrong type, repaired", []string{`{"answer": 42}`, `{"answer":"42"}`}, `{"answer":"42"}`, "", "the answer does not satisfy the JSON schema (/answer: want string"},
		{"still invalid", []string{`nope`, `[1]`}, `[1]`, "does not satisfy the JSON schema after one repair turn", "still does not satisfy"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
				writeJSON(w, completion{model: "gpt-4o", text: tc.answers[min(n, len(tc.answers))-1], usage: &Usage{10, 5, 15}})
			})
			var streamed []string
			resp, err := u.client(t, OpenAIConfig{}).Chat(context.Background(), Request{Messages: user("answer in JSON"), JSONSchema: schema}, func(d string) error {
				streamed = append(streamed, d)
				return nil
			})
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("error %v, want %q", err, tc.wantErr)
			}
			if resp.Text != tc.wantText || !traceHas(resp, tc.wantTrace) {
				t.Errorf("text %q trace %q", resp.Text, resp.Trace)
			}
			if u.calls() != len(tc.answers) || resp.Usage.TotalTokens != 15*len(tc.answers) {
				t.Errorf("%d calls, usage %+v: want %d calls summed", u.calls(), resp.Usage, len(tc.answers))
			}
			if err == nil && !reflect.DeepEqual(streamed, []string{tc.wantText}) {
				t.Errorf("streamed %q, want the final text once", streamed)
			}
			if len(tc.answers) == 2 {
				msgs := u.request(1)["messages"].([]any)
				last := msgs[len(msgs)-1].(map[string]any)["content"].(string)
				if len(msgs) != 3 || msgs[1].(map[string]any)["content"] != tc.answers[0] || !strings.Contains(last, "corrected JSON") || !strings.Contains(last, "not valid under the required JSON schema: ") {
					t.Errorf("repair turn %v", msgs)
				}
			}
		})
	}
}

func TestOpenAIBadSchema(t *testing.T) {
	u := newUpstream(t, func(n int, req map[string]any, w http.ResponseWriter, r *http.Request) {
		writeJSON(w, completion{model: "m", text: "{}"})
	})
	for _, schema := range []string{`{"type":`, `{"type":"object","frobnicate":1}`} {
		_, err := u.client(t, OpenAIConfig{}).Chat(context.Background(), Request{Messages: user("q"), JSONSchema: []byte(schema)}, nil)
		if err == nil || !strings.Contains(err.Error(), "Request.JSONSchema") {
			t.Errorf("schema %s: error %v", schema, err)
		}
	}
	if u.calls() != 0 {
		t.Errorf("%d calls with a broken schema", u.calls())
	}
}

func traceHas(resp *Response, part string) bool {
	if resp == nil {
		return false
	}
	for _, s := range resp.Trace {
		if strings.Contains(s, part) {
			return true
		}
	}
	return false
}

// sameDollars compares amounts of money to a nano-dollar.
func sameDollars(a, b float64) bool { return math.Abs(a-b) < 1e-9 }
