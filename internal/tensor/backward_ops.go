package tensor

import "math"

// Forward/backward pairs of the elementwise and normalisation steps of a
// LLaMA block and its loss, side by side. A backward function takes the
// forward's inputs and dy = ∂L/∂y and says in its comment whether it
// overwrites or adds into its outputs: gradients of values used twice (the
// residual stream, shared weights) add.

// RMSNormBackward is the backward of RMSNorm(y, x, weight, eps). With
// r = 1/√(mean(x²) + eps) and n = len(x):
//
//	dx += r·(w ⊙ dy) − (r³/n)·(Σ_i w_i·dy_i·x_i)·x
//	dw += r·(dy ⊙ x)            (skipped when dw is nil)
func RMSNormBackward(dx, dw, dy, x, weight []float32, eps float32) {
	n := len(x)
	var ss, dot float64
	for i, v := range x {
		ss += float64(v) * float64(v)
		dot += float64(weight[i]) * float64(dy[i]) * float64(v)
	}
	r := 1 / math.Sqrt(ss/float64(n)+float64(eps))
	c := float32(r * r * r * dot / float64(n))
	rf := float32(r)
	for i, v := range x {
		dx[i] += rf*weight[i]*dy[i] - c*v
	}
	if dw != nil {
		for i, v := range x {
			dw[i] += rf * dy[i] * v
		}
	}
}

// RopeBackward is the backward of Rope: rotation by an angle is undone by
// rotation by its negative, so dx = R(−θ)·dy, in place.
func RopeBackward(d, cos, sin []float32, style RopeStyle) {
	n := len(cos)
	switch style {
	case RopeInterleaved:
		for i := 0; i < n; i++ {
			a, b := d[2*i], d[2*i+1]
			d[2*i] = a*cos[i] + b*sin[i]
			d[2*i+1] = b*cos[i] - a*sin[i]
		}
	case RopeHalves:
		for i := 0; i < n; i++ {
			a, b := d[i], d[i+n]
			d[i] = a*cos[i] + b*sin[i]
			d[i+n] = b*cos[i] - a*sin[i]
		}
	}
}

// SwiGLU sets h = SiLU(g) ⊙ u, the gated activation of the LLaMA
// feed-forward block, keeping g for the backward.
func SwiGLU(h, g, u []float32) {
	h = h[:len(g)]
	copy(h, g)
	SwiGLUInPlace(h, u)
}

// SwiGLUBackward is the backward of SwiGLU; it overwrites dg and du. With
// σ = sigmoid(g): SiLU'(g) = σ·(1 + g·(1 − σ)), so
//
//	dg = dh ⊙ u ⊙ σ(1 + g(1 − σ))
//	du = dh ⊙ g·σ
//
// dg and du may alias dh's storage only if they are dh itself (one of them).
func SwiGLUBackward(dg, du, dh, g, u []float32) {
	u, dh, dg, du = u[:len(g)], dh[:len(g)], dg[:len(g)], du[:len(g)]
	var e [256]float32 // e^−g of a chunk, by the vector exponential
	for lo := 0; lo < len(g); lo += len(e) {
		gs := g[lo:min(lo+len(e), len(g))]
		es := e[:len(gs)]
		for i, x := range gs {
			es[i] = -x
		}
		expInPlace(es)
		for i, x := range gs {
			s := 1 / (1 + es[i])
			d := dh[lo+i]
			dg[lo+i], du[lo+i] = d*u[lo+i]*s*(1+x*(1-s)), d*x*s
		}
	}
}

// expInPlace sets x[i] = e^x[i].
func expInPlace(x []float32) {
	n := 0
	if useAVX2 {
		n = len(x) &^ 7
		if n > 0 {
			expF32AVX2(&x[0], n)
		}
	}
	for i := n; i < len(x); i++ {
		x[i] = Exp(x[i])
	}
}

// CrossEntropy returns −log softmax(logits)[target].
func CrossEntropy(logits []float32, target int) float64 {
	m := maxOf(logits)
	e := getScratch(len(logits))
	sum := ExpShifted(*e, logits, m)
	putScratch(e)
	return math.Log(sum) - float64(logits[target]-m)
}

// SoftmaxCrossEntropy returns −log softmax(logits)[target] and replaces
// logits with that loss's gradient times scale:
//
//	logits ← scale·(softmax(logits) − onehot(target))
func SoftmaxCrossEntropy(logits []float32, target int, scale float32) float64 {
	m := maxOf(logits)
	lt := logits[target] - m
	sum := ExpShifted(logits, logits, m)
	inv := float32(float64(scale) / sum)
	scaleBy(inv, logits)
	logits[target] -= scale
	return math.Log(sum) - float64(lt)
}

// maxOf returns the largest element (−Inf for none); with AVX2 in eight-wide
// VMAXPS lanes, else maxOfGo.
func maxOf(x []float32) float32 {
	if !useAVX2 || len(x) < 8 {
		return maxOfGo(x)
	}
	n := len(x) &^ 7
	return max(maxF32AVX2(&x[0], n), maxOfGo(x[n:]))
}

// maxOfGo is maxOf in Go, in four independent lanes so the comparisons
// overlap: the reference of the AVX2 form.
func maxOfGo(x []float32) float32 {
	inf := float32(math.Inf(-1))
	m0, m1, m2, m3 := inf, inf, inf, inf
	i := 0
	for ; i+4 <= len(x); i += 4 {
		v := x[i : i+4 : i+4]
		if v[0] > m0 {
			m0 = v[0]
		}
		if v[1] > m1 {
			m1 = v[1]
		}
		if v[2] > m2 {
			m2 = v[2]
		}
		if v[3] > m3 {
			m3 = v[3]
		}
	}
	for ; i < len(x); i++ {
		if x[i] > m0 {
			m0 = x[i]
		}
	}
	return max(m0, m1, m2, m3)
}

// scaleBy sets x[i] *= a.
func scaleBy(a float32, x []float32) {
	n := 0
	if useAVX2 {
		n = len(x) &^ 7
		if n > 0 {
			scaleF32AVX2(a, &x[0], n)
		}
	}
	for i := n; i < len(x); i++ {
		x[i] *= a
	}
}
