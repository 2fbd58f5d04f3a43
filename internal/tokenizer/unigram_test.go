package tokenizer

import (
	"slices"
	"testing"
)

// unigramVocab is a small SentencePiece unigram vocabulary whose best
// segmentations are worked out by hand in TestUnigram.
func unigramVocab() fakeMeta {
	return fakeMeta{
		KeyModel:          "t5",
		KeyTokens:         []string{"<pad>", "</s>", "<unk>", "▁", "▁a", "b", "ab", "▁ab", "c"},
		KeyScores:         []float32{0, 0, 0, -2, -1, -2, -1.5, -4, -3},
		KeyTokenType:      []int32{3, 3, 2, 1, 1, 1, 1, 1, 1},
		KeyAddSpacePrefix: true,
	}
}

func TestUnigram(t *testing.T) {
	tok, err := FromMetadata(unigramVocab())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Kind() != "t5 (SentencePiece unigram)" || tok.EOS() != 1 || tok.UNK() != 2 || tok.BOS() != -1 {
		t.Errorf("kind %q, eos %d unk %d bos %d", tok.Kind(), tok.EOS(), tok.UNK(), tok.BOS())
	}
	cases := []struct {
		text string
		want []int
	}{
		{"ab", []int{4, 5}},         // ▁a b = -3 beats ▁ ab = -3.5 and ▁ab = -4
		{"abc", []int{4, 5, 8}},     // ▁a b c = -6 beats ▁ ab c = -6.5
		{"x", []int{3, 2}},          // ▁ then the unknown x (lowest score -4, less 10)
		{"xy", []int{3, 2}},         // unknowns in a row fuse
		{"a  b", []int{4, 3, 3, 5}}, // every space is a ▁
		{"", nil},
	}
	for _, c := range cases {
		if got := tok.Encode(c.text, false, false); !slices.Equal(got, c.want) {
			t.Errorf("Encode(%q) = %v, want %v", c.text, got, c.want)
		}
	}
	if got := tok.Encode("ab", true, false); !slices.Equal(got, []int{4, 5, 1}) {
		t.Errorf("Encode(ab, addSpecial) = %v, want EOS at the end", got)
	}
	if got := tok.Decode([]int{4, 5, 3, 8}); got != "ab c" {
		t.Errorf("Decode = %q, want %q", got, "ab c")
	}

	md := unigramVocab()
	md[KeyRemoveExtraWS] = true
	tok, err = FromMetadata(md)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.Encode("  a   b ", false, false); !slices.Equal(got, []int{4, 3, 5}) {
		t.Errorf("collapsed spaces: Encode = %v, want [4 3 5]", got)
	}
}

func TestUnigramHF(t *testing.T) {
	data := `{"pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": true},
		"model": {"type": "Unigram", "unk_id": 2, "byte_fallback": true, "vocab": [["<pad>", 0], ["</s>", 0], ["<unk>", 0], ["▁", -2], ["▁a", -1], ["b", -2], ["<0x78>", -5]]}}`
	tok, err := ParseHF([]byte(data), nil)
	if err != nil {
		t.Fatal(err)
	}
	// x has a byte token; y does not and falls back to the unknown token.
	if got, want := tok.Encode("abxy", false, false), []int{4, 5, 6, 2}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
}

// FuzzCharsmap feeds arbitrary bytes to the precompiled charsmap reader and
// normalizer: no panic, and text without rules comes back unchanged when valid.
func FuzzCharsmap(f *testing.F) {
	f.Add([]byte{4, 0, 0, 0, 0, 2, 0, 0, 'a', 0}, "abc")
	f.Add([]byte{0, 0, 0, 0}, "héllo")
	f.Fuzz(func(t *testing.T, blob []byte, text string) {
		cm, err := parseCharsmap(blob)
		if err != nil {
			return
		}
		_ = cm.normalize(text)
	})
}
