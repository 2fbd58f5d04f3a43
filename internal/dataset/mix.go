package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// MixOptions configures a weighted mix of several data sets.
type MixOptions struct {
	// Total is the number of records to write; 0 is the most that needs no
	// source to repeat a record.
	Total int
	Seed  uint64
}

// MixPlan says how many times each record of each source goes into the mix
// (0 for most when sampling down, 2 or more when a source is repeated) and
// in which order the sources take turns.
type MixPlan struct {
	Total  int       `json:"total"`
	Quotas []int     `json:"quotas"` // records taken from each source
	Shares []float64 `json:"shares"` // the weights, normalised
	times  [][]uint8
	left   []int
	rng    *rand.Rand
}

// PlanMix plans a mix of sources with the given record counts and weights.
// Each source gives round(Total·share) records (largest remainders
// rounded up): a random sample when it has more, and every record repeated
// as evenly as possible when it has fewer.
func PlanMix(counts []int, weights []float64, opt MixOptions) (*MixPlan, error) {
	if len(counts) != len(weights) || len(counts) == 0 {
		return nil, fmt.Errorf("mix: %d sources but %d weights", len(counts), len(weights))
	}
	sum := 0.0
	for i, w := range weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("mix: weight %d is %v: weights are non-negative numbers", i, w)
		}
		if w > 0 && counts[i] == 0 {
			return nil, fmt.Errorf("mix: source %d is empty but has weight %v", i, w)
		}
		sum += w
	}
	if sum == 0 {
		return nil, fmt.Errorf("mix: all weights are zero")
	}
	p := &MixPlan{Shares: make([]float64, len(weights)), rng: rand.New(rand.NewPCG(opt.Seed, 0x6d6978))}
	for i, w := range weights {
		p.Shares[i] = w / sum
	}
	p.Total = opt.Total
	if p.Total <= 0 {
		p.Total = math.MaxInt
		for i, s := range p.Shares {
			if s > 0 {
				p.Total = min(p.Total, int(float64(counts[i])/s+1e-9))
			}
		}
	}
	p.Quotas = largestRemainder(p.Total, p.Shares)
	for i, n := range counts {
		t, err := p.sample(n, p.Quotas[i])
		if err != nil {
			return nil, fmt.Errorf("mix: source %d: %w", i, err)
		}
		p.times = append(p.times, t)
	}
	p.left = append([]int(nil), p.Quotas...)
	return p, nil
}

// largestRemainder splits total by shares into integers that sum to total.
func largestRemainder(total int, shares []float64) []int {
	q := make([]int, len(shares))
	rem := make([]float64, len(shares))
	given := 0
	for i, s := range shares {
		exact := float64(total) * s
		q[i] = int(exact)
		rem[i] = exact - float64(q[i])
		given += q[i]
	}
	for ; given < total; given++ {
		best := 0
		for i := range rem {
			if rem[i] > rem[best] {
				best = i
			}
		}
		q[best]++
		rem[best] = -1
	}
	return q
}

// sample picks quota of n records: whole repeats of all, then a random
// sample without replacement of the remainder.
func (p *MixPlan) sample(n, quota int) ([]uint8, error) {
	times := make([]uint8, n)
	if n == 0 {
		return times, nil
	}
	whole, rest := quota/n, quota%n
	if whole >= 255 {
		return nil, fmt.Errorf("would repeat each record %d times: lower the total or the weight", whole)
	}
	for i := range times {
		times[i] = uint8(whole)
	}
	// Floyd's algorithm picks rest distinct indices without an n-sized permutation.
	chosen := make(map[int]bool, rest)
	for j := n - rest; j < n; j++ {
		t := p.rng.IntN(j + 1)
		if chosen[t] {
			t = j
		}
		chosen[t] = true
		times[t]++
	}
	return times, nil
}

// Times is how many times record i of source s goes into the mix.
func (p *MixPlan) Times(s, i int) int { return int(p.times[s][i]) }

// Next picks the source of the next record, at random in proportion to
// what each still has to give, so the sources are interleaved evenly; -1
// when the mix is complete.
func (p *MixPlan) Next() int {
	left := 0
	for _, n := range p.left {
		left += n
	}
	if left == 0 {
		return -1
	}
	r := p.rng.IntN(left)
	for s, n := range p.left {
		if r < n {
			p.left[s]--
			return s
		}
		r -= n
	}
	return -1
}
