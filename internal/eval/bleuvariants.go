package eval

import (
	"math"
	"strings"
)

// NMTBLEUScore is the result of Hugging Face evaluate's "bleu" metric, on a
// 0–1 scale.
type NMTBLEUScore struct {
	BLEU              float64   `json:"bleu"`
	Precisions        []float64 `json:"precisions"`
	BrevityPenalty    float64   `json:"brevity_penalty"`
	LengthRatio       float64   `json:"length_ratio"`
	TranslationLength int       `json:"translation_length"`
	ReferenceLength   int       `json:"reference_length"`
}

// NMTBLEU is Hugging Face evaluate's "bleu": tensorflow/nmt's compute_bleu
// on 13a tokens. It differs from sacreBLEU: the reference length is the
// shortest reference (not the closest), there is no smoothing unless smooth
// (add-one on every order), and any zero precision makes the score 0.
// maxOrder 0 means 4.
func NMTBLEU(hyps []string, refs [][]string, maxOrder int, smooth bool) NMTBLEUScore {
	if maxOrder <= 0 {
		maxOrder = 4
	}
	matches := make([]float64, maxOrder)
	possible := make([]float64, maxOrder)
	refLen, hypLen := 0, 0
	for i, h := range hyps {
		hypToks := tokenize13a(h)
		merged := map[string]int32{}
		shortest := -1
		for _, r := range refs[i] {
			toks := tokenize13a(r)
			if shortest < 0 || len(toks) < shortest {
				shortest = len(toks)
			}
			one := map[string]int32{}
			countNgrams(toks, maxOrder, one)
			for g, c := range one {
				merged[g] = max(merged[g], c)
			}
		}
		refLen += max(shortest, 0)
		hypLen += len(hypToks)
		counts := map[string]int32{}
		countNgrams(hypToks, maxOrder, counts)
		for g, c := range counts {
			if r := merged[g]; r > 0 {
				matches[strings.Count(g, " ")] += float64(min(c, r))
			}
		}
		for order := 1; order <= maxOrder; order++ {
			if p := len(hypToks) - order + 1; p > 0 {
				possible[order-1] += float64(p)
			}
		}
	}
	s := NMTBLEUScore{Precisions: make([]float64, maxOrder), TranslationLength: hypLen, ReferenceLength: refLen}
	minPrec := math.Inf(1)
	for i := range s.Precisions {
		switch {
		case smooth:
			s.Precisions[i] = (matches[i] + 1) / (possible[i] + 1)
		case possible[i] > 0:
			s.Precisions[i] = matches[i] / possible[i]
		}
		minPrec = min(minPrec, s.Precisions[i])
	}
	geoMean := 0.0
	if minPrec > 0 {
		logSum := 0.0
		for _, p := range s.Precisions {
			logSum += 1 / float64(maxOrder) * math.Log(p)
		}
		geoMean = math.Exp(logSum)
	}
	if refLen > 0 {
		s.LengthRatio = float64(hypLen) / float64(refLen)
	}
	switch {
	case s.LengthRatio > 1:
		s.BrevityPenalty = 1
	case s.LengthRatio > 0:
		s.BrevityPenalty = math.Exp(1 - 1/s.LengthRatio)
	}
	s.BLEU = geoMean * s.BrevityPenalty
	return s
}

// GoogleBLEU is the GLEU of Wu et al. (2016) as Hugging Face evaluate's
// "google_bleu" computes it (NLTK's corpus_gleu on 13a tokens), on a 0–1
// scale: for each segment, the n-gram matches (orders minLen..maxLen) over
// the larger of the hypothesis and reference n-gram counts, taking the
// reference with the best ratio; then matches and counts are summed over
// the corpus. minLen 0 means 1 and maxLen 0 means 4.
func GoogleBLEU(hyps []string, refs [][]string, minLen, maxLen int) float64 {
	if minLen <= 0 {
		minLen = 1
	}
	if maxLen <= 0 {
		maxLen = 4
	}
	var corpusMatch, corpusAll int64
	for i, h := range hyps {
		hypGrams := everygrams(tokenize13a(h), minLen, maxLen)
		tpfp := int64(0)
		for _, c := range hypGrams {
			tpfp += int64(c)
		}
		found := false
		var bestMatch, bestAll int64
		for _, r := range refs[i] {
			refGrams := everygrams(tokenize13a(r), minLen, maxLen)
			var tpfn, tp int64
			for g, c := range refGrams {
				tpfn += int64(c)
				tp += int64(min(c, hypGrams[g]))
			}
			all := max(tpfp, tpfn)
			if all == 0 {
				continue
			}
			if !found || float64(tp)/float64(all) > float64(bestMatch)/float64(bestAll) {
				found, bestMatch, bestAll = true, tp, all
			}
		}
		corpusMatch += bestMatch
		corpusAll += bestAll
	}
	if corpusAll == 0 {
		return 0
	}
	return float64(corpusMatch) / float64(corpusAll)
}

// everygrams counts the n-grams of toks for n in minLen..maxLen.
func everygrams(toks []string, minLen, maxLen int) map[string]int32 {
	all := map[string]int32{}
	countNgrams(toks, maxLen, all)
	if minLen > 1 {
		for g := range all {
			if strings.Count(g, " ")+1 < minLen {
				delete(all, g)
			}
		}
	}
	return all
}
