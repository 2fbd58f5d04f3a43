package tensor

import "math"

// The blocked forms of attention: the same arithmetic as ForwardRef and
// BackwardRef, but on blocks of attnBlock query rows at once, so the
// products q·kᵀ, p·v and their gradients run as MatMul calls. A block of
// rows i0..i1 needs keys up to i1 only (causality), which skips about half
// of the full T×T products.

// attnBlock is the number of query rows per block.
const attnBlock = 64

// AttentionScratch is the working memory of one worker's blocked
// attention; the zero value is ready and grows on demand.
type AttentionScratch struct {
	q, k, v, o, do []float32 // [T, HeadDim] the head's rows, gathered
	dq, dk, dv     []float32 // [T, HeadDim] gradients, accumulated
	s, ds          []float32 // [attnBlock, T] scores/weights and their gradients
	st             []float32 // [T, attnBlock] a transposed block
	t1, t2         []float32 // [HeadDim, T] transposed operands
	tmp            []float32 // [T, HeadDim] a product before it is added
}

func (w *AttentionScratch) size(T, hd int) {
	grow := func(b []float32, n int) []float32 {
		if cap(b) < n {
			return make([]float32, n)
		}
		return b[:n]
	}
	n := T * hd
	w.q, w.k, w.v, w.o, w.do = grow(w.q, n), grow(w.k, n), grow(w.v, n), grow(w.o, n), grow(w.do, n)
	w.dq, w.dk, w.dv, w.tmp = grow(w.dq, n), grow(w.dk, n), grow(w.dv, n), grow(w.tmp, n)
	w.s, w.ds, w.st = grow(w.s, attnBlock*T), grow(w.ds, attnBlock*T), grow(w.st, attnBlock*T)
	w.t1, w.t2 = grow(w.t1, n), grow(w.t2, n)
}

// gatherRows copies T rows of hd floats at stride into dst [T, hd].
func gatherRows(dst, src []float32, T, hd, stride int) {
	for t := 0; t < T; t++ {
		copy(dst[t*hd:(t+1)*hd], src[t*stride:t*stride+hd])
	}
}

// keyRange is the keys block [i0, i1) attends to: [first(i0), i1).
func (a AttentionHead) keyRange(i0, i1 int) (int, int) { return a.first(i0), i1 }

// blockWeights fills s [n, nk] (scores of rows i0.. against keys j0..j0+nk)
// with the attention weights exp(Scale·s − lse) of the visible keys and 0
// elsewhere. With lse nil it computes each row's log-sum-exp into lseOut
// first and normalises (the forward).
func (a AttentionHead) blockWeights(s []float32, i0, n, j0, nk int, lse []float32, lseOut []float32) {
	for r := 0; r < n; r++ {
		i := i0 + r
		row := s[r*nk : (r+1)*nk]
		lo, hi := a.first(i)-j0, i-j0+1 // visible keys, relative to j0
		vis := row[lo:hi]
		for c := range vis {
			vis[c] *= a.Scale
		}
		if lse == nil {
			m := maxOf(vis)
			sum := ExpShifted(vis, vis, m)
			inv := float32(1 / sum)
			for c := range vis {
				vis[c] *= inv
			}
			lseOut[i*a.LSEStride] = m + float32(math.Log(sum))
		} else {
			ExpShifted(vis, vis, lse[i*a.LSEStride])
		}
		clear(row[:lo])
		clear(row[hi:])
	}
}

// Forward computes what ForwardRef does, in blocks of query rows with
// matrix products; w is the worker's scratch.
func (a AttentionHead) Forward(out, lse, q, k, v []float32, w *AttentionScratch) {
	T, hd := a.T, a.HeadDim
	w.size(T, hd)
	gatherRows(w.q, q, T, hd, a.QStride)
	gatherRows(w.k, k, T, hd, a.KVStride)
	gatherRows(w.v, v, T, hd, a.KVStride)
	for i0 := 0; i0 < T; i0 += attnBlock {
		i1 := min(T, i0+attnBlock)
		n := i1 - i0
		j0, j1 := a.keyRange(i0, i1)
		nk := j1 - j0
		s := w.s[:n*nk]
		// s = q[i0:i1]·k[j0:j1]ᵀ
		MatMul(nil, s, f32Matrix(w.k[j0*hd:j1*hd], nk, hd), w.q[i0*hd:i1*hd], n)
		a.blockWeights(s, i0, n, j0, nk, nil, lse)
		// o = p·v[j0:j1]
		vt := w.t1[:hd*nk]
		Transpose(nil, vt, w.v[j0*hd:j1*hd], nk, hd)
		o := w.o[i0*hd : i1*hd]
		MatMul(nil, o, f32Matrix(vt, hd, nk), s, n)
		for r := 0; r < n; r++ {
			copy(out[(i0+r)*a.QStride:(i0+r)*a.QStride+hd], o[r*hd:(r+1)*hd])
		}
	}
}

// Backward computes what BackwardRef does (adding into dq, dk and dv), in
// blocks of query rows with matrix products; w is the worker's scratch.
func (a AttentionHead) Backward(dq, dk, dv, dout, out, lse, q, k, v []float32, w *AttentionScratch) {
	T, hd := a.T, a.HeadDim
	w.size(T, hd)
	gatherRows(w.q, q, T, hd, a.QStride)
	gatherRows(w.k, k, T, hd, a.KVStride)
	gatherRows(w.v, v, T, hd, a.KVStride)
	gatherRows(w.o, out, T, hd, a.QStride)
	gatherRows(w.do, dout, T, hd, a.QStride)
	clear(w.dk)
	clear(w.dv)
	for i0 := 0; i0 < T; i0 += attnBlock {
		i1 := min(T, i0+attnBlock)
		n := i1 - i0
		j0, j1 := a.keyRange(i0, i1)
		nk := j1 - j0
		qb, dob := w.q[i0*hd:i1*hd], w.do[i0*hd:i1*hd]
		kb, vb := w.k[j0*hd:j1*hd], w.v[j0*hd:j1*hd]
		// p = exp(Scale·q·kᵀ − lse)
		p := w.s[:n*nk]
		MatMul(nil, p, f32Matrix(kb, nk, hd), qb, n)
		a.blockWeights(p, i0, n, j0, nk, lse, nil)
		// dp = dout·vᵀ;  ds = p ⊙ (dp − D), D_i = dout_i·out_i
		ds := w.ds[:n*nk]
		MatMul(nil, ds, f32Matrix(vb, nk, hd), dob, n)
		for r := 0; r < n; r++ {
			i := i0 + r
			D := DotF32(dob[r*hd:(r+1)*hd], w.o[i*hd:(i+1)*hd])
			pr, dr := p[r*nk:(r+1)*nk], ds[r*nk:(r+1)*nk]
			for c := range dr {
				dr[c] = pr[c] * (dr[c] - D) * a.Scale
			}
		}
		// dq[i0:i1] = ds·k  (Scale folded into ds)
		kt := w.t1[:hd*nk]
		Transpose(nil, kt, kb, nk, hd)
		MatMul(nil, w.dq[i0*hd:i1*hd], f32Matrix(kt, hd, nk), ds, n)
		// dk[j0:j1] += dsᵀ·q[i0:i1]
		st, qt := w.st[:nk*n], w.t2[:hd*n]
		Transpose(nil, st, ds, n, nk)
		Transpose(nil, qt, qb, n, hd)
		tmp := w.tmp[:nk*hd]
		MatMul(nil, tmp, f32Matrix(qt, hd, n), st, nk)
		Add(w.dk[j0*hd:j1*hd], tmp)
		// dv[j0:j1] += pᵀ·dout[i0:i1]
		Transpose(nil, st, p, n, nk)
		Transpose(nil, qt, dob, n, hd)
		MatMul(nil, tmp, f32Matrix(qt, hd, n), st, nk)
		Add(w.dv[j0*hd:j1*hd], tmp)
	}
	for t := 0; t < T; t++ {
		Add(dq[t*a.QStride:t*a.QStride+hd], w.dq[t*hd:(t+1)*hd])
		Add(dk[t*a.KVStride:t*a.KVStride+hd], w.dk[t*hd:(t+1)*hd])
		Add(dv[t*a.KVStride:t*a.KVStride+hd], w.dv[t*hd:(t+1)*hd])
	}
}

// f32Matrix views f32 values as a rows × cols Matrix.
func f32Matrix(f []float32, rows, cols int) Matrix {
	return Matrix{Type: F32, Rows: rows, Cols: cols, Data: Bytes(f[:rows*cols])}
}
