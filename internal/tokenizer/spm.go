package tokenizer

import (
	"strconv"
	"strings"
)

// spaceMarker is how SentencePiece writes a space inside a piece: "▁" (U+2581).
const spaceMarker = "\u2581"

// spm is SentencePiece BPE as LLaMA vocabularies use it: score-ordered merges
// of adjacent pieces, then byte fallback. See the package doc for the rules.
type spm struct {
	v              *vocab
	unk            int
	addSpacePrefix bool
	byteID         [256]int // byte → id of "<0xNN>" (or of the one-byte piece), -1 when missing
	// wordsIndependent: no piece has a "▁" after a character other than
	// "▁" (true of SentencePiece vocabularies trained to split on
	// whitespace), so no merge can cross the start of a word.
	wordsIndependent bool
	states           pool[spmState] // scratch space (and word cache) of encode calls
}

func newSPM(addSpacePrefix bool) func(t *Tokenizer) (model, error) {
	return func(t *Tokenizer) (model, error) {
		m := &spm{v: &t.vocab, unk: t.unk, addSpacePrefix: addSpacePrefix}
		for b := range m.byteID {
			m.byteID[b] = -1
			if id, ok := t.ids[byteTokenText(byte(b))]; ok {
				m.byteID[b] = id
			} else if id, ok := t.ids[string([]byte{byte(b)})]; ok {
				m.byteID[b] = id
			}
		}
		m.wordsIndependent = true
		for _, p := range t.pieces {
			if strings.Contains(strings.TrimLeft(p, spaceMarker), spaceMarker) {
				m.wordsIndependent = false
				break
			}
		}
		return m, nil
	}
}

func (m *spm) kind() string { return "llama (SentencePiece BPE)" }

// byteTokenText is the vocabulary text of a byte-fallback token: "<0x0A>".
func byteTokenText(b byte) string {
	const hex = "0123456789ABCDEF"
	return string([]byte{'<', '0', 'x', hex[b>>4], hex[b&15], '>'})
}

// parseByteToken returns the byte of a "<0xNN>" piece (either hex case).
func parseByteToken(p string) (byte, bool) {
	if len(p) != 6 || !strings.HasPrefix(p, "<0x") || p[5] != '>' {
		return 0, false
	}
	v, err := strconv.ParseUint(p[3:5], 16, 8)
	if err != nil {
		return 0, false
	}
	return byte(v), true
}

func (m *spm) render(id int) []byte { return renderSentencePiece(m.v, id) }

// utf8Len is the length of a UTF-8 sequence from its lead byte, by the lead
// byte's high nibble alone (continuation and invalid bytes count as 1), as
// llama.cpp's unicode_len_utf8.
func utf8Len(lead byte) int {
	switch lead >> 4 {
	case 0xC, 0xD:
		return 2
	case 0xE:
		return 3
	case 0xF:
		return 4
	}
	return 1
}

// spmSymbol is one piece of the text being merged: the bytes
// s[start:start+n] (n == 0 once merged into its left neighbour), linked to
// its neighbours by index (-1 at the ends).
type spmSymbol struct {
	start, n   int32
	prev, next int32
}

// spmBigram is a candidate merge of symbols left and right into a piece of
// size bytes whose vocabulary score is score.
type spmBigram struct {
	left, right int32
	size        int32
	score       float32
}

// bigramQueue is a binary max-heap of candidate merges: highest score first,
// ties to the leftmost pair.
type bigramQueue []spmBigram

func (q bigramQueue) before(i, j int) bool {
	a, b := &q[i], &q[j]
	return a.score > b.score || (a.score == b.score && a.left < b.left)
}

func (q *bigramQueue) push(c spmBigram) { *q = heapPush(*q, c, bigramQueue.before) }

func (q *bigramQueue) pop() spmBigram {
	top, h := heapPop(*q, bigramQueue.before)
	*q = h
	return top
}

// maxSPMChunk bounds the bytes one merge session handles so that int32
// offsets never overflow; longer text is cut at a space marker or a
// character boundary (a cut can only change ids at the cut).
const maxSPMChunk = 1 << 30

// encode puts the space prefix in front of every fragment: each one starts
// the input or follows a special token, as in llama.cpp.
func (m *spm) encode(text string, _ bool, out []int) []int {
	if m.addSpacePrefix {
		text = " " + text
	}
	s := strings.ReplaceAll(text, " ", spaceMarker)
	for len(s) > maxSPMChunk {
		cut := strings.LastIndex(s[:maxSPMChunk], spaceMarker)
		if cut <= 0 {
			cut = maxSPMChunk
			for cut > 0 && s[cut]&0xC0 == 0x80 {
				cut--
			}
			if cut == 0 { // no character boundary at all: cut anywhere
				cut = maxSPMChunk
			}
		}
		out = m.encodeChunk(s[:cut], out)
		s = s[cut:]
	}
	return m.encodeChunk(s, out)
}

// encodeChunk appends the ids of s (spaces already escaped) to out. When the
// vocabulary allows it, s is cut into words, each starting where a "▁"
// follows another character, and each word is merged on its own: no piece
// can span such a cut (see wordsIndependent), so the ids are the same and
// the queue stays small.
func (m *spm) encodeChunk(s string, out []int) []int {
	st := m.states.get()
	defer m.states.put(st)
	if !m.wordsIndependent {
		return st.merge(m, s, out)
	}
	start, prevMarker := 0, false
	for i := 0; i < len(s); {
		n := min(utf8Len(s[i]), len(s)-i)
		marker := s[i:i+n] == spaceMarker
		if marker && !prevMarker && i > start {
			out = st.mergeWord(m, s[start:i], out)
			start = i
		}
		prevMarker = marker
		i += n
	}
	return st.mergeWord(m, s[start:], out)
}

// spmState is the scratch space of one encode call, reused from word to
// word; its word cache outlives the call in the model's pool.
type spmState struct {
	syms  []spmSymbol
	q     bigramQueue
	cache wordCache
}

// mergeWord is merge for one word, remembered in the word cache.
func (st *spmState) mergeWord(m *spm, word string, out []int) []int {
	if ids, ok := st.cache.get(word); ok {
		return append(out, ids...)
	}
	start := len(out)
	out = st.merge(m, word, out)
	st.cache.put(word, out[start:])
	return out
}

// merge runs the merges over s and appends the resulting ids to out.
func (st *spmState) merge(m *spm, s string, out []int) []int {
	if s == "" {
		return out
	}
	// Split into UTF-8 characters.
	syms := st.syms[:0]
	for off := 0; off < len(s); {
		n := min(utf8Len(s[off]), len(s)-off)
		i := int32(len(syms))
		syms = append(syms, spmSymbol{start: int32(off), n: int32(n), prev: i - 1, next: i + 1})
		off += n
	}
	syms[len(syms)-1].next = -1
	st.syms = syms

	// Seed the queue with every adjacent pair that is a piece.
	q := st.q[:0]
	for i := 1; i < len(syms); i++ {
		q = m.tryBigram(q, s, syms, int32(i-1), int32(i))
	}

	// Merge the best pair while there is one. Entries whose symbols changed
	// since they were queued are stale and skipped.
	for len(q) > 0 {
		b := q.pop()
		left, right := &syms[b.left], &syms[b.right]
		if left.n == 0 || right.n == 0 || left.n+right.n != b.size {
			continue
		}
		left.n += right.n
		right.n = 0
		left.next = right.next
		if right.next >= 0 {
			syms[right.next].prev = b.left
		}
		q = m.tryBigram(q, s, syms, left.prev, b.left)
		q = m.tryBigram(q, s, syms, b.left, left.next)
	}
	st.q = q

	// Every merged symbol is a piece by construction; a single character
	// that is not falls back to one byte token per byte.
	for i := int32(0); i != -1; i = syms[i].next {
		sym := syms[i]
		piece := s[sym.start : sym.start+sym.n]
		if id, ok := m.v.ids[piece]; ok {
			out = append(out, id)
			continue
		}
		for j := 0; j < len(piece); j++ {
			if id := m.byteID[piece[j]]; id >= 0 {
				out = append(out, id)
			} else if m.unk >= 0 {
				out = append(out, m.unk)
			}
		}
	}
	return out
}

// tryBigram queues the merge of symbols left and right when their
// concatenation (a contiguous slice of s) is a vocabulary piece.
func (m *spm) tryBigram(q bigramQueue, s string, syms []spmSymbol, left, right int32) bigramQueue {
	if left < 0 || right < 0 {
		return q
	}
	l, r := syms[left], syms[right]
	size := l.n + r.n
	id, ok := m.v.ids[s[l.start:l.start+size]]
	if !ok {
		return q
	}
	q.push(spmBigram{left: left, right: right, size: size, score: m.v.scores[id]})
	return q
}
