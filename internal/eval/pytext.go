package eval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reproduces the few Python str semantics that the reference
// implementations rely on and in which Go differs.

// pyIsSpace reports whether Python's str.isspace() holds for r: the
// whitespace that str.split() and str.strip() use. It differs from
// unicode.IsSpace in also counting the ASCII separators U+001C..U+001F.
func pyIsSpace(r rune) bool {
	switch {
	case r == ' ' || (r >= '\t' && r <= '\r') || (r >= 0x1c && r <= 0x1f):
		return true
	case r < 0x80:
		return false
	case r == 0x85 || r == 0xa0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200a),
		r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000:
		return true
	}
	return false
}

// pyFields splits s as Python's s.split() does: on runs of whitespace,
// dropping empty strings.
func pyFields(s string) []string {
	if isASCII(s) {
		return strings.FieldsFunc(s, func(r rune) bool {
			return r == ' ' || (r >= '\t' && r <= '\r') || (r >= 0x1c && r <= 0x1f)
		})
	}
	return strings.FieldsFunc(s, pyIsSpace)
}

// pyJoinFields returns " ".join(s.split()): whitespace runs collapsed to one
// space, no leading or trailing space.
func pyJoinFields(s string) string {
	return strings.Join(pyFields(s), " ")
}

// pyRStrip returns s.rstrip().
func pyRStrip(s string) string { return strings.TrimRightFunc(s, pyIsSpace) }

// pyStrip returns s.strip().
func pyStrip(s string) string { return strings.TrimFunc(s, pyIsSpace) }

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// pyLower returns s.lower() with Python's full case mapping: U+0130 becomes
// "i̇" (two code points) and a capital sigma at the end of a word becomes the
// final sigma ς, which Go's strings.ToLower does not do.
func pyLower(s string) string {
	if isASCII(s) {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case 'İ':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma applies Unicode's Final_Sigma condition to the Σ at byte i of
// s: a cased letter before it and none after it, skipping case-ignorable
// characters on both sides.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if caseIgnorable(r) {
			continue
		}
		before = cased(r)
		break
	}
	if !before {
		return false
	}
	for j := i + len("Σ"); j < len(s); {
		r, size := utf8.DecodeRuneInString(s[j:])
		j += size
		if caseIgnorable(r) {
			continue
		}
		return !cased(r)
	}
	return true
}

func cased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', 0xb7, 0x2018, 0x2019, 0x2024, 0x2027:
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// pyIsWord reports whether r matches \w in Python's re for str patterns:
// a letter, a number or the underscore.
func pyIsWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || ('0' <= r && r <= '9') || ('a' <= r && r <= 'z') || ('A' <= r && r <= 'Z')
	}
	return unicode.IsLetter(r) || unicode.IsNumber(r)
}

// asciiPunct is Python's string.punctuation.
const asciiPunct = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

func isASCIIPunct(r rune) bool {
	return r < utf8.RuneSelf && strings.IndexByte(asciiPunct, byte(r)) >= 0
}
