package llama

import (
	"errors"
	"fmt"

	"flywheel/internal/gguf"
	"flywheel/internal/tensor"
	"flywheel/internal/tokenizer"
)

// ropeStyles maps GGUF architectures to the RoPE pairing their converters
// store q and k for: llama.cpp's convert permutes llama/mistral q and k into
// Meta's interleaved order and leaves qwen2 in Hugging Face's halves order.
var ropeStyles = map[string]tensor.RopeStyle{
	"llama":   tensor.RopeInterleaved,
	"mistral": tensor.RopeInterleaved,
	"qwen2":   tensor.RopeHalves,
}

// LoadGGUF maps a GGUF model file of architecture llama, mistral or qwen2.
func LoadGGUF(path string) (*Model, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	m, err := modelFromGGUF(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	m.closers = append(m.closers, f)
	return m, nil
}

func modelFromGGUF(f *gguf.File) (*Model, error) {
	arch, err := f.GetString("general.architecture")
	if err != nil {
		return nil, err
	}
	style, ok := ropeStyles[arch]
	if !ok {
		return nil, fmt.Errorf("architecture %q is not supported (supported: llama, mistral, qwen2)", arch)
	}
	g := ggufReader{f: f}
	c := Config{Arch: arch, RopeStyle: style, RopeScale: 1}
	c.Dim = g.int(arch+".embedding_length", 0)
	c.Hidden = g.int(arch+".feed_forward_length", 0)
	c.Layers = g.int(arch+".block_count", 0)
	c.Heads = g.int(arch+".attention.head_count", 0)
	c.KVHeads = g.int(arch+".attention.head_count_kv", c.Heads)
	c.ContextLen = g.int(arch+".context_length", 2048)
	if c.Heads > 0 {
		c.HeadDim = g.int(arch+".attention.key_length", c.Dim/c.Heads)
	}
	c.RopeDims = g.int(arch+".rope.dimension_count", c.HeadDim)
	c.RopeBase = g.float(arch+".rope.freq_base", 10000)
	c.NormEps = float32(g.float(arch+".attention.layer_norm_rms_epsilon", 1e-5))
	if scaling, ok := f.Get(arch + ".rope.scaling.type"); ok {
		s, _ := scaling.Str()
		switch s {
		case "linear":
			c.RopeScale = g.float(arch+".rope.scaling.factor", 1)
		case "none", "":
		default:
			g.err = errors.Join(g.err, fmt.Errorf("key %s.rope.scaling.type: %q is not supported (supported: none, linear)", arch, s))
		}
	} else if _, ok := f.Get(arch + ".rope.scale_linear"); ok {
		c.RopeScale = g.float(arch+".rope.scale_linear", 1)
	}
	if g.err != nil {
		return nil, g.err
	}

	m := &Model{Config: c}
	m.Embed = g.matrix("token_embd.weight")
	m.Config.Vocab = m.Embed.Rows
	m.OutNorm = g.vector("output_norm.weight")
	if _, ok := f.Tensor("output.weight"); ok {
		m.Output = g.matrix("output.weight")
	} else {
		m.Output, m.Config.TiedOutput = m.Embed, true
	}
	_, m.Config.QKVBias = f.Tensor("blk.0.attn_q.bias")
	_, m.Config.OBias = f.Tensor("blk.0.attn_output.bias")
	for i := 0; i < c.Layers && g.err == nil; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		l := Layer{
			AttnNorm: g.vector(p + "attn_norm.weight"),
			Wq:       g.matrix(p + "attn_q.weight"),
			Wk:       g.matrix(p + "attn_k.weight"),
			Wv:       g.matrix(p + "attn_v.weight"),
			Wo:       g.matrix(p + "attn_output.weight"),
			FFNNorm:  g.vector(p + "ffn_norm.weight"),
			WGate:    g.matrix(p + "ffn_gate.weight"),
			WUp:      g.matrix(p + "ffn_up.weight"),
			WDown:    g.matrix(p + "ffn_down.weight"),
		}
		if m.Config.QKVBias {
			l.Bq, l.Bk, l.Bv = g.vector(p+"attn_q.bias"), g.vector(p+"attn_k.bias"), g.vector(p+"attn_v.bias")
		}
		if m.Config.OBias {
			l.Bo = g.vector(p + "attn_output.bias")
		}
		m.Layers = append(m.Layers, l)
	}
	if g.err != nil {
		return nil, g.err
	}
	if err := m.check(); err != nil {
		return nil, err
	}
	if _, ok := f.Get(tokenizer.KeyModel); ok {
		if m.Tokenizer, err = tokenizer.FromMetadata(ggufMetadata{f}); err != nil {
			return nil, err
		}
	}
	m.File = FileInfo{
		Path:    f.Path,
		Format:  fmt.Sprintf("gguf v%d", f.Version),
		Bytes:   int64(f.DataOffset) + int64(dataBytes(f)),
		Tensors: len(f.Tensors),
		DTypes:  map[string]int{},
	}
	for _, t := range f.Tensors {
		m.File.DTypes[t.Type.String()]++
	}
	for _, kv := range f.KV {
		m.File.Metadata = append(m.File.Metadata, MetaEntry{kv.Key, kv.Value.String()})
	}
	return m, nil
}

func dataBytes(f *gguf.File) uint64 {
	var end uint64
	for _, t := range f.Tensors {
		end = max(end, t.Offset+t.Size)
	}
	return end
}

// ggufReader reads config keys and tensors, keeping the first error.
type ggufReader struct {
	f   *gguf.File
	err error
}

func (g *ggufReader) int(key string, def int) int {
	if _, ok := g.f.Get(key); !ok && def != 0 {
		return def
	}
	v, err := g.f.GetUint(key)
	if err != nil {
		g.err = errors.Join(g.err, err)
		return 0
	}
	if v > 1<<31 {
		g.err = errors.Join(g.err, fmt.Errorf("key %s: %d is out of range", key, v))
		return 0
	}
	return int(v)
}

func (g *ggufReader) float(key string, def float64) float64 {
	if _, ok := g.f.Get(key); !ok {
		return def
	}
	v, err := g.f.GetFloat(key)
	if err != nil {
		g.err = errors.Join(g.err, err)
	}
	return v
}

func (g *ggufReader) tensor(name string) (*gguf.TensorInfo, tensor.DType, bool) {
	if g.err != nil {
		return nil, 0, false
	}
	t, ok := g.f.Tensor(name)
	if !ok {
		g.err = fmt.Errorf("tensor %s is missing", name)
		return nil, 0, false
	}
	dt := tensor.DType(t.Type)
	if !dt.Supported() {
		g.err = fmt.Errorf("tensor %s: type %v is not supported (supported: F32, F16, BF16, Q8_0, Q4_0)", name, t.Type)
		return nil, 0, false
	}
	return t, dt, true
}

// matrix returns a 2-D tensor as [ne1 rows, ne0 cols], pointing into the map.
func (g *ggufReader) matrix(name string) tensor.Matrix {
	t, dt, ok := g.tensor(name)
	if !ok {
		return tensor.Matrix{}
	}
	if len(t.Dims) != 2 {
		g.err = fmt.Errorf("tensor %s: %d dimensions %v, want 2", name, len(t.Dims), t.Dims)
		return tensor.Matrix{}
	}
	return tensor.Matrix{Type: dt, Rows: int(t.Dims[1]), Cols: int(t.Dims[0]), Data: g.f.TensorData(t)}
}

// vector returns a 1-D tensor converted to f32 (norm weights and biases are small).
func (g *ggufReader) vector(name string) []float32 {
	t, dt, ok := g.tensor(name)
	if !ok {
		return nil
	}
	if len(t.Dims) != 1 {
		g.err = fmt.Errorf("tensor %s: %d dimensions %v, want 1", name, len(t.Dims), t.Dims)
		return nil
	}
	n := int(t.Dims[0])
	v := make([]float32, n)
	tensor.Dequantize(v, dt, g.f.TensorData(t), n)
	return v
}

// ggufMetadata lets the tokenizer read a GGUF file's keys.
type ggufMetadata struct{ f *gguf.File }

func (m ggufMetadata) get(key string) (gguf.Value, bool) { return m.f.Get(key) }

func (m ggufMetadata) String(key string) (string, bool) {
	v, ok := m.get(key)
	if !ok {
		return "", false
	}
	return v.Str()
}

func (m ggufMetadata) Strings(key string) ([]string, bool) {
	v, ok := m.get(key)
	if !ok {
		return nil, false
	}
	return v.Strings()
}

func (m ggufMetadata) Float32s(key string) ([]float32, bool) {
	v, ok := m.get(key)
	if !ok {
		return nil, false
	}
	return v.Float32s()
}

func (m ggufMetadata) Int32s(key string) ([]int32, bool) {
	v, ok := m.get(key)
	if !ok {
		return nil, false
	}
	return v.Int32s()
}

func (m ggufMetadata) Uint(key string) (uint64, bool) {
	v, ok := m.get(key)
	if !ok {
		return 0, false
	}
	return v.Uint()
}

func (m ggufMetadata) Bool(key string) (bool, bool) {
	v, ok := m.get(key)
	if !ok {
		return false, false
	}
	return v.Bool()
}

// Bytes reads an integer array whose values all fit a byte (the unigram
// tokenizer's precompiled_charsmap).
func (m ggufMetadata) Bytes(key string) ([]byte, bool) {
	v, ok := m.get(key)
	if !ok {
		return nil, false
	}
	ints, ok := v.Ints()
	if !ok {
		return nil, false
	}
	b := make([]byte, len(ints))
	for i, x := range ints {
		if x < 0 || x > 255 {
			return nil, false
		}
		b[i] = byte(x)
	}
	return b, true
}

// loadGGUFTokenizer reads the vocabulary of a GGUF file (a model, or a
// vocabulary-only file with no tensors).
func loadGGUFTokenizer(path string) (*tokenizer.Tokenizer, error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tok, err := tokenizer.FromMetadata(ggufMetadata{f})
	if err != nil {
		return nil, fmt.Errorf("tokenizer %s: %w", path, err)
	}
	return tok, nil
}
