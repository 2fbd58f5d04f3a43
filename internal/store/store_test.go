package store

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestCollections(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.Collection(ctx, "docs"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing collection: %v", err)
	}
	c, err := s.CreateCollection(ctx, Collection{Name: "docs", Analyzer: "standard", K1: 0.9, B: 0.4, ChunkSize: 500, ChunkOverlap: 50})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Collection(ctx, "docs")
	if err != nil || !reflect.DeepEqual(got, c) {
		t.Fatalf("got %+v %v, want %+v", got, err, c)
	}
	for _, bad := range []string{"docs", "", "../x", "a/b", strings.Repeat("x", 129)} {
		if _, err := s.CreateCollection(ctx, Collection{Name: bad}); err == nil {
			t.Errorf("created collection %q", bad)
		}
	}
	list, err := s.Collections(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("list %+v %v", list, err)
	}
	if err := s.DeleteCollection(ctx, "docs"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Collection(ctx, "docs"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted collection: %v", err)
	}
}

func TestDocumentsAndChunks(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.CreateCollection(ctx, Collection{Name: "c", Analyzer: "standard"}); err != nil {
		t.Fatal(err)
	}
	doc := func(id, hash string) Document {
		return Document{ID: id, Path: "/p/" + id, Title: strings.ToUpper(id), Hash: hash, Meta: map[string]string{"lang": "en"}}
	}
	chunks := func(doc string, n int) []Chunk {
		var out []Chunk
		for i := range n {
			out = append(out, Chunk{ID: doc + "#" + string(rune('0'+i)), DocID: doc, Seq: i, Text: "text " + doc, Start: i, End: i + 1, Heading: "H"})
		}
		return out
	}
	steps := []struct {
		name         string
		do           func() ([]string, uint64, error)
		wantReplaced []string
		wantGen      uint64
		wantChunks   int
	}{
		{"add a", func() ([]string, uint64, error) { return s.PutDocument(ctx, "c", doc("a", "h1"), chunks("a", 2)) }, nil, 1, 2},
		{"add b and c", func() ([]string, uint64, error) {
			return s.PutDocuments(ctx, "c", []DocumentChunks{{doc("b", "h"), chunks("b", 1)}, {doc("c", "h"), chunks("c", 3)}})
		}, nil, 2, 6},
		{"replace a", func() ([]string, uint64, error) { return s.PutDocument(ctx, "c", doc("a", "h2"), chunks("a", 1)) }, []string{"a#0", "a#1"}, 3, 5},
		{"delete c", func() ([]string, uint64, error) { return s.DeleteDocuments(ctx, "c", []string{"c", "nope"}) }, []string{"c#0", "c#1", "c#2"}, 4, 2},
	}
	for _, st := range steps {
		replaced, gen, err := st.do()
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if !reflect.DeepEqual(replaced, st.wantReplaced) || gen != st.wantGen {
			t.Fatalf("%s: replaced %v gen %d, want %v %d", st.name, replaced, gen, st.wantReplaced, st.wantGen)
		}
		n := 0
		gen, err = s.EachChunk(ctx, "c", func(r ChunkRecord) error {
			if r.Title == "" {
				t.Errorf("chunk %s without its title", r.ID)
			}
			n++
			return nil
		})
		if err != nil || n != st.wantChunks || gen != st.wantGen {
			t.Fatalf("%s: %d chunks at gen %d (%v), want %d at %d", st.name, n, gen, err, st.wantChunks, st.wantGen)
		}
	}
	docs, err := s.Documents(ctx, "c")
	if err != nil || len(docs) != 2 || docs[0].Hash != "h2" || docs[0].Meta["lang"] != "en" {
		t.Fatalf("documents %+v %v", docs, err)
	}
	recs, err := s.ChunkRecords(ctx, "c", []string{"b#0", "missing", "a#0"})
	if err != nil || len(recs) != 2 || recs[0].ID != "b#0" || recs[0].Title != "B" || recs[1].Path != "/p/a" || recs[1].Heading != "H" {
		t.Fatalf("records %+v %v", recs, err)
	}
	if _, _, err := s.PutDocument(ctx, "nope", doc("x", "h"), nil); err == nil {
		t.Fatal("stored into a missing collection")
	}
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	s.CreateCollection(ctx, Collection{Name: "c"})
	s.PutDocument(ctx, "c", Document{ID: "a", Path: "p", Hash: "h"}, []Chunk{{ID: "a#0", Text: "x"}})
	s.Close()
	s, err = Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Collection(ctx, "c")
	if err != nil || c.Generation != 1 {
		t.Fatalf("reopened %+v %v", c, err)
	}
	if s.CollectionDir("c") != filepath.Join(dir, "collections", "c") {
		t.Fatal(s.CollectionDir("c"))
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE meta SET value = '99' WHERE key = 'schema_version'`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(ctx, dir); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("opened a newer schema: %v", err)
	}
}
