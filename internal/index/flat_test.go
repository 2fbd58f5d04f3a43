package index

import (
	"cmp"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestFlatExact(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, metric := range []Metric{Cosine, DotProduct} {
		f, _ := NewFlat(8, metric)
		var vecs [][]float32
		for i := range 300 {
			v := make([]float32, 8)
			for j := range v {
				v[j] = float32(r.NormFloat64())
			}
			vecs = append(vecs, v)
			f.Add(uint64(i), v)
		}
		q := vecs[7]
		scores := make([]VectorHit, len(vecs))
		qn := slices.Clone(q)
		if metric == Cosine {
			normalize(qn)
		}
		for i, v := range vecs {
			vn := slices.Clone(v)
			if metric == Cosine {
				normalize(vn)
			}
			var s float32
			for j := range vn {
				s += qn[j] * vn[j]
			}
			scores[i] = VectorHit{uint64(i), s}
		}
		slices.SortFunc(scores, func(a, b VectorHit) int { return cmp.Compare(b.Score, a.Score) })
		got := f.Search(q, 5)
		for i := range got {
			if got[i].ID != scores[i].ID || abs(got[i].Score-scores[i].Score) > 1e-5 {
				t.Fatalf("%v: rank %d = %v, want %v", metric, i, got[i], scores[i])
			}
		}
		f.Delete(got[0].ID)
		if again := f.Search(q, 1); again[0].ID != got[1].ID {
			t.Errorf("%v: after deleting the best, best = %v, want %v", metric, again[0], got[1])
		}
	}
}

func TestFlatSaveLoad(t *testing.T) {
	f, _ := NewFlat(3, DotProduct)
	f.Add(5, []float32{1, 2, 3})
	f.Add(6, []float32{0, 1, 0})
	f.Add(7, []float32{-1, 0, 0})
	f.Delete(6)
	path := filepath.Join(t.TempDir(), "v.flat")
	if err := f.Save(path); err != nil {
		t.Fatal(err)
	}
	g, err := LoadFlat(path)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	want := []VectorHit{{5, 14}, {7, -1}}
	if got := g.Search([]float32{1, 2, 3}, 5); !slices.Equal(got, want) || g.Len() != 2 || g.Dim() != 3 || g.Metric() != DotProduct {
		t.Errorf("loaded search = %v (len %d), want %v", got, g.Len(), want)
	}
	g.Add(6, []float32{0, 0, 10})
	if got := g.Search([]float32{1, 2, 3}, 1); got[0] != (VectorHit{6, 30}) {
		t.Errorf("after add to loaded index: %v", got)
	}
}

func FuzzLoadVectorIndex(f *testing.F) {
	h, _ := NewHNSW(HNSWConfig{Dim: 2, M: 2})
	for i := range 20 {
		h.Add(uint64(i), []float32{float32(i), 1})
	}
	h.Delete(3)
	dir := f.TempDir()
	h.Save(filepath.Join(dir, "h"))
	fl, _ := NewFlat(2, Cosine)
	fl.Add(1, []float32{1, 2})
	fl.Save(filepath.Join(dir, "f"))
	for _, name := range []string{"h", "f"} {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		data = append(make([]byte, 0, len(data)+8), data...) // 8-aligned, as a mapping is
		if fields, secs, err := parseIndexFile(data, hnswMagic, hnswFieldCount, hnswSections); err == nil {
			if g, err := hnswFromFile(fields, secs); err == nil && g.Len() > 0 {
				g.SearchInto(nil, make([]float32, g.cfg.Dim), 3, 8)
			}
		}
		if fields, secs, err := parseIndexFile(data, flatMagic, 4, 3); err == nil {
			if g, err := flatFromFile(fields, secs); err == nil {
				g.Search(make([]float32, g.dim), 3)
			}
		}
	})
}
