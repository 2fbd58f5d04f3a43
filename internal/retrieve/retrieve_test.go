package retrieve

import (
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"flywheel/internal/chunk"
	"flywheel/internal/index"
)

// memory is an in-memory PassageSource.
type memory map[string]Passage

func (m memory) Passages(_ context.Context, ids []string) ([]Passage, error) {
	var out []Passage
	for _, id := range ids {
		if p, ok := m[id]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}

func (m memory) DocOf(id string) (DocInfo, bool) {
	p, ok := m[id]
	return p.Doc, ok
}

func newMemory(ps ...Passage) (memory, *index.BM25) {
	m := memory{}
	x := index.NewBM25(index.BM25Config{})
	for _, p := range ps {
		m[p.Chunk.ID] = p
		x.Add(p.Chunk)
	}
	return m, x
}

func passage(id, lang, text string) Passage {
	return Passage{Chunk: chunk.Chunk{ID: id + "#0", DocID: id, Text: text, End: len(text)},
		Doc: DocInfo{ID: id, Path: "docs/" + id + ".txt", Title: strings.ToUpper(id), Meta: map[string]string{"lang": lang}}}
}

// fakeVectors embeds a text as counts of a few marker words, and searches
// by brute-force cosine.
type fakeVectors struct{ m memory }

var markers = []string{"rain", "sun", "snow", "wind"}

func embed(_ context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		v := make([]float32, len(markers))
		for j, w := range markers {
			v[j] = float32(strings.Count(strings.ToLower(t), w))
		}
		out[i] = v
	}
	return out, nil
}

func (f fakeVectors) SearchVector(ctx context.Context, q []float32, k int, keep func(string) bool) ([]VectorHit, error) {
	var hits []VectorHit
	for id, p := range f.m {
		if keep != nil && !keep(id) {
			continue
		}
		v, _ := embed(ctx, []string{p.Chunk.Text})
		hits = append(hits, VectorHit{id, cosine(q, v[0])})
	}
	// sort by score, then id
	for i := range hits {
		for j := i + 1; j < len(hits); j++ {
			if hits[j].Score > hits[i].Score || hits[j].Score == hits[i].Score && hits[j].ChunkID < hits[i].ChunkID {
				hits[i], hits[j] = hits[j], hits[i]
			}
		}
	}
	if len(hits) > k {
		hits = hits[:k]
	}
	return hits, nil
}

func testRetriever() *Retriever {
	m, x := newMemory(
		passage("a", "en", "Rain fell on the plain all day. Rain again."),
		passage("b", "en", "The sun shone; no rain."),
		passage("c", "de", "Snow and wind over the hills."),
		passage("d", "en", "Rain, rain and more rain with wind."),
	)
	return &Retriever{BM25: x, Passages: m, Vector: fakeVectors{m}, Embed: embed}
}

func ids(hits []Hit) []string {
	var out []string
	for _, h := range hits {
		out = append(out, h.Doc.ID)
	}
	return out
}

func TestSearchModes(t *testing.T) {
	r := testRetriever()
	ctx := context.Background()
	tests := []struct {
		name string
		q    Query
		want []string
	}{
		{"bm25", Query{Text: "rain", Mode: ModeBM25}, []string{"d", "a", "b"}},
		{"bm25 k", Query{Text: "rain", Mode: ModeBM25, K: 1}, []string{"d"}},
		{"filter meta", Query{Text: "rain wind", Mode: ModeBM25, Filter: Filter{Meta: map[string]string{"lang": "de"}}}, []string{"c"}},
		{"filter path", Query{Text: "rain", Mode: ModeBM25, Filter: Filter{PathPrefix: "docs/a"}}, []string{"a"}},
		{"vector", Query{Text: "wind", Mode: ModeVector, K: 2}, []string{"c", "d"}},
		{"hybrid", Query{Text: "rain", Mode: ModeHybrid, K: 3}, []string{"d", "a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hits, err := r.Search(ctx, tt.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(hits); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for _, h := range hits {
				if h.Explanation.String() == "" {
					t.Errorf("%s: empty explanation", h.Doc.ID)
				}
			}
		})
	}
}

func TestBM25ExplanationAddsUp(t *testing.T) {
	hits, err := testRetriever().Search(context.Background(), Query{Text: "rain wind", Mode: ModeBM25})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		sum := 0.0
		for _, ts := range h.Explanation.BM25.Terms {
			sum += ts.Score
		}
		if math.Abs(sum-h.Score) > 1e-9 {
			t.Errorf("%s: terms add to %g, score %g", h.Doc.ID, sum, h.Score)
		}
	}
}

func TestNoVectors(t *testing.T) {
	r := testRetriever()
	r.Vector, r.Embed = nil, nil
	if r.DefaultMode() != ModeBM25 {
		t.Fatal("default mode without vectors is not bm25")
	}
	if _, err := r.Search(context.Background(), Query{Text: "rain", Mode: ModeHybrid}); !errors.Is(err, ErrNoVectors) {
		t.Fatalf("got %v, want ErrNoVectors", err)
	}
}

func TestFuse(t *testing.T) {
	c := func(ids ...string) []candidate {
		var out []candidate
		for _, id := range ids {
			out = append(out, candidate{id: id})
		}
		return out
	}
	got := fuse(Fusion{}, c("x", "y", "z"), c("y", "w"))
	// y: 1/62 + 1/61; x: 1/61; w: 1/62; z: 1/63
	want := []struct {
		id    string
		score float64
	}{{"y", 1.0/62 + 1.0/61}, {"x", 1.0 / 61}, {"w", 1.0 / 62}, {"z", 1.0 / 63}}
	if len(got) != len(want) {
		t.Fatalf("got %d", len(got))
	}
	for i, w := range want {
		if got[i].id != w.id || math.Abs(got[i].score-w.score) > 1e-15 {
			t.Errorf("rank %d: %s %g, want %s %g", i, got[i].id, got[i].score, w.id, w.score)
		}
	}
	weighted := fuse(Fusion{BM25Weight: 0, VectorWeight: 1, K: 1}, c("x"), c("w"))
	if weighted[0].id != "w" || weighted[1].score != 0 {
		t.Errorf("weights: %+v", weighted)
	}
}

func TestMMR(t *testing.T) {
	cands := []candidate{{id: "a", score: 3}, {id: "a2", score: 2.9}, {id: "b", score: 2}}
	vecs := [][]float32{{1, 0}, {1, 0.01}, {0, 1}}
	if got := mmr(cands, vecs, 1, 2); got[0].id != "a" || got[1].id != "a2" {
		t.Errorf("lambda 1 must keep relevance order: %v", got)
	}
	if got := mmr(cands, vecs, 0.5, 2); got[0].id != "a" || got[1].id != "b" {
		t.Errorf("lambda 0.5 must skip the near-duplicate: %v", got)
	}
}

func TestParseFilter(t *testing.T) {
	f, err := ParseFilter([]string{"lang=en", "title=A=B"})
	if err != nil || f.Meta["lang"] != "en" || f.Meta["title"] != "A=B" {
		t.Fatalf("%+v %v", f, err)
	}
	if _, err := ParseFilter([]string{"novalue"}); err == nil {
		t.Fatal("accepted a pair without =")
	}
}

func TestRerank(t *testing.T) {
	r := testRetriever()
	// Prefer the shortest passage.
	r.Rerank = func(_ context.Context, _ string, ps []Passage) ([]float64, error) {
		out := make([]float64, len(ps))
		for i, p := range ps {
			out[i] = -float64(len(p.Chunk.Text))
		}
		return out, nil
	}
	hits, err := r.Search(context.Background(), Query{Text: "rain", Mode: ModeBM25, K: 2})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(hits); !reflect.DeepEqual(got, []string{"b", "d"}) {
		t.Fatalf("got %v", got)
	}
	if rr := hits[0].Explanation.Rerank; rr == nil || rr.Rank != 3 || hits[0].Explanation.BM25 == nil {
		t.Fatalf("explanation %+v", hits[0].Explanation)
	}
}
