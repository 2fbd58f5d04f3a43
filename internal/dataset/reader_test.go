package dataset

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"strings"
	"testing"
)

// badRecordCases are records that must be reported: the file (second
// record bad, first good), the format to read it as ("" detects), and the
// line, field and a part of the reason of the error.
var badRecordCases = []struct {
	name   string
	format Format
	file   string
	line   int
	field  string
	reason string
}{
	{"not JSON", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a", "output": }`, 2, "", "not valid JSON"},
	{"not an object", "", `[{"instruction": "a", "output": "b"},` + "\n" + `"just text"]`, 2, "", "want a JSON object, got a string"},
	{"duplicate key", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a", "output": "b", "output": "c"}`, 2, "", `key "output" appears twice`},
	{"invalid UTF-8", "", `{"instruction": "a", "output": "b"}` + "\n" + "{\"instruction\": \"a\xff\", \"output\": \"b\"}", 2, "instruction", "invalid UTF-8"},
	{"lone surrogate", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a\ud800", "output": "b"}`, 2, "instruction", "lone UTF-16 surrogate"},
	{"alpaca missing instruction", FormatAlpaca, `{"instruction": "a", "output": "b"}` + "\n" + `{"output": "b"}`, 2, "instruction", "missing"},
	{"alpaca missing output", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a", "input": ""}`, 2, "output", "missing"},
	{"alpaca output not a string", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a", "output": 42}`, 2, "output", "want a string, got a number"},
	{"alpaca history not pairs", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a", "output": "b", "history": [["q"]]}`, 2, "history[0]", "pair"},
	{"alpaca chosen without rejected", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a", "chosen": "b"}`, 2, "rejected", "both chosen and rejected"},
	{"alpaca same answers", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a", "chosen": "b", "rejected": "b"}`, 2, "rejected", "identical to chosen"},
	{"kto label not boolean", "", `{"instruction": "a", "output": "b"}` + "\n" + `{"instruction": "a", "output": "b", "label": "maybe"}`, 2, "label", "want true or false"},
	{"sharegpt missing conversations", FormatShareGPT, `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"messages": []}`, 2, "conversations", "missing"},
	{"sharegpt conversations not a list", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": "hi"}`, 2, "conversations", "want a JSON list"},
	{"sharegpt empty conversation", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": []}`, 2, "conversations", "empty conversation"},
	{"sharegpt message without role", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"value": "a"}]}`, 2, "conversations[0].from", "missing"},
	{"sharegpt message without text", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human"}]}`, 2, "conversations[0].value", "missing"},
	{"sharegpt unknown role", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}, {"from": "bot", "value": "b"}]}`, 2, "conversations[1].from", `unknown role "bot"`},
	{"sharegpt system in the middle", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}, {"from": "system", "value": "s"}]}`, 2, "conversations[1].from", "only the first message"},
	{"sharegpt turns do not alternate", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}, {"from": "human", "value": "b"}]}`, 2, "conversations[1].from", "must alternate"},
	{"sharegpt starts with the assistant", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "system", "value": "s"}, {"from": "gpt", "value": "b"}]}`, 2, "conversations[1].from", "assistant after the start"},
	{"sharegpt ends with the user", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}]}`, 2, "conversations[0]", "last message must be the answer"},
	{"sharegpt function call not JSON", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}, {"from": "function_call", "value": "get_weather(city)"}]}`, 2, "conversations[1].value", "function call is not JSON"},
	{"sharegpt tools not JSON", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}], "tools": "[{oops"}`, 2, "tools", "not valid JSON"},
	{"sharegpt two system prompts", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "system", "value": "s"}, {"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}], "system": "t"}`, 2, "system", "two system prompts"},
	{"preference prompt ends with the answer", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}], "chosen": {"from": "gpt", "value": "c"}, "rejected": {"from": "gpt", "value": "d"}}`, 2, "conversations[1]", "must end with a user turn"},
	{"preference answer from the user", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}], "chosen": {"from": "human", "value": "c"}, "rejected": {"from": "gpt", "value": "d"}}`, 2, "chosen.from", "assistant or function_call"},
	{"preference with a KTO label", "", `{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}` + "\n" + `{"conversations": [{"from": "human", "value": "a"}], "chosen": {"from": "gpt", "value": "c"}, "rejected": {"from": "gpt", "value": "d"}, "label": true}`, 2, "label", "cannot also carry a KTO label"},
	{"openai content and tool_calls", "", `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}` + "\n" + `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}`, 2, "messages[1].content", "has content too"},
	{"openai tool arguments not JSON", "", `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]}` + "\n" + `{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{oops"}}]}]}`, 2, "messages[1].tool_calls", "arguments are not JSON"},
	{"trl kto without label", FormatKTO, `{"prompt": "a", "completion": "b", "label": true}` + "\n" + `{"prompt": "a", "completion": "b"}`, 2, "label", "missing"},
	{"trl dpo answer of two messages", "", `{"prompt": "a", "chosen": "b", "rejected": "c"}` + "\n" + `{"prompt": "a", "chosen": [{"role": "assistant", "content": "b"}, {"role": "assistant", "content": "b"}], "rejected": "c"}`, 2, "chosen", "holds 2 messages"},
	{"field line in a pretty array", "", "[\n  {\"instruction\": \"a\", \"output\": \"b\"},\n  {\n    \"instruction\": \"a\",\n    \"output\": \"b\",\n    \"history\": [\n      [\"q\", 7]\n    ]\n  }\n]", 7, "history[0][1]", "want a string"},
}

func TestBadRecords(t *testing.T) {
	for _, c := range badRecordCases {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(c.file), "f.json", ReaderOptions{Format: c.format})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := r.Next(); err != nil {
				t.Fatalf("first record: %v", err)
			}
			_, err = r.Next()
			var re *RecordError
			if !errors.As(err, &re) {
				t.Fatalf("second record: got %v, want a RecordError", err)
			}
			if re.Line != c.line || re.Field != c.field || !strings.Contains(re.Reason, c.reason) || re.Pos.Index != 1 || re.Pos.File != "f.json" {
				t.Errorf("got %q (line %d, field %q), want line %d, field %q, reason containing %q", re, re.Line, re.Field, c.line, c.field, c.reason)
			}
			if _, err := r.Next(); err != io.EOF {
				t.Errorf("after the bad record: %v, want io.EOF", err)
			}
		})
	}
}

// TestBadFiles covers errors that end the stream.
func TestBadFiles(t *testing.T) {
	for _, c := range []struct {
		name, file, err string
		records         int
	}{
		{"truncated array", "[\n{\"instruction\": \"a\", \"output\": \"b\"},\n{\"instruction\": \"a\"", "line 3: unexpected end of file inside record 1, which starts on line 3", 1},
		{"no closing bracket", "[{\"instruction\": \"a\", \"output\": \"b\"}\n", "unexpected end of file before the closing ]", 1},
		{"garbage after the array", "[{\"instruction\": \"a\", \"output\": \"b\"}]\nx", "after the closing ]", 1},
		{"missing comma", "[{\"instruction\": \"a\", \"output\": \"b\"} {\"instruction\": \"a\", \"output\": \"b\"}]", "want , or ]", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(c.file), "f.json", ReaderOptions{})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				_, err = r.Next()
				if err != nil {
					break
				}
				n++
			}
			if n != c.records || err == io.EOF || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%d records then %v, want %d then an error containing %q", n, err, c.records, c.err)
			}
		})
	}
	if _, err := NewReader(strings.NewReader("hello"), "f.txt", ReaderOptions{}); err == nil || !strings.Contains(err.Error(), "want a JSON array") {
		t.Errorf("text file: %v", err)
	}
	if _, err := NewReader(strings.NewReader(`{"text": "a"}`), "f.jsonl", ReaderOptions{}); err == nil || !strings.Contains(err.Error(), "cannot tell the format") {
		t.Errorf("unknown keys: %v", err)
	}
}

// TestReaderContainers reads the same records from JSONL, an array, gzip,
// with a byte order mark and CRLF line ends, and an empty file.
func TestReaderContainers(t *testing.T) {
	want := []Example{
		{Messages: []Message{{RoleUser, "a\nb"}, {RoleAssistant, "c"}}},
		{System: "s", Messages: []Message{{RoleUser, "d"}, {RoleAssistant, "e"}}, Extra: []Field{{"id", []byte(`{"n":1}`)}}},
	}
	jsonl := "{\"instruction\": \"a\", \"input\": \"b\", \"output\": \"c\"}\r\n\r\n{\"instruction\": \"d\", \"output\": \"e\", \"system\": \"s\", \"id\": {\"n\": 1}}\r\n"
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(jsonl))
	zw.Close()
	for name, file := range map[string]string{
		"jsonl": jsonl,
		"array": "[{\"instruction\": \"a\", \"input\": \"b\", \"output\": \"c\"},\n {\"instruction\": \"d\", \"output\": \"e\", \"system\": \"s\", \"id\": {\"n\": 1}}]",
		"bom":   "\xef\xbb\xbf" + jsonl,
		"gzip":  gz.String(),
	} {
		got, format := readExamples(t, []byte(file), ReaderOptions{})
		if format != FormatAlpaca {
			t.Errorf("%s: format %s", name, format)
		}
		sameExamples(t, name, want, got)
	}
	for _, empty := range []string{"", "[]", " \n "} {
		if got, _ := readExamples(t, []byte(empty), ReaderOptions{}); len(got) != 0 {
			t.Errorf("%q: %d examples", empty, len(got))
		}
	}
}

// TestDetectFormat checks which format each layout is read as.
func TestDetectFormat(t *testing.T) {
	for _, c := range []struct {
		record string
		want   Format
		kind   Kind
	}{
		{`{"instruction": "a", "output": "b"}`, FormatAlpaca, KindSFT},
		{`{"instruction": "a", "chosen": "b", "rejected": "c"}`, FormatAlpaca, KindPreference},
		{`{"conversations": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}`, FormatShareGPT, KindSFT},
		{`{"messages": [{"from": "human", "value": "a"}, {"from": "gpt", "value": "b"}]}`, FormatShareGPT, KindSFT},
		{`{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}], "label": false}`, FormatMessages, KindKTO},
		{`{"input": {"messages": [{"role": "user", "content": "a"}]}, "preferred_output": [{"role": "assistant", "content": "b"}], "non_preferred_output": [{"role": "assistant", "content": "c"}]}`, FormatMessages, KindPreference},
		{`{"prompt": "a", "chosen": "b", "rejected": "c"}`, FormatDPO, KindPreference},
		{`{"prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "a"}], "completion": [{"role": "assistant", "content": "b"}], "label": true}`, FormatKTO, KindKTO},
	} {
		exs, f := readExamples(t, []byte(c.record), ReaderOptions{})
		if f != c.want || len(exs) != 1 || exs[0].Kind() != c.kind {
			t.Errorf("%s: read as %s (%d examples), want one %s of %s", c.record, f, len(exs), c.kind, c.want)
		}
	}
}

// TestOpenAIToolCalls converts tool calls both ways.
func TestOpenAIToolCalls(t *testing.T) {
	ex := Example{
		Tools: `[{"name": "get_weather", "parameters": {"type": "object"}}]`,
		Messages: []Message{
			{RoleUser, "weather in Paris?"},
			{RoleFunctionCall, `{"name": "get_weather", "arguments": {"city": "Paris"}}`},
			{RoleObservation, `{"temp": 21}`},
			{RoleAssistant, "21 °C"},
		},
	}
	b, err := marshalExample(FormatMessages, &ex)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"messages":[{"role":"user","content":"weather in Paris?"},{"role":"assistant","tool_calls":[{"id":"call_0","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_0","content":"{\"temp\": 21}"},{"role":"assistant","content":"21 °C"}],"tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":"object"}}}]}`
	if string(b) != want {
		t.Errorf("got  %s\nwant %s", b, want)
	}
	back, _ := readExamples(t, b, ReaderOptions{})
	sameExamples(t, "tool calls", []Example{ex}, back)
}

// TestWriterArrayLayout checks the JSON array layout (LLaMA-Factory's
// two-space indentation) and that <, > and & are written as they are.
func TestWriterArrayLayout(t *testing.T) {
	exs := []Example{{Messages: []Message{{RoleUser, "a < b & c"}, {RoleAssistant, "é\t\"q\""}}}}
	got := string(writeExamples(t, exs, WriterOptions{Format: FormatAlpaca}))
	want := "[\n  {\n    \"instruction\": \"a < b & c\",\n    \"input\": \"\",\n    \"output\": \"é\\t\\\"q\\\"\"\n  }\n]\n"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
	if got := string(writeExamples(t, nil, WriterOptions{Format: FormatAlpaca})); got != "[]\n" {
		t.Errorf("empty array: %q", got)
	}
}

// TestCanExpress checks what each format refuses.
func TestCanExpress(t *testing.T) {
	label := true
	sft := Example{Messages: []Message{{RoleUser, "a"}, {RoleAssistant, "b"}}}
	tool := Example{Messages: []Message{{RoleUser, "a"}, {RoleFunctionCall, `{"name": "f", "arguments": {}}`}}}
	kto := Example{Messages: sft.Messages, Label: &label}
	clash := Example{Messages: sft.Messages, Extra: []Field{{"input", []byte(`"x"`)}}}
	for _, c := range []struct {
		f      Format
		ex     Example
		reason string
	}{
		{FormatAlpaca, tool, "alpaca holds user and assistant turns only"},
		{FormatDPO, sft, "dpo holds preference pairs"},
		{FormatKTO, sft, "kto holds records with a true/false label"},
		{FormatDPO, kto, "dpo holds preference pairs"},
		{FormatAlpaca, clash, `key "input" is a key of the alpaca format`},
		{FormatShareGPT, tool, ""},
		{FormatKTO, kto, ""},
	} {
		err := CanExpress(c.f, &c.ex)
		if c.reason == "" && err != nil || c.reason != "" && (err == nil || !strings.Contains(err.Error(), c.reason)) {
			t.Errorf("%s: %v, want %q", c.f, err, c.reason)
		}
	}
}

// FuzzReader feeds arbitrary bytes to the reader: it must not panic or
// loop, every example it returns must be valid, and writing an example as
// sharegpt and reading it back must give the same example.
func FuzzReader(f *testing.F) {
	for _, c := range badRecordCases {
		f.Add([]byte(c.file))
	}
	f.Add([]byte(`[{"prompt": "a", "chosen": "b", "rejected": "c"}]`))
	f.Add([]byte(`{"input": {"messages": [{"role": "user", "content": "a"}]}, "preferred_output": [{"role": "assistant", "content": "b"}], "non_preferred_output": [{"role": "assistant", "content": "c"}]}`))
	f.Add([]byte(`{"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{\"x\": 1}"}}]}, {"role": "tool", "content": "r"}, {"role": "assistant", "content": "b"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data), "fuzz", ReaderOptions{})
		if err != nil {
			return
		}
		for i := 0; i < 1000; i++ {
			ex, err := r.Next()
			var re *RecordError
			if errors.As(err, &re) {
				continue
			}
			if err != nil {
				return
			}
			if err := ex.Validate(); err != nil {
				t.Fatalf("reader returned an invalid example: %v", err)
			}
			b, err := marshalExample(FormatShareGPT, &ex)
			if err != nil {
				t.Fatalf("cannot write as sharegpt: %v", err)
			}
			back, err := NewReader(bytes.NewReader(b), "back", ReaderOptions{Format: FormatShareGPT})
			if err != nil {
				t.Fatal(err)
			}
			got, err := back.Next()
			if err != nil {
				t.Fatalf("reading back %s: %v", b, err)
			}
			if a, b := canonical(ex), canonical(got); !equalExamples(a, b) {
				t.Fatalf("round trip changed the example:\n%+v\n%+v", a, b)
			}
		}
	})
}

func equalExamples(a, b Example) bool {
	wa, _ := marshalExample(FormatShareGPT, &a)
	wb, _ := marshalExample(FormatShareGPT, &b)
	return bytes.Equal(wa, wb)
}
