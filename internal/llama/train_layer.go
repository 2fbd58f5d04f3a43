package llama

import (
	"math"

	"flywheel/internal/lora"
	"flywheel/internal/tensor"
)

// layerActs is what the backward of one transformer block needs from its
// forward. N is the number of tokens in the batch.
type layerActs struct {
	x, xn   []float32 // [N, Dim] the block's input and its RMSNorm
	q       []float32 // [N, Heads·HeadDim] after RoPE
	k, v    []float32 // [N, KVHeads·HeadDim] (k after RoPE)
	lse     []float32 // [N, Heads] log-sum-exp of each attention row
	att     []float32 // [N, Heads·HeadDim] attention output
	x2, xn2 []float32 // [N, Dim] the stream after attention and its RMSNorm
	g, u, h []float32 // [N, Hidden] gate, up, SiLU(gate)⊙up

	lu [lora.NumTargets][]float32 // [N, rank] x·Aᵀ of each adapted projection
}

func (a *layerActs) size(c *Config, ad *lora.Adapter, N int, ownX bool) {
	D, q, kv, H := c.Dim, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.Hidden
	if ownX {
		a.x = grow(a.x, N*D)
	}
	a.xn, a.x2, a.xn2 = grow(a.xn, N*D), grow(a.x2, N*D), grow(a.xn2, N*D)
	a.q, a.att = grow(a.q, N*q), grow(a.att, N*q)
	a.k, a.v = grow(a.k, N*kv), grow(a.v, N*kv)
	a.lse = grow(a.lse, N*c.Heads)
	a.g, a.u, a.h = grow(a.g, N*H), grow(a.u, N*H), grow(a.h, N*H)
	if ad != nil {
		for _, t := range ad.Config.Targets {
			a.lu[t] = grow(a.lu[t], N*ad.Config.Rank)
		}
	}
}

// backwardBufs hold the gradients of one block's activations; every block
// reuses them.
type backwardBufs struct {
	dx         []float32 // [N, Dim] ∂L/∂ the residual stream
	dxn        []float32 // [N, Dim] ∂L/∂ a normalised stream
	dq, datt   []float32 // [N, Heads·HeadDim]
	dk, dv     []float32 // [N, KVHeads·HeadDim]
	dh, dg, du []float32 // [N, Hidden]
	drop       []float32 // [N, widest input] LoRA dropout scratch
}

func (bw *backwardBufs) size(c *Config, N int) {
	D, q, kv, H := c.Dim, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.Hidden
	bw.dx, bw.dxn = grow(bw.dx, N*D), grow(bw.dxn, N*D)
	bw.dq, bw.datt = grow(bw.dq, N*q), grow(bw.datt, N*q)
	bw.dk, bw.dv = grow(bw.dk, N*kv), grow(bw.dv, N*kv)
	bw.dh, bw.dg, bw.du = grow(bw.dh, N*H), grow(bw.dg, N*H), grow(bw.du, N*H)
	bw.drop = grow(bw.drop, N*max(D, q, H))
}

// layerForward runs block l on a.x into out [N, Dim], keeping activations in a:
//
//	xn  = RMSNorm(x)·attn_norm
//	q, k, v = xn·Wqᵀ, xn·Wkᵀ, xn·Wvᵀ (+ biases, + LoRA), RoPE on q and k
//	att = causal attention(q, k, v)
//	x2  = x + att·Woᵀ (+ bias, + LoRA)
//	xn2 = RMSNorm(x2)·ffn_norm
//	g, u = xn2·Wgateᵀ, xn2·Wupᵀ (+ LoRA);  h = SiLU(g)⊙u
//	out = x2 + h·Wdownᵀ (+ LoRA)
func (tr *Trainer) layerForward(l int, a *layerActs, b Batch, out []float32) {
	c, L := &tr.m.Config, &tr.m.Layers[l]
	N := tr.n
	var f layerPanels
	if lp := tr.panels(l); lp != nil {
		f = *lp
	}
	tr.rmsNorm(a.xn, a.x, L.AttnNorm)
	tr.project(a.q, L.Wq, f.wq, a.xn, N)
	tr.project(a.k, L.Wk, f.wk, a.xn, N)
	tr.project(a.v, L.Wv, f.wv, a.xn, N)
	if c.QKVBias {
		addBias(a.q, L.Bq, N)
		addBias(a.k, L.Bk, N)
		addBias(a.v, L.Bv, N)
	}
	tr.adaptForward(l, lora.Q, a, a.q, a.xn, b.Seed)
	tr.adaptForward(l, lora.K, a, a.k, a.xn, b.Seed)
	tr.adaptForward(l, lora.V, a, a.v, a.xn, b.Seed)
	tr.rope(a.q, c.Heads, false)
	tr.rope(a.k, c.KVHeads, false)
	tr.attentionForward(a, b)

	tr.project(a.x2, L.Wo, f.wo, a.att, N)
	if c.OBias {
		addBias(a.x2, L.Bo, N)
	}
	tr.adaptForward(l, lora.O, a, a.x2, a.att, b.Seed)
	tensor.Add(a.x2, a.x)

	tr.rmsNorm(a.xn2, a.x2, L.FFNNorm)
	tr.project(a.g, L.WGate, f.gate, a.xn2, N)
	tr.project(a.u, L.WUp, f.up, a.xn2, N)
	tr.adaptForward(l, lora.Gate, a, a.g, a.xn2, b.Seed)
	tr.adaptForward(l, lora.Up, a, a.u, a.xn2, b.Seed)
	tr.eachRow(c.Hidden, func(lo, hi int) { tensor.SwiGLU(a.h[lo:hi], a.g[lo:hi], a.u[lo:hi]) })
	tr.project(out, L.WDown, f.down, a.h, N)
	tr.adaptForward(l, lora.Down, a, out, a.h, b.Seed)
	tensor.Add(out, a.x2)
}

// layerBackward turns bw.dx = ∂L/∂(block l's output) into ∂L/∂(its input),
// adding the gradients of trained parameters on the way: each forward line
// of layerForward undone in reverse order.
func (tr *Trainer) layerBackward(l int, a *layerActs, b Batch) {
	c, L, p, bw := &tr.m.Config, &tr.m.Layers[l], tr.pool, &tr.bw
	N, D, H := tr.n, c.Dim, c.Hidden
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	G := tr.gradLayer(l)
	dx := bw.dx
	var f layerPanels
	if lp := tr.panels(l); lp != nil {
		f = *lp
	}

	// out = x2 + h·Wdownᵀ
	tr.inputGrad(bw.dh, L.WDown, f.down, dx, N, false)
	tr.adaptBackward(l, lora.Down, a, bw.dh, dx, a.h, b.Seed)
	// h = SiLU(g)⊙u
	tr.eachRow(H, func(lo, hi int) {
		tensor.SwiGLUBackward(bw.dg[lo:hi], bw.du[lo:hi], bw.dh[lo:hi], a.g[lo:hi], a.u[lo:hi])
	})
	// g, u = xn2·Wgateᵀ, xn2·Wupᵀ
	tr.inputGrad(bw.dxn, L.WGate, f.gate, bw.dg, N, false)
	tr.inputGrad(bw.dxn, L.WUp, f.up, bw.du, N, true)
	tr.adaptBackward(l, lora.Gate, a, bw.dxn, bw.dg, a.xn2, b.Seed)
	tr.adaptBackward(l, lora.Up, a, bw.dxn, bw.du, a.xn2, b.Seed)
	if G != nil {
		tensor.MatMulDW(p, tensor.F32s(G.WDown.Data), dx, a.h, N, D, H)
		tensor.MatMulDW(p, tensor.F32s(G.WGate.Data), bw.dg, a.xn2, N, H, D)
		tensor.MatMulDW(p, tensor.F32s(G.WUp.Data), bw.du, a.xn2, N, H, D)
	}
	// xn2 = RMSNorm(x2); the residual passes dx through unchanged
	tr.rmsNormBackward(dx, gradOf(G, func(g *Layer) []float32 { return g.FFNNorm }), bw.dxn, a.x2, L.FFNNorm)

	// x2 = x + att·Woᵀ
	tr.inputGrad(bw.datt, L.Wo, f.wo, dx, N, false)
	tr.adaptBackward(l, lora.O, a, bw.datt, dx, a.att, b.Seed)
	if G != nil {
		tensor.MatMulDW(p, tensor.F32s(G.Wo.Data), dx, a.att, N, D, q)
		if c.OBias {
			addColumnSums(G.Bo, dx, N)
		}
	}
	needInput := G != nil || l > tr.lowest
	if !needInput && tr.cfg.Adapter.Module(l, lora.Q) == nil && tr.cfg.Adapter.Module(l, lora.K) == nil &&
		tr.cfg.Adapter.Module(l, lora.V) == nil {
		return // nothing below this point is trained
	}
	// att = attention(q, k, v), then RoPE undone on dq and dk
	clear(bw.dq)
	clear(bw.dk)
	clear(bw.dv)
	tr.attentionBackward(a, b)
	tr.rope(bw.dq, c.Heads, true)
	tr.rope(bw.dk, c.KVHeads, true)
	// q, k, v = xn·Wqᵀ, xn·Wkᵀ, xn·Wvᵀ
	var dxn []float32
	if needInput {
		dxn = bw.dxn
		tr.inputGrad(dxn, L.Wq, f.wq, bw.dq, N, false)
		tr.inputGrad(dxn, L.Wk, f.wk, bw.dk, N, true)
		tr.inputGrad(dxn, L.Wv, f.wv, bw.dv, N, true)
	}
	tr.adaptBackward(l, lora.Q, a, dxn, bw.dq, a.xn, b.Seed)
	tr.adaptBackward(l, lora.K, a, dxn, bw.dk, a.xn, b.Seed)
	tr.adaptBackward(l, lora.V, a, dxn, bw.dv, a.xn, b.Seed)
	if G != nil {
		tensor.MatMulDW(p, tensor.F32s(G.Wq.Data), bw.dq, a.xn, N, q, D)
		tensor.MatMulDW(p, tensor.F32s(G.Wk.Data), bw.dk, a.xn, N, kv, D)
		tensor.MatMulDW(p, tensor.F32s(G.Wv.Data), bw.dv, a.xn, N, kv, D)
		if c.QKVBias {
			addColumnSums(G.Bq, bw.dq, N)
			addColumnSums(G.Bk, bw.dk, N)
			addColumnSums(G.Bv, bw.dv, N)
		}
	}
	if needInput {
		tr.rmsNormBackward(dx, gradOf(G, func(g *Layer) []float32 { return g.AttnNorm }), dxn, a.x, L.AttnNorm)
	}
}

// attentionForward fills a.att and a.lse from a.q, a.k, a.v.
func (tr *Trainer) attentionForward(a *layerActs, b Batch) {
	c := &tr.m.Config
	q, kv, hd, group := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.HeadDim, c.Heads/c.KVHeads
	tr.eachAttentionJob(b, func(worker, start, T, g int) {
		head := tr.attentionHead(T)
		kvOff := start*kv + g*hd
		for h := g * group; h < (g+1)*group; h++ {
			qOff := start*q + h*hd
			head.Forward(a.att[qOff:], a.lse[start*c.Heads+h:], a.q[qOff:], a.k[kvOff:], a.v[kvOff:], &tr.attn[worker])
		}
	})
}

// attentionBackward adds ∂L/∂q, ∂k, ∂v into bw.dq, dk, dv from bw.datt.
func (tr *Trainer) attentionBackward(a *layerActs, b Batch) {
	c, bw := &tr.m.Config, &tr.bw
	q, kv, hd, group := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.HeadDim, c.Heads/c.KVHeads
	tr.eachAttentionJob(b, func(worker, start, T, g int) {
		head := tr.attentionHead(T)
		kvOff := start*kv + g*hd
		for h := g * group; h < (g+1)*group; h++ {
			qOff := start*q + h*hd
			head.Backward(bw.dq[qOff:], bw.dk[kvOff:], bw.dv[kvOff:], bw.datt[qOff:], a.att[qOff:],
				a.lse[start*c.Heads+h:], a.q[qOff:], a.k[kvOff:], a.v[kvOff:], &tr.attn[worker])
		}
	})
}

func (tr *Trainer) attentionHead(T int) tensor.AttentionHead {
	c := &tr.m.Config
	return tensor.AttentionHead{T: T, HeadDim: c.HeadDim, QStride: c.Heads * c.HeadDim,
		KVStride: c.KVHeads * c.HeadDim, LSEStride: c.Heads,
		Scale: float32(1 / math.Sqrt(float64(c.HeadDim))), Window: c.SlidingWindow}
}

// adaptForward adds the adapter's contribution to projection t of layer l.
func (tr *Trainer) adaptForward(l int, t lora.Target, a *layerActs, y, x []float32, seed uint64) {
	ad := tr.cfg.Adapter
	m := ad.Module(l, t)
	if m == nil {
		return
	}
	xd := ad.Dropout(tr.bw.drop[:len(x)], x, m, seed)
	ad.Forward(tr.pool, m, y, xd, a.lu[t], tr.n)
}

// adaptBackward adds the gradients of projection t's adapter module of
// layer l, and its input gradient into dx unless dx is nil.
func (tr *Trainer) adaptBackward(l int, t lora.Target, a *layerActs, dx, dy, x []float32, seed uint64) {
	ad := tr.cfg.Adapter
	m := ad.Module(l, t)
	if m == nil {
		return
	}
	xd := ad.Dropout(tr.bw.drop[:len(x)], x, m, seed)
	ad.Backward(tr.pool, m, dx, dy, xd, a.lu[t], tr.n, seed)
}

// rmsNorm normalises each row of x [N, len(w)] into out.
func (tr *Trainer) rmsNorm(out, x, w []float32) {
	d, eps := len(w), tr.m.Config.NormEps
	tr.eachRow(d, func(lo, hi int) {
		for i := lo; i < hi; i += d {
			tensor.RMSNorm(out[i:i+d], x[i:i+d], w, eps)
		}
	})
}

// rmsNormBackward adds the input gradient of rmsNorm into dx and, when dw
// is not nil, the weight gradient into dw.
func (tr *Trainer) rmsNormBackward(dx, dw, dy, x, w []float32) {
	d, eps := len(w), tr.m.Config.NormEps
	if dw != nil { // rows would race on dw
		for i := 0; i < tr.n*d; i += d {
			tensor.RMSNormBackward(dx[i:i+d], dw, dy[i:i+d], x[i:i+d], w, eps)
		}
		return
	}
	tr.eachRow(d, func(lo, hi int) {
		for i := lo; i < hi; i += d {
			tensor.RMSNormBackward(dx[i:i+d], nil, dy[i:i+d], x[i:i+d], w, eps)
		}
	})
}

// eachRow runs fn over the batch's rows of width w split across the pool:
// fn gets element ranges [lo, hi) that start and end on row boundaries.
func (tr *Trainer) eachRow(w int, fn func(lo, hi int)) {
	p := tr.pool
	if tr.n*w < tensor.ParallelMin {
		p = nil
	}
	p.Run(tr.n, func(_, lo, hi int) { fn(lo*w, hi*w) })
}

// gradLayer is the gradient of layer l's weights in full fine-tuning, or nil.
func (tr *Trainer) gradLayer(l int) *Layer {
	if tr.grad == nil {
		return nil
	}
	return &tr.grad.Layers[l]
}

func gradOf(g *Layer, field func(*Layer) []float32) []float32 {
	if g == nil {
		return nil
	}
	return field(g)
}

// addColumnSums adds the column sums of x [N, len(b)] into b: the gradient
// of a bias added to every row.
func addColumnSums(b, x []float32, N int) {
	n := len(b)
	for t := 0; t < N; t++ {
		tensor.Add(b, x[t*n:(t+1)*n])
	}
}
