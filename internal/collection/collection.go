package collection

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"flywheel/internal/chunk"
	"flywheel/internal/embed"
	"flywheel/internal/index"
	"flywheel/internal/retrieve"
	"flywheel/internal/store"
)

// Collection is an open collection: its records in the store and its BM25
// index, kept at the store's generation; with an embedding model (see
// OpenVectors), also its vector index and the embedder.
type Collection struct {
	st   *store.Store
	info store.Collection
	bm25 *index.BM25
	log  func(string) // notices: rebuilt indexes
	prog func(done, total int)

	vec      *vectorIndex   // nil without an embedding model
	embedder embed.Embedder // nil without an embedding model

	docsOnce sync.Once
	docs     map[string]retrieve.DocInfo // by chunk ID, for filters
	docsErr  error
}

// Events receives what opening a collection does besides opening it. The
// zero value discards everything.
type Events struct {
	// Notice reports a repair, such as an index rebuilt after a crash.
	Notice func(msg string)
	// Embedding reports chunks embedded while a vector index is rebuilt.
	Embedding func(done, total int)
}

// Info is the collection's stored record.
func (c *Collection) Info() store.Collection { return c.info }

// Store is the store the collection lives in.
func (c *Collection) Store() *store.Store { return c.st }

// Len is the number of indexed chunks.
func (c *Collection) Len() int { return c.bm25.Len() }

// BM25 is the collection's inverted index.
func (c *Collection) BM25() *index.BM25 { return c.bm25 }

// Vectors describes the vector index: the live vectors and the embedding
// model's name, or ok false without an embedding model.
func (c *Collection) Vectors() (n int, model string, ok bool) {
	if c.vec == nil {
		return 0, "", false
	}
	return c.vec.Len(), c.embedder.Name(), true
}

// Embedder is the collection's embedding model, or nil.
func (c *Collection) Embedder() embed.Embedder { return c.embedder }

func (c *Collection) bm25Path() string {
	return filepath.Join(c.st.CollectionDir(c.info.Name), "bm25.idx")
}

// Open opens a collection's index, rebuilding it from the stored chunks
// when the file is missing, damaged or behind the store (after a crash
// mid-ingest). A rebuild is reported through ev.Notice.
func Open(ctx context.Context, st *store.Store, name string, ev Events) (*Collection, error) {
	info, err := st.Collection(ctx, name)
	if err != nil {
		return nil, err
	}
	c := &Collection{st: st, info: info, log: ev.Notice, prog: ev.Embedding}
	if c.log == nil {
		c.log = func(string) {}
	}
	if c.prog == nil {
		c.prog = func(int, int) {}
	}
	c.removeTempFiles()
	x, err := index.LoadBM25(c.bm25Path())
	if err == nil && x.Generation == info.Generation {
		c.bm25 = x
		return c, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		c.log(fmt.Sprintf("%v; rebuilding the index", err))
	} else if err == nil {
		c.log(fmt.Sprintf("index of %q is at generation %d, the store at %d (an interrupted ingest); rebuilding it", name, x.Generation, info.Generation))
	}
	if err := c.rebuild(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// rebuild indexes every stored chunk anew and saves the index.
func (c *Collection) rebuild(ctx context.Context) error {
	cfg, err := bm25Config(c.info)
	if err != nil {
		return err
	}
	x := index.NewBM25(cfg)
	gen, err := c.st.EachChunk(ctx, c.info.Name, func(r store.ChunkRecord) error {
		x.AddText(r.ID, IndexText(r.Title, r.Heading, r.Text))
		return nil
	})
	if err != nil {
		return err
	}
	x.Generation = gen
	c.info.Generation = gen
	c.bm25 = x
	return c.save()
}

// removeTempFiles deletes the temporary index files that a process killed
// while saving leaves behind.
func (c *Collection) removeTempFiles() {
	tmp, _ := filepath.Glob(filepath.Join(c.st.CollectionDir(c.info.Name), ".bm25.idx.tmp*"))
	for _, f := range tmp {
		os.Remove(f)
	}
}

// IndexText is what BM25 indexes for a chunk: its document's title and its
// section heading (which tell what a passage is about even when its own
// words do not), then its text. On the QA sets this lifts recall@1 from
// 0.941 to 0.945 (xquad_en) and 0.964 to 0.969 (cmrc2018_dev).
func IndexText(title, heading, text string) string {
	if heading == title {
		heading = ""
	}
	var parts []string
	for _, s := range []string{title, heading, text} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "\n")
}

// save writes the index files atomically.
func (c *Collection) save() error {
	if err := os.MkdirAll(c.st.CollectionDir(c.info.Name), 0o755); err != nil {
		return err
	}
	if err := index.SaveBM25(c.bm25Path(), c.bm25); err != nil {
		return err
	}
	if c.vec != nil {
		return c.vec.save()
	}
	return nil
}

func bm25Config(info store.Collection) (index.BM25Config, error) {
	a, err := index.AnalyzerByName(info.Analyzer)
	if err != nil {
		return index.BM25Config{}, fmt.Errorf("collection %q: %w", info.Name, err)
	}
	return index.BM25Config{K1: info.K1, B: info.B, Analyzer: a}, nil
}

// Retriever returns a retriever over the collection: BM25, and vector and
// hybrid search when an embedding model is open.
func (c *Collection) Retriever() *retrieve.Retriever {
	r := &retrieve.Retriever{BM25: c.bm25, Passages: c}
	if c.vec != nil {
		r.Vector = c.vec
		r.Embed = c.embedder.Embed
	}
	return r
}

// Passages implements retrieve.PassageSource from the store.
func (c *Collection) Passages(ctx context.Context, ids []string) ([]retrieve.Passage, error) {
	recs, err := c.st.ChunkRecords(ctx, c.info.Name, ids)
	if err != nil {
		return nil, err
	}
	out := make([]retrieve.Passage, len(recs))
	for i, r := range recs {
		out[i] = retrieve.Passage{
			Chunk: chunk.Chunk{ID: r.ID, DocID: r.DocID, Text: r.Text, Start: r.Start, End: r.End, Heading: r.Heading},
			Doc:   retrieve.DocInfo{ID: r.DocID, Path: r.Path, Title: r.Title, Meta: r.Meta},
		}
	}
	return out, nil
}

// LoadFilterDocs loads the chunk → document map that filters use,
// reporting a failure that DocOf cannot.
func (c *Collection) LoadFilterDocs() error {
	c.docsOnce.Do(c.loadDocs)
	return c.docsErr
}

// DocOf implements retrieve.PassageSource, loading the chunk → document
// map on first use.
func (c *Collection) DocOf(chunkID string) (retrieve.DocInfo, bool) {
	c.docsOnce.Do(c.loadDocs)
	d, ok := c.docs[chunkID]
	return d, ok
}

func (c *Collection) loadDocs() {
	ctx := context.Background()
	docs, err := c.st.Documents(ctx, c.info.Name)
	if err != nil {
		c.docsErr = err
		return
	}
	byID := make(map[string]retrieve.DocInfo, len(docs))
	for _, d := range docs {
		byID[d.ID] = retrieve.DocInfo{ID: d.ID, Path: d.Path, Title: d.Title, Meta: d.Meta}
	}
	chunkDocs, err := c.st.ChunkDocIDs(ctx, c.info.Name)
	if err != nil {
		c.docsErr = err
		return
	}
	c.docs = make(map[string]retrieve.DocInfo, len(chunkDocs))
	for ch, d := range chunkDocs {
		c.docs[ch] = byID[d]
	}
}
