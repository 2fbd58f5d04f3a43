package generate

import (
	"errors"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"
	"weak"

	"flywheel/internal/jsonschema"
	"flywheel/internal/tokenizer"
)

// constraint masks, before each sampling step, every token whose text
// cannot continue a JSON document of the schema, or whose text leaves more
// to write than the tokens left can hold (each token writes at least one
// byte, so a document is always finished in time when the budget allows
// the shortest one at the start).
type constraint struct {
	vocab   *vocabulary
	m       *jsonschema.Matcher   // after the tokens accepted so far
	path    []*jsonschema.Matcher // path[d]: after d bytes of the text being tried
	allowed []bool
	masked  []float32
	first   bool // the next token begins the text: SentencePiece drops its leading space
}

func newConstraint(s *jsonschema.Schema, tok *tokenizer.Tokenizer, prompt []int) (*constraint, error) {
	m, err := s.NewMatcher()
	if err != nil {
		return nil, err
	}
	v := vocabularyOf(tok)
	c := &constraint{
		vocab:   v,
		m:       m,
		path:    make([]*jsonschema.Matcher, v.maxLen+1),
		allowed: make([]bool, len(v.text)),
		first:   tok.BOS() >= 0 && prompt[len(prompt)-1] == tok.BOS(),
	}
	c.path[0] = m
	for d := 1; d < len(c.path); d++ {
		c.path[d] = m.Clone()
	}
	return c, nil
}

// tokensLeft is how many tokens the loop may still sample, this one
// included.
func tokensLeft(seq Sequence, opt Options, generated int) int {
	left := seq.Context() - seq.Pos() + 1
	if opt.MaxTokens > 0 {
		left = min(left, opt.MaxTokens-generated)
	}
	return left
}

// mask returns logits with every token that cannot come next set to -Inf.
// When no token fits the budget (it was too small for the schema from the
// start) it lets the grammar alone decide, and the text will be cut.
func (c *constraint) mask(logits []float32, left int) ([]float32, error) {
	if !c.allow(left) && !c.allow(math.MaxInt) {
		return nil, errors.New("generate: no token of the vocabulary can continue the JSON document")
	}
	c.masked = append(c.masked[:0], logits...)
	ninf := float32(math.Inf(-1))
	masked, allowed := c.masked[:min(len(logits), len(c.allowed))], c.allowed
	for id := range masked {
		if !allowed[id] {
			masked[id] = ninf
		}
	}
	for id := len(masked); id < len(c.masked); id++ { // logits beyond the vocabulary
		c.masked[id] = ninf
	}
	return c.masked, nil
}

// allow fills c.allowed and reports whether any token is allowed.
func (c *constraint) allow(left int) bool {
	v := c.vocab
	switch room, inString := c.m.StringRoom(); {
	case c.first:
		for id, text := range v.first {
			if text == "" { // a lone "▁" writes nothing here, once
				c.allowed[id] = v.text[id] != "" && fits(c.m, left)
			} else {
				c.allowed[id] = c.tryText(text, left)
			}
		}
	case inString && c.m.Remaining() < left:
		// inside a string plain text never adds to what is left to write
		if room >= v.maxPlain {
			copy(c.allowed, v.plainAllowed)
		} else {
			for id, chars := range v.plain {
				c.allowed[id] = chars > 0 && int(chars) <= room
			}
		}
		for _, id := range v.others {
			c.allowed[id] = c.tryText(v.text[id], left)
		}
	default:
		clear(c.allowed)
		c.walkTrie(left)
	}
	if c.m.CanEnd() {
		for _, id := range v.eog {
			c.allowed[id] = true
		}
	}
	return slices.Contains(c.allowed, true)
}

// fits reports whether what m still has to write fits in the tokens left
// after this one.
func fits(m *jsonschema.Matcher, left int) bool { return m.Remaining() <= left-1 }

// tryText reports whether text can come next.
func (c *constraint) tryText(text string, left int) bool {
	prev := c.m
	for d := 0; d < len(text); d++ {
		if !c.path[d+1].FeedFrom(prev, text[d]) {
			return false
		}
		prev = c.path[d+1]
	}
	return fits(prev, left)
}

// walkTrie tries every token text at once: a prefix the grammar rejects
// rules out every token that begins with it.
func (c *constraint) walkTrie(left int) {
	v := c.vocab
	for i := 1; i < len(v.trie); {
		nd := &v.trie[i]
		m := c.path[nd.depth]
		if !m.FeedFrom(c.path[nd.depth-1], nd.b) {
			i = int(nd.skip)
			continue
		}
		if nd.from < nd.to && fits(m, left) {
			for _, id := range v.order[nd.from:nd.to] {
				c.allowed[id] = true
			}
		}
		i++
	}
}

// admit returns id when it is allowed, else the most likely allowed token
// (a guard against a sampler returning a token of zero probability).
func (c *constraint) admit(id int) int {
	if id >= 0 && id < len(c.allowed) && c.allowed[id] {
		return id
	}
	best := -1
	for i, ok := range c.allowed {
		if ok && (best < 0 || c.masked[i] > c.masked[best]) {
			best = i
		}
	}
	return best
}

// accept advances the grammar past token id and reports whether the
// document is complete.
func (c *constraint) accept(id int) (bool, error) {
	text := c.vocab.text[id]
	if c.first {
		text = c.vocab.first[id]
	}
	c.first = false
	if !c.m.Feed(text) {
		return false, errors.New("generate: internal error: an allowed token does not continue the JSON document")
	}
	return c.m.Done(), nil
}

// vocabulary is the text of every token of a tokenizer, as the stream
// decoder writes it, arranged for fast masking.
type vocabulary struct {
	text         []string // the text a token adds mid-stream ("" for control tokens)
	first        []string // the text it adds as the first piece of a text
	eog          []int    // end-of-generation tokens
	plain        []int32  // characters of a token that is plain string content (no '"', '\\' or control bytes, whole UTF-8); 0 if not
	plainAllowed []bool   // plain[id] > 0
	maxPlain     int      // the most characters of a plain token
	others       []int32  // tokens with text that is not plain
	order        []int32  // tokens with text, sorted by text
	trie         []trieNode
	maxLen       int
}

// trieNode is a node of the token texts' trie in preorder: the byte on its
// edge, its depth, where its subtree ends, and the tokens (order[from:to])
// whose text ends at it.
type trieNode struct {
	b        byte
	depth    int32
	skip     int32
	from, to int32
}

var vocabularies sync.Map // weak.Pointer[tokenizer.Tokenizer] → *vocabulary

// vocabularyOf returns tok's vocabulary, built once per tokenizer.
func vocabularyOf(tok *tokenizer.Tokenizer) *vocabulary {
	key := weak.Make(tok)
	if v, ok := vocabularies.Load(key); ok {
		return v.(*vocabulary)
	}
	v, loaded := vocabularies.LoadOrStore(key, newVocabulary(tok))
	if !loaded {
		runtime.AddCleanup(tok, func(k weak.Pointer[tokenizer.Tokenizer]) { vocabularies.Delete(k) }, key)
	}
	return v.(*vocabulary)
}

func newVocabulary(tok *tokenizer.Tokenizer) *vocabulary {
	n := tok.VocabSize()
	v := &vocabulary{text: make([]string, n), first: make([]string, n), plain: make([]int32, n), plainAllowed: make([]bool, n)}
	for id := range n {
		v.text[id] = string(tok.TokenBytes(id))
		v.first[id] = tok.Decode([]int{id})
		v.maxLen = max(v.maxLen, len(v.text[id]), len(v.first[id]))
		if tok.IsEOG(id) {
			v.eog = append(v.eog, id)
		}
		if v.text[id] == "" {
			continue
		}
		v.order = append(v.order, int32(id))
		if isPlain(v.text[id]) {
			v.plain[id] = int32(utf8.RuneCountInString(v.text[id]))
			v.plainAllowed[id] = true
			v.maxPlain = max(v.maxPlain, int(v.plain[id]))
		} else {
			v.others = append(v.others, int32(id))
		}
	}
	slices.SortStableFunc(v.order, func(a, b int32) int { return strings.Compare(v.text[a], v.text[b]) })
	v.trie = buildTrie(v.text, v.order)
	return v
}

// isPlain reports whether s may sit anywhere inside a JSON string as it is.
func isPlain(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// buildTrie lays out the trie of the texts of order (sorted) in preorder.
func buildTrie(text []string, order []int32) []trieNode {
	nodes := []trieNode{{}}
	var path []int32 // nodes from the root's child down to the current one
	prev := ""
	closeTo := func(depth int) {
		for len(path) > depth {
			nodes[path[len(path)-1]].skip = int32(len(nodes))
			path = path[:len(path)-1]
		}
	}
	for i, id := range order {
		t := text[id]
		common := 0
		for common < len(prev) && common < len(t) && prev[common] == t[common] {
			common++
		}
		closeTo(common)
		for d := common; d < len(t); d++ {
			path = append(path, int32(len(nodes)))
			nodes = append(nodes, trieNode{b: t[d], depth: int32(d + 1)})
		}
		end := &nodes[path[len(path)-1]]
		if end.to == 0 {
			end.from = int32(i)
		}
		end.to = int32(i + 1)
		prev = t
	}
	closeTo(0)
	nodes[0].skip = int32(len(nodes))
	return nodes
}
