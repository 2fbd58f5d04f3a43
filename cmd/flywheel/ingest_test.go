package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"flywheel/internal/collection"
	"flywheel/internal/store"
)

func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, s := range files {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func searchJSON(t *testing.T, args ...string) []jsonHit {
	t.Helper()
	out, stderr, err := flywheel(t, append([]string{"search", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("search %v: %v\n%s", args, err, stderr)
	}
	var hits []jsonHit
	if err := json.Unmarshal([]byte(out), &hits); err != nil {
		t.Fatalf("search output %q: %v", out, err)
	}
	return hits
}

func TestIngestSearch(t *testing.T) {
	src, data := t.TempDir(), t.TempDir()
	md := "# Volcanoes\n\nIntro.\n\n## Eruptions\n\nMagma rises through the crust and erupts as lava.\n"
	writeTree(t, src, map[string]string{
		"geo/volcano.md": md,
		"geo/rivers.html": `<html><head><title>Rivers</title><script>var lava = 1</script></head><body>` +
			`<nav>Home lava</nav><p>Rivers carry sediment to the sea.</p></body></html>`,
		"notes.txt":  "Glaciers carve valleys slowly.",
		"more.jsonl": `{"id": "q1", "title": "Quartz", "text": "Quartz is a hard mineral.", "lang": "en"}` + "\n" + `{"id": "q2", "title": "Quarz", "text": "Quarz ist ein hartes Mineral.", "lang": "de"}`,
		"skip.bin":   "lava lava",
	})
	dd := []string{"--data-dir", data, "--collection", "geo"}
	out, stderr, err := flywheel(t, append(append([]string{"ingest"}, dd...), src)...)
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "4 files, 5 documents (5 added, 0 updated, 0 unchanged, 0 removed)") {
		t.Fatalf("ingest summary %q", out)
	}

	hits := searchJSON(t, append(dd, "lava", "magma")...)
	if len(hits) != 1 || hits[0].Title != "Volcanoes" || hits[0].Heading != "Volcanoes > Eruptions" {
		t.Fatalf("lava: scripts or navigation were indexed, or the heading is lost: %+v", hits)
	}
	if got := md[hits[0].Start:hits[0].End]; got != hits[0].Text {
		t.Fatalf("offsets [%d,%d) give %q, not the hit text %q", hits[0].Start, hits[0].End, got, hits[0].Text)
	}
	if e := hits[0].Explanation.BM25; e == nil || len(e.Terms) != 2 || e.Rank != 1 {
		t.Fatalf("explanation %+v", hits[0].Explanation)
	}
	if hits := searchJSON(t, append(dd, "--filter", "lang=de", "mineral", "Mineral")...); len(hits) != 1 || hits[0].DocID != "q2" {
		t.Fatalf("filter lang=de: %+v", hits)
	}
	if _, _, err := flywheel(t, append(append([]string{"search"}, dd...), "--mode", "hybrid", "lava")...); err == nil || !strings.Contains(err.Error(), "no embedding model") {
		t.Fatalf("hybrid without a model: %v", err)
	}
	if _, _, err := flywheel(t, append(append([]string{"ingest"}, dd...), "--analyzer", "simple", src)...); err == nil || !strings.Contains(err.Error(), "analyzer simple (it has standard)") {
		t.Fatalf("changing the analyzer of a collection: %v", err)
	}

	// Edit one file, delete another, re-ingest.
	writeTree(t, src, map[string]string{"notes.txt": "Glaciers carve fjords."})
	os.Remove(filepath.Join(src, "geo/rivers.html"))
	out, _, err = flywheel(t, append(append([]string{"ingest"}, dd...), src)...)
	if err != nil || !strings.Contains(out, "(0 added, 1 updated, 3 unchanged, 1 removed)") {
		t.Fatalf("re-ingest: %q %v", out, err)
	}
	if hits := searchJSON(t, append(dd, "rivers sediment")...); len(hits) != 0 {
		t.Fatalf("a deleted file is still found: %+v", hits)
	}
	if hits := searchJSON(t, append(dd, "fjords")...); len(hits) != 1 {
		t.Fatalf("the edited file is not found by its new text: %+v", hits)
	}
	if hits := searchJSON(t, append(dd, "valleys")...); len(hits) != 0 {
		t.Fatalf("the edited file is found by its old text: %+v", hits)
	}
}

// TestEvalRetrievalQA holds BM25 retrieval through the whole pipeline
// (JSON Lines loader, chunker, store, index, eval) to the floor of plain
// BM25 on the shared QA sets.
func TestEvalRetrievalQA(t *testing.T) {
	for _, set := range []struct {
		name   string
		r1, r5 float64
	}{{"xquad_en", 0.92, 0.98}, {"cmrc2018_dev", 0.96, 0.99}} {
		dir := sharedData(t, "qa/"+set.name)
		data := t.TempDir()
		if _, stderr, err := flywheel(t, "ingest", "--data-dir", data, "--collection", "qa", filepath.Join(dir, "docs.jsonl")); err != nil {
			t.Fatalf("%s: ingest: %v\n%s", set.name, err, stderr)
		}
		out, stderr, err := flywheel(t, "eval", "retrieval", "--data-dir", data, "--collection", "qa", "--questions", filepath.Join(dir, "questions.jsonl"), "--json")
		if err != nil {
			t.Fatalf("%s: eval: %v\n%s", set.name, err, stderr)
		}
		var s map[string]float64
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %s", set.name, strings.TrimSpace(out))
		if s["recall@1"] < set.r1 || s["recall@5"] < set.r5 {
			t.Errorf("%s: recall@1 %.3f recall@5 %.3f, below the floor %.2f / %.2f", set.name, s["recall@1"], s["recall@5"], set.r1, set.r5)
		}
		if s["questions"] < 1000 || !(s["recall@10"] >= s["recall@5"]) || !(s["mrr@10"] > 0.9) || !(s["ndcg@10"] >= s["mrr@10"]) {
			t.Errorf("%s: inconsistent figures %v", set.name, s)
		}
	}
}

// TestIngestChild is the child process of TestIngestSurvivesKill.
func TestIngestChild(t *testing.T) {
	args := os.Getenv("FLYWHEEL_INGEST_CHILD")
	if args == "" {
		t.Skip("run by TestIngestSurvivesKill")
	}
	if err := run(context.Background(), strings.Split(args, "\n"), io.Discard, os.Stderr); err != nil {
		t.Fatal(err)
	}
}

// TestIngestSurvivesKill kills an ingest (a real child process) with
// SIGKILL part-way, then checks that the collection is consistent and that
// the next ingest completes it.
func TestIngestSurvivesKill(t *testing.T) {
	docs := sharedData(t, "qa/cmrc2018_dev/docs.jsonl")
	src, data := t.TempDir(), t.TempDir()
	total := splitIntoFiles(t, docs, src)

	args := []string{"ingest", "--data-dir", data, "--collection", "c", src}
	cmd := exec.Command(os.Args[0], "-test.run=^TestIngestChild$")
	cmd.Env = append(os.Environ(), "FLYWHEEL_INGEST_CHILD="+strings.Join(args, "\n"))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	partial := waitForDocuments(t, data, "c", 100)
	cmd.Process.Signal(syscall.SIGKILL)
	err := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("the child was not killed mid-ingest (%v): make the corpus larger", err)
	}

	ctx := context.Background()
	st, err := store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := st.Documents(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	chunkDocs, err := st.ChunkDocIDs(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	withChunks := map[string]bool{}
	for _, d := range chunkDocs {
		withChunks[d] = true
	}
	for _, d := range stored {
		if !withChunks[d.ID] {
			t.Fatalf("document %s was stored without its chunks", d.ID)
		}
	}
	if len(stored) < partial || len(stored) >= total {
		t.Fatalf("after the kill %d of %d documents are stored (saw %d before)", len(stored), total, partial)
	}
	var rebuilt strings.Builder
	c, err := collection.Open(ctx, st, "c", collectionEvents(&rebuilt))
	if err != nil {
		t.Fatal(err)
	}
	if c.Len() != len(chunkDocs) || c.BM25().Generation != c.Info().Generation {
		t.Fatalf("reopened index: %d chunks at generation %d; the store has %d at %d", c.Len(), c.BM25().Generation, len(chunkDocs), c.Info().Generation)
	}
	st.Close()
	t.Logf("killed after %d of %d documents; reopening said %q", len(stored), total, strings.TrimSpace(rebuilt.String()))

	out, stderr, err := flywheel(t, args...)
	if err != nil {
		t.Fatalf("second ingest: %v\n%s", err, stderr)
	}
	want := fmt.Sprintf("(%d added, 0 updated, %d unchanged, 0 removed)", total-len(stored), len(stored))
	if !strings.Contains(out, want) {
		t.Fatalf("second ingest said %q, want %q", out, want)
	}
	if hits := searchJSON(t, "--data-dir", data, "--collection", "c", "-k", "1", "《战国无双3》是由哪两个公司合作开发的？"); len(hits) != 1 || hits[0].Title != "DEV_0" {
		t.Fatalf("search after recovery: %+v", hits)
	}
}

// splitIntoFiles writes each record of a JSON Lines file as its own .txt
// file (so that ingest commits many times) and returns how many.
func splitIntoFiles(t *testing.T, jsonl, dir string) int {
	f, err := os.Open(jsonl)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	n := 0
	for sc.Scan() {
		var r struct{ ID, Text string }
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, r.ID+".txt"), []byte(r.Text), 0o644); err != nil {
			t.Fatal(err)
		}
		n++
	}
	return n
}

// waitForDocuments polls the store until a collection holds at least n
// documents, and returns the count it saw.
func waitForDocuments(t *testing.T, data, name string, n int) int {
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond) // each poll opens the store: not so often that it starves the child's writes
		if _, err := os.Stat(filepath.Join(data, "flywheel.db")); err != nil {
			continue
		}
		st, err := store.Open(ctx, data)
		if err != nil {
			continue
		}
		docs, err := st.Documents(ctx, name)
		st.Close()
		if err == nil && len(docs) >= n {
			return len(docs)
		}
	}
	t.Fatalf("the child stored fewer than %d documents in 60 s", n)
	return 0
}

// BenchmarkIngest is `flywheel ingest` of the CMRC paragraphs (848
// documents, 1.2 MB) into a new collection: load, chunk, store, index.
func BenchmarkIngest(b *testing.B) {
	p := filepath.Join("..", "..", "..", "shared", "testdata", "qa", "cmrc2018_dev", "docs.jsonl")
	st, err := os.Stat(p)
	if err != nil {
		b.Skipf("missing %s", p)
	}
	b.ReportAllocs()
	b.SetBytes(st.Size())
	for b.Loop() {
		data := b.TempDir()
		if err := run(context.Background(), []string{"ingest", "--data-dir", data, "--collection", "c", p}, io.Discard, io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(848*b.N)/b.Elapsed().Seconds(), "docs/s")
}

func TestReadQuestionsErrors(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{
		"not json":   "{oops\n",
		"no doc_ids": `{"id": "q", "question": "why?"}` + "\n",
		"empty":      "\n",
	} {
		p := filepath.Join(dir, "q.jsonl")
		os.WriteFile(p, []byte(src), 0o644)
		if _, err := readQuestions(p); err == nil || !strings.Contains(err.Error(), "q.jsonl") {
			t.Errorf("%s: want an error naming the file, got %v", name, err)
		}
	}
}

func FuzzReadQuestions(f *testing.F) {
	f.Add([]byte(`{"id": "q1", "question": "How many?", "answers": ["3"], "doc_ids": ["d1"]}` + "\n"))
	f.Add([]byte("{oops\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "q.jsonl")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		qs, err := readQuestions(p)
		if err == nil && len(qs) == 0 {
			t.Fatal("no error and no questions")
		}
		for _, q := range qs {
			if q.Question == "" || len(q.DocIDs) == 0 {
				t.Fatalf("accepted %+v", q)
			}
		}
	})
}
