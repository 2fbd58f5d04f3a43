package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flywheel/internal/train"
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

// The closing line reports the training loss as the mean of the last steps
// (one step's loss is one batch's), with the last step's beside it.
func TestPrintTuneResult(t *testing.T) {
	metrics := func(losses ...float64) []train.Metric {
		var m []train.Metric
		for i, l := range losses {
			m = append(m, train.Metric{Step: i + 1, Loss: l})
		}
		return m
	}
	for _, c := range []struct {
		name string
		res  train.Result
		want string
	}{
		{"three steps", train.Result{Steps: 3, Tokens: 300, Seconds: 2, FinalLoss: 1, Metrics: metrics(3, 2, 1), BestVal: math.NaN()},
			"3 steps, 300 tokens in 2s (150 tokens/s); training loss 2.0000 (mean of the last 3 steps; the last alone 1.0000)\n"},
		{"last ten of twelve", train.Result{Steps: 12, Tokens: 1200, Seconds: 4, FinalLoss: 1, Metrics: metrics(100, 100, 5, 5, 5, 5, 5, 5, 5, 5, 5, 1),
			BestVal: 2.5, BestStep: 10, InitialVal: 4},
			"12 steps, 1200 tokens in 4s (300 tokens/s); training loss 4.6000 (mean of the last 10 steps; the last alone 1.0000), best validation loss 2.5000 at step 10 (4.0000 before training)\n"},
		{"no steps", train.Result{BestVal: math.NaN()}, "0 steps, 0 tokens in 0s (0 tokens/s)\n"},
	} {
		var b bytes.Buffer
		printTuneResult(&b, train.Config{Out: "out"}, &c.res)
		if got, _, _ := strings.Cut(b.String(), "adapter:"); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
}
