package collection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"flywheel/internal/embed"
	"flywheel/internal/index"
	"flywheel/internal/retrieve"
	"flywheel/internal/store"
)

// NewEmbedder loads or addresses the model e names; keyEnv names the
// environment variable holding a remote endpoint's key.
func NewEmbedder(e store.EmbedConfig, keyEnv string) (embed.Embedder, error) {
	return embed.New(embed.Config{Model: e.Model, Threads: runtime.NumCPU(),
		Remote: embed.RemoteConfig{URL: e.URL, Model: e.Name, APIKeyEnv: keyEnv}})
}

// EmbedBatch is how many texts go to the embedder at a time (between
// progress reports).
const EmbedBatch = 32

// EmbedTexts embeds texts in batches, calling progress with the number
// done after each.
func EmbedTexts(ctx context.Context, emb embed.Embedder, texts []string, progress func(done int)) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for i := 0; i < len(texts); i += EmbedBatch {
		batch := texts[i:min(i+EmbedBatch, len(texts))]
		vecs, err := emb.Embed(ctx, batch)
		if err != nil {
			return nil, fmt.Errorf("embedding with %s: %w", emb.Name(), err)
		}
		if len(vecs) != len(batch) {
			return nil, fmt.Errorf("embedding with %s: %d vectors for %d texts", emb.Name(), len(vecs), len(batch))
		}
		out = append(out, vecs...)
		progress(len(out))
	}
	return out, nil
}

// vectorIndex is a collection's HNSW graph (cosine) over its chunks'
// vectors, at a store generation. Each chunk is node store.VectorID(id);
// the store maps nodes back to chunks. The file vectors-GEN.hnsw beside
// the BM25 index holds the graph at generation GEN, so a file of another
// generation (a crash between the store's commit and the save) is never
// taken for the current one.
type vectorIndex struct {
	st         *store.Store
	collection string
	dir        string
	graph      *index.HNSW // nil until the first vector
	generation uint64
}

func (v *vectorIndex) path(gen uint64) string {
	return filepath.Join(v.dir, fmt.Sprintf("vectors-%d.hnsw", gen))
}

// load maps the graph saved at generation gen.
func (v *vectorIndex) load(gen uint64) error {
	g, err := index.LoadHNSW(v.path(gen))
	if err != nil {
		return err
	}
	v.graph, v.generation = g, gen
	return nil
}

// add puts vectors under the chunks' IDs, creating the graph with the
// first vector's dimension (int8-quantized walks when it is a multiple of
// 32).
func (v *vectorIndex) add(chunkIDs []string, vecs [][]float32) error {
	for i, id := range chunkIDs {
		if v.graph == nil {
			dim := len(vecs[i])
			g, err := index.NewHNSW(index.HNSWConfig{Dim: dim, Metric: index.Cosine, Quantize: dim%32 == 0})
			if err != nil {
				return err
			}
			v.graph = g
		}
		if err := v.graph.Add(store.VectorID(id), vecs[i]); err != nil {
			return fmt.Errorf("vector index of %q: chunk %s: %w; was the embedding model changed?", v.collection, id, err)
		}
	}
	return nil
}

func (v *vectorIndex) delete(chunkIDs []string) {
	if v.graph == nil {
		return
	}
	for _, id := range chunkIDs {
		v.graph.Delete(store.VectorID(id))
	}
}

// Len is the number of live vectors.
func (v *vectorIndex) Len() int {
	if v.graph == nil {
		return 0
	}
	return v.graph.Len()
}

// save writes the graph atomically under its generation and removes the
// files of other generations.
func (v *vectorIndex) save() error {
	if err := os.MkdirAll(v.dir, 0o755); err != nil {
		return err
	}
	keep := ""
	if v.graph != nil {
		keep = v.path(v.generation)
		if err := v.graph.Save(keep); err != nil {
			return fmt.Errorf("saving the vector index of %q: %w", v.collection, err)
		}
	}
	old, _ := filepath.Glob(filepath.Join(v.dir, "vectors-*.hnsw"))
	tmp, _ := filepath.Glob(filepath.Join(v.dir, ".vectors-*.hnsw.tmp*")) // left by a killed save
	for _, f := range append(old, tmp...) {
		if f != keep {
			os.Remove(f)
		}
	}
	return nil
}

// rebuild indexes every stored vector anew, embedding the chunks that
// have none (stored before the collection had a model, or by a build
// without vectors) and storing their vectors, then saves the graph.
func (v *vectorIndex) rebuild(ctx context.Context, emb embed.Embedder, log func(string), progress func(done, total int)) error {
	if v.graph != nil {
		v.graph.Close()
		v.graph = nil
	}
	var missing []store.ChunkRecord
	gen, err := v.st.EachChunkVector(ctx, v.collection, func(r store.ChunkRecord, vec []float32) error {
		if vec == nil {
			missing = append(missing, r)
			return nil
		}
		return v.add([]string{r.ID}, [][]float32{vec})
	})
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		log(fmt.Sprintf("embedding %d chunks of %q with %s", len(missing), v.collection, emb.Name()))
		ids := make([]string, len(missing))
		texts := make([]string, len(missing))
		for i, r := range missing {
			ids[i], texts[i] = r.ID, EmbedText(r.Title, r.Heading, r.Text)
		}
		vecs, err := EmbedTexts(ctx, emb, texts, func(n int) { progress(n, len(texts)) })
		if err != nil {
			return err
		}
		if err := v.st.PutVectors(ctx, v.collection, ids, vecs); err != nil {
			return err
		}
		if err := v.add(ids, vecs); err != nil {
			return err
		}
	}
	v.generation = gen
	return v.save()
}

// EmbedText is what is embedded for a chunk: the same title, heading and
// text that BM25 indexes.
func EmbedText(title, heading, text string) string { return IndexText(title, heading, text) }

// SearchVector implements retrieve.VectorSearcher: the k nearest chunks
// that keep accepts, asking the graph for more until k are kept or it
// runs out.
func (v *vectorIndex) SearchVector(ctx context.Context, q []float32, k int, keep func(string) bool) ([]retrieve.VectorHit, error) {
	if v.graph == nil || v.graph.Len() == 0 || k <= 0 {
		return nil, nil
	}
	if len(q) != v.graph.Dim() {
		return nil, fmt.Errorf("the query vector has %d dimensions, the index of %q %d: search with the model the collection was ingested with", len(q), v.collection, v.graph.Dim())
	}
	n := k
	if keep != nil {
		n = 4 * k
	}
	for {
		found := v.graph.Search(q, n)
		ids := make([]uint64, len(found))
		for i, h := range found {
			ids[i] = h.ID
		}
		chunkIDs, err := v.st.ChunkIDsByVectorID(ctx, v.collection, ids)
		if err != nil {
			return nil, err
		}
		var out []retrieve.VectorHit
		for _, h := range found {
			id, ok := chunkIDs[h.ID]
			if ok && (keep == nil || keep(id)) {
				out = append(out, retrieve.VectorHit{ChunkID: id, Score: float64(h.Score)})
			}
		}
		if len(out) >= k || len(found) < n || n >= v.graph.Len() {
			return out[:min(k, len(out))], nil
		}
		n *= 4
	}
}

// OpenVectors opens the collection's embedding model (override, when
// set, instead of the recorded one) and its vector index, rebuilding the
// index when it is missing or behind the store. A collection without a
// model stays BM25-only.
func (c *Collection) OpenVectors(ctx context.Context, override store.EmbedConfig, keyEnv string) error {
	cfg := c.info.Embed
	if !override.IsZero() {
		if cfg.IsZero() {
			return fmt.Errorf("collection %q has no vectors: ingest it with --embed-model or --embed-url first", c.info.Name)
		}
		cfg = override
	}
	if cfg.IsZero() {
		return nil
	}
	emb, err := NewEmbedder(cfg, keyEnv)
	if err != nil {
		return fmt.Errorf("collection %q: %w", c.info.Name, err)
	}
	c.embedder = emb
	c.vec = &vectorIndex{st: c.st, collection: c.info.Name, dir: c.st.CollectionDir(c.info.Name)}
	err = c.vec.load(c.info.Generation)
	if err == nil {
		if d := emb.Dim(); d > 0 && d != c.vec.graph.Dim() {
			return fmt.Errorf("collection %q: %s makes %d-dimensional vectors, its index holds %d: use the model it was ingested with", c.info.Name, emb.Name(), d, c.vec.graph.Dim())
		}
		return nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		c.log(fmt.Sprintf("%v; rebuilding the vector index", err))
	}
	return c.vec.rebuild(ctx, emb, c.log, c.prog)
}
