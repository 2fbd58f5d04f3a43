package dataset

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TokenCounter counts the tokens a model's tokenizer makes of a text.
type TokenCounter func(text string) int

// EstimateTokens guesses a token count without a tokenizer: one token a CJK
// character and one per four other bytes, roughly what LLaMA-family
// vocabularies give.
func EstimateTokens(text string) int {
	cjk, other := 0, 0
	for _, r := range text {
		if r >= 0x2E80 && (unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)) {
			cjk++
		} else {
			other += utf8.RuneLen(r)
		}
	}
	return cjk + (other+3)/4
}

// SequenceTokens counts the tokens of the longest sequence the example trains
// on: system prompt, tools and every message, plus the longer answer of a
// preference pair.
func SequenceTokens(ex *Example, count TokenCounter) int {
	n := 0
	if ex.System != "" {
		n += count(ex.System)
	}
	if ex.Tools != "" {
		n += count(ex.Tools)
	}
	for _, m := range ex.Messages {
		n += count(m.Content)
	}
	answer := 0
	for _, m := range []*Message{ex.Chosen, ex.Rejected} {
		if m != nil {
			answer = max(answer, count(m.Content))
		}
	}
	return n + answer
}

// FilterOptions says which examples to drop. The zero value drops examples
// with an empty answer and answers that mostly repeat themselves.
type FilterOptions struct {
	// Tokens counts tokens for MinTokens and MaxTokens; nil estimates.
	Tokens TokenCounter
	// MinTokens and MaxTokens bound SequenceTokens; 0 is no bound.
	MinTokens, MaxTokens int
	// Languages keeps only examples in these languages (see
	// DetectLanguage); empty keeps all.
	Languages []string
	// MinAnswerChars drops answers with fewer characters (spaces not
	// counted); 0 drops only empty answers.
	MinAnswerChars int
	// MaxRepetition drops answers whose share of repeated 10-character
	// n-grams is above it (see Repetition); 0 means 0.6, 1 or more keeps all.
	MaxRepetition float64
}

// The reasons Filter gives for dropping an example.
const (
	DropTooFewTokens  = "too_few_tokens"
	DropTooManyTokens = "too_many_tokens"
	DropLanguage      = "language"
	DropShortAnswer   = "short_answer"
	DropRepetitive    = "repetitive"
)

// Filter drops examples by the options and counts why.
type Filter struct {
	opt    FilterOptions
	report FilterReport
}

// FilterReport counts kept and dropped examples by reason.
type FilterReport struct {
	Records int            `json:"records"`
	Kept    int            `json:"kept"`
	Dropped map[string]int `json:"dropped"`
}

// NewFilter returns a Filter with the given options.
func NewFilter(opt FilterOptions) *Filter {
	if opt.MaxRepetition == 0 {
		opt.MaxRepetition = 0.6
	}
	if opt.Tokens == nil {
		opt.Tokens = EstimateTokens
	}
	return &Filter{opt: opt, report: FilterReport{Dropped: map[string]int{}}}
}

// Keep reports whether ex passes, and if not, why.
func (f *Filter) Keep(ex *Example) (bool, string) {
	f.report.Records++
	reason := f.check(ex)
	if reason != "" {
		f.report.Dropped[reason]++
		return false, reason
	}
	f.report.Kept++
	return true, ""
}

func (f *Filter) check(ex *Example) string {
	o := f.opt
	for _, a := range ex.Answers() {
		if nonSpaceChars(a) < max(1, o.MinAnswerChars) {
			return DropShortAnswer
		}
		if o.MaxRepetition < 1 && Repetition(a) > o.MaxRepetition {
			return DropRepetitive
		}
	}
	if len(o.Languages) > 0 && !slices.Contains(o.Languages, DetectLanguage(ex.Text())) {
		return DropLanguage
	}
	if o.MinTokens > 0 || o.MaxTokens > 0 {
		n := SequenceTokens(ex, o.Tokens)
		if o.MinTokens > 0 && n < o.MinTokens {
			return DropTooFewTokens
		}
		if o.MaxTokens > 0 && n > o.MaxTokens {
			return DropTooManyTokens
		}
	}
	return ""
}

// Report is what the Filter did so far.
func (f *Filter) Report() FilterReport { return f.report }

func nonSpaceChars(s string) int {
	n := 0
	for _, r := range s {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// repetitionN is the n-gram length of Repetition, in characters.
const repetitionN = 10

// Repetition is the share of a text's 10-character n-grams (after collapsing
// spaces and case) that repeat an earlier one: 0 for ordinary prose, near 1
// for "ha ha ha ha …" or a paragraph pasted five times. Texts shorter than
// 50 characters score 0.
func Repetition(text string) float64 {
	var sh shingler
	runes := sh.normalize(strings.ToLower(text))
	if len(runes) < 5*repetitionN {
		return 0
	}
	seen := make(map[uint64]struct{}, len(runes))
	total, repeated := 0, 0
	for i := 0; i+repetitionN <= len(runes); i++ {
		h := exactHash(runes[i : i+repetitionN])
		total++
		if _, ok := seen[h]; ok {
			repeated++
			continue
		}
		seen[h] = struct{}{}
	}
	return float64(repeated) / float64(total)
}
