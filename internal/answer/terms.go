package answer

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// terms returns the content terms of text, in order: lower-cased words of
// letters and digits with English stop words dropped and a light suffix
// stemmer applied, and each CJK character as a term of its own (CJK text
// has no spaces between words, and single characters match across word
// boundaries that no segmenter here could find).
func terms(text string) []string {
	var out []string
	eachTerm(text, func(t string) { out = append(out, t) })
	return out
}

// eachTerm calls emit for every term of text.
func eachTerm(text string, emit func(string)) {
	start := -1 // start of the current word, or −1
	flush := func(end int) {
		if start >= 0 {
			if w := strings.ToLower(text[start:end]); !stopWords[w] {
				emit(stem(w))
			}
			start = -1
		}
	}
	for i, r := range text {
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'):
			if start < 0 {
				start = i
			}
		case r < utf8.RuneSelf && r != '\'':
			flush(i)
		case isCJK(r):
			flush(i)
			emit(text[i : i+utf8.RuneLen(r)])
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			if start < 0 {
				start = i
			}
		case r == '\'' || r == '’':
			flush(i) // "Allen's" → "allen"; the "s" is a stop word
		default:
			flush(i)
		}
	}
	flush(len(text))
}

// isCJK reports whether r is a Han, kana or Hangul character.
func isCJK(r rune) bool {
	return r >= 0x2E80 && unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// stem strips the common English inflections so that "defended",
// "defends" and "defending" meet at "defend". It is deliberately light:
// a wrong merge costs more in sentence choice than a missed one.
func stem(w string) string {
	if len(w) < 4 || !isASCIILower(w) {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "oes") && len(w) > 5: // volcanoes, heroes
		return w[:len(w)-2]
	case strings.HasSuffix(w, "sses"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ing") && isStem(w[:len(w)-3]):
		return undouble(w[:len(w)-3])
	case strings.HasSuffix(w, "ed") && isStem(w[:len(w)-2]):
		return undouble(w[:len(w)-2])
	case strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		return w[:len(w)-1]
	}
	return w
}

// isStem reports whether s can be what is left of a word whose "-ing" or
// "-ed" is cut: four letters or more, a vowel among them ("string" and
// "bed" stay whole).
func isStem(s string) bool { return len(s) >= 4 && strings.ContainsAny(s, "aeiouy") }

// undouble turns "stopp" (of "stopped") into "stop".
func undouble(w string) string {
	if n := len(w); n >= 3 && w[n-1] == w[n-2] && !strings.ContainsRune("lsz", rune(w[n-1])) {
		return w[:n-1]
	}
	return w
}

func isASCIILower(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// stopWords are English function words and the words that frame a
// question ("how many", "what year"), which say what is asked, not where
// the answer is.
var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a an the and or but nor so if then than that this these those
		of in on at to for from by with about as into onto over under between through during
		before after above below up down out off upon within without against among
		is are was were be been being am do does did done doing have has had having
		will would shall should can could may might must
		i me my we us our you your he him his she her it its they them their there here
		what which who whom whose when where why how
		s t not no yes also just only very too much many more most some any all each
		one ones other such same own`) {
		m[w] = true
	}
	return m
}()
