package answer

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"flywheel/internal/chunk"
	"flywheel/internal/retrieve"
)

// BenchmarkExtractive measures an extractive answer past retrieval:
// sentence splitting, term weighting and choice over the 5 passages of
// the first XQuAD article.
func BenchmarkExtractive(b *testing.B) {
	path := filepath.Join(sharedQA(b, "xquad_en"), "docs.jsonl")
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var hits []retrieve.Hit
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for len(hits) < 5 && sc.Scan() {
		var d struct{ ID, Title, Text string }
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			b.Fatal(err)
		}
		hits = append(hits, retrieve.Hit{Passage: retrieve.Passage{
			Chunk: chunk.Chunk{ID: d.ID + "#0", DocID: d.ID, Text: d.Text, End: len(d.Text)},
			Doc:   retrieve.DocInfo{ID: d.ID, Title: d.Title}}})
	}
	p := &Pipeline{Retriever: &fakeRetriever{hits: hits}}
	q := Question{Text: "How many points did the Panthers defense surrender?"}
	b.ReportAllocs()
	for b.Loop() {
		p.Retriever.(*fakeRetriever).queries = nil
		a, err := p.Ask(context.Background(), q)
		if err != nil || len(a.Citations) == 0 {
			b.Fatal(err, a)
		}
	}
}
