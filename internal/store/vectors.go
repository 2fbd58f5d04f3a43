package store

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
)

// VectorID is the number that stands for a chunk in a vector index: the
// 64-bit FNV-1a hash of its ID, stored beside the chunk so that a hit maps
// back (ChunkIDsByVectorID).
func VectorID(chunkID string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(chunkID))
	return h.Sum64()
}

// encodeVector is v as little-endian float32s; nil stays NULL.
func encodeVector(v []float32) any {
	if v == nil {
		return nil
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return b
}

func decodeVector(b []byte) ([]float32, error) {
	if b == nil {
		return nil, nil
	}
	if len(b)%4 != 0 {
		return nil, fmt.Errorf("stored vector of %d bytes: not a whole number of float32s", len(b))
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v, nil
}

// EachChunkVector calls fn with every chunk of a collection, its
// document's fields and its stored vector (nil when it has none), in
// document and chunk order, and returns the generation the chunks belong
// to.
func (s *Store) EachChunkVector(ctx context.Context, collection string, fn func(r ChunkRecord, vector []float32) error) (gen uint64, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT generation FROM collections WHERE name = ?`, collection).Scan(&gen); err != nil {
			if err == sql.ErrNoRows {
				return fmt.Errorf("collection %q: %w", collection, ErrNotFound)
			}
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+chunkRecordColumns+`, c.vector
			FROM chunks c JOIN documents d ON d.collection = c.collection AND d.id = c.doc_id
			WHERE c.collection = ? ORDER BY c.doc_id, c.seq`, collection)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var r ChunkRecord
			var meta string
			var blob []byte
			if err := rows.Scan(&r.ID, &r.DocID, &r.Seq, &r.Text, &r.Start, &r.End, &r.Heading, &r.Path, &r.Title, &meta, &blob); err != nil {
				return err
			}
			r.Meta = decodeMeta(meta)
			v, err := decodeVector(blob)
			if err != nil {
				return fmt.Errorf("chunk %s: %w", r.ID, err)
			}
			if err := fn(r, v); err != nil {
				return err
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("store: reading the vectors of %q: %w", collection, err)
	}
	return gen, nil
}

// PutVectors stores the vectors of existing chunks (computed after the
// chunks were stored); the generation does not change, as the content
// does not.
func (s *Store) PutVectors(ctx context.Context, collection string, chunkIDs []string, vectors [][]float32) error {
	if len(chunkIDs) != len(vectors) {
		return fmt.Errorf("store: %d vectors for %d chunks", len(vectors), len(chunkIDs))
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		up, err := tx.PrepareContext(ctx, `UPDATE chunks SET vec_id = ?, vector = ? WHERE collection = ? AND id = ?`)
		if err != nil {
			return err
		}
		defer up.Close()
		for i, id := range chunkIDs {
			if _, err := up.ExecContext(ctx, int64(VectorID(id)), encodeVector(vectors[i]), collection, id); err != nil {
				return fmt.Errorf("chunk %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: storing vectors in %q: %w", collection, err)
	}
	return nil
}

// ChunkIDsByVectorID maps vector IDs back to the IDs of a collection's
// chunks; IDs of chunks no longer stored are absent.
func (s *Store) ChunkIDsByVectorID(ctx context.Context, collection string, ids []uint64) (map[uint64]string, error) {
	out := make(map[uint64]string, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	args := []any{collection}
	for _, id := range ids {
		args = append(args, int64(id))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT vec_id, id FROM chunks
		WHERE collection = ? AND vec_id IN (?`+strings.Repeat(", ?", len(ids)-1)+`)`, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v int64
		var id string
		if err := rows.Scan(&v, &id); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		out[uint64(v)] = id
	}
	return out, rows.Err()
}
