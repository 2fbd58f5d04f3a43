package answer

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Extractive answers quote the sentences of the retrieved passages that
// hold the most of the question's weighted terms (see evidence.coverage),
// a passage's rank breaking near-ties. On XQuAD (1190 questions, top 5
// BM25 passages) the best sentence holds the gold answer for 79.1 % of
// the questions, the best 3 for 91.8 %; the default rule below, which
// adds a second and third sentence only when they score at least half the
// best, for 89.3 %. An answer-kind bonus (numbers for "how many", names
// for "who") and blending in the passage's coverage moved it by < 0.3
// points and were left out.
const (
	// rankDecay lowers the score of a sentence of the hit at rank r (from
	// 0) by the factor 1/(1 + rankDecay·r).
	rankDecay = 0.3
	// companionShare: a second or third sentence is quoted only when it
	// scores at least this share of the best.
	companionShare = 0.5
)

// extractive answers with the best sentences, each cited by its offsets
// in its document; confidence is the retrieval support.
func (p *Pipeline) extractive(a *Answer, ev *evidence) {
	chosen := ev.best(p.sentences())
	if len(chosen) == 0 {
		a.tracef("no sentence of the passages holds a word of the question, so I don't know")
		a.abstain()
		return
	}
	var b strings.Builder
	docs := map[string]bool{}
	for i, s := range chosen {
		h := ev.hits[s.hit]
		docs[h.Chunk.DocID] = true
		a.Citations = append(a.Citations, Citation{Number: i + 1, DocID: h.Chunk.DocID, ChunkID: h.Chunk.ID,
			Title: h.Doc.Title, Path: h.Doc.Path, Text: s.text, Start: s.start, End: s.end})
		if i > 0 && !endsCJK(chosen[i-1].text) {
			b.WriteByte(' ')
		}
		b.WriteString(s.text)
		if !endsCJK(s.text) {
			b.WriteByte(' ')
		}
		b.WriteString("[" + strconv.Itoa(i+1) + "]")
	}
	a.Text = b.String()
	a.Confidence = a.Support
	a.tracef("no model: quoted the %s, from %s", plural(len(chosen), "best-supporting sentence"), plural(len(docs), "document"))
}

// plural is "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return strconv.Itoa(n) + " " + thing + "s"
}

// endsCJK reports whether s ends with a CJK character or punctuation mark,
// after which no space is written.
func endsCJK(s string) bool {
	r, _ := utf8.DecodeLastRuneInString(s)
	return isCJK(r) || r >= 0x3000 && r <= 0x303F || r >= 0xFF00 && r <= 0xFFEF
}

// score is how well s answers the question.
func (e *evidence) score(s sentence) float64 {
	return e.coverage(s.terms) / (1 + rankDecay*float64(s.hit))
}

// best returns up to n sentences, best first: the best-scoring one and the
// next ones that score at least companionShare of it, none overlapping
// another in its document, none holding no question term.
func (e *evidence) best(n int) []sentence {
	order := make([]int, len(e.sentences))
	scores := make([]float64, len(e.sentences))
	for i, s := range e.sentences {
		order[i], scores[i] = i, e.score(s)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	var out []sentence
	for _, i := range order {
		if len(out) == n || scores[i] == 0 || len(out) > 0 && scores[i] < companionShare*scores[order[0]] {
			break
		}
		if s := e.sentences[i]; !e.overlapsAny(s, out) {
			out = append(out, s)
		}
	}
	return out
}

// overlapsAny reports whether s shares text with one of chosen.
func (e *evidence) overlapsAny(s sentence, chosen []sentence) bool {
	doc := e.hits[s.hit].Chunk.DocID
	for _, c := range chosen {
		if e.hits[c.hit].Chunk.DocID == doc && s.start < c.end && c.start < s.end {
			return true
		}
	}
	return false
}

// sentenceSupport is the best sentence's coverage of the question: the
// share of its weighted terms that one retrieved sentence holds.
func (e *evidence) sentenceSupport() float64 {
	best := 0.0
	for _, s := range e.sentences {
		best = max(best, e.coverage(s.terms))
	}
	return best
}
