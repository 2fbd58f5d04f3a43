package generate

import (
	"context"
	"errors"
	"strings"
	"testing"

	"flywheel/internal/llama"
	"flywheel/internal/refdata"
	"flywheel/internal/tensor"
)

func sharedData(t testing.TB, rel string) string { return refdata.Path(t, rel) }

func stories(t testing.TB) *llama.Model {
	m, err := llama.Load(sharedData(t, "models/stories260K/stories260K.bin"),
		llama.Options{Tokenizer: sharedData(t, "models/stories260K/tok512.bin")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// llama2.c's documentation: `./run stories260K.bin -z tok512.bin -t 1.0 -p 0.9
// -s 133742` prints a story beginning "Once upon a time, there was a little
// boy named Timmy". Only a sampler that reproduces run.c's RNG and top-p walk
// gets the same story.
func TestMatchesRunCSampler(t *testing.T) {
	m := stories(t)
	opt := Options{SamplerOptions: SamplerOptions{Temperature: 1, TopP: 0.9, Seed: 133742}, MaxTokens: 40}
	res, err := Run(context.Background(), m.NewState(0, nil), m.Tokenizer, []int{m.Tokenizer.BOS()}, opt, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := "Once upon a time, there was a little boy named Timmy"
	if !strings.HasPrefix(res.Text, want) {
		t.Errorf("text %q, want it to begin %q", res.Text, want)
	}
}

func TestGreedyAndStreaming(t *testing.T) {
	m := stories(t)
	prompt := m.Tokenizer.Encode("Once upon a time", true, false)
	var streamed strings.Builder
	res, err := Run(context.Background(), m.NewState(128, nil), m.Tokenizer, prompt,
		Options{MaxTokens: 60, TopLogprobs: 5}, func(s string) error { streamed.WriteString(s); return nil })
	if err != nil {
		t.Fatal(err)
	}
	want := ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily"
	if res.Text != want || streamed.String() != want {
		t.Errorf("text %q\nstreamed %q\nwant %q", res.Text, streamed.String(), want)
	}
	if res.FinishReason != FinishLength || len(res.Tokens) != 60 || len(res.Logprobs) != 60 {
		t.Errorf("finish %q, %d tokens, %d logprobs", res.FinishReason, len(res.Tokens), len(res.Logprobs))
	}
	for i, lp := range res.Logprobs {
		// greedy picks the most likely token, which heads the top list
		if lp.ID != res.Tokens[i] || len(lp.Top) != 5 || lp.Top[0].ID != lp.ID || lp.Logprob > 0 ||
			lp.Top[0].Logprob < lp.Top[4].Logprob {
			t.Fatalf("logprob %d: %+v", i, lp)
		}
	}
}

func TestStopSequences(t *testing.T) {
	m := stories(t)
	prompt := m.Tokenizer.Encode("Once upon a time", true, false)
	tests := []struct {
		stops []string
		text  string
	}{
		{[]string{"Lily"}, ", there was a little girl named "},
		{[]string{"park", "girl"}, ", there was a little "},
		{[]string{". "}, ", there was a little girl named Lily"},
		{[]string{"zebra"}, ", there was a little girl named Lily. She loved to play outside in the park. One day, she saw a big, red ball. She wanted to play with it, but it was too high.\nLily"},
	}
	for _, tc := range tests {
		var streamed strings.Builder
		res, err := Run(context.Background(), m.NewState(128, nil), m.Tokenizer, prompt,
			Options{MaxTokens: 60, Stop: tc.stops}, func(s string) error { streamed.WriteString(s); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if res.Text != tc.text || streamed.String() != tc.text {
			t.Errorf("stop %q: text %q, streamed %q, want %q", tc.stops, res.Text, streamed.String(), tc.text)
		}
		wantReason := FinishStop
		if tc.stops[0] == "zebra" {
			wantReason = FinishLength
		}
		if res.FinishReason != wantReason {
			t.Errorf("stop %q: finish %q", tc.stops, res.FinishReason)
		}
	}
}

func TestSeedIsDeterministic(t *testing.T) {
	m := stories(t)
	pool := tensor.NewPool(2)
	defer pool.Close()
	run := func(seed uint64) string {
		opt := Options{SamplerOptions: SamplerOptions{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, RepeatPenalty: 1.1, Seed: seed}, MaxTokens: 50}
		res, err := Run(context.Background(), m.NewState(0, pool), m.Tokenizer, []int{1}, opt, nil)
		if err != nil {
			t.Fatal(err)
		}
		return res.Text
	}
	a, b, c := run(7), run(7), run(8)
	if a != b {
		t.Errorf("same seed, different text:\n%q\n%q", a, b)
	}
	if a == c {
		t.Errorf("seeds 7 and 8 gave the same text %q", a)
	}
}

func TestCancel(t *testing.T) {
	m := stories(t)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	res, err := Run(ctx, m.NewState(0, nil), m.Tokenizer, []int{1}, Options{}, func(string) error {
		if n++; n == 3 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || res == nil || res.FinishReason != FinishCancelled {
		t.Fatalf("err %v, result %+v", err, res)
	}
}

func TestSamplerFilters(t *testing.T) {
	logits := []float32{1, 5, 3, 4, 2}
	tests := []struct {
		name    string
		opt     SamplerOptions
		allowed map[int]bool
	}{
		{"greedy", SamplerOptions{}, map[int]bool{1: true}},
		{"top-k 2", SamplerOptions{Temperature: 1, TopK: 2}, map[int]bool{1: true, 3: true}},
		// probabilities ≈ .64 .24 .09 .03 .01
		{"top-p 0.7", SamplerOptions{Temperature: 1, TopP: 0.7}, map[int]bool{1: true, 3: true}},
		{"min-p 0.3", SamplerOptions{Temperature: 1, MinP: 0.3}, map[int]bool{1: true, 3: true}},
		{"min-p 0.1", SamplerOptions{Temperature: 1, MinP: 0.1}, map[int]bool{1: true, 3: true, 2: true}},
	}
	for _, tc := range tests {
		seen := map[int]int{}
		s := NewSampler(SamplerOptions{Seed: 1})
		for i := 0; i < 2000; i++ {
			s.opt = tc.opt
			s.opt.RepeatLastN = 64
			seen[s.Sample(logits, nil)]++
		}
		for id := range seen {
			if !tc.allowed[id] {
				t.Errorf("%s: sampled %d, allowed %v", tc.name, id, tc.allowed)
			}
		}
		if len(seen) != len(tc.allowed) {
			t.Errorf("%s: sampled %v, want each of %v", tc.name, seen, tc.allowed)
		}
	}
	// a penalty of 10 on token 1 (logit 5 → 0.5) makes 3 the greedy choice
	s := NewSampler(SamplerOptions{RepeatPenalty: 10})
	if got := s.Sample(logits, []int{1}); got != 3 {
		t.Errorf("repeat penalty: greedy picked %d, want 3", got)
	}
}

func BenchmarkSample(b *testing.B) {
	logits := make([]float32, 32000)
	for i := range logits {
		logits[i] = float32(i%977) / 100
	}
	s := NewSampler(SamplerOptions{Temperature: 0.8, TopK: 40, TopP: 0.95, MinP: 0.05, Seed: 1})
	b.ReportAllocs()
	for b.Loop() {
		s.Sample(logits, nil)
	}
}
