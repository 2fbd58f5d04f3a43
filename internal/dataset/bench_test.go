package dataset

import (
	"bytes"
	"io"
	"sync"
	"testing"
)

// benchRecords is a synthetic JSONL file of 20,000 records of about 500
// bytes, made once (see TestWriteSynthetic for the mix).
var benchRecords = sync.OnceValue(func() []byte {
	s := newSynth(1)
	var b bytes.Buffer
	w := NewWriter(&b, WriterOptions{Format: FormatAlpaca, JSONL: true})
	var recent []Example
	for i := 0; i < 20000; i++ {
		ex := s.syntheticRecord(i, recent)
		if len(recent) < 1000 {
			recent = append(recent, ex)
		} else {
			recent[s.rng.IntN(len(recent))] = ex
		}
		w.Write(&ex)
	}
	w.Close()
	return b.Bytes()
})

// benchPipeline reads the records, and cleans and deduplicates them if
// asked, writing what is kept; it returns the number of records read.
func benchPipeline(b *testing.B, data []byte, clean, dedup bool) int {
	r, err := NewReader(bytes.NewReader(data), "bench", ReaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	w := NewWriter(io.Discard, WriterOptions{Format: FormatAlpaca, JSONL: true})
	c := NewCleaner(CleanOptions{})
	d := NewDeduper(DedupOptions{})
	n := 0
	for {
		ex, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
		if clean {
			c.Clean(&ex)
		}
		if dedup {
			if _, dup := d.Add(&ex); dup {
				continue
			}
		}
		if err := w.Write(&ex); err != nil {
			b.Fatal(err)
		}
	}
	w.Close()
	return n
}

func benchmarkPipeline(b *testing.B, clean, dedup bool) {
	data := benchRecords()
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	records := 0
	for b.Loop() {
		records += benchPipeline(b, data, clean, dedup)
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkCleanDedup is `flywheel data clean | flywheel data dedup` in one
// process: read JSONL, clean, deduplicate, write.
func BenchmarkCleanDedup(b *testing.B) { benchmarkPipeline(b, true, true) }

// BenchmarkReadWrite is the reading and writing alone.
func BenchmarkReadWrite(b *testing.B) { benchmarkPipeline(b, false, false) }

// BenchmarkClean is reading, cleaning and writing.
func BenchmarkClean(b *testing.B) { benchmarkPipeline(b, true, false) }

// BenchmarkDedup is reading, deduplicating and writing.
func BenchmarkDedup(b *testing.B) { benchmarkPipeline(b, false, true) }
