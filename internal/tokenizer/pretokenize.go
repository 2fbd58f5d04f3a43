package tokenizer

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// A pre-tokenizer cuts text into words before BPE merges within each word.
// The byte-level vocabularies name theirs in tokenizer.ggml.pre (and write
// it as a regular expression in tokenizer.json); the regexes use look-ahead,
// which Go's regexp lacks, so each one is written here as a small state
// machine over the characters and their Unicode classes that gives the
// same words as the regex (and as llama.cpp's unicode_regex_split).

// runes is a piece of text decoded once: characters, their classes and
// their byte offsets (off has one more entry: the end).
type runes struct {
	text string
	rs   []rune
	cls  []charClass
	off  []int
}

func (s *runes) reset(text string) {
	s.text = text
	s.rs, s.cls, s.off = s.rs[:0], s.cls[:0], s.off[:0]
	for i := 0; i < len(text); {
		r, n := decodeRune(text[i:])
		s.rs = append(s.rs, r)
		s.cls = append(s.cls, classOf(r))
		s.off = append(s.off, i)
		i += n
	}
	s.off = append(s.off, len(text))
}

// classAt is the class of character i, or classNone past either end of [a, b).
func (s *runes) classAt(i, b int) charClass {
	if i >= b {
		return classNone
	}
	return s.cls[i]
}

// classNone marks a position outside the piece being split.
const classNone charClass = 255

// isOther reports whether c is a character that is neither letter, number
// nor whitespace: [^\s\p{L}\p{N}].
func isOther(c charClass) bool { return c == classOther || c == classPunct }

// splitFunc cuts characters [a, b) of s into words, calling emit with the
// character range of each in order; the words cover [a, b) exactly.
type splitFunc func(s *runes, a, b int, emit func(a, b int))

// preTokenizer is a named splitter.
type preTokenizer struct {
	name  string
	split splitFunc
}

// preTokenizers maps tokenizer.ggml.pre values to splitters, as llama.cpp
// groups them.
var preTokenizers = map[string]preTokenizer{}

func init() {
	gpt2 := preTokenizer{"gpt-2", splitGPT2}
	llama3 := preTokenizer{"llama3", splitLlama3(3)}
	qwen2 := preTokenizer{"qwen2", splitLlama3(1)}
	deepseek := preTokenizer{"deepseek-llm", sequence(
		regexStep(matchNewline),
		regexStep(matchSpaceThen(isDeepseekLetter)),
		regexStep(matchSpaceThen(isDeepseekPunct)),
		splitTrailingSpace,
		regexStep(matchRun(isDeepseekCJK)),
		regexStep(matchRun(func(r rune) bool { return classOf(r) == classNumber })),
	)}
	for _, name := range []string{"gpt-2", "phi-2", "roberta-bpe", "mpt", "olmo", "jais", "gigachat", "jina-es", "jina-de", "jina-v1-en", "jina-v2-es", "jina-v2-de", "jina-v2-code"} {
		preTokenizers[name] = gpt2
	}
	for _, name := range []string{"llama3", "llama-v3", "llama-bpe", "falcon3", "dbrx", "smaug-bpe"} {
		preTokenizers[name] = llama3
	}
	for _, name := range []string{"qwen2", "stablelm2", "megrez"} {
		preTokenizers[name] = qwen2
	}
	preTokenizers["deepseek-llm"] = deepseek
}

// supportedPreTokenizers lists the accepted tokenizer.ggml.pre values for
// error messages.
func supportedPreTokenizers() string {
	names := make([]string, 0, len(preTokenizers))
	for name := range preTokenizers {
		names = append(names, name)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

func lookupPreTokenizer(name string) (preTokenizer, error) {
	p, ok := preTokenizers[name]
	if !ok {
		return preTokenizer{}, fmt.Errorf("pre-tokenizer %q is not supported (supported: %s)", name, supportedPreTokenizers())
	}
	return p, nil
}

// Regexes of the pre-tokenizers, as tokenizer.json writes them, mapped to
// their splitters for Hugging Face files.
const (
	regexGPT2   = `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
	regexLlama3 = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
	regexQwen2  = `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
)

// splitGPT2 is 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
func splitGPT2(s *runes, a, b int, emit func(a, b int)) {
	for p := a; p < b; {
		if end := matchContraction(s, p, b, false); end > p {
			emit(p, end)
			p = end
			continue
		}
		// " ?X+" for the three classes: the optional space binds to the run.
		c := s.cls[p]
		q := p
		if s.rs[p] == ' ' {
			c = s.classAt(p+1, b)
			if c == classLetter || c == classNumber || isOther(c) {
				q++
			}
		}
		switch {
		case c == classLetter || c == classNumber:
			for q < b && s.cls[q] == c {
				q++
			}
		case isOther(c):
			for q < b && isOther(s.cls[q]) {
				q++
			}
		default:
			q = spaceRunEnd(s, p, b)
		}
		emit(p, q)
		p = q
	}
}

// spaceRunEnd is \s+(?!\S)|\s+ at p: a run of whitespace, less its last
// character when a non-space follows (that one goes with the next word).
func spaceRunEnd(s *runes, p, b int) int {
	q := p
	for q < b && s.cls[q] == classSpace {
		q++
	}
	if q-p > 1 && q < b {
		q--
	}
	return max(q, p+1)
}

// matchContraction matches 's|'t|'re|'ve|'m|'ll|'d at p (case-insensitive
// when fold), returning the end or p.
func matchContraction(s *runes, p, b int, fold bool) int {
	if s.rs[p] != '\'' || p+1 >= b {
		return p
	}
	lower := func(r rune) rune {
		if fold && r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	switch lower(s.rs[p+1]) {
	case 's', 't', 'm', 'd':
		return p + 2
	}
	if p+2 < b {
		switch string([]rune{lower(s.rs[p+1]), lower(s.rs[p+2])}) {
		case "re", "ve", "ll":
			return p + 3
		}
	}
	return p
}

// splitLlama3 is the LLaMA-3 regex with numbers cut into runs of at most
// digits (3 for LLaMA-3, 1 for Qwen2):
// (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
func splitLlama3(digits int) splitFunc {
	return func(s *runes, a, b int, emit func(a, b int)) {
		for p := a; p < b; {
			q := llama3Word(s, p, b, digits)
			emit(p, q)
			p = q
		}
	}
}

func isNewline(r rune) bool { return r == '\r' || r == '\n' }

// llama3Word returns the end of the word that starts at p.
func llama3Word(s *runes, p, b, digits int) int {
	if end := matchContraction(s, p, b, true); end > p {
		return end
	}
	r, c := s.rs[p], s.cls[p]
	// [^\r\n\p{L}\p{N}]?\p{L}+
	if !isNewline(r) && c != classNumber && (c == classLetter || s.classAt(p+1, b) == classLetter) {
		q := p + 1
		for q < b && s.cls[q] == classLetter {
			q++
		}
		return q
	}
	// \p{N}{1,digits}
	if c == classNumber {
		q := p + 1
		for q < b && q-p < digits && s.cls[q] == classNumber {
			q++
		}
		return q
	}
	// ' ?[^\s\p{L}\p{N}]+[\r\n]*'
	q := p
	if r == ' ' {
		c = s.classAt(p+1, b)
		if isOther(c) {
			q++
		}
	}
	if isOther(c) {
		for q < b && isOther(s.cls[q]) {
			q++
		}
		for q < b && isNewline(s.rs[q]) {
			q++
		}
		return q
	}
	// \s*[\r\n]+ : whitespace up to and including its last newline.
	lastNewline := -1
	q = p
	for q < b && s.cls[q] == classSpace {
		if isNewline(s.rs[q]) {
			lastNewline = q + 1
		}
		q++
	}
	if lastNewline > 0 {
		return lastNewline
	}
	return spaceRunEnd(s, p, b)
}

// sequence applies splitters one after the other, each to every word of the
// one before (llama.cpp applies a list of regexes this way). The words flow
// from step to step as they are found, through one closure per step made
// once per call.
func sequence(steps ...splitFunc) splitFunc {
	if len(steps) == 1 {
		return steps[0]
	}
	return func(s *runes, a, b int, emit func(a, b int)) {
		// into[i] hands a word of step i to step i+1 (the last, to emit).
		into := make([]func(a, b int), len(steps))
		into[len(steps)-1] = emit
		for i := len(steps) - 2; i >= 0; i-- {
			step, next := steps[i+1], into[i+1]
			into[i] = func(x, y int) { step(s, x, y, next) }
		}
		steps[0](s, a, b, into[0])
	}
}

// matchFunc returns the end of the match of a pattern that starts at
// character p of [p, b), or p when there is none.
type matchFunc func(s *runes, p, b int) int

// regexStep splits like a regex used as a splitter: every leftmost match is
// a word and so is every gap between matches.
func regexStep(match matchFunc) splitFunc {
	return func(s *runes, a, b int, emit func(a, b int)) {
		gap := a
		for p := a; p < b; {
			end := match(s, p, b)
			if end == p {
				p++
				continue
			}
			if gap < p {
				emit(gap, p)
			}
			emit(p, end)
			p, gap = end, end
		}
		if gap < b {
			emit(gap, b)
		}
	}
}

// matchNewline is [\r\n].
func matchNewline(s *runes, p, b int) int {
	if isNewline(s.rs[p]) {
		return p + 1
	}
	return p
}

// matchRun is [set]+.
func matchRun(in func(rune) bool) matchFunc {
	return func(s *runes, p, b int) int {
		q := p
		for q < b && in(s.rs[q]) {
			q++
		}
		return q
	}
}

// matchSpaceThen is \s?[set]+.
func matchSpaceThen(in func(rune) bool) matchFunc {
	run := matchRun(in)
	return func(s *runes, p, b int) int {
		if s.cls[p] == classSpace && p+1 < b && in(s.rs[p+1]) {
			return run(s, p+1, b)
		}
		return run(s, p, b)
	}
}

// splitTrailingSpace is \s+$: the whitespace that ends the piece is a word.
func splitTrailingSpace(s *runes, a, b int, emit func(a, b int)) {
	q := b
	for q > a && s.cls[q-1] == classSpace {
		q--
	}
	if q > a && q < b {
		emit(a, q)
		emit(q, b)
		return
	}
	emit(a, b)
}

// runeRange is an inclusive range of code points.
type runeRange struct{ lo, hi rune }

func inRanges(r rune, table []runeRange) bool {
	i, _ := slices.BinarySearchFunc(table, r, func(rr runeRange, r rune) int {
		switch {
		case rr.hi < r:
			return -1
		case rr.lo > r:
			return 1
		}
		return 0
	})
	return i < len(table) && table[i].lo <= r && r <= table[i].hi
}

// deepseekLetters is the letter class of DeepSeek-LLM's pre-tokenizer regex
// \s?[A-Za-zµÀ-ÖØ-öø-ƺ…𞤀-𞥃]+ (cased letters of many scripts), in order.
var deepseekLetters = []runeRange{
	{0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
	{0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
	{0x0376, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386}, {0x0388, 0x038A},
	{0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481}, {0x048A, 0x052F},
	{0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD}, {0x1C90, 0x1CBA},
	{0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A}, {0x1E00, 0x1F15},
	{0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57}, {0x1F59, 0x1F59},
	{0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4}, {0x1FB6, 0x1FBC},
	{0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3}, {0x1FD6, 0x1FDB},
	{0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102}, {0x2107, 0x2107},
	{0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124}, {0x2126, 0x2126},
	{0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139}, {0x213C, 0x213F},
	{0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2184}, {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4},
	{0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF3}, {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F},
	{0xA771, 0xA787}, {0xA78B, 0xA78E}, {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17},
	{0xFF21, 0xFF3A}, {0xFF41, 0xFF5A}, {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB},
	{0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2}, {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
}

// deepseekPuncts is the class of \s?[!-/:-~！-／：-～‘-‟　-。]+. U+3000 is
// whitespace, which llama.cpp hides from this class, so the last range
// starts at U+3001.
var deepseekPuncts = []runeRange{
	{'!', '/'}, {':', '~'}, {0x2018, 0x201F}, {0x3001, 0x3002}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E},
}

// deepseekSet flags the character sets of DeepSeek-LLM's regexes that a
// character belongs to.
type deepseekSet uint8

const (
	deepseekLetter deepseekSet = 1 << iota
	deepseekPunct
	deepseekCJK
)

// deepseekBMP holds the sets of every character below U+10000, built on
// first use; the splitters ask about every character of the text.
var deepseekBMP = sync.OnceValue(func() []deepseekSet {
	t := make([]deepseekSet, 0x10000)
	for r := range rune(0x10000) {
		t[r] = deepseekSetsOf(r)
	}
	return t
})

func deepseekSetsOf(r rune) deepseekSet {
	var set deepseekSet
	if inRanges(r, deepseekLetters) {
		set |= deepseekLetter
	}
	if inRanges(r, deepseekPuncts) {
		set |= deepseekPunct
	}
	// [一-龥ࠀ-一가-퟿] (U+0800–U+9FA5 and Hangul), whitespace excepted as in
	// llama.cpp.
	if (r >= 0x0800 && r <= 0x9FA5 || r >= 0xAC00 && r <= 0xD7FF) && classOf(r) != classSpace {
		set |= deepseekCJK
	}
	return set
}

func inDeepseekSet(r rune, set deepseekSet) bool {
	if r >= 0 && r < 0x10000 {
		return deepseekBMP()[r]&set != 0
	}
	return deepseekSetsOf(r)&set != 0
}

func isDeepseekLetter(r rune) bool { return inDeepseekSet(r, deepseekLetter) }
func isDeepseekPunct(r rune) bool  { return inDeepseekSet(r, deepseekPunct) }
func isDeepseekCJK(r rune) bool    { return inDeepseekSet(r, deepseekCJK) }
