package prompt

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"flywheel/internal/refdata"
)

// exampleFiles are example files and what ReadExamples makes of them.
var exampleFiles = []struct {
	name, in string
	want     []Example
	wantErr  string
}{
	{"input/output", `{"input": "2+2", "output": "4"}` + "\n\n" + `{"input": "3+3", "output": "6", "id": 7}` + "\n",
		[]Example{{"2+2", "4"}, {"3+3", "6"}}, ""},
	{"other names", `{"question": "q", "answer": "a"}` + "\n" + `{"instruction": "i", "response": "r"}` + "\r\n" + `{"prompt": "p", "completion": "c"}`,
		[]Example{{"q", "a"}, {"i", "r"}, {"p", "c"}}, ""},
	{"alpaca", `{"instruction": "Translate.", "input": "Bonjour", "output": "Hello"}` + "\n" + `{"instruction": "Say hi.", "input": "", "output": "Hi"}`,
		[]Example{{"Translate.\n\nBonjour", "Hello"}, {"Say hi.", "Hi"}}, ""},
	{"json array", "[\n  {\"input\": \"a\", \"output\": \"b\"},\n  {\"question\": \"c\", \"answer\": \"d\"}\n]\n",
		[]Example{{"a", "b"}, {"c", "d"}}, ""},
	{"empty", "\n\n", nil, ""},
	{"no output", `{"input": "a", "output": "b"}` + "\n" + `{"input": "c"}`, nil,
		"prompt: ex.jsonl:2: no output: give output, response, answer or completion"},
	{"no input", `{"output": "b"}`, nil, "prompt: ex.jsonl:1: no input: give input, instruction, question or prompt"},
	{"not an object", "\n\n[1, 2]\n", nil, `prompt: ex.jsonl:3: record 1: want a JSON object per line, got "1"`},
	{"not json", "{\"input\": \"a\",\n", nil, "prompt: ex.jsonl:1: bad JSON: unexpected end of JSON input"},
	{"wrong type", `{"input": 1, "output": "b"}`, nil, "prompt: ex.jsonl:1: bad JSON: json: cannot unmarshal number into Go struct field exampleRecord.input of type string"},
	{"array record error", "[\n{\"input\": \"a\", \"output\": \"b\"},\n{\"input\": \"a\"}\n]", nil,
		"prompt: ex.jsonl:3: record 2: no output: give output, response, answer or completion"},
	{"array then junk", "[]\n{}", nil, "prompt: ex.jsonl:2: text after the array"},
	{"text", "hello", nil, `prompt: ex.jsonl:1: want a JSON object per line, got "hello"`},
}

func TestReadExamples(t *testing.T) {
	for _, tt := range exampleFiles {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadExamples(strings.NewReader(tt.in), "ex.jsonl")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Errorf("error\ngot  %v\nwant %s", err, tt.wantErr)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// The shared alpaca demo set loads as examples, the input after the
// instruction when there is one.
func TestLoadExamplesAlpaca(t *testing.T) {
	for _, name := range []string{"sft/alpaca_en_demo.json", "sft/alpaca_zh_demo.json"} {
		path := refdata.Path(t, name)
		got, err := LoadExamples(path)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var records []struct{ Instruction, Input, Output string }
		if err := json.Unmarshal(data, &records); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(records) {
			t.Fatalf("%s: %d examples, want %d", name, len(got), len(records))
		}
		withInput := 0
		for i, r := range records {
			want := Example{r.Instruction, r.Output}
			if r.Input != "" {
				want.Input += "\n\n" + r.Input
				withInput++
			}
			if got[i] != want {
				t.Fatalf("%s record %d: got %q, want %q", name, i+1, got[i], want)
			}
		}
		if withInput == 0 {
			t.Errorf("%s: no record has an input", name)
		}
	}
	if _, err := LoadExamples("/nonexistent/ex.jsonl"); err == nil || !strings.Contains(err.Error(), "/nonexistent/ex.jsonl") {
		t.Errorf("a missing file: %v", err)
	}
}
