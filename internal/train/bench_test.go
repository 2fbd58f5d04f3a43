package train

import (
	"fmt"
	"math/rand/v2"
	"syscall"
	"testing"

	"flywheel/internal/llama"
	"flywheel/internal/lora"
	"flywheel/internal/tensor"
)

// shape15M is the stories15M shape of BENCHMARKS.md: dim 288, 6 layers, 6
// heads, FFN 768, vocabulary 32000, tied embeddings.
var shape15M = llama.Config{Arch: "llama", Dim: 288, Hidden: 768, Layers: 6, Heads: 6, KVHeads: 6, HeadDim: 48,
	Vocab: 32000, ContextLen: 256, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 48, TiedOutput: true}

// shape110M is BENCHMARKS.md's 110M shape: dim 768, 12 layers, 12 heads,
// FFN 2048, vocabulary 32000, tied embeddings.
var shape110M = llama.Config{Arch: "llama", Dim: 768, Hidden: 2048, Layers: 12, Heads: 12, KVHeads: 12, HeadDim: 64,
	Vocab: 32000, ContextLen: 256, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 64, TiedOutput: true}

// BenchmarkLoRAStep is one optimizer step of LoRA fine-tuning as
// BENCHMARKS.md measures PyTorch: batch 4 × 256 tokens (every next token
// scored), rank 8 (alpha 16) on q, k, v, o of the 15M shape in f32, forward,
// backward, clipping and AdamW. PyTorch 1.13 + OpenBLAS: 501 tokens/s at 1
// thread, peak RSS 1260 MiB. peak-RSS-MiB is the test process's.
func BenchmarkLoRAStep(b *testing.B) {
	for _, bc := range []struct {
		shape     string
		dtype     tensor.DType
		threads   int
		recompute bool
	}{{"15M", tensor.F32, 1, false}, {"15M", tensor.F32, 2, false}, {"15M", tensor.F32, 2, true}, {"15M", tensor.Q8_0, 2, false},
		{"110M", tensor.F32, 1, false}, {"110M", tensor.F32, 2, false}} {
		shape := map[string]llama.Config{"15M": shape15M, "110M": shape110M}[bc.shape]
		name := fmt.Sprintf("%s/%v/r8-qkvo/t%d", bc.shape, bc.dtype, bc.threads)
		if bc.recompute {
			name += "/recompute"
		}
		b.Run(name, func(b *testing.B) {
			m, err := llama.Random(shape, bc.dtype, 1)
			if err != nil {
				b.Fatal(err)
			}
			a, err := lora.New(m.Config.LoRAShape(), lora.Config{Rank: 8, Alpha: 16,
				Targets: []lora.Target{lora.Q, lora.K, lora.V, lora.O}})
			if err != nil {
				b.Fatal(err)
			}
			a.Init(1)
			pool := tensor.NewPool(bc.threads)
			defer pool.Close()
			tr, err := llama.NewTrainer(m, llama.TrainConfig{Adapter: a, Pool: pool, Recompute: bc.recompute})
			if err != nil {
				b.Fatal(err)
			}
			r := rand.New(rand.NewPCG(1, 2))
			var examples []Example
			for i := 0; i < 4; i++ {
				e := Example{}
				for j := 0; j < 256; j++ {
					e.Tokens = append(e.Tokens, r.IntN(shape.Vocab))
				}
				examples = append(examples, e)
			}
			batch, scored := collate(examples)
			opt := NewAdamW(len(a.Params), 0.9, 0.999, 1e-8, 0)
			step := func() {
				tr.ZeroGrads()
				if _, err := tr.Step(batch, 1/float32(scored)); err != nil {
					b.Fatal(err)
				}
				ClipGradNorm(a.Grads, 1)
				opt.Step(a.Params, a.Grads, 1e-4)
			}
			step() // warm-up: buffers
			b.ReportAllocs()
			cpu0 := cpuSeconds()
			b.ResetTimer()
			for b.Loop() {
				step()
			}
			b.ReportMetric(float64(len(batch.Tokens)*b.N)/b.Elapsed().Seconds(), "tok/s")
			// CPU time per step: on a shared machine, wall time includes waiting for cores
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N)*1000, "cpu-ms/op")
			var ru syscall.Rusage
			syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
			b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
			b.ReportMetric(float64(tr.ActivationBytes())/(1<<20), "act-MiB")
		})
	}
}

// cpuSeconds is the process's user and system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)/1e6
}
