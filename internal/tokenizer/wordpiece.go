package tokenizer

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// wordPiece is BERT's tokenizer: a basic tokenizer cuts the text into words
// (whitespace separates words; punctuation and CJK ideographs are words of
// their own; control characters are dropped; text is lowercased and accents
// stripped when the vocabulary is uncased), then each word is split greedily
// into the longest pieces of the vocabulary from left to right, the first
// written as a word start and the rest as continuations. A word with a part
// no piece matches, or longer than maxChars characters, is the unknown token.
//
// GGUF vocabularies write a word start with a "▁" prefix and a continuation
// bare (llama.cpp's phantom space); tokenizer.json ones write a word start
// bare and a continuation with "##".
type wordPiece struct {
	v                       *vocab
	unk                     int
	lowercase, stripAccents bool
	startPrefix, contPrefix string
	maxChars                int // words of more characters are unknown (BERT: 100)
	maxPieceLen             int // bytes of the longest piece, bounding the search
	states                  pool[wordPieceState]
}

// wordPieceOptions configure newWordPiece.
type wordPieceOptions struct {
	lowercase, stripAccents bool
	startPrefix, contPrefix string
	maxChars                int
}

func newWordPiece(opt wordPieceOptions) func(t *Tokenizer) (model, error) {
	return func(t *Tokenizer) (model, error) {
		m := &wordPiece{
			v: &t.vocab, unk: t.unk, lowercase: opt.lowercase, stripAccents: opt.stripAccents,
			startPrefix: opt.startPrefix, contPrefix: opt.contPrefix, maxChars: opt.maxChars,
		}
		if m.maxChars <= 0 {
			m.maxChars = 100
		}
		for _, p := range t.pieces {
			m.maxPieceLen = max(m.maxPieceLen, len(p))
		}
		return m, nil
	}
}

func (m *wordPiece) kind() string { return "bert (WordPiece)" }

// render is a word start with a leading space, a continuation bare.
func (m *wordPiece) render(id int) []byte {
	p := m.v.pieces[id]
	switch m.v.types[id] {
	case TypeNormal:
		if m.contPrefix != "" {
			if rest, ok := strings.CutPrefix(p, m.contPrefix); ok {
				return []byte(rest)
			}
		}
		if m.startPrefix != "" {
			if rest, ok := strings.CutPrefix(p, m.startPrefix); ok {
				return []byte(" " + rest)
			}
			return []byte(p)
		}
		return []byte(" " + p)
	case TypeUserDefined:
		return []byte(p)
	}
	return nil
}

func (m *wordPiece) encode(text string, _ bool, out []int) []int {
	st := m.states.get()
	defer m.states.put(st)
	word := st.word[:0]
	flush := func() {
		if len(word) > 0 {
			out = m.encodeWord(st, word, out)
			word = word[:0]
		}
	}
	var chars [4]rune
	for _, r := range text {
		switch {
		case r >= 0x4E00 && r <= 0x9FFF:
			// The common CJK ideographs (most of Chinese text) have no
			// case, accent or decomposition: each is a word as it is.
			flush()
			word = utf8.AppendRune(word, r)
			flush()
			continue
		case r == 0 || r == utf8.RuneError || isBertControl(r):
			continue
		case isBertSpace(r):
			flush()
			continue
		}
		for _, c := range m.normalize(chars[:0], r) {
			if isBertPunct(c) || isCJKIdeograph(c) {
				flush()
				word = utf8.AppendRune(word, c)
				flush()
				continue
			}
			word = utf8.AppendRune(word, c)
		}
	}
	flush()
	st.word = word
	return out
}

// wordPieceState is the scratch space of one encode call; its word cache
// outlives the call in the model's pool.
type wordPieceState struct {
	word, key []byte
	cache     wordCache
}

// normalize appends the characters r becomes, lowercased and stripped of
// accents as the vocabulary asks: none (a lone mark), one or more.
func (m *wordPiece) normalize(dst []rune, r rune) []rune {
	if r < utf8.RuneSelf { // no accents or marks in ASCII
		if m.lowercase && 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		return append(dst, r)
	}
	start := len(dst)
	switch {
	case !m.stripAccents:
		dst = append(dst, r)
	case unicode.Is(unicode.Mn, r):
		return dst
	case r >= hangulBase && r < hangulBase+hangulCount:
		dst = appendHangul(dst, r)
	default:
		if s, ok := foldAccent(r); ok {
			for _, c := range s {
				dst = append(dst, c)
			}
		} else {
			dst = append(dst, r)
		}
	}
	if m.lowercase {
		for i := start; i < len(dst); i++ {
			dst[i] = unicode.ToLower(dst[i])
		}
	}
	return dst
}

// encodeWord appends the pieces of one word.
func (m *wordPiece) encodeWord(st *wordPieceState, word []byte, out []int) []int {
	if ids, ok := st.cache.get(string(word)); ok {
		return append(out, ids...)
	}
	start := len(out)
	out = m.matchPieces(st, word, out)
	st.cache.put(string(word), out[start:])
	return out
}

// matchPieces appends the longest pieces of word from left to right, or
// the unknown token when a part matches none.
func (m *wordPiece) matchPieces(st *wordPieceState, word []byte, out []int) []int {
	if utf8.RuneCount(word) > m.maxChars {
		return m.appendUnknown(out)
	}
	start := len(out)
	key := st.key
	for i := 0; i < len(word); {
		prefix := m.contPrefix
		if i == 0 {
			prefix = m.startPrefix
		}
		found := false
		for j := min(len(word), i+m.maxPieceLen); j > i; j-- {
			if j < len(word) && !utf8.RuneStart(word[j]) {
				continue
			}
			key = append(append(key[:0], prefix...), word[i:j]...)
			if id, ok := m.v.ids[string(key)]; ok {
				out = append(out, id)
				i, found = j, true
				break
			}
		}
		if !found {
			out = m.appendUnknown(out[:start])
			break
		}
	}
	st.key = key
	return out
}

func (m *wordPiece) appendUnknown(out []int) []int {
	if m.unk >= 0 {
		out = append(out, m.unk)
	}
	return out
}

// isBertControl is a control character that BERT's text cleaning drops:
// category C except tab, newline and carriage return (whitespace there).
func isBertControl(r rune) bool {
	if r < utf8.RuneSelf {
		return r < ' ' && r != '\t' && r != '\n' && r != '\r' || r == 0x7F
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

// isBertSpace is whitespace, which separates words.
func isBertSpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || '\t' <= r && r <= '\r'
	}
	return unicode.IsSpace(r)
}

// isBertPunct is punctuation as BERT splits it: every ASCII non-alphanumeric
// printable character and Unicode category P.
func isBertPunct(r rune) bool {
	if r >= 33 && r <= 47 || r >= 58 && r <= 64 || r >= 91 && r <= 96 || r >= 123 && r <= 126 {
		return true
	}
	return unicode.IsPunct(r)
}

// isCJKIdeograph is BERT's "Chinese character" (CJK Unified Ideographs and
// their extensions and compatibility blocks), each a word of its own.
func isCJKIdeograph(r rune) bool {
	return r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF ||
		r >= 0x20000 && r <= 0x2A6DF || r >= 0x2A700 && r <= 0x2B73F ||
		r >= 0x2B740 && r <= 0x2B81F || r >= 0x2B920 && r <= 0x2CEAF ||
		r >= 0xF900 && r <= 0xFAFF || r >= 0x2F800 && r <= 0x2FA1F
}

// accentFold is one entry of accentFolds.
type accentFold struct {
	r rune
	s string
}

func foldAccent(r rune) (string, bool) {
	i, ok := slices.BinarySearchFunc(accentFolds, r, func(f accentFold, r rune) int { return int(f.r - r) })
	if !ok {
		return "", false
	}
	return accentFolds[i].s, true
}

// Hangul syllables decompose arithmetically into leading consonant, vowel
// and optional trailing consonant jamo (Unicode §3.12).
const (
	hangulBase             = 0xAC00
	hangulCount            = 11172
	jamoL, jamoV, jamoT    = 0x1100, 0x1161, 0x11A7
	jamoVCount, jamoTCount = 21, 28
)

// appendHangul appends the jamo of a Hangul syllable.
func appendHangul(dst []rune, r rune) []rune {
	s := r - hangulBase
	l := jamoL + s/(jamoVCount*jamoTCount)
	v := jamoV + s%(jamoVCount*jamoTCount)/jamoTCount
	t := jamoT + s%jamoTCount
	if t == jamoT {
		return append(dst, l, v)
	}
	return append(dst, l, v, t)
}
