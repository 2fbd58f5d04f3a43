package llama

import (
	"flywheel/internal/tensor"
)

// FullWeights is a model prepared for full fine-tuning: every weight (the
// embedding, norms, projections, biases and an untied head) is an f32 view
// into one parameter slab, and a second model of the same layout views the
// gradient slab. The optimizer updates Params in place, so Model always
// computes with the current weights and can be saved with SaveGGUF or
// SaveHF.
type FullWeights struct {
	Model  *Model
	Grad   *Model // gradients, shaped like Model
	Params []float32
	Grads  []float32
}

// NewFullWeights copies m's weights, dequantized to f32, into one slab.
// The copy shares m's tokenizer; m itself is left as it was.
func NewFullWeights(m *Model) *FullWeights {
	n := 0
	visitWeights(m, func(w *tensor.Matrix, v *[]float32) {
		if w != nil {
			n += w.Rows * w.Cols
		} else {
			n += len(*v)
		}
	})
	f := &FullWeights{Params: make([]float32, n), Grads: make([]float32, n)}
	f.Model = viewModel(m, f.Params, true)
	f.Grad = viewModel(m, f.Grads, false)
	return f
}

// viewModel returns a model shaped like m whose weights are views into
// slab, in visitWeights order, filled with m's values when fill is set.
func viewModel(m *Model, slab []float32, fill bool) *Model {
	v := &Model{Config: m.Config, Tokenizer: m.Tokenizer, File: m.File, Embed: m.Embed, Output: m.Output,
		OutNorm: m.OutNorm, Layers: append([]Layer(nil), m.Layers...)}
	off := 0
	visitWeights(v, func(w *tensor.Matrix, vec *[]float32) {
		if w != nil {
			k := w.Rows * w.Cols
			dst := slab[off : off+k]
			if fill {
				tensor.Dequantize(dst, w.Type, w.Data, k)
			}
			*w = tensor.Matrix{Type: tensor.F32, Rows: w.Rows, Cols: w.Cols, Data: tensor.Bytes(dst)}
			off += k
			return
		}
		dst := slab[off : off+len(*vec)]
		if fill {
			copy(dst, *vec)
		}
		*vec = dst
		off += len(dst)
	})
	if v.Config.TiedOutput {
		v.Output = v.Embed
	}
	v.File.DTypes = map[string]int{"F32": len(v.Layers)*7 + 1}
	return v
}

// visitWeights calls fn for every trainable weight of m in a fixed order,
// with a matrix or a vector (the other nil). A tied head is not visited
// apart from the embedding.
func visitWeights(m *Model, fn func(w *tensor.Matrix, v *[]float32)) {
	mat := func(w *tensor.Matrix) { fn(w, nil) }
	vec := func(v *[]float32) {
		if *v != nil {
			fn(nil, v)
		}
	}
	mat(&m.Embed)
	if !m.Config.TiedOutput {
		mat(&m.Output)
	}
	vec(&m.OutNorm)
	for i := range m.Layers {
		l := &m.Layers[i]
		vec(&l.AttnNorm)
		mat(&l.Wq)
		mat(&l.Wk)
		mat(&l.Wv)
		vec(&l.Bq)
		vec(&l.Bk)
		vec(&l.Bv)
		mat(&l.Wo)
		vec(&l.Bo)
		vec(&l.FFNNorm)
		mat(&l.WGate)
		mat(&l.WUp)
		mat(&l.WDown)
	}
}

// VectorRanges lists the [start, end) ranges of the parameter slab that
// hold vectors (norm weights and biases), which weight decay leaves alone.
func (f *FullWeights) VectorRanges() [][2]int {
	var out [][2]int
	off := 0
	visitWeights(f.Model, func(w *tensor.Matrix, v *[]float32) {
		if w != nil {
			off += w.Rows * w.Cols
			return
		}
		out = append(out, [2]int{off, off + len(*v)})
		off += len(*v)
	})
	return out
}
