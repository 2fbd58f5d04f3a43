package eval

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// NormalizeAnswer is the official SQuAD normalization: lowercase, remove
// ASCII punctuation, remove the articles a/an/the (as whole words, Unicode
// word boundaries as Python's re), and collapse whitespace.
func NormalizeAnswer(s string) string {
	s = pyLower(s)
	s = strings.Map(func(r rune) rune {
		if isASCIIPunct(r) {
			return -1
		}
		return r
	}, s)
	return pyJoinFields(removeArticles(s))
}

// removeArticles is re.sub(r'\b(a|an|the)\b', ' ', s): a maximal run of
// word characters equal to an article becomes a space.
func removeArticles(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	runStart := -1
	flush := func(end int) {
		if runStart < 0 {
			return
		}
		switch w := s[runStart:end]; w {
		case "a", "an", "the":
			b.WriteByte(' ')
		default:
			b.WriteString(w)
		}
		runStart = -1
	}
	for i, r := range s {
		if pyIsWord(r) {
			if runStart < 0 {
				runStart = i
			}
			continue
		}
		flush(i)
		b.WriteRune(r)
	}
	flush(len(s))
	return b.String()
}

// SQuADExact reports whether prediction equals gold after NormalizeAnswer.
func SQuADExact(prediction, gold string) bool {
	return NormalizeAnswer(prediction) == NormalizeAnswer(gold)
}

// SQuADF1 is the token-overlap F1 (0..1) of the SQuAD v1.1 script: 0 when no
// normalized token is shared, including when either side is empty.
func SQuADF1(prediction, gold string) float64 {
	return tokenF1(pyFields(NormalizeAnswer(prediction)), pyFields(NormalizeAnswer(gold)))
}

// squadV2F1 is compute_f1 of the SQuAD v2.0 script: as SQuADF1, except that
// when either side has no tokens the F1 is 1 if both have none.
func squadV2F1(prediction, gold string) float64 {
	p, g := pyFields(NormalizeAnswer(prediction)), pyFields(NormalizeAnswer(gold))
	if len(p) == 0 || len(g) == 0 {
		if len(p) == len(g) {
			return 1
		}
		return 0
	}
	return tokenF1(p, g)
}

// tokenF1 is the F1 of the multiset overlap of two token lists.
func tokenF1(pred, gold []string) float64 {
	counts := map[string]int{}
	for _, t := range gold {
		counts[t]++
	}
	same := 0
	for _, t := range pred {
		if counts[t] > 0 {
			counts[t]--
			same++
		}
	}
	if same == 0 {
		return 0
	}
	p := float64(same) / float64(len(pred))
	r := float64(same) / float64(len(gold))
	return 2 * p * r / (p + r)
}

// QAScore is an exact-match and F1 score on a 0–100 scale.
type QAScore struct {
	ExactMatch float64 `json:"exact_match"`
	F1         float64 `json:"f1"`
	Total      int     `json:"total"`
}

// SQuAD scores predictions as the official SQuAD v1.1 script: per question
// the best EM and F1 over its gold answers, averaged over questions, ×100.
// golds[i] holds the gold answers of predictions[i].
func SQuAD(predictions []string, golds [][]string) (QAScore, error) {
	if err := checkAligned(predictions, golds); err != nil {
		return QAScore{}, fmt.Errorf("squad: %w", err)
	}
	em, f1 := 0.0, 0.0
	for i, p := range predictions {
		bestEM, bestF1 := 0.0, 0.0
		for _, g := range golds[i] {
			if SQuADExact(p, g) {
				bestEM = 1
			}
			bestF1 = max(bestF1, SQuADF1(p, g))
		}
		em += bestEM
		f1 += bestF1
	}
	return qaMean(em, f1, len(predictions)), nil
}

func qaMean(em, f1 float64, n int) QAScore {
	if n == 0 {
		return QAScore{}
	}
	return QAScore{ExactMatch: 100 * em / float64(n), F1: 100 * f1 / float64(n), Total: n}
}

// SQuADv2Prediction is an answer with the model's probability that the
// question has no answer.
type SQuADv2Prediction struct {
	Text         string  `json:"prediction_text"`
	NoAnswerProb float64 `json:"no_answer_probability"`
}

// SQuADv2Score is the result of the official SQuAD v2.0 script, field names
// as in its output. NoAns* are zero when every question has an answer.
type SQuADv2Score struct {
	Exact           float64 `json:"exact"`
	F1              float64 `json:"f1"`
	Total           int     `json:"total"`
	HasAnsExact     float64 `json:"HasAns_exact"`
	HasAnsF1        float64 `json:"HasAns_f1"`
	HasAnsTotal     int     `json:"HasAns_total"`
	NoAnsExact      float64 `json:"NoAns_exact"`
	NoAnsF1         float64 `json:"NoAns_f1"`
	NoAnsTotal      int     `json:"NoAns_total"`
	BestExact       float64 `json:"best_exact"`
	BestExactThresh float64 `json:"best_exact_thresh"`
	BestF1          float64 `json:"best_f1"`
	BestF1Thresh    float64 `json:"best_f1_thresh"`
}

// SQuADv2 scores predictions as the official SQuAD v2.0 script (as shipped
// in Hugging Face evaluate). golds[i] lists the gold answers of question i;
// an empty list (or only answers that normalize to nothing) marks a question
// without an answer, for which only an empty prediction is right. A
// prediction whose NoAnswerProb exceeds noAnswerThreshold (evaluate's
// default is 1.0) counts as answering "no answer". best_* are the scores at
// the best threshold.
func SQuADv2(predictions []SQuADv2Prediction, golds [][]string, noAnswerThreshold float64) (SQuADv2Score, error) {
	if len(predictions) != len(golds) {
		return SQuADv2Score{}, fmt.Errorf("squad_v2: %d predictions but %d gold answer lists", len(predictions), len(golds))
	}
	n := len(predictions)
	exactRaw, f1Raw := make([]float64, n), make([]float64, n)
	hasAns := make([]bool, n)
	for i, p := range predictions {
		hasAns[i] = len(golds[i]) > 0
		var answers []string
		for _, g := range golds[i] {
			if NormalizeAnswer(g) != "" {
				answers = append(answers, g)
			}
		}
		if len(answers) == 0 {
			answers = []string{""}
		}
		for _, g := range answers {
			if SQuADExact(p.Text, g) {
				exactRaw[i] = 1
			}
			f1Raw[i] = max(f1Raw[i], squadV2F1(p.Text, g))
		}
	}
	applyThreshold := func(raw []float64) []float64 {
		out := make([]float64, n)
		for i, p := range predictions {
			switch {
			case p.NoAnswerProb <= noAnswerThreshold:
				out[i] = raw[i]
			case !hasAns[i]:
				out[i] = 1
			}
		}
		return out
	}
	exact, f1 := applyThreshold(exactRaw), applyThreshold(f1Raw)
	var s SQuADv2Score
	s.Exact, s.F1, s.Total = meanSubset(exact, f1, hasAns, nil)
	want := true
	s.HasAnsExact, s.HasAnsF1, s.HasAnsTotal = meanSubset(exact, f1, hasAns, &want)
	want = false
	s.NoAnsExact, s.NoAnsF1, s.NoAnsTotal = meanSubset(exact, f1, hasAns, &want)
	s.BestExact, s.BestExactThresh = bestThreshold(predictions, exactRaw, hasAns)
	s.BestF1, s.BestF1Thresh = bestThreshold(predictions, f1Raw, hasAns)
	return s, nil
}

// meanSubset averages exact and f1 (×100) over the questions whose hasAns
// equals *only (all questions when only is nil).
func meanSubset(exact, f1 []float64, hasAns []bool, only *bool) (float64, float64, int) {
	var e, f float64
	n := 0
	for i := range exact {
		if only != nil && hasAns[i] != *only {
			continue
		}
		e += exact[i]
		f += f1[i]
		n++
	}
	if n == 0 {
		return 0, 0, 0
	}
	return 100 * e / float64(n), 100 * f / float64(n), n
}

// bestThreshold is find_best_thresh of the SQuAD v2.0 script: the no-answer
// threshold that maximizes the score, scanning questions by increasing
// no-answer probability.
func bestThreshold(preds []SQuADv2Prediction, scores []float64, hasAns []bool) (float64, float64) {
	if len(preds) == 0 {
		return 0, 0
	}
	cur := 0.0
	for _, h := range hasAns {
		if !h {
			cur++
		}
	}
	best, thresh := cur, 0.0
	order := make([]int, len(preds))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return preds[order[a]].NoAnswerProb < preds[order[b]].NoAnswerProb })
	for _, i := range order {
		switch {
		case hasAns[i]:
			cur += scores[i]
		case preds[i].Text != "":
			cur--
		}
		if cur > best {
			best, thresh = cur, preds[i].NoAnswerProb
		}
	}
	return 100 * best / float64(len(scores)), thresh
}

// ExactMatchConfig holds the options of Hugging Face evaluate's
// "exact_match", applied in this order: each regular expression removed
// (Go RE2 syntax, which covers the common Python patterns), then case,
// ASCII punctuation and digits ignored.
type ExactMatchConfig struct {
	RegexesToIgnore   []string
	IgnoreCase        bool
	IgnorePunctuation bool
	IgnoreNumbers     bool
}

// ExactMatch is the fraction (0..1) of predictions equal to their
// reference after the configured normalization, as evaluate's exact_match.
func ExactMatch(predictions, references []string, cfg ExactMatchConfig) (float64, error) {
	if len(predictions) != len(references) {
		return 0, fmt.Errorf("exact_match: %d predictions but %d references", len(predictions), len(references))
	}
	var res []*regexp.Regexp
	for _, pat := range cfg.RegexesToIgnore {
		re, err := regexp.Compile(pat)
		if err != nil {
			return 0, fmt.Errorf("exact_match: regex %q: %w", pat, err)
		}
		res = append(res, re)
	}
	norm := func(s string) string {
		for _, re := range res {
			s = re.ReplaceAllString(s, "")
		}
		if cfg.IgnoreCase {
			s = pyLower(s)
		}
		return strings.Map(func(r rune) rune {
			if (cfg.IgnorePunctuation && isASCIIPunct(r)) || (cfg.IgnoreNumbers && r >= '0' && r <= '9') {
				return -1
			}
			return r
		}, s)
	}
	if len(predictions) == 0 {
		return 0, nil
	}
	same := 0
	for i := range predictions {
		if norm(predictions[i]) == norm(references[i]) {
			same++
		}
	}
	return float64(same) / float64(len(predictions)), nil
}

// cmrcPunct is the CMRC 2018 script's sp_char list ("……" is two characters
// there and so never matches one).
const cmrcPunct = "-:_*^/\\~`+=，。：？！“”；’《》·、「」（）－～『』"

func isCMRCPunct(r rune) bool { return strings.ContainsRune(cmrcPunct, r) }

// isCMRCHan is the script's [\u4e00-\u9fa5].
func isCMRCHan(r rune) bool { return r >= 0x4e00 && r <= 0x9fa5 }

// CMRCSegment is the CMRC 2018 script's mixed_segmentation with rm_punc:
// lowercase and strip; drop sp_char punctuation; every Chinese character
// (U+4E00..U+9FA5) is a token; the text between them is word-tokenized. The
// script calls nltk.word_tokenize there; this uses an approximation of the
// Treebank rules (wordTokenize), which agrees on words, numbers and common
// punctuation.
func CMRCSegment(s string) []string {
	s = pyStrip(pyLower(s))
	var segs []string
	var run strings.Builder
	flush := func() {
		if run.Len() > 0 {
			segs = append(segs, wordTokenize(run.String())...)
			run.Reset()
		}
	}
	for _, r := range s {
		switch {
		case isCMRCPunct(r):
			continue
		case isCMRCHan(r):
			flush()
			segs = append(segs, string(r))
		default:
			run.WriteRune(r)
		}
	}
	flush()
	return segs
}

// CMRCExact reports whether prediction equals gold after lowercasing,
// stripping and removing sp_char punctuation (the script's calc_em_score).
func CMRCExact(prediction, gold string) bool {
	return cmrcRemovePunct(prediction) == cmrcRemovePunct(gold)
}

func cmrcRemovePunct(s string) string {
	return strings.Map(func(r rune) rune {
		if isCMRCPunct(r) {
			return -1
		}
		return r
	}, pyStrip(pyLower(s)))
}

// CMRCF1 is the CMRC 2018 F1 (0..1): the longest common substring of the two
// segmentations, as precision over the prediction and recall over the gold.
func CMRCF1(prediction, gold string) float64 {
	g, p := CMRCSegment(gold), CMRCSegment(prediction)
	l := longestCommonSubstring(g, p)
	if l == 0 {
		return 0
	}
	prec := float64(l) / float64(len(p))
	rec := float64(l) / float64(len(g))
	return 2 * prec * rec / (prec + rec)
}

func longestCommonSubstring(a, b []string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	best := 0
	for i := range a {
		for j := range b {
			if a[i] == b[j] {
				cur[j+1] = prev[j] + 1
				best = max(best, cur[j+1])
			} else {
				cur[j+1] = 0
			}
		}
		prev, cur = cur, prev
	}
	return best
}

// CMRC2018 scores predictions as the CMRC 2018 evaluation script: per
// question the best character-level F1 and exact match over its gold
// answers, averaged over questions, ×100.
func CMRC2018(predictions []string, golds [][]string) (QAScore, error) {
	if err := checkAligned(predictions, golds); err != nil {
		return QAScore{}, fmt.Errorf("cmrc2018: %w", err)
	}
	em, f1 := 0.0, 0.0
	for i, p := range predictions {
		best := 0.0
		for _, g := range golds[i] {
			best = max(best, CMRCF1(p, g))
		}
		f1 += best
		for _, g := range golds[i] {
			if CMRCExact(p, g) {
				em++
				break
			}
		}
	}
	return qaMean(em, f1, len(predictions)), nil
}

// wordTokenize approximates nltk.word_tokenize (Treebank) for the
// non-Chinese runs of CMRC answers: split on whitespace; split off
// brackets, quotes and the punctuation ,;:!?@#$%& (a comma only when not
// between digits), a final period, and the clitics 's 'm 'd 'll 're 've n't.
func wordTokenize(s string) []string {
	var out []string
	for _, w := range pyFields(s) {
		out = append(out, splitWord(w)...)
	}
	if n := len(out); n > 0 {
		if last := out[n-1]; len(last) > 1 && strings.HasSuffix(last, ".") {
			out = append(out[:n-1], last[:len(last)-1], ".")
		}
	}
	return out
}

func splitWord(w string) []string {
	var toks []string
	start := 0
	rs := []rune(w)
	cut := func(i int) {
		if start < i {
			toks = append(toks, string(rs[start:i]))
		}
	}
	for i, r := range rs {
		split := strings.ContainsRune("()[]{}<>\";!?@#$%&", r)
		if r == ',' || r == ':' {
			between := i > 0 && i+1 < len(rs) && unicode.IsDigit(rs[i-1]) && unicode.IsDigit(rs[i+1])
			split = !between
		}
		if split {
			cut(i)
			toks = append(toks, string(r))
			start = i + 1
		}
	}
	cut(len(rs))
	var out []string
	for _, t := range toks {
		out = append(out, splitClitic(t)...)
	}
	return out
}

func splitClitic(t string) []string {
	lower := strings.ToLower(t)
	for _, c := range []string{"n't", "'ll", "'re", "'ve", "'s", "'m", "'d"} {
		if strings.HasSuffix(lower, c) && len(t) > len(c) {
			return []string{t[:len(t)-len(c)], t[len(t)-len(c):]}
		}
	}
	return []string{t}
}
