package tensor

import "math"

// AttentionHead is one head of causal self-attention over one sequence of T
// positions, read from row-major activation buffers through strides: row t
// of q, out, dq and dout starts at t·QStride; row t of k, v, dk and dv at
// t·KVStride; lse[t·LSEStride] is row t's log-sum-exp. Slices passed to its
// methods start at the head's first element.
//
// Forward keeps only the log-sum-exp of each row; Backward recomputes the
// attention weights from it (as FlashAttention does), so training stores
// O(T) numbers per head instead of the T×T weights.
type AttentionHead struct {
	T, HeadDim                   int
	QStride, KVStride, LSEStride int
	Scale                        float32 // the score scale, usually 1/√HeadDim
	Window                       int     // attend to at most this many latest positions; 0: all
}

// first is the first key position query t sees.
func (a AttentionHead) first(t int) int {
	if a.Window > 0 {
		return max(0, t-a.Window+1)
	}
	return 0
}

// ForwardRef computes for every position t, with s_j = Scale·q[t]·k[j] over
// the visible keys j ≤ t, row by row (the reference of Forward):
//
//	out[t] = Σ_j softmax(s)_j · v[j]
//	lse[t] = log Σ_j exp(s_j)
//
// scores is scratch of at least T floats.
func (a AttentionHead) ForwardRef(out, lse, q, k, v, scores []float32) {
	hd := a.HeadDim
	for t := 0; t < a.T; t++ {
		j0 := a.first(t)
		qt := q[t*a.QStride : t*a.QStride+hd]
		sc := scores[j0 : t+1]
		m := float32(math.Inf(-1))
		for i := range sc {
			j := j0 + i
			sc[i] = a.Scale * DotF32(qt, k[j*a.KVStride:j*a.KVStride+hd])
			m = max(m, sc[i])
		}
		sum := ExpShifted(sc, sc, m)
		inv := float32(1 / sum)
		o := out[t*a.QStride : t*a.QStride+hd]
		clear(o)
		for i, p := range sc {
			j := j0 + i
			Axpy(p*inv, v[j*a.KVStride:j*a.KVStride+hd], o)
		}
		lse[t*a.LSEStride] = m + float32(math.Log(sum))
	}
}

// BackwardRef adds the gradients of the loss with respect to q, k and v
// into dq, dk and dv, given dout and the forward's out and lse, row by row
// (the reference of Backward). With p_j = exp(s_j − lse[t]) and
// D = dout[t]·out[t]:
//
//	ds_j   = p_j·(dout[t]·v[j] − D)
//	dq[t] += Scale·Σ_j ds_j·k[j]
//	dk[j] += Scale·ds_j·q[t]
//	dv[j] += p_j·dout[t]
func (a AttentionHead) BackwardRef(dq, dk, dv, dout, out, lse, q, k, v []float32) {
	hd := a.HeadDim
	for t := 0; t < a.T; t++ {
		j0 := a.first(t)
		qt := q[t*a.QStride : t*a.QStride+hd]
		dot := dout[t*a.QStride : t*a.QStride+hd]
		D := DotF32(dot, out[t*a.QStride:t*a.QStride+hd])
		l := lse[t*a.LSEStride]
		dqt := dq[t*a.QStride : t*a.QStride+hd]
		for j := j0; j <= t; j++ {
			kj := k[j*a.KVStride : j*a.KVStride+hd]
			p := Exp(a.Scale*DotF32(qt, kj) - l)
			ds := p * (DotF32(dot, v[j*a.KVStride:j*a.KVStride+hd]) - D)
			Axpy(p, dot, dv[j*a.KVStride:j*a.KVStride+hd])
			Axpy(a.Scale*ds, qt, dk[j*a.KVStride:j*a.KVStride+hd])
			Axpy(a.Scale*ds, kj, dqt)
		}
	}
}
