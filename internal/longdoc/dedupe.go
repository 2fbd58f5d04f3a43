package longdoc

import (
	"strings"
	"unicode"
)

// nearDuplicate is the word-set overlap (Jaccard) above which two items
// of minutes say the same thing.
const nearDuplicate = 0.8

// dedupe keeps the first of items that say the same thing: equal up to
// case, punctuation and spacing, or sharing most of their words.
func dedupe(items []string) []string {
	var out []string
	var kept [][]string
	for _, it := range items {
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		words := normalWords(it)
		if indexSimilar(kept, words) >= 0 {
			continue
		}
		out = append(out, it)
		kept = append(kept, words)
	}
	return out
}

// dedupeActions merges action items with the same task, keeping the
// first's wording and filling its owner and due date from the others.
func dedupeActions(items []ActionItem) []ActionItem {
	var out []ActionItem
	var kept [][]string
	for _, it := range items {
		it.Task, it.Owner, it.Due = strings.TrimSpace(it.Task), strings.TrimSpace(it.Owner), strings.TrimSpace(it.Due)
		if it.Task == "" {
			continue
		}
		words := normalWords(it.Task)
		if k := indexSimilar(kept, words); k >= 0 {
			if out[k].Owner == "" {
				out[k].Owner = it.Owner
			}
			if out[k].Due == "" {
				out[k].Due = it.Due
			}
			continue
		}
		out = append(out, it)
		kept = append(kept, words)
	}
	return out
}

// indexSimilar is the index of the first of kept that says what words
// say, or -1.
func indexSimilar(kept [][]string, words []string) int {
	for k, w := range kept {
		if similar(w, words) {
			return k
		}
	}
	return -1
}

// similar reports whether two word lists are equal, or overlap by
// nearDuplicate when both hold at least three distinct words.
func similar(a, b []string) bool {
	if strings.Join(a, " ") == strings.Join(b, " ") {
		return true
	}
	sa, sb := wordSet(a), wordSet(b)
	if len(sa) < 3 || len(sb) < 3 {
		return false
	}
	common := 0
	for w := range sa {
		if sb[w] {
			common++
		}
	}
	return float64(common)/float64(len(sa)+len(sb)-common) >= nearDuplicate
}

func wordSet(words []string) map[string]bool {
	set := make(map[string]bool, len(words))
	for _, w := range words {
		set[w] = true
	}
	return set
}

// normalWords are the lower-cased runs of letters and digits of s.
func normalWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}
