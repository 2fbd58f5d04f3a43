package llama

import (
	"fmt"
	"math"

	"flywheel/internal/lora"
	"flywheel/internal/tensor"
)

// State is one sequence being decoded: its KV cache and activation buffers.
// It is not safe for concurrent use; one Model serves many States.
type State struct {
	m    *Model
	pool *tensor.Pool
	ctx  int // cache capacity in positions
	pos  int // positions filled

	// The cache is stored transposed, position last, so attention runs along
	// positions in long vector operations: [Layers, KVHeads, HeadDim, ctx].
	kCache, vCache []float32

	// activations of a batch of T tokens, grown on demand
	t          int
	x, xb      []float32 // [T, Dim] residual stream and its normalised copy
	q          []float32 // [T, Heads·HeadDim]
	k, v       []float32 // [T, KVHeads·HeadDim]
	att        []float32 // [T, Heads·HeadDim] attention output
	hGate, hUp []float32 // [T, Hidden]
	logits     []float32 // [T, Vocab] (only the rows asked for)
	cos, sin   []float32 // [T, RopeDims/2]
	scores     []float32 // [threads, ctx] attention weights per worker
	invFreq    []float64 // [RopeDims/2] θ_i = base^(−2i/RopeDims)
	attn       attentionTask
	steps      stepTask
	lora       loraHook // an adapter applied after each projection (forward_lora.go)
}

// NewState makes a sequence with room for ctx positions (≤ 0: the model's
// context length) computing on pool (nil: the calling goroutine).
func (m *Model) NewState(ctx int, pool *tensor.Pool) *State {
	c := &m.Config
	if ctx <= 0 {
		ctx = c.ContextLen
	}
	kv := c.KVHeads * c.HeadDim
	s := &State{
		m: m, pool: pool, ctx: ctx,
		kCache:  make([]float32, c.Layers*ctx*kv),
		vCache:  make([]float32, c.Layers*ctx*kv),
		scores:  make([]float32, pool.Threads()*ctx),
		invFreq: make([]float64, c.RopeDims/2),
	}
	for i := range s.invFreq {
		s.invFreq[i] = math.Pow(c.RopeBase, -2*float64(i)/float64(c.RopeDims))
	}
	return s
}

// Pos is the number of positions already in the cache.
func (s *State) Pos() int { return s.pos }

// Context is the cache capacity in positions.
func (s *State) Context() int { return s.ctx }

// Reset empties the cache so the state starts a new sequence.
func (s *State) Reset() { s.pos = 0 }

// Truncate drops cached positions from n on, so a sequence can be re-decoded
// from a shared prefix.
func (s *State) Truncate(n int) {
	if n < s.pos {
		s.pos = max(n, 0)
	}
}

// Forward feeds tokens (a whole prompt at once, or one token while decoding)
// at the next positions and returns the logits [Vocab] after the last one.
// The slice is reused by the next call.
func (s *State) Forward(tokens []int) ([]float32, error) {
	out, err := s.forward(tokens, false)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ForwardAll is Forward returning the logits of every position: [T, Vocab].
func (s *State) ForwardAll(tokens []int) ([]float32, error) {
	return s.forward(tokens, true)
}

func (s *State) grow(T int) {
	if T <= s.t {
		return
	}
	c := &s.m.Config
	q, kv := c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	s.t = T
	s.x, s.xb = make([]float32, T*c.Dim), make([]float32, T*c.Dim)
	s.q, s.att = make([]float32, T*q), make([]float32, T*q)
	s.k, s.v = make([]float32, T*kv), make([]float32, T*kv)
	s.hGate, s.hUp = make([]float32, T*c.Hidden), make([]float32, T*c.Hidden)
	s.cos, s.sin = make([]float32, T*c.RopeDims/2), make([]float32, T*c.RopeDims/2)
}

func (s *State) forward(tokens []int, all bool) ([]float32, error) {
	m, c := s.m, &s.m.Config
	T := len(tokens)
	if T == 0 {
		return nil, fmt.Errorf("forward: no tokens")
	}
	if s.pos+T > s.ctx {
		return nil, fmt.Errorf("context full: %d cached + %d new positions exceed %d", s.pos, T, s.ctx)
	}
	for _, id := range tokens {
		if id < 0 || id >= c.Vocab {
			return nil, fmt.Errorf("token id %d out of range [0, %d)", id, c.Vocab)
		}
	}
	s.grow(T)
	D, q, kv := c.Dim, c.Heads*c.HeadDim, c.KVHeads*c.HeadDim
	x, xb := s.x[:T*D], s.xb[:T*D]

	// x = embedding rows of the tokens
	for t, id := range tokens {
		tensor.Dequantize(x[t*D:(t+1)*D], m.Embed.Type, m.Embed.Row(id), D)
	}
	s.ropeAngles(T)

	for l := range m.Layers {
		L := &m.Layers[l]
		// attention: xb = RMSNorm(x); q, k, v = xb·Wqᵀ, xb·Wkᵀ, xb·Wvᵀ (+ biases)
		s.run(stepAttnNorm, L, T, nil, nil)
		Q, K, V := s.q[:T*q], s.k[:T*kv], s.v[:T*kv]
		tensor.MatMul(s.pool, Q, L.Wq, xb, T)
		tensor.MatMul(s.pool, K, L.Wk, xb, T)
		tensor.MatMul(s.pool, V, L.Wv, xb, T)
		s.adapt(l, lora.Q, Q, xb, T)
		s.adapt(l, lora.K, K, xb, T)
		s.adapt(l, lora.V, V, xb, T)
		if c.QKVBias {
			addBias(Q, L.Bq, T)
			addBias(K, L.Bk, T)
			addBias(V, L.Bv, T)
		}
		// rotate q and k by position, then append k, v to the cache
		s.run(stepRope, L, T, nil, nil)
		layerK := s.kCache[l*s.ctx*kv : (l+1)*s.ctx*kv]
		layerV := s.vCache[l*s.ctx*kv : (l+1)*s.ctx*kv]
		s.run(stepCache, L, T, layerK, layerV)
		s.attention(layerK, layerV, T)

		// x += att·Woᵀ
		tensor.MatMul(s.pool, xb, L.Wo, s.att[:T*q], T)
		s.adapt(l, lora.O, xb, s.att[:T*q], T)
		if c.OBias {
			addBias(xb, L.Bo, T)
		}

		// x += xb; feed-forward: x += (SiLU(xb·Wgateᵀ) ⊙ xb·Wupᵀ)·Wdownᵀ, xb = RMSNorm(x)
		s.run(stepFFNNorm, L, T, nil, nil)
		G, U := s.hGate[:T*c.Hidden], s.hUp[:T*c.Hidden]
		tensor.MatMul(s.pool, G, L.WGate, xb, T)
		tensor.MatMul(s.pool, U, L.WUp, xb, T)
		s.adapt(l, lora.Gate, G, xb, T)
		s.adapt(l, lora.Up, U, xb, T)
		s.run(stepSwiGLU, L, T, nil, nil)
		tensor.MatMul(s.pool, xb, L.WDown, G, T)
		s.adapt(l, lora.Down, xb, G, T)
		s.run(stepResidual, L, T, nil, nil)
	}
	s.pos += T

	// logits = RMSNorm(x)·Outputᵀ, for the last position or all of them
	first := T - 1
	if all {
		first = 0
	}
	n := T - first
	for t := first; t < T; t++ {
		tensor.RMSNorm(xb[(t-first)*D:(t-first+1)*D], x[t*D:(t+1)*D], m.OutNorm, c.NormEps)
	}
	if cap(s.logits) < n*c.Vocab {
		s.logits = make([]float32, n*c.Vocab)
	}
	logits := s.logits[:n*c.Vocab]
	tensor.MatMul(s.pool, logits, m.Output, xb[:n*D], n)
	return logits, nil
}

// ropeAngles fills cos/sin for the batch's positions: angle_i = (pos/scale)·θ_i.
func (s *State) ropeAngles(T int) {
	c := &s.m.Config
	half := c.RopeDims / 2
	for t := 0; t < T; t++ {
		p := float64(s.pos+t) / c.RopeScale
		for i, f := range s.invFreq {
			sin, cos := math.Sincos(p * f)
			s.cos[t*half+i], s.sin[t*half+i] = float32(cos), float32(sin)
		}
	}
}

// attention computes, for each new token t and head h, softmax(q·Kᵀ/√d)·V
// over the cached positions 0..pos+t (causal; the last SlidingWindow only
// when set), into s.att [T, Heads·HeadDim]. Head h reads kv head
// h / (Heads/KVHeads) (grouped-query attention). keys and values are one
// layer of the transposed cache, [KVHeads, HeadDim, ctx].
//
// Later tokens of a prompt see more positions, so workers claim one token's
// heads at a time, the last tokens first, rather than equal ranges.
func (s *State) attention(keys, values []float32, T int) {
	c := &s.m.Config
	pool := s.pool
	if T*c.Heads*(s.pos+T)*c.HeadDim < tensor.ParallelMin {
		pool = nil
	}
	s.attn = attentionTask{s: s, keys: keys, values: values, T: T}
	if T == 1 {
		pool.RunTask(c.Heads, &s.attn)
		return
	}
	pool.RunChunks(T*c.Heads, c.Heads, &s.attn)
}

// attentionTask is one layer's attention, kept in the State so decoding
// allocates nothing.
type attentionTask struct {
	s            *State
	keys, values []float32
	T            int
}

func (a *attentionTask) Run(worker, lo, hi int) {
	s, c := a.s, &a.s.m.Config
	q, hd, ctx := c.Heads*c.HeadDim, c.HeadDim, s.ctx
	group := c.Heads / c.KVHeads
	scale := float32(1 / math.Sqrt(float64(hd)))
	scores := s.scores[worker*ctx : (worker+1)*ctx]
	last := a.T*c.Heads - 1
	for i := lo; i < hi; i++ {
		job := i
		if a.T > 1 {
			job = last - i // the heaviest tokens first
		}
		t, h := job/c.Heads, job%c.Heads
		end := s.pos + t + 1 // positions 0..end-1 are visible to token t
		start := 0
		if c.SlidingWindow > 0 {
			start = max(0, end-c.SlidingWindow)
		}
		qh := s.q[t*q+h*hd : t*q+(h+1)*hd]
		base := (h / group) * hd * ctx // this kv head's [HeadDim, ctx] block
		// scores = q·K[:, start:end] / √hd
		sc := scores[:end-start]
		tensor.GemvT(sc, qh, a.keys[base+start:], ctx)
		for i := range sc {
			sc[i] *= scale
		}
		tensor.Softmax(sc)
		// out[d] = Σ_p softmax_p · V[d, p]
		out := s.att[t*q+h*hd : t*q+(h+1)*hd]
		v := a.values[base+start : base+(hd-1)*ctx+end] // rows d of V[:, start:end], ctx apart
		tensor.DotRows(tensor.F32, tensor.Bytes(v), 4*ctx, sc, out)
	}
}

// addBias adds b [n] to each of the T rows of x [T, n].
func addBias(x, b []float32, T int) {
	n := len(b)
	for t := 0; t < T; t++ {
		tensor.Add(x[t*n:(t+1)*n], b)
	}
}
