package gguf

import (
	"encoding/binary"
	"math"
	"os"
	"testing"
)

const (
	storiesPath  = "../../../shared/testdata/models/stories260K/stories260K-f32.gguf"
	llamaSPMPath = "../../../shared/testdata/tokenizer/ggml-vocab-llama-spm.gguf"
)

// openShared opens a file of the shared test data, skipping the test when it
// is absent (failing under CI).
func openShared(t *testing.T, path string) *File {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("shared test data missing: %s: %v", path, err)
		}
		t.Skipf("shared test data missing: %s", path)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestStories260K(t *testing.T) {
	f := openShared(t, storiesPath)

	if f.Version != 3 || f.Alignment != 32 || len(f.KV) != 19 || len(f.Tensors) != 48 {
		t.Errorf("version %d alignment %d, %d keys, %d tensors; want 3, 32, 19, 48 (3 + 5 blocks × 9)",
			f.Version, f.Alignment, len(f.KV), len(f.Tensors))
	}
	for key, want := range map[string]string{"general.architecture": "llama", "tokenizer.ggml.model": "llama"} {
		if got, err := f.GetString(key); got != want || err != nil {
			t.Errorf("%s = %q, %v; want %q", key, got, err, want)
		}
	}
	for key, want := range map[string]uint64{
		"llama.embedding_length":        64,
		"llama.feed_forward_length":     172,
		"llama.block_count":             5,
		"llama.attention.head_count":    8,
		"llama.attention.head_count_kv": 4,
		"llama.rope.dimension_count":    8,
		"llama.context_length":          128,
		"tokenizer.ggml.bos_token_id":   1,
		"tokenizer.ggml.eos_token_id":   2,
	} {
		if got, err := f.GetUint(key); got != want || err != nil {
			t.Errorf("%s = %d, %v; want %d", key, got, err, want)
		}
	}
	if eps, err := f.GetFloat("llama.attention.layer_norm_rms_epsilon"); eps != float64(float32(1e-5)) || err != nil {
		t.Errorf("rms epsilon = %g, %v", eps, err)
	}

	v, _ := f.Get("tokenizer.ggml.tokens")
	tokens, ok := v.Strings()
	if !ok || len(tokens) != 512 {
		t.Fatalf("tokens: %s of %s, %d long; want 512 strings", v.Type(), v.ElemType(), len(tokens))
	}
	for id, want := range map[int]string{0: "<unk>", 1: "<s>", 2: "</s>", 3: "<0x00>", 258: "<0xFF>"} {
		if tokens[id] != want {
			t.Errorf("token %d = %q, want %q", id, tokens[id], want)
		}
	}
	v, _ = f.Get("tokenizer.ggml.scores")
	if scores, ok := v.Float32s(); !ok || len(scores) != 512 {
		t.Errorf("scores: %d float32s, ok %v", len(scores), ok)
	}
	v, _ = f.Get("tokenizer.ggml.token_type")
	if types, ok := v.Int32s(); !ok || len(types) != 512 || types[0] != 2 || types[1] != 3 || types[3] != 6 {
		t.Errorf("token types: %v…, ok %v; want 512 starting 2 3 3 6 (unknown, control, control, byte)", v, ok)
	}

	emb, ok := f.Tensor("token_embd.weight")
	if !ok {
		t.Fatal("no token_embd.weight")
	}
	if emb.Type != F32 || len(emb.Dims) != 2 || emb.Dims[0] != 64 || emb.Dims[1] != 512 ||
		emb.Elements() != 64*512 || emb.Size != 64*512*4 {
		t.Errorf("token_embd.weight: %s %v, %d elements, %d bytes; want F32 [64 512]", emb.Type, emb.Dims, emb.Elements(), emb.Size)
	}
	for name, dims := range map[string][2]uint64{
		"blk.0.attn_k.weight":   {64, 32},
		"blk.4.ffn_down.weight": {172, 64},
		"output.weight":         {64, 512},
	} {
		ti, ok := f.Tensor(name)
		if !ok || len(ti.Dims) != 2 || ti.Dims[0] != dims[0] || ti.Dims[1] != dims[1] {
			t.Errorf("%s: %v, want %v", name, ti, dims)
		}
	}

	// The converter writes output.weight as a copy of token_embd.weight, so
	// their bytes agree; and the values of a trained model are finite and small.
	data := f.TensorData(emb)
	out, _ := f.Tensor("output.weight")
	if string(data) != string(f.TensorData(out)) {
		t.Errorf("output.weight differs from token_embd.weight")
	}
	for i := 0; i < len(data); i += 4 {
		x := math.Float32frombits(binary.LittleEndian.Uint32(data[i:]))
		if math.IsNaN(float64(x)) || math.Abs(float64(x)) > 100 {
			t.Fatalf("token_embd.weight[%d] = %g", i/4, x)
		}
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		if ti.Offset%f.Alignment != 0 || uint64(len(f.TensorData(ti))) != ti.Size {
			t.Errorf("%s: offset %d, %d bytes of data for size %d", ti.Name, ti.Offset, len(f.TensorData(ti)), ti.Size)
		}
	}
}

func TestLlamaSPMVocab(t *testing.T) {
	f := openShared(t, llamaSPMPath)
	if len(f.Tensors) != 0 {
		t.Errorf("%d tensors in a vocabulary-only file", len(f.Tensors))
	}
	v, _ := f.Get("tokenizer.ggml.tokens")
	tokens, ok := v.Strings()
	if !ok || len(tokens) != 32000 {
		t.Fatalf("tokens: %d, ok %v; want 32000", len(tokens), ok)
	}
	if tokens[1] != "<s>" || tokens[2] != "</s>" {
		t.Errorf("tokens 1, 2 = %q, %q", tokens[1], tokens[2])
	}
	if n, err := f.GetUint("llama.vocab_size"); n != 32000 || err != nil {
		t.Errorf("llama.vocab_size = %d, %v", n, err)
	}
	v, _ = f.Get("tokenizer.ggml.scores")
	if v.Len() != 32000 || v.ElemType() != TypeFloat32 {
		t.Errorf("scores: %d %s", v.Len(), v.ElemType())
	}
	v, _ = f.Get("tokenizer.ggml.add_bos_token")
	if b, ok := v.Bool(); !b || !ok {
		t.Errorf("add_bos_token = %v", v)
	}
}

// TestRealFileRewrite reads stories260K, writes it again with its metadata
// and tensors, and checks that the result is byte-identical to the original:
// our writer lays files out exactly as llama.cpp does.
func TestRealFileRewrite(t *testing.T) {
	f := openShared(t, storiesPath)
	var tensors []WriterTensor
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		tensors = append(tensors, WriterTensor{Name: ti.Name, Dims: ti.Dims, Type: ti.Type, Data: f.TensorData(ti)})
	}
	orig, err := os.ReadFile(storiesPath)
	if err != nil {
		t.Fatal(err)
	}
	got := encode(t, f.Version, f.KV, tensors)
	if string(got) != string(orig) {
		t.Errorf("rewritten file differs: %d bytes, original %d", len(got), len(orig))
	}
}
