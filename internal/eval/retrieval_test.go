package eval

import (
	"math"
	"testing"
)

// The worked example: 10 results, relevant at ranks 1, 3, 6 and 10, and
// one relevant document (z) never retrieved.
func TestRetrievalMetrics(t *testing.T) {
	run := []string{"a", "x1", "b", "x2", "x3", "c", "x4", "x5", "x6", "d"}
	rel := Qrels{"a": 1, "b": 1, "c": 1, "d": 1, "z": 1, "x1": 0}
	ln := math.Log2
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"P@5", PrecisionAt(run, rel, 5), 2.0 / 5},
		{"P@20 divides by 20", PrecisionAt(run, rel, 20), 4.0 / 20},
		{"R@5", RecallAt(run, rel, 5), 2.0 / 5},
		{"R@10", RecallAt(run, rel, 10), 4.0 / 5},
		{"RR", ReciprocalRank(run, rel, 0), 1},
		{"RR, first relevant at 3", ReciprocalRank(run[1:], rel, 0), 1.0 / 2},
		{"RR@1 miss", ReciprocalRank(run[1:], rel, 1), 0},
		{"AP", AveragePrecision(run, rel, 0), (1 + 2.0/3 + 3.0/6 + 4.0/10) / 5},
		{"AP@5", AveragePrecision(run, rel, 5), (1 + 2.0/3) / 5},
		{"nDCG@5", NDCGAt(run, rel, 5), (1 + 1/ln(4)) / (1 + 1/ln(3) + 1/ln(4) + 1/ln(5) + 1/ln(6))},
		{"duplicates count once", PrecisionAt([]string{"a", "a", "b"}, rel, 2), 2.0 / 2},
		{"no relevant", RecallAt(run, Qrels{}, 5), 0},
	} {
		if math.Abs(c.got-c.want) > 1e-12 {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	// Graded: ideal order 3, 2, 1.
	graded := Qrels{"a": 1, "b": 3, "c": 2}
	got := NDCGAt([]string{"a", "b", "c"}, graded, 0)
	want := (1 + 3/ln(3) + 2/ln(4)) / (3 + 2/ln(3) + 1/ln(4))
	if math.Abs(got-want) > 1e-12 {
		t.Errorf("graded nDCG: got %v, want %v", got, want)
	}
	s, err := Retrieval([][]string{run, {"z"}}, []Qrels{rel, rel}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(s.MRR-1) > 1e-12 || math.Abs(s.Recall-(0.8+0.2)/2) > 1e-12 || s.Queries != 2 {
		t.Errorf("Retrieval: %+v", s)
	}
}
