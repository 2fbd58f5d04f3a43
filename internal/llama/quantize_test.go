package llama

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"flywheel/internal/gguf"
	"flywheel/internal/tensor"
)

func TestQuantizeGGUF(t *testing.T) {
	src := sharedData(t, "models/stories260K/stories260K-f32.gguf")
	base := loadStories(t, "gguf")
	want, err := base.NewState(64, nil).Forward(refPrompt)
	if err != nil {
		t.Fatal(err)
	}
	want = append([]float32(nil), want...)
	for _, tc := range []struct {
		typ       tensor.DType
		quantized int
		tol       float64
	}{
		// stories260K: 7 matrices per layer + embedding + output; ffn_down
		// rows are 172 wide, which blocks of 32 do not divide
		{tensor.F16, 37, 0.05},
		{tensor.BF16, 37, 0.2},
		{tensor.Q8_0, 32, 0.2},
		{tensor.Q4_0, 32, 4}, // 4-bit weights move a 260K-parameter model a lot
	} {
		out := filepath.Join(t.TempDir(), "q.gguf")
		rep, err := QuantizeGGUF(context.Background(), src, out, tc.typ, nil)
		if err != nil {
			t.Fatal(err)
		}
		if rep.Quantized != tc.quantized {
			t.Errorf("%v: quantized %d tensors, want %d (%v)", tc.typ, rep.Quantized, tc.quantized, rep.Kept)
		}
		m, err := Load(out, Options{})
		if err != nil {
			t.Fatal(err)
		}
		f, _ := gguf.Open(out)
		if ft, _ := f.GetUint("general.file_type"); ft != uint64(fileTypes[tc.typ]) {
			t.Errorf("%v: general.file_type %d", tc.typ, ft)
		}
		if ti, _ := f.Tensor("blk.0.attn_q.weight"); tensor.DType(ti.Type) != tc.typ {
			t.Errorf("%v: attn_q stored as %v", tc.typ, ti.Type)
		}
		f.Close()
		got, err := m.NewState(64, nil).Forward(refPrompt)
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(got, want); d > tc.tol {
			t.Errorf("%v: logits moved by %g (> %g) from the f32 model", tc.typ, d, tc.tol)
		}
		if argmax(got) != argmax(want) {
			t.Errorf("%v: next token %d, f32 model %d", tc.typ, argmax(got), argmax(want))
		}
		// the greedy continuation of a good quantization starts the same way
		if tc.typ == tensor.F16 || tc.typ == tensor.Q8_0 {
			s := m.NewState(64, nil)
			if got := greedy(t, s, refPrompt, 8); !equalInts(got, refGenerated[:8]) {
				t.Errorf("%v: greedy %v, f32 model %v", tc.typ, got, refGenerated[:8])
			}
		}
		m.Close()
	}
	if _, err := QuantizeGGUF(context.Background(), src, filepath.Join(t.TempDir(), "x.gguf"), tensor.DType(3), nil); err == nil { // Q4_1
		t.Error("an unsupported target type gave no error")
	}
}

func argmax(v []float32) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Our quantizer writes the same bytes as llama.cpp's llama-quantize --pure.
func TestQuantizeMatchesLlamaCpp(t *testing.T) {
	for _, tc := range []struct {
		typ tensor.DType
		ref string
	}{{tensor.Q8_0, "testdata/tiny-llamacpp-q8_0.gguf"}, {tensor.Q4_0, "testdata/tiny-llamacpp-q4_0.gguf"}} {
		out := filepath.Join(t.TempDir(), "q.gguf")
		if _, err := QuantizeGGUF(context.Background(), "testdata/tiny-f32.gguf", out, tc.typ, nil); err != nil {
			t.Fatal(err)
		}
		ours, err := gguf.Open(out)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := gguf.Open(tc.ref)
		if err != nil {
			t.Fatal(err)
		}
		quantized := 0
		for i := range ref.Tensors {
			rt := &ref.Tensors[i]
			ot, ok := ours.Tensor(rt.Name)
			if !ok {
				t.Fatalf("%v: tensor %s missing", tc.typ, rt.Name)
			}
			if ot.Type != rt.Type || !bytes.Equal(ours.TensorData(ot), ref.TensorData(rt)) {
				t.Errorf("%v: tensor %s (%v) differs from llama.cpp's (%v)", tc.typ, rt.Name, ot.Type, rt.Type)
			}
			if tensor.DType(rt.Type) == tc.typ {
				quantized++
			}
		}
		if quantized != 8 { // 7 matrices of the layer and the (tied) embedding
			t.Errorf("%v: %d tensors of that type in llama.cpp's file", tc.typ, quantized)
		}
		ours.Close()
		ref.Close()
	}
}
