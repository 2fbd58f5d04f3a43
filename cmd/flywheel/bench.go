package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"flywheel/internal/llama"
	"flywheel/internal/tensor"
)

// benchJSON is the --json output of bench.
type benchJSON struct {
	Model           string  `json:"model"`
	Threads         int     `json:"threads"`
	PromptTokens    int     `json:"prompt_tokens"`
	GenTokens       int     `json:"gen_tokens"`
	PromptPerSecond float64 `json:"prompt_tokens_per_s"`
	GenPerSecond    float64 `json:"gen_tokens_per_s"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "ann" {
		return runBenchANN(ctx, args[1:], stdout, stderr)
	}
	fs := newFlags("bench", stderr)
	model := fs.String("model", "", "model `path`")
	nPrompt := fs.Int("p", 128, "prompt tokens processed as one batch (0: skip)")
	nGen := fs.Int("n", 64, "tokens generated one at a time from an empty context (0: skip)")
	threads := fs.Int("t", runtime.NumCPU(), "threads")
	repeat := fs.Int("repeat", 5, "repetitions; the median is reported")
	asJSON := fs.Bool("json", false, "print one JSON object")
	mapped := fs.Bool("mmap", false, "decode from the file mapping instead of copying the weights into huge pages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *model == "" {
		fs.Usage()
		return fmt.Errorf("bench: --model is required")
	}
	m, err := llama.Load(*model, llama.Options{HugePages: !*mapped})
	if err != nil {
		return err
	}
	defer m.Close()
	pool := tensor.NewPool(*threads)
	defer pool.Close()
	s := m.NewState(*nPrompt+*nGen+1, pool)
	r := rand.New(rand.NewPCG(1, 2))
	tokens := make([]int, max(*nPrompt, 1))
	for i := range tokens {
		tokens[i] = r.IntN(m.Config.Vocab)
	}
	// one warm-up pass pages the weights in
	if _, err := s.Forward(tokens[:1]); err != nil {
		return err
	}
	var pp, tg []float64
	for i := 0; i < *repeat; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		if *nPrompt > 0 {
			s.Reset()
			start := time.Now()
			if _, err := s.Forward(tokens[:*nPrompt]); err != nil {
				return err
			}
			pp = append(pp, float64(*nPrompt)/time.Since(start).Seconds())
		}
		if *nGen > 0 {
			s.Reset()
			next := []int{tokens[0]}
			start := time.Now()
			for j := 0; j < *nGen; j++ {
				if _, err := s.Forward(next); err != nil {
					return err
				}
			}
			tg = append(tg, float64(*nGen)/time.Since(start).Seconds())
		}
	}
	res := benchJSON{Model: *model, Threads: *threads, PromptTokens: *nPrompt, GenTokens: *nGen,
		PromptPerSecond: median(pp), GenPerSecond: median(tg)}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(res)
	}
	fmt.Fprintf(stdout, "| model | threads | test | tokens/s (median of %d) |\n| --- | ---: | --- | ---: |\n", *repeat)
	if *nPrompt > 0 {
		fmt.Fprintf(stdout, "| %s | %d | pp%d | %.1f |\n", *model, *threads, *nPrompt, res.PromptPerSecond)
	}
	if *nGen > 0 {
		fmt.Fprintf(stdout, "| %s | %d | tg%d | %.1f |\n", *model, *threads, *nGen, res.GenPerSecond)
	}
	return nil
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}
