package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeShiftData writes n alpaca examples teaching one fixed continuation.
func writeShiftData(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, `{"instruction": "Once upon a time,", "output": "there was a big red rocket named Zara. Zara flew to the moon %d times."}`+"\n", i%3+1)
	}
	path := filepath.Join(t.TempDir(), "data.jsonl")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// tune → merge → generate: the adapter changes the greedy continuation
// toward the data, and generate --lora (PEFT or GGUF LoRA) gives the same
// tokens as the merged model.
func TestTuneMergeGenerate(t *testing.T) {
	model := sharedData(t, "models/stories260K/stories260K-f32.gguf")
	data := writeShiftData(t, 24)
	out := filepath.Join(t.TempDir(), "run")
	stdout, stderr, err := flywheel(t, "tune", "--model", model, "--data", data, "--out", out,
		"--lora-rank", "4", "--lora-targets", "all", "--lr", "1e-2", "--epochs", "4", "--batch", "4",
		"--val-split", "0.2", "--threads", "1")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "best validation loss") || !strings.Contains(stderr, "step 0: validation loss") {
		t.Errorf("stdout %q\nstderr %q", stdout, stderr)
	}
	merged := filepath.Join(t.TempDir(), "merged.gguf")
	if _, stderr, err := flywheel(t, "merge", "--model", model, "--lora", out, "--out", merged); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	greedy := func(args ...string) generateJSON {
		t.Helper()
		args = append([]string{"generate", "--prompt", "Once upon a time,", "--temperature", "0", "--max-tokens", "24", "--json"}, args...)
		stdout, stderr, err := flywheel(t, args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		var res generateJSON
		if err := json.Unmarshal([]byte(stdout), &res); err != nil {
			t.Fatal(err)
		}
		return res
	}
	want := greedy("--model", merged)
	if !strings.Contains(want.Text, "Zara") {
		t.Errorf("the fine-tuned model says %q", want.Text)
	}
	for _, adapter := range []string{out, filepath.Join(out, "adapter.gguf")} {
		if got := greedy("--model", model, "--lora", adapter); !equal(got.Tokens, want.Tokens) {
			t.Errorf("--lora %s: %v (%q), merged model: %v", adapter, got.Tokens, got.Text, want.Tokens)
		}
	}
	if base := greedy("--model", model); strings.Contains(base.Text, "Zara") {
		t.Errorf("the base model already says %q", base.Text)
	}
}

func TestTuneFlagErrors(t *testing.T) {
	model := sharedData(t, "models/stories260K/stories260K-f32.gguf")
	data := writeShiftData(t, 4)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", data, "--out", "x"}, "--model, --data and --out are required"},
		{[]string{"--model", model, "--data", data, "--out", t.TempDir(), "--lora-targets", "q,z"}, "unknown LoRA target"},
		{[]string{"--model", model, "--data", data, "--out", t.TempDir(), "--schedule", "steps"}, "unknown schedule"},
		{[]string{"--model", model, "--data", data, "--out", t.TempDir(), "--betas", "0.9"}, "--betas"},
		{[]string{"--model", model, "--data", filepath.Join(t.TempDir(), "none.jsonl"), "--out", t.TempDir()}, "no such file"},
		{[]string{"--model", model, "--data", data, "--out", t.TempDir(), "--resume", t.TempDir()}, "no checkpoint"},
	} {
		_, _, err := flywheel(t, append([]string{"tune"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("tune %v: error %v, want %q", tc.args, err, tc.want)
		}
	}
	if _, _, err := flywheel(t, "merge", "--model", model, "--lora", t.TempDir(), "--out", filepath.Join(t.TempDir(), "m.gguf")); err == nil {
		t.Error("merge with an empty adapter directory succeeded")
	}
}
