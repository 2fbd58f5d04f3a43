package lora

import (
	"flywheel/internal/tensor"
)

// The adapted projection of module m, with s = Scale():
//
//	u  = x·Aᵀ          [T, r]
//	y += s · u·Bᵀ      [T, out]
//
// and its backward, given dy = ∂L/∂y:
//
//	∂B += s · dyᵀ·u    [out, r]
//	du  = s · dy·B     [T, r]
//	∂A += duᵀ·x        [r, in]
//	dx += du·A         [T, in]
//
// In training x is the projection's input after dropout (see Dropout).

// Forward adds m's contribution to y [T, m.Out] for input x [T, m.In] and
// leaves x·Aᵀ in u [T, m.Rank] for Backward.
//
// The products whose inner dimension is the rank (r, a handful) and those
// summing over the T rows run on tensor.MulStrided, which reads u, du, dy
// and x in place in whichever orientation the product needs.
func (a *Adapter) Forward(p *tensor.Pool, m *Module, y, x, u []float32, T int) {
	r, out := m.Rank, m.Out
	u = u[:T*r]
	tensor.MatMul(p, u, tensor.Matrix{Type: tensor.F32, Rows: r, Cols: m.In, Data: tensor.Bytes(a.A(m))}, x, T)
	// y += u·(s·Bᵀ)
	sbt := transposed(a.B(m), out, r, a.Config.Scale())
	eachRow(p, T, out*r, func(lo, hi int) {
		tensor.MulStrided(y[lo*out:], out, u[lo*r:], r, 1, sbt, out, hi-lo, out, r, true)
	})
}

// Backward adds m's parameter gradients into the gradient slab and, when dx
// is not nil, the input gradient into dx [T, m.In], given the forward's
// input x (after dropout), u and dy [T, m.Out]. seed is the dropout seed of
// the forward pass: the input gradient passes the same mask.
func (a *Adapter) Backward(p *tensor.Pool, m *Module, dx, dy, x, u []float32, T int, seed uint64) {
	r, in, out := m.Rank, m.In, m.Out
	s := a.Config.Scale()
	bt := transposed(a.B(m), out, r, 1)
	// ∂Bᵀ += s·uᵀ·dy (uᵀ read transposed from u [T, r])
	dbt := make([]float32, r*out)
	eachCols(p, out, T*r, func(lo, hi int) {
		tensor.MulStrided(dbt[lo:], out, u, 1, r, dy[lo:], out, r, hi-lo, T, false)
	})
	gb := a.GradB(m)
	for o := 0; o < out; o++ {
		for j := 0; j < r; j++ {
			gb[o*r+j] += s * dbt[j*out+o]
		}
	}
	// du[t,j] = s·dy[t]·Bᵀ[j]
	du := make([]float32, T*r)
	eachRow(p, T, out*r, func(lo, hi int) {
		for t := lo; t < hi; t++ {
			for j := 0; j < r; j++ {
				du[t*r+j] = s * tensor.DotF32(dy[t*out:(t+1)*out], bt[j*out:(j+1)*out])
			}
		}
	})
	// ∂A += duᵀ·x
	ga := a.GradA(m)
	eachCols(p, in, T*r, func(lo, hi int) {
		tensor.MulStrided(ga[lo:], in, du, 1, r, x[lo:], in, r, hi-lo, T, true)
	})
	if dx == nil {
		return
	}
	// dx += du·A (through the dropout mask)
	A := a.A(m)
	dxm := dx[:T*in]
	if a.Config.Dropout != 0 {
		dxm = make([]float32, T*in)
	}
	eachRow(p, T, in*r, func(lo, hi int) {
		tensor.MulStrided(dxm[lo*in:], in, du[lo*r:], r, 1, A, in, hi-lo, in, r, true)
	})
	if a.Config.Dropout != 0 {
		a.Dropout(dxm, dxm, m, seed)
		tensor.Add(dx[:T*in], dxm)
	}
}

// transposed returns the transpose [cols, rows] of x [rows, cols], times s.
func transposed(x []float32, rows, cols int, s float32) []float32 {
	t := make([]float32, rows*cols)
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			t[j*rows+i] = s * x[i*cols+j]
		}
	}
	return t
}

// eachCols runs fn over the columns [0, n) in ranges of whole 16-column
// tiles split across the pool, or on the caller when the work (n × per
// multiply-adds) is small.
func eachCols(p *tensor.Pool, n, per int, fn func(lo, hi int)) {
	const tile = 16
	eachRow(p, (n+tile-1)/tile, tile*per, func(lo, hi int) { fn(lo*tile, min(n, hi*tile)) })
}

// eachRow runs fn over [0, n) split across the pool, or on the caller when
// the work (n × per multiply-adds) is small.
func eachRow(p *tensor.Pool, n, per int, fn func(lo, hi int)) {
	if n*per < tensor.ParallelMin {
		p = nil
	}
	p.Run(n, func(_, lo, hi int) { fn(lo, hi) })
}

// Dropout writes x with m's dropout applied into dst and returns dst, or
// returns x itself when the adapter has no dropout. Element i is dropped
// (zeroed) with probability p = Config.Dropout, decided by a hash of seed,
// the module and i, and kept elements are scaled by 1/(1−p); the same seed
// gives the same mask, so backward recomputes it rather than storing it.
func (a *Adapter) Dropout(dst, x []float32, m *Module, seed uint64) []float32 {
	p := a.Config.Dropout
	if p == 0 {
		return x
	}
	threshold := uint64(p * (1 << 63) * 2)
	keep := float32(1 / (1 - p))
	base := seed ^ uint64(m.index+1)*0x9e3779b97f4a7c15
	dst = dst[:len(x)]
	for i, v := range x {
		if mix64(base+uint64(i)) < threshold {
			dst[i] = 0
		} else {
			dst[i] = v * keep
		}
	}
	return dst
}

// mix64 is splitmix64's finaliser: a bijective hash of a counter.
func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
