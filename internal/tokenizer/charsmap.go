package tokenizer

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode/utf8"
)

// charsmap is SentencePiece's precompiled normalization rules
// (precompiled_charsmap: NFKC and friends compiled into a trie): a
// little-endian uint32 byte count, an XOR-compressed double array (XCDA)
// of that many bytes mapping input prefixes to offsets, then the
// NUL-terminated replacement strings those offsets point into.
type charsmap struct {
	nodes []uint32
	repl  []byte
}

// parseCharsmap reads a precompiled charsmap blob.
func parseCharsmap(blob []byte) (*charsmap, error) {
	if len(blob) < 4 {
		return nil, fmt.Errorf("precompiled charsmap has %d bytes, too short for its header", len(blob))
	}
	n := binary.LittleEndian.Uint32(blob)
	if uint64(n)+4 > uint64(len(blob)) || n%4 != 0 {
		return nil, fmt.Errorf("precompiled charsmap declares a %d-byte trie but holds %d bytes", n, len(blob)-4)
	}
	c := &charsmap{nodes: make([]uint32, n/4), repl: blob[4+n:]}
	for i := range c.nodes {
		c.nodes[i] = binary.LittleEndian.Uint32(blob[4+4*i:])
	}
	return c, nil
}

func (c *charsmap) node(i uint32) (uint32, bool) {
	if int(i) >= len(c.nodes) {
		return 0, false
	}
	return c.nodes[i], true
}

func xcdaBase(v uint32) uint32 { return (v >> 10) << ((v & (1 << 9)) >> 6) }

// match returns the replacement of the longest rule that prefixes s and how
// many bytes of s it consumes (0 when no rule matches).
func (c *charsmap) match(s string) (string, int) {
	root, ok := c.node(0)
	if !ok {
		return "", 0
	}
	idx := xcdaBase(root)
	matched, off := 0, uint32(0)
	for p := 0; p < len(s) && s[p] != 0; p++ {
		ch := uint32(s[p])
		idx ^= ch
		v, ok := c.node(idx)
		if !ok || v&(1<<31|0xFF) != ch {
			break
		}
		leaf := v>>8&1 == 1
		idx ^= xcdaBase(v)
		if leaf {
			w, ok := c.node(idx)
			if !ok {
				break
			}
			matched, off = p+1, w&(1<<31-1)
		}
	}
	if matched == 0 || int(off) >= len(c.repl) {
		return "", 0
	}
	r := c.repl[off:]
	if end := bytes.IndexByte(r, 0); end >= 0 {
		r = r[:end]
	}
	return string(r), matched
}

// normalize applies the rules from left to right; an invalid byte becomes
// U+FFFD, as in SentencePiece.
func (c *charsmap) normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if r, n := c.match(s[i:]); n > 0 {
			b.WriteString(r)
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			b.WriteString("\uFFFD")
			i++
			continue
		}
		b.WriteString(s[i : i+n])
		i += n
	}
	return b.String()
}
