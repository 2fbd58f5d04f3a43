package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"reflect"
	"testing"
)

// TestMigrateVersion1 opens a data directory written by schema version 1
// (before vectors) and finds its records, then stores vectors in it.
func TestMigrateVersion1(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "flywheel.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{schema,
		`INSERT INTO meta (key, value) VALUES ('schema_version', 1)`,
		`INSERT INTO collections VALUES ('old', 'standard', 0.9, 0.4, 500, 50, 3, '2026-01-02T03:04:05Z')`,
		`INSERT INTO documents VALUES ('old', 'd1', '/p/d1', 'D1', 'h1', '{}')`,
		`INSERT INTO chunks VALUES ('old', 'c1', 'd1', 0, 'some text', 0, 9, '')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()

	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c, err := s.Collection(ctx, "old")
	if err != nil || c.Generation != 3 || c.ChunkSize != 500 || !c.Embed.IsZero() {
		t.Fatalf("migrated collection %+v %v", c, err)
	}
	var v int
	if err := s.db.QueryRow(`SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v); err != nil || v != schemaVersion {
		t.Fatalf("schema version %d %v, want %d", v, err, schemaVersion)
	}
	var got []float32
	if _, err := s.EachChunkVector(ctx, "old", func(r ChunkRecord, vec []float32) error {
		if r.ID != "c1" || r.Text != "some text" {
			t.Errorf("chunk %+v", r)
		}
		got = vec
		return nil
	}); err != nil || got != nil {
		t.Fatalf("vector before embedding %v %v", got, err)
	}

	want := []float32{0.5, -1.25, 3}
	if err := s.PutVectors(ctx, "old", []string{"c1"}, [][]float32{want}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EachChunkVector(ctx, "old", func(r ChunkRecord, vec []float32) error { got = vec; return nil }); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("stored vector %v %v, want %v", got, err, want)
	}
	ids, err := s.ChunkIDsByVectorID(ctx, "old", []uint64{VectorID("c1"), VectorID("gone")})
	if err != nil || !reflect.DeepEqual(ids, map[uint64]string{VectorID("c1"): "c1"}) {
		t.Fatalf("ids %v %v", ids, err)
	}
	e := EmbedConfig{URL: "http://localhost:1/v1", Name: "m"}
	if err := s.SetEmbed(ctx, "old", e); err != nil {
		t.Fatal(err)
	}
	if c, err := s.Collection(ctx, "old"); err != nil || c.Embed != e {
		t.Fatalf("embed config %+v %v, want %+v", c.Embed, err, e)
	}
}

func TestVectorsWithChunks(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if _, err := s.CreateCollection(ctx, Collection{Name: "c", Analyzer: "standard", Embed: EmbedConfig{Model: "/m"}}); err != nil {
		t.Fatal(err)
	}
	vec := []float32{1, 2, 3, 4}
	chunks := []Chunk{{ID: "a#0", DocID: "a", Text: "x", Vector: vec}, {ID: "a#1", DocID: "a", Seq: 1, Text: "y"}}
	if _, _, err := s.PutDocument(ctx, "c", Document{ID: "a", Path: "/a"}, chunks); err != nil {
		t.Fatal(err)
	}
	got := map[string][]float32{}
	if _, err := s.EachChunkVector(ctx, "c", func(r ChunkRecord, v []float32) error { got[r.ID] = v; return nil }); err != nil {
		t.Fatal(err)
	}
	if want := map[string][]float32{"a#0": vec, "a#1": nil}; !reflect.DeepEqual(got, want) {
		t.Fatalf("vectors %v, want %v", got, want)
	}
	ids, err := s.ChunkIDsByVectorID(ctx, "c", []uint64{VectorID("a#1")})
	if err != nil || ids[VectorID("a#1")] != "a#1" {
		t.Fatalf("ids %v %v", ids, err)
	}
}
