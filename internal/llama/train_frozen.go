package llama

import "flywheel/internal/tensor"

// A frozen projection y = x·Wᵀ is multiplied twice per step: forward by W
// and, for the input gradient dx = dy·W, by Wᵀ. For weights stored as F32,
// F16 or BF16 the trainer lays out both once, on first use, as the matrix
// kernel's panels (tensor.Panels): no step then packs or transposes a
// weight, and input gradients are added into dx by the kernel itself. The
// panels are f32 and bounded by maxPanels; beyond it, and for quantized
// weights (a Q4_0 base would grow eight-fold in f32, against the point of
// training over a quantized base), each product works from the stored
// weights (MatMulTiled, MatMulDX).

// maxPanels bounds the memory the frozen panels may take.
const maxPanels = 2 << 30

// frozen is one frozen weight laid out for both products.
type frozen struct {
	fwd tensor.Panels // W
	bwd tensor.Panels // Wᵀ
}

// layerPanels holds one layer's frozen weights as panels.
type layerPanels struct {
	wq, wk, wv, wo, gate, up, down *frozen
}

// frozenBytes is the memory frozen panels of w take.
func frozenBytes(w tensor.Matrix) int {
	return tensor.PanelBytes(w.Rows, w.Cols) + tensor.PanelBytes(w.Cols, w.Rows)
}

// freeze lays out w for both products.
func (tr *Trainer) freeze(w tensor.Matrix) *frozen {
	return &frozen{fwd: tensor.PackPanels(tr.pool, w), bwd: tensor.PackPanelsT(tr.pool, w)}
}

// planPanels decides, once, which frozen weights get panels: every layer's
// projections when all are F32/F16/BF16 and fit the budget, then the output
// head when what is left holds it.
func (tr *Trainer) planPanels() {
	if tr.panelsPlanned {
		return
	}
	tr.panelsPlanned = true
	if tr.grad != nil {
		return // the weights are trained
	}
	budget, layers := maxPanels, 0
	for i := range tr.m.Layers {
		for _, w := range tr.m.Layers[i].projections() {
			if t := w.Type; t != tensor.F32 && t != tensor.F16 && t != tensor.BF16 {
				layers = budget + 1
			}
			layers += frozenBytes(w)
		}
	}
	if layers <= budget {
		budget -= layers
		tr.layerPanels = make([]*layerPanels, len(tr.m.Layers))
	}
	tr.headPanels = frozenBytes(tr.m.Output) <= budget
}

// panels returns layer l's frozen panels, building them on first use; nil
// when the layer's products work from the stored weights.
func (tr *Trainer) panels(l int) *layerPanels {
	tr.planPanels()
	if tr.layerPanels == nil {
		return nil
	}
	if tr.layerPanels[l] == nil {
		L := &tr.m.Layers[l]
		tr.layerPanels[l] = &layerPanels{
			wq: tr.freeze(L.Wq), wk: tr.freeze(L.Wk), wv: tr.freeze(L.Wv), wo: tr.freeze(L.Wo),
			gate: tr.freeze(L.WGate), up: tr.freeze(L.WUp), down: tr.freeze(L.WDown),
		}
	}
	return tr.layerPanels[l]
}

// outputPanels returns the frozen output head as panels, building them on
// first use; nil when its products work from the stored weights.
func (tr *Trainer) outputPanels() *frozen {
	tr.planPanels()
	if tr.headPanels && tr.head.out == nil {
		tr.head.out = tr.freeze(tr.m.Output)
	}
	return tr.head.out
}

// projections are the layer's seven weight matrices.
func (L *Layer) projections() []tensor.Matrix {
	return []tensor.Matrix{L.Wq, L.Wk, L.Wv, L.Wo, L.WGate, L.WUp, L.WDown}
}

// project sets y = x·Wᵀ for the n rows of x: through f, W's panels, when
// there are any.
func (tr *Trainer) project(y []float32, w tensor.Matrix, f *frozen, x []float32, n int) {
	if f != nil {
		tensor.MatMulPanels(tr.pool, y, f.fwd, x, n, false)
		return
	}
	tensor.MatMulTiled(tr.pool, y, w, x, n)
}

// inputGrad sets dx = dy·W (or adds it, with add) for the n rows of dy:
// through f, W's panels, when there are any, else with MatMulDX.
func (tr *Trainer) inputGrad(dx []float32, w tensor.Matrix, f *frozen, dy []float32, n int, add bool) {
	if f != nil {
		tensor.MatMulPanels(tr.pool, dx, f.bwd, dy, n, add)
		return
	}
	if !add {
		clear(dx[:n*w.Cols])
	}
	tensor.MatMulDX(tr.pool, dx, w, dy, n)
}
