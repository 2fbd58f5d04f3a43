package tokenizer

import (
	"sync"
	"unicode"
	"unicode/utf8"
)

// charClass is the category of a character as the pre-tokenizer regexes
// see it: \p{L}, \p{N}, \s, or anything else. Undecodable bytes are "other".
type charClass uint8

const (
	classOther charClass = iota
	classLetter
	classNumber
	classSpace
	classPunct // \p{P}, a subset of other kept for the splitters that need it
)

var (
	bmpClassOnce sync.Once
	bmpClass     []charClass // rune < 0x10000 → class, built on first use
)

// classOf returns the class of r; invalid bytes (utf8.RuneError of width 1)
// are passed as runeInvalid.
func classOf(r rune) charClass {
	if r < 0x10000 && r >= 0 {
		bmpClassOnce.Do(buildBMPClass)
		return bmpClass[r]
	}
	return slowClass(r)
}

func buildBMPClass() {
	bmpClass = make([]charClass, 0x10000)
	for r := range rune(0x10000) {
		bmpClass[r] = slowClass(r)
	}
}

func slowClass(r rune) charClass {
	switch {
	case r == runeInvalid:
		return classOther
	case unicode.IsSpace(r):
		return classSpace
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.IsPunct(r):
		return classPunct
	}
	return classOther
}

// runeInvalid stands for one byte that does not start a valid UTF-8
// sequence; it is outside the Unicode range so it matches no class.
const runeInvalid rune = -1

// decodeRune is utf8.DecodeRuneInString with invalid bytes reported as
// runeInvalid (width 1), so that U+FFFD in the text stays a real character.
func decodeRune(s string) (rune, int) {
	c := s[0]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n == 1 {
		return runeInvalid, 1
	}
	return r, n
}
