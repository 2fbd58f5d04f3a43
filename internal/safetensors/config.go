package safetensors

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Config is the Hugging Face config.json of a LLaMA-family decoder (model
// types "llama", "mistral", "qwen2"). ReadConfig fills absent optional fields
// with the defaults of the transformers config classes.
type Config struct {
	Architectures []string // e.g. ["LlamaForCausalLM"]
	ModelType     string   // "llama", "mistral", "qwen2"

	HiddenSize            int // model width d
	IntermediateSize      int // MLP width
	NumHiddenLayers       int
	NumAttentionHeads     int
	NumKeyValueHeads      int // < NumAttentionHeads for grouped-query attention
	VocabSize             int
	MaxPositionEmbeddings int
	HeadDim               int    // per-head width; HiddenSize / NumAttentionHeads unless given
	HiddenAct             string // MLP activation, "silu" for all three model types

	RMSNormEps  float64
	RopeTheta   float64      // RoPE base frequency
	RopeScaling *RopeScaling // nil: plain RoPE

	TieWordEmbeddings bool // the output projection reuses the token embedding
	// AttentionBias is the attention_bias field: llama and mistral then have
	// biases on q, k, v and o projections. qwen2 has no such field and always
	// has q, k, v biases (see QKVBias).
	AttentionBias bool
	TorchDType    string // storage dtype of the checkpoint, e.g. "bfloat16"
	SlidingWindow int    // attention window in tokens; 0 = full attention

	BOSTokenID  []int // usually one id; empty when null
	EOSTokenIDs []int // any of these ends generation; empty when null
}

// RopeScaling extends the context of RoPE ("rope_scaling" in config.json).
type RopeScaling struct {
	Type   string  // "linear", "dynamic", "llama3", "yarn", … (json "rope_type" or "type")
	Factor float64 // context extension factor

	// llama3 and yarn only.
	LowFreqFactor                 float64
	HighFreqFactor                float64
	OriginalMaxPositionEmbeddings int
}

// QKVBias reports whether the q, k and v projections have biases: always for
// qwen2, otherwise when attention_bias is set.
func (c *Config) QKVBias() bool { return c.ModelType == "qwen2" || c.AttentionBias }

// OBias reports whether the attention output projection has a bias: only for
// llama and mistral with attention_bias set.
func (c *Config) OBias() bool { return c.ModelType != "qwen2" && c.AttentionBias }

// configJSON is config.json as written by transformers. Pointers tell absent
// or null fields from zero ones.
type configJSON struct {
	Architectures         []string         `json:"architectures,omitempty"`
	ModelType             string           `json:"model_type,omitempty"`
	HiddenSize            *int             `json:"hidden_size,omitempty"`
	IntermediateSize      *int             `json:"intermediate_size,omitempty"`
	NumHiddenLayers       *int             `json:"num_hidden_layers,omitempty"`
	NumAttentionHeads     *int             `json:"num_attention_heads,omitempty"`
	NumKeyValueHeads      *int             `json:"num_key_value_heads,omitempty"`
	VocabSize             *int             `json:"vocab_size,omitempty"`
	MaxPositionEmbeddings *int             `json:"max_position_embeddings,omitempty"`
	HeadDim               *int             `json:"head_dim,omitempty"`
	HiddenAct             *string          `json:"hidden_act,omitempty"`
	RMSNormEps            *float64         `json:"rms_norm_eps,omitempty"`
	RopeTheta             *float64         `json:"rope_theta,omitempty"`
	RopeScaling           *ropeScalingJSON `json:"rope_scaling"`
	RopeParameters        *ropeScalingJSON `json:"rope_parameters,omitempty"` // transformers ≥ 5
	TieWordEmbeddings     *bool            `json:"tie_word_embeddings,omitempty"`
	AttentionBias         *bool            `json:"attention_bias,omitempty"`
	TorchDType            string           `json:"torch_dtype,omitempty"`
	DType                 string           `json:"dtype,omitempty"` // transformers ≥ 5
	SlidingWindow         *int             `json:"sliding_window"`
	UseSlidingWindow      *bool            `json:"use_sliding_window,omitempty"` // qwen2
	BOSTokenID            json.RawMessage  `json:"bos_token_id"`                 // int, list or null
	EOSTokenID            json.RawMessage  `json:"eos_token_id"`                 // int, list or null
}

type ropeScalingJSON struct {
	RopeType                      string   `json:"rope_type,omitempty"`
	Type                          string   `json:"type,omitempty"`
	Factor                        float64  `json:"factor,omitempty"`
	LowFreqFactor                 float64  `json:"low_freq_factor,omitempty"`
	HighFreqFactor                float64  `json:"high_freq_factor,omitempty"`
	OriginalMaxPositionEmbeddings int      `json:"original_max_position_embeddings,omitempty"`
	RopeTheta                     *float64 `json:"rope_theta,omitempty"` // in rope_parameters only
}

// ReadConfig reads and validates a config.json. A missing hidden_size,
// intermediate_size, num_hidden_layers, num_attention_heads or vocab_size is
// an error; other absent fields take transformers' defaults:
// num_key_value_heads = num_attention_heads, head_dim = hidden_size /
// num_attention_heads, rope_theta 10000, rms_norm_eps 1e-6, hidden_act silu,
// max_position_embeddings 2048 (mistral 131072, qwen2 32768), bos/eos 1/2
// for llama and mistral, sliding_window 4096 for mistral. qwen2's
// sliding_window counts only when use_sliding_window is true.
func ReadConfig(path string) (*Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := parseConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func parseConfig(raw []byte) (*Config, error) {
	var j configJSON
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, fmt.Errorf("not a valid config.json: %w", err)
	}
	c := &Config{Architectures: j.Architectures, ModelType: j.ModelType}
	for _, req := range []struct {
		name string
		src  *int
		dst  *int
	}{
		{"hidden_size", j.HiddenSize, &c.HiddenSize},
		{"intermediate_size", j.IntermediateSize, &c.IntermediateSize},
		{"num_hidden_layers", j.NumHiddenLayers, &c.NumHiddenLayers},
		{"num_attention_heads", j.NumAttentionHeads, &c.NumAttentionHeads},
		{"vocab_size", j.VocabSize, &c.VocabSize},
	} {
		if req.src == nil {
			return nil, fmt.Errorf("missing required field %q", req.name)
		}
		*req.dst = *req.src
	}

	c.NumKeyValueHeads = or(j.NumKeyValueHeads, c.NumAttentionHeads)
	if j.HeadDim != nil {
		c.HeadDim = *j.HeadDim
	} else if c.NumAttentionHeads > 0 {
		if c.HiddenSize%c.NumAttentionHeads != 0 {
			return nil, fmt.Errorf("hidden_size %d is not divisible by num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
		}
		c.HeadDim = c.HiddenSize / c.NumAttentionHeads
	}
	maxPos := 2048
	switch c.ModelType {
	case "mistral":
		maxPos = 4096 * 32
	case "qwen2":
		maxPos = 32768
	}
	c.MaxPositionEmbeddings = or(j.MaxPositionEmbeddings, maxPos)
	c.HiddenAct = or(j.HiddenAct, "silu")
	c.RMSNormEps = or(j.RMSNormEps, 1e-6)
	c.TieWordEmbeddings = or(j.TieWordEmbeddings, false)
	c.AttentionBias = or(j.AttentionBias, false)
	c.TorchDType = j.TorchDType
	if c.TorchDType == "" {
		c.TorchDType = j.DType
	}

	// RoPE: transformers ≥ 5 moves rope_theta and the scaling into
	// rope_parameters, where rope_type "default" means no scaling.
	rs := j.RopeScaling
	theta := j.RopeTheta
	if p := j.RopeParameters; p != nil {
		if rs == nil {
			rs = p
		}
		if theta == nil {
			theta = p.RopeTheta
		}
	}
	c.RopeTheta = or(theta, 10000.0)
	if rs != nil {
		typ := rs.RopeType
		if typ == "" {
			typ = rs.Type
		}
		if typ != "default" {
			c.RopeScaling = &RopeScaling{
				Type:                          typ,
				Factor:                        rs.Factor,
				LowFreqFactor:                 rs.LowFreqFactor,
				HighFreqFactor:                rs.HighFreqFactor,
				OriginalMaxPositionEmbeddings: rs.OriginalMaxPositionEmbeddings,
			}
		}
	}

	switch {
	case c.ModelType == "qwen2" && !or(j.UseSlidingWindow, false):
		c.SlidingWindow = 0
	case j.SlidingWindow != nil:
		c.SlidingWindow = *j.SlidingWindow
	case c.ModelType == "mistral" && !hasKey(raw, "sliding_window"):
		c.SlidingWindow = 4096
	}

	var err error
	defaultBOS, defaultEOS := []int(nil), []int(nil)
	if c.ModelType == "llama" || c.ModelType == "mistral" {
		defaultBOS, defaultEOS = []int{1}, []int{2}
	}
	if c.BOSTokenID, err = tokenIDs("bos_token_id", j.BOSTokenID, defaultBOS); err != nil {
		return nil, err
	}
	if c.EOSTokenIDs, err = tokenIDs("eos_token_id", j.EOSTokenID, defaultEOS); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// or is *p, or def when p is nil (the field was absent or null).
func or[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// hasKey reports whether the top-level object of raw has key, even as null.
func hasKey(raw []byte, key string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	_, ok := m[key]
	return ok
}

// tokenIDs decodes a token id field that may be an integer, a list of
// integers or null; def is used when the field is absent.
func tokenIDs(name string, raw json.RawMessage, def []int) ([]int, error) {
	if len(raw) == 0 {
		return def, nil
	}
	if string(raw) == "null" {
		return nil, nil
	}
	var one int
	if json.Unmarshal(raw, &one) == nil {
		return []int{one}, nil
	}
	var list []int
	if json.Unmarshal(raw, &list) == nil {
		return list, nil
	}
	return nil, fmt.Errorf("field %q: want an integer, a list of integers or null, got %.40s", name, raw)
}

// Validate checks that the sizes are positive and consistent. Its errors name
// the config.json field.
func (c *Config) Validate() error {
	for _, f := range []struct {
		name string
		v    int
	}{
		{"hidden_size", c.HiddenSize},
		{"intermediate_size", c.IntermediateSize},
		{"num_hidden_layers", c.NumHiddenLayers},
		{"num_attention_heads", c.NumAttentionHeads},
		{"num_key_value_heads", c.NumKeyValueHeads},
		{"vocab_size", c.VocabSize},
		{"max_position_embeddings", c.MaxPositionEmbeddings},
	} {
		if f.v <= 0 {
			return fmt.Errorf("%s is %d, want > 0", f.name, f.v)
		}
	}
	if c.NumAttentionHeads%c.NumKeyValueHeads != 0 {
		return fmt.Errorf("num_attention_heads %d is not divisible by num_key_value_heads %d", c.NumAttentionHeads, c.NumKeyValueHeads)
	}
	// An explicit head_dim may differ from hidden_size / heads (Mistral NeMo:
	// 5120 / 32 heads of 128); without one the width must split evenly.
	switch {
	case c.HeadDim == 0 && c.HiddenSize%c.NumAttentionHeads != 0:
		return fmt.Errorf("hidden_size %d is not divisible by num_attention_heads %d", c.HiddenSize, c.NumAttentionHeads)
	case c.HeadDim < 0 || c.HeadDim%2 != 0:
		return fmt.Errorf("head_dim %d must be positive and even for RoPE", c.HeadDim)
	case !(c.RMSNormEps > 0):
		return fmt.Errorf("rms_norm_eps is %g, want > 0", c.RMSNormEps)
	case !(c.RopeTheta > 0):
		return fmt.Errorf("rope_theta is %g, want > 0", c.RopeTheta)
	case c.SlidingWindow < 0:
		return fmt.Errorf("sliding_window is %d, want ≥ 0", c.SlidingWindow)
	case c.RopeScaling != nil && c.RopeScaling.Type == "":
		return errors.New("rope_scaling has neither rope_type nor type")
	case c.RopeScaling != nil && !(c.RopeScaling.Factor > 0):
		return fmt.Errorf("rope_scaling factor is %g, want > 0", c.RopeScaling.Factor)
	}
	return nil
}

// WriteConfig writes c as a config.json with Hugging Face field names,
// atomically. Reading it back with ReadConfig gives c.
func WriteConfig(path string, c *Config) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	j := configJSON{
		Architectures:         c.Architectures,
		ModelType:             c.ModelType,
		HiddenSize:            &c.HiddenSize,
		IntermediateSize:      &c.IntermediateSize,
		NumHiddenLayers:       &c.NumHiddenLayers,
		NumAttentionHeads:     &c.NumAttentionHeads,
		NumKeyValueHeads:      &c.NumKeyValueHeads,
		VocabSize:             &c.VocabSize,
		MaxPositionEmbeddings: &c.MaxPositionEmbeddings,
		HiddenAct:             &c.HiddenAct,
		RMSNormEps:            &c.RMSNormEps,
		RopeTheta:             &c.RopeTheta,
		TieWordEmbeddings:     &c.TieWordEmbeddings,
		AttentionBias:         &c.AttentionBias,
		TorchDType:            c.TorchDType,
		BOSTokenID:            tokenIDsJSON(c.BOSTokenID),
		EOSTokenID:            tokenIDsJSON(c.EOSTokenIDs),
	}
	if c.HeadDim != 0 {
		j.HeadDim = &c.HeadDim
	}
	if c.HiddenAct == "" {
		j.HiddenAct = nil
	}
	if s := c.RopeScaling; s != nil {
		j.RopeScaling = &ropeScalingJSON{
			RopeType:                      s.Type,
			Type:                          s.Type, // older readers look for "type"
			Factor:                        s.Factor,
			LowFreqFactor:                 s.LowFreqFactor,
			HighFreqFactor:                s.HighFreqFactor,
			OriginalMaxPositionEmbeddings: s.OriginalMaxPositionEmbeddings,
		}
	}
	if c.SlidingWindow > 0 {
		j.SlidingWindow = &c.SlidingWindow
		if c.ModelType == "qwen2" {
			use := true
			j.UseSlidingWindow = &use
		}
	}
	raw, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	raw = append(raw, '\n')
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(raw)
		return err
	})
}

// tokenIDsJSON encodes ids as transformers does: null, one integer or a list.
func tokenIDsJSON(ids []int) json.RawMessage {
	var v any = ids
	switch len(ids) {
	case 0:
		v = nil
	case 1:
		v = ids[0]
	}
	raw, _ := json.Marshal(v) // ints and nil always marshal
	return raw
}
