package retrieve

import (
	"cmp"
	"slices"
)

// Fusion weighs the lists of a hybrid search in reciprocal-rank fusion:
// score(c) = Σ_list weight / (K + rank of c in list), ranks from 1.
// The zero value is K 60 and equal weights.
type Fusion struct {
	K                        float64
	BM25Weight, VectorWeight float64
}

func (f Fusion) withDefaults() Fusion {
	if f.K <= 0 {
		f.K = 60
	}
	if f.BM25Weight == 0 && f.VectorWeight == 0 {
		f.BM25Weight, f.VectorWeight = 1, 1
	}
	return f
}

// fuse merges the BM25 and vector lists by RRF, best first; ties keep the
// BM25 list's order, then the vector list's.
func fuse(f Fusion, lexical, semantic []candidate) []candidate {
	f = f.withDefaults()
	var out []candidate
	at := map[string]int{}
	add := func(list []candidate, w float64) {
		for i, c := range list {
			j, ok := at[c.id]
			if !ok {
				j = len(out)
				at[c.id] = j
				out = append(out, candidate{id: c.id, exp: Explanation{Fusion: &FusionPart{}}})
			}
			o := &out[j]
			o.score += w / (f.K + float64(i+1))
			if c.exp.BM25 != nil {
				o.exp.BM25 = c.exp.BM25
			}
			if c.exp.Vector != nil {
				o.exp.Vector = c.exp.Vector
			}
		}
	}
	add(lexical, f.BM25Weight)
	add(semantic, f.VectorWeight)
	for i := range out {
		out[i].exp.Fusion.Score = out[i].score
	}
	slices.SortStableFunc(out, func(a, b candidate) int { return cmp.Compare(b.score, a.score) })
	return out
}
