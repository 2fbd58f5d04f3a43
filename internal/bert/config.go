package bert

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Pooling says how token vectors become one sentence vector.
type Pooling uint8

const (
	PoolMean Pooling = iota // mean of all token vectors (e5, MiniLM)
	PoolCLS                 // the [CLS] token's vector (bge)
)

func (p Pooling) String() string {
	if p == PoolCLS {
		return "cls"
	}
	return "mean"
}

// ParsePooling reads "mean" or "cls".
func ParsePooling(s string) (Pooling, error) {
	switch s {
	case "mean":
		return PoolMean, nil
	case "cls":
		return PoolCLS, nil
	}
	return 0, fmt.Errorf("unknown pooling %q: use mean or cls", s)
}

// Activation is the feed-forward non-linearity.
type Activation uint8

const (
	GELU     Activation = iota // exact, with erf (BERT's "gelu")
	GELUTanh                   // the tanh approximation ("gelu_new", "gelu_pytorch_tanh")
	ReLU
)

// Config is the shape of an encoder.
type Config struct {
	Vocab        int        // vocabulary size
	Hidden       int        // H, model width
	Layers       int        // transformer blocks
	Heads        int        // attention heads; H must be a multiple
	Intermediate int        // I, feed-forward width
	MaxPositions int        // longest input, in tokens
	TypeVocab    int        // token types (segments)
	Eps          float32    // LayerNorm epsilon
	Act          Activation // feed-forward activation
	Pooling      Pooling    // sentence pooling
	Normalize    bool       // scale the sentence vector to unit length
}

// Validate reports the first implausible field.
func (c Config) Validate() error {
	switch {
	case c.Vocab <= 0 || c.Hidden <= 0 || c.Layers <= 0 || c.Heads <= 0 || c.Intermediate <= 0 || c.MaxPositions <= 0:
		return fmt.Errorf("bert config: vocab %d, hidden %d, layers %d, heads %d, intermediate %d, positions %d: all must be positive",
			c.Vocab, c.Hidden, c.Layers, c.Heads, c.Intermediate, c.MaxPositions)
	case c.Hidden%c.Heads != 0:
		return fmt.Errorf("bert config: hidden size %d is not a multiple of %d heads", c.Hidden, c.Heads)
	case c.TypeVocab <= 0:
		return fmt.Errorf("bert config: type_vocab_size %d: must be positive", c.TypeVocab)
	}
	return nil
}

// hfConfig is the part of a Hugging Face BertConfig the encoder needs.
type hfConfig struct {
	ModelType        string   `json:"model_type"`
	VocabSize        int      `json:"vocab_size"`
	HiddenSize       int      `json:"hidden_size"`
	NumLayers        int      `json:"num_hidden_layers"`
	NumHeads         int      `json:"num_attention_heads"`
	IntermediateSize int      `json:"intermediate_size"`
	MaxPositions     int      `json:"max_position_embeddings"`
	TypeVocabSize    *int     `json:"type_vocab_size"`
	LayerNormEps     *float64 `json:"layer_norm_eps"`
	HiddenAct        string   `json:"hidden_act"`
	PositionType     string   `json:"position_embedding_type"`
}

// readHFConfig reads dir/config.json and, when present, the
// sentence-transformers pooling of dir/1_Pooling/config.json.
func readHFConfig(dir string) (Config, error) {
	path := filepath.Join(dir, "config.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("bert: %w", err)
	}
	var hc hfConfig
	if err := json.Unmarshal(raw, &hc); err != nil {
		return Config{}, fmt.Errorf("bert: %s: %w", path, err)
	}
	if hc.PositionType != "" && hc.PositionType != "absolute" {
		return Config{}, fmt.Errorf("bert: %s: position_embedding_type %q is not supported (only absolute)", path, hc.PositionType)
	}
	c := Config{
		Vocab: hc.VocabSize, Hidden: hc.HiddenSize, Layers: hc.NumLayers, Heads: hc.NumHeads,
		Intermediate: hc.IntermediateSize, MaxPositions: hc.MaxPositions, TypeVocab: 2, Eps: 1e-12,
		Normalize: true,
	}
	if hc.TypeVocabSize != nil {
		c.TypeVocab = *hc.TypeVocabSize
	}
	if hc.LayerNormEps != nil {
		c.Eps = float32(*hc.LayerNormEps)
	}
	if c.Act, err = parseActivation(hc.HiddenAct); err != nil {
		return Config{}, fmt.Errorf("bert: %s: %w", path, err)
	}
	if c.Pooling, err = readPooling(dir); err != nil {
		return Config{}, err
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func parseActivation(s string) (Activation, error) {
	switch s {
	case "", "gelu":
		return GELU, nil
	case "gelu_new", "gelu_pytorch_tanh", "gelu_fast":
		return GELUTanh, nil
	case "relu":
		return ReLU, nil
	}
	return 0, fmt.Errorf("hidden_act %q is not supported (supported: gelu, gelu_new, relu)", s)
}

// readPooling reads 1_Pooling/config.json; without it pooling is mean.
func readPooling(dir string) (Pooling, error) {
	path := filepath.Join(dir, "1_Pooling", "config.json")
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return PoolMean, nil
	}
	if err != nil {
		return 0, fmt.Errorf("bert: %w", err)
	}
	var pc struct {
		CLS  bool `json:"pooling_mode_cls_token"`
		Mean bool `json:"pooling_mode_mean_tokens"`
	}
	if err := json.Unmarshal(raw, &pc); err != nil {
		return 0, fmt.Errorf("bert: %s: %w", path, err)
	}
	if pc.CLS {
		return PoolCLS, nil
	}
	return PoolMean, nil
}
