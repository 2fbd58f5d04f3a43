package tokenizer

import (
	"slices"
	"testing"
)

// referenceVocabs are llama.cpp's test vocabularies with their expected kind.
var referenceVocabs = []struct {
	name, kind string
}{
	{"llama-spm", "llama (SentencePiece BPE)"},
	{"gpt-2", "gpt2 (byte-level BPE, pre-tokenizer gpt-2)"},
	{"deepseek-llm", "gpt2 (byte-level BPE, pre-tokenizer deepseek-llm)"},
	{"bert-bge", "bert (WordPiece)"},
}

func vocabPath(name string) string { return "tokenizer/ggml-vocab-" + name + ".gguf" }

// TestReferenceVocabs checks every llama.cpp test-tokenizer-0 case of every
// vocabulary present: Encode(text, addSpecial=false, parseSpecial=false)
// gives exactly the expected ids.
func TestReferenceVocabs(t *testing.T) {
	for _, v := range referenceVocabs {
		t.Run(v.name, func(t *testing.T) {
			tok := loadGGUFTokenizer(t, vocabPath(v.name))
			if tok.Kind() != v.kind {
				t.Errorf("Kind() = %q, want %q", tok.Kind(), v.kind)
			}
			cases := readVocabCases(t, vocabPath(v.name))
			if len(cases) != 46 {
				t.Fatalf("got %d cases, want 46", len(cases))
			}
			for i, c := range cases {
				got := tok.Encode(c.text, false, false)
				if !slices.Equal(got, c.ids) {
					t.Errorf("case %d %q:\n got  %v\n want %v", i, c.text, got, c.ids)
				}
			}
		})
	}
}
