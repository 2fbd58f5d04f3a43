package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"flywheel/internal/chunk"
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
	if err := ensureCollection(ctx, st, want, fs.Visit); err != nil {
		return err
	}
	c, err := openCollection(ctx, st, *name, stderr)
	if err != nil {
		return err
	}
	if err := c.openVectors(ctx, store.EmbedConfig{}, *embedding.keyEnv, stderr); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	ing := &ingester{c: c, opt: document.Options{Include: include, Exclude: exclude,
		JSONL: document.JSONLFields{ID: *idField, Title: *titleField, Text: *textField}}}
	start := time.Now()
	sum, err := ing.run(ctx, fs.Args(), newProgress(stderr, "ingest", "files"))
	if err != nil {
		return err
	}
	vectors := "no embedding model (bm25 only)"
	if c.vec != nil {
		vectors = fmt.Sprintf("%d vectors by %s", c.vec.Len(), c.embedder.Name())
	}
	fmt.Fprintf(stdout, "%s: %d files, %d documents (%d added, %d updated, %d unchanged, %d removed), %d chunks indexed, %d in the collection, %s, in %.1fs\n",
		*name, sum.files, sum.added+sum.updated+sum.unchanged, sum.added, sum.updated, sum.unchanged, sum.removed, sum.chunks,
		c.bm25.Len(), vectors, time.Since(start).Seconds())
	return nil
}

// ensureCollection creates the collection when it is new, and otherwise
// refuses index settings that differ from the ones it was created with.
// An embedding model given for a collection without one is recorded (the
// stored chunks are embedded when the vector index is built); one that
// differs from the recorded model is refused.
func ensureCollection(ctx context.Context, st *store.Store, want store.Collection, visit func(func(*flag.Flag))) error {
	have, err := st.Collection(ctx, want.Name)
	if errors.Is(err, store.ErrNotFound) {
		if _, err := index.AnalyzerByName(want.Analyzer); err != nil {
			return err
		}
		_, err = st.CreateCollection(ctx, want)
		return err
	}
	if err != nil {
		return err
	}
	var conflicts []string
	visit(func(f *flag.Flag) {
		switch f.Name {
		case "analyzer", "k1", "b", "chunk-size", "chunk-overlap":
			if f.Value.String() != collectionSetting(have, f.Name) {
				conflicts = append(conflicts, fmt.Sprintf("--%s %s (it has %s)", f.Name, f.Value, collectionSetting(have, f.Name)))
			}
		}
	})
	if !want.Embed.IsZero() && !have.Embed.IsZero() && want.Embed != have.Embed {
		conflicts = append(conflicts, fmt.Sprintf("embedding model %s (it has %s)", want.Embed, have.Embed))
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("ingest: collection %q exists with other settings: %s; drop these flags or use a new collection", want.Name, strings.Join(conflicts, ", "))
	}
	if !want.Embed.IsZero() && have.Embed.IsZero() {
		return st.SetEmbed(ctx, want.Name, want.Embed)
	}
	return nil
}

func collectionSetting(c store.Collection, flag string) string {
	switch flag {
	case "analyzer":
		return c.Analyzer
	case "k1":
		return fmt.Sprint(c.K1)
	case "b":
		return fmt.Sprint(c.B)
	case "chunk-size":
		return fmt.Sprint(c.ChunkSize)
	}
	return fmt.Sprint(c.ChunkOverlap)
}

// ingester brings a collection in line with a set of paths: new and
// changed documents are (re)chunked and stored in transactions of whole
// documents, and each committed batch is applied to the index; documents
// under the paths that no longer exist are removed. The index file is
// saved when the run ends, even on an error; if the process dies first,
// the next openCollection rebuilds it from the store.
type ingester struct {
	c   *collection
	opt document.Options

	p                  *progress
	filesDone, filesOf int // of the root being ingested, for the bar
}

type ingestSummary struct {
	files, added, updated, unchanged, removed, chunks, embedded int
	addedPaths                                                  map[string]int // documents added, by path
}

func (ing *ingester) run(ctx context.Context, paths []string, p *progress) (sum ingestSummary, err error) {
	ing.p = p
	defer p.Done()
	defer func() {
		if serr := ing.c.save(); err == nil {
			err = serr
		}
	}()
	sum = ingestSummary{addedPaths: map[string]int{}}
	stored, err := ing.c.st.Documents(ctx, ing.c.info.Name)
	if err != nil {
		return sum, err
	}
	hashes := make(map[string]string, len(stored))
	for _, d := range stored {
		hashes[d.ID] = d.Hash
	}
	seen := map[string]string{} // document ID → path
	var roots []string
	for _, root := range paths {
		abs, err := filepath.Abs(root)
		if err != nil {
			return sum, fmt.Errorf("ingest: %w", err)
		}
		roots = append(roots, abs)
		files, err := document.Files(ctx, abs, ing.opt)
		if err != nil {
			return sum, err
		}
		for i, f := range files {
			if err := ing.file(ctx, f, hashes, seen, &sum); err != nil {
				return sum, err
			}
			sum.files++
			setChunkRate(p, sum.chunks, sum.embedded)
			ing.filesDone, ing.filesOf = i+1, len(files)
			p.Set(int64(sum.files), int64(i+1), int64(len(files)))
		}
	}
	var gone []string
	for _, d := range stored {
		if _, ok := seen[d.ID]; !ok && underAny(d.Path, roots) {
			gone = append(gone, d.ID)
			if sum.addedPaths[d.Path] > 0 { // an edited file: a new content ID replaces the old
				sum.addedPaths[d.Path]--
				sum.added--
				sum.updated++
				sum.removed--
			}
		}
	}
	if len(gone) > 0 {
		chunkIDs, gen, err := ing.c.st.DeleteDocuments(ctx, ing.c.info.Name, gone)
		if err != nil {
			return sum, err
		}
		ing.c.bm25.Delete(chunkIDs...)
		ing.c.bm25.Generation = gen
		if v := ing.c.vec; v != nil {
			v.delete(chunkIDs)
			v.generation = gen
		}
		sum.removed += len(gone)
	}
	return sum, nil
}

// file ingests the documents of one file, committing them in batches.
func (ing *ingester) file(ctx context.Context, path string, hashes, seen map[string]string, sum *ingestSummary) error {
	docs, err := document.LoadFile(path, ing.opt)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	var batch ingestBatch
	for _, d := range docs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if other, dup := seen[d.ID]; dup {
			return fmt.Errorf("ingest: document ID %q of %s was already used by %s: give every document a distinct ID", d.ID, path, other)
		}
		seen[d.ID] = path
		hash := d.Hash()
		old, had := hashes[d.ID]
		if had && old == hash {
			sum.unchanged++
			continue
		}
		batch.add(d, hash, chunk.Split(d, ing.chunkConfig()), had)
		if batch.full() {
			if err := ing.commit(ctx, &batch, sum); err != nil {
				return err
			}
		}
	}
	return ing.commit(ctx, &batch, sum)
}

func (ing *ingester) chunkConfig() chunk.Config {
	cfg := chunk.Config{Size: ing.c.info.ChunkSize, Overlap: ing.c.info.ChunkOverlap}
	if cfg.Overlap == 0 {
		cfg.Overlap = -1 // stored 0 means none; chunk.Config's 0 means its default
	}
	return cfg
}

// ingestBatch collects documents for one transaction.
type ingestBatch struct {
	docs       []store.DocumentChunks
	chunks     []chunk.Chunk
	titles     []string // the document title of each chunk
	bytes      int
	updates    int
	addedPaths []string
}

// Batches end at 256 documents or 4 MB of text.
const (
	batchDocs  = 256
	batchBytes = 4 << 20
)

func (b *ingestBatch) add(d document.Document, hash string, chunks []chunk.Chunk, update bool) {
	b.docs = append(b.docs, store.DocumentChunks{Document: storedDocument(d, hash), Chunks: storedChunks(chunks)})
	b.chunks = append(b.chunks, chunks...)
	for range chunks {
		b.titles = append(b.titles, d.Title)
	}
	b.bytes += len(d.Text)
	if update {
		b.updates++
	} else {
		b.addedPaths = append(b.addedPaths, d.Path)
	}
}

func (b *ingestBatch) full() bool { return len(b.docs) >= batchDocs || b.bytes >= batchBytes }

// commit embeds the batch's chunks (with an embedding model), stores the
// batch with the vectors in one transaction, then updates the indexes.
func (ing *ingester) commit(ctx context.Context, b *ingestBatch, sum *ingestSummary) error {
	if len(b.docs) == 0 {
		return nil
	}
	vecs, err := ing.embed(ctx, b, sum)
	if err != nil {
		return err
	}
	replaced, gen, err := ing.c.st.PutDocuments(ctx, ing.c.info.Name, b.docs)
	if err != nil {
		return err
	}
	ing.c.bm25.Delete(replaced...)
	for i, c := range b.chunks {
		ing.c.bm25.AddText(c.ID, bm25Text(b.titles[i], c.Heading, c.Text))
	}
	ing.c.bm25.Generation = gen
	if v := ing.c.vec; v != nil {
		v.delete(replaced)
		ids := make([]string, len(b.chunks))
		for i, c := range b.chunks {
			ids[i] = c.ID
		}
		if err := v.add(ids, vecs); err != nil {
			return err
		}
		v.generation = gen
	}
	sum.chunks += len(b.chunks)
	sum.updated += b.updates
	sum.added += len(b.docs) - b.updates
	for _, p := range b.addedPaths {
		sum.addedPaths[p]++
	}
	*b = ingestBatch{}
	return nil
}

// embed computes the vectors of the batch's chunks, in order, and puts
// them in its stored chunks; without an embedding model it does nothing.
func (ing *ingester) embed(ctx context.Context, b *ingestBatch, sum *ingestSummary) ([][]float32, error) {
	if ing.c.vec == nil || len(b.chunks) == 0 {
		return nil, nil
	}
	texts := make([]string, len(b.chunks))
	for i, c := range b.chunks {
		texts[i] = embedText(b.titles[i], c.Heading, c.Text)
	}
	before := sum.embedded
	vecs, err := embedTexts(ctx, ing.c.embedder, texts, func(n int) {
		sum.embedded = before + n
		if ing.p != nil {
			setChunkRate(ing.p, sum.chunks, sum.embedded)
			ing.p.Set(int64(sum.files), int64(ing.filesDone), int64(ing.filesOf))
		}
	})
	if err != nil {
		return nil, fmt.Errorf("ingest: %w", err)
	}
	i := 0
	for d := range b.docs {
		for j := range b.docs[d].Chunks {
			b.docs[d].Chunks[j].Vector = vecs[i]
			i++
		}
	}
	return vecs, nil
}

func storedDocument(d document.Document, hash string) store.Document {
	return store.Document{ID: d.ID, Path: d.Path, Title: d.Title, Hash: hash, Meta: d.Meta}
}

func storedChunks(chunks []chunk.Chunk) []store.Chunk {
	out := make([]store.Chunk, len(chunks))
	for i, c := range chunks {
		out[i] = store.Chunk{ID: c.ID, DocID: c.DocID, Seq: i, Text: c.Text, Start: c.Start, End: c.End, Heading: c.Heading}
	}
	return out
}

// underAny reports whether path is one of roots or inside one.
func underAny(path string, roots []string) bool {
	for _, r := range roots {
		if path == r || strings.HasPrefix(path, r+string(filepath.Separator)) {
			return true
		}
	}
	return false
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
