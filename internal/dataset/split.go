package dataset

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// SplitParts names the parts of a split, in order.
var SplitParts = [3]string{"train", "val", "test"}

// SplitOptions configures a split. The zero value splits 90/5/5 with seed
// 0, not stratified, keeping near-duplicates (DedupOptions' defaults)
// together.
type SplitOptions struct {
	// Ratios of train, val and test; all zero means 0.9, 0.05, 0.05. They
	// need not sum to 1.
	Ratios [3]float64
	Seed   uint64
	// Stratum, when set, names each example's stratum (a field's value);
	// every stratum is split by the ratios on its own.
	Stratum func(*Example) string
	// Dedup says which records count as near-duplicates, kept in one part.
	Dedup DedupOptions
}

// Splitter assigns records to train, val and test so that the parts have
// the requested ratios (within each stratum) and no group of
// near-duplicates straddles two parts. Records are added in a first pass;
// Plan then tells the part of each record for a second pass.
type Splitter struct {
	opt     SplitOptions
	groups  *Grouper
	strata  []uint32
	names   []string
	nameIDs map[string]uint32
}

// NewSplitter returns an empty Splitter.
func NewSplitter(opt SplitOptions) (*Splitter, error) {
	if opt.Ratios == [3]float64{} {
		opt.Ratios = [3]float64{0.9, 0.05, 0.05}
	}
	sum := 0.0
	for _, r := range opt.Ratios {
		if r < 0 {
			return nil, fmt.Errorf("split ratios must not be negative: %v", opt.Ratios)
		}
		sum += r
	}
	if sum == 0 {
		return nil, fmt.Errorf("split ratios are all zero")
	}
	for i := range opt.Ratios {
		opt.Ratios[i] /= sum
	}
	return &Splitter{opt: opt, groups: NewGrouper(opt.Dedup), nameIDs: map[string]uint32{}}, nil
}

// Add takes the next record of the first pass.
func (s *Splitter) Add(ex *Example) {
	s.groups.Add(ex)
	name := ""
	if s.opt.Stratum != nil {
		name = s.opt.Stratum(ex)
	}
	id, ok := s.nameIDs[name]
	if !ok {
		id = uint32(len(s.names))
		s.names = append(s.names, name)
		s.nameIDs[name] = id
	}
	s.strata = append(s.strata, id)
}

// SplitPlan is the part of every record.
type SplitPlan struct {
	parts  []uint8
	Report SplitReport
}

// Part is the part (0 train, 1 val, 2 test) of record i of the first pass.
func (p *SplitPlan) Part(i int) int { return int(p.parts[i]) }

// SplitReport says how records were split.
type SplitReport struct {
	Records int            `json:"records"`
	Parts   [3]int         `json:"parts"` // records in train, val, test
	Strata  []StratumSplit `json:"strata,omitempty"`
	// Groups of near-duplicates kept in one part, and the records in them.
	Groups         int    `json:"duplicate_groups"`
	GroupedRecords int    `json:"grouped_records"`
	Seed           uint64 `json:"seed"`
}

// StratumSplit is the split of one stratum.
type StratumSplit struct {
	Value string `json:"value"`
	Parts [3]int `json:"parts"`
}

// Plan assigns the groups: within each stratum (a group goes with its
// first record's stratum) the groups are shuffled by the seed and each is
// given to the part furthest below its share.
func (s *Splitter) Plan() SplitPlan {
	n := s.groups.Len()
	plan := SplitPlan{parts: make([]uint8, n)}
	plan.Report.Records, plan.Report.Seed = n, s.opt.Seed
	size := map[int]int{}
	for i := 0; i < n; i++ {
		size[s.groups.Group(i)]++
	}
	byStratum := make([][]int, len(s.names)) // group roots per stratum
	for root := range size {
		byStratum[s.strata[root]] = append(byStratum[s.strata[root]], root)
	}
	rootPart := map[int]uint8{}
	for st, roots := range byStratum {
		slices.Sort(roots)
		rng := rand.New(rand.NewPCG(s.opt.Seed, uint64(st)))
		rng.Shuffle(len(roots), func(i, j int) { roots[i], roots[j] = roots[j], roots[i] })
		total := 0
		for _, r := range roots {
			total += size[r]
		}
		var have [3]int
		for _, r := range roots {
			p := s.neediest(have, total)
			rootPart[r] = uint8(p)
			have[p] += size[r]
		}
		if s.opt.Stratum != nil {
			plan.Report.Strata = append(plan.Report.Strata, StratumSplit{Value: s.names[st], Parts: have})
		}
	}
	for i := 0; i < n; i++ {
		p := rootPart[s.groups.Group(i)]
		plan.parts[i] = p
		plan.Report.Parts[p]++
	}
	for _, sz := range size {
		if sz > 1 {
			plan.Report.Groups++
			plan.Report.GroupedRecords += sz
		}
	}
	slices.SortFunc(plan.Report.Strata, func(a, b StratumSplit) int {
		if a.Value < b.Value {
			return -1
		}
		if a.Value > b.Value {
			return 1
		}
		return 0
	})
	return plan
}

// neediest is the part furthest below its share of total.
func (s *Splitter) neediest(have [3]int, total int) int {
	best, bestGap := 0, -1e18
	for p, r := range s.opt.Ratios {
		if r == 0 {
			continue
		}
		gap := r*float64(total) - float64(have[p])
		if gap > bestGap {
			best, bestGap = p, gap
		}
	}
	return best
}

// LeakageCheck counts near-duplicate pairs across parts: each record is
// compared with the records of the other parts added before it.
type LeakageCheck struct {
	opt    DedupOptions
	sh     *shingler
	exact  [3]map[uint64]bool
	index  [3]*lshIndex
	sig    signature
	report LeakageReport
}

// LeakageReport is what a LeakageCheck found.
type LeakageReport struct {
	Checked int `json:"checked"`
	Exact   int `json:"exact"` // records equal (after normalisation) to a record of another part
	Near    int `json:"near"`  // records near-duplicate to a record of another part
}

// NewLeakageCheck returns an empty check.
func NewLeakageCheck(opt DedupOptions) *LeakageCheck {
	opt = opt.withDefaults()
	c := &LeakageCheck{opt: opt, sh: newShingler(opt.Shingle)}
	for p := range c.index {
		c.exact[p] = map[uint64]bool{}
		if !opt.ExactOnly {
			c.index[p] = newLSHIndex(opt.Threshold)
		}
	}
	return c
}

// Add checks a record of part p against the other parts, then adds it to p.
func (c *LeakageCheck) Add(p int, ex *Example) {
	c.report.Checked++
	runes := c.sh.normalize(c.opt.text(ex))
	h := exactHash(runes)
	for q := range c.exact {
		if q != p && c.exact[q][h] {
			c.report.Exact++
			return
		}
	}
	c.exact[p][h] = true
	if c.index[p] == nil || !c.sh.sign(runes, &c.sig) {
		return
	}
	sc := c.sig.compact()
	for q, x := range c.index {
		if q == p {
			continue
		}
		if _, _, ok := x.query(&c.sig, &sc); ok {
			c.report.Near++
			break
		}
	}
	c.index[p].insert(&c.sig, sc, false)
}

// Report is what the check found so far.
func (c *LeakageCheck) Report() LeakageReport { return c.report }
