package tokenizer

import (
	"math"
	"strings"
)

// unigram is SentencePiece's unigram model (T5 and many multilingual
// vocabularies): among all ways to cut the normalized text into vocabulary
// pieces, the one with the highest sum of piece scores (log-probabilities)
// wins, found by Viterbi over character positions. A character that starts
// no piece becomes the unknown token with a penalty of 10 below the lowest
// score (runs of unknowns fuse into one), or its "<0xNN>" byte tokens when
// the vocabulary has byte fallback.
type unigram struct {
	v            *vocab
	unk          int
	byteFallback bool
	byteID       [256]int
	// Normalization: spaces are written "▁"; a "▁" goes in front of the
	// text (addPrefix) and runs of spaces collapse (mergeSpaces).
	addPrefix, mergeSpaces bool
	charsmap               *charsmap // precompiled normalization, nil when none

	pieces     pieceTrie // the pieces a text may be cut into
	unkScore   float64
	userScores bool // user-defined pieces score 0 (llama.cpp)
}

// unigramOptions configure newUnigram.
type unigramOptions struct {
	byteFallback, addPrefix, mergeSpaces bool
	charsmap                             *charsmap
}

func newUnigram(opt unigramOptions) func(t *Tokenizer) (model, error) {
	return func(t *Tokenizer) (model, error) {
		m := &unigram{
			v: &t.vocab, unk: t.unk, byteFallback: opt.byteFallback,
			addPrefix: opt.addPrefix, mergeSpaces: opt.mergeSpaces, charsmap: opt.charsmap,
			userScores: true,
		}
		var matchable []string
		minScore := math.Inf(1)
		for id, p := range t.pieces {
			tt := t.types[id]
			if tt == TypeNormal {
				minScore = min(minScore, float64(t.scores[id]))
			}
			if p == "" || !(tt == TypeNormal || tt == TypeUserDefined || tt == TypeUnused) {
				continue
			}
			matchable = append(matchable, p)
		}
		m.pieces = newPieceTrie(matchable, t.ids)
		if math.IsInf(minScore, 1) {
			minScore = 0
		}
		m.unkScore = minScore - 10
		for b := range 256 {
			m.byteID[b] = -1
			if id, ok := t.ids[byteTokenText(byte(b))]; ok {
				m.byteID[b] = id
			}
		}
		return m, nil
	}
}

func (m *unigram) kind() string { return "t5 (SentencePiece unigram)" }

func (m *unigram) render(id int) []byte { return renderSentencePiece(m.v, id) }

// normalize writes the text as the pieces spell it.
func (m *unigram) normalize(text string) string {
	if m.charsmap != nil {
		text = m.charsmap.normalize(text)
	}
	var b strings.Builder
	b.Grow(len(text) + 8)
	inWord, prefixed := false, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == ' ' {
			inWord = false
			if !m.mergeSpaces {
				b.WriteString(spaceMarker)
			}
			continue
		}
		if !inWord {
			inWord = true
			if m.addPrefix && !prefixed || m.mergeSpaces {
				b.WriteString(spaceMarker)
				prefixed = true
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}

// lattice node: the best way to cut the text up to a position.
type unigramBest struct {
	score float64
	from  int32 // start of the last piece
	id    int32 // last piece, -1 for unknown
}

func (m *unigram) encode(text string, _ bool, out []int) []int {
	s := m.normalize(text)
	n := len(s)
	if n == 0 {
		return out
	}
	best := make([]unigramBest, n+1)
	for i := 1; i <= n; i++ {
		best[i].score = math.Inf(-1)
	}
	for i := 0; i < n; {
		if math.IsInf(best[i].score, -1) {
			i++ // inside a character: unreachable
			continue
		}
		charLen := min(utf8Len(s[i]), n-i)
		single := false
		for node, j := int32(0), i; j < n; j++ {
			var ok bool
			if node, ok = m.pieces.next(node, s[j]); !ok {
				break
			}
			id := m.pieces.id[node]
			if id < 0 {
				continue
			}
			score := float64(m.v.scores[id])
			if m.userScores && m.v.types[id] == TypeUserDefined {
				score = 0
			}
			if j+1-i == charLen {
				single = true
			}
			if cand := best[i].score + score; cand > best[j+1].score {
				best[j+1] = unigramBest{score: cand, from: int32(i), id: id}
			}
		}
		if !single {
			if cand := best[i].score + m.unkScore; cand > best[i+charLen].score {
				best[i+charLen] = unigramBest{score: cand, from: int32(i), id: -1}
			}
		}
		i += charLen
	}
	// Backtrack from the end, then reverse.
	start := len(out)
	prevUnknown := false
	for j := n; j > 0; j = int(best[j].from) {
		b := best[j]
		if b.id >= 0 {
			out = append(out, int(b.id))
			prevUnknown = false
			continue
		}
		if m.byteFallback && m.byteID[s[b.from]] >= 0 {
			for k := j - 1; k >= int(b.from); k-- {
				if id := m.byteID[s[k]]; id >= 0 {
					out = append(out, id)
				} else if m.unk >= 0 {
					out = append(out, m.unk)
				}
			}
			prevUnknown = false
			continue
		}
		if !prevUnknown && m.unk >= 0 {
			out = append(out, m.unk)
		}
		prevUnknown = true
	}
	reverse(out[start:])
	return out
}

func reverse(s []int) {
	for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
		s[i], s[j] = s[j], s[i]
	}
}

// pieceTrie holds pieces byte by byte, so that the lattice finds every
// piece that starts at a position in one walk over the text that follows.
type pieceTrie struct {
	edges flatMap[int32] // pairKey(node, byte) → child node; the root is node 0
	id    []int32        // node → id of the piece that ends there, or -1
}

// newPieceTrie builds the trie of pieces; ids gives each piece's id.
func newPieceTrie(pieces []string, ids map[string]int) pieceTrie {
	// Number the nodes with a Go map first, so that the flat map gets
	// exactly the room it needs (a smaller table stays in cache).
	edges := map[uint64]int32{}
	t := pieceTrie{id: []int32{-1}}
	for _, p := range pieces {
		node := int32(0)
		for i := 0; i < len(p); i++ {
			key := pairKey(node, int32(p[i]))
			child, ok := edges[key]
			if !ok {
				child = int32(len(t.id))
				edges[key] = child
				t.id = append(t.id, -1)
			}
			node = child
		}
		t.id[node] = int32(ids[p])
	}
	t.edges = newFlatMap[int32](len(edges))
	for key, child := range edges {
		t.edges.add(key, child)
	}
	return t
}

// next follows the edge of byte b from node.
func (t *pieceTrie) next(node int32, b byte) (int32, bool) {
	return t.edges.get(pairKey(node, int32(b)))
}
