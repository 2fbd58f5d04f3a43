package longdoc

import (
	"math"
	"slices"
	"strings"
	"unicode"

	"flywheel/internal/chunk"
)

// lexicon ranks the passages of one document against a query with BM25
// over lower-cased words: a cheap lexical search for the find action.
type lexicon struct {
	passages []chunk.Chunk
	terms    []map[string]int // term frequencies per passage
	lengths  []int
	df       map[string]int
	avgLen   float64
}

// BM25 parameters, the usual ones.
const (
	bm25K1 = 1.2
	bm25B  = 0.75
)

func newLexicon(passages []chunk.Chunk) *lexicon {
	x := &lexicon{passages: passages, df: map[string]int{}}
	total := 0
	for _, p := range passages {
		tf := map[string]int{}
		words := lexWords(p.Text)
		for _, w := range words {
			tf[w]++
		}
		for w := range tf {
			x.df[w]++
		}
		x.terms = append(x.terms, tf)
		x.lengths = append(x.lengths, len(words))
		total += len(words)
	}
	if len(passages) > 0 {
		x.avgLen = float64(total) / float64(len(passages))
	}
	return x
}

// search returns the indices of the k passages that best match query, in
// the order of the document; passages sharing no word with it are left
// out.
func (x *lexicon) search(query string, k int) []int {
	type hit struct {
		i     int
		score float64
	}
	var hits []hit
	n := float64(len(x.passages))
	q := uniqueWords(query)
	for i, tf := range x.terms {
		score := 0.0
		for _, w := range q {
			f := float64(tf[w])
			if f == 0 {
				continue
			}
			df := float64(x.df[w])
			idf := math.Log(1 + (n-df+0.5)/(df+0.5))
			norm := bm25K1 * (1 - bm25B + bm25B*float64(x.lengths[i])/max(x.avgLen, 1))
			score += idf * f * (bm25K1 + 1) / (f + norm)
		}
		if score > 0 {
			hits = append(hits, hit{i, score})
		}
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	out := make([]int, 0, min(k, len(hits)))
	for _, h := range hits[:min(k, len(hits))] {
		out = append(out, h.i)
	}
	slices.Sort(out)
	return out
}

// lexWords are the lower-cased words of s that carry meaning: runs of
// letters and digits, each Han, Hiragana or Katakana character alone,
// without English stop words and transcript markup such as {vocalsound}.
func lexWords(s string) []string {
	var out []string
	word := func(w string) {
		if !stopWords[w] {
			out = append(out, w)
		}
	}
	start := -1
	for i, r := range s {
		switch {
		case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana):
			if start >= 0 {
				word(strings.ToLower(s[start:i]))
				start = -1
			}
			word(string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if start < 0 {
				start = i
			}
		default:
			if start >= 0 {
				word(strings.ToLower(s[start:i]))
				start = -1
			}
		}
	}
	if start >= 0 {
		word(strings.ToLower(s[start:]))
	}
	return out
}

func uniqueWords(s string) []string {
	words := lexWords(s)
	slices.Sort(words)
	return slices.Compact(words)
}

// stopWords are frequent English function words and the disfluency markup
// of meeting transcripts.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an and are as at be but by do does did for from had has have he her his i if in
		into is it its me my no not of on or our she so than that the their them then there these they this
		to us was we were what when where which who why will with would you your
		um uh mm hmm yeah okay oh
		vocalsound disfmarker gap pause nonvocalsound`) {
		m[w] = true
	}
	return m
}()
