package chunk

import (
	"strings"
	"unicode/utf8"
)

// A level finds cut positions in s: byte offsets where a new piece starts,
// in increasing order, each after the separator it follows.
type level func(s string) []int

// levels are tried in order, coarse to fine.
var levels = []level{
	after("\n\n"),
	after("\n"),
	sentenceEnds,
	clauseEnds,
	after(" "),
}

// after cuts after every occurrence of sep.
func after(sep string) level {
	return func(s string) []int {
		var cuts []int
		for i := 0; ; {
			j := strings.Index(s[i:], sep)
			if j < 0 {
				return cuts
			}
			i += j + len(sep)
			for strings.HasPrefix(s[i:], sep) { // a run of separators stays together
				i += len(sep)
			}
			if i < len(s) {
				cuts = append(cuts, i)
			}
		}
	}
}

// closers may follow a sentence's end and stay with it.
const closers = `"')]}’”」』）》`

// sentenceEnds cuts after Chinese 。！？； (and any closing quotes), and
// after English . ! ? followed by closing quotes and a space.
func sentenceEnds(s string) []int {
	return cutAfter(s, "。！？；!?.", true)
}

// clauseEnds cuts after commas, colons and semicolons.
func clauseEnds(s string) []int {
	return cutAfter(s, "，、：,;:", false)
}

// cutAfter cuts after runes of marks. An ASCII mark counts only when
// followed (after closers) by white space — so "3.14" and "e.g.x" stay
// whole; with sentence set, a "." also needs a non-abbreviation before it.
func cutAfter(s, marks string, sentence bool) []int {
	var cuts []int
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if !strings.ContainsRune(marks, r) {
			continue
		}
		j := i
		for j < len(s) {
			c, m := utf8.DecodeRuneInString(s[j:])
			if !strings.ContainsRune(closers, c) {
				break
			}
			j += m
		}
		if r < utf8.RuneSelf {
			if j >= len(s) || !isSpace(s[j]) {
				continue
			}
			if sentence && r == '.' && abbreviation(s[:i-1]) {
				continue
			}
			for j < len(s) && isSpace(s[j]) {
				j++
			}
		}
		if j < len(s) {
			cuts = append(cuts, j)
		}
		i = j
	}
	return cuts
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// abbreviation reports whether the word before a period is a common
// abbreviation or a single letter (an initial), not a sentence's end.
func abbreviation(before string) bool {
	k := strings.LastIndexAny(before, " \n\t(\"'") + 1
	w := strings.ToLower(before[k:])
	if len(w) == 1 && w[0] >= 'a' && w[0] <= 'z' {
		return true
	}
	switch w {
	case "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "no", "fig", "u.s", "inc", "ltd", "co":
		return true
	}
	return false
}
