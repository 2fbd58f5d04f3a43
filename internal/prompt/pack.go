package prompt

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"flywheel/internal/retrieve"
)

// Passage is one retrieved text to quote in a prompt. Text is
// source[Start:End] of the document DocID (byte offsets).
type Passage struct {
	ID, DocID, Title, Text string
	Start, End             int
	Score                  float64
}

// FromHits converts retrieval hits to passages, in rank order. A document
// without a title is named by its path.
func FromHits(hits []retrieve.Hit) []Passage {
	ps := make([]Passage, len(hits))
	for i, h := range hits {
		title := h.Doc.Title
		if title == "" {
			title = h.Doc.Path
		}
		ps[i] = Passage{
			ID: h.Chunk.ID, DocID: h.Chunk.DocID, Title: title, Text: h.Chunk.Text,
			Start: h.Chunk.Start, End: h.Chunk.End, Score: h.Score,
		}
	}
	return ps
}

// Packed is a block of numbered passages for a prompt.
type Packed struct {
	// Text is the block: passages quoted as data between <passages> and
	// </passages>, the i-th as <passage id="i" …>; "" when none fit.
	Text string
	// Passages are those kept, in citation order: [i] is Passages[i-1].
	// A trimmed passage keeps the Start and End of its kept part.
	Passages []Passage
	// Tokens is count(Text), at most the budget.
	Tokens int
	// Dropped counts passages left out; Trimmed those cut short.
	Dropped, Trimmed int
}

// String is the block, so that {{.passages}} prints it in a template.
func (p Packed) String() string { return p.Text }

// Cited returns the passages an answer cites, in the order of Citations,
// skipping numbers that name no passage.
func (p Packed) Cited(answer string) []Passage {
	var out []Passage
	for _, n := range Citations(answer) {
		if n <= len(p.Passages) {
			out = append(out, p.Passages[n-1])
		}
	}
	return out
}

const (
	blockOpen  = "<passages>\n"
	blockClose = "</passages>"
)

// Pack quotes passages, best first, in a block of at most budget tokens as
// measured by count (nil: ApproxTokens; budget ≤ 0: no limit). Passages are
// taken greedily in rank order; one that does not fit in what is left is
// cut at the last sentence end that fits, or dropped when not even its
// first sentence does (a later, shorter passage may still fit). Each kept
// passage is numbered for citation, and its text is escaped so that it
// cannot close the block or pose as a chat turn (see EscapeData).
//
// Token counts of the pieces are added up; when count is not additive (a
// BPE tokenizer across piece boundaries) and the whole block exceeds the
// budget, passages are dropped from the end until it fits.
func Pack(passages []Passage, budget int, count func(string) int) Packed {
	if count == nil {
		count = ApproxTokens
	}
	if budget <= 0 {
		budget = math.MaxInt
	}
	left := budget - count(blockOpen) - count(blockClose)
	var out Packed
	var entries []string
	var trimmed []bool // per kept passage
	for _, p := range passages {
		if strings.TrimSpace(p.Text) == "" {
			out.Dropped++
			continue
		}
		n := len(entries) + 1
		entry := formatEntry(n, p.Title, p.Text)
		cost := count(entry)
		cut := cost > left
		if cut {
			var ok bool
			if p, entry, cost, ok = trimToFit(p, n, left, count); !ok {
				out.Dropped++
				continue
			}
			out.Trimmed++
		}
		left -= cost
		entries = append(entries, entry)
		trimmed = append(trimmed, cut)
		out.Passages = append(out.Passages, p)
	}
	for k := len(entries); k > 0; k-- {
		out.Text = blockOpen + strings.Join(entries[:k], "") + blockClose
		if out.Tokens = count(out.Text); out.Tokens <= budget {
			out.Passages = out.Passages[:k]
			return out
		}
		out.Dropped++
		if trimmed[k-1] {
			out.Trimmed--
		}
	}
	return Packed{Dropped: out.Dropped, Trimmed: out.Trimmed}
}

// formatEntry quotes one passage as the n-th of the block.
func formatEntry(n int, title, text string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<passage id=\"%d\"", n)
	if title = strings.Join(strings.Fields(title), " "); title != "" {
		fmt.Fprintf(&b, " title=\"%s\"", strings.ReplaceAll(EscapeData(title), `"`, "&quot;"))
	}
	b.WriteString(">\n")
	b.WriteString(EscapeData(strings.TrimSpace(text)))
	b.WriteString("\n</passage>\n")
	return b.String()
}

// trimToFit keeps the longest run of whole sentences from the start of p
// whose entry costs at most left, and moves End back to match.
func trimToFit(p Passage, n, left int, count func(string) int) (Passage, string, int, bool) {
	cuts := sentenceCuts(p.Text)
	fits := func(i int) bool { return count(formatEntry(n, p.Title, p.Text[:cuts[i]])) <= left }
	if left <= 0 || !fits(0) { // the usual case once the budget is spent
		return p, "", 0, false
	}
	// The entry cost grows with the cut: find the first cut that does not fit.
	i := 1 + sort.Search(len(cuts)-1, func(i int) bool { return !fits(i + 1) })
	kept := strings.TrimRightFunc(p.Text[:cuts[i-1]], unicode.IsSpace)
	p.End = p.Start + len(kept)
	p.Text = kept
	entry := formatEntry(n, p.Title, kept)
	return p, entry, count(entry), true
}

// sentenceCuts are the byte offsets in s just after each sentence: after
// . ! ? followed by white space, after 。！？ and after a line break, with
// closing quotes and brackets kept with their sentence. The last is len(s).
func sentenceCuts(s string) []int {
	var cuts []int
	text := false // a sentence has begun: s[:i] is not all space
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		i += w
		text = text || !unicode.IsSpace(r)
		if !strings.ContainsRune(".!?。！？\n", r) {
			continue
		}
		for i < len(s) {
			c, w := utf8.DecodeRuneInString(s[i:])
			if !strings.ContainsRune(`"')]}’”」』）`, c) {
				break
			}
			i += w
		}
		if r < utf8.RuneSelf && r != '\n' && i < len(s) && !unicode.IsSpace(rune(s[i])) {
			continue // "3.14", "e.g.x"
		}
		if text && (len(cuts) == 0 || cuts[len(cuts)-1] != i) {
			cuts = append(cuts, i)
		}
	}
	if len(cuts) == 0 || cuts[len(cuts)-1] != len(s) {
		cuts = append(cuts, len(s))
	}
	return cuts
}

// EscapeData makes s safe to quote as data between tags in a prompt: a "<"
// that starts tag-like markup — "</passages>", "<passage", "<|im_start|>",
// "<s>", "<<SYS>>" — becomes "&lt;", and "|>" becomes "|&gt;", so quoted
// text can neither close its block nor pose as a chat turn or a special
// token. Other text, "a < b" included, is unchanged.
func EscapeData(s string) string {
	if !strings.ContainsAny(s, "<>") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '<' && i+1 < len(s) && startsTag(s[i+1]):
			b.WriteString("&lt;")
		case c == '>' && i > 0 && s[i-1] == '|':
			b.WriteString("&gt;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// startsTag reports whether c, after a "<", makes it markup.
func startsTag(c byte) bool {
	return c == '/' || c == '|' || c == '!' || c == '?' || c == '<' || c == '_' ||
		c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// ApproxTokens estimates the tokens of s for a BPE vocabulary when no
// tokenizer is at hand: one per CJK character, and one per four bytes of
// any other run of letters, digits or marks (rounded up).
func ApproxTokens(s string) int {
	n, run := 0, 0
	flush := func() {
		n += (run + 3) / 4
		run = 0
	}
	for _, r := range s {
		switch {
		case isCJK(r):
			flush()
			n++
		case unicode.IsSpace(r):
			flush()
		default:
			run += utf8.RuneLen(r)
		}
	}
	flush()
	return n
}

// isCJK reports whether r is written without spaces between words: Han,
// kana and Hangul.
func isCJK(r rune) bool {
	if r < 0x1100 { // below Hangul Jamo: none of them
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}
