package eval

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadExamples(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, file, format string
		limit              int
		want               []Example
		err                string
	}{
		{"qa", write("qa.jsonl", `{"id": "q1", "question": "Who?", "answers": ["Ann", "Ann B."], "doc_ids": ["d1"]}`+"\n\n"+
			`{"id": "q2", "question": "When?", "answers": ["1900"], "doc_ids": ["d2"]}`+"\n"), "", 0,
			[]Example{{ID: "q1", Input: "Who?", References: []string{"Ann", "Ann B."}, DocIDs: []string{"d1"}},
				{ID: "q2", Input: "When?", References: []string{"1900"}, DocIDs: []string{"d2"}}}, ""},
		{"qa limit", filepath.Join(dir, "qa.jsonl"), "", 1, []Example{{ID: "q1", Input: "Who?", References: []string{"Ann", "Ann B."}, DocIDs: []string{"d1"}}}, ""},
		{"pairs", write("pairs.jsonl", `{"input": "2+2?", "reference": "4", "references": ["four"]}`+"\n"), "", 0,
			[]Example{{ID: "line-1", Input: "2+2?", References: []string{"4", "four"}}}, ""},
		{"alpaca", write("alpaca.json", `[{"instruction": "Say hi.", "input": "", "output": "Hi!", "system": "Be brief."}]`), "", 0,
			[]Example{{ID: "record-1", System: "Be brief.", Input: "Say hi.", References: []string{"Hi!"}}}, ""},
		{"duplicate id", write("dup.jsonl", `{"id": "a", "question": "x"}`+"\n"+`{"id": "a", "question": "y"}`+"\n"), "", 0, nil, `example id "a" appears twice`},
		{"no question", write("empty.jsonl", `{"id": "a", "question": ""}`+"\n"), "", 0, nil, `dataset:1: empty "question"`},
		{"bad json", write("bad.jsonl", `{"question": "x"}`+"\n{oops\n"), "qa", 0, nil, "bad.jsonl:2:"},
		{"preference", write("dpo.jsonl", `{"prompt": "p", "chosen": "a", "rejected": "b"}`+"\n"), "", 0, nil, "not a preference example"},
	}
	for _, c := range cases {
		got, err := LoadExamples(DatasetConfig{Path: c.file, Format: c.format}, c.limit)
		if c.err != "" {
			if err == nil || !strings.Contains(strings.ReplaceAll(err.Error(), "empty.jsonl", "dataset"), c.err) {
				t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v, %v\nwant %+v", c.name, got, err, c.want)
		}
	}
}

// TestLoadExamplesShared reads the shared XQuAD set whole.
func TestLoadExamplesShared(t *testing.T) {
	exs, err := LoadExamples(DatasetConfig{Path: xquadPath(t)}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) != 1190 || exs[0].ID != "56beb4343aeaaa14008c925b" || exs[0].References[0] != "308" || exs[0].DocIDs[0] != "xquad-en-00-0" {
		t.Errorf("%d examples, first %+v", len(exs), exs[0])
	}
}
