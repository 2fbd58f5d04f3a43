package eval

import (
	"fmt"
	"regexp"
	"strings"
)

// TERConfig holds sacreBLEU's TER options. The zero value is sacreBLEU's
// default: case-insensitive, no normalization, punctuation kept.
type TERConfig struct {
	Normalized    bool // tercom normalization: XML entities, punctuation tokenized
	NoPunct       bool // remove punctuation
	AsianSupport  bool // with Normalized or NoPunct, treat CJK characters and punctuation
	CaseSensitive bool // do not lowercase
}

// TER computes sacreBLEU's translation edit rate, a reimplementation of
// tercom: the fewest insertions, deletions, substitutions and shifts of word
// sequences that turn the hypothesis into a reference, divided by the
// average reference length. Create it with NewTER; it is safe for concurrent
// use.
type TER struct{ cfg TERConfig }

// NewTER returns a TER scorer for cfg.
func NewTER(cfg TERConfig) *TER { return &TER{cfg: cfg} }

// Signature returns sacreBLEU's TER signature, e.g.
// "nrefs:1|case:lc|tok:tercom|norm:no|punct:yes|asian:no|version:2.6.0".
func (t *TER) Signature(nrefs int) string {
	c := "lc"
	if t.cfg.CaseSensitive {
		c = "mixed"
	}
	return strings.Join([]string{
		"nrefs:" + nrefsString(nrefs),
		"case:" + c,
		"tok:tercom",
		"norm:" + yesNo(t.cfg.Normalized),
		"punct:" + yesNo(!t.cfg.NoPunct),
		"asian:" + yesNo(t.cfg.AsianSupport),
		"version:" + SacreBLEUVersion,
	}, "|")
}

// TERScore is a TER result: Score = 100 × NumEdits / RefLength.
type TERScore struct {
	Score     float64 `json:"score"`
	NumEdits  float64 `json:"num_edits"`
	RefLength float64 `json:"ref_length"` // summed average reference lengths
}

// CorpusScore is the corpus TER (0–100; lower is better) of hyps against
// refs, refs[i] holding the references of hyps[i].
func (t *TER) CorpusScore(hyps []string, refs [][]string) (TERScore, error) {
	stats, err := t.SegmentStats(hyps, refs)
	if err != nil {
		return TERScore{}, err
	}
	return t.ScoreStats(sumStats(stats, 2)), nil
}

// SentenceScore is the TER of one hypothesis against its references.
func (t *TER) SentenceScore(hyp string, refs []string) TERScore {
	return t.ScoreStats(t.segmentStats(hyp, refs))
}

// StatsLen is 2: [edits, average reference length].
func (t *TER) StatsLen() int { return 2 }

// SegmentStats returns each segment's [fewest edits over the references,
// average reference length].
func (t *TER) SegmentStats(hyps []string, refs [][]string) ([][]float64, error) {
	if err := checkAligned(hyps, refs); err != nil {
		return nil, fmt.Errorf("ter: %w", err)
	}
	stats := make([][]float64, len(hyps))
	for i, h := range hyps {
		stats[i] = t.segmentStats(h, refs[i])
	}
	return stats, nil
}

// Score implements Metric.
func (t *TER) Score(sum []float64) float64 { return t.ScoreStats(sum).Score }

// ScoreStats computes TER from summed [edits, reference length].
func (t *TER) ScoreStats(stats []float64) TERScore {
	edits, refLen := stats[0], stats[1]
	s := TERScore{NumEdits: edits, RefLength: refLen}
	switch {
	case refLen > 0:
		s.Score = 100 * (edits / refLen)
	case edits > 0:
		s.Score = 100 // empty references, non-empty hypothesis
	}
	return s
}

func (t *TER) segmentStats(hyp string, refs []string) []float64 {
	hypWords := pyFields(t.tokenize(pyRStrip(hyp)))
	best := int64(1e16)
	refLengths := 0
	for _, ref := range refs {
		// sacreBLEU tokenizes references twice (once when caching them, once
		// when extracting their words); with Normalized that is not
		// idempotent ("it's\u2009" becomes "it 's"), so we do the same.
		refWords := pyFields(t.tokenize(pyRStrip(t.tokenize(pyRStrip(ref)))))
		edits, n := translationEditRate(hypWords, refWords)
		refLengths += n
		if int64(edits) < best {
			best = int64(edits)
		}
	}
	avg := 0.0
	if len(refs) > 0 {
		avg = float64(refLengths) / float64(len(refs))
	} else {
		best = 0
	}
	return []float64{float64(best), avg}
}

// tokenize is sacreBLEU's TercomTokenizer.
func (t *TER) tokenize(s string) string {
	if s == "" {
		return ""
	}
	if !t.cfg.CaseSensitive {
		s = pyLower(s)
	}
	if t.cfg.Normalized {
		s = normalizeTercomWestern(s)
		if t.cfg.AsianSupport {
			s = normalizeTercomAsian(s)
		}
	}
	if t.cfg.NoPunct {
		s = tercomPunct.ReplaceAllString(s, "")
		if t.cfg.AsianSupport {
			s = tercomAsianPunct.ReplaceAllString(s, "")
			s = tercomFullWidthPunct.ReplaceAllString(s, "")
		}
	}
	return pyJoinFields(s)
}

var (
	tercomPunct          = regexp.MustCompile(`[\.,\?:;!"\(\)]`)
	tercomAsianPunct     = regexp.MustCompile(`[\x{3001}\x{3002}\x{3008}-\x{3011}\x{3014}-\x{301f}\x{ff61}-\x{ff65}\x{30fb}]`)
	tercomFullWidthPunct = regexp.MustCompile(`[\x{ff0e}\x{ff0c}\x{ff1f}\x{ff1a}\x{ff1b}\x{ff01}\x{ff02}\x{ff08}\x{ff09}]`)
	tercomAsianSplit     = regexp.MustCompile(`[\x{4e00}-\x{9fff}\x{3400}-\x{4dbf}\x{31c0}-\x{31ef}\x{2e80}-\x{2eff}\x{3300}-\x{33ff}\x{f900}-\x{faff}\x{fe30}-\x{fe4f}\x{3200}-\x{3f22}]`)
)

// normalizeTercomWestern is tercom's general and Western normalization.
func normalizeTercomWestern(s string) string {
	s = strings.ReplaceAll(s, "\n-", "")
	s = strings.ReplaceAll(s, "\n", " ")
	s = strings.ReplaceAll(s, "&quot;", `"`)
	s = strings.ReplaceAll(s, "&amp;", "&")
	s = strings.ReplaceAll(s, "&lt;", "<")
	s = strings.ReplaceAll(s, "&gt;", ">")
	s = " " + s + " "
	buf := make([]byte, 0, 2*len(s))
	for i := 0; i < len(s); i++ {
		if c := s[i]; mtevalSymbol(c) {
			buf = append(buf, ' ', c, ' ')
		} else {
			buf = append(buf, c)
		}
	}
	// Possessives: "'s " → " 's ". ("'s$" cannot match: s ends in a space.)
	buf = []byte(strings.ReplaceAll(string(buf), "'s ", " 's "))
	buf = substitutePairs(buf, func(a, b byte) bool { return !isDigit(a) && (b == '.' || b == ',') }, pairSpaceAfterBoth)
	buf = substitutePairs(buf, func(a, b byte) bool { return (a == '.' || a == ',') && !isDigit(b) }, pairSpaceBefore)
	buf = substitutePairs(buf, func(a, b byte) bool { return isDigit(a) && b == '-' }, pairSpaceAfterBoth)
	return string(buf)
}

// normalizeTercomAsian splits CJK characters and punctuation into tokens of
// their own. sacreBLEU's kana rules are anchored at the start of the string,
// which after the Western normalization is always a space, so they never
// apply and are left out.
func normalizeTercomAsian(s string) string {
	s = tercomAsianSplit.ReplaceAllString(s, " $0 ")
	s = tercomAsianPunct.ReplaceAllString(s, " $0 ")
	return tercomFullWidthPunct.ReplaceAllString(s, " $0 ")
}
