package eval

import (
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"unicode/utf8"
)

// CHRFConfig holds sacreBLEU's chrF options. The zero value is sacreBLEU's
// default chrF2: character 6-grams, no word n-grams, beta 2, whitespace
// ignored, no epsilon smoothing. WordOrder 2 gives chrF++.
type CHRFConfig struct {
	CharOrder    int  // 0 means 6
	WordOrder    int  // 0: chrF; 2: chrF++
	Beta         int  // 0 means 2; recall weighs Beta times precision
	Lowercase    bool // compare lowercased text
	Whitespace   bool // keep whitespace in character n-grams
	EpsSmoothing bool // chrF++.py / NLTK / Moses epsilon smoothing
}

// CHRF computes sacreBLEU's chrF and chrF++. Create it with NewCHRF; it is
// safe for concurrent use.
type CHRF struct{ cfg CHRFConfig }

// NewCHRF checks cfg and fills in its defaults.
func NewCHRF(cfg CHRFConfig) (*CHRF, error) {
	if cfg.CharOrder == 0 {
		cfg.CharOrder = 6
	}
	if cfg.Beta == 0 {
		cfg.Beta = 2
	}
	if cfg.CharOrder < 0 || cfg.WordOrder < 0 || cfg.Beta < 0 {
		return nil, fmt.Errorf("chrf: char order %d, word order %d, beta %d: none may be negative", cfg.CharOrder, cfg.WordOrder, cfg.Beta)
	}
	return &CHRF{cfg: cfg}, nil
}

// Config returns the configuration with its defaults filled in.
func (c *CHRF) Config() CHRFConfig { return c.cfg }

// Name is sacreBLEU's name of the score: "chrF2", or "chrF2++" with word
// order 2.
func (c *CHRF) Name() string {
	return fmt.Sprintf("chrF%d", c.cfg.Beta) + strings.Repeat("+", c.cfg.WordOrder)
}

// Signature returns sacreBLEU's chrF signature, e.g.
// "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0".
func (c *CHRF) Signature(nrefs int) string {
	return strings.Join([]string{
		"nrefs:" + nrefsString(nrefs),
		"case:" + caseString(c.cfg.Lowercase),
		"eff:" + yesNo(!c.cfg.EpsSmoothing),
		fmt.Sprintf("nc:%d", c.cfg.CharOrder),
		fmt.Sprintf("nw:%d", c.cfg.WordOrder),
		"space:" + yesNo(c.cfg.Whitespace),
		"version:" + SacreBLEUVersion,
	}, "|")
}

// CorpusScore is the corpus chrF (0–100) of hyps against refs, refs[i]
// holding the references of hyps[i].
func (c *CHRF) CorpusScore(hyps []string, refs [][]string) (float64, error) {
	stats, err := c.SegmentStats(hyps, refs)
	if err != nil {
		return 0, err
	}
	return c.Score(sumStats(stats, c.StatsLen())), nil
}

// SentenceScore is the chrF of one hypothesis against its references.
func (c *CHRF) SentenceScore(hyp string, refs []string) float64 {
	return c.Score(c.newCounter().segmentStats(hyp, refs))
}

// StatsLen is 3 × (char order + word order): [hyp, ref, match] per order.
func (c *CHRF) StatsLen() int { return 3 * (c.cfg.CharOrder + c.cfg.WordOrder) }

// SegmentStats returns each segment's [hyp, ref, match] n-gram counts for
// every character then word order, taken from the reference with the best
// chrF, as sacreBLEU does.
func (c *CHRF) SegmentStats(hyps []string, refs [][]string) ([][]float64, error) {
	if err := checkAligned(hyps, refs); err != nil {
		return nil, fmt.Errorf("chrf: %w", err)
	}
	cnt := c.newCounter()
	stats := make([][]float64, len(hyps))
	for i, h := range hyps {
		stats[i] = cnt.segmentStats(h, refs[i])
	}
	return stats, nil
}

// Score is chrF (0–100) of summed statistics, sacreBLEU's _compute_f_score.
func (c *CHRF) Score(stats []float64) float64 {
	const eps = 1e-16
	factor := float64(c.cfg.Beta * c.cfg.Beta)
	order := c.cfg.CharOrder + c.cfg.WordOrder
	score, avgPrec, avgRec := 0.0, 0.0, 0.0
	effOrder := 0
	for i := 0; i < order; i++ {
		nHyp, nRef, nMatch := stats[3*i], stats[3*i+1], stats[3*i+2]
		prec, rec := eps, eps
		if nHyp > 0 {
			prec = nMatch / nHyp
		}
		if nRef > 0 {
			rec = nMatch / nRef
		}
		if denom := factor*prec + rec; denom > 0 {
			score += (1 + factor) * prec * rec / denom
		} else {
			score += eps
		}
		if nHyp > 0 && nRef > 0 {
			avgPrec += prec
			avgRec += rec
			effOrder++
		}
	}
	if c.cfg.EpsSmoothing {
		return 100 * score / float64(order)
	}
	if effOrder == 0 {
		return 0
	}
	avgPrec /= float64(effOrder)
	avgRec /= float64(effOrder)
	if avgPrec+avgRec == 0 {
		return 0
	}
	return 100 * ((1 + factor) * avgPrec * avgRec) / (factor*avgPrec + avgRec)
}

// chrfCounter extracts segment statistics, reusing its buffers. Character
// n-grams of up to 6 code points are packed exactly into 128 bits (21 bits a
// code point) and counted by sorting and merging, which is several times
// faster than maps of strings; longer orders and word n-grams use maps. It
// is not safe for concurrent use.
type chrfCounter struct {
	c                    *CHRF
	hypNarrow, refNarrow [][]uint64         // per packed char order, when it fits 64 bits
	hypWide, refWide     [][]gram           // per packed char order, otherwise
	hyp, ref             []map[string]int32 // per order: char orders > 6, then word orders
	runes                []rune
	offs                 []int
	lowered              []string
}

// gram is a character n-gram of at most 6 code points, packed exactly.
type gram struct{ hi, lo uint64 }

func cmpGram(a, b gram) int {
	switch {
	case a.hi != b.hi:
		if a.hi < b.hi {
			return -1
		}
		return 1
	case a.lo < b.lo:
		return -1
	case a.lo > b.lo:
		return 1
	}
	return 0
}

const maxPackedOrder = 6

func (c *CHRF) newCounter() *chrfCounter {
	order := c.cfg.CharOrder + c.cfg.WordOrder
	packed := min(c.cfg.CharOrder, maxPackedOrder)
	cc := &chrfCounter{c: c, hyp: make([]map[string]int32, order), ref: make([]map[string]int32, order),
		hypNarrow: make([][]uint64, packed), refNarrow: make([][]uint64, packed),
		hypWide: make([][]gram, packed), refWide: make([][]gram, packed)}
	for i := range cc.hyp {
		if i < c.cfg.CharOrder && i < maxPackedOrder {
			continue
		}
		cc.hyp[i] = make(map[string]int32, 64)
		cc.ref[i] = make(map[string]int32, 64)
	}
	return cc
}

func (cc *chrfCounter) segmentStats(hyp string, refs []string) []float64 {
	if cc.c.cfg.Lowercase {
		hyp = pyLower(hyp)
		cc.lowered = cc.lowered[:0]
		for _, r := range refs {
			cc.lowered = append(cc.lowered, pyLower(r))
		}
		refs = cc.lowered
	}
	// Bits per code point, the same for the hypothesis and its references
	// so that their packed n-grams compare.
	maxRune := maxRuneOf(hyp)
	for _, r := range refs {
		maxRune = max(maxRune, maxRuneOf(r))
	}
	width := max(1, bits.Len32(uint32(maxRune)))
	cc.extract(hyp, width, cc.hypNarrow, cc.hypWide, cc.hyp)
	var best []float64
	bestF := -1.0
	for _, ref := range refs {
		cc.extract(ref, width, cc.refNarrow, cc.refWide, cc.ref)
		stats := make([]float64, cc.c.StatsLen())
		for i := range cc.hyp {
			out := stats[3*i : 3*i+3]
			switch {
			case i >= len(cc.hypNarrow):
				matchStats(cc.hyp[i], cc.ref[i], out)
			case (i+1)*width <= 64:
				matchSorted(cc.hypNarrow[i], cc.refNarrow[i], cmpUint64, out)
			default:
				matchSorted(cc.hypWide[i], cc.refWide[i], cmpGram, out)
			}
		}
		if f := cc.c.Score(stats); f > bestF {
			bestF, best = f, stats
		}
	}
	if best == nil {
		best = make([]float64, cc.c.StatsLen())
	}
	return best
}

func maxRuneOf(s string) rune {
	m := rune(0)
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			for _, r := range s[i:] {
				m = max(m, r)
			}
			return max(m, 0x7f)
		}
		m = max(m, rune(s[i]))
	}
	return m
}

func cmpUint64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// matchSorted is matchStats on sorted packed n-grams.
func matchSorted[T any](hyp, ref []T, cmp func(a, b T) int, out []float64) {
	match := 0
	for i, j := 0, 0; i < len(hyp) && j < len(ref); {
		switch c := cmp(hyp[i], ref[j]); {
		case c < 0:
			i++
		case c > 0:
			j++
		default:
			match++
			i++
			j++
		}
	}
	nHyp := len(hyp)
	if len(ref) == 0 {
		nHyp = 0
	}
	out[0], out[1], out[2] = float64(nHyp), float64(len(ref)), float64(match)
}

// matchStats writes [hyp count (0 without reference n-grams), ref count,
// clipped matches] of one order.
func matchStats(hyp, ref map[string]int32, out []float64) {
	var nHyp, nRef, nMatch int64
	for g, n := range hyp {
		nHyp += int64(n)
		if r, ok := ref[g]; ok {
			nMatch += int64(min(n, r))
		}
	}
	for _, n := range ref {
		nRef += int64(n)
	}
	if len(ref) == 0 {
		nHyp = 0
	}
	out[0], out[1], out[2] = float64(nHyp), float64(nRef), float64(nMatch)
}

// extract fills narrow (when order × width fits 64 bits) or wide with the
// sorted character n-grams of orders 1..6 of s, packed width bits a code
// point, and grams with the longer character orders and the word orders.
func (cc *chrfCounter) extract(s string, width int, narrow [][]uint64, wide [][]gram, grams []map[string]int32) {
	for _, m := range grams {
		if m != nil {
			clear(m)
		}
	}
	line := s
	if !cc.c.cfg.Whitespace {
		line = strings.Join(pyFields(s), "")
	}
	cc.runes = cc.runes[:0]
	cc.offs = cc.offs[:0]
	for i, r := range line {
		cc.runes = append(cc.runes, r)
		cc.offs = append(cc.offs, i)
	}
	nRunes := len(cc.runes)
	cc.offs = append(cc.offs, len(line))
	for n := 1; n <= len(narrow); n++ {
		if n*width <= 64 {
			gs := narrow[n-1][:0]
			for i := 0; i+n <= nRunes; i++ {
				var g uint64
				for _, r := range cc.runes[i : i+n] {
					g = g<<width | uint64(r)
				}
				gs = append(gs, g)
			}
			slices.Sort(gs)
			narrow[n-1] = gs
			continue
		}
		gs := wide[n-1][:0]
		for i := 0; i+n <= nRunes; i++ {
			var g gram
			for k, r := range cc.runes[i : i+n] {
				if k < 3 {
					g.hi = g.hi<<21 | uint64(r)
				} else {
					g.lo = g.lo<<21 | uint64(r)
				}
			}
			gs = append(gs, g)
		}
		slices.SortFunc(gs, cmpGram)
		wide[n-1] = gs
	}
	for n := maxPackedOrder + 1; n <= cc.c.cfg.CharOrder; n++ {
		m := grams[n-1]
		for i := 0; i+n <= nRunes; i++ {
			m[line[cc.offs[i]:cc.offs[i+n]]]++
		}
	}
	if cc.c.cfg.WordOrder == 0 {
		return
	}
	words := splitPunctuation(s)
	for n := 1; n <= cc.c.cfg.WordOrder; n++ {
		m := grams[cc.c.cfg.CharOrder+n-1]
		for i := 0; i+n <= len(words); i++ {
			m[strings.Join(words[i:i+n], " ")]++
		}
	}
}

// splitPunctuation is chrF++'s word tokenization: split on whitespace, then
// split one ASCII punctuation mark off the end of a word or, failing that,
// off its start ("(hi)" becomes "(hi" and ")", as in sacreBLEU).
func splitPunctuation(s string) []string {
	var out []string
	for _, w := range pyFields(s) {
		if utf8.RuneCountInString(w) == 1 {
			out = append(out, w)
			continue
		}
		last, lastSize := utf8.DecodeLastRuneInString(w)
		first, firstSize := utf8.DecodeRuneInString(w)
		switch {
		case isASCIIPunct(last):
			out = append(out, w[:len(w)-lastSize], w[len(w)-lastSize:])
		case isASCIIPunct(first):
			out = append(out, w[:firstSize], w[firstSize:])
		default:
			out = append(out, w)
		}
	}
	return out
}
