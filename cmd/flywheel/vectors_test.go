package main

import (
	"context"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"flywheel/internal/collection"
	"flywheel/internal/embed"
	"flywheel/internal/index"
	"flywheel/internal/store"
)

// tinyBERT is a random-weight BERT with a tokenizer, small enough to embed
// a few chunks in milliseconds.
const tinyBERT = "../../internal/bert/testdata/tiny"

var vectorDocs = map[string]string{
	"cats.txt":    "The cat sat on the mat. Cats like milk.",
	"space.md":    "# Rockets\n\nRockets fly to the moon and back.",
	"bread.md":    "# Bread\n\nBake bread with flour and water.",
	"sea/fish.md": "# Fish\n\nFish swim in the sea.",
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}

// storedVectors reads every chunk's stored vector, by chunk ID.
func storedVectors(t *testing.T, data, name string) (map[string][]float32, map[string]store.ChunkRecord) {
	t.Helper()
	st, err := store.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	vecs, recs := map[string][]float32{}, map[string]store.ChunkRecord{}
	if _, err := st.EachChunkVector(context.Background(), name, func(r store.ChunkRecord, v []float32) error {
		vecs[r.ID], recs[r.ID] = v, r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return vecs, recs
}

// vectorFile maps the collection's one vector index file.
func vectorFile(t *testing.T, data, name string) (string, *index.HNSW) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(data, "collections", name, "vectors-*.hnsw"))
	if len(files) != 1 {
		t.Fatalf("vector index files %v, want one", files)
	}
	g, err := index.LoadHNSW(files[0])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	return filepath.Base(files[0]), g
}

// TestVectorSearchLocal ingests with a local encoder and checks vector and
// hybrid hits against cosines computed here from the same model, then
// re-ingests unchanged files, deletes one and rebuilds a lost index.
func TestVectorSearchLocal(t *testing.T) {
	src, data := t.TempDir(), t.TempDir()
	writeTree(t, src, vectorDocs)
	dd := []string{"--data-dir", data, "--collection", "v"}
	out, stderr, err := flywheel(t, append([]string{"ingest", "--embed-model", tinyBERT}, append(dd, src)...)...)
	if err != nil {
		t.Fatalf("ingest: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "4 documents (4 added") || !strings.Contains(out, "4 vectors by ") {
		t.Fatalf("ingest summary %q", out)
	}

	// Every chunk has its stored vector, equal to the model's embedding
	// of its title, heading and text.
	emb, err := embed.LoadLocal(tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	defer emb.Close()
	vecs, recs := storedVectors(t, data, "v")
	for id, r := range recs {
		want, err := emb.Embed(context.Background(), []string{collection.EmbedText(r.Title, r.Heading, r.Text)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(vecs[id], want[0]) {
			t.Fatalf("chunk %s: stored vector %v, the model gives %v", id, vecs[id], want[0])
		}
	}

	const query = "cat milk"
	q, err := emb.Embed(context.Background(), []string{query})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, 0, len(vecs))
	for id := range vecs {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { // by cosine to the query, best first
		return -cmpFloat(cosine(q[0], vecs[a]), cosine(q[0], vecs[b]))
	})

	hits := searchJSON(t, append(dd, "--mode", "vector", "-k", "10", query)...)
	if len(hits) != len(ids) {
		t.Fatalf("vector search: %d hits, want %d", len(hits), len(ids))
	}
	for i, h := range hits {
		want := cosine(q[0], vecs[ids[i]])
		v := h.Explanation.Vector
		if h.ChunkID != ids[i] || v == nil || v.Rank != i+1 || math.Abs(v.Similarity-want) > 1e-5 || h.Explanation.BM25 != nil {
			t.Fatalf("vector hit %d: %s %+v, want %s with cosine %.6f", i+1, h.ChunkID, h.Explanation, ids[i], want)
		}
	}

	hybrid := searchJSON(t, append(dd, "--mode", "hybrid", "-k", "10", query)...)
	if len(hybrid) != len(ids) || hybrid[0].Path != filepath.Join(src, "cats.txt") {
		t.Fatalf("hybrid: %+v", hybrid)
	}
	if e := hybrid[0].Explanation; e.BM25 == nil || e.Vector == nil || e.Fusion == nil || e.BM25.Rank != 1 {
		t.Fatalf("hybrid explanation of the lexical match %+v", e)
	}
	if def := searchJSON(t, append(dd, query)...); def[0].Explanation.Fusion == nil {
		t.Fatalf("with a model the default mode is not hybrid: %+v", def[0].Explanation)
	}

	// Re-ingesting unchanged files changes nothing.
	file, _ := vectorFile(t, data, "v")
	out, _, err = flywheel(t, append([]string{"ingest"}, append(dd, src)...)...)
	if err != nil || !strings.Contains(out, "(0 added, 0 updated, 4 unchanged, 0 removed), 0 chunks indexed") {
		t.Fatalf("re-ingest: %q %v", out, err)
	}
	if again, _ := vectorFile(t, data, "v"); again != file {
		t.Fatalf("re-ingest rewrote the vector index at another generation: %s, was %s", again, file)
	}
	if again := searchJSON(t, append(dd, "--mode", "vector", "-k", "10", query)...); !sameHits(again, hits) {
		t.Fatalf("re-ingest changed the hits: %+v", again)
	}

	// A deleted file's chunks leave the vector index.
	if err := os.Remove(filepath.Join(src, "space.md")); err != nil {
		t.Fatal(err)
	}
	var gone []string
	for id, r := range recs {
		if filepath.Base(r.Path) == "space.md" {
			gone = append(gone, id)
		}
	}
	out, _, err = flywheel(t, append([]string{"ingest"}, append(dd, src)...)...)
	if err != nil || !strings.Contains(out, "1 removed") || !strings.Contains(out, "3 vectors") {
		t.Fatalf("ingest after a delete: %q %v", out, err)
	}
	_, g := vectorFile(t, data, "v")
	if g.Len() != len(recs)-len(gone) {
		t.Fatalf("vector index holds %d vectors, want %d", g.Len(), len(recs)-len(gone))
	}
	for _, id := range gone {
		if g.Contains(store.VectorID(id)) {
			t.Fatalf("deleted chunk %s is still in the vector index", id)
		}
	}
	after := searchJSON(t, append(dd, "--mode", "vector", "-k", "10", "rockets moon")...)
	for _, h := range after {
		if slices.Contains(gone, h.ChunkID) {
			t.Fatalf("deleted chunk %s found", h.ChunkID)
		}
	}

	// A lost index is rebuilt from the stored vectors, with no embedding.
	files, _ := filepath.Glob(filepath.Join(data, "collections", "v", "vectors-*.hnsw"))
	os.Remove(files[0])
	_, stderr, err = flywheel(t, append([]string{"search", "--json", "--mode", "vector", "-k", "10"}, append(dd, "rockets moon")...)...)
	if err != nil || strings.Contains(stderr, "embedding") {
		t.Fatalf("rebuild: %v %q", err, stderr)
	}
	if rebuilt := searchJSON(t, append(dd, "--mode", "vector", "-k", "10", "rockets moon")...); !sameHits(rebuilt, after) {
		t.Fatalf("rebuilt index gives %+v, want %+v", rebuilt, after)
	}

	// An index of an older generation (a crash before the save) is not
	// taken for the current one.
	files, _ = filepath.Glob(filepath.Join(data, "collections", "v", "vectors-*.hnsw"))
	stale := filepath.Join(data, "collections", "v", "vectors-1.hnsw")
	if err := os.Rename(files[0], stale); err != nil {
		t.Fatal(err)
	}
	if rebuilt := searchJSON(t, append(dd, "--mode", "vector", "-k", "10", "rockets moon")...); !sameHits(rebuilt, after) {
		t.Fatalf("index rebuilt over a stale one gives %+v, want %+v", rebuilt, after)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Fatalf("the stale index file is left: %v", err)
	}

	if _, _, err := flywheel(t, append([]string{"ingest", "--embed-url", "http://localhost:1/v1", "--embed-model-name", "m"}, append(dd, src)...)...); err == nil || !strings.Contains(err.Error(), "embedding model") {
		t.Fatalf("changing the embedding model: %v", err)
	}
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func sameHits(a, b []jsonHit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].ChunkID != b[i].ChunkID || math.Abs(a[i].Score-b[i].Score) > 1e-6 {
			return false
		}
	}
	return true
}

// bagOfWords is the fake endpoint's embedding: each lower-cased word adds
// 1 to one of 16 dimensions picked by its hash.
func bagOfWords(text string) []float32 {
	v := make([]float32, 16)
	for _, w := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !('a' <= r && r <= 'z') }) {
		h := fnv.New32a()
		h.Write([]byte(w))
		v[h.Sum32()%16]++
	}
	v[15] += 0.01 // never all zero
	return v
}

// fakeEmbeddings is an OpenAI-compatible /v1/embeddings endpoint answering
// with bagOfWords; it counts the texts it embeds.
func fakeEmbeddings(t *testing.T, key string, texts *atomic.Int32) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, `{"error":{"message":"bad route or key"}}`, http.StatusUnauthorized)
			return
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Model != "bag" {
			http.Error(w, `{"error":{"message":"bad request"}}`, http.StatusBadRequest)
			return
		}
		type item struct {
			Index     int       `json:"index"`
			Embedding []float32 `json:"embedding"`
		}
		var data []item
		for i, s := range req.Input {
			data = append(data, item{i, bagOfWords(s)})
		}
		texts.Add(int32(len(req.Input)))
		json.NewEncoder(w).Encode(map[string]any{"data": data, "model": req.Model})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestVectorSearchRemote adds a remote embedding model to a collection
// ingested without one: its stored chunks are embedded once, and search
// uses the recorded endpoint.
func TestVectorSearchRemote(t *testing.T) {
	t.Setenv("FW_TEST_EMBED_KEY", "sk-test")
	var texts atomic.Int32
	srv := fakeEmbeddings(t, "sk-test", &texts)
	src, data := t.TempDir(), t.TempDir()
	writeTree(t, src, vectorDocs)
	dd := []string{"--data-dir", data, "--collection", "r"}
	if _, _, err := flywheel(t, append([]string{"ingest"}, append(dd, src)...)...); err != nil {
		t.Fatal(err)
	}
	remote := []string{"--embed-url", srv.URL + "/v1", "--embed-model-name", "bag", "--embed-key-env", "FW_TEST_EMBED_KEY"}
	if _, _, err := flywheel(t, append(append([]string{"search"}, dd...), append(remote, "fish")...)...); err == nil || !strings.Contains(err.Error(), "has no vectors") {
		t.Fatalf("search with a model over a collection without vectors: %v", err)
	}
	out, stderr, err := flywheel(t, append(append([]string{"ingest"}, remote...), append(dd, src)...)...)
	if err != nil || !strings.Contains(stderr, "embedding 4 chunks") || !strings.Contains(out, "4 vectors by bag") || texts.Load() != 4 {
		t.Fatalf("adding a model: %q %q %v, %d texts embedded", out, stderr, err, texts.Load())
	}

	hits := searchJSON(t, append(dd, "--embed-key-env", "FW_TEST_EMBED_KEY", "--mode", "vector", "-k", "2", "fish swim in the sea")...)
	if texts.Load() != 5 {
		t.Fatalf("%d texts embedded, want 4 chunks and 1 query", texts.Load())
	}
	vecs, recs := storedVectors(t, data, "r")
	if len(hits) != 2 || filepath.Base(hits[0].Path) != "fish.md" {
		t.Fatalf("vector hits %+v", hits)
	}
	want := cosine(bagOfWords("fish swim in the sea"), vecs[hits[0].ChunkID])
	if got := hits[0].Explanation.Vector.Similarity; math.Abs(got-want) > 1e-5 {
		t.Fatalf("similarity %.6f, want %.6f", got, want)
	}
	if v := vecs[hits[0].ChunkID]; !slices.Equal(v, bagOfWords(collection.EmbedText(recs[hits[0].ChunkID].Title, recs[hits[0].ChunkID].Heading, recs[hits[0].ChunkID].Text))) {
		t.Fatalf("stored vector %v is not the endpoint's", v)
	}

	questions := filepath.Join(t.TempDir(), "q.jsonl")
	line, _ := json.Marshal(question{ID: "1", Question: "fish swim in the sea", DocIDs: []string{hits[0].DocID}})
	if err := os.WriteFile(questions, line, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err = flywheel(t, append([]string{"eval", "retrieval", "--json", "--mode", "vector", "--embed-key-env", "FW_TEST_EMBED_KEY", "--questions", questions}, dd...)...)
	var scores map[string]float64
	if err != nil || json.Unmarshal([]byte(out), &scores) != nil || scores["recall@1"] != 1 || scores["questions"] != 1 {
		t.Fatalf("eval retrieval --mode vector: %q %v", out, err)
	}
	if _, _, err := flywheel(t, append([]string{"ingest", "--embed-url", srv.URL + "/v1"}, append(dd, src)...)...); err == nil || !strings.Contains(err.Error(), "--embed-model-name") {
		t.Fatalf("--embed-url without a name: %v", err)
	}
}
