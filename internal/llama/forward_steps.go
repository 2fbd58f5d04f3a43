package llama

import "flywheel/internal/tensor"

// The element-wise steps of a layer (norms, rotary embeddings, cache writes,
// the gated activation, residual adds) are split over the pool's workers
// when a prompt makes them long enough; each token's arithmetic is the same
// as on one worker, so the results do not depend on the thread count.

// step is one element-wise step of a layer over the batch.
type step int

const (
	stepAttnNorm step = iota // xb[t] = RMSNorm(x[t]) · attention norm
	stepRope                 // rotate q[t], k[t] by position
	stepCache                // append k, v to the cache (split by kv dimension)
	stepFFNNorm              // x[t] += xb[t]; xb[t] = RMSNorm(x[t]) · FFN norm
	stepSwiGLU               // g = SiLU(g) ⊙ u (split in blocks of 8 values)
	stepResidual             // x[t] += xb[t]
)

// stepTask is the step being run, kept in the State so that running one
// allocates nothing.
type stepTask struct {
	s              *State
	step           step
	L              *Layer
	T              int
	layerK, layerV []float32
}

// run performs step over the batch of T tokens, on the pool when the batch
// holds at least tensor.ParallelMin values.
func (s *State) run(st step, L *Layer, T int, layerK, layerV []float32) {
	c := &s.m.Config
	s.steps = stepTask{s: s, step: st, L: L, T: T, layerK: layerK, layerV: layerV}
	n := T
	switch st {
	case stepCache:
		n = c.KVHeads * c.HeadDim
	case stepSwiGLU:
		n = (T*c.Hidden + 7) / 8
	}
	pool := s.pool
	if T*c.Dim < tensor.ParallelMin {
		pool = nil
	}
	pool.RunTask(n, &s.steps)
}

func (a *stepTask) Run(_, lo, hi int) {
	s, c, L := a.s, &a.s.m.Config, a.L
	D := c.Dim
	switch a.step {
	case stepAttnNorm:
		for t := lo; t < hi; t++ {
			tensor.RMSNorm(s.xb[t*D:(t+1)*D], s.x[t*D:(t+1)*D], L.AttnNorm, c.NormEps)
		}
	case stepRope:
		s.rope(lo, hi)
	case stepCache:
		kv := c.KVHeads * c.HeadDim
		for i := lo; i < hi; i++ { // i = head·HeadDim + d
			k := a.layerK[i*s.ctx+s.pos : i*s.ctx+s.pos+a.T]
			v := a.layerV[i*s.ctx+s.pos : i*s.ctx+s.pos+a.T]
			for t := range k {
				k[t] = s.k[t*kv+i]
				v[t] = s.v[t*kv+i]
			}
		}
	case stepFFNNorm:
		for t := lo; t < hi; t++ {
			x := s.x[t*D : (t+1)*D]
			tensor.Add(x, s.xb[t*D:(t+1)*D])
			tensor.RMSNorm(s.xb[t*D:(t+1)*D], x, L.FFNNorm, c.NormEps)
		}
	case stepSwiGLU:
		n := a.T * c.Hidden
		g, u := s.hGate[lo*8:min(hi*8, n)], s.hUp[lo*8:min(hi*8, n)]
		tensor.SwiGLUInPlace(g, u)
	case stepResidual:
		tensor.Add(s.x[lo*D:hi*D], s.xb[lo*D:hi*D])
	}
}

// rope rotates the query and key heads of tokens lo..hi by their positions.
func (s *State) rope(lo, hi int) {
	c := &s.m.Config
	q, kv, hd, half := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim, c.HeadDim, c.RopeDims/2
	for t := lo; t < hi; t++ {
		cos, sin := s.cos[t*half:(t+1)*half], s.sin[t*half:(t+1)*half]
		for h := 0; h < c.Heads; h++ {
			tensor.Rope(s.q[t*q+h*hd:t*q+(h+1)*hd], cos, sin, c.RopeStyle)
		}
		for h := 0; h < c.KVHeads; h++ {
			tensor.Rope(s.k[t*kv+h*hd:t*kv+(h+1)*hd], cos, sin, c.RopeStyle)
		}
	}
}
