package train

import (
	"fmt"
	"math"
)

// AdamW is torch.optim.AdamW (decoupled weight decay, bias correction)
// over one slab of parameters: for step t (from 1), learning rate lr,
//
//	p ← p·(1 − lr·wd)                      (decayed elements only)
//	m ← β1·m + (1 − β1)·g
//	v ← β2·v + (1 − β2)·g²
//	p ← p − lr/(1 − β1^t) · m / (√v/√(1 − β2^t) + ε)
//
// M and V are the moments, in the parameters' layout.
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	// NoDecay lists [start, end) ranges of the slab exempt from weight
	// decay (norm weights and biases in full fine-tuning).
	NoDecay [][2]int
	M, V    []float32
	T       int // steps taken
}

// NewAdamW returns an optimizer for n parameters.
func NewAdamW(n int, beta1, beta2, eps, wd float64) *AdamW {
	return &AdamW{Beta1: beta1, Beta2: beta2, Eps: eps, WeightDecay: wd,
		M: make([]float32, n), V: make([]float32, n)}
}

// Step updates params with grads at learning rate lr.
func (o *AdamW) Step(params, grads []float32, lr float64) {
	o.T++
	bc1 := 1 - math.Pow(o.Beta1, float64(o.T))
	bc2 := 1 - math.Pow(o.Beta2, float64(o.T))
	b1, b2 := float32(o.Beta1), float32(o.Beta2)
	step := float32(lr / bc1)
	sq2 := float32(math.Sqrt(bc2))
	eps := float32(o.Eps)
	if o.WeightDecay != 0 {
		decay := float32(1 - lr*o.WeightDecay)
		lo := 0
		for _, r := range append(o.NoDecay, [2]int{len(params), len(params)}) {
			for i := lo; i < r[0]; i++ {
				params[i] *= decay
			}
			lo = r[1]
		}
	}
	m, v := o.M[:len(params)], o.V[:len(params)]
	for i, g := range grads[:len(params)] {
		m[i] = b1*m[i] + (1-b1)*g
		v[i] = b2*v[i] + (1-b2)*g*g
		params[i] -= step * (m[i] / (float32(math.Sqrt(float64(v[i])))/sq2 + eps))
	}
}

// ClipGradNorm scales grads so their global L2 norm is at most maxNorm
// (torch.nn.utils.clip_grad_norm_: coef = min(1, maxNorm/(norm + 1e-6))),
// and returns the norm before clipping and the coefficient applied.
// maxNorm ≤ 0 only measures.
func ClipGradNorm(grads []float32, maxNorm float64) (norm, coef float64) {
	var ss float64
	for _, g := range grads {
		ss += float64(g) * float64(g)
	}
	norm = math.Sqrt(ss)
	coef = 1
	if maxNorm > 0 {
		coef = min(1, maxNorm/(norm+1e-6))
	}
	if coef < 1 {
		c := float32(coef)
		for i := range grads {
			grads[i] *= c
		}
	}
	return norm, coef
}

// Schedule is a learning-rate schedule: linear warmup from 0 over Warmup
// steps, then constant, linear or cosine decay from LR to LRMin at Total.
type Schedule struct {
	Kind   string // "constant", "linear" or "cosine"
	LR     float64
	LRMin  float64
	Warmup int
	Total  int
}

// ParseSchedule checks a schedule name.
func ParseSchedule(name string) (string, error) {
	switch name {
	case "constant", "linear", "cosine":
		return name, nil
	}
	return "", fmt.Errorf("unknown schedule %q (want constant, linear or cosine)", name)
}

// At returns the learning rate of optimizer step t (from 1):
//
//	t ≤ warmup: LR·t/warmup
//	otherwise, with p = (t − warmup)/(total − warmup):
//	  constant LR; linear LRMin + (LR − LRMin)(1 − p);
//	  cosine LRMin + (LR − LRMin)·½(1 + cos πp)
func (s Schedule) At(t int) float64 {
	if s.Warmup > 0 && t <= s.Warmup {
		return s.LR * float64(t) / float64(s.Warmup)
	}
	p := float64(t-s.Warmup) / float64(max(1, s.Total-s.Warmup))
	p = min(p, 1)
	switch s.Kind {
	case "linear":
		return s.LRMin + (s.LR-s.LRMin)*(1-p)
	case "cosine":
		return s.LRMin + (s.LR-s.LRMin)*0.5*(1+math.Cos(math.Pi*p))
	}
	return s.LR
}
