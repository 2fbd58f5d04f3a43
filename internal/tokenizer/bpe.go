package tokenizer

import (
	"fmt"
	"math"
	"strings"
)

// bpe is merge-ranked BPE (GPT-2 and its descendants; also the
// SentencePiece-style BPE of Hugging Face tokenizer.json files): the text is
// cut into words by a pre-tokenizer, each word starts as one symbol per
// unit, and the adjacent pair with the lowest merge rank is merged, ties to
// the leftmost pair, until no pair has a rank.
//
// Units are bytes for byte-level vocabularies (each byte is written in the
// vocabulary as a printable character of the GPT-2 byte alphabet) and
// characters for SentencePiece-style ones (a character not in the vocabulary
// falls back to "<0xNN>" byte tokens).
type bpe struct {
	v         *vocab
	unk       int
	byteLevel bool
	split     splitFunc // nil: the whole text fragment is one word
	// ignoreMerges: a word that is itself a token is that token (LLaMA-3).
	ignoreMerges bool
	// spacePrefix (SentencePiece-style only): spaces become "▁", and a "▁"
	// is put in front of the first fragment (prefixFirst) or of every
	// fragment (prefixAll).
	metaspace   bool
	prefixFirst bool
	prefixAll   bool
	// bytePrefix (byte-level only): a space goes in front of the first
	// fragment (ByteLevel add_prefix_space).
	bytePrefix bool

	merges  flatMap[bpeMerge] // pairKey of two symbols → rank and result symbol
	byteSym [256]int32        // byte-level: byte → symbol of its character
	// byteID: SentencePiece-style, byte → "<0xNN>" id; byte-level, byte →
	// any token spelled as its character (an added one where no normal
	// piece is). -1 when missing.
	byteID [256]int
	// Symbols at and past len(v.pieces) are merge parts that are not
	// vocabulary pieces; extra holds their text.
	extra   []string
	extraID map[string]int32
	// rawIDs maps the bytes a normal byte-level token stands for to its id
	// (for ignoreMerges).
	rawIDs map[string]int
	name   string
	states pool[bpeState] // scratch space (and word cache) of encode calls
}

type bpeMerge struct{ rank, result int32 }

// bpeOptions configure newBPE.
type bpeOptions struct {
	byteLevel    bool
	pre          preTokenizer // zero: no pre-tokenizer
	ignoreMerges bool
	metaspace    bool
	prefixFirst  bool
	prefixAll    bool
	bytePrefix   bool
}

// newBPE returns a model constructor for the merges ("a b" strings or
// [a, b] pairs already split) in rank order.
func newBPE(merges [][2]string, opt bpeOptions) func(t *Tokenizer) (model, error) {
	return func(t *Tokenizer) (model, error) {
		m := &bpe{
			v: &t.vocab, unk: t.unk, byteLevel: opt.byteLevel, split: opt.pre.split,
			ignoreMerges: opt.ignoreMerges, metaspace: opt.metaspace,
			prefixFirst: opt.prefixFirst, prefixAll: opt.prefixAll, bytePrefix: opt.bytePrefix,
			merges:  newFlatMap[bpeMerge](len(merges)),
			extraID: map[string]int32{},
		}
		// Symbols are normal pieces: an added token with the same text (as
		// DeepSeek adds "ÿ", the byte 0xFF) must not stand in for a byte.
		for id, p := range t.pieces {
			if p != "" && t.types[id] != TypeNormal {
				if _, ok := m.extraID[p]; !ok {
					m.extraID[p] = -1 // resolved below
				}
			}
		}
		for id, p := range t.pieces {
			if v, ok := m.extraID[p]; ok && v == -1 && t.types[id] == TypeNormal {
				m.extraID[p] = int32(id)
			}
		}
		for p, v := range m.extraID {
			if v == -1 {
				delete(m.extraID, p)
			}
		}
		m.name = "gpt2 (byte-level BPE"
		if opt.pre.name != "" {
			m.name += ", pre-tokenizer " + opt.pre.name
		}
		m.name += ")"
		if !opt.byteLevel {
			m.name = "SentencePiece-style BPE (merges, byte fallback)"
		}
		for b := range 256 {
			m.byteSym[b] = m.symbol(byteChar[b])
			m.byteID[b] = -1
			text := byteTokenText(byte(b))
			if opt.byteLevel {
				text = byteChar[b]
			}
			if id, ok := t.ids[text]; ok {
				m.byteID[b] = id
			}
		}
		for rank, mg := range merges {
			left, right := m.symbol(mg[0]), m.symbol(mg[1])
			key := pairKey(left, right)
			if _, dup := m.merges.get(key); dup {
				continue // the first rank wins, as in llama.cpp
			}
			m.merges.add(key, bpeMerge{rank: int32(rank), result: m.symbol(mg[0] + mg[1])})
		}
		if len(t.pieces)+len(m.extra) > 1<<31-1 {
			return nil, fmt.Errorf("tokenizer: vocabulary and merges too large")
		}
		m.extraID = nil // only needed while the merges are read
		if m.ignoreMerges && m.byteLevel {
			m.rawIDs = make(map[string]int, len(t.pieces))
			for id, p := range t.pieces {
				if t.types[id] == TypeNormal {
					if raw, ok := decodeByteLevel(p); ok {
						m.rawIDs[raw] = id
					}
				}
			}
		}
		return m, nil
	}
}

// symbol returns the symbol of a vocabulary string, adding an extra one
// when it is not a piece.
func (m *bpe) symbol(s string) int32 {
	if id, ok := m.extraID[s]; ok {
		return id
	}
	if id, ok := m.v.ids[s]; ok && m.v.types[id] == TypeNormal {
		return int32(id)
	}
	id := int32(len(m.v.pieces) + len(m.extra))
	m.extra = append(m.extra, s)
	m.extraID[s] = id
	return id
}

func (m *bpe) kind() string { return m.name }

func (m *bpe) render(id int) []byte {
	if !m.byteLevel {
		return renderSentencePiece(m.v, id)
	}
	p := m.v.pieces[id]
	switch m.v.types[id] {
	case TypeNormal:
		if raw, ok := decodeByteLevel(p); ok {
			return []byte(raw)
		}
		return []byte(p) // a character outside the byte alphabet stands for itself
	case TypeUserDefined:
		return []byte(p)
	}
	return nil
}

// encode appends the ids of one text fragment.
func (m *bpe) encode(text string, first bool, out []int) []int {
	if m.metaspace {
		if m.prefixAll || m.prefixFirst && first {
			text = " " + text
		}
		text = strings.ReplaceAll(text, " ", spaceMarker)
	}
	if m.bytePrefix && first && !strings.HasPrefix(text, " ") {
		text = " " + text
	}
	st := m.states.get()
	defer m.states.put(st)
	if m.split == nil {
		return m.encodeWord(st, text, out)
	}
	st.runes.reset(text)
	m.split(&st.runes, 0, len(st.runes.rs), func(a, b int) {
		out = m.encodeWord(st, text[st.runes.off[a]:st.runes.off[b]], out)
	})
	return out
}

// bpeSymbol is one symbol of a word being merged, linked to its
// neighbours (-1 at the ends); id < 0 once merged into its left neighbour.
type bpeSymbol struct {
	id           int32
	prev, next   int32
	start, end   int32 // byte range in the word
	rank, result int32 // mergeScan: the merge with the right neighbour (noMerge: none)
}

// bpeState is the scratch space of one encode call; its word cache
// outlives the call in the model's pool.
type bpeState struct {
	runes runes
	syms  []bpeSymbol
	q     bpeQueue
	cache wordCache
}

// encodeWord merges one word and appends its ids.
func (m *bpe) encodeWord(st *bpeState, word string, out []int) []int {
	if word == "" {
		return out
	}
	if m.ignoreMerges {
		if id, ok := m.rawIDs[word]; ok {
			return append(out, id)
		}
	}
	if ids, ok := st.cache.get(word); ok {
		return append(out, ids...)
	}
	start := len(out)
	out = m.merge(st, word, out)
	st.cache.put(word, out[start:])
	return out
}

// merge runs the merges over one word and appends the resulting ids.
func (m *bpe) merge(st *bpeState, word string, out []int) []int {
	syms := st.syms[:0]
	if m.byteLevel {
		for i := 0; i < len(word); i++ {
			syms = append(syms, bpeSymbol{id: m.byteSym[word[i]], start: int32(i), end: int32(i + 1)})
		}
	} else {
		for i := 0; i < len(word); {
			n := min(utf8Len(word[i]), len(word)-i)
			id := int32(-2) // unknown character
			if tok, ok := m.v.ids[word[i:i+n]]; ok {
				id = int32(tok)
			}
			syms = append(syms, bpeSymbol{id: id, start: int32(i), end: int32(i + n)})
			i += n
		}
	}
	for i := range syms {
		syms[i].prev, syms[i].next = int32(i-1), int32(i+1)
	}
	syms[len(syms)-1].next = -1
	if len(syms) <= 24 {
		m.mergeScan(syms)
	} else {
		st.q = m.mergeQueue(syms, st.q)
	}
	st.syms = syms
	for i := int32(0); i != -1; i = syms[i].next {
		out = m.appendSymbol(out, word, syms[i])
	}
	return out
}

// rank returns the merge of symbols a and b.
func (m *bpe) rank(a, b int32) (bpeMerge, bool) {
	if a < 0 || b < 0 {
		return bpeMerge{}, false
	}
	return m.merges.get(pairKey(a, b))
}

// mergeScan merges a short word by scanning for the best pair each round;
// each symbol keeps the merge with its right neighbour, so a round asks the
// merge table only about the two pairs the last merge changed.
func (m *bpe) mergeScan(syms []bpeSymbol) {
	for i := range syms {
		m.pairRight(syms, int32(i))
	}
	for {
		best := int32(-1)
		for i := int32(0); i != -1; i = syms[i].next {
			if syms[i].rank != noMerge && (best < 0 || syms[i].rank < syms[best].rank) {
				best = i
			}
		}
		if best < 0 {
			return
		}
		mergeRight(syms, best, syms[best].result)
		m.pairRight(syms, best)
		if prev := syms[best].prev; prev >= 0 {
			m.pairRight(syms, prev)
		}
	}
}

// noMerge is the rank of a pair that does not merge.
const noMerge = int32(math.MaxInt32)

// pairRight records in symbol i its merge with its right neighbour.
func (m *bpe) pairRight(syms []bpeSymbol, i int32) {
	s := &syms[i]
	s.rank = noMerge
	if s.next < 0 {
		return
	}
	if mg, ok := m.rank(s.id, syms[s.next].id); ok {
		s.rank, s.result = mg.rank, mg.result
	}
}

// mergeRight merges symbol i with its right neighbour into symbol id.
func mergeRight(syms []bpeSymbol, i, id int32) {
	j := syms[i].next
	syms[i].id = id
	syms[i].end = syms[j].end
	syms[i].next = syms[j].next
	if syms[j].next >= 0 {
		syms[syms[j].next].prev = i
	}
	syms[j].id = -1
}

// mergeQueue merges a long word with a priority queue of candidate pairs.
func (m *bpe) mergeQueue(syms []bpeSymbol, q bpeQueue) bpeQueue {
	q = q[:0]
	push := func(i int32) {
		if i < 0 || syms[i].next < 0 {
			return
		}
		j := syms[i].next
		if mg, ok := m.rank(syms[i].id, syms[j].id); ok {
			q.push(bpeCandidate{left: i, right: j, rank: mg.rank, leftID: syms[i].id, rightID: syms[j].id, result: mg.result})
		}
	}
	for i := range syms {
		push(int32(i))
	}
	for len(q) > 0 {
		c := q.pop()
		l, r := &syms[c.left], &syms[c.right]
		if l.id != c.leftID || r.id != c.rightID || l.next != c.right {
			continue // stale: a symbol changed since the pair was queued
		}
		mergeRight(syms, c.left, c.result)
		push(syms[c.left].prev)
		push(c.left)
	}
	return q
}

// appendSymbol appends the ids of a final symbol: its token, or when it is
// not one, its units' byte tokens (or the unknown token).
func (m *bpe) appendSymbol(out []int, word string, sym bpeSymbol) []int {
	if sym.id >= 0 && int(sym.id) < len(m.v.pieces) {
		return append(out, int(sym.id))
	}
	text := word[sym.start:sym.end]
	for i := 0; i < len(text); i++ {
		if id := m.byteID[text[i]]; id >= 0 {
			out = append(out, id)
		} else if m.unk >= 0 {
			out = append(out, m.unk)
		}
	}
	return out
}

// bpeCandidate is a queued merge of symbols left and right.
type bpeCandidate struct {
	left, right     int32
	rank            int32
	leftID, rightID int32
	result          int32
}

// bpeQueue is a binary min-heap: lowest rank first, ties to the leftmost pair.
type bpeQueue []bpeCandidate

func (q bpeQueue) before(i, j int) bool {
	a, b := &q[i], &q[j]
	return a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
}

func (q *bpeQueue) push(c bpeCandidate) { *q = heapPush(*q, c, bpeQueue.before) }

func (q *bpeQueue) pop() bpeCandidate {
	top, h := heapPop(*q, bpeQueue.before)
	*q = h
	return top
}

// byteChar is the GPT-2 byte alphabet: byte → the printable character that
// stands for it in byte-level vocabularies. Printable Latin-1 bytes stand
// for themselves; the others (controls, space, DEL, NBSP, soft hyphen) are
// numbered from U+0100 in byte order.
var byteChar [256]string

// charByte is the inverse of byteChar.
var charByte = map[rune]byte{}

func init() {
	next := rune(256)
	for b := range 256 {
		r := rune(b)
		printable := b >= '!' && b <= '~' || b >= 0xA1 && b <= 0xAC || b >= 0xAE
		if !printable {
			r = next
			next++
		}
		byteChar[b] = string(r)
		charByte[r] = byte(b)
	}
}

// decodeByteLevel maps each character of a byte-level piece back to its
// byte; ok is false when a character is not in the byte alphabet.
func decodeByteLevel(p string) (string, bool) {
	b := make([]byte, 0, len(p))
	for _, r := range p {
		c, ok := charByte[r]
		if !ok {
			return "", false
		}
		b = append(b, c)
	}
	return string(b), true
}

// encodeByteLevel writes bytes in the byte alphabet.
func encodeByteLevel(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		b.WriteString(byteChar[s[i]])
	}
	return b.String()
}

// renderSentencePiece is the text of a SentencePiece-style piece: "▁" is a
// space, "<0xNN>" its byte, user-defined tokens their text, control and
// unknown tokens nothing.
func renderSentencePiece(v *vocab, id int) []byte {
	p := v.pieces[id]
	switch v.types[id] {
	case TypeNormal:
		return []byte(strings.ReplaceAll(p, spaceMarker, " "))
	case TypeByte:
		if b, ok := parseByteToken(p); ok {
			return []byte{b}
		}
		return nil
	case TypeUserDefined:
		return []byte(p)
	}
	return nil
}
