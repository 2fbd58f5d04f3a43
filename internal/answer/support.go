package answer

import (
	"math"

	"flywheel/internal/retrieve"
)

// DefaultMinSupport is the retrieval support below which the pipeline
// says "I don't know". Measured on XQuAD (English, 1190 questions, BM25,
// top 5 passages): at 0.3, 3.2 % of the questions whose paragraph is in
// the collection are refused, and 54 % of those asked with their
// paragraph removed (its article's other paragraphs, the hardest
// distractors, left in). See TestSupportCalibration.
const DefaultMinSupport = 0.3

// support measures how well the retrieved passages support an answer to
// the question, in [0, 1]: the mean of two coverages of the question's
// terms, each weighted by rarity —
//
//   - by the best single sentence of the passages, with weights (IDF)
//     measured over those sentences, a question term that none holds
//     weighing most: a good answer sentence holds most of the question;
//   - by the top hit's BM25 match, with the collection's own IDF from the
//     hit's explanation; a question term that matched no hit gets the IDF
//     of a term found nowhere. The ratio does not grow with the size of
//     the collection, as raw BM25 scores do.
//
// Without a BM25 explanation (vector search) it is the sentence coverage
// alone. On XQuAD the sentence coverage alone separates answerable from
// unanswerable questions with ROC AUC 0.903, the BM25 coverage 0.923 and
// their mean 0.926.
func (e *evidence) support() float64 {
	s := e.sentenceSupport()
	if b, ok := bm25Coverage(e.nTerms, e.hits); ok {
		return (s + b) / 2
	}
	return s
}

// bm25Coverage is the share of the question's IDF mass, by the
// collection's IDF, that the top hit's matching terms hold; ok is false
// when the top hit has no BM25 explanation. nTerms is the number of
// distinct question terms (as terms counts them), which tells how many
// terms matched no hit at all.
func bm25Coverage(nTerms int, hits []retrieve.Hit) (cov float64, ok bool) {
	if len(hits) == 0 {
		return 0, true
	}
	if hits[0].Explanation.BM25 == nil {
		return 0, false
	}
	idf := map[string]float64{}
	docs := 0.0 // chunks in the collection, recovered from an IDF and its DF
	for _, h := range hits {
		if h.Explanation.BM25 == nil {
			continue
		}
		for _, t := range h.Explanation.BM25.Terms {
			idf[t.Term] = t.IDF
			docs = max(docs, (math.Exp(t.IDF)-1)*(float64(t.DF)+0.5)+float64(t.DF)-0.5)
		}
	}
	var total float64
	for _, v := range idf {
		total += v
	}
	total += float64(max(0, nTerms-len(idf))) * math.Log(1+(docs+0.5)/0.5)
	if total == 0 {
		return 0, true
	}
	var matched float64
	for _, t := range hits[0].Explanation.BM25.Terms {
		matched += t.IDF
	}
	return min(matched/total, 1), true
}
