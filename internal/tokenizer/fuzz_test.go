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
