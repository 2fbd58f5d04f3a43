package llm

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// CacheConfig bounds a response cache. The zero value works.
type CacheConfig struct {
	Size int           // entries kept, least recently used evicted first (default 1024)
	TTL  time.Duration // age after which an entry is stale; 0: never
	Now  func() time.Time
}

func (c CacheConfig) withDefaults() CacheConfig {
	if c.Size <= 0 {
		c.Size = 1024
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// CacheStats count a cache's lookups.
type CacheStats struct {
	Hits, Misses, Skipped, Evictions int
}

// Cache is a Model that answers a request seen before from memory: an
// exact-match cache keyed by the model, the messages and the sampling
// parameters (not Request.Key: an answer is shared between keys). Only
// deterministic requests are cached — greedy (Temperature ≤ 0) or seeded —
// and only answers that completed without error. A hit costs 0 and uses no
// tokens (Usage is zero); its text reaches the stream as one delta.
type Cache struct {
	next Model
	lru  *lru[[32]byte, *Response]
}

// NewCache wraps next with an exact-match cache.
func NewCache(next Model, cfg CacheConfig) *Cache {
	return &Cache{next: next, lru: newLRU[[32]byte, *Response](cfg.withDefaults())}
}

// Len is the number of cached answers.
func (c *Cache) Len() int { return c.lru.len() }

// Stats counts the lookups so far.
func (c *Cache) Stats() CacheStats { return c.lru.stats() }

// Chat answers from the cache or from the wrapped model.
func (c *Cache) Chat(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	if !cacheable(req) {
		c.lru.skip()
		return c.next.Chat(ctx, req, stream)
	}
	key := requestKey(req, req.Conversation())
	if hit, ok := c.lru.get(key); ok {
		resp := hitResponse(hit, "cache: exact hit")
		return resp, emitWhole(stream, resp)
	}
	resp, err := c.next.Chat(ctx, req, stream)
	if err == nil && resp != nil && resp.FinishReason != FinishCancelled {
		c.lru.put(key, snapshot(resp))
	}
	return resp, err
}

// cacheable says whether req's answer is reproducible: greedy or seeded.
func cacheable(req Request) bool { return req.Temperature <= 0 || req.Seed != 0 }

// requestKey hashes what decides an answer: the model, msgs and the
// sampling parameters.
func requestKey(req Request, msgs []Message) [32]byte {
	raw, _ := json.Marshal(struct {
		Model       string
		Raw         bool
		Messages    []Message
		MaxTokens   int
		Temperature float64
		TopP        float64
		Seed        uint64
		Stop        []string
		Logprobs    bool
		TopLogprobs int
		JSONSchema  []byte
	}{req.Model, req.Prompt != "" && len(req.Messages) == 0, msgs, req.MaxTokens, max(req.Temperature, 0), req.TopP, req.Seed, req.Stop, req.Logprobs, req.TopLogprobs, req.JSONSchema})
	return sha256.Sum256(raw)
}

// snapshot copies what a cache keeps of an answer.
func snapshot(r *Response) *Response {
	return &Response{Model: r.Model, Text: r.Text, Logprobs: slices.Clone(r.Logprobs), Usage: r.Usage, FinishReason: r.FinishReason, Cost: r.Cost}
}

// hitResponse is a cached answer as served: free, no tokens, traced with
// what it saved.
func hitResponse(cached *Response, what string) *Response {
	return &Response{
		Model:        cached.Model,
		Text:         cached.Text,
		Logprobs:     slices.Clone(cached.Logprobs),
		FinishReason: cached.FinishReason,
		Trace:        []string{fmt.Sprintf("%s (saved %d tokens, $%.6f)", what, cached.Usage.TotalTokens, cached.Cost)},
	}
}

// SemanticCacheConfig configures a SemanticCache; Embed is required.
type SemanticCacheConfig struct {
	// Embed turns texts into vectors (embed.Embedder's Embed fits).
	Embed func(ctx context.Context, texts []string) ([][]float32, error)
	// Threshold is the least cosine similarity of a hit (default 0.95).
	Threshold float64
	CacheConfig
}

// SemanticCache is a Model that answers from memory a request whose last
// user message means nearly the same as one answered before: same model,
// same sampling parameters, same earlier messages (the system prompt and
// any previous turns), and a last user message whose embedding has cosine
// similarity ≥ Threshold with the cached one. The rules of Cache apply
// (deterministic requests only; hits cost 0). An embedding failure skips
// the cache and is traced, it does not fail the request.
type SemanticCache struct {
	next      Model
	embed     func(ctx context.Context, texts []string) ([][]float32, error)
	threshold float64
	lru       *lru[semanticKey, semanticEntry]
}

type semanticKey struct {
	context [32]byte // model, sampling, earlier messages
	text    string   // the last user message
}

type semanticEntry struct {
	vec  []float32 // unit length
	resp *Response
}

// NewSemanticCache wraps next with a semantic cache.
func NewSemanticCache(next Model, cfg SemanticCacheConfig) (*SemanticCache, error) {
	if cfg.Embed == nil {
		return nil, errors.New("llm: a semantic cache needs an embedder (SemanticCacheConfig.Embed)")
	}
	if cfg.Threshold <= 0 {
		cfg.Threshold = 0.95
	}
	return &SemanticCache{next: next, embed: cfg.Embed, threshold: cfg.Threshold, lru: newLRU[semanticKey, semanticEntry](cfg.CacheConfig.withDefaults())}, nil
}

// Len is the number of cached answers.
func (c *SemanticCache) Len() int { return c.lru.len() }

// Stats counts the lookups so far.
func (c *SemanticCache) Stats() CacheStats { return c.lru.stats() }

// Chat answers from the cache or from the wrapped model.
func (c *SemanticCache) Chat(ctx context.Context, req Request, stream func(string) error) (*Response, error) {
	n := len(req.Messages)
	if !cacheable(req) || n == 0 || req.Messages[n-1].Role != RoleUser {
		c.lru.skip()
		return c.next.Chat(ctx, req, stream)
	}
	key := semanticKey{context: requestKey(req, req.Messages[:n-1]), text: req.Messages[n-1].Content}
	vecs, err := c.embed(ctx, []string{key.text})
	if err != nil || len(vecs) != 1 || len(vecs[0]) == 0 {
		c.lru.skip()
		resp, cerr := c.next.Chat(ctx, req, stream)
		if resp != nil {
			resp.Trace = append(resp.Trace, fmt.Sprintf("semantic cache: skipped, the question could not be embedded (%v)", embedFailure(err, vecs)))
		}
		return resp, cerr
	}
	vec := unit(vecs[0])
	if hit, cos, ok := c.nearest(key, vec); ok {
		resp := hitResponse(hit.resp, fmt.Sprintf("semantic cache: hit, cosine %.3f ≥ %.3f", cos, c.threshold))
		return resp, emitWhole(stream, resp)
	}
	c.lru.miss()
	resp, err := c.next.Chat(ctx, req, stream)
	if err == nil && resp != nil && resp.FinishReason != FinishCancelled {
		c.lru.put(key, semanticEntry{vec: vec, resp: snapshot(resp)})
	}
	return resp, err
}

// nearest finds the most similar cached question in key's context,
// refreshing it in the LRU when it is a hit.
func (c *SemanticCache) nearest(key semanticKey, vec []float32) (semanticEntry, float64, bool) {
	var best semanticKey
	bestCos := math.Inf(-1)
	c.lru.each(func(k semanticKey, e semanticEntry) {
		if k.context != key.context || len(e.vec) != len(vec) {
			return
		}
		if cos := dot(e.vec, vec); cos > bestCos {
			best, bestCos = k, cos
		}
	})
	if bestCos < c.threshold {
		return semanticEntry{}, 0, false
	}
	e, ok := c.lru.get(best)
	return e, bestCos, ok
}

func embedFailure(err error, vecs [][]float32) error {
	if err != nil {
		return err
	}
	return fmt.Errorf("the embedder returned %d vectors for 1 text", len(vecs))
}

// unit returns v scaled to length 1 (a zero vector stays zero).
func unit(v []float32) []float32 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	out := make([]float32, len(v))
	if s == 0 {
		return out
	}
	inv := 1 / math.Sqrt(s)
	for i, x := range v {
		out[i] = float32(float64(x) * inv)
	}
	return out
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

// lru is a bounded map, least recently used evicted first, whose entries
// go stale after a TTL. It is safe for concurrent use.
type lru[K comparable, V any] struct {
	cfg   CacheConfig
	mu    sync.Mutex
	order *list.List // front: most recent; elements hold *lruItem
	items map[K]*list.Element
	st    CacheStats
}

type lruItem[K comparable, V any] struct {
	key    K
	value  V
	stored time.Time
}

func newLRU[K comparable, V any](cfg CacheConfig) *lru[K, V] {
	return &lru[K, V]{cfg: cfg, order: list.New(), items: map[K]*list.Element{}}
}

// get returns the fresh value of key, counting a hit or a miss.
func (c *lru[K, V]) get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if ok && c.stale(el) {
		c.remove(el)
		ok = false
	}
	if !ok {
		c.st.Misses++
		var zero V
		return zero, false
	}
	c.st.Hits++
	c.order.MoveToFront(el)
	return el.Value.(*lruItem[K, V]).value, true
}

// put stores value under key, evicting the least recently used entry
// when full.
func (c *lru[K, V]) put(key K, value V) {
	c.mu.Lock()
	defer c.mu.Unlock()
	item := &lruItem[K, V]{key: key, value: value, stored: c.cfg.Now()}
	if el, ok := c.items[key]; ok {
		el.Value = item
		c.order.MoveToFront(el)
		return
	}
	c.items[key] = c.order.PushFront(item)
	for c.order.Len() > c.cfg.Size {
		c.remove(c.order.Back())
		c.st.Evictions++
	}
}

// each calls f for every fresh entry, dropping stale ones.
func (c *lru[K, V]) each(f func(K, V)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for el := c.order.Front(); el != nil; {
		next := el.Next()
		if c.stale(el) {
			c.remove(el)
		} else {
			item := el.Value.(*lruItem[K, V])
			f(item.key, item.value)
		}
		el = next
	}
}

func (c *lru[K, V]) stale(el *list.Element) bool {
	return c.cfg.TTL > 0 && c.cfg.Now().Sub(el.Value.(*lruItem[K, V]).stored) > c.cfg.TTL
}

func (c *lru[K, V]) remove(el *list.Element) {
	delete(c.items, el.Value.(*lruItem[K, V]).key)
	c.order.Remove(el)
}

func (c *lru[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.order.Len()
}

func (c *lru[K, V]) skip() { c.count(func(s *CacheStats) { s.Skipped++ }) }
func (c *lru[K, V]) miss() { c.count(func(s *CacheStats) { s.Misses++ }) }

func (c *lru[K, V]) count(f func(*CacheStats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.st)
}

func (c *lru[K, V]) stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.st
}
