package llama

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"flywheel/internal/gguf"
	"flywheel/internal/tensor"
)

// The types of llama.cpp's Q4_K_M mix. The 12-layer rows are what
// llama-quantize (commit c392e50) chose for the 110M shape of
// BENCHMARKS.md, whose every tensor `flywheel quantize --type q4_k` then
// reproduced byte for byte: Q6_K attn_v and ffn_down in layers 0, 3, 6, 9,
// 10 and 11.
func TestQuantMixTypes(t *testing.T) {
	q4km := quantMix{typ: tensor.Q4_K, layers: 12}
	tied := quantMix{typ: tensor.Q4_K, layers: 12, hasOutput: false}
	own := quantMix{typ: tensor.Q4_K, layers: 12, hasOutput: true}
	for _, tc := range []struct {
		mix  quantMix
		name string
		cols int
		want tensor.DType
	}{
		{tied, "token_embd.weight", 768, tensor.Q6_K}, // the tied head
		{own, "token_embd.weight", 768, tensor.Q4_K},
		{own, "output.weight", 768, tensor.Q6_K},
		{q4km, "blk.0.attn_v.weight", 768, tensor.Q6_K},
		{q4km, "blk.1.attn_v.weight", 768, tensor.Q4_K},
		{q4km, "blk.2.attn_v.weight", 768, tensor.Q4_K},
		{q4km, "blk.3.attn_v.weight", 768, tensor.Q6_K},
		{q4km, "blk.6.ffn_down.weight", 2048, tensor.Q6_K},
		{q4km, "blk.7.ffn_down.weight", 2048, tensor.Q4_K},
		{q4km, "blk.9.ffn_down.weight", 2048, tensor.Q6_K},
		{q4km, "blk.10.attn_v.weight", 768, tensor.Q6_K},
		{q4km, "blk.11.ffn_down.weight", 2048, tensor.Q6_K},
		{q4km, "blk.0.attn_q.weight", 768, tensor.Q4_K},
		{q4km, "blk.0.attn_k.weight", 768, tensor.Q4_K},
		{q4km, "blk.0.attn_output.weight", 768, tensor.Q4_K},
		{q4km, "blk.0.ffn_gate.weight", 768, tensor.Q4_K},
		{q4km, "blk.0.ffn_up.weight", 768, tensor.Q4_K},
		// 32 layers: the first and last four, then every third from 6
		{quantMix{typ: tensor.Q4_K, layers: 32}, "blk.3.attn_v.weight", 4096, tensor.Q6_K},
		{quantMix{typ: tensor.Q4_K, layers: 32}, "blk.5.attn_v.weight", 4096, tensor.Q4_K},
		{quantMix{typ: tensor.Q4_K, layers: 32}, "blk.7.ffn_down.weight", 11008, tensor.Q4_K}, // 11008 = 43·256
		{quantMix{typ: tensor.Q4_K, layers: 32}, "blk.6.attn_v.weight", 4096, tensor.Q6_K},
		{quantMix{typ: tensor.Q4_K, layers: 32}, "blk.27.ffn_down.weight", 11008, tensor.Q6_K},
		{quantMix{typ: tensor.Q4_K, layers: 32}, "blk.28.attn_q.weight", 4096, tensor.Q4_K},
		// Q5_K_M uses the same layers; Q6_K is Q6_K throughout
		{quantMix{typ: tensor.Q5_K, layers: 12}, "blk.1.attn_v.weight", 768, tensor.Q5_K},
		{quantMix{typ: tensor.Q5_K, layers: 12}, "blk.0.attn_v.weight", 768, tensor.Q6_K},
		{quantMix{typ: tensor.Q6_K, layers: 12}, "token_embd.weight", 768, tensor.Q6_K},
		// rows that 256 does not divide: Q8_0, or F16 when 32 does not either
		{quantMix{typ: tensor.Q4_K, layers: 6}, "blk.1.attn_q.weight", 288, tensor.Q8_0},
		{quantMix{typ: tensor.Q4_K, layers: 6}, "token_embd.weight", 288, tensor.Q8_0},
		{quantMix{typ: tensor.Q6_K, layers: 6}, "blk.1.ffn_down.weight", 172, tensor.F16},
		// the other types are pure
		{quantMix{typ: tensor.Q4_0, layers: 12}, "blk.0.attn_v.weight", 768, tensor.Q4_0},
		{quantMix{typ: tensor.Q8_0, layers: 12}, "blk.0.ffn_down.weight", 172, tensor.F16},
	} {
		if got, _ := tc.mix.typeOf(tc.name, tc.cols); got != tc.want {
			t.Errorf("%v mix, %d layers: %s (rows of %d) as %v, want %v", tc.mix.typ, tc.mix.layers, tc.name, tc.cols, got, tc.want)
		}
	}
}

// A k-quant file loads, computes what the f32 model computes within the
// format's error, and says what llama.cpp reads from it.
func TestQuantizeGGUFKQuant(t *testing.T) {
	c := Config{Arch: "llama", Dim: 256, Hidden: 512, Layers: 2, Heads: 2, KVHeads: 1, HeadDim: 128, Vocab: 300,
		ContextLen: 64, NormEps: 1e-5, RopeBase: 10000, RopeScale: 1, RopeDims: 128, TiedOutput: true}
	base, err := Random(c, tensor.F32, 3)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "f32.gguf")
	if err := SaveGGUF(src, base); err != nil {
		t.Fatal(err)
	}
	prompt := []int{1, 17, 42, 99, 7}
	want, err := base.NewState(16, nil).Forward(prompt)
	if err != nil {
		t.Fatal(err)
	}
	want = append([]float32(nil), want...)
	var scale float64
	for _, v := range want {
		scale = max(scale, math.Abs(float64(v)))
	}
	moved := map[tensor.DType]float64{}
	for _, tc := range []struct {
		typ      tensor.DType
		fileType uint64
		types    map[string]tensor.DType
		maxRel   float64 // largest logit error / largest logit (random weights amplify errors)
	}{
		{tensor.Q4_K, 15, map[string]tensor.DType{
			"token_embd.weight": tensor.Q6_K, "blk.0.attn_q.weight": tensor.Q4_K,
			"blk.0.attn_v.weight": tensor.Q4_K, "blk.1.attn_v.weight": tensor.Q6_K, // useMoreBits(1, 2)
			"blk.0.ffn_down.weight": tensor.Q4_K, "blk.1.ffn_down.weight": tensor.Q6_K,
		}, 0.35},
		{tensor.Q6_K, 18, map[string]tensor.DType{"token_embd.weight": tensor.Q6_K, "blk.0.attn_v.weight": tensor.Q6_K}, 0.15},
		// for comparison: more bits move the logits less
		{tensor.Q8_0, 7, nil, 0.05},
		{tensor.Q4_0, 2, nil, 0.6},
	} {
		out := filepath.Join(dir, tc.typ.String()+".gguf")
		if _, err := QuantizeGGUF(context.Background(), src, out, tc.typ, nil); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		if ft, _ := f.GetUint("general.file_type"); ft != tc.fileType {
			t.Errorf("%v: general.file_type %d, want %d", tc.typ, ft, tc.fileType)
		}
		for name, typ := range tc.types {
			if ti, ok := f.Tensor(name); !ok || tensor.DType(ti.Type) != typ {
				t.Errorf("%v: %s stored as %v, want %v", tc.typ, name, ti.Type, typ)
			}
		}
		f.Close()
		m, err := Load(out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := m.NewState(16, nil).Forward(prompt)
		if err != nil {
			t.Fatal(err)
		}
		d := maxDiff(got, want)
		if d > tc.maxRel*scale {
			t.Errorf("%v: logits moved by %g (> %g of the largest, %g)", tc.typ, d, tc.maxRel, scale)
		}
		moved[tc.typ] = d
		m.Close()
	}
	if !(moved[tensor.Q8_0] < moved[tensor.Q6_K] && moved[tensor.Q6_K] < moved[tensor.Q4_K] && moved[tensor.Q4_K] < moved[tensor.Q4_0]) {
		t.Errorf("logit errors not ordered by bits per weight: %v", moved)
	}
}
