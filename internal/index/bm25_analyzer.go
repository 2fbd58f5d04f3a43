package index

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Analyzer turns text into index terms. Latin-script (and any non-CJK)
// letters and digits form words, lower-cased; runs of CJK characters (Han,
// kana, Hangul) become character unigrams and/or bigrams. The zero value
// keeps lower-cased words and CJK unigrams + bigrams with no stop words and
// no stemming ("simple").
type Analyzer struct {
	// Name identifies the analyzer in index files.
	Name string
	// StopWords drops common English function words.
	StopWords bool
	// Stem reduces English words to their Porter stems.
	Stem bool
	// NoCJKUnigrams and NoCJKBigrams leave out single CJK characters or
	// pairs of neighbouring ones. (A one-character run always yields its
	// unigram.)
	NoCJKUnigrams, NoCJKBigrams bool
}

// The named analyzers. DefaultAnalyzer is the one an index gets when none
// is named.
var (
	// English words with stop words and Porter stems; CJK unigrams +
	// bigrams.
	StandardAnalyzer = Analyzer{Name: "standard", StopWords: true, Stem: true}
	// Lower-cased words, CJK unigrams + bigrams: the plain-BM25 baseline.
	SimpleAnalyzer = Analyzer{Name: "simple"}
	// Standard with CJK bigrams only.
	BigramAnalyzer = Analyzer{Name: "bigram", StopWords: true, Stem: true, NoCJKUnigrams: true}
	// Standard with CJK unigrams only.
	UnigramAnalyzer = Analyzer{Name: "unigram", StopWords: true, Stem: true, NoCJKBigrams: true}

	DefaultAnalyzer = StandardAnalyzer
)

// Analyzers lists the named analyzers.
var Analyzers = []Analyzer{StandardAnalyzer, SimpleAnalyzer, BigramAnalyzer, UnigramAnalyzer}

// AnalyzerByName returns the named analyzer ("" is DefaultAnalyzer).
func AnalyzerByName(name string) (Analyzer, error) {
	if name == "" {
		return DefaultAnalyzer, nil
	}
	for _, a := range Analyzers {
		if a.Name == name {
			return a, nil
		}
	}
	names := make([]string, len(Analyzers))
	for i, a := range Analyzers {
		names[i] = a.Name
	}
	return Analyzer{}, fmt.Errorf("index: unknown analyzer %q: use one of %s", name, strings.Join(names, ", "))
}

// Terms returns the terms of text in order.
func (a Analyzer) Terms(text string) []string {
	var terms []string
	a.each(text, func(t []byte) { terms = append(terms, string(t)) })
	return terms
}

// each calls emit for every term of text. The bytes are valid only during
// the call: callers copy what they keep (a map lookup with string(t) does
// not allocate).
func (a Analyzer) each(text string, emit func(term []byte)) {
	var word, term []byte
	var cjk []rune
	flushWord := func() {
		if len(word) > 0 {
			a.word(word, emit)
			word = word[:0]
		}
	}
	flushCJK := func() {
		term = a.cjkRun(cjk, term, emit)
		cjk = cjk[:0]
	}
	for _, r := range text {
		switch {
		case isCJK(r):
			flushWord()
			cjk = append(cjk, r)
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			flushCJK()
			word = append(word, byte(r))
		case r < utf8.RuneSelf && r >= 'A' && r <= 'Z':
			flushCJK()
			word = append(word, byte(r)+'a'-'A')
		case r >= utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)):
			flushCJK()
			word = utf8.AppendRune(word, unicode.ToLower(r))
		default:
			flushWord()
			flushCJK()
		}
	}
	flushWord()
	flushCJK()
}

// word emits a lower-cased word unless it is a stop word, stemmed when
// the analyzer stems (w may be changed in place).
func (a Analyzer) word(w []byte, emit func([]byte)) {
	if a.StopWords && stopWords[string(w)] {
		return
	}
	if a.Stem && isASCIILetters(w) {
		w = porterStemBytes(w)
	}
	emit(w)
}

// cjkRun emits the unigrams and bigrams of a run of CJK characters, using
// buf for the bytes; it returns buf for reuse.
func (a Analyzer) cjkRun(run []rune, buf []byte, emit func([]byte)) []byte {
	for i, r := range run {
		if !a.NoCJKUnigrams || len(run) == 1 {
			buf = utf8.AppendRune(buf[:0], r)
			emit(buf)
		}
		if !a.NoCJKBigrams && i+1 < len(run) {
			buf = utf8.AppendRune(utf8.AppendRune(buf[:0], r), run[i+1])
			emit(buf)
		}
	}
	return buf
}

func isCJK(r rune) bool {
	return r >= 0x2E80 && (unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) ||
		unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r))
}

func isASCIILetters(w []byte) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// stopWords are English function words: Lucene's English stop set plus the
// pronouns, auxiliaries and question words that carry no topic.
var stopWords = func() map[string]bool {
	words := strings.Fields(`a an and are as at be but by for if in into is it no not of on or
	such that the their then there these they this to was will with
	s t d ll m re ve
	i me my we our you your he him his she her its them what which who whom
	whose when where why how am were been being have has had having do does did
	doing would should could can may might must shall from about than so
	also some any each other`)
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}()
