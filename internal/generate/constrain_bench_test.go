package generate

import (
	"math/rand/v2"
	"testing"

	"flywheel/internal/llama"
	"flywheel/internal/tokenizer"
)

// minutesDoc is a document valid under testdata/schemas/minutes.json.
const minutesDoc = `{"summary": "The team reviewed the Q3 roadmap and agreed to ship the search feature first.", ` +
	`"decisions": ["Ship search before the new editor", "Freeze the API on 1 October"], ` +
	`"action_items": [{"owner": "Ana", "task": "Write the search design doc", "due": "2024-09-20"}, ` +
	`{"owner": "Bo Li", "task": "Set up load tests — 10× traffic", "due": null}], ` +
	`"open_questions": ["Who owns the migration?"]}`

func llamaVocab(t testing.TB) *tokenizer.Tokenizer {
	tok, err := llama.LoadTokenizer(sharedData(t, "tokenizer/ggml-vocab-llama-spm.gguf"), 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Step by step through a tokenized valid document, the mask allows each of
// its tokens (through the trie, the string fast path and the first-token
// path alike) and the document is done after the last one.
func TestConstraintAllowsTokenizedDocument(t *testing.T) {
	s := schemaFiles(t)["minutes"]
	for name, tok := range map[string]*tokenizer.Tokenizer{"llama-spm": llamaVocab(t), "stories260K": stories(t).Tokenizer} {
		ids := tok.Encode(minutesDoc, false, false)
		c, err := newConstraint(s, tok, []int{tok.BOS()})
		if err != nil {
			t.Fatal(err)
		}
		logits := make([]float32, tok.VocabSize())
		for i, id := range ids {
			if _, err := c.mask(logits, 1<<20); err != nil {
				t.Fatal(err)
			}
			if !c.allowed[id] {
				t.Fatalf("%s: token %d (%q) of %q is masked", name, i, tok.Piece(id), tok.Decode(ids[:i+1]))
			}
			done, err := c.accept(id)
			if err != nil || done != (i == len(ids)-1) {
				t.Fatalf("%s: token %d: done %v, %v", name, i, done, err)
			}
		}
	}
}

// BenchmarkConstrainedStep measures one masking step (and the grammar's
// advance past the chosen token) while writing a meeting-minutes document,
// averaged over the document's tokens.
func BenchmarkConstrainedStep(b *testing.B) {
	s := schemaFiles(b)["minutes"]
	for name, tok := range map[string]*tokenizer.Tokenizer{"llama-spm-32k": llamaVocab(b), "stories260K-512": stories(b).Tokenizer} {
		b.Run(name, func(b *testing.B) {
			ids := tok.Encode(minutesDoc, false, false)
			rng := rand.New(rand.NewPCG(1, 2))
			logits := make([]float32, tok.VocabSize())
			for i := range logits {
				logits[i] = rng.Float32() * 10
			}
			c, err := newConstraint(s, tok, []int{tok.BOS()})
			if err != nil {
				b.Fatal(err)
			}
			start := c.m.Clone()
			k := 0
			b.ReportAllocs()
			for b.Loop() {
				if k == len(ids) {
					c.m.CopyFrom(start)
					c.first, k = true, 0
				}
				if _, err := c.mask(logits, 1<<20); err != nil {
					b.Fatal(err)
				}
				if _, err := c.accept(ids[k]); err != nil {
					b.Fatal(err)
				}
				k++
			}
		})
	}
}
