package tokenizer

import (
	"strings"
	"sync"
)

// wordCache remembers the ids of words an encoder has already tokenized:
// most words of a text recur, and a lookup is cheaper than merging again.
// The encoders that use one cut text into words whose ids depend on the
// word alone. A cache lives in one model's pooled scratch state, so it is
// never shared between goroutines; it starts over when it grows past its
// bound.
type wordCache struct {
	spans map[string]idSpan // word → its ids in ids
	ids   []int
}

// idSpan is ids[start:end] of a wordCache.
type idSpan struct{ start, end int32 }

const (
	maxCachedWordLen = 64      // bytes; longer words rarely recur
	maxCachedIDs     = 1 << 18 // ids held before the cache starts over
)

// get returns the cached ids of word.
func (c *wordCache) get(word string) ([]int, bool) {
	sp, ok := c.spans[word]
	if !ok {
		return nil, false
	}
	return c.ids[sp.start:sp.end], true
}

// put remembers the ids of word (a copy of both is kept).
func (c *wordCache) put(word string, ids []int) {
	if len(word) > maxCachedWordLen {
		return
	}
	if c.spans == nil || len(c.ids)+len(ids) > maxCachedIDs {
		c.spans = make(map[string]idSpan, 1024)
		c.ids = c.ids[:0]
	}
	start := len(c.ids)
	c.ids = append(c.ids, ids...)
	c.spans[strings.Clone(word)] = idSpan{int32(start), int32(len(c.ids))}
}

// pool is a typed sync.Pool of scratch values.
type pool[T any] struct{ p sync.Pool }

func (p *pool[T]) get() *T {
	if v := p.p.Get(); v != nil {
		return v.(*T)
	}
	return new(T)
}

func (p *pool[T]) put(v *T) { p.p.Put(v) }
