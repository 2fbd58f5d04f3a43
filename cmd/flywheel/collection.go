package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
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

// collection is an open collection: its records in the store and its BM25
// index, kept at the store's generation; with an embedding model (see
// openVectors), also its vector index and the embedder.
type collection struct {
	st   *store.Store
	info store.Collection
	bm25 *index.BM25

	vec      *vectorIndex   // nil without an embedding model
	embedder embed.Embedder // nil without an embedding model

	docsOnce sync.Once
	docs     map[string]retrieve.DocInfo // by chunk ID, for filters
	docsErr  error
}

// dataDirFlag registers --data-dir, the same on every command that touches
// collections.
func dataDirFlag(fs *flag.FlagSet) *string {
	return fs.String("data-dir", store.DefaultDir, "data `directory` holding the collections")
}

func (c *collection) bm25Path() string {
	return filepath.Join(c.st.CollectionDir(c.info.Name), "bm25.idx")
}

// openCollection opens a collection's index, rebuilding it from the
// stored chunks when the file is missing, damaged or behind the store
// (after a crash mid-ingest). A rebuild is reported on stderr.
func openCollection(ctx context.Context, st *store.Store, name string, stderr io.Writer) (*collection, error) {
	info, err := st.Collection(ctx, name)
	if err != nil {
		return nil, err
	}
	c := &collection{st: st, info: info}
	c.removeTempFiles()
	x, err := index.LoadBM25(c.bm25Path())
	if err == nil && x.Generation == info.Generation {
		c.bm25 = x
		return c, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		fmt.Fprintf(stderr, "flywheel: %v; rebuilding the index\n", err)
	} else if err == nil {
		fmt.Fprintf(stderr, "flywheel: index of %q is at generation %d, the store at %d (an interrupted ingest); rebuilding it\n", name, x.Generation, info.Generation)
	}
	if err := c.rebuild(ctx); err != nil {
		return nil, err
	}
	return c, nil
}

// rebuild indexes every stored chunk anew and saves the index.
func (c *collection) rebuild(ctx context.Context) error {
	cfg, err := bm25Config(c.info)
	if err != nil {
		return err
	}
	x := index.NewBM25(cfg)
	gen, err := c.st.EachChunk(ctx, c.info.Name, func(r store.ChunkRecord) error {
		x.AddText(r.ID, bm25Text(r.Title, r.Heading, r.Text))
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
func (c *collection) removeTempFiles() {
	tmp, _ := filepath.Glob(filepath.Join(c.st.CollectionDir(c.info.Name), ".bm25.idx.tmp*"))
	for _, f := range tmp {
		os.Remove(f)
	}
}

// bm25Text is what BM25 indexes for a chunk: its document's title and its
// section heading (which tell what a passage is about even when its own
// words do not), then its text. On the QA sets this lifts recall@1 from
// 0.941 to 0.945 (xquad_en) and 0.964 to 0.969 (cmrc2018_dev).
func bm25Text(title, heading, text string) string {
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
func (c *collection) save() error {
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

// retriever returns a retriever over the collection: BM25, and vector and
// hybrid search when an embedding model is open.
func (c *collection) retriever() *retrieve.Retriever {
	r := &retrieve.Retriever{BM25: c.bm25, Passages: c}
	if c.vec != nil {
		r.Vector = c.vec
		r.Embed = c.embedder.Embed
	}
	return r
}

// Passages implements retrieve.PassageSource from the store.
func (c *collection) Passages(ctx context.Context, ids []string) ([]retrieve.Passage, error) {
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

// loadFilterDocs loads the chunk → document map that filters use,
// reporting a failure that DocOf cannot.
func (c *collection) loadFilterDocs() error {
	c.docsOnce.Do(c.loadDocs)
	return c.docsErr
}

// DocOf implements retrieve.PassageSource, loading the chunk → document
// map on first use.
func (c *collection) DocOf(chunkID string) (retrieve.DocInfo, bool) {
	c.docsOnce.Do(c.loadDocs)
	d, ok := c.docs[chunkID]
	return d, ok
}

func (c *collection) loadDocs() {
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
