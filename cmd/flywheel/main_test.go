package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flywheel/internal/refdata"
)

func sharedData(t testing.TB, rel string) string { return refdata.Path(t, rel) }

// flywheel runs the command line in-process and returns stdout and stderr.
func flywheel(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

func TestGenerateJSON(t *testing.T) {
	for _, model := range []string{"models/stories260K/stories260K.bin", "models/stories260K/stories260K-f32.gguf"} {
		out, _, err := flywheel(t, "generate", "--model", sharedData(t, model), "--prompt", "Once upon a time",
			"--temperature", "0", "--max-tokens", "10", "--threads", "2", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var res generateJSON
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		// llama2.c and llama.cpp's greedy continuation (testdata README)
		want := []int{432, 383, 286, 261, 376, 298, 315, 421, 395, 317}
		if !equal(res.PromptTokens, []int{1, 403, 407, 261, 378}) || !equal(res.Tokens, want) {
			t.Errorf("%s: prompt %v, tokens %v", model, res.PromptTokens, res.Tokens)
		}
		if res.Text != ", there was a little girl named Lily" || res.FinishReason != "length" {
			t.Errorf("%s: text %q, finish %q", model, res.Text, res.FinishReason)
		}
		if len(res.Logprobs) != 10 || len(res.Logprobs[0].Top) != 5 || res.Logprobs[0].Token != "," {
			t.Errorf("%s: logprobs %+v", model, res.Logprobs)
		}
		if res.Timings.GenPerSecond <= 0 || res.Timings.PromptMS <= 0 {
			t.Errorf("%s: timings %+v", model, res.Timings)
		}
	}
}

func TestGenerateStreams(t *testing.T) {
	out, stderr, err := flywheel(t, "generate", "--model", sharedData(t, "models/stories260K/stories260K.bin"),
		"--prompt", "Once upon a time", "--temperature", "0", "--max-tokens", "30", "--stop", "park")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Once upon a time, there was a little girl named Lily. She loved to play outside in the \n"; out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	if !strings.Contains(stderr, "finish: stop") {
		t.Errorf("stderr %q", stderr)
	}
}

func TestInfo(t *testing.T) {
	out, _, err := flywheel(t, "info", "--model", sharedData(t, "models/stories260K/stories260K-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"format:                gguf v3",
		"architecture:          llama",
		"heads:                 8 (kv heads 4, head dim 8)",
		"tensors:               48 (F32 ×48)",
		"tokenizer:             llama (SentencePiece BPE), 512 tokens",
		`special tokens:        bos 1 "<s>", eos 2 "</s>", unk 0 "<unk>"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.gguf")
	garbage := filepath.Join(t.TempDir(), "garbage.gguf")
	os.WriteFile(garbage, []byte("GGUF\x03\x00\x00\x00"), 0o644)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"generate", "--prompt", "hi"}, "--model is required"},
		{[]string{"generate", "--model", missing}, missing},
		{[]string{"info", "--model", garbage}, garbage},
		{[]string{"generate", "--model", "x", "stray"}, `unexpected argument "stray"`},
	}
	for _, tc := range tests {
		_, _, err := flywheel(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
}

func equal(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
