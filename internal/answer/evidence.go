package answer

import (
	"math"

	"flywheel/internal/retrieve"
)

// maxQueryTerms bounds the distinct question terms that are weighed (one
// bit each); a question's later terms beyond it are ignored.
const maxQueryTerms = 64

// evidence is the retrieved passages cut into sentences, each sentence
// knowing which question terms it holds, with an IDF weight for every
// question term measured over those sentences. It scores sentences for
// the extractive answer and measures retrieval support.
type evidence struct {
	hits      []retrieve.Hit
	sentences []sentence
	weight    [maxQueryTerms]float64 // IDF of question term i over the sentences
	total     float64                // Σ weight: the question's whole mass
	nTerms    int                    // distinct question terms
}

// sentence is one sentence of a retrieved passage.
type sentence struct {
	hit        int // index into hits
	start, end int // byte offsets in the document
	text       string
	terms      uint64 // bit i: holds question term i
}

// newEvidence splits hits into sentences and weighs the question's terms.
func newEvidence(question string, hits []retrieve.Hit) *evidence {
	e := &evidence{hits: hits}
	index := map[string]int{}
	for _, t := range terms(question) {
		if _, ok := index[t]; !ok && len(index) < maxQueryTerms {
			index[t] = len(index)
		}
	}
	e.nTerms = len(index)
	seen := map[sentenceKey]bool{} // chunks overlap: a sentence counts once
	for h, hit := range hits {
		c := hit.Chunk
		for _, sp := range sentences(c.Text) {
			s := sentence{hit: h, start: c.Start + sp.start, end: c.Start + sp.end, text: c.Text[sp.start:sp.end]}
			key := sentenceKey{c.DocID, s.start, s.end}
			if seen[key] {
				continue
			}
			seen[key] = true
			eachTerm(s.text, func(t string) {
				if i, ok := index[t]; ok {
					s.terms |= 1 << i
				}
			})
			e.sentences = append(e.sentences, s)
		}
	}
	e.weigh()
	return e
}

// sentenceKey identifies a sentence by its place in its document.
type sentenceKey struct {
	doc        string
	start, end int
}

// weigh sets each question term's IDF over the sentences,
// ln(1 + (N − df + 0.5)/(df + 0.5)) as BM25 has it: a term that no
// sentence holds weighs most, since nothing retrieved supports it.
func (e *evidence) weigh() {
	n := float64(len(e.sentences))
	var df [maxQueryTerms]int
	for _, s := range e.sentences {
		for i := range e.nTerms {
			if s.terms&(1<<i) != 0 {
				df[i]++
			}
		}
	}
	e.total = 0
	for i := range e.nTerms {
		e.weight[i] = math.Log(1 + (n-float64(df[i])+0.5)/(float64(df[i])+0.5))
		e.total += e.weight[i]
	}
}

// coverage is the share of the question's weighted terms that mask holds,
// in [0, 1].
func (e *evidence) coverage(mask uint64) float64 {
	if e.total == 0 {
		return 0
	}
	var sum float64
	for i := range e.nTerms {
		if mask&(1<<i) != 0 {
			sum += e.weight[i]
		}
	}
	return sum / e.total
}
