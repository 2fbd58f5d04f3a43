package collection

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"flywheel/internal/chunk"
	"flywheel/internal/document"
	"flywheel/internal/index"
	"flywheel/internal/store"
)

// Ensure creates the collection when it is new, and otherwise refuses
// index settings that differ from the ones it was created with. explicit
// names the settings the caller chose (analyzer, k1, b, chunk-size,
// chunk-overlap); the others are defaults and never conflict. An embedding
// model given for a collection without one is recorded (the stored chunks
// are embedded when the vector index is built); one that differs from the
// recorded model is refused.
func Ensure(ctx context.Context, st *store.Store, want store.Collection, explicit []string) error {
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
	for _, name := range explicit {
		w, h := setting(want, name), setting(have, name)
		if w != h {
			conflicts = append(conflicts, fmt.Sprintf("%s %s (it has %s)", name, w, h))
		}
	}
	if !want.Embed.IsZero() && !have.Embed.IsZero() && want.Embed != have.Embed {
		conflicts = append(conflicts, fmt.Sprintf("embedding model %s (it has %s)", want.Embed, have.Embed))
	}
	if len(conflicts) > 0 {
		return fmt.Errorf("collection %q exists with other settings: %s; drop these settings or use a new collection", want.Name, strings.Join(conflicts, ", "))
	}
	if !want.Embed.IsZero() && have.Embed.IsZero() {
		return st.SetEmbed(ctx, want.Name, want.Embed)
	}
	return nil
}

// setting is one index setting of c as text; name is as Ensure takes it.
func setting(c store.Collection, name string) string {
	switch name {
	case "analyzer":
		return c.Analyzer
	case "k1":
		return fmt.Sprint(c.K1)
	case "b":
		return fmt.Sprint(c.B)
	case "chunk-size":
		return fmt.Sprint(c.ChunkSize)
	case "chunk-overlap":
		return fmt.Sprint(c.ChunkOverlap)
	}
	return "?" + name
}

// Progress is how far an ingest has come.
type Progress struct {
	Files            int // files ingested so far, over all paths
	FileOf, FilesOf  int // position in the path being ingested
	Chunks, Embedded int
}

// IngestOptions configures Ingest. The zero value loads every supported
// file with the default JSON Lines fields.
type IngestOptions struct {
	Documents document.Options
	Progress  func(Progress)
}

// Summary is what an ingest did.
type Summary struct {
	Files, Added, Updated, Unchanged, Removed, Chunks, Embedded int
}

// Ingest brings the collection in line with paths (files and
// directories): new and changed documents are (re)chunked and stored in
// transactions of whole documents, and each committed batch is applied to
// the indexes; documents under the paths that no longer exist are removed.
// The index files are saved when it ends, even on an error; if the process
// dies first, the next Open rebuilds them from the store.
func (c *Collection) Ingest(ctx context.Context, paths []string, opt IngestOptions) (Summary, error) {
	if opt.Progress == nil {
		opt.Progress = func(Progress) {}
	}
	ing := &ingester{c: c, opt: opt.Documents, progress: opt.Progress}
	sum, err := ing.run(ctx, paths)
	return Summary{Files: sum.files, Added: sum.added, Updated: sum.updated, Unchanged: sum.unchanged,
		Removed: sum.removed, Chunks: sum.chunks, Embedded: sum.embedded}, err
}

// ingester is one run of Ingest.
type ingester struct {
	c        *Collection
	opt      document.Options
	progress func(Progress)

	filesDone, filesOf int // of the root being ingested
}

type ingestSummary struct {
	files, added, updated, unchanged, removed, chunks, embedded int
	addedPaths                                                  map[string]int // documents added, by path
}

func (ing *ingester) run(ctx context.Context, paths []string) (sum ingestSummary, err error) {
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
			return sum, err
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
			ing.filesDone, ing.filesOf = i+1, len(files)
			ing.report(sum)
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
		return err
	}
	var batch ingestBatch
	for _, d := range docs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if other, dup := seen[d.ID]; dup {
			return fmt.Errorf("document ID %q of %s was already used by %s: give every document a distinct ID", d.ID, path, other)
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
		ing.c.bm25.AddText(c.ID, IndexText(b.titles[i], c.Heading, c.Text))
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
		texts[i] = EmbedText(b.titles[i], c.Heading, c.Text)
	}
	before := sum.embedded
	vecs, err := EmbedTexts(ctx, ing.c.embedder, texts, func(n int) {
		sum.embedded = before + n
		ing.report(*sum)
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

func (ing *ingester) report(sum ingestSummary) {
	ing.progress(Progress{Files: sum.files, FileOf: ing.filesDone, FilesOf: ing.filesOf, Chunks: sum.chunks, Embedded: sum.embedded})
}
