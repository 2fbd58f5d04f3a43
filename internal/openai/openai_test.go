package openai

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"flywheel/internal/llm"
)

// chatCases are chat bodies with what they decode to, or the field their
// error names; they seed FuzzDecodeChatRequest.
var chatCases = []struct {
	body  string
	want  *ChatRequest
	param string
}{
	{body: `{"model":"m","messages":[{"role":"user","content":"hi"}]}`,
		want: &ChatRequest{Model: "m", N: 1, Messages: []llm.Message{{Role: "user", Content: "hi"}}, Params: llm.Request{Temperature: 1}}},
	{body: `{"messages":[{"role":"developer","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":"c","name":"x"}],
		"stream":true,"stream_options":{"include_usage":true},"n":2,"stop":["x","",""],"max_tokens":5,"max_completion_tokens":6,"temperature":0,"top_p":0.5,"seed":0,
		"logprobs":true,"top_logprobs":3,"response_format":{"type":"json_object"},"user":"u","presence_penalty":1}`,
		want: &ChatRequest{N: 2, Stream: true, IncludeUsage: true, Messages: []llm.Message{{Role: "system", Content: "ab"}, {Role: "assistant", Content: "c"}},
			Params: llm.Request{Stop: []string{"x"}, MaxTokens: 6, TopP: 0.5, Seed: 1 << 63, Logprobs: true, TopLogprobs: 3, JSONSchema: []byte(`{"type":"object"}`)}}},
	{body: `{"messages":[{"role":"user","content":""}],"top_p":0,"response_format":{"type":"json_schema","json_schema":{"name":"n","schema": {"type":"array"} }},"tools":[]}`,
		want: &ChatRequest{N: 1, Messages: []llm.Message{{Role: "user", Content: ""}}, Params: llm.Request{JSONSchema: []byte(`{"type":"array"}`)}}},
	{body: `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"text"},"stop":"","seed":5}`,
		want: &ChatRequest{N: 1, Messages: []llm.Message{{Role: "user", Content: "x"}}, Params: llm.Request{Temperature: 1, Seed: 5}}},
	{body: `{"messages":[]}`, param: "messages"},
	{body: `{"messages":null}`, param: "messages"},
	{body: `null`, param: "messages"},
	{body: `"x"`, param: ""},
	{body: `{"messages":[{"role":"user","content":"x"}],"temperature":"hot"}`, param: "temperature"},
	{body: `{"messages":[{"role":"user","content":"x"}],"seed":1e40}`, param: "seed"},
	{body: `{"messages":[{"role":"user","content":"x"}],"n":17}`, param: "n"},
	{body: `{"messages":[{"role":"user","content":"x"}],"functions":[{}]}`, param: "tools"},
	{body: `{"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"1"}]}]}`, param: "messages[0].tool_calls"},
	{body: `{"messages":[{"role":"user","content":[{"type":"text"}]}]}`, param: "messages[0].content[0]"},
	{body: `{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_schema","json_schema":{"schema":null}}}`, param: "response_format.json_schema.schema"},
	{body: `{"messages":[{"role":"","content":"x"}]}`, param: "messages[0].role"},
	{body: `{"messages":[{"role":"user","content":"x"}],"max_tokens":-1}`, param: "max_tokens"},
	{body: `{"messages":[{"role":"user","content":"x"}]`, param: ""},
	{body: `{"messages":[{"role":"user","content":"x"}]} {"n":2}`, param: ""},
}

func TestDecodeChatRequest(t *testing.T) {
	for _, tc := range chatCases {
		got, err := DecodeChatRequest([]byte(tc.body))
		if tc.want == nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Param != tc.param || re.Message == "" {
				t.Errorf("%s: error %v, want one naming %q", tc.body, err, tc.param)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, *tc.want) {
			t.Errorf("%s:\n got %+v %v\nwant %+v", tc.body, got, err, *tc.want)
		}
	}
}

var completionCases = []struct {
	body  string
	want  *CompletionRequest
	param string
}{
	{body: `{"model":"m","prompt":"once"}`,
		want: &CompletionRequest{Model: "m", Prompts: []string{"once"}, N: 1, Logprobs: -1, Params: llm.Request{MaxTokens: 16, Temperature: 1}}},
	{body: `{"prompt":["a","b"],"n":2,"best_of":2,"echo":true,"logprobs":0,"max_tokens":4,"stop":"\n","stream":true,"stream_options":{"include_usage":false},"suffix":""}`,
		want: &CompletionRequest{Prompts: []string{"a", "b"}, N: 2, Echo: true, Stream: true, Logprobs: 0, Params: llm.Request{MaxTokens: 4, Temperature: 1, Stop: []string{"\n"}, Logprobs: true}}},
	{body: `{"prompt":""}`, want: &CompletionRequest{Prompts: []string{""}, N: 1, Logprobs: -1, Params: llm.Request{MaxTokens: 16, Temperature: 1}}},
	{body: `{"prompt":null}`, param: "prompt"},
	{body: `{"prompt":[[1,2]]}`, param: "prompt"},
	{body: `{"prompt":"x","echo":1}`, param: "echo"},
	{body: `{"prompt":"x","logprobs":-1}`, param: "logprobs"},
}

func TestDecodeCompletionRequest(t *testing.T) {
	for _, tc := range completionCases {
		got, err := DecodeCompletionRequest([]byte(tc.body))
		if tc.want == nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Param != tc.param {
				t.Errorf("%s: error %v, want one naming %q", tc.body, err, tc.param)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, *tc.want) {
			t.Errorf("%s:\n got %+v %v\nwant %+v", tc.body, got, err, *tc.want)
		}
	}
}

var embeddingCases = []struct {
	body  string
	want  *EmbeddingRequest
	param string
}{
	{body: `{"model":"e","input":"a"}`, want: &EmbeddingRequest{Model: "e", Inputs: []string{"a"}}},
	{body: `{"input":["a","b"],"encoding_format":"base64","dimensions":3}`, want: &EmbeddingRequest{Inputs: []string{"a", "b"}, Base64: true, Dimensions: 3}},
	{body: `{"input":""}`, param: "input[0]"},
	{body: `{"input":{}}`, param: "input"},
	{body: `{"input":"a","dimensions":0}`, param: "dimensions"},
	{body: `{"input":"a","encoding_format":"f16"}`, param: "encoding_format"},
}

func TestDecodeEmbeddingRequest(t *testing.T) {
	for _, tc := range embeddingCases {
		got, err := DecodeEmbeddingRequest([]byte(tc.body))
		if tc.want == nil {
			var re *RequestError
			if !errors.As(err, &re) || re.Param != tc.param {
				t.Errorf("%s: error %v, want one naming %q", tc.body, err, tc.param)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, *tc.want) {
			t.Errorf("%s:\n got %+v %v\nwant %+v", tc.body, got, err, *tc.want)
		}
	}
}

func TestChatCompletionBody(t *testing.T) {
	resps := []*llm.Response{
		{Model: "tiny:sql", Text: "a", FinishReason: llm.FinishLength, Usage: llm.Usage{PromptTokens: 4, CompletionTokens: 2, TotalTokens: 6},
			Logprobs: []llm.Logprob{{TokenLogprob: llm.TokenLogprob{Token: "\xe4", Logprob: -0.25}}}},
		{Model: "tiny:sql", Text: "b", FinishReason: llm.FinishCancelled, Usage: llm.Usage{PromptTokens: 4, CompletionTokens: 1, TotalTokens: 5}},
	}
	got, err := json.Marshal(NewChatCompletion("chatcmpl-1", 7, "tiny", resps, true))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":"chatcmpl-1","object":"chat.completion","created":7,"model":"tiny:sql","choices":[` +
		`{"index":0,"message":{"role":"assistant","content":"a","refusal":null},"logprobs":{"content":[{"token":"\ufffd","logprob":-0.25,"bytes":[228],"top_logprobs":[]}],"refusal":null},"finish_reason":"length"},` +
		`{"index":1,"message":{"role":"assistant","content":"b","refusal":null},"logprobs":{"content":[],"refusal":null},"finish_reason":"stop"}],` +
		`"usage":{"prompt_tokens":4,"completion_tokens":3,"total_tokens":7}}`
	if string(got) != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestEvents(t *testing.T) {
	var b bytes.Buffer
	st := ChatStream{ID: "c", Created: 1, Model: "m"}
	WriteEvent(&b, st.Start(0))
	WriteEvent(&b, st.Text(0, "<a>"))
	WriteEvent(&b, st.Finish(0, &llm.Response{Model: "m2"}, false))
	WriteEvent(&b, st.Usage(llm.Usage{PromptTokens: 1, CompletionTokens: 2, TotalTokens: 3}))
	WriteDone(&b)
	want := `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant"},"logprobs":null,"finish_reason":null}]}

data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"<a>"},"logprobs":null,"finish_reason":null}]}

data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m2","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}

data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}}

data: [DONE]

`
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestVectorJSON(t *testing.T) {
	for _, tc := range []struct {
		v    Vector
		want string
	}{
		{Vector{Values: []float32{0.5, -0.25}}, `[0.5,-0.25]`},
		{Vector{Values: []float32{0.5, -0.25}, Base64: true}, `"AAAAPwAAgL4="`}, // the SDK's own test vector
		{Vector{}, `[]`},
	} {
		got, _ := json.Marshal(tc.v)
		if string(got) != tc.want {
			t.Errorf("%+v: %s, want %s", tc.v, got, tc.want)
		}
	}
}

// checkDecoded holds what every accepted request must satisfy.
func checkDecoded(t *testing.T, body []byte, err error, ok func() bool) {
	var re *RequestError
	if err != nil {
		if !errors.As(err, &re) || re.Message == "" || strings.TrimSpace(err.Error()) == "" {
			t.Fatalf("%q: error %v is not a RequestError with a message", body, err)
		}
		return
	}
	if !ok() {
		t.Fatalf("%q: accepted a request out of bounds", body)
	}
}

func FuzzDecodeChatRequest(f *testing.F) {
	for _, tc := range chatCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeChatRequest(body)
		checkDecoded(t, body, err, func() bool {
			p := r.Params
			for i := range r.N {
				_ = r.Request(i)
			}
			return len(r.Messages) > 0 && r.N >= 1 && r.N <= MaxChoices && len(p.Stop) <= MaxStops &&
				p.Temperature >= 0 && p.Temperature <= 2 && p.TopLogprobs <= MaxTopLogprobs && p.MaxTokens >= 0 &&
				(p.JSONSchema == nil || json.Valid(p.JSONSchema))
		})
	})
}

func FuzzDecodeCompletionRequest(f *testing.F) {
	for _, tc := range completionCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeCompletionRequest(body)
		checkDecoded(t, body, err, func() bool {
			for i := range r.Prompts {
				_ = r.Request(i, r.N-1)
			}
			return len(r.Prompts) > 0 && len(r.Prompts) <= MaxPrompts && r.N >= 1 && r.Logprobs <= 5 && r.Params.MaxTokens > 0
		})
	})
}

func FuzzDecodeEmbeddingRequest(f *testing.F) {
	for _, tc := range embeddingCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeEmbeddingRequest(body)
		checkDecoded(t, body, err, func() bool {
			return len(r.Inputs) > 0 && len(r.Inputs) <= MaxEmbeddingInputs && !slices.Contains(r.Inputs, "")
		})
	})
}
