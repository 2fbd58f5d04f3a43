package index

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"flywheel/internal/chunk"
)

type qaQuestion struct {
	Question string   `json:"question"`
	DocIDs   []string `json:"doc_ids"`
}

func qaQuestions(t testing.TB, set string) []qaQuestion {
	p := filepath.Join("../../../shared/testdata/qa", set, "questions.jsonl")
	f, err := os.Open(p)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skipf("missing %s", p)
	}
	defer f.Close()
	var qs []qaQuestion
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var q qaQuestion
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	return qs
}

// recallAt returns recall@1, @5, @10 and MRR@10 of x over a QA set, one
// chunk per paragraph.
func qaRecall(x *BM25, qs []qaQuestion) (r1, r5, r10, mrr float64) {
	for _, q := range qs {
		for rank, h := range x.Search(q.Question, 10, nil) {
			if h.ChunkID != q.DocIDs[0] {
				continue
			}
			if rank < 1 {
				r1++
			}
			if rank < 5 {
				r5++
			}
			r10++
			mrr += 1 / float64(rank+1)
			break
		}
	}
	n := float64(len(qs))
	return r1 / n, r5 / n, r10 / n, mrr / n
}

// TestBM25Quality holds the floor of plain BM25 (BENCHMARKS.md) on the
// shared QA sets, for the default analyzer, and logs every analyzer's
// figures (go test -run BM25Quality -v).
func TestBM25Quality(t *testing.T) {
	floors := []struct {
		set    string
		r1, r5 float64
	}{{"xquad_en", 0.92, 0.98}, {"cmrc2018_dev", 0.96, 0.99}}
	for _, set := range floors {
		docs, qs := qaDocs(t, set.set), qaQuestions(t, set.set)
		for _, a := range Analyzers {
			x := NewBM25(BM25Config{Analyzer: a})
			for _, d := range docs {
				x.Add(chunk.Chunk{ID: d.id, Text: d.text})
			}
			r1, r5, r10, mrr := qaRecall(x, qs)
			t.Logf("%-13s %-8s recall@1 %.3f  recall@5 %.3f  recall@10 %.3f  MRR@10 %.3f", set.set, a.Name, r1, r5, r10, mrr)
			if a.Name == DefaultAnalyzer.Name && (r1 < set.r1 || r5 < set.r5) {
				t.Errorf("%s: recall@1 %.3f, recall@5 %.3f: below the floor %.2f / %.2f", set.set, r1, r5, set.r1, set.r5)
			}
		}
	}
}
