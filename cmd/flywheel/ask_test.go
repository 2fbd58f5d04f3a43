package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// qaDocs reads a shared QA set's docs.jsonl: id → text.
func qaDocs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs := map[string]string{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d struct{ ID, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		docs[d.ID] = d.Text
	}
	return docs
}

// askQA ingests xquad_en into a temporary data directory and returns the
// flags that name its collection, and its documents.
func askQA(t *testing.T) ([]string, map[string]string) {
	t.Helper()
	docs := filepath.Join(sharedData(t, "qa/xquad_en"), "docs.jsonl")
	data := t.TempDir()
	if _, stderr, err := flywheel(t, "ingest", "--data-dir", data, "--collection", "qa", docs); err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	return []string{"--data-dir", data, "--collection", "qa"}, qaDocs(t, docs)
}

// askJSON runs `flywheel ask --json` and decodes the fields the issue
// names, failing when one is missing.
func askJSON(t *testing.T, args ...string) (map[string]json.RawMessage, []map[string]json.RawMessage) {
	t.Helper()
	out, stderr, err := flywheel(t, append([]string{"ask", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("ask %v: %v\n%s", args, err, stderr)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &top); err != nil {
		t.Fatalf("ask output %q: %v", out, err)
	}
	for _, k := range []string{"answer", "citations", "confidence", "usage", "cost", "trace"} {
		if _, ok := top[k]; !ok {
			t.Errorf("ask --json lacks %q: %s", k, out)
		}
	}
	var cites []map[string]json.RawMessage
	if err := json.Unmarshal(top["citations"], &cites); err != nil {
		t.Fatalf("citations: %v", err)
	}
	for _, c := range cites {
		for _, k := range []string{"doc_id", "chunk_id", "text", "start", "end"} {
			if _, ok := c[k]; !ok {
				t.Errorf("a citation lacks %q: %s", k, out)
			}
		}
	}
	return top, cites
}

func str(t *testing.T, raw json.RawMessage) (s string) {
	t.Helper()
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func num(t *testing.T, raw json.RawMessage) (f float64) {
	t.Helper()
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestAskExtractive(t *testing.T) {
	dd, docs := askQA(t)
	top, cites := askJSON(t, append(dd, "How many points did the Panthers defense surrender?")...)
	if len(cites) == 0 {
		t.Fatalf("no citations: %v", top)
	}
	c := cites[0]
	doc, text := str(t, c["doc_id"]), str(t, c["text"])
	start, end := int(num(t, c["start"])), int(num(t, c["end"]))
	if doc != "xquad-en-00-0" || !strings.Contains(text, "308") || !strings.HasPrefix(str(t, c["chunk_id"]), doc+"#") {
		t.Errorf("first citation %s %q", doc, text)
	}
	if got := docs[doc][start:end]; got != text {
		t.Errorf("citation [%d:%d] of %s is %q, not %q", start, end, doc, got, text)
	}
	if a := str(t, top["answer"]); !strings.HasPrefix(a, text) {
		t.Errorf("answer %q does not quote the first citation", a)
	}
	if conf := num(t, top["confidence"]); conf < 0.3 || conf > 1 {
		t.Errorf("confidence %v", conf)
	}

	top, cites = askJSON(t, append(dd, "--filter", "doc_id=xquad-en-00-1", "How many points did the Panthers defense surrender?")...)
	if a := str(t, top["answer"]); a != "I don't know." || len(cites) != 0 {
		t.Errorf("filtered to another paragraph: %q %v", a, cites)
	}

	out, _, err := flywheel(t, append(append([]string{"ask"}, dd...), "Who", "led", "the", "Panthers", "in", "sacks?")...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "Kawann Short") || !strings.Contains(out, "\nSources:\n[1] Super_Bowl_50 [xquad-en-00-0] bytes ") || !strings.Contains(out, "confidence ") {
		t.Errorf("ask output:\n%s", out)
	}
}

// TestAskLocalModel answers with the real stories260K model (a context of
// 512 tokens, most of which the prompt templates take). A story model
// cites nothing, so its confidence is halved; under a threshold of 0.9 the
// trace says that it was retried with chain of thought.
func TestAskLocalModel(t *testing.T) {
	model := sharedData(t, "models/stories260K/stories260K.bin")
	src, data := t.TempDir(), t.TempDir()
	writeTree(t, src, map[string]string{"lily.txt": "Lily has a red ball. Tom has a big dog."})
	dd := []string{"--data-dir", data, "--collection", "toys"}
	if _, stderr, err := flywheel(t, append(append([]string{"ingest"}, dd...), src)...); err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	top, cites := askJSON(t, append(dd, "--model", model, "--max-tokens", "16", "--threads", "2", "--threshold", "0.9", "What does Lily have?")...)
	var usage struct {
		Prompt     int `json:"prompt_tokens"`
		Completion int `json:"completion_tokens"`
	}
	if err := json.Unmarshal(top["usage"], &usage); err != nil {
		t.Fatal(err)
	}
	var trace []string
	if err := json.Unmarshal(top["trace"], &trace); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(trace, "\n")
	if usage.Prompt == 0 || usage.Completion == 0 || str(t, top["model"]) != "stories260K" {
		t.Errorf("usage %+v, model %s", usage, top["model"])
	}
	if len(cites) == 0 && !strings.Contains(all, "cites no passage") || !strings.Contains(all, "retried with chain-of-thought") {
		t.Errorf("trace:\n%s", all)
	}
}
