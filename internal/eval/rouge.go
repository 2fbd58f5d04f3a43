package eval

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RougeConfig holds rouge-score's RougeScorer options. The zero value scores
// rouge1, rouge2, rougeL and rougeLsum with rouge-score's default tokenizer,
// no stemming and newline-separated sentences for rougeLsum.
type RougeConfig struct {
	// Types lists the scores: "rouge1" … "rouge9" (n-gram overlap),
	// "rougeL" (longest common subsequence) and "rougeLsum" (summary-level
	// LCS over sentences). Empty means all four of rouge1, rouge2, rougeL,
	// rougeLsum.
	Types []string
	// UseStemmer applies the Porter stemmer (NLTK mode) to tokens longer
	// than 3 characters.
	UseStemmer bool
	// SplitSummaries splits rougeLsum sentences at sentence punctuation
	// (an approximation of nltk.sent_tokenize, see SplitSentences) instead
	// of at newlines.
	SplitSummaries bool
	// Tokenizer is "" or "default" for rouge-score's tokenizer, which keeps
	// only [a-z0-9] runs after lowercasing and so drops Chinese entirely;
	// or "cjk", this package's extension: every Han, Hiragana and Katakana
	// character is a token of its own and other runs of letters and digits
	// (any script) are tokens, so Chinese and Japanese score by character.
	// With "cjk" the scores are no longer rouge-score's, and Signature says
	// so.
	Tokenizer string
}

// RougeScore is one ROUGE score, each part in 0..1.
type RougeScore struct {
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	FMeasure  float64 `json:"fmeasure"`
}

// Rouge computes ROUGE as Google's rouge-score (PyPI rouge-score, the
// implementation Hugging Face evaluate wraps). Create it with NewRouge; it
// is safe for concurrent use.
type Rouge struct {
	cfg     RougeConfig
	stemmer *PorterStemmer
	orders  []int // n of each type; 0 for rougeL, -1 for rougeLsum
}

// DefaultRougeTypes are the types scored when RougeConfig.Types is empty.
var DefaultRougeTypes = []string{"rouge1", "rouge2", "rougeL", "rougeLsum"}

var rougeNType = regexp.MustCompile(`^rouge[0-9]$`)

// NewRouge checks cfg and fills in its defaults.
func NewRouge(cfg RougeConfig) (*Rouge, error) {
	if len(cfg.Types) == 0 {
		cfg.Types = DefaultRougeTypes
	}
	cfg.Types = append([]string(nil), cfg.Types...)
	switch cfg.Tokenizer {
	case "", "default":
		cfg.Tokenizer = "default"
	case "cjk":
	default:
		return nil, fmt.Errorf("rouge: unknown tokenizer %q: use default or cjk", cfg.Tokenizer)
	}
	r := &Rouge{cfg: cfg}
	if cfg.UseStemmer {
		r.stemmer = NewPorterStemmer(PorterNLTK)
	}
	for _, t := range cfg.Types {
		switch {
		case t == "rougeL":
			r.orders = append(r.orders, 0)
		case t == "rougeLsum":
			r.orders = append(r.orders, -1)
		case rougeNType.MatchString(t) && t != "rouge0":
			r.orders = append(r.orders, int(t[5]-'0'))
		default:
			return nil, fmt.Errorf("rouge: invalid rouge type %q: use rouge1 … rouge9, rougeL or rougeLsum", t)
		}
	}
	return r, nil
}

// Config returns the configuration with its defaults filled in.
func (r *Rouge) Config() RougeConfig { return r.cfg }

// Signature describes the settings, for reports:
// "rouge|tok:default|stem:no|split:newline|rouge-score:0.1.2". rouge-score
// has no signature of its own; "tok:cjk" marks this package's CJK mode.
func (r *Rouge) Signature() string {
	split := "newline"
	if r.cfg.SplitSummaries {
		split = "sentence"
	}
	return fmt.Sprintf("rouge|tok:%s|stem:%s|split:%s|rouge-score:0.1.2", r.cfg.Tokenizer, yesNo(r.cfg.UseStemmer), split)
}

// Score scores prediction against one target, as RougeScorer.score(target,
// prediction): a score per type, in the order of Config().Types.
func (r *Rouge) Score(target, prediction string) []RougeScore {
	var tgt, pred []string
	if len(r.orders) != 1 || r.orders[0] != -1 {
		tgt, pred = r.Tokenize(target), r.Tokenize(prediction)
	}
	out := make([]RougeScore, len(r.orders))
	for i, n := range r.orders {
		switch {
		case n == 0:
			out[i] = scoreLCS(tgt, pred)
		case n < 0:
			out[i] = scoreSummaryLCS(r.sentenceTokens(target), r.sentenceTokens(prediction))
		default:
			out[i] = scoreNgrams(tgt, pred, n)
		}
	}
	return out
}

// ScoreMulti scores prediction against several targets and keeps, per type,
// the score of the target with the best F-measure (the first on ties), as
// RougeScorer.score_multi.
func (r *Rouge) ScoreMulti(targets []string, prediction string) []RougeScore {
	best := make([]RougeScore, len(r.orders))
	for k, t := range targets {
		s := r.Score(t, prediction)
		for i := range s {
			if k == 0 || s[i].FMeasure > best[i].FMeasure {
				best[i] = s[i]
			}
		}
	}
	return best
}

// Corpus scores each prediction against its references (ScoreMulti) and
// returns the mean over predictions per type, what Hugging Face evaluate's
// rouge reports as the "mid" of its bootstrap aggregation (there, a
// resampled estimate of this mean).
func (r *Rouge) Corpus(preds []string, refs [][]string) ([]RougeScore, error) {
	if err := checkAligned(preds, refs); err != nil {
		return nil, fmt.Errorf("rouge: %w", err)
	}
	mean := make([]RougeScore, len(r.orders))
	if len(preds) == 0 {
		return mean, nil
	}
	for i, p := range preds {
		for k, s := range r.ScoreMulti(refs[i], p) {
			mean[k].Precision += s.Precision
			mean[k].Recall += s.Recall
			mean[k].FMeasure += s.FMeasure
		}
	}
	n := float64(len(preds))
	for k := range mean {
		mean[k].Precision /= n
		mean[k].Recall /= n
		mean[k].FMeasure /= n
	}
	return mean, nil
}

// Tokenize splits text as the configured tokenizer does.
func (r *Rouge) Tokenize(text string) []string {
	if r.cfg.Tokenizer == "cjk" {
		return r.tokenizeCJK(text)
	}
	// rouge-score: lowercase, replace every run of non-[a-z0-9] by a space,
	// split, stem tokens longer than 3 characters, keep [a-z0-9]+ tokens.
	text = pyLower(text)
	var toks []string
	for i := 0; i < len(text); {
		if !isLowerAlnum(text[i]) {
			i++
			continue
		}
		j := i
		for j < len(text) && isLowerAlnum(text[j]) {
			j++
		}
		toks = append(toks, r.stem(text[i:j]))
		i = j
	}
	return toks
}

func isLowerAlnum(c byte) bool { return ('a' <= c && c <= 'z') || ('0' <= c && c <= '9') }

func (r *Rouge) stem(tok string) string {
	if r.stemmer == nil || utf8.RuneCountInString(tok) <= 3 {
		return tok
	}
	return r.stemmer.Stem(tok)
}

// tokenizeCJK is the "cjk" tokenizer: Han, Hiragana and Katakana characters
// one token each; runs of other letters, marks and digits as tokens
// (stemmed like the default tokenizer when they are ASCII).
func (r *Rouge) tokenizeCJK(text string) []string {
	text = pyLower(text)
	var toks []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			tok := text[start:end]
			if isASCII(tok) {
				tok = r.stem(tok)
			}
			toks = append(toks, tok)
			start = -1
		}
	}
	for i, c := range text {
		switch {
		case unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana):
			flush(i)
			toks = append(toks, text[i:i+utf8.RuneLen(c)])
		case unicode.IsLetter(c) || unicode.IsDigit(c) || (start >= 0 && unicode.IsMark(c)):
			if start < 0 {
				start = i
			}
		default:
			flush(i)
		}
	}
	flush(len(text))
	return toks
}

// sentenceTokens splits a summary into sentences for rougeLsum (newlines, or
// SplitSentences with SplitSummaries) and tokenizes each non-empty one.
func (r *Rouge) sentenceTokens(text string) [][]string {
	var sents []string
	if r.cfg.SplitSummaries {
		sents = SplitSentences(text)
	} else {
		sents = strings.Split(text, "\n")
	}
	var out [][]string
	for _, s := range sents {
		if s != "" {
			out = append(out, r.Tokenize(s))
		}
	}
	return out
}

func fmeasure(p, r float64) float64 {
	if p+r > 0 {
		return 2 * p * r / (p + r)
	}
	return 0
}

// scoreNgrams is rouge-score's _score_ngrams on n-grams of the tokens.
func scoreNgrams(target, pred []string, n int) RougeScore {
	tg, pg := map[string]int{}, map[string]int{}
	countOrder(target, n, tg)
	countOrder(pred, n, pg)
	inter, tCount, pCount := 0, 0, 0
	for g, c := range tg {
		inter += min(c, pg[g])
		tCount += c
	}
	for _, c := range pg {
		pCount += c
	}
	p := float64(inter) / float64(max(pCount, 1))
	rec := float64(inter) / float64(max(tCount, 1))
	return RougeScore{p, rec, fmeasure(p, rec)}
}

// countOrder counts the n-grams of toks (tokens joined by a space).
func countOrder(toks []string, n int, into map[string]int) {
	for i := 0; i+n <= len(toks); i++ {
		into[strings.Join(toks[i:i+n], " ")]++
	}
}

// scoreLCS is rougeL: longest common subsequence over the lengths.
func scoreLCS(target, pred []string) RougeScore {
	if len(target) == 0 || len(pred) == 0 {
		return RougeScore{}
	}
	t := lcsTable(target, pred)
	l := float64(t[len(target)][len(pred)])
	p, r := l/float64(len(pred)), l/float64(len(target))
	return RougeScore{p, r, fmeasure(p, r)}
}

func lcsTable(ref, can []string) [][]int {
	t := make([][]int, len(ref)+1)
	for i := range t {
		t[i] = make([]int, len(can)+1)
	}
	for i := 1; i <= len(ref); i++ {
		for j := 1; j <= len(can); j++ {
			if ref[i-1] == can[j-1] {
				t[i][j] = t[i-1][j-1] + 1
			} else {
				t[i][j] = max(t[i-1][j], t[i][j-1])
			}
		}
	}
	return t
}

// lcsIndices returns the indices into ref of one longest common
// subsequence, read back as rouge-score's _backtrack_norec does.
func lcsIndices(ref, can []string) []int {
	t := lcsTable(ref, can)
	var idx []int
	i, j := len(ref), len(can)
	for i > 0 && j > 0 {
		switch {
		case ref[i-1] == can[j-1]:
			idx = append(idx, i-1)
			i--
			j--
		case t[i][j-1] > t[i-1][j]:
			j--
		default:
			i--
		}
	}
	return idx
}

// scoreSummaryLCS is rougeLsum: the union LCS of each reference sentence
// with all candidate sentences, counting each token at most as often as it
// occurs on both sides (ROUGE-1.5.5's rule against double counting).
func scoreSummaryLCS(refSents, canSents [][]string) RougeScore {
	if len(refSents) == 0 || len(canSents) == 0 {
		return RougeScore{}
	}
	refCounts, canCounts := map[string]int{}, map[string]int{}
	m, n := 0, 0
	for _, s := range refSents {
		m += len(s)
		for _, t := range s {
			refCounts[t]++
		}
	}
	for _, s := range canSents {
		n += len(s)
		for _, t := range s {
			canCounts[t]++
		}
	}
	if m == 0 || n == 0 {
		return RougeScore{}
	}
	hits := 0
	for _, ref := range refSents {
		union := map[int]bool{}
		for _, can := range canSents {
			for _, i := range lcsIndices(ref, can) {
				union[i] = true
			}
		}
		for i, tok := range ref {
			if !union[i] {
				continue
			}
			if canCounts[tok] > 0 && refCounts[tok] > 0 {
				hits++
				canCounts[tok]--
				refCounts[tok]--
			}
		}
	}
	p, r := float64(hits)/float64(n), float64(hits)/float64(m)
	return RougeScore{p, r, fmeasure(p, r)}
}
