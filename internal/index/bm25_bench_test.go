package index

import (
	"testing"

	"flywheel/internal/chunk"
)

func benchIndex(b *testing.B, set string) (*BM25, []qaQuestion) {
	docs, qs := qaDocs(b, set), qaQuestions(b, set)
	x := NewBM25(BM25Config{})
	for _, d := range docs {
		x.Add(chunk.Chunk{ID: d.id, Text: d.text})
	}
	return x, qs
}

// BenchmarkBM25Search is the latency of one top-10 query (a question of
// the QA set) over its paragraphs.
func BenchmarkBM25Search(b *testing.B) {
	for _, set := range []string{"xquad_en", "cmrc2018_dev"} {
		b.Run(set, func(b *testing.B) {
			x, qs := benchIndex(b, set)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				x.Search(qs[i%len(qs)].Question, 10, nil)
			}
		})
	}
}

// BenchmarkBM25Add is the indexing throughput in paragraphs (and bytes).
func BenchmarkBM25Add(b *testing.B) {
	for _, set := range []string{"xquad_en", "cmrc2018_dev"} {
		b.Run(set, func(b *testing.B) {
			docs := qaDocs(b, set)
			chunks := make([]chunk.Chunk, len(docs))
			size := 0
			for i, d := range docs {
				chunks[i] = chunk.Chunk{ID: d.id, Text: d.text}
				size += len(d.text)
			}
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				x := NewBM25(BM25Config{})
				x.Add(chunks...)
			}
			b.ReportMetric(float64(len(docs)*b.N)/b.Elapsed().Seconds(), "chunks/s")
		})
	}
}
