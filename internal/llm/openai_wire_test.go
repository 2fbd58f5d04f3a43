package llm

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

var chatResponseCases = []struct {
	name    string
	raw     string
	want    *Response
	wantErr string
}{
	{name: "openai", raw: `{"id":"chatcmpl-B","object":"chat.completion","created":1,"model":"gpt-4o-mini-2024-07-18","choices":[{"index":0,"message":{"role":"assistant","content":"Hello!","refusal":null},"logprobs":{"content":[{"token":"Hello","logprob":-0.31,"bytes":[72,101,108,108,111],"top_logprobs":[{"token":"Hello","logprob":-0.31,"bytes":[72]},{"token":"Hi","logprob":-1.4,"bytes":[72]}]},{"token":"!","logprob":-0.01,"bytes":[33],"top_logprobs":[]}],"refusal":null},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0}},"system_fingerprint":"fp_1"}`,
		want: &Response{Model: "gpt-4o-mini-2024-07-18", Text: "Hello!", FinishReason: "stop", Usage: Usage{9, 2, 11}, Logprobs: []Logprob{
			{TokenLogprob{"Hello", -0.31}, []TokenLogprob{{"Hello", -0.31}, {"Hi", -1.4}}},
			{TokenLogprob{"!", -0.01}, []TokenLogprob{}},
		}}},
	{name: "tool call, null content, no usage", raw: `{"model":"deepseek-chat","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[]},"finish_reason":"tool_calls"}]}`,
		want: &Response{Model: "deepseek-chat", FinishReason: "tool_calls"}},
	{name: "second choice ignored", raw: `{"choices":[{"index":1,"message":{"content":"b"}},{"index":0,"message":{"content":"a"},"finish_reason":"length"}]}`,
		want: &Response{Text: "a", FinishReason: "length"}},
	{name: "error object with 200", raw: `{"error":{"message":"model overloaded","code":503}}`, wantErr: "model overloaded"},
	{name: "error string", raw: `{"error":"model 'x' not found"}`, wantErr: "model 'x' not found"},
	{name: "no choices", raw: `{"choices":[]}`, wantErr: "no choices[0].message"},
	{name: "not JSON", raw: `<html>502</html>`, wantErr: "not a chat completion object"},
	{name: "wrong types", raw: `{"choices":[{"index":0,"message":{"content":5}}]}`, wantErr: "not a chat completion object"},
}

func TestParseChatResponse(t *testing.T) {
	for _, tc := range chatResponseCases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseChatResponse([]byte(tc.raw))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func FuzzParseChatResponse(f *testing.F) {
	for _, tc := range chatResponseCases {
		f.Add([]byte(tc.raw))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		resp, err := parseChatResponse(raw)
		if (resp == nil) == (err == nil) {
			t.Fatalf("response %v with error %v", resp, err)
		}
	})
}

var sseCases = []struct {
	name       string
	body       string
	wantDeltas []string
	wantUsage  Usage
	wantFinish string
	wantDone   bool
	wantErr    string
}{
	{name: "openai", body: "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hel\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"},\"finish_reason\":null}]}\n\n" +
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n" +
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2,\"total_tokens\":5}}\n\n" +
		"data: [DONE]\n\n",
		wantDeltas: []string{"Hel", "lo"}, wantUsage: Usage{3, 2, 5}, wantFinish: "stop", wantDone: true},
	{name: "crlf, comments, event names, no trailing blank line", body: ": ping\r\nevent: message\r\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\r\n\r\ndata:{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"b\"},\"finish_reason\":\"length\"}]}",
		wantDeltas: []string{"a", "b"}, wantFinish: "length"},
	{name: "multi-line data", body: "data: {\"choices\":[{\"index\":0,\ndata: \"delta\":{\"content\":\"x\"}}]}\n\n",
		wantDeltas: []string{"x"}},
	{name: "after DONE ignored", body: "data: [DONE]\n\ndata: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"late\"}}]}\n\n", wantDone: true},
	{name: "openai error chunk", body: "data: {\"error\":{\"message\":\"overloaded\"}}\n\n", wantErr: "overloaded"},
	{name: "llama.cpp error line", body: "error: {\"code\":500,\"message\":\"slot unavailable\"}\n\n", wantErr: "slot unavailable"},
	{name: "garbage chunk", body: "data: {not json\n\n", wantErr: "not JSON"},
}

// runSSE reads body as a chat stream, returning the deltas.
func runSSE(body []byte) (*chatStream, []string, error) {
	var acc chatStream
	var deltas []string
	err := readSSE(bytes.NewReader(body), func(ev sseEvent) error {
		d, err := acc.add(ev)
		if d != "" {
			deltas = append(deltas, d)
		}
		return err
	})
	return &acc, deltas, err
}

func TestReadSSE(t *testing.T) {
	for _, tc := range sseCases {
		t.Run(tc.name, func(t *testing.T) {
			acc, deltas, err := runSSE([]byte(tc.body))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			resp := acc.response()
			if !reflect.DeepEqual(deltas, tc.wantDeltas) || resp.Usage != tc.wantUsage || resp.FinishReason != tc.wantFinish || acc.done != tc.wantDone {
				t.Errorf("deltas %q usage %+v finish %q done %v", deltas, resp.Usage, resp.FinishReason, acc.done)
			}
		})
	}
}

func TestReadSSELongLine(t *testing.T) {
	body := "data: " + strings.Repeat("x", maxSSELine+1) + "\n\n"
	if _, _, err := runSSE([]byte(body)); err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("error %v, want a line-length error", err)
	}
}

func FuzzReadSSE(f *testing.F) {
	for _, tc := range sseCases {
		f.Add([]byte(tc.body))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		acc, deltas, _ := runSSE(body)
		if got, want := acc.response().Text, strings.Join(deltas, ""); got != want {
			t.Fatalf("text %q is not the concatenated deltas %q", got, want)
		}
		if utf8.Valid(body) && !utf8.ValidString(acc.response().Text) {
			t.Fatalf("valid UTF-8 in, invalid text out: %q", acc.response().Text)
		}
	})
}
