package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"flywheel/internal/index"
)

// annJSON is the --json output of bench ann.
type annJSON struct {
	N              int      `json:"n"`
	Dim            int      `json:"dim"`
	M              int      `json:"m"`
	EfConstruction int      `json:"ef_construction"`
	Threads        int      `json:"threads"`
	Quantize       bool     `json:"quantize"`
	Loaded         bool     `json:"loaded,omitempty"` // mapped from --index: build_s is the load time
	BuildSeconds   float64  `json:"build_s"`
	BuildCPU       float64  `json:"build_cpu_s"`
	Rows           []annRow `json:"rows"`
}

type annRow struct {
	EfSearch int     `json:"ef_search"`
	Recall   float64 `json:"recall@10"`
	QPS      float64 `json:"qps"`
	CPUQPS   float64 `json:"cpu_qps"` // queries per CPU-second of the process
}

// runBenchANN builds an HNSW graph over an ANN-benchmarks set and measures
// recall@k and queries per second, one query at a time, per efSearch.
func runBenchANN(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench ann", stderr)
	basePath := fs.String("base", "", "base vectors (`.fvecs`)")
	queryPath := fs.String("queries", "", "query vectors (`.fvecs`)")
	gtPath := fs.String("gt", "", "ground-truth neighbour ids (`.ivecs`); computed exactly when empty")
	k := fs.Int("k", 10, "neighbours per query")
	m := fs.Int("m", 16, "HNSW links per node (2M on layer 0)")
	efc := fs.Int("ef-construction", 200, "candidate list while building")
	efList := fs.String("ef-search", "16,32,64,128,256", "comma-separated efSearch values")
	metricName := fs.String("metric", "dot", "cosine or dot (the benchmark set is unit vectors)")
	quantize := fs.Bool("quantize", true, "walk the graph with int8 copies of the vectors, re-scoring the results exactly (needs a dimension divisible by 32)")
	threads := fs.Int("threads", 1, "goroutines issuing queries (the build is single-threaded)")
	passes := fs.Int("passes", 3, "timed passes over the queries; the best is reported")
	indexPath := fs.String("index", "", "graph `file`: loaded (memory-mapped) when it exists, else built and saved there")
	asJSON := fs.Bool("json", false, "print one JSON object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *basePath == "" || *queryPath == "" {
		fs.Usage()
		return fmt.Errorf("bench ann: --base and --queries are required")
	}
	efs, err := parseInts(*efList)
	if err != nil {
		return fmt.Errorf("bench ann: --ef-search: %w", err)
	}
	metric, err := index.ParseMetric(*metricName)
	if err != nil {
		return fmt.Errorf("bench ann: --metric: %w", err)
	}
	base, dim, err := readVecs(*basePath)
	if err != nil {
		return err
	}
	queries, qdim, err := readVecs(*queryPath)
	if err != nil {
		return err
	}
	if qdim != dim {
		return fmt.Errorf("bench ann: queries have %d dimensions, base vectors %d", qdim, dim)
	}
	n := len(base) / dim
	cfg := index.HNSWConfig{Dim: dim, Metric: metric, M: *m, EfConstruction: *efc, Quantize: *quantize}
	start, cpuStart := time.Now(), cpuTime()
	g, built, err := openOrBuild(ctx, *indexPath, cfg, base, stderr)
	if err != nil {
		return err
	}
	defer g.Close()
	build, buildCPU := time.Since(start).Seconds(), (cpuTime() - cpuStart).Seconds()
	if g.Len() != n || g.Dim() != dim {
		return fmt.Errorf("bench ann: %s holds %d vectors of %d dimensions, %s has %d of %d; delete it to rebuild", *indexPath, g.Len(), g.Dim(), *basePath, n, dim)
	}
	nq := len(queries) / dim
	truth, err := groundTruth(*gtPath, base, queries, dim, metric, *k)
	if err != nil {
		return err
	}
	if len(truth) != nq {
		return fmt.Errorf("bench ann: %s has %d rows for %d queries", *gtPath, len(truth), nq)
	}
	out := annJSON{N: n, Dim: dim, M: *m, EfConstruction: *efc, Threads: *threads, Quantize: *quantize, Loaded: !built, BuildSeconds: build, BuildCPU: buildCPU}
	for _, ef := range efs {
		results := make([][]index.VectorHit, nq)
		best, bestCPU := math.Inf(1), math.Inf(1)
		for range max(*passes, 1) {
			if err := ctx.Err(); err != nil {
				return err
			}
			wall, cpu := timeQueries(g, queries, dim, *k, ef, *threads, results)
			best, bestCPU = min(best, wall), min(bestCPU, cpu)
		}
		out.Rows = append(out.Rows, annRow{EfSearch: ef, Recall: recallAt(results, truth, *k), QPS: float64(nq) / best, CPUQPS: float64(nq) / bestCPU})
	}
	if *asJSON {
		return json.NewEncoder(stdout).Encode(out)
	}
	verb := "built"
	if !built {
		verb = "loaded"
	}
	fmt.Fprintf(stdout, "%d × %d vectors, M %d, efConstruction %d: %s in %.1f s (%.1f CPU-s)\n", n, dim, *m, *efc, verb, build, buildCPU)
	fmt.Fprintf(stdout, "%10s %10s %10s %10s\n", "efSearch", fmt.Sprintf("recall@%d", *k), "QPS", "CPU-QPS")
	for _, r := range out.Rows {
		fmt.Fprintf(stdout, "%10d %10.4f %10.0f %10.0f\n", r.EfSearch, r.Recall, r.QPS, r.CPUQPS)
	}
	return nil
}

// openOrBuild maps the graph at path when it exists; otherwise it builds one
// over base (saving it to path when path is set). built reports which.
func openOrBuild(ctx context.Context, path string, cfg index.HNSWConfig, base []float32, stderr io.Writer) (*index.HNSW, bool, error) {
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			g, err := index.LoadHNSW(path)
			return g, false, err
		}
	}
	g, err := index.NewHNSW(cfg)
	if err != nil {
		return nil, false, err
	}
	n := len(base) / cfg.Dim
	p := newProgress(stderr, "build", "vectors")
	for i := range n {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, false, err
			}
			p.Set(int64(i), int64(i), int64(n))
		}
		if err := g.Add(uint64(i), base[i*cfg.Dim:(i+1)*cfg.Dim]); err != nil {
			return nil, false, err
		}
	}
	p.Done()
	if path != "" {
		if err := g.Save(path); err != nil {
			return nil, false, err
		}
	}
	return g, true, nil
}

// timeQueries runs every query once over threads goroutines, storing the
// hits in results, and returns the wall and CPU time in seconds.
func timeQueries(g *index.HNSW, queries []float32, dim, k, ef, threads int, results [][]index.VectorHit) (wall, cpu float64) {
	nq := len(queries) / dim
	var wg sync.WaitGroup
	start, cpuStart := time.Now(), cpuTime()
	for t := range max(threads, 1) {
		wg.Go(func() {
			for i := t; i < nq; i += max(threads, 1) {
				results[i] = g.SearchInto(results[i][:0], queries[i*dim:(i+1)*dim], k, ef)
			}
		})
	}
	wg.Wait()
	return time.Since(start).Seconds(), (cpuTime() - cpuStart).Seconds()
}

// recallAt is the mean fraction of each query's true top k among its hits.
func recallAt(results [][]index.VectorHit, truth [][]int32, k int) float64 {
	found := 0
	for i, hits := range results {
		want := truth[i][:min(k, len(truth[i]))]
		for _, h := range hits {
			for _, id := range want {
				if uint64(id) == h.ID {
					found++
					break
				}
			}
		}
	}
	return float64(found) / float64(k*len(results))
}

// groundTruth reads the true neighbours from path, or computes them exactly
// with a flat index when path is empty.
func groundTruth(path string, base, queries []float32, dim int, metric index.Metric, k int) ([][]int32, error) {
	if path != "" {
		rows, err := readIvecs(path)
		if err != nil {
			return nil, err
		}
		for i, r := range rows {
			if len(r) < k {
				return nil, fmt.Errorf("%s: row %d has %d neighbours, -k is %d", path, i, len(r), k)
			}
		}
		return rows, nil
	}
	f, err := index.NewFlat(dim, metric)
	if err != nil {
		return nil, err
	}
	for i := range len(base) / dim {
		f.Add(uint64(i), base[i*dim:(i+1)*dim])
	}
	var rows [][]int32
	for i := range len(queries) / dim {
		var row []int32
		for _, h := range f.Search(queries[i*dim:(i+1)*dim], k) {
			row = append(row, int32(h.ID))
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// readVecs reads an .fvecs file (each row: int32 d, then d float32, little
// endian) into one slab; it returns the slab and d.
func readVecs(path string) ([]float32, int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, fmt.Errorf("bench ann: %w", err)
	}
	rows, dim, err := splitVecs(b)
	if err != nil {
		return nil, 0, fmt.Errorf("bench ann: %s: %w", path, err)
	}
	out := make([]float32, 0, rows*dim)
	for r := range rows {
		row := b[r*(4+4*dim)+4:]
		for j := range dim {
			out = append(out, math.Float32frombits(binary.LittleEndian.Uint32(row[4*j:])))
		}
	}
	return out, dim, nil
}

// readIvecs reads an .ivecs file (each row: int32 d, then d int32).
func readIvecs(path string) ([][]int32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("bench ann: %w", err)
	}
	rows, dim, err := splitVecs(b)
	if err != nil {
		return nil, fmt.Errorf("bench ann: %s: %w", path, err)
	}
	out := make([][]int32, rows)
	for r := range out {
		row := b[r*(4+4*dim)+4:]
		out[r] = make([]int32, dim)
		for j := range dim {
			out[r][j] = int32(binary.LittleEndian.Uint32(row[4*j:]))
		}
	}
	return out, nil
}

// splitVecs checks that b is whole rows of one dimension d and returns the
// row count and d.
func splitVecs(b []byte) (rows, dim int, err error) {
	if len(b) < 4 {
		return 0, 0, fmt.Errorf("%d bytes: too short for an .fvecs/.ivecs row", len(b))
	}
	d := binary.LittleEndian.Uint32(b)
	if d == 0 || d > 1<<20 {
		return 0, 0, fmt.Errorf("first row: dimension %d is implausible; is this an .fvecs/.ivecs file?", d)
	}
	dim = int(d)
	width := 4 + 4*dim
	if len(b)%width != 0 {
		return 0, 0, fmt.Errorf("%d bytes is not a whole number of %d-byte rows of dimension %d", len(b), width, dim)
	}
	rows = len(b) / width
	for r := range rows {
		if got := binary.LittleEndian.Uint32(b[r*width:]); got != d {
			return 0, 0, fmt.Errorf("row %d (byte %d): dimension %d, the first row has %d", r, r*width, got, d)
		}
	}
	return rows, dim, nil
}

// parseInts reads a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, v)
	}
	return out, nil
}
