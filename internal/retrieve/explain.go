package retrieve

import (
	"fmt"
	"strings"

	"flywheel/internal/index"
)

// Explanation says how a hit's score arose: the parts present depend on
// the mode.
type Explanation struct {
	BM25   *BM25Part   `json:"bm25,omitempty"`
	Vector *VectorPart `json:"vector,omitempty"`
	Fusion *FusionPart `json:"fusion,omitempty"`
	MMR    *MMRPart    `json:"mmr,omitempty"`
	Rerank *RerankPart `json:"rerank,omitempty"`
}

// RerankPart is the reranker's score and the rank the hit had before.
type RerankPart struct {
	Score float64 `json:"score"`
	Rank  int     `json:"rank_before"`
}

// BM25Part is the lexical score: its rank in the BM25 list and each
// matching query term's contribution.
type BM25Part struct {
	Score     float64           `json:"score"`
	Rank      int               `json:"rank"`
	Terms     []index.TermScore `json:"terms"`
	Length    int               `json:"length"`
	AvgLength float64           `json:"avg_length"`
}

// VectorPart is the similarity to the query vector and its rank.
type VectorPart struct {
	Similarity float64 `json:"similarity"`
	Rank       int     `json:"rank"`
}

// FusionPart is the reciprocal-rank-fusion score.
type FusionPart struct {
	Score float64 `json:"score"`
}

// MMRPart is the maximal-marginal-relevance trade-off at selection: the
// relevance, the largest similarity to a hit already chosen, and the
// resulting MMR score.
type MMRPart struct {
	Relevance  float64 `json:"relevance"`
	Redundancy float64 `json:"redundancy"`
	Score      float64 `json:"score"`
}

// String renders the explanation on one line, such as
// "bm25 7.21 (#1: bowl 3.10, super 2.95, defens 1.16)".
func (e Explanation) String() string {
	var parts []string
	if b := e.BM25; b != nil {
		terms := make([]string, len(b.Terms))
		for i, t := range b.Terms {
			terms[i] = fmt.Sprintf("%s %.2f", t.Term, t.Score)
		}
		parts = append(parts, fmt.Sprintf("bm25 %.2f (#%d: %s)", b.Score, b.Rank, strings.Join(terms, ", ")))
	}
	if v := e.Vector; v != nil {
		parts = append(parts, fmt.Sprintf("vector %.3f (#%d)", v.Similarity, v.Rank))
	}
	if f := e.Fusion; f != nil {
		parts = append(parts, fmt.Sprintf("rrf %.4f", f.Score))
	}
	if m := e.MMR; m != nil {
		parts = append(parts, fmt.Sprintf("mmr %.3f (relevance %.3f, redundancy %.3f)", m.Score, m.Relevance, m.Redundancy))
	}
	if rr := e.Rerank; rr != nil {
		parts = append(parts, fmt.Sprintf("rerank %.3f (was #%d)", rr.Score, rr.Rank))
	}
	return strings.Join(parts, "; ")
}
