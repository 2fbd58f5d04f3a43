package retrieve

import (
	"context"
	"fmt"
	"math"
)

// MMR re-ranks candidates by maximal marginal relevance: each next hit
// maximizes Lambda·relevance − (1−Lambda)·(largest cosine similarity to a
// hit already chosen). Relevance is the candidate's score scaled to [0, 1]
// over the candidates. Lambda 0 (the zero value) turns MMR off; 1 is pure
// relevance.
type MMR struct {
	Lambda float64
}

// diversify applies MMR using the candidates' vectors: stored ones when
// the VectorSearcher is a VectorSource, else embeddings of their texts.
func (r *Retriever) diversify(ctx context.Context, q Query, cands []candidate) ([]candidate, error) {
	vecs, err := r.candidateVectors(ctx, cands)
	if err != nil {
		return nil, err
	}
	return mmr(cands, vecs, q.MMR.Lambda, q.K), nil
}

func (r *Retriever) candidateVectors(ctx context.Context, cands []candidate) ([][]float32, error) {
	if !r.HasVectors() {
		return nil, fmt.Errorf("retrieve: mmr: %w", ErrNoVectors)
	}
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.id
	}
	if src, ok := r.Vector.(VectorSource); ok {
		return src.Vectors(ctx, ids)
	}
	ps, err := r.Passages.Passages(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("retrieve: mmr: %w", err)
	}
	if len(ps) != len(ids) {
		return nil, fmt.Errorf("retrieve: mmr: %d of %d candidates are gone", len(ids)-len(ps), len(ids))
	}
	texts := make([]string, len(ps))
	for i, p := range ps {
		texts[i] = p.Chunk.Text
	}
	return r.Embed(ctx, texts)
}

// mmr picks k of cands (whose vectors are vecs) greedily.
func mmr(cands []candidate, vecs [][]float32, lambda float64, k int) []candidate {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, c := range cands {
		lo, hi = min(lo, c.score), max(hi, c.score)
	}
	relevance := func(c candidate) float64 {
		if hi == lo {
			return 1
		}
		return (c.score - lo) / (hi - lo)
	}
	used := make([]bool, len(cands))
	redundancy := make([]float64, len(cands)) // max similarity to a chosen one
	for i := range redundancy {
		redundancy[i] = math.Inf(-1)
	}
	out := make([]candidate, 0, k)
	for len(out) < k && len(out) < len(cands) {
		best, bestScore := -1, math.Inf(-1)
		for i, c := range cands {
			if used[i] {
				continue
			}
			red := max(redundancy[i], 0)
			if s := lambda*relevance(c) - (1-lambda)*red; s > bestScore {
				best, bestScore = i, s
			}
		}
		used[best] = true
		c := cands[best]
		c.exp.MMR = &MMRPart{Relevance: relevance(c), Redundancy: max(redundancy[best], 0), Score: bestScore}
		out = append(out, c)
		for i := range cands {
			if !used[i] {
				redundancy[i] = max(redundancy[i], cosine(vecs[i], vecs[best]))
			}
		}
	}
	return out
}

func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}
