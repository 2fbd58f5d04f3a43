package chunk

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"flywheel/internal/document"
)

// Chunk is one passage of a document.
type Chunk struct {
	// ID is the document's ID, "#" and the chunk's position in it.
	ID    string
	DocID string
	// Text is exactly the document's Text[Start:End].
	Text       string
	Start, End int
	// Heading is the path of headings above the chunk, "A > B", or "".
	Heading string
}

// Config sets the size budget. The zero value packs up to 1,000 characters
// with 100 characters of overlap.
type Config struct {
	// Size is the most a chunk may hold, in units of Length (default 1000).
	Size int
	// Overlap is how much of the end of a chunk the next one repeats
	// (default Size/10; negative: none).
	Overlap int
	// Length measures text, such as a tokenizer's token count (default:
	// the number of characters).
	Length func(string) int
}

func (c Config) withDefaults() Config {
	if c.Size <= 0 {
		c.Size = 1000
	}
	if c.Overlap == 0 {
		c.Overlap = c.Size / 10
	}
	if c.Overlap < 0 {
		c.Overlap = 0
	}
	if c.Overlap >= c.Size {
		c.Overlap = c.Size / 2
	}
	if c.Length == nil {
		c.Length = utf8.RuneCountInString
	}
	return c
}

// Split cuts d into chunks in order.
func Split(d document.Document, cfg Config) []Chunk {
	cfg = cfg.withDefaults()
	var out []Chunk
	for _, sec := range sections(d) {
		s := splitter{text: d.Text, cfg: cfg}
		for _, sp := range s.pack(s.split(sec.span, 0)) {
			sp = trimSpan(d.Text, sp)
			if sp.start == sp.end {
				continue
			}
			out = append(out, Chunk{
				ID:      fmt.Sprintf("%s#%d", d.ID, len(out)),
				DocID:   d.ID,
				Text:    d.Text[sp.start:sp.end],
				Start:   sp.start,
				End:     sp.end,
				Heading: sec.heading,
			})
		}
	}
	return out
}

// span is the byte range [start, end) of the text.
type span struct{ start, end int }

type section struct {
	span
	heading string
}

// sections cuts the text at each heading, naming every section by the path
// of headings above it.
func sections(d document.Document) []section {
	var out []section
	var path []document.Heading
	start, heading := 0, ""
	for _, h := range d.Headings {
		if h.Start < start || h.Start > len(d.Text) {
			continue
		}
		if h.Start > start {
			out = append(out, section{span{start, h.Start}, heading})
		}
		for len(path) > 0 && path[len(path)-1].Level >= h.Level {
			path = path[:len(path)-1]
		}
		path = append(path, h)
		names := make([]string, len(path))
		for i, p := range path {
			names[i] = p.Text
		}
		start, heading = h.Start, strings.Join(names, " > ")
	}
	return append(out, section{span{start, len(d.Text)}, heading})
}

type splitter struct {
	text string
	cfg  Config
}

func (s splitter) size(sp span) int { return s.cfg.Length(s.text[sp.start:sp.end]) }

// split returns sp cut into pieces that each fit the budget, trying the
// separators from levels[level] on.
func (s splitter) split(sp span, level int) []span {
	if s.size(sp) <= s.cfg.Size {
		return []span{sp}
	}
	if level == len(levels) {
		return s.splitRunes(sp)
	}
	cuts := levels[level](s.text[sp.start:sp.end])
	if len(cuts) == 0 {
		return s.split(sp, level+1)
	}
	var out []span
	prev := sp.start
	for _, c := range append(cuts, sp.end-sp.start) {
		if c+sp.start <= prev {
			continue
		}
		out = append(out, s.split(span{prev, sp.start + c}, level+1)...)
		prev = sp.start + c
	}
	return out
}

// splitRunes is the last resort: pieces of whole characters.
func (s splitter) splitRunes(sp span) []span {
	var out []span
	start := sp.start
	for i := sp.start; i < sp.end; {
		_, n := utf8.DecodeRuneInString(s.text[i:sp.end])
		if i > start && s.size(span{start, i + n}) > s.cfg.Size {
			out = append(out, span{start, i})
			start = i
		}
		i += n
	}
	return append(out, span{start, sp.end})
}

// pack joins neighbouring pieces into chunks within the budget; each chunk
// after the first begins with the last pieces of the one before that fit
// in the overlap.
func (s splitter) pack(pieces []span) []span {
	var out []span
	sizes := make([]int, len(pieces))
	for i, p := range pieces {
		sizes[i] = s.size(p)
	}
	first, total := 0, 0 // the pieces of the current chunk are pieces[first:i]
	for i := range pieces {
		if i > first && total+sizes[i] > s.cfg.Size {
			out = append(out, span{pieces[first].start, pieces[i-1].end})
			first, total = s.overlapStart(sizes, first, i)
			for first < i && total+sizes[i] > s.cfg.Size {
				total -= sizes[first]
				first++
			}
		}
		total += sizes[i]
	}
	if len(pieces) > 0 {
		out = append(out, span{pieces[first].start, pieces[len(pieces)-1].end})
	}
	return out
}

// overlapStart returns the first of the pieces first..end-1 that the next
// chunk repeats, and their total size.
func (s splitter) overlapStart(sizes []int, first, end int) (int, int) {
	k, total := end, 0
	for k-1 > first && total+sizes[k-1] <= s.cfg.Overlap {
		k--
		total += sizes[k]
	}
	return k, total
}

func trimSpan(text string, sp span) span {
	for sp.start < sp.end {
		r, n := utf8.DecodeRuneInString(text[sp.start:sp.end])
		if !unicode.IsSpace(r) {
			break
		}
		sp.start += n
	}
	for sp.end > sp.start {
		r, n := utf8.DecodeLastRuneInString(text[sp.start:sp.end])
		if !unicode.IsSpace(r) {
			break
		}
		sp.end -= n
	}
	return sp
}
