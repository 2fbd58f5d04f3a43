package llama

import (
	"flywheel/internal/tensor"
)

// The scored rows go through the output head in chunks of at most
// headRows rows (which keeps them in cache while the head's rows pass) and
// headBudget logits (64 MiB of f32).
const (
	headRows   = 256
	headBudget = 1 << 24
)

// headState holds the output head's buffers. Only scored positions pass
// through the head: prompt tokens of SFT examples cost no logits.
type headState struct {
	xn     []float32 // [N, Dim] RMSNorm of the final residual stream
	dxn    []float32 // [N, Dim] its gradient (zero on unscored rows)
	rows   []int     // scored positions
	xs     []float32 // [chunk, Dim] the chunk's rows of xn
	dxs    []float32 // [chunk, Dim] their gradient
	logits []float32 // [chunk, Vocab] logits, then their gradient
	out    *frozen   // the frozen head as panels (see outputPanels)
}

// prepareHead normalises the final stream and lists the scored rows.
func (tr *Trainer) prepareHead(b Batch) (chunk int) {
	c, h := &tr.m.Config, &tr.head
	D := c.Dim
	h.xn = grow(h.xn, tr.n*D)
	tr.rmsNorm(h.xn, tr.xLastStream(), tr.m.OutNorm)
	h.rows = h.rows[:0]
	for i, t := range b.Targets {
		if t != IgnoreIndex {
			h.rows = append(h.rows, i)
		}
	}
	chunk = max(1, min(len(h.rows), headRows, headBudget/c.Vocab))
	h.xs, h.dxs = grow(h.xs, chunk*D), grow(h.dxs, chunk*D)
	h.logits = grow(h.logits, chunk*c.Vocab)
	return chunk
}

// xLastStream is the residual stream after the last layer.
func (tr *Trainer) xLastStream() []float32 { return tr.layerInput(tr.m.Config.Layers) }

// headLoss returns the summed cross-entropy of the scored rows.
func (tr *Trainer) headLoss(b Batch) float64 {
	chunk := tr.prepareHead(b)
	var loss float64
	tr.eachHeadChunk(b, chunk, func(rows []int, logits []float32) {
		losses := make([]float64, len(rows))
		V := tr.m.Config.Vocab
		tr.pool.Run(len(rows), func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				losses[i] = tensor.CrossEntropy(logits[i*V:(i+1)*V], b.Targets[rows[i]])
			}
		})
		for _, l := range losses {
			loss += l
		}
	})
	return loss
}

// headBackward computes the loss of the scored rows and its gradient, times
// scale, down to bw.dx = ∂L/∂(final residual stream); it returns the
// summed loss.
func (tr *Trainer) headBackward(b Batch, scale float32) float64 {
	c, h, p := &tr.m.Config, &tr.head, tr.pool
	D, V := c.Dim, c.Vocab
	chunk := tr.prepareHead(b)
	h.dxn = grow(h.dxn, tr.n*D)
	clear(h.dxn)
	out := tr.outputPanels()
	var loss float64
	tr.eachHeadChunk(b, chunk, func(rows []int, logits []float32) {
		n := len(rows)
		losses := make([]float64, n)
		tr.pool.Run(n, func(_, lo, hi int) {
			for i := lo; i < hi; i++ {
				losses[i] = tensor.SoftmaxCrossEntropy(logits[i*V:(i+1)*V], b.Targets[rows[i]], scale)
			}
		})
		for _, l := range losses {
			loss += l
		}
		// logits = xs·Outputᵀ: dxs = dlogits·Output, dOutput += dlogitsᵀ·xs
		dxs := h.dxs[:n*D]
		tr.inputGrad(dxs, tr.m.Output, out, logits, n, false)
		if tr.grad != nil {
			tensor.MatMulDW(p, tensor.F32s(tr.grad.Output.Data), logits, h.xs[:n*D], n, V, D)
		}
		for i, r := range rows {
			copy(h.dxn[r*D:(r+1)*D], dxs[i*D:(i+1)*D])
		}
	})
	// xn = RMSNorm(x)·out_norm
	dx := tr.bw.dx
	clear(dx)
	var dw []float32
	if tr.grad != nil {
		dw = tr.grad.OutNorm
	}
	tr.rmsNormBackward(dx, dw, h.dxn, tr.xLastStream(), tr.m.OutNorm)
	return loss
}

// eachHeadChunk computes the logits of the scored rows, chunk rows at a
// time, and hands each chunk to fn.
func (tr *Trainer) eachHeadChunk(b Batch, chunk int, fn func(rows []int, logits []float32)) {
	h, D, V := &tr.head, tr.m.Config.Dim, tr.m.Config.Vocab
	for lo := 0; lo < len(h.rows); lo += chunk {
		rows := h.rows[lo:min(lo+chunk, len(h.rows))]
		n := len(rows)
		for i, r := range rows {
			copy(h.xs[i*D:(i+1)*D], h.xn[r*D:(r+1)*D])
		}
		logits := h.logits[:n*V]
		tr.project(logits, tr.m.Output, tr.outputPanels(), h.xs[:n*D], n)
		fn(rows, logits)
	}
}

// backward runs the blocks' backward from bw.dx (set by headBackward) down
// to the embedding.
func (tr *Trainer) backward(b Batch) {
	c := &tr.m.Config
	for l := c.Layers - 1; l >= tr.lowest; l-- {
		a := tr.actsFor(l)
		if tr.cfg.Recompute { // refill a from the kept input; the output is not needed again
			tr.layerForward(l, a, b, tr.bw.dxn)
		}
		tr.layerBackward(l, a, b)
	}
	if tr.grad != nil { // x = embedding rows of the tokens
		D := c.Dim
		g := tensor.F32s(tr.grad.Embed.Data)
		for t, id := range b.Tokens {
			tensor.Add(g[id*D:(id+1)*D], tr.bw.dx[t*D:(t+1)*D])
		}
	}
}
