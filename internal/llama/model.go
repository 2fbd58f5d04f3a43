package llama

import (
	"errors"
	"fmt"
	"io"

	"flywheel/internal/tensor"
	"flywheel/internal/tokenizer"
)

// Config holds the hyper-parameters of a decoder.
type Config struct {
	Arch       string // "llama", "mistral" or "qwen2"
	Dim        int    // model width (embedding length)
	Hidden     int    // feed-forward width
	Layers     int
	Heads      int
	KVHeads    int // < Heads for grouped-query attention
	HeadDim    int
	Vocab      int
	ContextLen int // positions the model was trained for

	NormEps   float32
	RopeBase  float64 // θ base of rotary embeddings
	RopeScale float64 // linear position scaling factor; 1 = none
	RopeDims  int     // rotated dimensions per head (≤ HeadDim)
	RopeStyle tensor.RopeStyle

	QKVBias       bool // q, k, v projections have biases (qwen2)
	OBias         bool // the attention output projection has a bias
	TiedOutput    bool // the output head is the token embedding
	SlidingWindow int  // attend to at most this many latest positions; 0: all
}

// Validate checks that the sizes are consistent.
func (c *Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{{"dim", c.Dim}, {"hidden", c.Hidden}, {"layers", c.Layers}, {"heads", c.Heads},
		{"kv_heads", c.KVHeads}, {"head_dim", c.HeadDim}, {"vocab", c.Vocab}} {
		if f.v <= 0 {
			return fmt.Errorf("%s = %d, must be positive", f.name, f.v)
		}
	}
	if c.Heads%c.KVHeads != 0 {
		return fmt.Errorf("heads %d is not a multiple of kv_heads %d", c.Heads, c.KVHeads)
	}
	if c.RopeDims <= 0 || c.RopeDims > c.HeadDim || c.RopeDims%2 != 0 {
		return fmt.Errorf("rope dims %d: must be even and in 1..head_dim (%d)", c.RopeDims, c.HeadDim)
	}
	if c.NormEps <= 0 {
		return fmt.Errorf("rms norm epsilon %g must be positive", c.NormEps)
	}
	if c.RopeBase <= 0 || c.RopeScale <= 0 {
		return fmt.Errorf("rope base %g and scale %g must be positive", c.RopeBase, c.RopeScale)
	}
	return nil
}

// Layer holds the weights of one transformer block. Shapes are [out, in].
type Layer struct {
	AttnNorm []float32     // [Dim]
	Wq       tensor.Matrix // [Heads·HeadDim, Dim]
	Wk       tensor.Matrix // [KVHeads·HeadDim, Dim]
	Wv       tensor.Matrix // [KVHeads·HeadDim, Dim]
	Bq       []float32     // [Heads·HeadDim] or nil
	Bk, Bv   []float32     // [KVHeads·HeadDim] or nil
	Wo       tensor.Matrix // [Dim, Heads·HeadDim]
	Bo       []float32     // [Dim] or nil
	FFNNorm  []float32     // [Dim]
	WGate    tensor.Matrix // [Hidden, Dim]  (w1)
	WUp      tensor.Matrix // [Hidden, Dim]  (w3)
	WDown    tensor.Matrix // [Dim, Hidden]  (w2)
}

// Model is a loaded decoder: configuration, weights and, when the file holds
// one, its tokenizer.
type Model struct {
	Config    Config
	Embed     tensor.Matrix // [Vocab, Dim]
	Layers    []Layer
	OutNorm   []float32     // [Dim]
	Output    tensor.Matrix // [Vocab, Dim]; Embed when tied
	Tokenizer *tokenizer.Tokenizer
	File      FileInfo

	closers []io.Closer
}

// FileInfo describes where a model came from, for `flywheel info`.
type FileInfo struct {
	Path     string
	Format   string // "gguf v3", "safetensors", "llama2.c v0"
	Bytes    int64
	Tensors  int
	DTypes   map[string]int // stored dtype → tensor count
	Metadata []MetaEntry    // the file's own key/values, in file order
}

// MetaEntry is one printable key/value of a model file.
type MetaEntry struct{ Key, Value string }

// Close releases the memory maps behind the weights.
func (m *Model) Close() error {
	var errs []error
	for _, c := range m.closers {
		errs = append(errs, c.Close())
	}
	m.closers = nil
	return errors.Join(errs...)
}

// check verifies every weight's shape against the config; name says which
// tensor when one is wrong.
func (m *Model) check() error {
	c := &m.Config
	if err := c.Validate(); err != nil {
		return err
	}
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	mat := func(name string, w tensor.Matrix, rows, cols int) error {
		if w.Rows != rows || w.Cols != cols {
			return fmt.Errorf("tensor %s: shape [%d, %d], want [%d, %d]", name, w.Rows, w.Cols, rows, cols)
		}
		if err := w.Check(); err != nil {
			return fmt.Errorf("tensor %s: %w", name, err)
		}
		return nil
	}
	vec := func(name string, v []float32, n int) error {
		if len(v) != n {
			return fmt.Errorf("tensor %s: length %d, want %d", name, len(v), n)
		}
		return nil
	}
	errs := []error{
		mat("token embedding", m.Embed, c.Vocab, c.Dim),
		mat("output", m.Output, c.Vocab, c.Dim),
		vec("output norm", m.OutNorm, c.Dim),
	}
	if len(m.Layers) != c.Layers {
		errs = append(errs, fmt.Errorf("%d layers loaded, config says %d", len(m.Layers), c.Layers))
	}
	for i, l := range m.Layers {
		p := fmt.Sprintf("layer %d ", i)
		errs = append(errs,
			vec(p+"attention norm", l.AttnNorm, c.Dim),
			mat(p+"q", l.Wq, q, c.Dim), mat(p+"k", l.Wk, kv, c.Dim), mat(p+"v", l.Wv, kv, c.Dim),
			mat(p+"attention output", l.Wo, c.Dim, q),
			vec(p+"ffn norm", l.FFNNorm, c.Dim),
			mat(p+"ffn gate", l.WGate, c.Hidden, c.Dim), mat(p+"ffn up", l.WUp, c.Hidden, c.Dim),
			mat(p+"ffn down", l.WDown, c.Dim, c.Hidden))
		if c.QKVBias {
			errs = append(errs, vec(p+"q bias", l.Bq, q), vec(p+"k bias", l.Bk, kv), vec(p+"v bias", l.Bv, kv))
		}
		if c.OBias {
			errs = append(errs, vec(p+"attention output bias", l.Bo, c.Dim))
		}
	}
	return errors.Join(errs...)
}
