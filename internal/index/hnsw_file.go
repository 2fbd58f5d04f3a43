package index

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"unsafe"

	"flywheel/internal/mmap"
	"flywheel/internal/tensor"
)

// Vector index files share one layout, little-endian, built to be mapped:
//
//	magic     [8]byte   "FWHNSW\x00\x00" or "FWFLAT\x00\x00"
//	version   uint32    1
//	nFields   uint32
//	nSections uint32
//	_         uint32
//	fields    [nFields]uint64              scalars (dimension, counts, ...)
//	sections  [nSections]{offset, length uint64}  byte ranges of the arrays
//	crc       uint32    CRC-32C of everything above
//	arrays, each starting on a 64-byte boundary
//
// Writes go to a temporary file in the same directory that is synced and
// renamed over the target, so a crash leaves the old file or the new one.

const fileVersion = 1

var (
	hnswMagic  = [8]byte{'F', 'W', 'H', 'N', 'S', 'W'}
	flatMagic  = [8]byte{'F', 'W', 'F', 'L', 'A', 'T'}
	castagnoli = crc32.MakeTable(crc32.Castagnoli)
)

const sectionAlign = 64

// hnswFields are the scalars of an HNSW file, in order.
const (
	hfDim = iota
	hfMetric
	hfM
	hfEfConstruction
	hfEfSearch
	hfSeed
	hfNodes
	hfDead
	hfEntry
	hfMaxLevel
	hfQuantize
	hnswFieldCount
)

// hnswSections is the number of arrays in an HNSW file: vectors, layer-0
// links, levels, ids, deleted bits, upper-link offsets, Q8_0 codes, upper links.
const hnswSections = 8

// Save writes the graph to path atomically.
func (h *HNSW) Save(path string) error {
	fields := make([]uint64, hnswFieldCount)
	fields[hfDim] = uint64(h.cfg.Dim)
	fields[hfMetric] = uint64(h.cfg.Metric)
	fields[hfM] = uint64(h.cfg.M)
	fields[hfEfConstruction] = uint64(h.cfg.EfConstruction)
	fields[hfEfSearch] = uint64(h.cfg.EfSearch)
	fields[hfSeed] = h.cfg.Seed
	fields[hfNodes] = uint64(len(h.ids))
	fields[hfDead] = uint64(h.dead)
	fields[hfEntry] = uint64(h.entry)
	fields[hfMaxLevel] = uint64(h.maxLevel)
	if h.cfg.Quantize {
		fields[hfQuantize] = 1
	}
	offsets := make([]uint32, len(h.upper)+1)
	for i, u := range h.upper {
		offsets[i+1] = offsets[i] + uint32(len(u))
	}
	sections := [][]byte{
		asBytes(h.vecs), asBytes(h.links0), h.levels, asBytes(h.ids),
		asBytes(h.deleted), asBytes(offsets), h.codes,
	}
	return writeIndexFile(path, hnswMagic, fields, sections, func(w *bufio.Writer) error {
		for _, u := range h.upper {
			if _, err := w.Write(asBytes(u)); err != nil {
				return err
			}
		}
		return nil
	}, 4*int64(offsets[len(offsets)-1]))
}

// LoadHNSW maps the graph saved at path. The arrays stay in the page cache
// (a load costs no copy); the first Add or Delete copies them to the heap.
// Close releases the mapping.
func LoadHNSW(path string) (*HNSW, error) {
	f, fields, secs, err := openIndexFile(path, hnswMagic, hnswFieldCount, hnswSections)
	if err != nil {
		return nil, err
	}
	h, err := hnswFromFile(fields, secs)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	h.file = f
	return h, nil
}

func hnswFromFile(fields []uint64, secs [][]byte) (*HNSW, error) {
	cfg := HNSWConfig{
		Dim: int(fields[hfDim]), Metric: Metric(fields[hfMetric]), M: int(fields[hfM]),
		EfConstruction: int(fields[hfEfConstruction]), EfSearch: int(fields[hfEfSearch]), Seed: fields[hfSeed],
		Quantize: fields[hfQuantize] == 1,
	}
	n := fields[hfNodes]
	if cfg.Dim <= 0 || cfg.Dim > 1<<20 || cfg.Metric > DotProduct || cfg.M < 2 || cfg.M > 1<<12 ||
		cfg.EfConstruction <= 0 || cfg.EfSearch <= 0 || n >= math32 || fields[hfQuantize] > 1 ||
		(cfg.Quantize && cfg.Dim%tensor.QK != 0) {
		return nil, errors.New("hnsw header: implausible configuration; the file is damaged, rebuild the index")
	}
	h := &HNSW{cfg: cfg}
	h.init()
	var err error
	nodes := int(n)
	m0 := 2 * cfg.M
	if h.vecs, err = sectionOf[float32](secs[0], nodes*cfg.Dim, "vectors"); err != nil {
		return nil, err
	}
	if h.links0, err = sectionOf[uint32](secs[1], nodes*(1+m0), "layer-0 links"); err != nil {
		return nil, err
	}
	if h.levels, err = sectionOf[uint8](secs[2], nodes, "levels"); err != nil {
		return nil, err
	}
	if h.ids, err = sectionOf[uint64](secs[3], nodes, "ids"); err != nil {
		return nil, err
	}
	if h.deleted, err = sectionOf[uint64](secs[4], (nodes+63)/64, "deleted"); err != nil {
		return nil, err
	}
	offsets, err := sectionOf[uint32](secs[5], nodes+1, "upper offsets")
	if err != nil {
		return nil, err
	}
	if h.codes, err = sectionOf[uint8](secs[6], nodes*h.codeBytes, "quantized vectors"); err != nil {
		return nil, err
	}
	upper, err := sectionOf[uint32](secs[7], int(offsets[nodes]), "upper links")
	if err != nil {
		return nil, err
	}
	h.upper = make([][]uint32, nodes)
	h.byID = make(map[uint64]uint32, nodes)
	w := 1 + cfg.M
	for i := range nodes {
		lo, hi := offsets[i], offsets[i+1]
		if hi < lo || hi > offsets[nodes] || int(hi-lo) != int(h.levels[i])*w || h.levels[i] >= maxLevels {
			return nil, fmt.Errorf("hnsw node %d: upper links [%d, %d) disagree with its level %d; rebuild the index", i, lo, hi, h.levels[i])
		}
		if hi > lo {
			h.upper[i] = upper[lo:hi:hi]
		}
	}
	if err := h.check(fields); err != nil {
		return nil, err
	}
	return h, nil
}

const math32 = 1 << 32

// check validates a loaded graph so that no later search can index out of
// range, and rebuilds the id map.
func (h *HNSW) check(fields []uint64) error {
	n := uint32(len(h.ids))
	for node := range n {
		for l := 0; l <= int(h.levels[node]); l++ {
			slot := h.links(node, l)
			if int(slot[0]) > len(slot)-1 {
				return fmt.Errorf("hnsw node %d layer %d: %d links, room for %d; rebuild the index", node, l, slot[0], len(slot)-1)
			}
			for _, nb := range slot[1 : 1+slot[0]] {
				if nb >= n || int(h.levels[nb]) < l {
					return fmt.Errorf("hnsw node %d layer %d: link to %d is out of range; rebuild the index", node, l, nb)
				}
			}
		}
		if !h.isDeleted(node) {
			h.byID[h.ids[node]] = node
		} else {
			h.dead++
		}
	}
	if uint64(h.dead) != fields[hfDead] || len(h.byID) != int(n)-h.dead {
		return fmt.Errorf("hnsw: %d deleted and %d live ids, header says %d deleted of %d; rebuild the index", h.dead, len(h.byID), fields[hfDead], n)
	}
	h.entry, h.maxLevel = uint32(fields[hfEntry]), int(fields[hfMaxLevel])
	if n > 0 && (h.entry >= n || h.maxLevel != int(h.levels[h.entry])) {
		return fmt.Errorf("hnsw: entry point %d at level %d is not a node of that level; rebuild the index", h.entry, h.maxLevel)
	}
	return nil
}

// asBytes views a slice of fixed-size numbers as its little-endian bytes.
func asBytes[T float32 | uint32 | uint64](s []T) []byte {
	if len(s) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&s[0])), len(s)*int(unsafe.Sizeof(s[0])))
}

// sectionOf views b as count numbers of type T, checking its length and alignment.
func sectionOf[T float32 | uint32 | uint64 | uint8](b []byte, count int, what string) ([]T, error) {
	var zero T
	size := int(unsafe.Sizeof(zero))
	if len(b) != count*size {
		return nil, fmt.Errorf("%s: section holds %d bytes, want %d; the file is truncated or damaged, rebuild the index", what, len(b), count*size)
	}
	if count == 0 {
		return nil, nil
	}
	if uintptr(unsafe.Pointer(&b[0]))%uintptr(size) != 0 {
		return nil, fmt.Errorf("%s: section is misaligned", what)
	}
	return unsafe.Slice((*T)(unsafe.Pointer(&b[0])), count), nil
}

// writeIndexFile writes magic, fields and sections to path atomically. When
// tail is not nil it writes one more, last section of tailLen bytes.
func writeIndexFile(path string, magic [8]byte, fields []uint64, sections [][]byte, tail func(*bufio.Writer) error, tailLen int64) error {
	if !littleEndian {
		return errors.New("vector index files need a little-endian machine")
	}
	lengths := make([]int64, 0, len(sections)+1)
	for _, s := range sections {
		lengths = append(lengths, int64(len(s)))
	}
	if tail != nil {
		lengths = append(lengths, tailLen)
	}
	head := make([]byte, 0, 24+8*len(fields)+16*len(lengths)+4)
	head = append(head, magic[:]...)
	head = binary.LittleEndian.AppendUint32(head, fileVersion)
	head = binary.LittleEndian.AppendUint32(head, uint32(len(fields)))
	head = binary.LittleEndian.AppendUint32(head, uint32(len(lengths)))
	head = binary.LittleEndian.AppendUint32(head, 0)
	for _, v := range fields {
		head = binary.LittleEndian.AppendUint64(head, v)
	}
	off := alignUp(int64(len(head) + 16*len(lengths) + 4))
	for _, n := range lengths {
		head = binary.LittleEndian.AppendUint64(head, uint64(off))
		head = binary.LittleEndian.AppendUint64(head, uint64(n))
		off = alignUp(off + n)
	}
	head = binary.LittleEndian.AppendUint32(head, crc32.Checksum(head, castagnoli))
	return writeAtomic(path, func(w *bufio.Writer) error {
		if _, err := w.Write(head); err != nil {
			return err
		}
		pos := int64(len(head))
		for _, s := range sections {
			if err := pad(w, &pos); err != nil {
				return err
			}
			if _, err := w.Write(s); err != nil {
				return err
			}
			pos += int64(len(s))
		}
		if tail == nil {
			return nil
		}
		if err := pad(w, &pos); err != nil {
			return err
		}
		return tail(w)
	})
}

func alignUp(n int64) int64 { return (n + sectionAlign - 1) &^ (sectionAlign - 1) }

func pad(w *bufio.Writer, pos *int64) error {
	var zeros [sectionAlign]byte
	n := alignUp(*pos) - *pos
	*pos += n
	_, err := w.Write(zeros[:n])
	return err
}

// writeAtomic writes path through a synced temporary file and a rename.
func writeAtomic(path string, write func(*bufio.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("save index %s: %w", path, err)
	}
	w := bufio.NewWriterSize(tmp, 1<<20)
	if err = write(w); err != nil {
		return fmt.Errorf("save index %s: %w", path, err)
	}
	if err = w.Flush(); err != nil {
		return fmt.Errorf("save index %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("save index %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("save index %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save index: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// openIndexFile maps path and splits it into its fields and sections.
func openIndexFile(path string, magic [8]byte, nFields, nSections int) (*mmap.File, []uint64, [][]byte, error) {
	if !littleEndian {
		return nil, nil, nil, errors.New("vector index files need a little-endian machine")
	}
	f, err := mmap.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("load index: %w", err)
	}
	fields, secs, err := parseIndexFile(f.Data, magic, nFields, nSections)
	if err != nil {
		f.Close()
		return nil, nil, nil, fmt.Errorf("load index %s: %w", path, err)
	}
	return f, fields, secs, nil
}

// parseIndexFile checks the header of data and returns its fields and the
// byte range of each section.
func parseIndexFile(data []byte, magic [8]byte, nFields, nSections int) ([]uint64, [][]byte, error) {
	headLen := 24 + 8*nFields + 16*nSections
	if len(data) < headLen+4 {
		return nil, nil, fmt.Errorf("file of %d bytes is shorter than its header; it is truncated", len(data))
	}
	if [8]byte(data[:8]) != magic {
		return nil, nil, fmt.Errorf("magic %q: not a %s file", data[:8], string(magic[2:6]))
	}
	le := binary.LittleEndian
	if v := le.Uint32(data[8:]); v != fileVersion {
		return nil, nil, fmt.Errorf("format version %d: this build reads version %d; rebuild the index", v, fileVersion)
	}
	if int(le.Uint32(data[12:])) != nFields || int(le.Uint32(data[16:])) != nSections {
		return nil, nil, fmt.Errorf("header has %d fields and %d sections, want %d and %d", le.Uint32(data[12:]), le.Uint32(data[16:]), nFields, nSections)
	}
	if got, want := le.Uint32(data[headLen:]), crc32.Checksum(data[:headLen], castagnoli); got != want {
		return nil, nil, fmt.Errorf("header checksum %08x, computed %08x: the file is damaged", got, want)
	}
	fields := make([]uint64, nFields)
	for i := range fields {
		fields[i] = le.Uint64(data[24+8*i:])
	}
	secs := make([][]byte, nSections)
	for i := range secs {
		p := 24 + 8*nFields + 16*i
		off, n := le.Uint64(data[p:]), le.Uint64(data[p+8:])
		if off > uint64(len(data)) || n > uint64(len(data))-off {
			return nil, nil, fmt.Errorf("section %d [%d, +%d) runs past the end of the %d-byte file; it is truncated", i, off, n, len(data))
		}
		secs[i] = data[off : off+n : off+n]
	}
	return fields, secs, nil
}

var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
