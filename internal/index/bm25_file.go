package index

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
)

// The BM25 file format, version 1. All integers are unsigned varints
// unless noted; strings are a length and their bytes.
//
//	magic "FWBM25\n" and version (1 byte)
//	k1, b            float64 bits, little-endian (8 bytes each)
//	analyzer         string (its name)
//	generation       varint
//	terms            count, then each term string
//	chunks           count, then each: ID string, length, distinct-term
//	                 count, then (term ID delta, tf) pairs in term order
//	checksum         CRC-32 (Castagnoli) of everything before, 4 bytes LE
const (
	bm25Magic   = "FWBM25\n"
	bm25Version = 1
)

// ErrBM25Format is wrapped by every error about a malformed index file.
var ErrBM25Format = errors.New("not a valid BM25 index file")

var bm25CRC = crc32.MakeTable(crc32.Castagnoli)

// WriteTo writes the index in the BM25 file format. Deleted chunks and
// unused terms are left out.
func (x *BM25) WriteTo(w io.Writer) (int64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	cw := &bm25Writer{w: bufio.NewWriter(w), crc: crc32.New(bm25CRC)}
	cw.bytes([]byte(bm25Magic))
	cw.bytes([]byte{bm25Version})
	cw.float(x.cfg.K1)
	cw.float(x.cfg.B)
	cw.str(x.cfg.Analyzer.Name)
	cw.uvarint(x.Generation)

	newID := make([]uint32, len(x.terms)) // old term ID → written ID + 1
	var used uint32
	for t, ps := range x.postings {
		if len(ps) > 0 {
			used++
			newID[t] = used
		}
	}
	cw.uvarint(uint64(used))
	for t, ps := range x.postings {
		if len(ps) > 0 {
			cw.str(x.terms[t])
		}
	}
	cw.uvarint(uint64(x.live))
	for _, sl := range x.slots {
		if sl.id == "" {
			continue
		}
		cw.str(sl.id)
		cw.uvarint(uint64(sl.length))
		cw.uvarint(uint64(len(sl.terms)))
		prev := uint32(0)
		for _, tf := range sl.terms { // new IDs keep the old order
			id := newID[tf.term] - 1
			cw.uvarint(uint64(id - prev))
			cw.uvarint(uint64(tf.tf))
			prev = id
		}
	}
	var sum [4]byte
	binary.LittleEndian.PutUint32(sum[:], cw.crc.Sum32())
	cw.crc = nil
	cw.bytes(sum[:])
	if cw.err == nil {
		cw.err = cw.w.Flush()
	}
	return cw.n, cw.err
}

type bm25Writer struct {
	w   *bufio.Writer
	crc hashWriter
	n   int64
	err error
	buf [binary.MaxVarintLen64]byte
}

type hashWriter interface {
	io.Writer
	Sum32() uint32
}

func (c *bm25Writer) bytes(p []byte) {
	if c.err != nil {
		return
	}
	if c.crc != nil {
		c.crc.Write(p)
	}
	n, err := c.w.Write(p)
	c.n += int64(n)
	c.err = err
}

func (c *bm25Writer) uvarint(v uint64) { c.bytes(c.buf[:binary.PutUvarint(c.buf[:], v)]) }
func (c *bm25Writer) str(s string)     { c.uvarint(uint64(len(s))); c.bytes([]byte(s)) }
func (c *bm25Writer) float(f float64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(f))
	c.bytes(b[:])
}

// ReadBM25 reads an index in the BM25 file format, checking its magic,
// version and checksum.
func ReadBM25(data []byte) (*BM25, error) {
	if len(data) < len(bm25Magic)+1+4 || string(data[:len(bm25Magic)]) != bm25Magic {
		return nil, fmt.Errorf("%w: bad magic", ErrBM25Format)
	}
	if v := data[len(bm25Magic)]; v != bm25Version {
		return nil, fmt.Errorf("%w: version %d, this build reads version %d: rebuild the index", ErrBM25Format, v, bm25Version)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, bm25CRC) != sum {
		return nil, fmt.Errorf("%w: checksum mismatch (a torn or corrupted file): rebuild the index", ErrBM25Format)
	}
	r := &bm25Reader{b: body, off: len(bm25Magic) + 1}
	cfg := BM25Config{K1: r.float(), B: r.float()}
	name := r.str()
	gen := r.uvarint()
	if r.err != nil {
		return nil, r.err
	}
	a, err := AnalyzerByName(name)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBM25Format, err)
	}
	cfg.Analyzer = a
	if !(cfg.K1 > 0) || !(cfg.B >= 0 && cfg.B <= 1) {
		return nil, fmt.Errorf("%w: k1 %g or b %g out of range", ErrBM25Format, cfg.K1, cfg.B)
	}
	x := NewBM25(cfg)
	x.cfg.B = cfg.B // withDefaults maps 0 to the default; keep what was saved
	x.Generation = gen
	if err := x.readBody(r); err != nil {
		return nil, err
	}
	return x, nil
}

func (x *BM25) readBody(r *bm25Reader) error {
	nterms := r.count(1)
	for range nterms {
		t := r.str()
		if _, dup := x.termIDs[t]; dup && r.err == nil {
			r.fail("term %q repeats", t)
		}
		x.termIDs[t] = uint32(len(x.terms))
		x.terms = append(x.terms, t)
		x.postings = append(x.postings, nil)
	}
	nchunks := r.count(3)
	for range nchunks {
		id := r.str()
		length := r.uvarint()
		n := r.count(2)
		tfs := make([]bm25TermFreq, 0, n)
		var term uint64
		for j := range n {
			d := r.uvarint()
			if j > 0 && d == 0 {
				r.fail("chunk %q: term IDs not increasing", id)
			}
			term += d
			tf := r.uvarint()
			if term >= uint64(len(x.terms)) || tf == 0 || tf > math.MaxUint32 {
				r.fail("chunk %q: term %d or count %d out of range", id, term, tf)
			}
			if r.err != nil {
				return r.err
			}
			tfs = append(tfs, bm25TermFreq{uint32(term), uint32(tf)})
		}
		if r.err != nil {
			return r.err
		}
		if _, dup := x.slotOf[id]; dup || id == "" || length > math.MaxUint32 {
			r.fail("chunk %q repeats, is empty or too long", id)
			return r.err
		}
		x.addLocked(id, tfs, uint32(length))
	}
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes", len(r.b)-r.off)
	}
	return r.err
}

// bm25Reader decodes the format, remembering the first error.
type bm25Reader struct {
	b   []byte
	off int
	err error
}

func (r *bm25Reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: at byte %d: %s", ErrBM25Format, r.off, fmt.Sprintf(format, args...))
	}
}

func (r *bm25Reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.off:])
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.off += n
	return v
}

// count reads a count of items that take at least min bytes each,
// rejecting counts the remaining bytes cannot hold.
func (r *bm25Reader) count(min int) int {
	v := r.uvarint()
	if v > uint64(len(r.b)-r.off)/uint64(min) {
		r.fail("count %d exceeds the file", v)
		return 0
	}
	return int(v)
}

func (r *bm25Reader) str() string {
	n := r.count(1)
	if r.err != nil {
		return ""
	}
	s := string(r.b[r.off : r.off+n])
	r.off += n
	return s
}

func (r *bm25Reader) float() float64 {
	if r.err != nil || len(r.b)-r.off < 8 {
		r.fail("truncated")
		return 0
	}
	v := math.Float64frombits(binary.LittleEndian.Uint64(r.b[r.off:]))
	r.off += 8
	return v
}

// SaveBM25 writes x to path atomically: a temporary file in the same
// directory, synced, then renamed over path.
func SaveBM25(path string, x *BM25) error {
	return bm25WriteAtomic(path, func(w io.Writer) error {
		_, err := x.WriteTo(w)
		return err
	})
}

// LoadBM25 reads an index file written by SaveBM25.
func LoadBM25(path string) (*BM25, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("index: %w", err)
	}
	x, err := ReadBM25(data)
	if err != nil {
		return nil, fmt.Errorf("index: %s: %w", path, err)
	}
	return x, nil
}

// bm25WriteAtomic writes path through a temporary file and a rename, syncing
// the file and its directory, so a crash leaves the old or the new file.
func bm25WriteAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("index: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = write(f); err != nil {
		return fmt.Errorf("index: writing %s: %w", path, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("index: %w", err)
	}
	if d, derr := os.Open(dir); derr == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
