package index

import "fmt"

// Save writes the flat index to path atomically (the layout of hnsw_file.go,
// magic "FWFLAT").
func (f *Flat) Save(path string) error {
	fields := []uint64{uint64(f.dim), uint64(f.metric), uint64(len(f.ids)), uint64(f.dead)}
	return writeIndexFile(path, flatMagic, fields, [][]byte{asBytes(f.vecs), asBytes(f.ids), asBytes(f.deleted)}, nil, 0)
}

// LoadFlat maps the flat index saved at path; the first Add or Delete copies
// it to the heap. Close releases the mapping.
func LoadFlat(path string) (*Flat, error) {
	file, fields, secs, err := openIndexFile(path, flatMagic, 4, 3)
	if err != nil {
		return nil, err
	}
	f, err := flatFromFile(fields, secs)
	if err != nil {
		file.Close()
		return nil, fmt.Errorf("load index %s: %w", path, err)
	}
	f.file = file
	return f, nil
}

func flatFromFile(fields []uint64, secs [][]byte) (*Flat, error) {
	dim, metric, n := fields[0], Metric(fields[1]), fields[2]
	if dim == 0 || dim > 1<<20 || metric > DotProduct || n >= math32 {
		return nil, fmt.Errorf("flat header: dimension %d, metric %d, %d rows: implausible; rebuild the index", dim, metric, n)
	}
	f := &Flat{dim: int(dim), metric: metric}
	var err error
	if f.vecs, err = sectionOf[float32](secs[0], int(n)*int(dim), "vectors"); err != nil {
		return nil, err
	}
	if f.ids, err = sectionOf[uint64](secs[1], int(n), "ids"); err != nil {
		return nil, err
	}
	if f.deleted, err = sectionOf[uint64](secs[2], (int(n)+63)/64, "deleted"); err != nil {
		return nil, err
	}
	f.byID = make(map[uint64]uint32, n)
	for row, id := range f.ids {
		if f.deleted[row>>6]&(1<<(row&63)) != 0 {
			f.dead++
		} else {
			f.byID[id] = uint32(row)
		}
	}
	if uint64(f.dead) != fields[3] {
		return nil, fmt.Errorf("flat index: %d rows deleted, header says %d; rebuild the index", f.dead, fields[3])
	}
	return f, nil
}
