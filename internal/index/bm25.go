package index

import (
	"cmp"
	"container/heap"
	"math"
	"slices"
	"sort"
	"sync"

	"flywheel/internal/chunk"
)

// BM25Config sets the ranking function. The zero value is k1 0.9, b 0.4
// and the standard analyzer.
type BM25Config struct {
	// K1 saturates term frequency (default 0.9).
	K1 float64
	// B normalizes by chunk length, 0 (none) to 1 (full) (default 0.4;
	// negative: 0).
	B float64
	// Analyzer turns text into terms (zero Name: DefaultAnalyzer).
	Analyzer Analyzer
}

func (c BM25Config) withDefaults() BM25Config {
	if c.K1 <= 0 {
		c.K1 = 0.9
	}
	if c.B == 0 {
		c.B = 0.4
	}
	if c.B < 0 {
		c.B = 0
	}
	if c.Analyzer.Name == "" {
		c.Analyzer = DefaultAnalyzer
	}
	return c
}

// BM25 is an in-memory inverted index of chunks, safe for concurrent
// searches; Add and Delete may run between them.
//
// Score(q, c) = Σ over query terms t of
//
//	idf(t) · tf(t,c)·(k1+1) / (tf(t,c) + k1·(1 − b + b·|c|/avgdl))
//	idf(t) = ln(1 + (N − df(t) + 0.5) / (df(t) + 0.5))
//
// as Lucene computes it, with |c| the number of terms of chunk c.
type BM25 struct {
	mu  sync.RWMutex
	cfg BM25Config

	// Generation is a number the owner stamps on the index (the store
	// keeps it equal to its own, to know the file is current). It is saved
	// with the index.
	Generation uint64

	termIDs  map[string]uint32
	terms    []string
	postings [][]bm25Posting // by term ID, sorted by slot
	slots    []bm25Slot      // by slot; a deleted slot has an empty ID
	slotOf   map[string]uint32
	live     int
	totalLen int64

	counts map[uint32]uint32 // scratch for termFreqs, under mu
}

// bm25Posting is one chunk's count of one term.
type bm25Posting struct {
	slot, tf uint32
}

// bm25Slot is one indexed chunk: its ID, term count and distinct terms.
type bm25Slot struct {
	id     string
	length uint32
	terms  []bm25TermFreq
}

type bm25TermFreq struct{ term, tf uint32 }

// NewBM25 returns an empty index.
func NewBM25(cfg BM25Config) *BM25 {
	return &BM25{cfg: cfg.withDefaults(), termIDs: map[string]uint32{}, slotOf: map[string]uint32{}}
}

// Config returns the index's settings.
func (x *BM25) Config() BM25Config { return x.cfg }

// Len returns the number of chunks indexed.
func (x *BM25) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.live
}

// Has reports whether the chunk ID is indexed.
func (x *BM25) Has(id string) bool {
	x.mu.RLock()
	defer x.mu.RUnlock()
	_, ok := x.slotOf[id]
	return ok
}

// Add indexes the text of chunks, replacing any already indexed under the
// same ID.
func (x *BM25) Add(chunks ...chunk.Chunk) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, c := range chunks {
		x.addTextLocked(c.ID, c.Text)
	}
}

// AddText indexes text under a chunk ID, replacing what was indexed under
// it. Callers use it to index more than the chunk's own text, such as its
// document's title and section heading.
func (x *BM25) AddText(id, text string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.addTextLocked(id, text)
}

func (x *BM25) addTextLocked(id, text string) {
	x.deleteLocked(id)
	tfs, n := x.termFreqs(text)
	x.addLocked(id, tfs, n)
}

// termFreqs analyzes text into its distinct term IDs with counts, and the
// total term count; it adds new terms to the dictionary.
func (x *BM25) termFreqs(text string) ([]bm25TermFreq, uint32) {
	if x.counts == nil {
		x.counts = map[uint32]uint32{}
	}
	counts := x.counts
	defer clear(counts)
	var n uint32
	x.cfg.Analyzer.each(text, func(t []byte) {
		id, ok := x.termIDs[string(t)]
		if !ok {
			id = uint32(len(x.terms))
			term := string(t)
			x.termIDs[term] = id
			x.terms = append(x.terms, term)
			x.postings = append(x.postings, nil)
		}
		counts[id]++
		n++
	})
	tfs := make([]bm25TermFreq, 0, len(counts))
	for t, c := range counts {
		tfs = append(tfs, bm25TermFreq{t, c})
	}
	slices.SortFunc(tfs, func(a, b bm25TermFreq) int { return cmp.Compare(a.term, b.term) })
	return tfs, n
}

func (x *BM25) addLocked(id string, tfs []bm25TermFreq, length uint32) {
	s := uint32(len(x.slots))
	x.slots = append(x.slots, bm25Slot{id: id, length: length, terms: tfs})
	x.slotOf[id] = s
	for _, tf := range tfs {
		x.postings[tf.term] = append(x.postings[tf.term], bm25Posting{s, tf.tf})
	}
	x.live++
	x.totalLen += int64(length)
}

// Delete removes chunks by ID; unknown IDs are ignored.
func (x *BM25) Delete(ids ...string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, id := range ids {
		x.deleteLocked(id)
	}
	if dead := len(x.slots) - x.live; dead > 1024 && dead > x.live {
		x.compact()
	}
}

// compact drops deleted slots, renumbering the rest in order.
func (x *BM25) compact() {
	slots := x.slots
	x.slots = make([]bm25Slot, 0, x.live)
	x.slotOf = make(map[string]uint32, x.live)
	for t := range x.postings {
		x.postings[t] = x.postings[t][:0]
	}
	x.live, x.totalLen = 0, 0
	for _, sl := range slots {
		if sl.id != "" {
			x.addLocked(sl.id, sl.terms, sl.length)
		}
	}
}

func (x *BM25) deleteLocked(id string) {
	s, ok := x.slotOf[id]
	if !ok {
		return
	}
	sl := &x.slots[s]
	for _, tf := range sl.terms {
		ps := x.postings[tf.term]
		i := sort.Search(len(ps), func(i int) bool { return ps[i].slot >= s })
		if i < len(ps) && ps[i].slot == s {
			x.postings[tf.term] = append(ps[:i], ps[i+1:]...)
		}
	}
	x.live--
	x.totalLen -= int64(sl.length)
	delete(x.slotOf, id)
	*sl = bm25Slot{}
}

// BM25Hit is one ranked chunk.
type BM25Hit struct {
	ChunkID string
	Score   float64
}

// TermScore is one query term's part of a chunk's score.
type TermScore struct {
	Term  string
	TF    int     // occurrences in the chunk
	DF    int     // chunks holding the term
	IDF   float64 // ln(1 + (N − df + 0.5)/(df + 0.5))
	Score float64 // this term's contribution
}

// BM25Explanation says how a chunk's BM25 score arose.
type BM25Explanation struct {
	Terms  []TermScore // the matching query terms, largest first
	Length int         // the chunk's term count
	AvgLen float64     // the mean term count over the index
}

// Search returns the k best chunks for query, best first, skipping those
// for which keep returns false (nil keeps all). Ties go to the chunk
// indexed first.
func (x *BM25) Search(query string, k int, keep func(chunkID string) bool) []BM25Hit {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if k <= 0 || x.live == 0 {
		return nil
	}
	acc := x.bm25Accumulator()
	defer bm25Accumulators.Put(acc)
	avg := x.avgLen()
	for _, qt := range x.queryTerms(query) {
		idf := x.idf(len(x.postings[qt.term]))
		for _, p := range x.postings[qt.term] {
			acc.add(p.slot, float64(qt.tf)*x.termScore(idf, p.tf, x.slots[p.slot].length, avg))
		}
	}
	return x.topK(acc, k, keep)
}

// bm25Accumulator sums scores per slot, remembering which slots it touched so
// that clearing it costs only those.
type bm25Accumulator struct {
	scores  []float64
	touched []uint32
}

var bm25Accumulators = sync.Pool{New: func() any { return new(bm25Accumulator) }}

func (x *BM25) bm25Accumulator() *bm25Accumulator {
	acc := bm25Accumulators.Get().(*bm25Accumulator)
	if len(acc.scores) < len(x.slots) {
		acc.scores = make([]float64, len(x.slots))
	}
	return acc
}

func (a *bm25Accumulator) add(s uint32, v float64) {
	if a.scores[s] == 0 {
		a.touched = append(a.touched, s)
	}
	a.scores[s] += v
}

// reset zeroes the touched slots.
func (a *bm25Accumulator) reset() {
	for _, s := range a.touched {
		a.scores[s] = 0
	}
	a.touched = a.touched[:0]
}

// queryTerms analyzes a query into known term IDs with their counts.
func (x *BM25) queryTerms(query string) []bm25TermFreq {
	counts := map[uint32]uint32{}
	var order []uint32
	x.cfg.Analyzer.each(query, func(t []byte) {
		id, ok := x.termIDs[string(t)]
		if !ok || len(x.postings[id]) == 0 {
			return
		}
		if counts[id] == 0 {
			order = append(order, id)
		}
		counts[id]++
	})
	out := make([]bm25TermFreq, len(order))
	for i, id := range order {
		out[i] = bm25TermFreq{id, counts[id]}
	}
	return out
}

func (x *BM25) avgLen() float64 { return float64(x.totalLen) / float64(x.live) }

func (x *BM25) idf(df int) float64 {
	return math.Log(1 + (float64(x.live)-float64(df)+0.5)/(float64(df)+0.5))
}

func (x *BM25) termScore(idf float64, tf, length uint32, avg float64) float64 {
	k1, b := x.cfg.K1, x.cfg.B
	f := float64(tf)
	return idf * f * (k1 + 1) / (f + k1*(1-b+b*float64(length)/avg))
}

func (x *BM25) topK(acc *bm25Accumulator, k int, keep func(string) bool) []BM25Hit {
	defer acc.reset()
	h := &bm25Heap{}
	for _, s := range acc.touched {
		score := acc.scores[s]
		if h.Len() == k && !h.better(s, score, 0) {
			continue
		}
		if keep != nil && !keep(x.slots[s].id) {
			continue
		}
		heap.Push(h, bm25Candidate{s, score})
		if h.Len() > k {
			heap.Pop(h)
		}
	}
	out := make([]BM25Hit, h.Len())
	for i := len(out) - 1; i >= 0; i-- {
		e := heap.Pop(h).(bm25Candidate)
		out[i] = BM25Hit{x.slots[e.slot].id, e.score}
	}
	return out
}

// Explain breaks down chunkID's score for query; ok is false when the chunk
// is not indexed.
func (x *BM25) Explain(query, chunkID string) (e BM25Explanation, ok bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	s, ok := x.slotOf[chunkID]
	if !ok {
		return BM25Explanation{}, false
	}
	sl := x.slots[s]
	avg := x.avgLen()
	e = BM25Explanation{Length: int(sl.length), AvgLen: avg}
	for _, qt := range x.queryTerms(query) {
		i := sort.Search(len(sl.terms), func(i int) bool { return sl.terms[i].term >= qt.term })
		if i == len(sl.terms) || sl.terms[i].term != qt.term {
			continue
		}
		df := len(x.postings[qt.term])
		idf := x.idf(df)
		tf := sl.terms[i].tf
		e.Terms = append(e.Terms, TermScore{Term: x.terms[qt.term], TF: int(tf), DF: df, IDF: idf,
			Score: float64(qt.tf) * x.termScore(idf, tf, sl.length, avg)})
	}
	sort.SliceStable(e.Terms, func(i, j int) bool { return e.Terms[i].Score > e.Terms[j].Score })
	return e, true
}

// bm25Candidate is a candidate in the top-k heap.
type bm25Candidate struct {
	slot  uint32
	score float64
}

// bm25Heap is a min-heap: the worst kept hit on top. Lower score is worse;
// on equal scores the later slot is worse.
type bm25Heap []bm25Candidate

func (h bm25Heap) Len() int { return len(h) }
func (h bm25Heap) Less(i, j int) bool {
	if h[i].score != h[j].score {
		return h[i].score < h[j].score
	}
	return h[i].slot > h[j].slot
}
func (h bm25Heap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *bm25Heap) Push(v any)   { *h = append(*h, v.(bm25Candidate)) }
func (h *bm25Heap) Pop() any {
	old := *h
	v := old[len(old)-1]
	*h = old[:len(old)-1]
	return v
}

// better reports whether (slot, score) beats the worst kept hit h[i].
func (h bm25Heap) better(slot uint32, score float64, i int) bool {
	w := h[i]
	return score > w.score || (score == w.score && slot < w.slot)
}
