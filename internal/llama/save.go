package llama

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"

	"flywheel/internal/gguf"
	"flywheel/internal/safetensors"
	"flywheel/internal/tensor"
)

// SaveGGUF writes m as a GGUF file that llama.cpp loads: config keys under
// the architecture's prefix, weights under llama.cpp's tensor names, q and k
// in the RoPE order that architecture expects. extra adds keys (a tokenizer's
// vocabulary, say).
func SaveGGUF(path string, m *Model, extra ...gguf.KV) error {
	c := &m.Config
	style, ok := ropeStyles[c.Arch]
	if !ok {
		return fmt.Errorf("save %s: architecture %q has no GGUF layout here", path, c.Arch)
	}
	a := c.Arch
	kv := []gguf.KV{
		{Key: "general.architecture", Value: gguf.String(a)},
		{Key: a + ".context_length", Value: gguf.Uint32(uint32(c.ContextLen))},
		{Key: a + ".embedding_length", Value: gguf.Uint32(uint32(c.Dim))},
		{Key: a + ".feed_forward_length", Value: gguf.Uint32(uint32(c.Hidden))},
		{Key: a + ".block_count", Value: gguf.Uint32(uint32(c.Layers))},
		{Key: a + ".attention.head_count", Value: gguf.Uint32(uint32(c.Heads))},
		{Key: a + ".attention.head_count_kv", Value: gguf.Uint32(uint32(c.KVHeads))},
		{Key: a + ".attention.key_length", Value: gguf.Uint32(uint32(c.HeadDim))},
		{Key: a + ".attention.value_length", Value: gguf.Uint32(uint32(c.HeadDim))},
		{Key: a + ".rope.dimension_count", Value: gguf.Uint32(uint32(c.RopeDims))},
		{Key: a + ".rope.freq_base", Value: gguf.Float32(float32(c.RopeBase))},
		{Key: a + ".attention.layer_norm_rms_epsilon", Value: gguf.Float32(c.NormEps)},
	}
	if c.RopeScale != 1 {
		kv = append(kv,
			gguf.KV{Key: a + ".rope.scaling.type", Value: gguf.String("linear")},
			gguf.KV{Key: a + ".rope.scaling.factor", Value: gguf.Float32(float32(c.RopeScale))})
	}
	kv = append(kv, extra...)

	var ts []gguf.WriterTensor
	mat := func(name string, w tensor.Matrix) {
		ts = append(ts, gguf.WriterTensor{Name: name, Dims: []uint64{uint64(w.Cols), uint64(w.Rows)}, Type: gguf.TensorType(w.Type), Data: w.Data})
	}
	vec := func(name string, v []float32) {
		ts = append(ts, gguf.WriterTensor{Name: name, Dims: []uint64{uint64(len(v))}, Type: gguf.TensorType(tensor.F32), Data: tensor.Bytes(v)})
	}
	mat("token_embd.weight", m.Embed)
	vec("output_norm.weight", m.OutNorm)
	if !c.TiedOutput {
		mat("output.weight", m.Output)
	}
	for i, l := range m.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		vec(p+"attn_norm.weight", l.AttnNorm)
		mat(p+"attn_q.weight", permuteRows(l.Wq, c.Heads, c.HeadDim, c.RopeStyle, style))
		mat(p+"attn_k.weight", permuteRows(l.Wk, c.KVHeads, c.HeadDim, c.RopeStyle, style))
		mat(p+"attn_v.weight", l.Wv)
		mat(p+"attn_output.weight", l.Wo)
		if c.QKVBias {
			vec(p+"attn_q.bias", permuteVec(l.Bq, c.Heads, c.HeadDim, c.RopeStyle, style))
			vec(p+"attn_k.bias", permuteVec(l.Bk, c.KVHeads, c.HeadDim, c.RopeStyle, style))
			vec(p+"attn_v.bias", l.Bv)
		}
		if c.OBias {
			vec(p+"attn_output.bias", l.Bo)
		}
		vec(p+"ffn_norm.weight", l.FFNNorm)
		mat(p+"ffn_gate.weight", l.WGate)
		mat(p+"ffn_up.weight", l.WUp)
		mat(p+"ffn_down.weight", l.WDown)
	}
	return gguf.WriteFile(path, kv, ts)
}

// SaveHF writes m as a Hugging Face directory: config.json and
// model.safetensors (sharded above maxShard bytes; ≤ 0: one file). Weights
// must be F32, F16 or BF16.
func SaveHF(dir string, m *Model, maxShard int64) error {
	c := &m.Config
	names := map[tensor.DType]safetensors.DType{}
	for k, v := range hfDTypes {
		names[v] = k
	}
	var ts []safetensors.Tensor
	var err error
	mat := func(name string, w tensor.Matrix) {
		dt, ok := names[w.Type]
		if !ok && err == nil {
			err = fmt.Errorf("save %s: tensor %s is %v; safetensors export takes F32, F16 or BF16", dir, name, w.Type)
		}
		ts = append(ts, safetensors.Tensor{Name: name, DType: dt, Shape: []int64{int64(w.Rows), int64(w.Cols)}, Data: w.Data})
	}
	vec := func(name string, v []float32) {
		ts = append(ts, safetensors.Tensor{Name: name, DType: safetensors.F32, Shape: []int64{int64(len(v))}, Data: tensor.Bytes(v)})
	}
	mat("model.embed_tokens.weight", m.Embed)
	vec("model.norm.weight", m.OutNorm)
	if !c.TiedOutput {
		mat("lm_head.weight", m.Output)
	}
	for i, l := range m.Layers {
		p := fmt.Sprintf("model.layers.%d.", i)
		vec(p+"input_layernorm.weight", l.AttnNorm)
		mat(p+"self_attn.q_proj.weight", permuteRows(l.Wq, c.Heads, c.HeadDim, c.RopeStyle, tensor.RopeHalves))
		mat(p+"self_attn.k_proj.weight", permuteRows(l.Wk, c.KVHeads, c.HeadDim, c.RopeStyle, tensor.RopeHalves))
		mat(p+"self_attn.v_proj.weight", l.Wv)
		mat(p+"self_attn.o_proj.weight", l.Wo)
		if c.QKVBias {
			vec(p+"self_attn.q_proj.bias", permuteVec(l.Bq, c.Heads, c.HeadDim, c.RopeStyle, tensor.RopeHalves))
			vec(p+"self_attn.k_proj.bias", permuteVec(l.Bk, c.KVHeads, c.HeadDim, c.RopeStyle, tensor.RopeHalves))
			vec(p+"self_attn.v_proj.bias", l.Bv)
		}
		if c.OBias {
			vec(p+"self_attn.o_proj.bias", l.Bo)
		}
		vec(p+"post_attention_layernorm.weight", l.FFNNorm)
		mat(p+"mlp.gate_proj.weight", l.WGate)
		mat(p+"mlp.up_proj.weight", l.WUp)
		mat(p+"mlp.down_proj.weight", l.WDown)
	}
	if err != nil {
		return err
	}
	hc := &safetensors.Config{
		Architectures: []string{hfArchitecture[c.Arch]}, ModelType: c.Arch,
		HiddenSize: c.Dim, IntermediateSize: c.Hidden, NumHiddenLayers: c.Layers,
		NumAttentionHeads: c.Heads, NumKeyValueHeads: c.KVHeads, HeadDim: c.HeadDim,
		VocabSize: c.Vocab, MaxPositionEmbeddings: c.ContextLen, RMSNormEps: float64(c.NormEps),
		RopeTheta: c.RopeBase, TieWordEmbeddings: c.TiedOutput, AttentionBias: c.QKVBias || c.OBias,
		SlidingWindow: c.SlidingWindow, HiddenAct: "silu",
		TorchDType: "float32",
	}
	if c.RopeScale != 1 {
		hc.RopeScaling = &safetensors.RopeScaling{Type: "linear", Factor: c.RopeScale}
	}
	if maxShard <= 0 {
		maxShard = 1 << 62
	}
	if err := safetensors.WriteSharded(dir, ts, maxShard); err != nil {
		return err
	}
	return safetensors.WriteConfig(filepath.Join(dir, "config.json"), hc)
}

var hfArchitecture = map[string]string{"llama": "LlamaForCausalLM", "mistral": "MistralForCausalLM", "qwen2": "Qwen2ForCausalLM"}

// permuteRows reorders the rows of each head of a q or k projection from
// one RoPE pairing to another. With d = head dim, interleaved row 2j is
// halves row j and interleaved row 2j+1 is halves row j + d/2 (the
// permutation llama.cpp's converter applies to Hugging Face llama weights).
func permuteRows(w tensor.Matrix, heads, hd int, from, to tensor.RopeStyle) tensor.Matrix {
	if from == to {
		return w
	}
	rb := w.Type.RowBytes(w.Cols)
	out := w
	out.Data = make([]byte, len(w.Data))
	for h := 0; h < heads; h++ {
		for j := 0; j < hd/2; j++ {
			for s := 0; s < 2; s++ {
				inter, halves := h*hd+2*j+s, h*hd+j+s*hd/2
				src, dst := halves, inter
				if from == tensor.RopeInterleaved {
					src, dst = inter, halves
				}
				copy(out.Data[dst*rb:(dst+1)*rb], w.Data[src*rb:(src+1)*rb])
			}
		}
	}
	return out
}

func permuteVec(v []float32, heads, hd int, from, to tensor.RopeStyle) []float32 {
	m := permuteRows(tensor.Matrix{Type: tensor.F32, Rows: len(v), Cols: 1, Data: tensor.Bytes(v)}, heads, hd, from, to)
	return tensor.F32s(m.Data)
}

// Random returns a model of config c with weights drawn from N(0, 0.02²)
// (norm weights near 1), stored as dtype: for tests and benchmarks of shapes
// no pretrained file has.
func Random(c Config, dtype tensor.DType, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	mat := func(rows, cols int) tensor.Matrix {
		f := make([]float32, rows*cols)
		for i := range f {
			f[i] = float32(r.NormFloat64() * 0.02 * 8)
		}
		return tensor.Matrix{Type: dtype, Rows: rows, Cols: cols, Data: tensor.Quantize(nil, dtype, f)}
	}
	vec := func(n int, mean, std float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + std*r.NormFloat64())
		}
		return v
	}
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	m := &Model{Config: c, Embed: mat(c.Vocab, c.Dim), OutNorm: vec(c.Dim, 1, 0.1)}
	m.Output = m.Embed
	if !c.TiedOutput {
		m.Output = mat(c.Vocab, c.Dim)
	}
	for i := 0; i < c.Layers; i++ {
		l := Layer{
			AttnNorm: vec(c.Dim, 1, 0.1),
			Wq:       mat(q, c.Dim), Wk: mat(kv, c.Dim), Wv: mat(kv, c.Dim), Wo: mat(c.Dim, q),
			FFNNorm: vec(c.Dim, 1, 0.1),
			WGate:   mat(c.Hidden, c.Dim), WUp: mat(c.Hidden, c.Dim), WDown: mat(c.Dim, c.Hidden),
		}
		if c.QKVBias {
			l.Bq, l.Bk, l.Bv = vec(q, 0, 0.1), vec(kv, 0, 0.1), vec(kv, 0, 0.1)
		}
		if c.OBias {
			l.Bo = vec(c.Dim, 0, 0.1)
		}
		m.Layers = append(m.Layers, l)
	}
	m.File = FileInfo{Format: "random", DTypes: map[string]int{dtype.String(): 7*c.Layers + 1}}
	return m, m.check()
}
