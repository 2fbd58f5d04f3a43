package collection

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"flywheel/internal/index"
	"flywheel/internal/retrieve"
	"flywheel/internal/store"
)

func newCollection(t *testing.T, name string) (*store.Store, store.Collection) {
	t.Helper()
	st, err := store.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	want := store.Collection{Name: name, Analyzer: index.DefaultAnalyzer.Name, K1: 0.9, B: 0.4, ChunkSize: 200, ChunkOverlap: 20}
	if err := Ensure(context.Background(), st, want, nil); err != nil {
		t.Fatal(err)
	}
	return st, want
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestIngestSearchAndReopen ingests a folder, searches it, changes it,
// ingests again, and reopens the collection from its saved index and,
// after the index file is removed, from the store alone.
func TestIngestSearchAndReopen(t *testing.T) {
	ctx := context.Background()
	st, _ := newCollection(t, "geo")
	dir := writeFiles(t, map[string]string{
		"volcano.md": "# Volcanoes\n\nMagma rises through the crust and erupts as lava.",
		"rivers.txt": "Rivers carry sediment to the sea, where deltas form.",
	})
	c, err := Open(ctx, st, "geo", Events{})
	if err != nil {
		t.Fatal(err)
	}
	var last Progress
	sum, err := c.Ingest(ctx, []string{dir}, IngestOptions{Progress: func(p Progress) { last = p }})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Files != 2 || sum.Added != 2 || sum.Chunks != 2 || last.Files != 2 || c.Len() != 2 {
		t.Fatalf("first ingest: %+v, last progress %+v, %d chunks indexed", sum, last, c.Len())
	}
	search := func(c *Collection, q string) string {
		t.Helper()
		hits, err := c.Retriever().Search(ctx, retrieve.Query{Text: q, K: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 {
			return ""
		}
		return hits[0].Doc.Title
	}
	if got := search(c, "lava erupts"); got != "Volcanoes" {
		t.Errorf("lava: top hit %q", got)
	}

	os.Remove(filepath.Join(dir, "rivers.txt"))
	os.WriteFile(filepath.Join(dir, "glacier.txt"), []byte("Glaciers carve fjords into the rock."), 0o644)
	sum, err = c.Ingest(ctx, []string{dir}, IngestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Added != 1 || sum.Removed != 1 || sum.Unchanged != 1 || c.Len() != 2 {
		t.Fatalf("second ingest: %+v, %d chunks", sum, c.Len())
	}

	var notices []string
	for _, drop := range []bool{false, true} {
		if drop {
			os.Remove(filepath.Join(st.CollectionDir("geo"), "bm25.idx"))
		}
		r, err := Open(ctx, st, "geo", Events{Notice: func(m string) { notices = append(notices, m) }})
		if err != nil {
			t.Fatal(err)
		}
		if got := search(r, "fjords"); got != "glacier" || r.Len() != 2 || search(r, "sediment") != "" {
			t.Errorf("reopened (index dropped: %v): fjords → %q, %d chunks", drop, got, r.Len())
		}
	}
	if len(notices) != 0 { // a missing file is rebuilt quietly; only damage is reported
		t.Errorf("notices %q", notices)
	}
}

func TestEnsureRefusesOtherSettings(t *testing.T) {
	ctx := context.Background()
	st, want := newCollection(t, "docs")
	for _, tc := range []struct {
		change   func(*store.Collection)
		explicit []string
		err      string
	}{
		{func(c *store.Collection) {}, nil, ""},
		{func(c *store.Collection) { c.Analyzer = "simple" }, nil, ""}, // a default, not asked for: no conflict
		{func(c *store.Collection) { c.Analyzer = "simple" }, []string{"analyzer"}, "analyzer simple (it has standard)"},
		{func(c *store.Collection) { c.ChunkSize = 500 }, []string{"chunk-size"}, "chunk-size 500 (it has 200)"},
		{func(c *store.Collection) { c.Embed = store.EmbedConfig{URL: "http://x", Name: "m"} }, nil, ""}, // recorded on first use
		{func(c *store.Collection) { c.Embed = store.EmbedConfig{URL: "http://y", Name: "m"} }, nil, "embedding model m at http://y (it has m at http://x)"},
	} {
		w := want
		tc.change(&w)
		err := Ensure(ctx, st, w, tc.explicit)
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%+v %v: error %v, want %q", w, tc.explicit, err, tc.err)
		}
	}
}
