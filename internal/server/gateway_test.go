package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"

	"flywheel/internal/llm"
	"flywheel/internal/openai"
	"flywheel/internal/store"
)

func TestGatewayChat(t *testing.T) {
	m := &gwEcho{}
	_, ts := gwServer(t, gwEchoConfig(m))
	for _, tc := range []struct {
		name, body string
		want       []string // the choices' texts
		finish     string
		usage      llm.Usage
		check      func(t *testing.T, reqs []llm.Request)
	}{
		{name: "defaults", body: `{"model":"tiny","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hello there world"}]}`,
			want: []string{"hello there world"}, finish: "stop", usage: llm.Usage{PromptTokens: 5, CompletionTokens: 3, TotalTokens: 8},
			check: func(t *testing.T, reqs []llm.Request) {
				want := llm.Request{Model: "tiny", Temperature: 1, Messages: []llm.Message{{Role: "system", Content: "be brief"}, {Role: "user", Content: "hello there world"}}}
				if !reflect.DeepEqual(reqs[0], want) {
					t.Errorf("model got %+v, want %+v", reqs[0], want)
				}
			}},
		{name: "sampling parameters", body: `{"model":"tiny:sql","messages":[{"role":"developer","content":"x"},{"role":"user","content":[{"type":"text","text":"a b "},{"type":"text","text":"c d"}]}],
			"max_tokens":3,"temperature":0.2,"top_p":0.9,"seed":-1,"stop":"zzz"}`,
			want: []string{"a b c"}, finish: "length", usage: llm.Usage{PromptTokens: 5, CompletionTokens: 3, TotalTokens: 8},
			check: func(t *testing.T, reqs []llm.Request) {
				r := reqs[0]
				if r.Model != "tiny:sql" || r.MaxTokens != 3 || r.Temperature != 0.2 || r.TopP != 0.9 || r.Seed != math.MaxUint64 || !reflect.DeepEqual(r.Stop, []string{"zzz"}) || r.Messages[0].Role != "system" {
					t.Errorf("model got %+v", r)
				}
			}},
		{name: "stop strings", body: `{"messages":[{"role":"user","content":"one two. three"}],"stop":[". ","x"]}`,
			want: []string{"one two"}, finish: "stop", usage: llm.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}},
		{name: "n with a seed", body: `{"messages":[{"role":"user","content":"hi"}],"n":3,"seed":7,"max_completion_tokens":9}`,
			want: []string{"hi", "hi", "hi"}, finish: "stop", usage: llm.Usage{PromptTokens: 1, CompletionTokens: 3, TotalTokens: 4},
			check: func(t *testing.T, reqs []llm.Request) {
				for i, r := range reqs {
					if r.Seed != uint64(7+i) || r.MaxTokens != 9 {
						t.Errorf("choice %d: seed %d max_tokens %d, want %d 9", i, r.Seed, r.MaxTokens, 7+i)
					}
				}
			}},
		{name: "json_object", body: `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}`,
			want: []string{`{"echo": "hi"}`}, finish: "stop", usage: llm.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3},
			check: func(t *testing.T, reqs []llm.Request) {
				if string(reqs[0].JSONSchema) != `{"type":"object"}` {
					t.Errorf("schema %s", reqs[0].JSONSchema)
				}
			}},
		{name: "json_schema", body: `{"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"e","schema":{"type":"object","properties":{"echo":{"type":"string"}}}}}}`,
			want: []string{`{"echo": "hi"}`}, finish: "stop", usage: llm.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3},
			check: func(t *testing.T, reqs []llm.Request) {
				if string(reqs[0].JSONSchema) != `{"type":"object","properties":{"echo":{"type":"string"}}}` {
					t.Errorf("schema %s", reqs[0].JSONSchema)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(m.requests())
			status, _, body := gwDo(t, "POST", ts.URL+"/v1/chat/completions", "", []byte(tc.body))
			if status != http.StatusOK {
				t.Fatalf("status %d: %s", status, body)
			}
			var c openai.ChatCompletion
			if err := json.Unmarshal(body, &c); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(c.ID, "chatcmpl-") || c.Object != "chat.completion" || c.Created == 0 || c.Model == "" {
				t.Errorf("envelope %+v", c)
			}
			var texts []string
			for i, ch := range c.Choices {
				texts = append(texts, ch.Message.Content)
				if ch.Index != i || ch.FinishReason != tc.finish || ch.Message.Role != "assistant" || ch.Logprobs != nil {
					t.Errorf("choice %d: %+v", i, ch)
				}
			}
			if !reflect.DeepEqual(texts, tc.want) || c.Usage != tc.usage {
				t.Errorf("texts %q usage %+v, want %q %+v", texts, c.Usage, tc.want, tc.usage)
			}
			if tc.check != nil {
				tc.check(t, m.requests()[before:])
			}
		})
	}
}

func TestGatewayChatLogprobs(t *testing.T) {
	_, ts := gwServer(t, gwEchoConfig(&gwEcho{}))
	status, _, body := gwDo(t, "POST", ts.URL+"/v1/chat/completions", "", []byte(`{"messages":[{"role":"user","content":"é b"}],"logprobs":true,"top_logprobs":2}`))
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var c openai.ChatCompletion
	json.Unmarshal(body, &c)
	lp := c.Choices[0].Logprobs
	want := []openai.TokenLogprob{
		{Token: "é", Logprob: -0.5, Bytes: []int{0xc3, 0xa9}, TopLogprobs: []openai.TopLogprob{{Token: "é", Logprob: -0.5, Bytes: []int{0xc3, 0xa9}}, {Token: " alt", Logprob: -5, Bytes: []int{' ', 'a', 'l', 't'}}}},
		{Token: " b", Logprob: -1, Bytes: []int{' ', 'b'}, TopLogprobs: []openai.TopLogprob{{Token: " b", Logprob: -1, Bytes: []int{' ', 'b'}}, {Token: " alt", Logprob: -5, Bytes: []int{' ', 'a', 'l', 't'}}}},
	}
	if lp == nil || !reflect.DeepEqual(lp.Content, want) {
		t.Fatalf("logprobs %+v", lp)
	}
}

// sseEvents reads the data of each server-sent event.
func sseEvents(t *testing.T, body []byte) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, data)
		} else if sc.Text() != "" {
			t.Fatalf("unexpected line %q", sc.Text())
		}
	}
	return out
}

func TestGatewayChatStream(t *testing.T) {
	_, ts := gwServer(t, gwEchoConfig(&gwEcho{}))
	status, h, body := gwDo(t, "POST", ts.URL+"/v1/chat/completions", "", []byte(`{"model":"tiny","messages":[{"role":"user","content":"a b c"}],"stream":true,"stream_options":{"include_usage":true},"n":2,"max_tokens":2}`))
	if status != http.StatusOK || h.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("%d %v %s", status, h, body)
	}
	events := sseEvents(t, body)
	if events[len(events)-1] != "[DONE]" {
		t.Fatalf("no [DONE]: %q", events)
	}
	texts := map[int]string{}
	var finishes []string
	var usage *llm.Usage
	id := ""
	for _, e := range events[:len(events)-1] {
		var c openai.ChatCompletionChunk
		if err := json.Unmarshal([]byte(e), &c); err != nil {
			t.Fatalf("%q: %v", e, err)
		}
		if id == "" {
			id = c.ID
		}
		if c.ID != id || c.Object != "chat.completion.chunk" || c.Model != "tiny" {
			t.Errorf("chunk envelope %+v", c)
		}
		if c.Usage != nil {
			usage = c.Usage
			continue
		}
		ch := c.Choices[0]
		texts[ch.Index] += ch.Delta.Content
		if ch.FinishReason != nil {
			finishes = append(finishes, *ch.FinishReason)
		}
	}
	if !reflect.DeepEqual(texts, map[int]string{0: "a b", 1: "a b"}) || !reflect.DeepEqual(finishes, []string{"length", "length"}) {
		t.Errorf("texts %v finishes %q", texts, finishes)
	}
	if usage == nil || *usage != (llm.Usage{PromptTokens: 3, CompletionTokens: 4, TotalTokens: 7}) {
		t.Errorf("usage %+v", usage)
	}
	var first openai.ChatCompletionChunk
	json.Unmarshal([]byte(events[0]), &first)
	if first.Choices[0].Delta.Role != "assistant" {
		t.Errorf("first chunk %s has no role", events[0])
	}
}

func TestGatewayStreamFailure(t *testing.T) {
	_, ts := gwServer(t, gwEchoConfig(&gwEcho{failAfter: 2}))
	status, _, body := gwDo(t, "POST", ts.URL+"/v1/chat/completions", "", []byte(`{"messages":[{"role":"user","content":"a b c d"}],"stream":true}`))
	events := sseEvents(t, body)
	if status != http.StatusOK || len(events) != 4 || !strings.Contains(events[3], `"error"`) || !strings.Contains(events[3], "broke down after 2 words") {
		t.Fatalf("%d %q", status, events)
	}
}

func TestGatewayCompletions(t *testing.T) {
	m := &gwEcho{}
	_, ts := gwServer(t, gwEchoConfig(m))
	status, _, body := gwDo(t, "POST", ts.URL+"/v1/completions", "", []byte(`{"model":"tiny","prompt":["x y z w","q r s t u v w x y z a b c d e f g h"],"n":2,"echo":true,"logprobs":1,"seed":3}`))
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, body)
	}
	var c openai.Completion
	json.Unmarshal(body, &c)
	var texts []string
	for i, ch := range c.Choices {
		texts = append(texts, ch.Text)
		if ch.Index != i || ch.Logprobs == nil || len(ch.Logprobs.Tokens) != len(ch.Logprobs.TextOffset) {
			t.Errorf("choice %d %+v", i, ch)
		}
	}
	long := "q r s t u v w x y z a b c d e f g h"
	want := []string{"x y z wx y z w", "x y z wx y z w", long + "q r s t u v w x y z a b c d e f", long + "q r s t u v w x y z a b c d e f"}
	if c.Object != "text_completion" || !strings.HasPrefix(c.ID, "cmpl-") || !reflect.DeepEqual(texts, want) {
		t.Fatalf("%+v", c)
	}
	if *c.Choices[2].FinishReason != "length" || *c.Choices[0].FinishReason != "stop" || c.Choices[0].Logprobs.TextOffset[1] != len("x y z w")+1 {
		t.Errorf("finish/offsets %+v", c.Choices)
	}
	if want := (llm.Usage{PromptTokens: 22, CompletionTokens: 40, TotalTokens: 62}); *c.Usage != want {
		t.Errorf("usage %+v, want %+v", *c.Usage, want)
	}
	reqs := m.requests()
	if len(reqs) != 4 || reqs[0].MaxTokens != 16 || reqs[1].Seed != 4 || reqs[3].Prompt != long || len(reqs[3].Messages) != 0 || reqs[0].TopLogprobs != 1 {
		t.Errorf("requests %+v", reqs)
	}

	status, _, body = gwDo(t, "POST", ts.URL+"/v1/completions", "", []byte(`{"prompt":"a b","stream":true}`))
	events := sseEvents(t, body)
	if status != http.StatusOK || len(events) != 4 || events[3] != "[DONE]" || !strings.Contains(events[1], `"text":" b"`) || !strings.Contains(events[2], `"finish_reason":"stop"`) {
		t.Fatalf("%d %q", status, events)
	}
}

func TestGatewayEmbeddingsAndModels(t *testing.T) {
	_, ts := gwServer(t, gwEchoConfig(&gwEcho{}))
	status, _, body := gwDo(t, "POST", ts.URL+"/v1/embeddings", "", []byte(`{"model":"fake-embed","input":["banana","x"]}`))
	var l openai.EmbeddingList
	var raw struct {
		Data []struct {
			Embedding json.RawMessage
		}
	}
	json.Unmarshal(body, &raw)
	json.Unmarshal(body, &l)
	if status != http.StatusOK || l.Model != "fake-embed" || len(raw.Data) != 2 || string(raw.Data[0].Embedding) != "[6,3,1]" || string(raw.Data[1].Embedding) != "[1,0,1]" {
		t.Fatalf("%d %s", status, body)
	}
	status, _, body = gwDo(t, "POST", ts.URL+"/v1/embeddings", "", []byte(`{"input":"aa","encoding_format":"base64"}`))
	json.Unmarshal(body, &raw)
	var s string
	json.Unmarshal(raw.Data[0].Embedding, &s)
	b, _ := base64.StdEncoding.DecodeString(s)
	if status != http.StatusOK || len(b) != 12 || math.Float32frombits(binary.LittleEndian.Uint32(b[4:])) != 2 {
		t.Fatalf("%d %s", status, body)
	}

	status, _, body = gwDo(t, "GET", ts.URL+"/v1/models", "", nil)
	var ml openai.ModelList
	json.Unmarshal(body, &ml)
	var ids []string
	for _, m := range ml.Data {
		ids = append(ids, m.ID)
	}
	if status != http.StatusOK || ml.Object != "list" || !reflect.DeepEqual(ids, []string{"tiny", "tiny:sql", "fake-embed"}) {
		t.Fatalf("%d %s", status, body)
	}
	if status, _, body := gwDo(t, "GET", ts.URL+"/v1/models/tiny:sql", "", nil); status != http.StatusOK || !strings.Contains(string(body), `"id":"tiny:sql"`) {
		t.Fatalf("%d %s", status, body)
	}
}

// gwBadInputs are requests the gateway cannot serve, with the status and
// the error's param and message; they also seed FuzzGateway.
var gwBadInputs = []struct {
	method, path, body string
	status             int
	param, msg         string
}{
	{"POST", gwChat, `{"messages": [`, 400, "", "ends early (after 14 bytes)"},
	{"POST", gwChat, `{"messages": [}`, 400, "", "malformed JSON near byte 15"},
	{"POST", gwChat, ``, 400, "", "empty"},
	{"POST", gwChat, `[1,2]`, 400, "", "body is a JSON array"},
	{"POST", gwChat, `{}`, 400, "messages", "is required"},
	{"POST", gwChat, `{"messages":"hi"}`, 400, "messages", "expected an array"},
	{"POST", gwChat, `{"model":3,"messages":[]}`, 400, "model", "expected a string"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"max_tokens":"ten"}`, 400, "max_tokens", "expected a number"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"max_tokens":1.5}`, 400, "max_tokens", "number 1.5"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"max_tokens":0}`, 400, "max_tokens", "out of range"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"temperature":3}`, 400, "temperature", "0 to 2"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"top_p":-1}`, 400, "top_p", "0 to 1"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"n":0}`, 400, "n", "1 to 16"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"stream":"yes"}`, 400, "stream", "expected a boolean"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"stop":[1]}`, 400, "stop", "array of strings"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"stop":["a","b","c","d","e"]}`, 400, "stop", "at most 4"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"top_logprobs":3}`, 400, "top_logprobs", "needs logprobs"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"logprobs":true,"top_logprobs":21}`, 400, "top_logprobs", "0 to 20"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}}`, 400, "stream_options", "only allowed when stream"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"xml"}}`, 400, "response_format.type", "unknown type"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema"}}`, 400, "response_format.json_schema.schema", "is required"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":[1]}}}`, 400, "response_format.json_schema.schema", "JSON object"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"}],"tools":[{"type":"function"}]}`, 400, "tools", "not supported"},
	{"POST", gwChat, `{"messages":[{"role":"wizard","content":"x"}]}`, 400, "messages[0].role", "unknown role"},
	{"POST", gwChat, `{"messages":[{"role":"user"}]}`, 400, "messages[0].content", "is required"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":"x"},{"role":"tool","content":"x"}]}`, 400, "messages[1].role", "not supported"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}`, 400, "messages[0].content[0]", "only text parts"},
	{"POST", gwChat, `{"messages":[{"role":"user","content":7}]}`, 400, "messages[0].content", "expected a string"},
	{"POST", gwChat, `{"model":"gpt-9","messages":[{"role":"user","content":"x"}]}`, 404, "model", `"gpt-9" is not served here`},
	{"POST", gwChat, gwHuge, 413, "", "larger than the limit of 1048576 bytes"},
	{"GET", gwChat, ``, 405, "", "does not take GET"},
	{"POST", "/v1/nothing", `{}`, 404, "", "no such endpoint"},
	{"POST", gwCompl, `{"model":"tiny"}`, 400, "prompt", "is required"},
	{"POST", gwCompl, `{"prompt":[1,2,3]}`, 400, "prompt", "token arrays are not supported"},
	{"POST", gwCompl, `{"prompt":"x","suffix":"y"}`, 400, "suffix", "not supported"},
	{"POST", gwCompl, `{"prompt":"x","logprobs":6}`, 400, "logprobs", "0 to 5"},
	{"POST", gwCompl, `{"prompt":"x","best_of":3}`, 400, "best_of", "not supported"},
	{"POST", gwCompl, `{"prompt":"x","model":"nope"}`, 404, "model", "not served"},
	{"POST", gwCompl, `{"prompt":`, 400, "", "ends early"},
	{"POST", gwEmb, `{"input":[]}`, 400, "input", "is required"},
	{"POST", gwEmb, `{"input":["a",""]}`, 400, "input[1]", "is empty"},
	{"POST", gwEmb, `{"input":[[1,2]]}`, 400, "input", "token arrays"},
	{"POST", gwEmb, `{"input":"a","encoding_format":"hex"}`, 400, "encoding_format", "float or base64"},
	{"POST", gwEmb, `{"input":"a","dimensions":8}`, 400, "dimensions", "3 dimensions, not 8"},
	{"POST", gwEmb, `{"input":"a","model":"tiny"}`, 404, "model", `use "fake-embed"`},
	{"POST", gwEmb, `{"input":true}`, 400, "input", "expected a string"},
	{"GET", "/v1/models/gpt-9", ``, 404, "model", "not served here"},
	{"DELETE", "/v1/models", ``, 405, "", "does not take DELETE"},
}

const gwChat, gwCompl, gwEmb = "/v1/chat/completions", "/v1/completions", "/v1/embeddings"

var gwHuge = `{"messages":[{"role":"user","content":"` + strings.Repeat("a", 2<<20) + `"}]}`

// TestGatewayBadInput sends every endpoint bodies it cannot serve: each
// gets a 4xx in OpenAI's error shape with a message naming the problem.
func TestGatewayBadInput(t *testing.T) {
	_, ts := gwServer(t, gwEchoConfig(&gwEcho{}))
	for _, tc := range gwBadInputs {
		status, h, body := gwDo(t, tc.method, ts.URL+tc.path, "", []byte(tc.body))
		var e openai.ErrorResponse
		err := json.Unmarshal(body, &e)
		param := ""
		if e.Error.Param != nil {
			param = *e.Error.Param
		}
		if status != tc.status || err != nil || param != tc.param || !strings.Contains(e.Error.Message, tc.msg) || e.Error.Type == "" || h.Get("Content-Type") != "application/json" {
			short := tc.body[:min(len(tc.body), 80)]
			t.Errorf("%s %s %s: %d %s, want %d param %q message with %q", tc.method, tc.path, short, status, body[:min(len(body), 300)], tc.status, tc.param, tc.msg)
		}
	}
}

func TestGatewayNoModel(t *testing.T) {
	_, ts := gwServer(t, Config{})
	for _, path := range []string{"/v1/chat/completions", "/v1/completions", "/v1/embeddings"} {
		body := `{"messages":[{"role":"user","content":"x"}],"prompt":"x","input":"x"}`
		status, _, b := gwDo(t, "POST", ts.URL+path, "", []byte(body))
		if status != http.StatusServiceUnavailable || !strings.Contains(string(b), "is configured: start flywheel serve with --") {
			t.Errorf("%s: %d %s", path, status, b)
		}
	}
	if status, _, b := gwDo(t, "GET", ts.URL+"/v1/models", "", nil); status != 200 || string(b) != `{"object":"list","data":[]}`+"\n" {
		t.Errorf("models: %d %s", status, b)
	}
}

// FuzzGateway posts arbitrary bodies to the gateway's endpoints: every
// answer is a 200 or a 4xx in OpenAI's error shape, never a 5xx.
func FuzzGateway(f *testing.F) {
	paths := []string{gwChat, gwCompl, gwEmb}
	for _, tc := range gwBadInputs {
		if i := slices.Index(paths, tc.path); i >= 0 && tc.method == "POST" && len(tc.body) < 1000 {
			f.Add(uint8(i), []byte(tc.body))
		}
	}
	f.Add(uint8(0), []byte(`{"model":"tiny","messages":[{"role":"user","content":"a b c"}],"stream":true,"n":2,"logprobs":true,"top_logprobs":2,"stop":"b"}`))
	f.Add(uint8(1), []byte(`{"prompt":["a b","c"],"echo":true,"logprobs":2,"stream":true,"stream_options":{"include_usage":true}}`))
	f.Add(uint8(2), []byte(`{"input":["a","bb"],"encoding_format":"base64"}`))
	st, err := store.Open(context.Background(), f.TempDir())
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	cfg := gwEchoConfig(&gwEcho{})
	cfg.Store = st
	s, err := New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		path := paths[int(which)%len(paths)]
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", path, bytes.NewReader(body)))
		switch {
		case rec.Code == http.StatusOK:
		case rec.Code >= 400 && rec.Code < 500:
			var e openai.ErrorResponse
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.Error.Message == "" {
				t.Fatalf("%s %q: %d with body %q", path, body, rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("%s %q: %d %s", path, body, rec.Code, rec.Body.String())
		}
	})
}

// BenchmarkGatewayChat measures the gateway's own cost per chat request
// (decode, auth and limits, queue, metrics, log, encode) over a fake model.
func BenchmarkGatewayChat(b *testing.B) {
	st, err := store.Open(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	cfg := gwEchoConfig(&gwEcho{})
	cfg.Store = st
	s, _ := New(cfg)
	body := []byte(`{"model":"tiny","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"one two three four five six seven eight"}],"max_tokens":8}`)
	for _, stream := range []bool{false, true} {
		b.Run(fmt.Sprintf("stream=%v", stream), func(b *testing.B) {
			body := body
			if stream {
				body = bytes.Replace(body, []byte(`"max_tokens":8`), []byte(`"max_tokens":8,"stream":true`), 1)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, httptest.NewRequest("POST", gwChat, bytes.NewReader(body)))
				if rec.Code != 200 {
					b.Fatal(rec.Code, rec.Body.String())
				}
			}
		})
	}
}
