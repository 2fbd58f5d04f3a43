package prompt

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// NoAnswer is the reply the rag_answer templates ask for when the passages
// do not hold the answer (rag_answer_cot puts it on the "Answer:" line).
const NoAnswer = "I don't know"

// Citations returns the passage numbers an answer cites, in the order they
// first appear and without repeats: [1], [2,3], [2, 3], [1][3], ranges
// [2-4] and full-width 【1】 or ［1］. Brackets holding anything else —
// "[a]", "x[0]" — are not citations.
func Citations(answer string) []int {
	var out []int
	seen := map[int]bool{}
	for i := 0; i < len(answer); {
		r, w := utf8.DecodeRuneInString(answer[i:])
		i += w
		closing := closingBracket(r)
		if closing == 0 {
			continue
		}
		// A citation is short: look for its end nearby only.
		j := strings.IndexRune(answer[i:min(len(answer), i+maxCitationLen+4)], closing)
		if j < 0 {
			continue
		}
		nums, ok := citationList(answer[i : i+j])
		if !ok {
			continue
		}
		for _, n := range nums {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
		i += j + utf8.RuneLen(closing)
	}
	return out
}

func closingBracket(r rune) rune {
	switch r {
	case '[':
		return ']'
	case '【':
		return '】'
	case '［':
		return '］'
	}
	return 0
}

// Bounds on what a citation may say, so that "[1-99999999]" is not one.
const (
	maxCitation    = 9999
	maxRange       = 100
	maxCitationLen = 64 // bytes between the brackets
)

// citationList reads "1", "2,3", "2, 3", "2-4" or "2–4" (numbers ≥ 1).
func citationList(s string) ([]int, bool) {
	if len(s) == 0 || len(s) > maxCitationLen {
		return nil, false
	}
	var nums []int
	for item := range strings.FieldsFuncSeq(s, func(r rune) bool { return strings.ContainsRune(",，、;；", r) }) {
		item = strings.TrimSpace(item)
		lo, hi, isRange := cutAny(item, "-–")
		first, ok := citationNumber(lo)
		if !ok {
			return nil, false
		}
		last := first
		if isRange {
			if last, ok = citationNumber(hi); !ok || last < first || last-first >= maxRange {
				return nil, false
			}
		}
		for n := first; n <= last; n++ {
			nums = append(nums, n)
		}
	}
	return nums, len(nums) > 0
}

// cutAny cuts s around the first of any rune of seps.
func cutAny(s, seps string) (before, after string, found bool) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		_, w := utf8.DecodeRuneInString(s[i:])
		return s[:i], s[i+w:], true
	}
	return s, "", false
}

func citationNumber(s string) (int, bool) {
	s = strings.TrimSpace(s)
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 1 && n <= maxCitation
}
