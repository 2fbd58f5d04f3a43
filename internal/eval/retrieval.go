package eval

import (
	"fmt"
	"math"
	"sort"
)

// Qrels are one query's relevance judgments: document ID → grade. A grade
// above 0 is relevant; nDCG uses the grade as the gain.
type Qrels map[string]float64

func (q Qrels) relevantCount() int {
	n := 0
	for _, g := range q {
		if g > 0 {
			n++
		}
	}
	return n
}

// topK returns the first k retrieved IDs without repeats (k <= 0: all), as
// trec_eval reads a run.
func topK(retrieved []string, k int) []string {
	seen := make(map[string]bool, len(retrieved))
	var out []string
	for _, id := range retrieved {
		if k > 0 && len(out) == k {
			break
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func hits(retrieved []string, rel Qrels) int {
	n := 0
	for _, id := range retrieved {
		if rel[id] > 0 {
			n++
		}
	}
	return n
}

// RecallAt is the fraction of the relevant documents found in the first k
// results (0 when nothing is relevant).
func RecallAt(retrieved []string, rel Qrels, k int) float64 {
	n := rel.relevantCount()
	if n == 0 {
		return 0
	}
	return float64(hits(topK(retrieved, k), rel)) / float64(n)
}

// PrecisionAt is the fraction of the first k results that are relevant,
// dividing by k even when fewer were retrieved (trec_eval's P_k).
func PrecisionAt(retrieved []string, rel Qrels, k int) float64 {
	top := topK(retrieved, k)
	d := k
	if k <= 0 {
		d = len(top)
	}
	if d == 0 {
		return 0
	}
	return float64(hits(top, rel)) / float64(d)
}

// ReciprocalRank is 1/rank of the first relevant result within the first k
// (0 if none).
func ReciprocalRank(retrieved []string, rel Qrels, k int) float64 {
	for i, id := range topK(retrieved, k) {
		if rel[id] > 0 {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// NDCGAt is the normalized discounted cumulative gain of the first k
// results: Σ grade/log2(rank+1) over the ideal ordering's (trec_eval's
// ndcg_cut, linear gains).
func NDCGAt(retrieved []string, rel Qrels, k int) float64 {
	top := topK(retrieved, k)
	dcg := 0.0
	for i, id := range top {
		if g := rel[id]; g > 0 {
			dcg += g / math.Log2(float64(i+2))
		}
	}
	var grades []float64
	for _, g := range rel {
		if g > 0 {
			grades = append(grades, g)
		}
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(grades)))
	if k > 0 && len(grades) > k {
		grades = grades[:k]
	}
	idcg := 0.0
	for i, g := range grades {
		idcg += g / math.Log2(float64(i+2))
	}
	if idcg == 0 {
		return 0
	}
	return dcg / idcg
}

// AveragePrecision is the mean, over all relevant documents, of the
// precision at the rank where each is found within the first k (0 for the
// ones not found) — trec_eval's map_cut for one query.
func AveragePrecision(retrieved []string, rel Qrels, k int) float64 {
	n := rel.relevantCount()
	if n == 0 {
		return 0
	}
	found, sum := 0, 0.0
	for i, id := range topK(retrieved, k) {
		if rel[id] > 0 {
			found++
			sum += float64(found) / float64(i+1)
		}
	}
	return sum / float64(n)
}

// RetrievalScores are the retrieval metrics at a cutoff, each averaged over
// queries (MRR and MAP are the means of ReciprocalRank and
// AveragePrecision).
type RetrievalScores struct {
	K         int     `json:"k"`
	Recall    float64 `json:"recall"`
	Precision float64 `json:"precision"`
	MRR       float64 `json:"mrr"`
	NDCG      float64 `json:"ndcg"`
	MAP       float64 `json:"map"`
	Queries   int     `json:"queries"`
}

// Retrieval averages every metric at cutoff k (k <= 0: no cutoff) over the
// queries: runs[i] is the ranked result of query i and qrels[i] its
// judgments.
func Retrieval(runs [][]string, qrels []Qrels, k int) (RetrievalScores, error) {
	if len(runs) != len(qrels) {
		return RetrievalScores{}, fmt.Errorf("retrieval: %d runs but %d judgment sets", len(runs), len(qrels))
	}
	s := RetrievalScores{K: k, Queries: len(runs)}
	if len(runs) == 0 {
		return s, nil
	}
	for i, run := range runs {
		s.Recall += RecallAt(run, qrels[i], k)
		s.Precision += PrecisionAt(run, qrels[i], k)
		s.MRR += ReciprocalRank(run, qrels[i], k)
		s.NDCG += NDCGAt(run, qrels[i], k)
		s.MAP += AveragePrecision(run, qrels[i], k)
	}
	n := float64(len(runs))
	s.Recall /= n
	s.Precision /= n
	s.MRR /= n
	s.NDCG /= n
	s.MAP /= n
	return s, nil
}
