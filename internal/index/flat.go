package index

import (
	"fmt"
	"slices"

	"flywheel/internal/mmap"
)

// Flat is exact vector search: every query is compared with every live
// vector. It is the index for small collections (below a few thousand
// vectors it is as fast as a graph and never misses) and the reference that
// HNSW recall is measured against.
type Flat struct {
	dim     int
	metric  Metric
	vecs    []float32 // [n][dim]
	ids     []uint64  // [n]
	deleted []uint64  // bitset over rows
	dead    int
	byID    map[uint64]uint32
	file    *mmap.File
}

// NewFlat returns an empty exact index of dim-dimensional vectors.
func NewFlat(dim int, metric Metric) (*Flat, error) {
	if dim <= 0 {
		return nil, fmt.Errorf("flat index: dimension %d: must be positive", dim)
	}
	if metric > DotProduct {
		return nil, fmt.Errorf("flat index: unknown metric %d", metric)
	}
	return &Flat{dim: dim, metric: metric, byID: map[uint64]uint32{}}, nil
}

// Dim returns the vector length.
func (f *Flat) Dim() int { return f.dim }

// Metric returns how vectors are compared.
func (f *Flat) Metric() Metric { return f.metric }

// Len returns the number of live vectors.
func (f *Flat) Len() int { return len(f.ids) - f.dead }

// Add stores v under id, replacing any vector id had.
func (f *Flat) Add(id uint64, v []float32) error {
	if len(v) != f.dim {
		return fmt.Errorf("flat index: add id %d: vector has %d dimensions, index has %d", id, len(v), f.dim)
	}
	f.own()
	f.Delete(id)
	row := uint32(len(f.ids))
	f.vecs = append(f.vecs, v...)
	if f.metric == Cosine {
		normalize(f.vecs[len(f.vecs)-f.dim:])
	}
	f.ids = append(f.ids, id)
	if int(row)>>6 >= len(f.deleted) {
		f.deleted = append(f.deleted, 0)
	}
	f.byID[id] = row
	return nil
}

// Delete removes id; it reports whether id was present.
func (f *Flat) Delete(id uint64) bool {
	row, ok := f.byID[id]
	if !ok {
		return false
	}
	f.own()
	delete(f.byID, id)
	f.deleted[row>>6] |= 1 << (row & 63)
	f.dead++
	return true
}

// Search returns the k live vectors with the highest scores, best first.
func (f *Flat) Search(q []float32, k int) []VectorHit {
	return f.SearchInto(make([]VectorHit, 0, k), q, k, nil)
}

// SearchInto appends the k best live vectors for q to dst, best first;
// scratch (may be nil) is reused for the top-k heap and the normalised query.
func (f *Flat) SearchInto(dst []VectorHit, q []float32, k int, scratch *FlatScratch) []VectorHit {
	if len(q) != f.dim {
		panic(fmt.Sprintf("flat index: query has %d dimensions, index has %d", len(q), f.dim))
	}
	if k <= 0 {
		return dst
	}
	if scratch == nil {
		scratch = &FlatScratch{}
	}
	if f.metric == Cosine {
		scratch.query = append(scratch.query[:0], q...)
		normalize(scratch.query)
		q = scratch.query
	}
	top := scratch.top[:0] // max-heap of distances: the worst kept on top
	for row := range f.ids {
		if f.deleted[row>>6]&(1<<(row&63)) != 0 {
			continue
		}
		d := -dot(q, f.vecs[row*f.dim:(row+1)*f.dim])
		if len(top) < k {
			top.push(candidate{d, uint32(row)})
		} else if d < top[0].dist {
			top[0] = candidate{d, uint32(row)}
			top.push(top.pop()) // restore heap order
		}
	}
	found := top.drainAscending(&scratch.found)
	slices.SortStableFunc(found, compareCandidates)
	for _, c := range found {
		dst = append(dst, VectorHit{ID: f.ids[c.id], Score: -c.dist})
	}
	scratch.top = top
	return dst
}

// FlatScratch holds the buffers of one Flat search so repeated searches
// allocate nothing. One scratch per goroutine.
type FlatScratch struct {
	query []float32
	top   maxHeap
	found []candidate
}

func (f *Flat) own() {
	if f.file == nil {
		return
	}
	f.vecs = slices.Clone(f.vecs)
	f.ids = slices.Clone(f.ids)
	f.deleted = slices.Clone(f.deleted)
	f.file.Close()
	f.file = nil
}

// Close releases the mapping of a loaded index; f must not be used afterwards.
func (f *Flat) Close() error {
	file := f.file
	f.file = nil
	return file.Close()
}
