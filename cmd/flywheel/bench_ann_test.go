package main

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// writeVecs writes rows as an .fvecs (or, with ints, .ivecs) file.
func writeVecs(t *testing.T, path string, rows [][]float32) {
	t.Helper()
	var b []byte
	for _, r := range rows {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(r)))
		for _, v := range r {
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
		}
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestBenchANN(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(1, 2))
	rows := make([][]float32, 600)
	for i := range rows {
		rows[i] = make([]float32, 32)
		for j := range rows[i] {
			rows[i][j] = float32(r.NormFloat64())
		}
	}
	base, queries := filepath.Join(dir, "base.fvecs"), filepath.Join(dir, "q.fvecs")
	writeVecs(t, base, rows[:500])
	writeVecs(t, queries, rows[500:])
	// ground truth from the exact flat index (no --gt), then read back from an .ivecs
	for _, quantize := range []string{"--quantize=false", "--quantize=true"} {
		out, _, err := flywheel(t, "bench", "ann", "--base", base, "--queries", queries, "--ef-search", "8,200",
			"--passes", "1", "--threads", "2", quantize, "--json")
		if err != nil {
			t.Fatal(err)
		}
		var res annJSON
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		if res.N != 500 || res.Dim != 32 || len(res.Rows) != 2 || res.Rows[1].EfSearch != 200 {
			t.Fatalf("%s: %+v", quantize, res)
		}
		if res.Rows[1].Recall < 0.99 || res.Rows[0].QPS <= 0 {
			t.Errorf("%s: efSearch 200 over 500 vectors: recall@10 %.3f, want ≈ 1", quantize, res.Rows[1].Recall)
		}
	}
	// --index saves the graph, and a second run maps it instead of building
	graph := filepath.Join(dir, "g.hnsw")
	var first, second annJSON
	for _, res := range []*annJSON{&first, &second} {
		out, _, err := flywheel(t, "bench", "ann", "--base", base, "--queries", queries, "--ef-search", "50", "--passes", "1", "--index", graph, "--json")
		if err != nil {
			t.Fatal(err)
		}
		json.Unmarshal([]byte(out), res)
	}
	if first.Rows[0].Recall != second.Rows[0].Recall {
		t.Errorf("recall with the saved graph %v, built %v", second.Rows[0].Recall, first.Rows[0].Recall)
	}
	gt := filepath.Join(dir, "gt.ivecs")
	writeVecs(t, gt, [][]float32{{1}})
	if _, _, err := flywheel(t, "bench", "ann", "--base", base, "--queries", queries, "--gt", gt); err == nil {
		t.Error("ground truth with 1 row of 1 neighbour for 100 queries and -k 10: no error")
	}
}

var splitCases = [][]byte{
	nil,
	{1, 0, 0, 0, 0, 0, 128, 63}, // one row [1.0]
	{2, 0, 0, 0, 0, 0, 128, 63}, // row cut short
	{1, 0, 0, 0, 0, 0, 128, 63, 2, 0, 0, 0, 0, 0, 0, 0}, // second row of another dimension
	{0, 0, 0, 0},
}

func TestSplitVecs(t *testing.T) {
	want := []bool{false, true, false, false, false}
	for i, b := range splitCases {
		rows, dim, err := splitVecs(b)
		if (err == nil) != want[i] {
			t.Errorf("case %d: rows %d dim %d err %v", i, rows, dim, err)
		}
	}
}

func FuzzSplitVecs(f *testing.F) {
	for _, b := range splitCases {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rows, dim, err := splitVecs(b)
		if err == nil && rows*(4+4*dim) != len(b) {
			t.Fatalf("%d rows of dimension %d accepted from %d bytes", rows, dim, len(b))
		}
	})
}
