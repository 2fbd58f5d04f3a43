package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"flywheel/internal/collection"
	"flywheel/internal/document"
	"flywheel/internal/index"
	"flywheel/internal/store"
)

func runIngest(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", stderr)
	dataDir := dataDirFlag(fs)
	name := fs.String("collection", "", "`name` of the collection to add to (created when new)")
	var include, exclude stringList
	fs.Var(&include, "include", "only files matching this `glob` (repeatable; \"*.md\", \"docs/**/*.html\")")
	fs.Var(&exclude, "exclude", "skip files and directories matching this `glob` (repeatable)")
	idField := fs.String("id-field", "id", "JSON Lines: `field` holding the document ID")
	titleField := fs.String("title-field", "title", "JSON Lines: `field` holding the title")
	textField := fs.String("text-field", "text", "JSON Lines: `field` holding the text")
	analyzer := fs.String("analyzer", index.DefaultAnalyzer.Name, "new collection: BM25 `analyzer`: standard, simple, bigram or unigram")
	k1 := fs.Float64("k1", 0.9, "new collection: BM25 k1")
	b := fs.Float64("b", 0.4, "new collection: BM25 b")
	size := fs.Int("chunk-size", 1000, "new collection: chunk budget in `characters`")
	overlap := fs.Int("chunk-overlap", 100, "new collection: characters a chunk repeats from the one before")
	embedding := addEmbedFlags(fs)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flywheel ingest --collection NAME [flags] PATH...\n\nAdds files and directories (.txt, .md, .html, .jsonl) to a collection; re-running updates changed files and removes deleted ones.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" || fs.NArg() == 0 {
		fs.Usage()
		return fmt.Errorf("ingest: --collection and at least one PATH are required")
	}
	embedCfg, err := embedding.config()
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	st, err := store.Open(ctx, *dataDir)
	if err != nil {
		return err
	}
	defer st.Close()
	want := store.Collection{Name: *name, Analyzer: *analyzer, K1: *k1, B: *b, ChunkSize: *size, ChunkOverlap: *overlap, Embed: embedCfg}
	var explicit []string
	fs.Visit(func(f *flag.Flag) { explicit = append(explicit, f.Name) })
	if err := collection.Ensure(ctx, st, want, explicit); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	c, err := collection.Open(ctx, st, *name, collectionEvents(stderr))
	if err != nil {
		return err
	}
	if err := c.OpenVectors(ctx, store.EmbedConfig{}, *embedding.keyEnv); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	start := time.Now()
	p := newProgress(stderr, "ingest", "files")
	sum, err := c.Ingest(ctx, fs.Args(), collection.IngestOptions{
		Documents: document.Options{Include: include, Exclude: exclude,
			JSONL: document.JSONLFields{ID: *idField, Title: *titleField, Text: *textField}},
		Progress: func(n collection.Progress) {
			setChunkRate(p, n.Chunks, n.Embedded)
			p.Set(int64(n.Files), int64(n.FileOf), int64(n.FilesOf))
		},
	})
	p.Done()
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	vectors := "no embedding model (bm25 only)"
	if n, model, ok := c.Vectors(); ok {
		vectors = fmt.Sprintf("%d vectors by %s", n, model)
	}
	fmt.Fprintf(stdout, "%s: %d files, %d documents (%d added, %d updated, %d unchanged, %d removed), %d chunks indexed, %d in the collection, %s, in %.1fs\n",
		*name, sum.Files, sum.Added+sum.Updated+sum.Unchanged, sum.Added, sum.Updated, sum.Unchanged, sum.Removed, sum.Chunks,
		c.Len(), vectors, time.Since(start).Seconds())
	return nil
}

// setChunkRate puts the chunk count and rate (and the chunks embedded, with
// an embedding model) in the progress line's label, beside the files and
// files/s that it counts itself.
func setChunkRate(p *progress, chunks, embedded int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	rate := float64(chunks) / time.Since(p.start).Seconds()
	p.label = fmt.Sprintf("ingest  %s chunks  %s chunks/s", groupDigits(int64(chunks)), groupDigits(int64(rate)))
	if embedded > 0 {
		p.label += fmt.Sprintf("  %s embedded", groupDigits(int64(embedded)))
	}
}
