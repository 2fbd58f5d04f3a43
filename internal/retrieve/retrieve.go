package retrieve

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"

	"flywheel/internal/chunk"
	"flywheel/internal/index"
)

// Embedder turns texts into vectors (one per text, all of one dimension).
type Embedder func(ctx context.Context, texts []string) ([][]float32, error)

// VectorHit is one chunk found by vector search; Score is its similarity
// to the query (cosine or dot product), larger is closer.
type VectorHit struct {
	ChunkID string
	Score   float64
}

// VectorSearcher finds the k chunks nearest to a query vector, skipping
// those for which keep returns false (keep may be nil).
type VectorSearcher interface {
	SearchVector(ctx context.Context, query []float32, k int, keep func(chunkID string) bool) ([]VectorHit, error)
}

// VectorSource, when a VectorSearcher also implements it, gives MMR the
// stored vectors of chunks instead of embedding their texts again.
type VectorSource interface {
	Vectors(ctx context.Context, chunkIDs []string) ([][]float32, error)
}

// DocInfo is what a filter can see of a chunk's document.
type DocInfo struct {
	ID, Path, Title string
	Meta            map[string]string
}

// Passage is a chunk with its document.
type Passage struct {
	Chunk chunk.Chunk
	Doc   DocInfo
}

// PassageSource resolves chunk IDs to passages, in order, skipping unknown
// ones; DocOf returns a chunk's document without its text (for filters,
// and fast: it is called for every candidate).
type PassageSource interface {
	Passages(ctx context.Context, chunkIDs []string) ([]Passage, error)
	DocOf(chunkID string) (DocInfo, bool)
}

// Mode chooses how candidates are found.
type Mode string

const (
	ModeBM25   Mode = "bm25"
	ModeVector Mode = "vector"
	ModeHybrid Mode = "hybrid"
)

// ParseMode reads a --mode value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeBM25, ModeVector, ModeHybrid:
		return m, nil
	}
	return "", fmt.Errorf("retrieve: unknown mode %q: use bm25, vector or hybrid", s)
}

// ErrNoVectors is returned for vector or hybrid search when no embedding
// model or vector index is configured.
var ErrNoVectors = errors.New("no embedding model configured: only bm25 retrieval is available")

// Reranker scores passages against a query (a cross-encoder, say);
// larger is more relevant. It returns one score per passage.
type Reranker func(ctx context.Context, query string, passages []Passage) ([]float64, error)

// Retriever searches one collection. BM25 and Passages are required;
// Vector and Embed enable the vector and hybrid modes; Rerank, when set,
// reorders the candidates before the top K are kept.
type Retriever struct {
	BM25     *index.BM25
	Vector   VectorSearcher
	Embed    Embedder
	Passages PassageSource
	Rerank   Reranker
}

// HasVectors reports whether vector and hybrid search are available.
func (r *Retriever) HasVectors() bool { return r.Vector != nil && r.Embed != nil }

// DefaultMode is hybrid when vectors are available, else bm25.
func (r *Retriever) DefaultMode() Mode {
	if r.HasVectors() {
		return ModeHybrid
	}
	return ModeBM25
}

// Query is one search. The zero value of every field but Text works.
type Query struct {
	Text string
	// K is how many hits to return (default 10).
	K int
	// Mode defaults to DefaultMode.
	Mode Mode
	// Filter keeps only matching chunks.
	Filter Filter
	// Fusion weighs the two lists of a hybrid search.
	Fusion Fusion
	// MMR, when Lambda > 0, re-ranks for diversity.
	MMR MMR
	// Candidates is how many hits each list contributes before fusion or
	// MMR (default max(4·K, 50)).
	Candidates int
}

// Hit is one passage with its score and how the score arose.
type Hit struct {
	Passage
	// Score orders the hits: BM25 score, similarity, or fused score by
	// mode.
	Score       float64
	Explanation Explanation
}

// Search runs q.
func (r *Retriever) Search(ctx context.Context, q Query) ([]Hit, error) {
	if q.K <= 0 {
		q.K = 10
	}
	if q.Mode == "" {
		q.Mode = r.DefaultMode()
	}
	if q.Candidates <= 0 {
		q.Candidates = max(4*q.K, 50)
	}
	if q.Mode != ModeBM25 && !r.HasVectors() {
		return nil, fmt.Errorf("retrieve: %s search: %w", q.Mode, ErrNoVectors)
	}
	keep, err := r.keeper(q.Filter)
	if err != nil {
		return nil, err
	}
	var cands []candidate
	switch q.Mode {
	case ModeBM25:
		n := q.K
		if q.MMR.Lambda > 0 || r.Rerank != nil {
			n = q.Candidates
		}
		cands = r.bm25(q.Text, n, keep)
	case ModeVector:
		cands, err = r.vector(ctx, q.Text, q.Candidates, keep)
	case ModeHybrid:
		cands, err = r.hybrid(ctx, q, keep)
	default:
		_, err = ParseMode(string(q.Mode))
	}
	if err != nil {
		return nil, err
	}
	if q.MMR.Lambda > 0 && len(cands) > q.K {
		if cands, err = r.diversify(ctx, q, cands); err != nil {
			return nil, err
		}
	}
	if r.Rerank != nil {
		return r.rerank(ctx, q, cands)
	}
	if len(cands) > q.K {
		cands = cands[:q.K]
	}
	return r.resolve(ctx, q.Text, cands)
}

// rerank scores the first Candidates candidates with the Reranker and
// keeps the K best.
func (r *Retriever) rerank(ctx context.Context, q Query, cands []candidate) ([]Hit, error) {
	if len(cands) > q.Candidates {
		cands = cands[:q.Candidates]
	}
	hits, err := r.resolve(ctx, q.Text, cands)
	if err != nil {
		return nil, err
	}
	ps := make([]Passage, len(hits))
	for i, h := range hits {
		ps[i] = h.Passage
	}
	scores, err := r.Rerank(ctx, q.Text, ps)
	if err != nil {
		return nil, fmt.Errorf("retrieve: rerank: %w", err)
	}
	if len(scores) != len(hits) {
		return nil, fmt.Errorf("retrieve: rerank: %d scores for %d passages", len(scores), len(hits))
	}
	for i := range hits {
		hits[i].Explanation.Rerank = &RerankPart{Score: scores[i], Rank: i + 1}
		hits[i].Score = scores[i]
	}
	slices.SortStableFunc(hits, func(a, b Hit) int { return cmp.Compare(b.Score, a.Score) })
	return hits[:min(len(hits), q.K)], nil
}

// candidate is a chunk ID with its score and explanation so far.
type candidate struct {
	id    string
	score float64
	exp   Explanation
}

func (r *Retriever) bm25(text string, k int, keep func(string) bool) []candidate {
	hits := r.BM25.Search(text, k, keep)
	out := make([]candidate, len(hits))
	for i, h := range hits {
		out[i] = candidate{h.ChunkID, h.Score, Explanation{BM25: &BM25Part{Score: h.Score, Rank: i + 1}}}
	}
	return out
}

func (r *Retriever) vector(ctx context.Context, text string, k int, keep func(string) bool) ([]candidate, error) {
	vecs, err := r.Embed(ctx, []string{text})
	if err != nil {
		return nil, fmt.Errorf("retrieve: embedding the query: %w", err)
	}
	if len(vecs) != 1 {
		return nil, fmt.Errorf("retrieve: embedding the query: got %d vectors for 1 text", len(vecs))
	}
	hits, err := r.Vector.SearchVector(ctx, vecs[0], k, keep)
	if err != nil {
		return nil, fmt.Errorf("retrieve: vector search: %w", err)
	}
	out := make([]candidate, len(hits))
	for i, h := range hits {
		out[i] = candidate{h.ChunkID, h.Score, Explanation{Vector: &VectorPart{Similarity: h.Score, Rank: i + 1}}}
	}
	return out, nil
}

func (r *Retriever) hybrid(ctx context.Context, q Query, keep func(string) bool) ([]candidate, error) {
	lexical := r.bm25(q.Text, q.Candidates, keep)
	semantic, err := r.vector(ctx, q.Text, q.Candidates, keep)
	if err != nil {
		return nil, err
	}
	return fuse(q.Fusion, lexical, semantic), nil
}

// resolve fetches the passages of the candidates and explains BM25 scores.
func (r *Retriever) resolve(ctx context.Context, query string, cands []candidate) ([]Hit, error) {
	ids := make([]string, len(cands))
	for i, c := range cands {
		ids[i] = c.id
	}
	ps, err := r.Passages.Passages(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("retrieve: %w", err)
	}
	byID := make(map[string]Passage, len(ps))
	for _, p := range ps {
		byID[p.Chunk.ID] = p
	}
	hits := make([]Hit, 0, len(cands))
	for _, c := range cands {
		p, ok := byID[c.id]
		if !ok {
			continue // deleted since it was indexed
		}
		if c.exp.BM25 != nil {
			if e, ok := r.BM25.Explain(query, c.id); ok {
				c.exp.BM25.Terms, c.exp.BM25.Length, c.exp.BM25.AvgLength = e.Terms, e.Length, e.AvgLen
			}
		}
		hits = append(hits, Hit{Passage: p, Score: c.score, Explanation: c.exp})
	}
	return hits, nil
}
