package llama

import (
	"fmt"
	"testing"

	"flywheel/internal/tensor"
)

// The stories15M shape of BENCHMARKS.md (dim 288, 6 layers, 6 heads, FFN 768,
// vocabulary 32000, tied embeddings) with random weights.
var shape15M = Config{Arch: "llama", Dim: 288, Hidden: 768, Layers: 6, Heads: 6, KVHeads: 6, HeadDim: 48, Vocab: 32000,
	ContextLen: 256, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 48, TiedOutput: true}

// BenchmarkPrefill processes a 128-token prompt as one batch (llama-bench pp128).
func BenchmarkPrefill(b *testing.B) {
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.Q8_0, tensor.Q4_0} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("15M/%v/t%d", dt, threads), func(b *testing.B) {
				m, err := Random(shape15M, dt, 1)
				if err != nil {
					b.Fatal(err)
				}
				pool := tensor.NewPool(threads)
				defer pool.Close()
				s := m.NewState(256, pool)
				prompt := make([]int, 128)
				for i := range prompt {
					prompt[i] = (i * 7919) % shape15M.Vocab
				}
				b.ReportAllocs()
				for b.Loop() {
					s.Reset()
					if _, err := s.Forward(prompt); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(prompt)*b.N)/b.Elapsed().Seconds(), "tok/s")
			})
		}
	}
}

// BenchmarkDecode is one decode step after a 64-token context (llama-bench tg).
func BenchmarkDecode(b *testing.B) {
	for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.Q8_0, tensor.Q4_0} {
		for _, threads := range []int{1, 2} {
			b.Run(fmt.Sprintf("15M/%v/t%d", dt, threads), func(b *testing.B) {
				m, err := Random(shape15M, dt, 1)
				if err != nil {
					b.Fatal(err)
				}
				pool := tensor.NewPool(threads)
				defer pool.Close()
				s := m.NewState(256, pool)
				if _, err := s.Forward(make([]int, 64)); err != nil {
					b.Fatal(err)
				}
				next := []int{42}
				b.ReportAllocs()
				for b.Loop() {
					if s.Pos() == s.Context() {
						s.Truncate(64) // keep decoding at a 64..256-token context
					}
					if _, err := s.Forward(next); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tok/s")
			})
		}
	}
}
