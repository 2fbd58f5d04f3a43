package eval

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A wordTokenizer turns a segment into the tokens that BLEU counts n-grams
// of. Each reproduces the sacreBLEU tokenizer of the same name.
type wordTokenizer func(line string) []string

// bleuTokenizers maps sacreBLEU's tokenizer names to their reproductions.
var bleuTokenizers = map[string]wordTokenizer{
	"none": pyFields,
	"13a":  tokenize13a,
	"intl": tokenizeIntl,
	"zh":   tokenizeZh,
	"char": tokenizeChar,
}

// BLEUTokenizers lists the tokenizer names BLEUConfig.Tokenize accepts.
func BLEUTokenizers() []string { return []string{"13a", "intl", "zh", "char", "none"} }

func lookupTokenizer(name string) (wordTokenizer, error) {
	if name == "" {
		name = "13a"
	}
	tok, ok := bleuTokenizers[name]
	if !ok {
		return nil, fmt.Errorf("unknown tokenizer %q: use one of %s", name, strings.Join(BLEUTokenizers(), ", "))
	}
	return tok, nil
}

// tokenize13a is sacreBLEU's "13a" tokenizer, the one of mteval-v13a.pl used
// by WMT: drop "<skipped>", join hyphenated line breaks, unescape four XML
// entities, then split off punctuation (tokenizeMteval).
func tokenize13a(line string) []string {
	if strings.Contains(line, "<skipped>") {
		line = strings.ReplaceAll(line, "<skipped>", "")
	}
	if strings.Contains(line, "\n") {
		line = strings.ReplaceAll(line, "-\n", "")
		line = strings.ReplaceAll(line, "\n", " ")
	}
	if strings.Contains(line, "&") {
		// One entity at a time, in this order, as sacreBLEU does:
		// "&amp;quot;" becomes "&quot;", not `"`.
		line = strings.ReplaceAll(line, "&quot;", `"`)
		line = strings.ReplaceAll(line, "&amp;", "&")
		line = strings.ReplaceAll(line, "&lt;", "<")
		line = strings.ReplaceAll(line, "&gt;", ">")
	}
	return tokenizeMteval(" " + line + " ")
}

// mtevalSymbol reports whether byte c is in the class
// [\{-\~\[-\` -\&\(-\+\:-\@\/] that mteval surrounds with spaces.
func mtevalSymbol(c byte) bool {
	switch {
	case c >= '{' && c <= '~', c >= '[' && c <= '`', c >= ' ' && c <= '&',
		c >= '(' && c <= '+', c >= ':' && c <= '@', c == '/':
		return true
	}
	return false
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// tokenizeMteval applies the four regular-expression substitutions of
// sacreBLEU's TokenizerRegexp, in order, then splits on whitespace:
//
//	([\{-\~\[-\` -\&\(-\+\:-\@\/])  →  " \1 "
//	([^0-9])([\.,])                →  "\1 \2 "
//	([\.,])([^0-9])                →  " \1 \2"
//	([0-9])(-)                     →  "\1 \2 "
//
// Each later pattern sees the output of the earlier ones, and each scans for
// non-overlapping matches from the left, as re.sub does. The patterns are
// ASCII and two bytes long, so working on bytes gives the same result as
// working on code points.
func tokenizeMteval(line string) []string {
	buf := make([]byte, 0, 2*len(line))
	for i := 0; i < len(line); i++ {
		if c := line[i]; mtevalSymbol(c) {
			buf = append(buf, ' ', c, ' ')
		} else {
			buf = append(buf, c)
		}
	}
	buf = substitutePairs(buf, func(a, b byte) bool { return !isDigit(a) && (b == '.' || b == ',') }, pairSpaceAfterBoth)
	buf = substitutePairs(buf, func(a, b byte) bool { return (a == '.' || a == ',') && !isDigit(b) }, pairSpaceBefore)
	buf = substitutePairs(buf, func(a, b byte) bool { return isDigit(a) && b == '-' }, pairSpaceAfterBoth)
	return pyFields(string(buf))
}

type pairLayout int

const (
	pairSpaceAfterBoth pairLayout = iota // "\1 \2 "
	pairSpaceBefore                      // " \1 \2"
)

// substitutePairs replaces each non-overlapping two-byte match of match,
// scanning from the left, by the layout's spacing of the pair.
func substitutePairs(in []byte, match func(a, b byte) bool, layout pairLayout) []byte {
	out := make([]byte, 0, len(in)+len(in)/4+4)
	i := 0
	for ; i+1 < len(in); i++ {
		a, b := in[i], in[i+1]
		if !match(a, b) {
			out = append(out, a)
			continue
		}
		if layout == pairSpaceAfterBoth {
			out = append(out, a, ' ', b, ' ')
		} else {
			out = append(out, ' ', a, ' ', b)
		}
		i++
	}
	if i < len(in) {
		out = append(out, in[i])
	}
	return out
}

// tokenizeIntl is sacreBLEU's "intl" tokenizer (mteval-v14.pl
// international): punctuation is split off unless it sits between digits,
// and every symbol is split off:
//
//	(\P{N})(\p{P})  →  "\1 \2 "
//	(\p{P})(\P{N})  →  " \1 \2"
//	(\p{S})         →  " \1 "
func tokenizeIntl(line string) []string {
	rs := []rune(line)
	rs = substituteRunePairs(rs, func(a, b rune) bool { return !isNumber(a) && isPunct(b) }, pairSpaceAfterBoth)
	rs = substituteRunePairs(rs, func(a, b rune) bool { return isPunct(a) && !isNumber(b) }, pairSpaceBefore)
	out := make([]rune, 0, len(rs)+8)
	for _, r := range rs {
		if isSymbol(r) {
			out = append(out, ' ', r, ' ')
		} else {
			out = append(out, r)
		}
	}
	return pyFields(string(out))
}

func isNumber(r rune) bool {
	if r < 0x80 {
		return r >= '0' && r <= '9'
	}
	return unicode.IsNumber(r)
}

func isPunct(r rune) bool {
	if r < 0x80 {
		return isASCIIPunct(r) && !strings.ContainsRune("$+<=>^`|~", r)
	}
	return unicode.IsPunct(r)
}

func isSymbol(r rune) bool {
	if r < 0x80 {
		return strings.ContainsRune("$+<=>^`|~", r)
	}
	return unicode.IsSymbol(r)
}

// substituteRunePairs is substitutePairs on code points.
func substituteRunePairs(in []rune, match func(a, b rune) bool, layout pairLayout) []rune {
	out := make([]rune, 0, len(in)+len(in)/4+4)
	i := 0
	for ; i+1 < len(in); i++ {
		a, b := in[i], in[i+1]
		if !match(a, b) {
			out = append(out, a)
			continue
		}
		if layout == pairSpaceAfterBoth {
			out = append(out, a, ' ', b, ' ')
		} else {
			out = append(out, ' ', a, ' ', b)
		}
		i++
	}
	if i < len(in) {
		out = append(out, in[i])
	}
	return out
}

// tokenizeZh is sacreBLEU's "zh" tokenizer: every Chinese character (by
// sacreBLEU's table of ranges, zhRanges) becomes a token of its own, and the
// rest is tokenized as by tokenizeMteval. Unlike 13a it neither unescapes
// entities nor pads the line with spaces.
func tokenizeZh(line string) []string {
	line = pyStrip(line)
	var b strings.Builder
	b.Grow(len(line) + 16)
	for _, r := range line {
		if isZhChar(r) {
			b.WriteByte(' ')
			b.WriteRune(r)
			b.WriteByte(' ')
		} else {
			b.WriteRune(r)
		}
	}
	return tokenizeMteval(b.String())
}

// zhRanges are sacreBLEU's _UCODE_RANGES as Python evaluates them. Two of its
// entries are written '\u20000'..'\u2a6d6' and '\u2f800'..'\u2fa1d', which
// Python reads as two-character strings ("\u2000" "0"); compared with one
// character they select U+2001..U+2A6D and U+2F81..U+2FA1, so general
// punctuation such as "—" and "“" counts as Chinese. We keep that, since the
// scores must match.
var zhRanges = [][2]rune{
	{0x3400, 0x4db5}, {0x4e00, 0x9fa5}, {0x9fa6, 0x9fbb}, {0xf900, 0xfa2d},
	{0xfa30, 0xfa6a}, {0xfa70, 0xfad9}, {0x2001, 0x2a6d}, {0x2f81, 0x2fa1},
	{0xff00, 0xffef}, {0x2e80, 0x2eff}, {0x3000, 0x303f}, {0x31c0, 0x31ef},
	{0x2f00, 0x2fdf}, {0x2ff0, 0x2fff}, {0x3100, 0x312f}, {0x31a0, 0x31bf},
	{0xfe10, 0xfe1f}, {0xfe30, 0xfe4f}, {0x2600, 0x26ff}, {0x2700, 0x27bf},
	{0x3200, 0x32ff}, {0x3300, 0x33ff},
}

func isZhChar(r rune) bool {
	if r < 0x2001 {
		return false
	}
	for _, z := range zhRanges {
		if r >= z[0] && r <= z[1] {
			return true
		}
	}
	return false
}

// tokenizeChar is sacreBLEU's "char" tokenizer: every code point that is not
// whitespace is a token.
func tokenizeChar(line string) []string {
	toks := make([]string, 0, len(line))
	for i := 0; i < len(line); {
		r, size := utf8.DecodeRuneInString(line[i:])
		if !pyIsSpace(r) {
			toks = append(toks, line[i:i+size])
		}
		i += size
	}
	return toks
}
