package bert

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"flywheel/internal/gguf"
	"flywheel/internal/safetensors"
	"flywheel/internal/tensor"
)

// expected holds the vectors testdata/make_reference.py computed in float64
// with NumPy for the random-weight encoder in testdata/tiny.
type expected struct {
	Inputs  [][]int     `json:"inputs"`
	Mean    [][]float64 `json:"mean"`
	CLS     [][]float64 `json:"cls"`
	Hidden0 [][]float64 `json:"hidden0"`
}

func readExpected(t *testing.T) expected {
	raw, err := os.ReadFile("testdata/expected.json")
	if err != nil {
		t.Fatal(err)
	}
	var e expected
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// tolerance is the largest absolute difference allowed per component of a
// unit vector against the float64 reference (rounded to 7 decimals): F32
// weights, observed 1.2e-7; F16 weights (every weight rounded to 11 bits),
// observed 3.8e-4.
const (
	tolF32 = 1e-6
	tolF16 = 2e-3
)

func maxDiff(got []float32, want []float64) float64 {
	if len(got) != len(want) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range got {
		d = max(d, math.Abs(float64(got[i])-want[i]))
	}
	return d
}

// checkReference compares m's pooled vectors (mean and CLS) with the reference.
func checkReference(t *testing.T, m *Model, tol float64) {
	t.Helper()
	e := readExpected(t)
	for _, tc := range []struct {
		pooling Pooling
		want    [][]float64
	}{{PoolMean, e.Mean}, {PoolCLS, e.CLS}} {
		m.Config.Pooling = tc.pooling
		for i, ids := range e.Inputs {
			got, err := m.EmbedIDs(ids)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxDiff(got, tc.want[i]); d > tol {
				t.Errorf("%v pooling, input %d (%d tokens): max |Δ| %.2g > %.0g", tc.pooling, i, len(ids), d, tol)
			}
		}
	}
}

func TestReferenceSafetensors(t *testing.T) {
	m, err := LoadHF("testdata/tiny")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Config.Eps != 1e-6 || m.Config.Heads != 3 || m.Config.Act != GELU || !m.Config.Normalize {
		t.Errorf("config = %+v", m.Config)
	}
	checkReference(t, m, tolF32)
	e := readExpected(t)
	m.Config.Pooling = PoolMean
	if got, err := m.Embed("W7 w11"); err != nil || maxDiff(got, e.Mean[0]) > tolF32 {
		t.Errorf("Embed(\"W7 w11\") with tokenizer.json: %v, tokens %v", err, m.Tokenizer.Encode("W7 w11", true, false))
	}
	h := m.Hidden(e.Inputs[0])
	for i, row := range e.Hidden0 {
		if d := maxDiff(h[i*24:(i+1)*24], row); d > 1e-4 {
			t.Errorf("hidden state of token %d: max |Δ| %.2g", i, d)
		}
	}
}

func TestReferenceGGUF(t *testing.T) {
	for _, tc := range []struct {
		typ gguf.TensorType
		tol float64
	}{{gguf.F32, tolF32}, {gguf.F16, tolF16}} {
		path := filepath.Join(t.TempDir(), "tiny.gguf")
		writeTinyGGUF(t, path, tc.typ)
		m, err := LoadGGUF(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprint(tc.typ), func(t *testing.T) { checkReference(t, m, tc.tol) })
		// the vocabulary comes along: "w7 w11" is [CLS] w7 w11 [SEP]
		m.Config.Pooling = PoolMean
		got, err := m.Embed("W7 w11")
		if err != nil {
			t.Fatal(err)
		}
		if d := maxDiff(got, readExpected(t).Mean[0]); d > tc.tol {
			t.Errorf("Embed(\"W7 w11\") differs from the ids [2 7 11 3] by %.2g (tokens %v)", d, m.Tokenizer.Encode("W7 w11", true, false))
		}
		m.Close()
	}
}

// writeTinyGGUF converts testdata/tiny to llama.cpp's bert GGUF layout with
// a WordPiece vocabulary [PAD] [UNK] [CLS] [SEP] ▁w4 … ▁w39.
func writeTinyGGUF(t *testing.T, path string, typ gguf.TensorType) {
	t.Helper()
	set, err := safetensors.OpenDir("testdata/tiny")
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	var tensors []gguf.WriterTensor
	for _, pair := range [][2]string{
		{hfNames.word, ggufNames.word}, {hfNames.position, ggufNames.position}, {hfNames.tokenType, ggufNames.tokenType},
		{hfNames.embNormW, ggufNames.embNormW}, {hfNames.embNormB, ggufNames.embNormB},
	} {
		tensors = append(tensors, ggufTensor(t, set, pair[0], pair[1], typ))
	}
	layerPairs := [][2]string{
		{hfNames.q, ggufNames.q}, {hfNames.qb, ggufNames.qb}, {hfNames.k, ggufNames.k}, {hfNames.kb, ggufNames.kb},
		{hfNames.v, ggufNames.v}, {hfNames.vb, ggufNames.vb}, {hfNames.o, ggufNames.o}, {hfNames.ob, ggufNames.ob},
		{hfNames.attnNormW, ggufNames.attnNormW}, {hfNames.attnNormB, ggufNames.attnNormB},
		{hfNames.up, ggufNames.up}, {hfNames.upB, ggufNames.upB}, {hfNames.down, ggufNames.down}, {hfNames.downB, ggufNames.downB},
		{hfNames.outNormW, ggufNames.outNormW}, {hfNames.outNormB, ggufNames.outNormB},
	}
	for l := range 2 {
		for _, p := range layerPairs {
			tensors = append(tensors, ggufTensor(t, set, fmt.Sprintf(p[0], l), fmt.Sprintf(p[1], l), typ))
		}
	}
	vocab := []string{"[PAD]", "[UNK]", "[CLS]", "[SEP]"}
	types := []int32{3, 2, 3, 3} // control, unknown, control, control
	for i := 4; i < 40; i++ {
		vocab = append(vocab, fmt.Sprintf("\u2581w%d", i))
		types = append(types, 1) // normal
	}
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String("bert")},
		{Key: "bert.embedding_length", Value: gguf.Uint32(24)},
		{Key: "bert.block_count", Value: gguf.Uint32(2)},
		{Key: "bert.attention.head_count", Value: gguf.Uint32(3)},
		{Key: "bert.feed_forward_length", Value: gguf.Uint32(48)},
		{Key: "bert.context_length", Value: gguf.Uint32(32)},
		{Key: "bert.attention.layer_norm_epsilon", Value: gguf.Float32(1e-6)},
		{Key: "bert.pooling_type", Value: gguf.Uint32(1)},
		{Key: "tokenizer.ggml.model", Value: gguf.String("bert")},
		{Key: "tokenizer.ggml.tokens", Value: gguf.StringArray(vocab)},
		{Key: "tokenizer.ggml.token_type", Value: gguf.Array(types)},
		{Key: "tokenizer.ggml.unknown_token_id", Value: gguf.Uint32(1)},
		{Key: "tokenizer.ggml.cls_token_id", Value: gguf.Uint32(2)},
		{Key: "tokenizer.ggml.seperator_token_id", Value: gguf.Uint32(3)},
		{Key: "tokenizer.ggml.padding_token_id", Value: gguf.Uint32(0)},
	}
	if err := gguf.WriteFile(path, kv, tensors); err != nil {
		t.Fatal(err)
	}
}

// ggufTensor copies one safetensors tensor under its GGUF name; matrices
// become typ, vectors stay F32 (as llama.cpp's converter does).
func ggufTensor(t *testing.T, set *safetensors.Set, from, to string, typ gguf.TensorType) gguf.WriterTensor {
	st, ok := set.Tensor(from)
	if !ok {
		t.Fatalf("testdata/tiny has no %s", from)
	}
	dims := make([]uint64, len(st.Shape))
	for i, d := range st.Shape {
		dims[len(dims)-1-i] = uint64(d)
	}
	data := st.Data
	if len(dims) == 2 && typ == gguf.F16 {
		f := tensor.F32s(append([]byte(nil), data...))
		data = tensor.Quantize(nil, tensor.F16, f)
	} else {
		typ = gguf.F32
	}
	return gguf.WriterTensor{Name: to, Dims: dims, Type: typ, Data: data}
}

func TestEmbedErrors(t *testing.T) {
	m, err := LoadHF("testdata/tiny")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, ids := range [][]int{nil, {2, 40}, {-1}, make([]int, 33)} {
		if _, err := m.EmbedIDs(ids); err == nil {
			t.Errorf("EmbedIDs(%v) gave no error", ids)
		}
	}
	m.Tokenizer = nil
	if _, err := m.Embed("x"); err == nil {
		t.Error("Embed without a tokenizer gave no error")
	}
	if _, err := LoadHF("testdata"); err == nil {
		t.Error("LoadHF of a directory without config.json gave no error")
	}
}

func BenchmarkEmbedIDs(b *testing.B) {
	m, err := LoadHF("testdata/tiny")
	if err != nil {
		b.Fatal(err)
	}
	ids := readExpected(&testing.T{}).Inputs[2]
	b.ReportAllocs()
	for b.Loop() {
		m.EmbedIDs(ids)
	}
}
