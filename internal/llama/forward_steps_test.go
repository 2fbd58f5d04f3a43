package llama

import (
	"testing"

	"flywheel/internal/tensor"
)

// A prompt long enough to split the element-wise steps and attention over
// workers gives the same logits, bit for bit, as one worker: every token's
// arithmetic is unchanged by the split.
func TestPromptLogitsIndependentOfThreads(t *testing.T) {
	for _, tc := range []struct {
		dtype  tensor.DType
		hidden int // not a multiple of 8 splits the gated activation with a tail
	}{{tensor.F32, 676}, {tensor.F16, 676}, {tensor.Q4_0, 672}} {
		c := Config{Arch: "llama", Dim: 256, Hidden: tc.hidden, Layers: 2, Heads: 4, KVHeads: 2,
			HeadDim: 64, Vocab: 300, ContextLen: 256, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 64}
		m, err := Random(c, tc.dtype, 1)
		if err != nil {
			t.Fatal(err)
		}
		tokens := make([]int, 151)
		for i := range tokens {
			tokens[i] = i * 7919 % c.Vocab
		}
		logits := func(pool *tensor.Pool) []float32 {
			s := m.NewState(0, pool)
			if _, err := s.Forward(tokens[:7]); err != nil { // a cached prefix
				t.Fatal(err)
			}
			out, err := s.ForwardAll(tokens[7:])
			if err != nil {
				t.Fatal(err)
			}
			return append([]float32(nil), out...)
		}
		pool := tensor.NewPool(2)
		one, two := logits(nil), logits(pool)
		pool.Close()
		for i := range one {
			if one[i] != two[i] {
				t.Fatalf("%v: logit %d = %g with 2 threads, %g with 1", tc.dtype, i, two[i], one[i])
			}
		}
	}
}
