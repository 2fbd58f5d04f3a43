package tokenizer

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// TokenType is the kind of a vocabulary entry, numbered as GGUF's
// tokenizer.ggml.token_type numbers them.
type TokenType int32

// Token types.
const (
	TypeUndefined   TokenType = 0
	TypeNormal      TokenType = 1 // ordinary text piece
	TypeUnknown     TokenType = 2 // the <unk> token
	TypeControl     TokenType = 3 // BOS, EOS and other tokens that render as nothing
	TypeUserDefined TokenType = 4 // added text that is always matched literally
	TypeUnused      TokenType = 5
	TypeByte        TokenType = 6 // byte-fallback token "<0xNN>"
)

func (tt TokenType) String() string {
	switch tt {
	case TypeUndefined:
		return "undefined"
	case TypeNormal:
		return "normal"
	case TypeUnknown:
		return "unknown"
	case TypeControl:
		return "control"
	case TypeUserDefined:
		return "user-defined"
	case TypeUnused:
		return "unused"
	case TypeByte:
		return "byte"
	}
	return fmt.Sprintf("TokenType(%d)", int32(tt))
}

// model is one tokenization algorithm (SentencePiece BPE now; byte-level BPE
// and WordPiece later) working over the Tokenizer's vocabulary.
type model interface {
	// kind names the algorithm for humans, e.g. "llama (SentencePiece BPE)".
	kind() string
	// encode appends the ids of text, which holds no special tokens, to out.
	// Every text fragment starts the input or follows a special token;
	// first is true for the one that starts the input.
	encode(text string, first bool, out []int) []int
	// render returns the bytes token id stands for in decoded text.
	render(id int) []byte
}

// vocab is the vocabulary every algorithm shares.
type vocab struct {
	pieces []string       // id → raw vocabulary string ("▁the", "<0x0A>", "<s>")
	scores []float32      // id → score (SentencePiece log-probability; higher merges first)
	types  []TokenType    // id → kind
	ids    map[string]int // piece → id; for duplicate pieces the last id wins (as in llama.cpp)
}

// Tokenizer turns text into token ids and back for one vocabulary.
// It is immutable after construction and safe for concurrent use.
type Tokenizer struct {
	vocab
	model model

	bos, eos, unk, pad int   // -1 when the vocabulary has none
	eog                []int // ids that end generation (EOS, EOT, EOM, …)
	addBOS, addEOS     bool  // Encode(addSpecial=true) adds them
	// stripSpace: decoding drops one leading space of the first piece (at
	// the start or right after BOS), undoing SentencePiece's space prefix.
	stripSpace bool

	chatTemplate string // the vocabulary's own Jinja chat template, "" when none

	specials    []int // control, unknown and user-defined ids, longest piece first
	userDefined []int // the user-defined subset of specials, same order
	// specialStarts holds the first byte of every special piece, and
	// specialsByPrefix the specials by their first two bytes (one-byte
	// pieces under their byte alone): an index to find which specials
	// occur in a text in one pass.
	specialStarts    [256]bool
	specialsByPrefix map[uint16][]int
	rendered         [][]byte // id → bytes the token decodes to
}

// spec is what a loader hands to build: the vocabulary and its settings, in
// one representation whatever file it came from.
type spec struct {
	pieces []string
	scores []float32   // nil: all zero
	types  []TokenType // nil: all normal

	bos, eos, unk, pad, eot, eom int // -1: none
	addBOS, addEOS               bool
	addSpacePrefix               bool // decoding drops the first piece's leading space
	chatTemplate                 string
}

// eogNames are control-token texts that end generation in the families we
// know (as llama.cpp detects them by text).
var eogNames = []string{
	"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>",
	"<|endoftext|>", "<|eom_id|>", "<EOT>",
}

// build makes a Tokenizer from s and an algorithm constructor.
func build(s spec, newModel func(t *Tokenizer) (model, error)) (*Tokenizer, error) {
	n := len(s.pieces)
	if n == 0 {
		return nil, fmt.Errorf("tokenizer: vocabulary is empty")
	}
	t := &Tokenizer{
		vocab: vocab{
			pieces: s.pieces,
			scores: s.scores,
			types:  s.types,
			ids:    make(map[string]int, n),
		},
		addBOS:       s.addBOS,
		addEOS:       s.addEOS,
		chatTemplate: s.chatTemplate,
	}
	if t.scores == nil {
		t.scores = make([]float32, n)
	}
	if t.types == nil {
		t.types = make([]TokenType, n)
		for i := range t.types {
			t.types[i] = TypeNormal
		}
	}
	if len(t.scores) != n || len(t.types) != n {
		return nil, fmt.Errorf("tokenizer: %d pieces but %d scores and %d token types", n, len(t.scores), len(t.types))
	}
	for id, p := range t.pieces {
		if p != "" {
			t.ids[p] = id
		}
	}
	inRange := func(id int) int {
		if id < 0 || id >= n {
			return -1
		}
		return id
	}
	t.bos, t.eos, t.unk, t.pad = inRange(s.bos), inRange(s.eos), inRange(s.unk), inRange(s.pad)

	// End-of-generation tokens: EOS, EOT, EOM and the control-looking texts
	// of other families. Those are control tokens whatever the file says.
	addEOG := func(id int) {
		if id >= 0 && !slices.Contains(t.eog, id) {
			t.eog = append(t.eog, id)
		}
	}
	for _, name := range eogNames {
		if id, ok := t.ids[name]; ok {
			t.types[id] = TypeControl
			addEOG(id)
		}
	}
	addEOG(t.eos)
	addEOG(inRange(s.eot))
	addEOG(inRange(s.eom))
	slices.Sort(t.eog)

	for id, tt := range t.types {
		if t.pieces[id] == "" {
			continue
		}
		switch tt {
		case TypeControl, TypeUnknown, TypeUserDefined:
			t.specials = append(t.specials, id)
		}
	}
	slices.SortStableFunc(t.specials, func(a, b int) int {
		return cmp.Compare(len(t.pieces[b]), len(t.pieces[a]))
	})
	t.specialsByPrefix = map[uint16][]int{}
	for _, id := range t.specials {
		if t.types[id] == TypeUserDefined {
			t.userDefined = append(t.userDefined, id)
		}
		p := t.pieces[id]
		t.specialStarts[p[0]] = true
		t.specialsByPrefix[prefixKey(p)] = append(t.specialsByPrefix[prefixKey(p)], id)
	}

	m, err := newModel(t)
	if err != nil {
		return nil, err
	}
	t.model = m
	t.stripSpace = s.addSpacePrefix
	t.rendered = make([][]byte, n)
	for id := range t.rendered {
		t.rendered[id] = t.model.render(id)
	}
	return t, nil
}

// Kind names the tokenization algorithm, e.g. "llama (SentencePiece BPE)".
func (t *Tokenizer) Kind() string { return t.model.kind() }

// VocabSize is the number of tokens in the vocabulary.
func (t *Tokenizer) VocabSize() int { return len(t.pieces) }

// BOS is the beginning-of-sequence id, or -1 when there is none.
func (t *Tokenizer) BOS() int { return t.bos }

// EOS is the end-of-sequence id, or -1 when there is none.
func (t *Tokenizer) EOS() int { return t.eos }

// UNK is the unknown-token id, or -1 when there is none.
func (t *Tokenizer) UNK() int { return t.unk }

// PAD is the padding id, or -1 when there is none.
func (t *Tokenizer) PAD() int { return t.pad }

// Piece returns the raw vocabulary string of id ("▁the", "<0x0A>", "<s>"),
// or "" when id is out of range.
func (t *Tokenizer) Piece(id int) string {
	if id < 0 || id >= len(t.pieces) {
		return ""
	}
	return t.pieces[id]
}

// Score returns the vocabulary score of id (0 when out of range).
func (t *Tokenizer) Score(id int) float32 {
	if id < 0 || id >= len(t.scores) {
		return 0
	}
	return t.scores[id]
}

// Type returns the kind of token id (TypeUndefined when out of range).
func (t *Tokenizer) Type(id int) TokenType {
	if id < 0 || id >= len(t.types) {
		return TypeUndefined
	}
	return t.types[id]
}

// ID returns the id of a raw vocabulary string, and whether it exists.
func (t *Tokenizer) ID(piece string) (int, bool) {
	id, ok := t.ids[piece]
	return id, ok
}

// IsControl reports whether id is a control token (BOS, EOS, …).
func (t *Tokenizer) IsControl(id int) bool { return t.Type(id) == TypeControl }

// IsEOG reports whether id ends generation: EOS, and for the families that
// have them EOT ("<|eot_id|>", "<|im_end|>", …) and EOM.
func (t *Tokenizer) IsEOG(id int) bool {
	_, found := slices.BinarySearch(t.eog, id)
	return found
}

// TokenBytes returns the bytes token id renders to in decoded text: "▁"
// becomes a space, a byte token "<0xNN>" its byte, a user-defined token its
// text; control, unknown and unused tokens and ids out of range render as
// nothing. The result is a fresh copy.
func (t *Tokenizer) TokenBytes(id int) []byte {
	if id < 0 || id >= len(t.rendered) {
		return nil
	}
	return slices.Clone(t.rendered[id])
}

// Encode returns the token ids of text.
//
// addSpecial adds BOS in front and/or EOS at the end as the vocabulary says
// (for LLaMA: BOS yes, EOS no). parseSpecial turns the text of control and
// unknown tokens in the input (such as "<s>") into those tokens; otherwise
// it is tokenized as plain text. User-defined tokens are always matched.
// Empty text gives no ids (only BOS/EOS when addSpecial).
func (t *Tokenizer) Encode(text string, addSpecial, parseSpecial bool) []int {
	out := make([]int, 0, len(text)/3+2)
	if addSpecial && t.addBOS && t.bos >= 0 {
		out = append(out, t.bos)
	}
	for i, f := range t.split(text, parseSpecial) {
		if f.id >= 0 {
			out = append(out, f.id)
			continue
		}
		out = t.model.encode(f.text, i == 0, out)
	}
	if addSpecial && t.addEOS && t.eos >= 0 {
		out = append(out, t.eos)
	}
	return out
}

// fragment is a run of plain text (id < 0) or one special token.
type fragment struct {
	text string
	id   int
}

// split cuts text at every occurrence of a special token's text, longest
// tokens first and each token's occurrences left to right, as llama.cpp's
// tokenizer_st_partition does. Without parseSpecial only user-defined tokens
// are cut out.
func (t *Tokenizer) split(text string, parseSpecial bool) []fragment {
	if text == "" {
		return nil
	}
	frags := []fragment{{text: text, id: -1}}
	for _, id := range t.specialsIn(text, parseSpecial) {
		piece := t.pieces[id]
		var next []fragment
		for _, f := range frags {
			if f.id >= 0 {
				next = append(next, f)
				continue
			}
			rest := f.text
			for {
				i := strings.Index(rest, piece)
				if i < 0 {
					break
				}
				if i > 0 {
					next = append(next, fragment{text: rest[:i], id: -1})
				}
				next = append(next, fragment{id: id})
				rest = rest[i+len(piece):]
			}
			if rest != "" {
				next = append(next, fragment{text: rest, id: -1})
			}
		}
		frags = next
	}
	return frags
}

// prefixKey is the index key of a piece: its first two bytes, or its one
// byte (with 0xFF00 set apart from every two-byte key that starts with 0).
func prefixKey(p string) uint16 {
	if len(p) == 1 {
		return 0xFF00 | uint16(p[0])
	}
	return uint16(p[0])<<8 | uint16(p[1])
}

// specialsIn returns the specials (all, or only the user-defined ones)
// whose text occurs in text, in split order.
func (t *Tokenizer) specialsIn(text string, parseSpecial bool) []int {
	var found map[int]bool
	for i := 0; i < len(text); i++ {
		if !t.specialStarts[text[i]] {
			continue
		}
		keys := []uint16{0xFF00 | uint16(text[i])}
		if i+1 < len(text) {
			keys = append(keys, uint16(text[i])<<8|uint16(text[i+1]))
		}
		for _, k := range keys {
			for _, id := range t.specialsByPrefix[k] {
				if (parseSpecial || t.types[id] == TypeUserDefined) && strings.HasPrefix(text[i:], t.pieces[id]) {
					if found == nil {
						found = map[int]bool{}
					}
					found[id] = true
				}
			}
		}
	}
	if found == nil {
		return nil
	}
	out := make([]int, 0, len(found))
	for _, id := range t.specials {
		if found[id] {
			out = append(out, id)
		}
	}
	return out
}

// Decode returns the text of ids: the concatenation of their TokenBytes, with
// the one leading space of the first piece (at the start or right after BOS)
// removed when the vocabulary adds a space prefix. Bytes are returned as they
// are, so the result may be invalid UTF-8 when ids split a character.
func (t *Tokenizer) Decode(ids []int) string {
	var b []byte
	for i, id := range ids {
		p := t.renderAt(id, i == 0 || ids[i-1] == t.bos && t.bos >= 0)
		b = append(b, p...)
	}
	return string(b)
}

// renderAt returns the rendered bytes of id, without the leading space when
// first says it is the first piece of a text.
func (t *Tokenizer) renderAt(id int, first bool) []byte {
	if id < 0 || id >= len(t.rendered) {
		return nil
	}
	p := t.rendered[id]
	if first && t.stripSpace && len(p) > 0 && p[0] == ' ' {
		p = p[1:]
	}
	return p
}
