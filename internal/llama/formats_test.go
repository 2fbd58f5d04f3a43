package llama

import (
	"math"
	"path/filepath"
	"testing"

	"flywheel/internal/tensor"
)

// synthetic configs covering what the loaders must map: GQA, biases, rope
// scaling, partial sharing of the output head.
var syntheticConfigs = []struct {
	name string
	cfg  Config
}{
	{"llama-gqa", Config{Arch: "llama", Dim: 64, Hidden: 96, Layers: 2, Heads: 8, KVHeads: 2, HeadDim: 8, Vocab: 96,
		ContextLen: 64, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 8}},
	{"llama-biases-linear-rope", Config{Arch: "llama", Dim: 64, Hidden: 64, Layers: 2, Heads: 4, KVHeads: 4, HeadDim: 16, Vocab: 64,
		ContextLen: 64, NormEps: 1e-6, RopeBase: 500000, RopeScale: 4, RopeDims: 16, QKVBias: true, OBias: true, TiedOutput: true}},
	{"qwen2", Config{Arch: "qwen2", Dim: 64, Hidden: 128, Layers: 2, Heads: 4, KVHeads: 2, HeadDim: 16, Vocab: 80,
		ContextLen: 64, NormEps: 1e-6, RopeBase: 1e6, RopeScale: 1, RopeDims: 16, QKVBias: true, TiedOutput: true}},
	{"mistral", Config{Arch: "mistral", Dim: 32, Hidden: 64, Layers: 3, Heads: 4, KVHeads: 1, HeadDim: 8, Vocab: 50,
		ContextLen: 64, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 8}},
}

var syntheticTokens = []int{1, 7, 3, 22, 9, 41, 5, 17, 2, 30}

func allLogits(t *testing.T, m *Model) []float32 {
	t.Helper()
	logits, err := m.NewState(32, nil).ForwardAll(syntheticTokens)
	if err != nil {
		t.Fatal(err)
	}
	return append([]float32(nil), logits...)
}

func maxDiff(a, b []float32) float64 {
	var d float64
	for i := range a {
		d = max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}

// A model written by our GGUF writer (q, k permuted as llama.cpp's converter
// does for llama and mistral) and by our safetensors writer (Hugging Face
// "rotate_half" order) loads from both layouts to the same logits.
func TestGGUFAndHFGiveSameLogits(t *testing.T) {
	for _, tc := range syntheticConfigs {
		for _, dt := range []tensor.DType{tensor.F32, tensor.F16, tensor.BF16} {
			t.Run(tc.name+"/"+dt.String(), func(t *testing.T) {
				c := tc.cfg
				c.RopeStyle = tensor.RopeHalves // as Hugging Face holds it
				src, err := Random(c, dt, 42)
				if err != nil {
					t.Fatal(err)
				}
				want := allLogits(t, src)
				dir := t.TempDir()
				ggufPath, hfDir := filepath.Join(dir, "m.gguf"), filepath.Join(dir, "hf")
				if err := SaveGGUF(ggufPath, src); err != nil {
					t.Fatal(err)
				}
				if err := SaveHF(hfDir, src, 40_000); err != nil { // several shards
					t.Fatal(err)
				}
				for _, path := range []string{ggufPath, hfDir} {
					m, err := Load(path, Options{})
					if err != nil {
						t.Fatal(err)
					}
					defer m.Close()
					if m.Config.Arch != c.Arch || m.Config.KVHeads != c.KVHeads || m.Config.QKVBias != c.QKVBias ||
						m.Config.OBias != c.OBias || m.Config.TiedOutput != c.TiedOutput || m.Config.RopeScale != c.RopeScale {
						t.Errorf("%s: config %+v, want %+v", path, m.Config, c)
					}
					// identical up to float summation order in the permuted heads
					if d := maxDiff(allLogits(t, m), want); d > 1e-5 {
						t.Errorf("%s (%s, rope %v): logits differ by %g", path, m.File.Format, m.Config.RopeStyle, d)
					}
				}
			})
		}
	}
}

// Quantized GGUF weights compute the same logits as their dequantized f32 copy.
func TestQuantizedGGUFLoads(t *testing.T) {
	c := syntheticConfigs[0].cfg
	c.RopeStyle = tensor.RopeInterleaved
	for _, dt := range []tensor.DType{tensor.Q8_0, tensor.Q4_0} {
		q, err := Random(c, dt, 7)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "q.gguf")
		if err := SaveGGUF(path, q); err != nil {
			t.Fatal(err)
		}
		m, err := Load(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer m.Close()
		if m.File.DTypes[dt.String()] != 7*c.Layers+2 {
			t.Errorf("%v: dtypes %v", dt, m.File.DTypes)
		}
		// the f32 reference: every matrix dequantized
		f := *q
		deq := func(w tensor.Matrix) tensor.Matrix {
			out := make([]float32, w.Rows*w.Cols)
			tensor.Dequantize(out, w.Type, w.Data, len(out))
			return tensor.Matrix{Type: tensor.F32, Rows: w.Rows, Cols: w.Cols, Data: tensor.Bytes(out)}
		}
		f.Embed, f.Output = deq(q.Embed), deq(q.Output)
		f.Layers = nil
		for _, l := range q.Layers {
			l.Wq, l.Wk, l.Wv, l.Wo = deq(l.Wq), deq(l.Wk), deq(l.Wv), deq(l.Wo)
			l.WGate, l.WUp, l.WDown = deq(l.WGate), deq(l.WUp), deq(l.WDown)
			f.Layers = append(f.Layers, l)
		}
		if d := maxDiff(allLogits(t, m), allLogits(t, &f)); d > 1e-4 {
			t.Errorf("%v: logits differ from the dequantized model by %g", dt, d)
		}
	}
}

// A batched prompt gives the logits of feeding it one token at a time, and
// the pool changes nothing.
func TestBatchEqualsSequential(t *testing.T) {
	c := syntheticConfigs[2].cfg
	m, err := Random(c, tensor.F32, 3)
	if err != nil {
		t.Fatal(err)
	}
	pool := tensor.NewPool(2)
	defer pool.Close()
	batch, err := m.NewState(32, pool).ForwardAll(syntheticTokens)
	if err != nil {
		t.Fatal(err)
	}
	s := m.NewState(32, nil)
	for i, id := range syntheticTokens {
		logits, err := s.Forward([]int{id})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(logits, batch[i*c.Vocab:(i+1)*c.Vocab]); d > 1e-5 {
			t.Fatalf("position %d: batched and sequential logits differ by %g", i, d)
		}
	}
	if _, err := s.Forward(make([]int, 32)); err == nil {
		t.Error("overflowing the context gave no error")
	}
	if _, err := s.Forward([]int{c.Vocab}); err == nil {
		t.Error("an out-of-range token gave no error")
	}
}

// Mistral's sliding window: a window as long as the sequence changes
// nothing, a shorter one changes the late positions only.
func TestSlidingWindow(t *testing.T) {
	c := syntheticConfigs[3].cfg
	m, err := Random(c, tensor.F32, 5)
	if err != nil {
		t.Fatal(err)
	}
	full := allLogits(t, m)
	m.Config.SlidingWindow = len(syntheticTokens)
	if d := maxDiff(allLogits(t, m), full); d != 0 {
		t.Errorf("window = sequence length changed logits by %g", d)
	}
	m.Config.SlidingWindow = 4
	w := allLogits(t, m)
	V := c.Vocab
	if d := maxDiff(w[:4*V], full[:4*V]); d != 0 {
		t.Errorf("window 4 changed the first 4 positions by %g", d)
	}
	if d := maxDiff(w[4*V:], full[4*V:]); d == 0 {
		t.Error("window 4 changed nothing after position 4")
	}
}
