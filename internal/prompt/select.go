package prompt

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strings"
	"sync"
	"unicode"

	"flywheel/internal/retrieve"
)

// Selector picks up to k few-shot examples for a query (k ≤ 0: no limit
// but the selector's own). Ties are broken by the order of the pool, so a
// selection is deterministic.
type Selector interface {
	Select(ctx context.Context, query string, k int) ([]Example, error)
}

var errNoSource = errors.New("no Examples source: set it, e.g. to prompt.Fixed(examples)")

// pool calls src, naming the selector in errors.
func pool(ctx context.Context, who string, src ExampleSource) ([]Example, error) {
	if src == nil {
		return nil, fmt.Errorf("prompt: %s: %w", who, errNoSource)
	}
	exs, err := src(ctx)
	if err != nil {
		return nil, fmt.Errorf("prompt: %s: examples: %w", who, err)
	}
	return exs, nil
}

// Similarity picks the examples whose inputs are most similar to the query
// (cosine of embeddings), most similar first. Each input is embedded once
// and cached; the query and new inputs go to Embed in one call.
type Similarity struct {
	Examples ExampleSource
	Embed    retrieve.Embedder
	cache    vectorCache
}

// Select implements Selector.
func (s *Similarity) Select(ctx context.Context, query string, k int) ([]Example, error) {
	exs, err := pool(ctx, "similarity selector", s.Examples)
	if err != nil {
		return nil, err
	}
	q, vecs, err := s.cache.embed(ctx, "similarity selector", s.Embed, query, exs)
	if err != nil {
		return nil, err
	}
	scores := make([]float64, len(exs))
	for i, v := range vecs {
		scores[i] = cosine(q, v)
	}
	return pick(exs, rank(scores, nil), k), nil
}

// MMR picks examples by maximal marginal relevance: each next example
// maximises Lambda·sim(query, e) − (1−Lambda)·max sim(e, picked), with
// cosine similarity of embeddings — relevant examples that differ from
// one another. Lambda is in (0, 1]; 0 (the zero value) means 0.5.
type MMR struct {
	Examples ExampleSource
	Embed    retrieve.Embedder
	Lambda   float64
	cache    vectorCache
}

// Select implements Selector.
func (m *MMR) Select(ctx context.Context, query string, k int) ([]Example, error) {
	exs, err := pool(ctx, "mmr selector", m.Examples)
	if err != nil {
		return nil, err
	}
	q, vecs, err := m.cache.embed(ctx, "mmr selector", m.Embed, query, exs)
	if err != nil {
		return nil, err
	}
	lambda := m.Lambda
	if lambda <= 0 {
		lambda = 0.5
	}
	if k <= 0 || k > len(exs) {
		k = len(exs)
	}
	relevance := make([]float64, len(exs))
	for i, v := range vecs {
		relevance[i] = cosine(q, v)
	}
	redundancy := make([]float64, len(exs)) // max similarity to a picked example
	for i := range redundancy {
		redundancy[i] = math.Inf(-1)
	}
	picked := make([]bool, len(exs))
	var out []Example
	for len(out) < k {
		best, bestScore := -1, math.Inf(-1)
		for i := range exs {
			if picked[i] {
				continue
			}
			score := lambda * relevance[i]
			if len(out) > 0 {
				score -= (1 - lambda) * redundancy[i]
			}
			if score > bestScore {
				best, bestScore = i, score
			}
		}
		picked[best] = true
		out = append(out, exs[best])
		for i := range exs {
			redundancy[i] = max(redundancy[i], cosine(vecs[i], vecs[best]))
		}
	}
	return out, nil
}

// LengthBased takes examples in the pool's order while they fit in Budget
// tokens together with the query, as measured by Count (nil:
// ApproxTokens); an example that does not fit is skipped and a later,
// shorter one may still be taken. An example costs count(Input) +
// count(Output). Budget ≤ 0 means no budget.
type LengthBased struct {
	Examples ExampleSource
	Budget   int
	Count    func(string) int
}

// Select implements Selector.
func (l *LengthBased) Select(ctx context.Context, query string, k int) ([]Example, error) {
	exs, err := pool(ctx, "length-based selector", l.Examples)
	if err != nil {
		return nil, err
	}
	count := l.Count
	if count == nil {
		count = ApproxTokens
	}
	left := math.MaxInt
	if l.Budget > 0 {
		left = l.Budget - count(query)
	}
	var out []Example
	for _, e := range exs {
		if k > 0 && len(out) == k {
			break
		}
		if cost := count(e.Input) + count(e.Output); cost <= left {
			out = append(out, e)
			left -= cost
		}
	}
	return out, nil
}

// NGramOverlap picks the examples whose inputs share the most n-grams with
// the query, best first: the Jaccard index of their sets of 1- to N-grams
// of words (lower-cased), where each CJK character is a word — so it works
// for Chinese without a segmenter. Examples scoring ≤ Threshold are left
// out: the zero value leaves out those sharing nothing; a negative
// Threshold keeps all. N defaults to 2.
type NGramOverlap struct {
	Examples  ExampleSource
	N         int
	Threshold float64
}

// Select implements Selector.
func (g *NGramOverlap) Select(ctx context.Context, query string, k int) ([]Example, error) {
	exs, err := pool(ctx, "n-gram selector", g.Examples)
	if err != nil {
		return nil, err
	}
	n := g.N
	if n <= 0 {
		n = 2
	}
	q := ngrams(words(query), n)
	scores := make([]float64, len(exs))
	for i, e := range exs {
		scores[i] = jaccard(q, ngrams(words(e.Input), n))
	}
	return pick(exs, rank(scores, func(s float64) bool { return s > g.Threshold }), k), nil
}

// rank orders indexes by score, best first, ties by index; keep (nil: all)
// filters them.
func rank(scores []float64, keep func(float64) bool) []int {
	var order []int
	for i, s := range scores {
		if keep == nil || keep(s) {
			order = append(order, i)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(scores[b], scores[a]) })
	return order
}

// pick returns exs at the first k (≤ 0: all) indexes of order.
func pick(exs []Example, order []int, k int) []Example {
	if k > 0 && len(order) > k {
		order = order[:k]
	}
	out := make([]Example, len(order))
	for i, j := range order {
		out[i] = exs[j]
	}
	return out
}

// vectorCache keeps the embedding of each example input.
type vectorCache struct {
	mu      sync.Mutex
	byInput map[string][]float32
}

// embed returns the query's vector and one per example, sending the query
// and the inputs not yet cached to embed in one call.
func (c *vectorCache) embed(ctx context.Context, who string, embed retrieve.Embedder, query string, exs []Example) ([]float32, [][]float32, error) {
	if embed == nil {
		return nil, nil, fmt.Errorf("prompt: %s: no Embed function", who)
	}
	texts := []string{query}
	c.mu.Lock()
	if c.byInput == nil {
		c.byInput = map[string][]float32{}
	}
	queued := map[string]bool{}
	for _, e := range exs {
		if _, ok := c.byInput[e.Input]; !ok && !queued[e.Input] {
			queued[e.Input] = true
			texts = append(texts, e.Input)
		}
	}
	c.mu.Unlock()
	vecs, err := embed(ctx, texts)
	if err != nil {
		return nil, nil, fmt.Errorf("prompt: %s: embed: %w", who, err)
	}
	if len(vecs) != len(texts) {
		return nil, nil, fmt.Errorf("prompt: %s: embed returned %d vectors for %d texts", who, len(vecs), len(texts))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, t := range texts[1:] {
		c.byInput[t] = vecs[i+1]
	}
	out := make([][]float32, len(exs))
	for i, e := range exs {
		out[i] = c.byInput[e.Input]
		if len(out[i]) != len(vecs[0]) {
			return nil, nil, fmt.Errorf("prompt: %s: embed returned vectors of %d and %d dimensions", who, len(vecs[0]), len(out[i]))
		}
	}
	return vecs[0], out, nil
}

// cosine is the cosine similarity of a and b (0 when either is zero).
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range a {
		x, y := float64(a[i]), float64(b[i])
		dot += x * y
		na += x * x
		nb += y * y
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// words splits s into lower-case words of letters and digits, each CJK
// character a word of its own.
func words(s string) []string {
	var out []string
	var w strings.Builder
	flush := func() {
		if w.Len() > 0 {
			out = append(out, w.String())
			w.Reset()
		}
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case isCJK(r):
			flush()
			out = append(out, string(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			w.WriteRune(r)
		default:
			flush()
		}
	}
	flush()
	return out
}

// ngrams is the set of 1- to n-grams of words, each n-gram hashed
// (FNV-1a, 64 bits), sorted.
func ngrams(words []string, n int) []uint64 {
	var set []uint64
	for size := 1; size <= n; size++ {
		for i := 0; i+size <= len(words); i++ {
			h := fnv.New64a()
			for _, w := range words[i : i+size] {
				h.Write([]byte(w))
				h.Write([]byte{0})
			}
			set = append(set, h.Sum64())
		}
	}
	slices.Sort(set)
	return slices.Compact(set)
}

// jaccard is |a ∩ b| / |a ∪ b| of two sorted sets (0 for two empty sets).
func jaccard(a, b []uint64) float64 {
	inter := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] < b[j]:
			i++
		case a[i] > b[j]:
			j++
		default:
			inter++
			i++
			j++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}
