package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Document is a stored document: what identifies it and where it came
// from; its text lives in its chunks.
type Document struct {
	ID, Path, Title string
	// Hash identifies the content; an unchanged hash means no re-indexing.
	Hash string
	Meta map[string]string
}

// Chunk is a stored passage of a document.
type Chunk struct {
	ID, DocID  string
	Seq        int
	Text       string
	Start, End int
	Heading    string
	// Vector is the chunk's embedding, nil when the collection has no
	// embedding model (or it is not computed yet).
	Vector []float32
}

// ChunkRecord is a chunk with its document's fields, as search shows it.
type ChunkRecord struct {
	Chunk
	Path, Title string
	Meta        map[string]string
}

// Documents lists a collection's documents by path and ID.
func (s *Store) Documents(ctx context.Context, collection string) ([]Document, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, path, title, hash, meta FROM documents
		WHERE collection = ? ORDER BY path, id`, collection)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	var out []Document
	for rows.Next() {
		var d Document
		var meta string
		if err := rows.Scan(&d.ID, &d.Path, &d.Title, &d.Hash, &meta); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		d.Meta = decodeMeta(meta)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DocumentChunks is a document with its chunks, as PutDocuments takes
// them.
type DocumentChunks struct {
	Document Document
	Chunks   []Chunk
}

// PutDocument stores d with its chunks in one transaction, replacing any
// earlier version of the document; it returns the IDs of the chunks it
// replaced and the collection's new generation.
func (s *Store) PutDocument(ctx context.Context, collection string, d Document, chunks []Chunk) (replaced []string, gen uint64, err error) {
	return s.PutDocuments(ctx, collection, []DocumentChunks{{d, chunks}})
}

// PutDocuments stores several documents as PutDocument does, all in one
// transaction (all or none survive a crash).
func (s *Store) PutDocuments(ctx context.Context, collection string, docs []DocumentChunks) (replaced []string, gen uint64, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		insDoc, err := tx.PrepareContext(ctx, `INSERT INTO documents (collection, id, path, title, hash, meta) VALUES (?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insDoc.Close()
		insChunk, err := tx.PrepareContext(ctx, `INSERT INTO chunks (collection, id, doc_id, seq, text, start_byte, end_byte, heading, vec_id, vector)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer insChunk.Close()
		for _, dc := range docs {
			d := dc.Document
			old, err := deleteDocument(ctx, tx, collection, d.ID)
			if err != nil {
				return err
			}
			replaced = append(replaced, old...)
			if _, err := insDoc.ExecContext(ctx, collection, d.ID, d.Path, d.Title, d.Hash, encodeMeta(d.Meta)); err != nil {
				return fmt.Errorf("document %s (%s): %w", d.ID, d.Path, err)
			}
			for _, c := range dc.Chunks {
				if _, err := insChunk.ExecContext(ctx, collection, c.ID, d.ID, c.Seq, c.Text, c.Start, c.End, c.Heading,
					int64(VectorID(c.ID)), encodeVector(c.Vector)); err != nil {
					return fmt.Errorf("chunk %s: %w", c.ID, err)
				}
			}
		}
		gen, err = bump(ctx, tx, collection)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: storing %d documents in %q: %w", len(docs), collection, err)
	}
	return replaced, gen, nil
}

// DeleteDocuments removes documents and their chunks in one transaction;
// it returns the removed chunk IDs and the new generation.
func (s *Store) DeleteDocuments(ctx context.Context, collection string, ids []string) (chunkIDs []string, gen uint64, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			removed, err := deleteDocument(ctx, tx, collection, id)
			if err != nil {
				return err
			}
			chunkIDs = append(chunkIDs, removed...)
		}
		gen, err = bump(ctx, tx, collection)
		return err
	})
	if err != nil {
		return nil, 0, fmt.Errorf("store: deleting documents from %q: %w", collection, err)
	}
	return chunkIDs, gen, nil
}

func deleteDocument(ctx context.Context, tx *sql.Tx, collection, id string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM chunks WHERE collection = ? AND doc_id = ? ORDER BY seq`, collection, id)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM chunks WHERE collection = ? AND doc_id = ?`, collection, id); err != nil {
		return nil, err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM documents WHERE collection = ? AND id = ?`, collection, id)
	return ids, err
}

// bump advances a collection's generation.
func bump(ctx context.Context, tx *sql.Tx, collection string) (uint64, error) {
	var gen uint64
	err := tx.QueryRowContext(ctx, `UPDATE collections SET generation = generation + 1 WHERE name = ? RETURNING generation`, collection).Scan(&gen)
	if err == sql.ErrNoRows {
		return 0, fmt.Errorf("collection %q: %w", collection, ErrNotFound)
	}
	return gen, err
}

func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// EachChunk calls fn with every chunk of a collection and its document's
// fields, in document and chunk order, and returns the generation the
// chunks belong to.
func (s *Store) EachChunk(ctx context.Context, collection string, fn func(ChunkRecord) error) (gen uint64, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT generation FROM collections WHERE name = ?`, collection).Scan(&gen); err != nil {
			if err == sql.ErrNoRows {
				return fmt.Errorf("collection %q: %w", collection, ErrNotFound)
			}
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+chunkRecordColumns+`
			FROM chunks c JOIN documents d ON d.collection = c.collection AND d.id = c.doc_id
			WHERE c.collection = ? ORDER BY c.doc_id, c.seq`, collection)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanChunkRecord(rows)
			if err != nil {
				return err
			}
			if err := fn(r); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("store: reading chunks of %q: %w", collection, err)
	}
	return gen, nil
}

const chunkRecordColumns = `c.id, c.doc_id, c.seq, c.text, c.start_byte, c.end_byte, c.heading, d.path, d.title, d.meta`

func scanChunkRecord(rows *sql.Rows) (ChunkRecord, error) {
	var r ChunkRecord
	var meta string
	if err := rows.Scan(&r.ID, &r.DocID, &r.Seq, &r.Text, &r.Start, &r.End, &r.Heading, &r.Path, &r.Title, &meta); err != nil {
		return r, err
	}
	r.Meta = decodeMeta(meta)
	return r, nil
}

// ChunkRecords returns the named chunks with their documents' fields, in
// the order of ids; unknown IDs are skipped.
func (s *Store) ChunkRecords(ctx context.Context, collection string, ids []string) ([]ChunkRecord, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := []any{collection}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+chunkRecordColumns+`
		FROM chunks c JOIN documents d ON d.collection = c.collection AND d.id = c.doc_id
		WHERE c.collection = ? AND c.id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	byID := map[string]ChunkRecord{}
	for rows.Next() {
		r, err := scanChunkRecord(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		byID[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	out := make([]ChunkRecord, 0, len(ids))
	for _, id := range ids {
		if r, ok := byID[id]; ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// ChunkDocIDs maps every chunk ID of a collection to its document ID.
func (s *Store) ChunkDocIDs(ctx context.Context, collection string) (map[string]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, doc_id FROM chunks WHERE collection = ?`, collection)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var c, d string
		if err := rows.Scan(&c, &d); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[c] = d
	}
	return out, rows.Err()
}
