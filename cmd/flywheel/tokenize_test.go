package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

type tokenizeJSON struct {
	IDs    []int    `json:"ids"`
	Pieces []string `json:"pieces"`
}

func tokenizeOut(t *testing.T, args ...string) tokenizeJSON {
	t.Helper()
	out, stderr, err := flywheel(t, append([]string{"tokenize", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var res tokenizeJSON
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return res
}

// TestTokenize tokenizes with vocabulary-only GGUF files (llama.cpp's test
// vocabularies; the expected ids are theirs).
func TestTokenize(t *testing.T) {
	spm := sharedData(t, "tokenizer/ggml-vocab-llama-spm.gguf")
	bert := sharedData(t, "tokenizer/ggml-vocab-bert-bge.gguf")
	gpt2 := sharedData(t, "tokenizer/ggml-vocab-gpt-2.gguf")
	cases := []struct {
		name   string
		args   []string
		ids    []int
		pieces []string
	}{
		{"llama adds BOS", []string{"--model", spm, "Hello world"}, []int{1, 15043, 3186}, []string{"<s>", "▁Hello", "▁world"}},
		{"no special", []string{"--model", spm, "--no-special", "Hello world"}, []int{15043, 3186}, nil},
		{"special text stays text", []string{"--model", spm, "--no-special", "</s>"}, []int{1533, 29879, 29958}, nil},
		{"parse special", []string{"--model", spm, "--no-special", "--parse-special", "Hello</s>"}, []int{15043, 2}, nil},
		{"bert adds CLS and SEP", []string{"--model", bert, "Hello world"}, []int{101, 7592, 2088, 102}, nil},
		{"gpt-2", []string{"--model", gpt2, "--no-special", "Hello world"}, []int{15496, 995}, []string{"Hello", "Ġworld"}},
	}
	for _, c := range cases {
		res := tokenizeOut(t, c.args...)
		if !slices.Equal(res.IDs, c.ids) || c.pieces != nil && !slices.Equal(res.Pieces, c.pieces) {
			t.Errorf("%s: ids %v pieces %q, want %v %q", c.name, res.IDs, res.Pieces, c.ids, c.pieces)
		}
	}

	// --file is read byte for byte: the trailing newline stays.
	path := filepath.Join(t.TempDir(), "in.txt")
	if err := os.WriteFile(path, []byte("Hello world\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if res := tokenizeOut(t, "--model", spm, "--no-special", "--file", path); !slices.Equal(res.IDs, []int{15043, 3186, 13}) {
		t.Errorf("--file: ids %v, want [15043 3186 13]", res.IDs)
	}

	out, _, err := flywheel(t, "tokenize", "--model", spm, "Hello")
	if err != nil || !strings.Contains(out, `15043 -> "▁Hello" (" Hello")`) {
		t.Errorf("text output %q, err %v", out, err)
	}
}

func TestTokenizeErrors(t *testing.T) {
	spm := sharedData(t, "tokenizer/ggml-vocab-llama-spm.gguf")
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"tokenize", "Hello"}, "--model is required"},
		{[]string{"tokenize", "--model", spm}, "want exactly one TEXT argument"},
		{[]string{"tokenize", "--model", spm, "--file", "x", "y"}, "not both"},
		{[]string{"tokenize", "--model", filepath.Join(t.TempDir(), "missing.gguf"), "x"}, "missing.gguf"},
	}
	for _, c := range cases {
		_, _, err := flywheel(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: err = %v, want %q", c.args, err, c.want)
		}
	}
}
