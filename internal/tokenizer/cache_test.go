package tokenizer

import (
	"slices"
	"strings"
	"testing"
)

func TestFlatMap(t *testing.T) {
	// Keys that differ only in their low bits share a home slot often
	// enough to exercise probing and its wrap-around.
	const n = 1000
	m := newFlatMap[int32](n)
	for i := range int32(n) {
		if !m.add(pairKey(i%7, i), i) {
			t.Fatalf("add of new key %d reported a duplicate", i)
		}
	}
	if m.add(pairKey(3, 3), -1) {
		t.Error("add of an existing key reported success")
	}
	cases := []struct {
		key  uint64
		want int32
		ok   bool
	}{
		{pairKey(0, 0), 0, true},
		{pairKey(3, 3), 3, true}, // the first value stays
		{pairKey(999%7, 999), 999, true},
		{pairKey(1, 0), 0, false},
		{pairKey(0, n), 0, false},
	}
	for _, c := range cases {
		if got, ok := m.get(c.key); got != c.want || ok != c.ok {
			t.Errorf("get(%#x) = %d, %v; want %d, %v", c.key, got, ok, c.want, c.ok)
		}
	}
}

func TestWordCache(t *testing.T) {
	var c wordCache
	if _, ok := c.get("the"); ok {
		t.Error("empty cache has a word")
	}
	c.put("the", []int{1, 2})
	c.put("", nil)
	long := strings.Repeat("x", maxCachedWordLen+1)
	c.put(long, []int{3})
	cases := []struct {
		word string
		want []int
		ok   bool
	}{
		{"the", []int{1, 2}, true},
		{"", []int{}, true},
		{"th", nil, false},
		{long, nil, false}, // too long to keep
	}
	for _, c2 := range cases {
		got, ok := c.get(c2.word)
		if ok != c2.ok || ok && !slices.Equal(got, c2.want) {
			t.Errorf("get(%.10q) = %v, %v; want %v, %v", c2.word, got, ok, c2.want, c2.ok)
		}
	}
	// Past its bound the cache starts over and stays correct.
	big := make([]int, maxCachedIDs-1)
	c.put("big", big)
	if _, ok := c.get("the"); ok {
		t.Error("cache kept a word after starting over")
	}
	if got, ok := c.get("big"); !ok || len(got) != len(big) {
		t.Errorf("get(big) = %d ids, %v", len(got), ok)
	}
}

// TestEncodeRepeatedWords checks that words served from the word caches
// give the ids they gave when first tokenized, within one call and across
// calls, for every kind of tokenizer that caches; for SentencePiece BPE
// the ids are also those of the naive reference encoder, which caches
// nothing.
func TestEncodeRepeatedWords(t *testing.T) {
	text := "The cat sat. The cat sat on the mat; the MAT sat. 猫坐在垫子上。猫坐在垫子上。"
	for _, rel := range []string{vocabPath("gpt-2"), vocabPath("deepseek-llm"), vocabPath("bert-bge"), llamaSPMVocab} {
		t.Run(rel, func(t *testing.T) {
			tok := loadGGUFTokenizer(t, rel)
			want := tok.Encode(text, false, false)
			if rel == llamaSPMVocab {
				if ref := referenceEncode(tok, text); !slices.Equal(want, ref) {
					t.Fatalf("%v, reference %v", want, ref)
				}
			}
			for i := range 3 {
				if got := tok.Encode(text, false, false); !slices.Equal(got, want) {
					t.Fatalf("call %d: %v, want %v", i+2, got, want)
				}
			}
			doubled := tok.Encode(text+" "+text, false, false)
			if !slices.Equal(doubled[:len(want)], want) {
				t.Errorf("first half of the doubled text: %v, want %v", doubled[:len(want)], want)
			}
		})
	}
}
