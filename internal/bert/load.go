package bert

import (
	"errors"
	"fmt"
	"os"

	"flywheel/internal/gguf"
	"flywheel/internal/safetensors"
	"flywheel/internal/tensor"
	"flywheel/internal/tokenizer"
)

// Load reads an encoder from a Hugging Face model directory or a GGUF file.
func Load(path string) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	if st.IsDir() {
		return LoadHF(path)
	}
	return LoadGGUF(path)
}

// weights fetches named tensors with their expected shapes, keeping the
// first error; names and layouts differ between the two formats.
type weights interface {
	// matrix returns the [rows, cols] tensor called name.
	matrix(name string, rows, cols int) tensor.Matrix
	// vector returns the length-n tensor called name as f32.
	vector(name string, n int) []float32
	// rows returns the first dimension of a matrix whose width is cols
	// (embedding tables of unknown length), or 0 when missing.
	rows(name string, cols int) int
	error() error
}

// names are the tensor names of one format; layer names take the block index.
type names struct {
	word, position, tokenType, embNormW, embNormB string
	q, qb, k, kb, v, vb, o, ob                    string
	attnNormW, attnNormB, up, upB, down, downB    string
	outNormW, outNormB                            string
}

var hfNames = names{
	word: "embeddings.word_embeddings.weight", position: "embeddings.position_embeddings.weight",
	tokenType: "embeddings.token_type_embeddings.weight",
	embNormW:  "embeddings.LayerNorm.weight", embNormB: "embeddings.LayerNorm.bias",
	q: "encoder.layer.%d.attention.self.query.weight", qb: "encoder.layer.%d.attention.self.query.bias",
	k: "encoder.layer.%d.attention.self.key.weight", kb: "encoder.layer.%d.attention.self.key.bias",
	v: "encoder.layer.%d.attention.self.value.weight", vb: "encoder.layer.%d.attention.self.value.bias",
	o: "encoder.layer.%d.attention.output.dense.weight", ob: "encoder.layer.%d.attention.output.dense.bias",
	attnNormW: "encoder.layer.%d.attention.output.LayerNorm.weight", attnNormB: "encoder.layer.%d.attention.output.LayerNorm.bias",
	up: "encoder.layer.%d.intermediate.dense.weight", upB: "encoder.layer.%d.intermediate.dense.bias",
	down: "encoder.layer.%d.output.dense.weight", downB: "encoder.layer.%d.output.dense.bias",
	outNormW: "encoder.layer.%d.output.LayerNorm.weight", outNormB: "encoder.layer.%d.output.LayerNorm.bias",
}

// ggufNames are llama.cpp's names (convert_hf_to_gguf.py, arch "bert").
var ggufNames = names{
	word: "token_embd.weight", position: "position_embd.weight", tokenType: "token_types.weight",
	embNormW: "token_embd_norm.weight", embNormB: "token_embd_norm.bias",
	q: "blk.%d.attn_q.weight", qb: "blk.%d.attn_q.bias",
	k: "blk.%d.attn_k.weight", kb: "blk.%d.attn_k.bias",
	v: "blk.%d.attn_v.weight", vb: "blk.%d.attn_v.bias",
	o: "blk.%d.attn_output.weight", ob: "blk.%d.attn_output.bias",
	attnNormW: "blk.%d.attn_output_norm.weight", attnNormB: "blk.%d.attn_output_norm.bias",
	up: "blk.%d.ffn_up.weight", upB: "blk.%d.ffn_up.bias",
	down: "blk.%d.ffn_down.weight", downB: "blk.%d.ffn_down.bias",
	outNormW: "blk.%d.layer_output_norm.weight", outNormB: "blk.%d.layer_output_norm.bias",
}

// build reads every weight of a model of shape c.
func build(c Config, w weights, n names) (*Model, error) {
	H, I := c.Hidden, c.Intermediate
	m := &Model{Config: c}
	m.word = w.matrix(n.word, c.Vocab, H)
	m.position = w.matrix(n.position, c.MaxPositions, H)
	m.tokenType = w.matrix(n.tokenType, c.TypeVocab, H)
	m.embNormW, m.embNormB = w.vector(n.embNormW, H), w.vector(n.embNormB, H)
	m.layers = make([]layer, c.Layers)
	for i := range m.layers {
		f := func(s string) string { return fmt.Sprintf(s, i) }
		m.layers[i] = layer{
			q: w.matrix(f(n.q), H, H), qb: w.vector(f(n.qb), H),
			k: w.matrix(f(n.k), H, H), kb: w.vector(f(n.kb), H),
			v: w.matrix(f(n.v), H, H), vb: w.vector(f(n.vb), H),
			o: w.matrix(f(n.o), H, H), ob: w.vector(f(n.ob), H),
			attnNormW: w.vector(f(n.attnNormW), H), attnNormB: w.vector(f(n.attnNormB), H),
			up: w.matrix(f(n.up), I, H), upB: w.vector(f(n.upB), I),
			down: w.matrix(f(n.down), H, I), downB: w.vector(f(n.downB), H),
			outNormW: w.vector(f(n.outNormW), H), outNormB: w.vector(f(n.outNormB), H),
		}
	}
	if err := w.error(); err != nil {
		return nil, err
	}
	return m, nil
}

// LoadHF reads a Hugging Face BERT directory: config.json, the safetensors
// weights (with or without a "bert." prefix), tokenizer.json when present and
// the sentence-transformers pooling.
func LoadHF(dir string) (*Model, error) {
	c, err := readHFConfig(dir)
	if err != nil {
		return nil, err
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	r := &hfWeights{set: set}
	if _, ok := set.Tensor("bert." + hfNames.word); ok {
		r.prefix = "bert."
	}
	m, err := build(c, r, hfNames)
	if err != nil {
		set.Close()
		return nil, fmt.Errorf("bert: %s: %w", dir, err)
	}
	m.close = set.Close
	if _, err := os.Stat(dir + "/tokenizer.json"); err == nil {
		if m.Tokenizer, err = tokenizer.FromHFDir(dir); err != nil {
			set.Close()
			return nil, fmt.Errorf("bert: %w", err)
		}
	}
	return m, nil
}

// hfWeights reads safetensors tensors, keeping the first error.
type hfWeights struct {
	set    *safetensors.Set
	prefix string
	err    error
}

var hfDTypes = map[safetensors.DType]tensor.DType{
	safetensors.F32: tensor.F32, safetensors.F16: tensor.F16, safetensors.BF16: tensor.BF16,
}

func (r *hfWeights) tensor(name string, shape ...int) (safetensors.Tensor, tensor.DType, bool) {
	if r.err != nil {
		return safetensors.Tensor{}, 0, false
	}
	t, ok := r.set.Tensor(r.prefix + name)
	if !ok {
		r.err = fmt.Errorf("tensor %s is missing", r.prefix+name)
		return t, 0, false
	}
	dt, ok := hfDTypes[t.DType]
	if !ok {
		r.err = fmt.Errorf("tensor %s: dtype %s is not supported (supported: F32, F16, BF16)", t.Name, t.DType)
		return t, 0, false
	}
	if !sameShape(t.Shape, shape) {
		r.err = fmt.Errorf("tensor %s: shape %v, want %v", t.Name, t.Shape, shape)
		return t, 0, false
	}
	return t, dt, true
}

func sameShape(got []int64, want []int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != int64(want[i]) {
			return false
		}
	}
	return true
}

func (r *hfWeights) matrix(name string, rows, cols int) tensor.Matrix {
	t, dt, ok := r.tensor(name, rows, cols)
	if !ok {
		return tensor.Matrix{}
	}
	data := t.Data
	if !tensor.Aligned4(data) {
		data = append(make([]byte, 0, len(data)+4), data...)
	}
	return tensor.Matrix{Type: dt, Rows: rows, Cols: cols, Data: data}
}

func (r *hfWeights) vector(name string, n int) []float32 {
	t, dt, ok := r.tensor(name, n)
	if !ok {
		return nil
	}
	v := make([]float32, n)
	tensor.Dequantize(v, dt, t.Data, n)
	return v
}

func (r *hfWeights) rows(name string, cols int) int {
	t, ok := r.set.Tensor(r.prefix + name)
	if !ok || len(t.Shape) != 2 || t.Shape[1] != int64(cols) {
		return 0
	}
	return int(t.Shape[0])
}

func (r *hfWeights) error() error { return r.err }

// LoadGGUF reads an encoder written by llama.cpp's convert_hf_to_gguf.py
// (general.architecture "bert") with its WordPiece vocabulary.
func LoadGGUF(path string) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	m, err := modelFromGGUF(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("bert: %s: %w", path, err)
	}
	m.close = f.Close
	return m, nil
}

func modelFromGGUF(f *gguf.File) (*Model, error) {
	arch, err := f.GetString("general.architecture")
	if err != nil {
		return nil, err
	}
	if arch != "bert" {
		return nil, fmt.Errorf("general.architecture is %q; this loader reads \"bert\" encoders", arch)
	}
	r := &ggufWeights{f: f}
	c := Config{
		Hidden: r.int("bert.embedding_length"), Layers: r.int("bert.block_count"),
		Heads: r.int("bert.attention.head_count"), Intermediate: r.int("bert.feed_forward_length"),
		MaxPositions: r.int("bert.context_length"), Eps: 1e-12, Normalize: true,
	}
	if v, err := f.GetFloat("bert.attention.layer_norm_epsilon"); err == nil {
		c.Eps = float32(v)
	}
	if v, err := f.GetUint("bert.pooling_type"); err == nil && v == 2 { // llama.cpp: 1 mean, 2 cls
		c.Pooling = PoolCLS
	}
	c.Vocab = r.rows(ggufNames.word, c.Hidden)
	c.TypeVocab = r.rows(ggufNames.tokenType, c.Hidden)
	if r.err != nil {
		return nil, r.err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	m, err := build(c, r, ggufNames)
	if err != nil {
		return nil, err
	}
	if m.Tokenizer, err = tokenizer.FromMetadata(ggufMetadata{f}); err != nil {
		return nil, err
	}
	if m.Tokenizer.VocabSize() != c.Vocab {
		return nil, fmt.Errorf("vocabulary has %d tokens, %s has %d rows", m.Tokenizer.VocabSize(), ggufNames.word, c.Vocab)
	}
	return m, nil
}

// ggufWeights reads GGUF tensors and keys, keeping the first error.
type ggufWeights struct {
	f   *gguf.File
	err error
}

func (r *ggufWeights) int(key string) int {
	v, err := r.f.GetUint(key)
	if err != nil {
		r.err = errors.Join(r.err, err)
		return 0
	}
	if v > 1<<31 {
		r.err = errors.Join(r.err, fmt.Errorf("key %s: %d is out of range", key, v))
		return 0
	}
	return int(v)
}

func (r *ggufWeights) tensor(name string, dims ...int) (*gguf.TensorInfo, tensor.DType, bool) {
	if r.err != nil {
		return nil, 0, false
	}
	t, ok := r.f.Tensor(name)
	if !ok {
		r.err = fmt.Errorf("tensor %s is missing", name)
		return nil, 0, false
	}
	dt := tensor.DType(t.Type)
	if !dt.Supported() {
		r.err = fmt.Errorf("tensor %s: type %v is not supported", name, t.Type)
		return nil, 0, false
	}
	ok = len(t.Dims) == len(dims)
	for i := 0; ok && i < len(dims); i++ {
		ok = t.Dims[i] == uint64(dims[i])
	}
	if !ok {
		r.err = fmt.Errorf("tensor %s: dimensions %v (ggml order), want %v", name, t.Dims, dims)
		return nil, 0, false
	}
	return t, dt, true
}

func (r *ggufWeights) matrix(name string, rows, cols int) tensor.Matrix {
	t, dt, ok := r.tensor(name, cols, rows) // ggml order: the row length first
	if !ok {
		return tensor.Matrix{}
	}
	return tensor.Matrix{Type: dt, Rows: rows, Cols: cols, Data: r.f.TensorData(t)}
}

func (r *ggufWeights) vector(name string, n int) []float32 {
	t, dt, ok := r.tensor(name, n)
	if !ok {
		return nil
	}
	v := make([]float32, n)
	tensor.Dequantize(v, dt, r.f.TensorData(t), n)
	return v
}

func (r *ggufWeights) rows(name string, cols int) int {
	t, ok := r.f.Tensor(name)
	if !ok || len(t.Dims) != 2 || t.Dims[0] != uint64(cols) {
		r.err = errors.Join(r.err, fmt.Errorf("tensor %s: missing or not a [*, %d] table", name, cols))
		return 0
	}
	return int(t.Dims[1])
}

func (r *ggufWeights) error() error { return r.err }

// ggufMetadata lets the tokenizer read a GGUF file's keys.
type ggufMetadata struct{ f *gguf.File }

func (m ggufMetadata) String(key string) (string, bool) {
	if v, ok := m.f.Get(key); ok {
		return v.Str()
	}
	return "", false
}

func (m ggufMetadata) Strings(key string) ([]string, bool) {
	if v, ok := m.f.Get(key); ok {
		return v.Strings()
	}
	return nil, false
}

func (m ggufMetadata) Float32s(key string) ([]float32, bool) {
	if v, ok := m.f.Get(key); ok {
		return v.Float32s()
	}
	return nil, false
}

func (m ggufMetadata) Int32s(key string) ([]int32, bool) {
	if v, ok := m.f.Get(key); ok {
		return v.Int32s()
	}
	return nil, false
}

func (m ggufMetadata) Uint(key string) (uint64, bool) {
	if v, ok := m.f.Get(key); ok {
		return v.Uint()
	}
	return 0, false
}

func (m ggufMetadata) Bool(key string) (bool, bool) {
	if v, ok := m.f.Get(key); ok {
		return v.Bool()
	}
	return false, false
}
