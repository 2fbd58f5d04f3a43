package llama

import "flywheel/internal/tensor"

// The input gradient of a frozen projection y = x·Wᵀ is dx = dy·W, which
// the matrix kernel computes as a product with Wᵀ. MatMulDX transposes W
// anew on every backward pass; for weights stored as F32, F16 or BF16 the
// trainer instead keeps each frozen layer weight transposed (in its own
// type, the same values) once, when they fit maxTransposed bytes. Quantized
// weights are never copied: a transposed Q4_0 matrix would be eight times
// larger in f32, against the point of training over a quantized base.

// maxTransposed bounds the memory the transposed layer weights may take.
const maxTransposed = 1 << 30

// layerT holds one layer's frozen weights transposed ([in, out]).
type layerT struct {
	wq, wk, wv, wo, gate, up, down tensor.Matrix
}

// transposed returns layer l's transposed weights, building them all on
// first use; nil when the weights are trained, quantized or too large.
func (tr *Trainer) transposed(l int) *layerT {
	if tr.grad != nil || tr.noTranspose {
		return nil
	}
	if tr.wT == nil {
		var bytes int
		for i := range tr.m.Layers {
			for _, w := range tr.m.Layers[i].projections() {
				if t := w.Type; t != tensor.F32 && t != tensor.F16 && t != tensor.BF16 {
					tr.noTranspose = true
					return nil
				}
				bytes += len(w.Data)
			}
		}
		if bytes > maxTransposed {
			tr.noTranspose = true
			return nil
		}
		tr.wT = make([]*layerT, len(tr.m.Layers))
	}
	if tr.wT[l] == nil {
		L, p := &tr.m.Layers[l], tr.pool
		tr.wT[l] = &layerT{
			wq: tensor.TransposeMatrix(p, L.Wq), wk: tensor.TransposeMatrix(p, L.Wk), wv: tensor.TransposeMatrix(p, L.Wv),
			wo: tensor.TransposeMatrix(p, L.Wo), gate: tensor.TransposeMatrix(p, L.WGate), up: tensor.TransposeMatrix(p, L.WUp),
			down: tensor.TransposeMatrix(p, L.WDown),
		}
	}
	return tr.wT[l]
}

// projections are the layer's seven weight matrices.
func (L *Layer) projections() []tensor.Matrix {
	return []tensor.Matrix{L.Wq, L.Wk, L.Wv, L.Wo, L.WGate, L.WUp, L.WDown}
}

// inputGrad sets dx = dy·W (or adds it, with add) for the N rows of the
// batch: through wT, W's cached transpose, when there is one, else with
// MatMulDX.
func (tr *Trainer) inputGrad(dx []float32, w, wT tensor.Matrix, dy []float32, add bool) {
	p, N := tr.pool, tr.n
	switch {
	case wT.Data == nil:
		if !add {
			clear(dx[:N*w.Cols])
		}
		tensor.MatMulDX(p, dx, w, dy, N)
	case !add:
		tensor.MatMulTiled(p, dx[:N*w.Cols], wT, dy, N)
	default:
		part := grow(tr.dxPart, N*w.Cols)
		tr.dxPart = part
		tensor.MatMulTiled(p, part, wT, dy, N)
		tensor.Add(dx[:N*w.Cols], part)
	}
}
