package eval

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// sentenceAbbreviations are words that a period after does not end a
// sentence: titles, common Latin abbreviations, months, and the like.
var sentenceAbbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true, "sr": true, "jr": true,
	"st": true, "mt": true, "vs": true, "etc": true, "e.g": true, "i.e": true, "cf": true,
	"inc": true, "ltd": true, "co": true, "corp": true, "no": true, "vol": true, "fig": true,
	"jan": true, "feb": true, "mar": true, "apr": true, "jun": true, "jul": true, "aug": true,
	"sep": true, "sept": true, "oct": true, "nov": true, "dec": true, "u.s": true, "u.k": true,
	"gen": true, "gov": true, "sen": true, "rep": true, "rev": true, "hon": true, "approx": true,
}

// SplitSentences splits text into sentences for rougeLsum with
// split_summaries. rouge-score calls nltk.sent_tokenize (the Punkt model
// trained on English); this is a rule-based approximation of it: a sentence
// ends at ".", "!", "?" or "。！？" (with any closing quotes or brackets)
// followed by whitespace or the end, unless the word before a period is a
// single letter (an initial) or a common abbreviation. Sentences are
// returned with surrounding whitespace removed.
func SplitSentences(text string) []string {
	var sents []string
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		i += size
		if !strings.ContainsRune(".!?。！？", r) {
			continue
		}
		end := i
		for end < len(text) {
			c, n := utf8.DecodeRuneInString(text[end:])
			if !strings.ContainsRune(`"')]}”’».!?`, c) {
				break
			}
			end += n
		}
		cjk := r == '。' || r == '！' || r == '？'
		if end < len(text) && !cjk {
			if c, _ := utf8.DecodeRuneInString(text[end:]); !unicode.IsSpace(c) {
				continue
			}
		}
		if r == '.' && isAbbreviation(text[start:i-size]) {
			continue
		}
		if s := strings.TrimSpace(text[start:end]); s != "" {
			sents = append(sents, s)
		}
		start, i = end, end
	}
	if s := strings.TrimSpace(text[start:]); s != "" {
		sents = append(sents, s)
	}
	return sents
}

// isAbbreviation reports whether the last word of before (the text up to a
// period) is an initial or a known abbreviation.
func isAbbreviation(before string) bool {
	j := strings.LastIndexFunc(before, func(r rune) bool { return unicode.IsSpace(r) || r == '(' || r == '"' })
	if j >= 0 {
		_, size := utf8.DecodeRuneInString(before[j:])
		before = before[j+size:]
	}
	word := strings.ToLower(before)
	if word == "" {
		return false
	}
	if utf8.RuneCountInString(word) == 1 {
		r, _ := utf8.DecodeRuneInString(word)
		return unicode.IsLetter(r)
	}
	return sentenceAbbreviations[word]
}
