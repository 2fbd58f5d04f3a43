package eval

import (
	"fmt"
	"math"
	"strings"
)

// SacreBLEUVersion is the sacreBLEU release whose behaviour BLEU, CHRF and
// TER reproduce; it ends their signatures as "version:…" ends sacreBLEU's.
const SacreBLEUVersion = "2.6.0"

// BLEUConfig holds sacreBLEU's BLEU options. The zero value is sacreBLEU's
// default: 13a tokenizer, exp smoothing, 4-grams, case-sensitive.
type BLEUConfig struct {
	// Tokenize names the tokenizer: "13a" (default when empty), "intl",
	// "zh", "char" or "none".
	Tokenize string
	// SmoothMethod is "exp" (default when empty), "floor", "add-k" or "none".
	SmoothMethod string
	// SmoothValue is the floor or add-k value; nil means sacreBLEU's
	// defaults, 0.1 for floor and 1 for add-k.
	SmoothValue *float64
	// Lowercase compares lowercased text.
	Lowercase bool
	// Force suppresses the "looks tokenized" check (see LooksTokenized).
	Force bool
	// MaxNgramOrder is the largest n-gram order; 0 means 4.
	MaxNgramOrder int
	// EffectiveOrder stops at the largest order the hypothesis has n-grams
	// of, as sentence-level BLEU should.
	EffectiveOrder bool
}

// BLEUScore is a BLEU result with the statistics behind it, as sacreBLEU's
// BLEUScore. Score and Precisions are on a 0–100 scale.
type BLEUScore struct {
	Score      float64   `json:"score"`
	Counts     []float64 `json:"counts"`     // matching n-grams, n = 1..max order
	Totals     []float64 `json:"totals"`     // hypothesis n-grams, n = 1..max order
	Precisions []float64 `json:"precisions"` // smoothed n-gram precisions
	BP         float64   `json:"bp"`         // brevity penalty
	SysLen     int       `json:"sys_len"`
	RefLen     int       `json:"ref_len"`
	Ratio      float64   `json:"ratio"` // SysLen / RefLen, 0 when RefLen is 0
}

// BLEU computes sacreBLEU's BLEU. Create it with NewBLEU; it is safe for
// concurrent use.
type BLEU struct {
	cfg         BLEUConfig
	tokenize    wordTokenizer
	smoothValue float64
}

var bleuSmoothDefaults = map[string]float64{"none": 0, "floor": 0.1, "add-k": 1, "exp": 0}

// NewBLEU checks cfg and fills in its defaults.
func NewBLEU(cfg BLEUConfig) (*BLEU, error) {
	if cfg.Tokenize == "" {
		cfg.Tokenize = "13a"
	}
	if cfg.SmoothMethod == "" {
		cfg.SmoothMethod = "exp"
	}
	if cfg.MaxNgramOrder == 0 {
		cfg.MaxNgramOrder = 4
	}
	if cfg.MaxNgramOrder < 0 {
		return nil, fmt.Errorf("bleu: max n-gram order %d: must be positive", cfg.MaxNgramOrder)
	}
	tok, err := lookupTokenizer(cfg.Tokenize)
	if err != nil {
		return nil, fmt.Errorf("bleu: %w", err)
	}
	def, ok := bleuSmoothDefaults[cfg.SmoothMethod]
	if !ok {
		return nil, fmt.Errorf("bleu: unknown smoothing method %q: use exp, floor, add-k or none", cfg.SmoothMethod)
	}
	b := &BLEU{cfg: cfg, tokenize: tok, smoothValue: def}
	if cfg.SmoothValue != nil {
		b.smoothValue = *cfg.SmoothValue
	}
	return b, nil
}

// Config returns the configuration with its defaults filled in.
func (b *BLEU) Config() BLEUConfig { return b.cfg }

// Signature returns sacreBLEU's signature string for this configuration and
// nrefs references per segment (-1 for a varying number), e.g.
// "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0".
func (b *BLEU) Signature(nrefs int) string {
	smooth := b.cfg.SmoothMethod
	if smooth == "floor" || smooth == "add-k" {
		smooth += fmt.Sprintf("[%.2f]", b.smoothValue)
	}
	return strings.Join([]string{
		"nrefs:" + nrefsString(nrefs),
		"case:" + caseString(b.cfg.Lowercase),
		"eff:" + yesNo(b.cfg.EffectiveOrder),
		"tok:" + b.cfg.Tokenize,
		"smooth:" + smooth,
		"version:" + SacreBLEUVersion,
	}, "|")
}

func nrefsString(n int) string {
	if n < 0 {
		return "var"
	}
	return fmt.Sprint(n)
}

func caseString(lowercase bool) string {
	if lowercase {
		return "lc"
	}
	return "mixed"
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// CorpusScore scores hypotheses against references, refs[i] holding the
// references of hyps[i].
func (b *BLEU) CorpusScore(hyps []string, refs [][]string) (BLEUScore, error) {
	stats, err := b.SegmentStats(hyps, refs)
	if err != nil {
		return BLEUScore{}, err
	}
	return b.ScoreStats(sumStats(stats, b.StatsLen())), nil
}

// SentenceScore scores one hypothesis against its references.
func (b *BLEU) SentenceScore(hyp string, refs []string) BLEUScore {
	c := b.newCounter()
	return b.ScoreStats(c.segmentStats(hyp, refs))
}

// LooksTokenized reports whether at least 100 hypotheses end in " .", the
// sign sacreBLEU warns about: BLEU expects detokenized text. Always false
// with Force.
func (b *BLEU) LooksTokenized(hyps []string) bool {
	if b.cfg.Force {
		return false
	}
	n := 0
	for _, h := range hyps {
		if strings.HasSuffix(h, " .") {
			n++
		}
	}
	return n >= 100
}

// StatsLen is the length of one segment's statistics:
// [sys_len, ref_len, correct_1..N, total_1..N].
func (b *BLEU) StatsLen() int { return 2 + 2*b.cfg.MaxNgramOrder }

// SegmentStats returns each segment's sufficient statistics
// [sys_len, ref_len, correct_1..N, total_1..N], as sacreBLEU extracts them.
func (b *BLEU) SegmentStats(hyps []string, refs [][]string) ([][]float64, error) {
	if err := checkAligned(hyps, refs); err != nil {
		return nil, fmt.Errorf("bleu: %w", err)
	}
	c := b.newCounter()
	stats := make([][]float64, len(hyps))
	for i, h := range hyps {
		stats[i] = c.segmentStats(h, refs[i])
	}
	return stats, nil
}

// Score implements Metric: the BLEU score of summed statistics.
func (b *BLEU) Score(sum []float64) float64 { return b.ScoreStats(sum).Score }

// ScoreStats computes BLEU from summed statistics laid out as SegmentStats
// returns them, as sacreBLEU's BLEU.compute_bleu with this configuration's
// smoothing, effective order and maximum order.
func (b *BLEU) ScoreStats(stats []float64) BLEUScore {
	n := b.cfg.MaxNgramOrder
	correct := append([]float64(nil), stats[2:2+n]...)
	total := append([]float64(nil), stats[2+n:2+2*n]...)
	sysLen, refLen := int(stats[0]), int(stats[1])
	s := BLEUScore{
		Counts: append([]float64(nil), correct...), Totals: append([]float64(nil), total...),
		Precisions: make([]float64, n), BP: 1, SysLen: sysLen, RefLen: refLen,
	}
	if refLen > 0 {
		s.Ratio = float64(sysLen) / float64(refLen)
	}
	if sysLen < refLen {
		s.BP = 0
		if sysLen > 0 {
			s.BP = math.Exp(1 - float64(refLen)/float64(sysLen))
		}
	}
	if !anyNonZero(correct) {
		return s
	}
	smoothMteval := 1.0
	effOrder := n
	for i := 0; i < n; i++ {
		if b.cfg.SmoothMethod == "add-k" && i > 0 {
			correct[i] += b.smoothValue
			total[i] += b.smoothValue
		}
		if total[i] == 0 {
			break
		}
		if b.cfg.EffectiveOrder {
			effOrder = i + 1
		}
		switch {
		case correct[i] != 0:
			s.Precisions[i] = 100 * correct[i] / total[i]
		case b.cfg.SmoothMethod == "exp":
			smoothMteval *= 2
			s.Precisions[i] = 100 / (smoothMteval * total[i])
		case b.cfg.SmoothMethod == "floor":
			s.Precisions[i] = 100 * b.smoothValue / total[i]
		}
	}
	logSum := 0.0
	for _, p := range s.Precisions[:effOrder] {
		logSum += flooredLog(p)
	}
	s.Score = s.BP * math.Exp(logSum/float64(effOrder))
	// sacreBLEU reports the counts after add-k smoothing.
	s.Counts, s.Totals = correct, total
	return s
}

// flooredLog is sacreBLEU's my_log: log(0) is -9999999999.
func flooredLog(x float64) float64 {
	if x == 0 {
		return -9999999999
	}
	return math.Log(x)
}

func anyNonZero(xs []float64) bool {
	for _, x := range xs {
		if x != 0 {
			return true
		}
	}
	return false
}

// checkAligned checks that every hypothesis has a reference list.
func checkAligned(hyps []string, refs [][]string) error {
	if len(hyps) != len(refs) {
		return fmt.Errorf("%d hypotheses but %d reference lists: give one list (of one or more references) per hypothesis", len(hyps), len(refs))
	}
	return nil
}

// sumStats adds segment statistics column by column.
func sumStats(stats [][]float64, width int) []float64 {
	sum := make([]float64, width)
	for _, s := range stats {
		for j, v := range s {
			sum[j] += v
		}
	}
	return sum
}

// bleuCounter extracts segment statistics, reusing its maps between
// segments. It is not safe for concurrent use.
type bleuCounter struct {
	b       *BLEU
	refMax  map[string]int32 // n-gram → max count over the references
	refOne  map[string]int32 // one reference's n-gram counts
	hyp     map[string]int32
	refLens []int
}

func (b *BLEU) newCounter() *bleuCounter {
	return &bleuCounter{
		b:      b,
		refMax: make(map[string]int32, 256),
		refOne: make(map[string]int32, 256),
		hyp:    make(map[string]int32, 256),
	}
}

func (b *BLEU) preprocess(s string) []string {
	if b.cfg.Lowercase {
		s = pyLower(s)
	}
	return b.tokenize(pyRStrip(s))
}

func (c *bleuCounter) segmentStats(hyp string, refs []string) []float64 {
	n := c.b.cfg.MaxNgramOrder
	clear(c.refMax)
	c.refLens = c.refLens[:0]
	for k, ref := range refs {
		toks := c.b.preprocess(ref)
		c.refLens = append(c.refLens, len(toks))
		if k == 0 {
			countNgrams(toks, n, c.refMax)
			continue
		}
		clear(c.refOne)
		countNgrams(toks, n, c.refOne)
		for g, cnt := range c.refOne {
			if cnt > c.refMax[g] {
				c.refMax[g] = cnt
			}
		}
	}
	toks := c.b.preprocess(hyp)
	clear(c.hyp)
	countNgrams(toks, n, c.hyp)
	stats := make([]float64, 2+2*n)
	stats[0] = float64(len(toks))
	stats[1] = float64(closestRefLen(len(toks), c.refLens))
	for g, cnt := range c.hyp {
		order := strings.Count(g, " ") // n-gram order - 1
		stats[2+n+order] += float64(cnt)
		if r, ok := c.refMax[g]; ok {
			stats[2+order] += float64(min(cnt, r))
		}
	}
	return stats
}

// countNgrams adds the counts of all 1..maxOrder-grams of toks to into. An
// n-gram's key is its tokens joined by single spaces (tokens never contain
// whitespace), sliced out of one joined string so that keys do not allocate.
func countNgrams(toks []string, maxOrder int, into map[string]int32) {
	if len(toks) == 0 {
		return
	}
	joined := strings.Join(toks, " ")
	ends := make([]int, len(toks)) // ends[i]: end of token i in joined
	starts := make([]int, len(toks))
	pos := 0
	for i, t := range toks {
		starts[i] = pos
		pos += len(t)
		ends[i] = pos
		pos++
	}
	for order := 1; order <= maxOrder; order++ {
		for i := 0; i+order <= len(toks); i++ {
			into[joined[starts[i]:ends[i+order-1]]]++
		}
	}
}

// closestRefLen is the reference length closest to hypLen, the shorter one
// on ties, as sacreBLEU chooses it; -1 without references.
func closestRefLen(hypLen int, refLens []int) int {
	closestDiff, closestLen := -1, -1
	for _, l := range refLens {
		diff := hypLen - l
		if diff < 0 {
			diff = -diff
		}
		if closestDiff == -1 || diff < closestDiff {
			closestDiff, closestLen = diff, l
		} else if diff == closestDiff && l < closestLen {
			closestLen = l
		}
	}
	return closestLen
}
