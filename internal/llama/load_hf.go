package llama

import (
	"fmt"
	"os"
	"path/filepath"

	"flywheel/internal/safetensors"
	"flywheel/internal/tensor"
	"flywheel/internal/tokenizer"
)

// hfArchs are the Hugging Face model_type values this engine runs.
var hfArchs = map[string]bool{"llama": true, "mistral": true, "qwen2": true}

// LoadHF maps a Hugging Face model directory: config.json and
// model.safetensors, or shards listed in model.safetensors.index.json.
// Hugging Face stores q and k for "rotate_half" RoPE, so the model uses
// RopeHalves and no weight is permuted.
func LoadHF(dir string) (*Model, error) {
	cfgPath := filepath.Join(dir, "config.json")
	hc, err := safetensors.ReadConfig(cfgPath)
	if err != nil {
		return nil, err
	}
	if err := hc.Validate(); err != nil {
		return nil, err
	}
	arch := hc.ModelType
	if !hfArchs[arch] {
		return nil, fmt.Errorf("%s: model_type %q is not supported (supported: llama, mistral, qwen2)", cfgPath, arch)
	}
	c := Config{
		Arch: arch, Dim: hc.HiddenSize, Hidden: hc.IntermediateSize, Layers: hc.NumHiddenLayers,
		Heads: hc.NumAttentionHeads, KVHeads: hc.NumKeyValueHeads, HeadDim: hc.HeadDim,
		Vocab: hc.VocabSize, ContextLen: hc.MaxPositionEmbeddings, NormEps: float32(hc.RMSNormEps),
		RopeBase: hc.RopeTheta, RopeScale: 1, RopeDims: hc.HeadDim, RopeStyle: tensor.RopeHalves,
		QKVBias: hc.QKVBias(), OBias: hc.OBias(), TiedOutput: hc.TieWordEmbeddings,
		SlidingWindow: hc.SlidingWindow,
	}
	if hc.HiddenAct != "" && hc.HiddenAct != "silu" {
		return nil, fmt.Errorf("%s: hidden_act %q is not supported (supported: silu)", cfgPath, hc.HiddenAct)
	}
	if rs := hc.RopeScaling; rs != nil {
		switch rs.Type {
		case "linear":
			c.RopeScale = rs.Factor
		case "default", "":
		default:
			return nil, fmt.Errorf("%s: rope_scaling type %q is not supported (supported: linear)", cfgPath, rs.Type)
		}
	}
	set, err := safetensors.OpenDir(dir)
	if err != nil {
		return nil, err
	}
	m, err := modelFromHF(set, c)
	if err != nil {
		set.Close()
		return nil, fmt.Errorf("model %s: %w", dir, err)
	}
	m.closers = append(m.closers, set)
	m.File = FileInfo{Path: dir, Format: "safetensors", DTypes: map[string]int{}}
	for _, name := range set.Names() {
		t, _ := set.Tensor(name)
		m.File.Tensors++
		m.File.Bytes += int64(len(t.Data))
		m.File.DTypes[string(t.DType)]++
	}
	for _, kv := range []MetaEntry{{"config", cfgPath}, {"model_type", arch}, {"torch_dtype", hc.TorchDType}} {
		m.File.Metadata = append(m.File.Metadata, kv)
	}
	if _, err := os.Stat(filepath.Join(dir, "tokenizer.json")); err == nil {
		// A tokenizer this package cannot read leaves the model usable
		// with --tokenizer; the reason shows in the metadata.
		note := "tokenizer.json"
		if tok, err := tokenizer.FromHFDir(dir); err == nil {
			m.Tokenizer = tok
		} else {
			note = fmt.Sprintf("tokenizer.json not read (%v): pass --tokenizer", err)
		}
		m.File.Metadata = append(m.File.Metadata, MetaEntry{"tokenizer", note})
	}
	return m, nil
}

var hfDTypes = map[safetensors.DType]tensor.DType{
	safetensors.F32: tensor.F32, safetensors.F16: tensor.F16, safetensors.BF16: tensor.BF16,
}

func modelFromHF(set *safetensors.Set, c Config) (*Model, error) {
	r := hfReader{set: set}
	m := &Model{Config: c}
	m.Embed = r.matrix("model.embed_tokens.weight")
	m.OutNorm = r.vector("model.norm.weight")
	if _, ok := set.Tensor("lm_head.weight"); ok && !c.TiedOutput {
		m.Output = r.matrix("lm_head.weight")
	} else {
		m.Output, m.Config.TiedOutput = m.Embed, true
	}
	for i := 0; i < c.Layers && r.err == nil; i++ {
		p := fmt.Sprintf("model.layers.%d.", i)
		l := Layer{
			AttnNorm: r.vector(p + "input_layernorm.weight"),
			Wq:       r.matrix(p + "self_attn.q_proj.weight"),
			Wk:       r.matrix(p + "self_attn.k_proj.weight"),
			Wv:       r.matrix(p + "self_attn.v_proj.weight"),
			Wo:       r.matrix(p + "self_attn.o_proj.weight"),
			FFNNorm:  r.vector(p + "post_attention_layernorm.weight"),
			WGate:    r.matrix(p + "mlp.gate_proj.weight"),
			WUp:      r.matrix(p + "mlp.up_proj.weight"),
			WDown:    r.matrix(p + "mlp.down_proj.weight"),
		}
		if c.QKVBias {
			l.Bq = r.vector(p + "self_attn.q_proj.bias")
			l.Bk = r.vector(p + "self_attn.k_proj.bias")
			l.Bv = r.vector(p + "self_attn.v_proj.bias")
		}
		if c.OBias {
			l.Bo = r.vector(p + "self_attn.o_proj.bias")
		}
		m.Layers = append(m.Layers, l)
	}
	if r.err != nil {
		return nil, r.err
	}
	return m, m.check()
}

// hfReader fetches tensors from a safetensors set, keeping the first error.
type hfReader struct {
	set *safetensors.Set
	err error
}

func (r *hfReader) tensor(name string, dims int) (safetensors.Tensor, tensor.DType, bool) {
	if r.err != nil {
		return safetensors.Tensor{}, 0, false
	}
	t, ok := r.set.Tensor(name)
	if !ok {
		r.err = fmt.Errorf("tensor %s is missing", name)
		return t, 0, false
	}
	dt, ok := hfDTypes[t.DType]
	if !ok {
		r.err = fmt.Errorf("tensor %s: dtype %s is not supported (supported: F32, F16, BF16)", name, t.DType)
		return t, 0, false
	}
	if len(t.Shape) != dims {
		r.err = fmt.Errorf("tensor %s: shape %v, want %d dimensions", name, t.Shape, dims)
		return t, 0, false
	}
	return t, dt, true
}

// matrix returns a [rows, cols] weight pointing into the map (copied when
// f32 data is not 4-byte aligned in the file).
func (r *hfReader) matrix(name string) tensor.Matrix {
	t, dt, ok := r.tensor(name, 2)
	if !ok {
		return tensor.Matrix{}
	}
	data := t.Data
	if dt == tensor.F32 && !tensor.Aligned4(data) {
		data = append(make([]byte, 0, len(data)+4), data...)
	}
	return tensor.Matrix{Type: dt, Rows: int(t.Shape[0]), Cols: int(t.Shape[1]), Data: data}
}

func (r *hfReader) vector(name string) []float32 {
	t, dt, ok := r.tensor(name, 1)
	if !ok {
		return nil
	}
	v := make([]float32, t.Shape[0])
	tensor.Dequantize(v, dt, t.Data, len(v))
	return v
}
