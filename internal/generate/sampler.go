package generate

import (
	"math"
	"slices"
)

// SamplerOptions configures token selection. The zero value is greedy.
type SamplerOptions struct {
	Temperature   float64 // ≤ 0: greedy (argmax)
	TopK          int     // keep the k most likely tokens; ≤ 0: all
	TopP          float64 // keep the smallest set whose probability ≥ p; 0 or ≥ 1: off
	MinP          float64 // drop tokens less likely than MinP × the most likely; 0: off
	RepeatPenalty float64 // > 1 discourages the last RepeatLastN tokens; 0 or 1: off
	RepeatLastN   int     // window of the penalty; ≤ 0: 64
	Seed          uint64
}

// Sampler picks the next token from logits. It owns its random state, so a
// run with the same seed and logits picks the same tokens.
type Sampler struct {
	opt   SamplerOptions
	rng   uint64
	cands []candidate // reused between calls
}

type candidate struct {
	id int
	v  float32 // logit, later probability
}

// NewSampler returns a sampler seeded with opt.Seed.
func NewSampler(opt SamplerOptions) *Sampler {
	if opt.RepeatLastN <= 0 {
		opt.RepeatLastN = 64
	}
	seed := opt.Seed
	if seed == 0 {
		seed = 0x2545F4914F6CDD1D // xorshift must not start at 0
	}
	return &Sampler{opt: opt, rng: seed}
}

// randomF32 is llama2.c's xorshift64* generator: a float32 in [0, 1).
func (s *Sampler) randomF32() float32 {
	s.rng ^= s.rng >> 12
	s.rng ^= s.rng << 25
	s.rng ^= s.rng >> 27
	u := uint32((s.rng * 0x2545F4914F6CDD1D) >> 32)
	return float32(u>>8) / 16777216.0
}

// Sample returns the chosen token id. history holds the tokens so far (prompt
// and generated) for the repetition penalty. logits is not modified.
func (s *Sampler) Sample(logits []float32, history []int) int {
	o := &s.opt
	c := s.cands[:0]
	for id, v := range logits {
		c = append(c, candidate{id, v})
	}
	s.cands = c
	if o.RepeatPenalty > 0 && o.RepeatPenalty != 1 {
		penalize(c, history[max(0, len(history)-o.RepeatLastN):], float32(o.RepeatPenalty))
	}
	if o.Temperature <= 0 {
		best := 0
		for i := range c {
			if c[i].v > c[best].v {
				best = i
			}
		}
		return c[best].id
	}
	sorted := false
	if o.TopK > 0 && o.TopK < len(c) {
		sortDesc(c)
		sorted = true
		c = c[:o.TopK]
	}
	if o.TopP > 0 && o.TopP < 1 {
		if !sorted {
			sortDesc(c)
			sorted = true
		}
		softmax(c)
		var cum float32
		for i := range c {
			cum += c[i].v
			if cum > float32(o.TopP) {
				c = c[:i+1]
				break
			}
		}
		logOf(c)
	}
	if o.MinP > 0 && o.MinP < 1 {
		// keep p ≥ MinP·p_max, i.e. logit ≥ logit_max + ln(MinP)
		top := c[0].v
		for _, x := range c {
			top = max(top, x.v)
		}
		floor := top + float32(math.Log(o.MinP))
		c = slices.DeleteFunc(c, func(x candidate) bool { return x.v < floor })
	}
	if o.Temperature != 1 {
		inv := float32(1 / o.Temperature)
		for i := range c {
			c[i].v *= inv
		}
	}
	softmax(c)
	// walk the cumulative distribution: in vocabulary order when nothing
	// was truncated (run.c's sample_mult), most likely first otherwise
	// (run.c's sample_topp), renormalised over what is left
	var total float32
	for _, x := range c {
		total += x.v
	}
	r := s.randomF32() * total
	var cdf float32
	for _, x := range c {
		cdf += x.v
		if r < cdf {
			return x.id
		}
	}
	return c[len(c)-1].id
}

// penalize divides positive logits and multiplies negative ones of tokens
// seen in recent, once per distinct token (as llama.cpp does).
func penalize(c []candidate, recent []int, penalty float32) {
	seen := make(map[int]bool, len(recent))
	for _, id := range recent {
		if seen[id] || id < 0 || id >= len(c) {
			continue
		}
		seen[id] = true
		if c[id].v > 0 {
			c[id].v /= penalty
		} else {
			c[id].v *= penalty
		}
	}
}

// sortDesc orders candidates by value, most likely first; ties by id.
func sortDesc(c []candidate) {
	slices.SortStableFunc(c, func(a, b candidate) int {
		switch {
		case a.v > b.v:
			return -1
		case a.v < b.v:
			return 1
		}
		return a.id - b.id
	})
}

// softmax turns the candidates' logits into probabilities in float32, the
// way llama2.c does (max-subtracted exp, then divide by the sum).
func softmax(c []candidate) {
	m := c[0].v
	for _, x := range c[1:] {
		m = max(m, x.v)
	}
	var sum float32
	for i := range c {
		c[i].v = float32(math.Exp(float64(c[i].v - m)))
		sum += c[i].v
	}
	for i := range c {
		c[i].v /= sum
	}
}

// logOf turns probabilities back into logits (up to a constant), so later
// stages of the chain see logits again.
func logOf(c []candidate) {
	for i := range c {
		c[i].v = float32(math.Log(float64(c[i].v)))
	}
}
