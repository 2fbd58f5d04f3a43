package index

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// clustered returns n unit vectors around c Gaussian centres, like the ANN
// benchmark set (noise 0.6 on standard-normal centres).
func clustered(r *rand.Rand, n, dim, c int) [][]float32 {
	centres := make([][]float32, c)
	for i := range centres {
		centres[i] = make([]float32, dim)
		for j := range centres[i] {
			centres[i][j] = float32(r.NormFloat64())
		}
	}
	out := make([][]float32, n)
	for i := range out {
		ctr := centres[r.IntN(c)]
		v := make([]float32, dim)
		for j := range v {
			v[j] = ctr[j] + 0.6*float32(r.NormFloat64())
		}
		normalize(v)
		out[i] = v
	}
	return out
}

func buildBoth(t testing.TB, cfg HNSWConfig, base [][]float32) (*HNSW, *Flat) {
	h, err := NewHNSW(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := NewFlat(cfg.Dim, cfg.Metric)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range base {
		if err := h.Add(uint64(i)*7+3, v); err != nil {
			t.Fatal(err)
		}
		if err := f.Add(uint64(i)*7+3, v); err != nil {
			t.Fatal(err)
		}
	}
	return h, f
}

// recall is the mean fraction of the exact top k that h finds.
func recall(h *HNSW, f *Flat, queries [][]float32, k, ef int) float64 {
	hits := 0
	for _, q := range queries {
		want := map[uint64]bool{}
		for _, hit := range f.Search(q, k) {
			want[hit.ID] = true
		}
		for _, hit := range h.SearchInto(nil, q, k, ef) {
			if want[hit.ID] {
				hits++
			}
		}
	}
	return float64(hits) / float64(k*len(queries))
}

func TestHNSWRecall(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	data := clustered(r, 4100, 64, 60)
	base, queries := data[:4000], data[4000:]
	for _, tc := range []struct {
		metric   Metric
		quantize bool
		m, ef    int
		min      float64
	}{
		{Cosine, false, 16, 16, 0.85},
		{Cosine, false, 16, 64, 0.97},
		{Cosine, false, 8, 128, 0.97},
		{DotProduct, false, 16, 64, 0.97},
		{Cosine, true, 16, 16, 0.85},
		{Cosine, true, 16, 64, 0.97},
		{DotProduct, true, 8, 128, 0.97},
	} {
		h, f := buildBoth(t, HNSWConfig{Dim: 64, Metric: tc.metric, M: tc.m, EfConstruction: 100, Quantize: tc.quantize}, base)
		if got := recall(h, f, queries, 10, tc.ef); got < tc.min {
			t.Errorf("%v quantize=%v M=%d ef=%d: recall@10 %.3f, want ≥ %.2f", tc.metric, tc.quantize, tc.m, tc.ef, got, tc.min)
		}
	}
}

func TestHNSWScoresAndOrder(t *testing.T) {
	h, err := NewHNSW(HNSWConfig{Dim: 3, Metric: DotProduct})
	if err != nil {
		t.Fatal(err)
	}
	vecs := [][]float32{{1, 0, 0}, {0, 2, 0}, {0, 0, 3}, {1, 1, 1}}
	for i, v := range vecs {
		h.Add(uint64(i+10), v)
	}
	got := h.Search([]float32{1, 2, 3}, 3)
	want := []VectorHit{{12, 9}, {13, 6}, {11, 4}}
	if !slices.Equal(got, want) {
		t.Errorf("dot search = %v, want %v", got, want)
	}
	c, _ := NewHNSW(HNSWConfig{Dim: 2})
	c.Add(1, []float32{3, 4})
	c.Add(2, []float32{-1, 0})
	if got := c.Search([]float32{0, 10}, 2); got[0].ID != 1 || abs(got[0].Score-0.8) > 1e-6 || abs(got[1].Score) > 1e-6 {
		t.Errorf("cosine search = %v, want [{1 0.8} {2 0}]", got)
	}
}

func abs(x float32) float32 { return max(x, -x) }

func TestHNSWDeletes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	data := clustered(r, 3100, 32, 40)
	base, queries := data[:3000], data[3000:]
	h, f := buildBoth(t, HNSWConfig{Dim: 32, EfConstruction: 100}, base)
	for i := 0; i < len(base); i += 2 {
		id := uint64(i)*7 + 3
		if !h.Delete(id) || !f.Delete(id) {
			t.Fatalf("delete %d: not found", id)
		}
	}
	if h.Delete(3) {
		t.Error("second delete of id 3 reported success")
	}
	if h.Len() != 1500 || f.Len() != 1500 {
		t.Errorf("Len after deletes = %d, %d; want 1500", h.Len(), f.Len())
	}
	for _, q := range queries {
		for _, hit := range h.SearchInto(nil, q, 10, 64) {
			if (hit.ID-3)/7%2 == 0 {
				t.Fatalf("deleted id %d returned", hit.ID)
			}
		}
	}
	if got := recall(h, f, queries, 10, 64); got < 0.95 {
		t.Errorf("recall@10 after deleting half: %.3f, want ≥ 0.95", got)
	}
	// re-adding a deleted id and replacing a live one
	h.Add(3, queries[0])
	h.Add(10, queries[1])
	if got := h.Search(queries[0], 1); got[0].ID != 3 || got[0].Score < 0.999 {
		t.Errorf("re-added id 3: search = %v", got)
	}
	if got := h.Search(queries[1], 1); got[0].ID != 10 || got[0].Score < 0.999 {
		t.Errorf("replaced id 10: search = %v", got)
	}
	if _, err := NewHNSW(HNSWConfig{Dim: 33, Quantize: true}); err == nil {
		t.Error("a quantized graph of dimension 33 was accepted")
	}
	if h.Len() != 1501 {
		t.Errorf("Len = %d, want 1501", h.Len())
	}
}

func TestHNSWSaveLoad(t *testing.T) {
	for _, quantize := range []bool{false, true} {
		t.Run(fmt.Sprint("quantize=", quantize), func(t *testing.T) { testSaveLoad(t, quantize) })
	}
}

func testSaveLoad(t *testing.T, quantize bool) {
	r := rand.New(rand.NewPCG(5, 6))
	data := clustered(r, 2050, 32, 30)
	base, queries := data[:2000], data[2000:]
	h, _ := buildBoth(t, HNSWConfig{Dim: 32, M: 8, EfConstruction: 64, EfSearch: 32, Quantize: quantize}, base)
	for i := 0; i < 100; i++ {
		h.Delete(uint64(i*13)*7 + 3)
	}
	path := filepath.Join(t.TempDir(), "vectors.hnsw")
	if err := h.Save(path); err != nil {
		t.Fatal(err)
	}
	g, err := LoadHNSW(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if g.Config() != h.Config() || g.Len() != h.Len() {
		t.Fatalf("loaded config %+v len %d, saved %+v len %d", g.Config(), g.Len(), h.Config(), h.Len())
	}
	for _, q := range queries {
		if a, b := h.Search(q, 10), g.Search(q, 10); !slices.Equal(a, b) {
			t.Fatalf("search after load = %v, before = %v", b, a)
		}
	}
	// a loaded graph takes further adds and deletes (copied off the mapping)
	if err := g.Add(1<<40, queries[0]); err != nil {
		t.Fatal(err)
	}
	g.Delete(base3(5))
	if got := g.Search(queries[0], 1); got[0].ID != 1<<40 {
		t.Errorf("after add to loaded graph: %v", got)
	}
	if g.Contains(base3(5)) || g.Len() != h.Len() {
		t.Errorf("after delete on loaded graph: len %d", g.Len())
	}
	// saving over the mapped file's path is atomic and loads back
	if err := g.Save(path); err != nil {
		t.Fatal(err)
	}
	g2, err := LoadHNSW(path)
	if err != nil {
		t.Fatal(err)
	}
	g2.Close()
}

func base3(i int) uint64 { return uint64(i)*7 + 3 }

func TestLoadRejectsDamage(t *testing.T) {
	h, _ := buildBoth(t, HNSWConfig{Dim: 4, M: 4}, clustered(rand.New(rand.NewPCG(1, 1)), 200, 4, 5))
	dir := t.TempDir()
	path := filepath.Join(dir, "g.hnsw")
	if err := h.Save(path); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(path)
	for _, tc := range []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"truncated", func(b []byte) []byte { return b[:len(b)-100] }},
		{"header", func(b []byte) []byte { b[30] ^= 1; return b }},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return b }},
		{"version", func(b []byte) []byte { b[8] = 9; return b }},
		{"link", func(b []byte) []byte { // a layer-0 link far out of range
			_, secs, _ := parseIndexFile(b, hnswMagic, hnswFieldCount, hnswSections)
			secs[1][4+3] = 0x7f
			return b
		}},
	} {
		p := filepath.Join(dir, tc.name)
		os.WriteFile(p, tc.damage(slices.Clone(good)), 0o644)
		if g, err := LoadHNSW(p); err == nil {
			g.Close()
			t.Errorf("%s file loaded without error", tc.name)
		}
	}
	if _, err := LoadFlat(path); err == nil {
		t.Error("an HNSW file loaded as a flat index")
	}
}

func TestSearchAllocations(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	data := clustered(r, 1000, 16, 10)
	h, f := buildBoth(t, HNSWConfig{Dim: 16}, data)
	dst := make([]VectorHit, 0, 10)
	h.SearchInto(dst, data[0], 10, 64)
	if n := testing.AllocsPerRun(100, func() { h.SearchInto(dst, data[1], 10, 64) }); n != 0 {
		t.Errorf("HNSW SearchInto: %.1f allocations per search, want 0", n)
	}
	q, _ := NewHNSW(HNSWConfig{Dim: 32, Quantize: true})
	data32 := clustered(r, 500, 32, 10)
	for i, v := range data32 {
		q.Add(uint64(i), v)
	}
	q.SearchInto(dst, data32[0], 10, 64)
	if n := testing.AllocsPerRun(100, func() { q.SearchInto(dst, data32[1], 10, 64) }); n != 0 {
		t.Errorf("quantized HNSW SearchInto: %.1f allocations per search, want 0", n)
	}
	var s FlatScratch
	f.SearchInto(dst, data[0], 10, &s)
	if n := testing.AllocsPerRun(100, func() { f.SearchInto(dst, data[1], 10, &s) }); n != 0 {
		t.Errorf("Flat SearchInto: %.1f allocations per search, want 0", n)
	}
}

func BenchmarkHNSWSearch(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	data := clustered(r, 20000, 128, 200)
	h, _ := buildBoth(b, HNSWConfig{Dim: 128}, data)
	dst := make([]VectorHit, 0, 10)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		h.SearchInto(dst, data[i%len(data)], 10, 32)
	}
}

func BenchmarkHNSWAdd(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 9))
	data := clustered(r, 5000, 128, 50)
	h, _ := NewHNSW(HNSWConfig{Dim: 128})
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Add(uint64(i), data[i%len(data)])
	}
}

func TestEmptyGraphSaveLoad(t *testing.T) {
	h, _ := NewHNSW(HNSWConfig{Dim: 32, Quantize: true})
	path := filepath.Join(t.TempDir(), "empty.hnsw")
	if err := h.Save(path); err != nil {
		t.Fatal(err)
	}
	g, err := LoadHNSW(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	if got := g.Search(make([]float32, 32), 5); len(got) != 0 || g.Len() != 0 {
		t.Errorf("empty graph: search %v, len %d", got, g.Len())
	}
	v := make([]float32, 32)
	v[3] = 1
	if err := g.Add(9, v); err != nil {
		t.Fatal(err)
	}
	if got := g.Search(v, 5); len(got) != 1 || got[0].ID != 9 {
		t.Errorf("after one add: %v", got)
	}
}
