package prompt

import (
	"context"
	"testing"
)

// BenchmarkPack packs the chunks of 20 real paragraphs (~ 60 passages)
// under a 1,000-token budget with ApproxTokens.
func BenchmarkPack(b *testing.B) {
	var ps []Passage
	for _, d := range readDocs(b, "qa/xquad_en/docs.jsonl")[:20] {
		ps = append(ps, chunkText(d, 400)...)
	}
	b.ReportAllocs()
	for b.Loop() {
		Pack(ps, 1000, nil)
	}
}

// BenchmarkRenderRAG renders rag_answer with two few-shot examples.
func BenchmarkRenderRAG(b *testing.B) {
	tmpl, err := openDefaults(b).Get("rag_answer")
	if err != nil {
		b.Fatal(err)
	}
	vars := Vars{"question": String("Where is Lyon?"), "passages": Passages(twoPassages),
		"examples": Examples([]Example{{"Who wrote Hamlet?", "Shakespeare [1]."}, {"When?", "I don't know."}})}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(vars); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNGramOverlap selects 3 of 300 real questions.
func BenchmarkNGramOverlap(b *testing.B) {
	pool := readQuestions(b, "qa/xquad_en/questions.jsonl")[:300]
	sel := &NGramOverlap{Examples: Fixed(pool)}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sel.Select(ctx, "How many points did the defense give up?", 3); err != nil {
			b.Fatal(err)
		}
	}
}
