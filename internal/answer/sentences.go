package answer

import (
	"strings"
	"unicode/utf8"
)

// span is the byte range [start, end) of a text.
type span struct{ start, end int }

// sentenceMarks end a sentence: the Chinese ones wherever they stand, the
// ASCII ones only before white space (so "3.14" and "U.S.A." stay whole).
const sentenceMarks = "。！？；!?."

// closers may follow a sentence's end and stay with it.
const closers = `"')]}’”」』）》`

// sentences splits text into sentences, each trimmed of white space; a
// line break also ends one. The spans are byte offsets into text.
func sentences(text string) []span {
	var out []span
	start := 0
	add := func(end int) {
		if sp := trim(text, span{start, end}); sp.start < sp.end {
			out = append(out, sp)
		}
		start = end
	}
	for i := 0; i < len(text); {
		r, n := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, n = utf8.DecodeRuneInString(text[i:])
		}
		i += n
		switch {
		case r == '\n':
			add(i)
		case isSentenceMark(r):
			j := skipClosers(text, i)
			if r < utf8.RuneSelf && !endsSentence(text, start, i, j) {
				continue
			}
			add(j)
			i = j
		}
	}
	add(len(text))
	return out
}

// isSentenceMark reports whether r is one of sentenceMarks.
func isSentenceMark(r rune) bool {
	switch r {
	case '.', '!', '?':
		return true
	}
	return r >= 0x3000 && strings.ContainsRune(sentenceMarks, r)
}

// skipClosers returns the offset past the closing quotes and brackets at i.
func skipClosers(text string, i int) int {
	for i < len(text) {
		c, m := utf8.DecodeRuneInString(text[i:])
		if !strings.ContainsRune(closers, c) {
			break
		}
		i += m
	}
	return i
}

// endsSentence reports whether the ASCII mark ending at markEnd (closers
// up to after) ends a sentence begun at start: white space must follow,
// and a period must not end an abbreviation or an initial.
func endsSentence(text string, start, markEnd, after int) bool {
	if after < len(text) && !isSpace(text[after]) {
		return false
	}
	return text[markEnd-1] != '.' || !abbreviation(text[start:markEnd-1])
}

func isSpace(c byte) bool { return c == ' ' || c == '\n' || c == '\t' || c == '\r' }

// abbreviation reports whether the word before a period is a common
// abbreviation or a single letter (an initial).
func abbreviation(before string) bool {
	k := strings.LastIndexAny(before, " \n\t(\"'") + 1
	w := strings.ToLower(before[k:])
	if len(w) == 1 && w[0] >= 'a' && w[0] <= 'z' {
		return true
	}
	switch w {
	case "mr", "mrs", "ms", "dr", "prof", "st", "jr", "sr", "vs", "etc", "e.g", "i.e", "no", "fig", "u.s", "inc", "ltd", "co", "c", "ca", "approx":
		return true
	}
	return false
}

// trim narrows sp to exclude white space at both ends.
func trim(text string, sp span) span {
	for sp.start < sp.end && isSpace(text[sp.start]) {
		sp.start++
	}
	for sp.end > sp.start && isSpace(text[sp.end-1]) {
		sp.end--
	}
	return sp
}
