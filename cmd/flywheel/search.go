package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"flywheel/internal/collection"
	"flywheel/internal/retrieve"
	"flywheel/internal/store"
)

func runSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("search", stderr)
	dataDir := dataDirFlag(fs)
	name := fs.String("collection", "", "`name` of the collection to search")
	mode := fs.String("mode", "", "`mode`: bm25, vector or hybrid (default: hybrid with an embedding model, else bm25)")
	embedding := addEmbedFlags(fs)
	k := fs.Int("k", 10, "number of hits")
	asJSON := fs.Bool("json", false, "print the hits as JSON")
	bm25Weight := fs.Float64("bm25-weight", 1, "weight of the BM25 list in hybrid reciprocal-rank fusion")
	vectorWeight := fs.Float64("vector-weight", 1, "weight of the vector list in hybrid reciprocal-rank fusion")
	rrfK := fs.Float64("rrf-k", 60, "reciprocal-rank fusion constant k: score = Σ weight/(k + rank)")
	mmr := fs.Float64("mmr", 0, "re-rank for diversity with maximal marginal relevance at this `lambda` (0: off, 1: relevance only)")
	var filters stringList
	fs.Var(&filters, "filter", "keep documents whose `key=value` holds (repeatable; keys: title, path, doc_id or a metadata field)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: flywheel search --collection NAME [flags] QUERY")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	query := strings.Join(fs.Args(), " ")
	if *name == "" || strings.TrimSpace(query) == "" {
		fs.Usage()
		return fmt.Errorf("search: --collection and a QUERY are required")
	}
	filter, err := retrieve.ParseFilter(filters)
	if err != nil {
		return err
	}
	st, c, err := openForSearch(ctx, "search", *dataDir, *name, *mode, embedding, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	r := c.Retriever()
	q := retrieve.Query{Text: query, K: *k, Filter: filter,
		Fusion: retrieve.Fusion{K: *rrfK, BM25Weight: *bm25Weight, VectorWeight: *vectorWeight},
		MMR:    retrieve.MMR{Lambda: *mmr}}
	if q.Mode, err = searchMode(r, *mode, stderr); err != nil {
		return err
	}
	if !filter.IsZero() {
		if err := c.LoadFilterDocs(); err != nil {
			return err
		}
	}
	hits, err := r.Search(ctx, q)
	if err != nil {
		return err
	}
	if *asJSON {
		return printHitsJSON(stdout, hits)
	}
	printHits(stdout, hits)
	return nil
}

// searchMode parses --mode; with none given and no embedding model it
// says that retrieval is BM25 only.
// openForSearch opens collection name of the data directory for searching,
// with its embedding model unless mode is bm25. The caller closes the store.
func openForSearch(ctx context.Context, cmd, dataDir, name, mode string, embedding *embedFlags, stderr io.Writer) (*store.Store, *collection.Collection, error) {
	embedCfg, err := embedding.config()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", cmd, err)
	}
	st, err := store.Open(ctx, dataDir)
	if err != nil {
		return nil, nil, err
	}
	c, err := collection.Open(ctx, st, name, collectionEvents(stderr))
	if err == nil && mode != string(retrieve.ModeBM25) { // bm25 needs no model
		if err = c.OpenVectors(ctx, embedCfg, *embedding.keyEnv); err != nil {
			err = fmt.Errorf("%s: %w (--mode bm25 searches without it)", cmd, err)
		}
	}
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, c, nil
}

func searchMode(r *retrieve.Retriever, flag string, stderr io.Writer) (retrieve.Mode, error) {
	if flag == "" {
		if !r.HasVectors() {
			fmt.Fprintln(stderr, "flywheel: no embedding model configured: retrieval is bm25 only")
		}
		return r.DefaultMode(), nil
	}
	return retrieve.ParseMode(flag)
}

func printHits(w io.Writer, hits []retrieve.Hit) {
	if len(hits) == 0 {
		fmt.Fprintln(w, "no hits")
		return
	}
	for i, h := range hits {
		fmt.Fprintf(w, "%d. %.4f  %s  [%s] %s bytes %d-%d\n", i+1, h.Score, h.Doc.Title, h.Doc.ID, h.Doc.Path, h.Chunk.Start, h.Chunk.End)
		if h.Chunk.Heading != "" {
			fmt.Fprintf(w, "   § %s\n", h.Chunk.Heading)
		}
		fmt.Fprintf(w, "   %s\n   why: %s\n", snippet(h.Chunk.Text, 240), h.Explanation)
	}
}

// snippet is text on one line, cut to at most n characters.
func snippet(text string, n int) string {
	s := strings.Join(strings.Fields(text), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

// jsonHit is one hit of `flywheel search --json`.
type jsonHit struct {
	Rank        int                  `json:"rank"`
	Score       float64              `json:"score"`
	ChunkID     string               `json:"chunk_id"`
	DocID       string               `json:"doc_id"`
	Title       string               `json:"title"`
	Path        string               `json:"path"`
	Heading     string               `json:"heading,omitempty"`
	Start       int                  `json:"start"`
	End         int                  `json:"end"`
	Text        string               `json:"text"`
	Explanation retrieve.Explanation `json:"explanation"`
}

func printHitsJSON(w io.Writer, hits []retrieve.Hit) error {
	out := make([]jsonHit, len(hits))
	for i, h := range hits {
		out[i] = jsonHit{Rank: i + 1, Score: h.Score, ChunkID: h.Chunk.ID, DocID: h.Doc.ID, Title: h.Doc.Title, Path: h.Doc.Path,
			Heading: h.Chunk.Heading, Start: h.Chunk.Start, End: h.Chunk.End, Text: h.Chunk.Text, Explanation: h.Explanation}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
