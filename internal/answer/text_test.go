package answer

import (
	"math"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"flywheel/internal/index"
	"flywheel/internal/retrieve"
)

var sentenceCases = []struct {
	text string
	want []string
}{
	{"One. Two! Three? Four", []string{"One.", "Two!", "Three?", "Four"}},
	{"Pi is 3.14 and e is 2.72. Done.", []string{"Pi is 3.14 and e is 2.72.", "Done."}},
	{"Mr. Smith met Dr. Jones in the U.S. capital. They talked.", []string{"Mr. Smith met Dr. Jones in the U.S. capital.", "They talked."}},
	{"John F. Kennedy spoke. Then (he left.) Next.", []string{"John F. Kennedy spoke.", "Then (he left.)", "Next."}},
	{`He said "stop." She stopped.`, []string{`He said "stop."`, "She stopped."}},
	{"Title\n\n  Body text here.  \nLast line", []string{"Title", "Body text here.", "Last line"}},
	{"长江是中国最长的河流。尼罗河流经埃及！对吗？是的", []string{"长江是中国最长的河流。", "尼罗河流经埃及！", "对吗？", "是的"}},
	{"他说：“好。”然后走了。", []string{"他说：“好。”", "然后走了。"}},
	{"", nil},
	{"   \n\n ", nil},
	{"e.g. this stays. Yes.", []string{"e.g. this stays.", "Yes."}},
}

func TestSentences(t *testing.T) {
	for _, tc := range sentenceCases {
		var got []string
		for _, sp := range sentences(tc.text) {
			got = append(got, tc.text[sp.start:sp.end])
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("sentences(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

// FuzzSentences checks the spans of any text: in order, disjoint, within
// it, non-empty, trimmed, on rune boundaries, and covering every
// non-space byte.
func FuzzSentences(f *testing.F) {
	for _, tc := range sentenceCases {
		f.Add(tc.text)
	}
	f.Fuzz(func(t *testing.T, text string) {
		prev := 0
		covered := 0
		for _, sp := range sentences(text) {
			if sp.start < prev || sp.end <= sp.start || sp.end > len(text) {
				t.Fatalf("span %v after %d in %d bytes", sp, prev, len(text))
			}
			s := text[sp.start:sp.end]
			if isSpace(s[0]) || isSpace(s[len(s)-1]) {
				t.Fatalf("untrimmed %q", s)
			}
			if utf8.ValidString(text) && !utf8.ValidString(s) {
				t.Fatalf("span %v splits a rune of %q", sp, text)
			}
			covered += len(strings.Join(strings.Fields(s), ""))
			prev = sp.end
		}
		if want := len(strings.Join(strings.Fields(text), "")); covered != want {
			t.Fatalf("%d non-space bytes covered of %d", covered, want)
		}
	})
}

func TestTerms(t *testing.T) {
	for _, tc := range []struct {
		text string
		want []string
	}{
		{"How many points did the Panthers defense surrender?", []string{"point", "panther", "defense", "surrender"}},
		{"Volcanoes erupted; erupting volcano erupts", []string{"volcano", "erupt", "erupt", "volcano", "erupt"}},
		{"Allen's 136 career sacks", []string{"allen", "136", "career", "sack"}},
		{"strings string stopped bed", []string{"string", "string", "stop", "bed"}},
		{"Countries' policies", []string{"country", "policy"}},
		{"尼罗河 in Egypt", []string{"尼", "罗", "河", "egypt"}},
		{"Ürümqi café", []string{"ürümqi", "café"}},
	} {
		if got := terms(tc.text); !slices.Equal(got, tc.want) {
			t.Errorf("terms(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}

func TestBM25Coverage(t *testing.T) {
	idf := func(df, n int) float64 { return math.Log(1 + (float64(n-df)+0.5)/(float64(df)+0.5)) }
	hit := func(terms ...index.TermScore) retrieve.Hit {
		return retrieve.Hit{Explanation: retrieve.Explanation{BM25: &retrieve.BM25Part{Terms: terms}}}
	}
	term := func(name string, df int) index.TermScore {
		return index.TermScore{Term: name, DF: df, IDF: idf(df, 1000), Score: 1}
	}
	a, b, c := term("a", 10), term("b", 100), term("c", 1)
	for _, tc := range []struct {
		name   string
		nTerms int
		hits   []retrieve.Hit
		want   float64
		ok     bool
	}{
		{"all matched by the top hit", 2, []retrieve.Hit{hit(a, b)}, 1, true},
		{"one of two matched by the top hit", 2, []retrieve.Hit{hit(a), hit(b)}, a.IDF / (a.IDF + b.IDF), true},
		{"a term no hit matched weighs most", 4, []retrieve.Hit{hit(a, b), hit(c)},
			(a.IDF + b.IDF) / (a.IDF + b.IDF + c.IDF + idf(0, 1000)), true},
		{"no hits", 2, nil, 0, true},
		{"vector hit", 2, []retrieve.Hit{{}}, 0, false},
	} {
		got, ok := bm25Coverage(tc.nTerms, tc.hits)
		if ok != tc.ok || math.Abs(got-tc.want) > 1e-6 {
			t.Errorf("%s: %v %v, want %v %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
