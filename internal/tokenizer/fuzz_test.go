package tokenizer

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncodeDecode checks on valid UTF-8 text, for the LLaMA and the
// stories260K vocabularies, that Decode(Encode(s)) gives s back (with "▁"
// read as a space: SentencePiece cannot tell them apart), that the stream
// decoder prints the same, and that the fast encoder equals the naive
// reference.
func FuzzEncodeDecode(f *testing.F) {
	toks := []*Tokenizer{loadGGUFTokenizer(f, llamaSPMVocab), loadLlama2CTokenizer(f)}
	for _, s := range roundTripTexts {
		f.Add(s)
	}
	for _, c := range readVocabCases(f, llamaSPMVocab) {
		f.Add(c.text)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		want := strings.ReplaceAll(s, "▁", " ")
		for _, tok := range toks {
			for _, addSpecial := range []bool{false, true} {
				ids := tok.Encode(s, addSpecial, false)
				if got := tok.Decode(ids); got != want {
					t.Fatalf("%s: Decode(Encode(%q, %v)) = %q (ids %v)", tok.Kind(), s, addSpecial, got, ids)
				}
				if got := streamAll(tok, ids); got != want {
					t.Fatalf("stream decode of %q = %q", s, got)
				}
			}
			if len(s) <= 500 {
				if got, ref := tok.Encode(s, false, false), referenceEncode(tok, s); !slices.Equal(got, ref) {
					t.Fatalf("Encode(%q) = %v, reference %v", s, got, ref)
				}
			}
			// Special parsing must not panic and yields only vocabulary ids.
			for _, id := range tok.Encode(s, true, true) {
				if id < 0 || id >= tok.VocabSize() {
					t.Fatalf("Encode(%q, parseSpecial) gave id %d", s, id)
				}
			}
		}
	})
}

// FuzzAllModels feeds arbitrary bytes to every kind of tokenizer (SentencePiece
// BPE, byte-level BPE with each pre-tokenizer family present, WordPiece,
// unigram): encoding never panics and gives only vocabulary ids, and for
// byte-level BPE Decode(Encode(s)) == s for valid UTF-8 (for GPT-2, whose
// alphabet spells every byte, for invalid bytes too) and the stream decoder
// agrees.
func FuzzAllModels(f *testing.F) {
	byteLevel := []*Tokenizer{loadGGUFTokenizer(f, vocabPath("gpt-2")), loadGGUFTokenizer(f, vocabPath("deepseek-llm"))}
	others := []*Tokenizer{loadGGUFTokenizer(f, llamaSPMVocab), loadGGUFTokenizer(f, vocabPath("bert-bge")), unigramFromSPM(f)}
	for _, s := range roundTripTexts {
		f.Add(s)
	}
	for _, c := range readVocabCases(f, vocabPath("gpt-2")) {
		f.Add(c.text)
	}
	f.Add("<|endoftext|>ø[PAD100015]\xff\xc3")
	f.Fuzz(func(t *testing.T, s string) {
		for _, tok := range slices.Concat(byteLevel, others) {
			for _, special := range []bool{false, true} {
				for _, id := range tok.Encode(s, special, special) {
					if id < 0 || id >= tok.VocabSize() {
						t.Fatalf("%s: Encode(%q) gave id %d", tok.Kind(), s, id)
					}
				}
			}
		}
		for i, tok := range byteLevel {
			if i > 0 && !utf8.ValidString(s) {
				continue // only GPT-2's alphabet spells every byte; DeepSeek's lacks those UTF-8 never uses
			}
			ids := tok.Encode(s, false, false)
			if got := tok.Decode(ids); got != s {
				t.Fatalf("%s: Decode(Encode(%q)) = %q (ids %v)", tok.Kind(), s, got, ids)
			}
			if utf8.ValidString(s) {
				if got := streamAll(tok, ids); got != s {
					t.Fatalf("%s: stream decode of %q = %q", tok.Kind(), s, got)
				}
			}
		}
	})
}
