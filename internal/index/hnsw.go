package index

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"

	"flywheel/internal/mmap"
	"flywheel/internal/tensor"
)

// Metric says how vectors are compared. Both rank by inner product, higher
// first; Cosine normalises every vector (added or queried) to unit length so
// the inner product is the cosine.
type Metric uint8

const (
	Cosine     Metric = iota // score = cos(q, v); vectors are normalised on Add and Search
	DotProduct               // score = q·v, vectors kept as given
)

func (m Metric) String() string {
	switch m {
	case Cosine:
		return "cosine"
	case DotProduct:
		return "dot"
	}
	return fmt.Sprintf("Metric(%d)", m)
}

// ParseMetric reads "cosine" or "dot".
func ParseMetric(s string) (Metric, error) {
	switch s {
	case "cosine", "cos":
		return Cosine, nil
	case "dot", "ip", "inner_product":
		return DotProduct, nil
	}
	return 0, fmt.Errorf("unknown vector metric %q: use cosine or dot", s)
}

// VectorHit is one result of a vector search: the caller's id and its score
// (cosine or inner product with the query; higher is closer).
type VectorHit struct {
	ID    uint64
	Score float32
}

// Vectors is what HNSW and Flat share: the vector store retrieval uses. Flat
// suits collections up to a few thousand vectors (exact, no build cost);
// HNSW the rest.
type Vectors interface {
	Add(id uint64, v []float32) error
	Delete(id uint64) bool
	Search(q []float32, k int) []VectorHit
	Len() int
	Dim() int
	Metric() Metric
	Save(path string) error
	Close() error
}

var (
	_ Vectors = (*HNSW)(nil)
	_ Vectors = (*Flat)(nil)
)

// HNSWConfig shapes an HNSW graph. The zero value of every field but Dim
// picks the usual default.
type HNSWConfig struct {
	Dim            int    // vector length (required)
	Metric         Metric // Cosine (default) or DotProduct
	M              int    // links per node on the upper layers, 2M on layer 0 (default 16)
	EfConstruction int    // candidate list while inserting (default 200)
	EfSearch       int    // candidate list while searching, at least k (default 64)
	Seed           uint64 // seed of the level generator (default 1)

	// Quantize keeps an int8 copy of every vector (Q8_0: 32 values and one
	// f16 scale per block, 3.8× fewer bytes than f32) and walks the graph
	// with it, building and searching; a search then re-scores its best 2k
	// candidates with the f32 vectors, so returned scores are exact. Graph
	// walks are memory-bound, so this halves build and search time at the
	// same recall (see bench ann). Dim must be a multiple of 32.
	Quantize bool
}

func (c HNSWConfig) withDefaults() HNSWConfig {
	if c.M <= 0 {
		c.M = 16
	}
	if c.EfConstruction <= 0 {
		c.EfConstruction = 200
	}
	if c.EfSearch <= 0 {
		c.EfSearch = 64
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	return c
}

// maxLevels caps the layer count (a node's level is stored in a byte).
const maxLevels = 16

// HNSW is a hierarchical navigable small-world graph over vectors (Malkov &
// Yashunin 2016): approximate nearest neighbours in O(log n) distance
// evaluations. Nodes are numbered in insertion order; the caller's ids map
// onto them. Deleted nodes stay in the graph as tombstones (they still route
// searches) and never appear in results; their space comes back only when
// the graph is rebuilt.
//
// Add and Delete must not run concurrently with anything else; Search and
// SearchInto may run from many goroutines at once.
type HNSW struct {
	cfg       HNSWConfig
	m0        int     // links per node on layer 0: 2M
	codeBytes int     // bytes of one Q8_0 vector
	mL        float64 // level multiplier 1/ln(M)

	vecs    []float32  // [n][dim] vectors (normalised for Cosine)
	codes   []byte     // [n][codeBytes] Q8_0 copies of vecs when Quantize
	links0  []uint32   // [n][1+m0]: layer-0 neighbour count, then neighbours
	levels  []uint8    // [n] top layer of each node
	upper   [][]uint32 // [n][levels[i]][1+M]: layers 1..levels[i], count then neighbours
	ids     []uint64   // [n] caller's id of each node
	deleted []uint64   // bitset over nodes
	dead    int        // number of set bits in deleted
	byID    map[uint64]uint32

	entry    uint32 // entry point, valid when n > 0
	maxLevel int    // its level

	rng      *rand.Rand
	builder  *searcher // scratch of Add
	searches sync.Pool // *searcher scratch of Search
	file     *mmap.File
}

// NewHNSW returns an empty graph for cfg.Dim-dimensional vectors.
func NewHNSW(cfg HNSWConfig) (*HNSW, error) {
	if cfg.Dim <= 0 {
		return nil, fmt.Errorf("hnsw: dimension %d: must be positive", cfg.Dim)
	}
	if cfg.Metric > DotProduct {
		return nil, fmt.Errorf("hnsw: unknown metric %d", cfg.Metric)
	}
	if cfg.Quantize && cfg.Dim%tensor.QK != 0 {
		return nil, fmt.Errorf("hnsw: quantized graphs need a dimension divisible by %d, not %d", tensor.QK, cfg.Dim)
	}
	h := &HNSW{cfg: cfg.withDefaults(), byID: map[uint64]uint32{}}
	if h.cfg.M < 2 {
		return nil, fmt.Errorf("hnsw: M = %d: must be at least 2", h.cfg.M)
	}
	h.init()
	return h, nil
}

func (h *HNSW) init() {
	h.m0 = 2 * h.cfg.M
	if h.cfg.Quantize {
		h.codeBytes = tensor.Q8_0.RowBytes(h.cfg.Dim)
	}
	h.mL = 1 / math.Log(float64(h.cfg.M))
	h.rng = rand.New(rand.NewPCG(h.cfg.Seed, uint64(len(h.ids))))
	h.builder = &searcher{}
	h.searches.New = func() any { return &searcher{} }
}

// Config returns the graph's configuration (with defaults filled in).
func (h *HNSW) Config() HNSWConfig { return h.cfg }

// Dim returns the vector length.
func (h *HNSW) Dim() int { return h.cfg.Dim }

// Metric returns how vectors are compared.
func (h *HNSW) Metric() Metric { return h.cfg.Metric }

// SetEfSearch changes the default candidate-list size of Search.
func (h *HNSW) SetEfSearch(ef int) { h.cfg.EfSearch = max(ef, 1) }

// Len returns the number of live (not deleted) vectors.
func (h *HNSW) Len() int { return len(h.ids) - h.dead }

// Contains reports whether id is live in the graph.
func (h *HNSW) Contains(id uint64) bool { _, ok := h.byID[id]; return ok }

func (h *HNSW) vec(node uint32) []float32 {
	d := h.cfg.Dim
	return h.vecs[int(node)*d : int(node+1)*d : int(node+1)*d]
}

func (h *HNSW) code(node uint32) []byte {
	b := h.codeBytes
	return h.codes[int(node)*b : int(node+1)*b : int(node+1)*b]
}

func (h *HNSW) isDeleted(node uint32) bool { return h.deleted[node>>6]&(1<<(node&63)) != 0 }

// links returns node's neighbour slot at level: count, then capacity neighbours.
func (h *HNSW) links(node uint32, level int) []uint32 {
	if level == 0 {
		w := 1 + h.m0
		return h.links0[int(node)*w : int(node+1)*w : int(node+1)*w]
	}
	w := 1 + h.cfg.M
	return h.upper[node][(level-1)*w : level*w : level*w]
}

// neighbors returns node's current neighbours at level.
func (h *HNSW) neighbors(node uint32, level int) []uint32 {
	l := h.links(node, level)
	return l[1 : 1+l[0]]
}

// Add inserts v under id. An id already present is replaced: its old vector
// becomes a tombstone.
func (h *HNSW) Add(id uint64, v []float32) error {
	if len(v) != h.cfg.Dim {
		return fmt.Errorf("hnsw: add id %d: vector has %d dimensions, index has %d", id, len(v), h.cfg.Dim)
	}
	if len(h.ids) >= math.MaxUint32-1 {
		return fmt.Errorf("hnsw: add id %d: index is full (%d nodes)", id, len(h.ids))
	}
	h.own()
	h.Delete(id)
	node := h.appendNode(id, v)
	h.link(node)
	return nil
}

// appendNode stores v and its empty link slots; it returns the new node.
func (h *HNSW) appendNode(id uint64, v []float32) uint32 {
	node := uint32(len(h.ids))
	h.vecs = append(h.vecs, v...)
	if h.cfg.Metric == Cosine {
		normalize(h.vec(node))
	}
	if h.cfg.Quantize {
		h.codes = tensor.Quantize(h.codes, tensor.Q8_0, h.vec(node))
	}
	level := h.randomLevel()
	h.links0 = append(h.links0, make([]uint32, 1+h.m0)...)
	h.levels = append(h.levels, uint8(level))
	var up []uint32
	if level > 0 {
		up = make([]uint32, level*(1+h.cfg.M))
	}
	h.upper = append(h.upper, up)
	h.ids = append(h.ids, id)
	if int(node)>>6 >= len(h.deleted) {
		h.deleted = append(h.deleted, 0)
	}
	h.byID[id] = node
	return node
}

func (h *HNSW) randomLevel() int {
	u := 1 - h.rng.Float64() // (0, 1]
	return min(int(-math.Log(u)*h.mL), maxLevels-1)
}

// link connects a freshly appended node into the graph (Malkov & Yashunin,
// algorithm 1): greedy descent to its level, then on each layer below an
// efConstruction search whose heuristic pick becomes its neighbours.
func (h *HNSW) link(node uint32) {
	if node == 0 {
		h.entry, h.maxLevel = 0, int(h.levels[0])
		return
	}
	s := h.builder
	q := h.vec(node)
	h.prepare(s, q)
	level := int(h.levels[node])
	ep := candidate{h.distTo(s, q, h.entry), h.entry}
	for l := h.maxLevel; l > level; l-- {
		ep = h.greedy(s, q, ep, l)
	}
	for l := min(level, h.maxLevel); l >= 0; l-- {
		h.searchLayer(s, q, ep, h.cfg.EfConstruction, l, false)
		// A quantized graph also picks neighbours by the int8 distances:
		// reading the candidates' f32 vectors would double the traffic.
		found := s.res.drainAscending(&s.found)
		ep = found[0]
		picked := h.selectNeighbors(s, found, h.cfg.M, &s.picked, s.quant)
		slot := h.links(node, l)
		slot[0] = uint32(len(picked))
		for i, c := range picked {
			slot[1+i] = c.id
		}
		for _, c := range picked {
			h.connect(s, c.id, node, c.dist, l)
		}
	}
	if level > h.maxLevel {
		h.entry, h.maxLevel = node, level
	}
}

// connect adds node to from's neighbours at level, pruning with the
// heuristic when from's list is full.
func (h *HNSW) connect(s *searcher, from, node uint32, d float32, level int) {
	slot := h.links(from, level)
	n := int(slot[0])
	if n < len(slot)-1 {
		slot[1+n] = node
		slot[0]++
		return
	}
	// A quantized graph prunes with the int8 copies: the full neighbour
	// lists of old nodes are the bulk of the build's memory traffic.
	var cands []candidate
	if s.quant {
		s.pair.fromCode(h.code(from))
		cands = append(s.prune[:0], candidate{h.codeDist(&s.pair, node), node})
		for _, nb := range slot[1 : 1+n] {
			cands = append(cands, candidate{h.codeDist(&s.pair, nb), nb})
		}
	} else {
		fv := h.vec(from)
		cands = append(s.prune[:0], candidate{d, node})
		for _, nb := range slot[1 : 1+n] {
			cands = append(cands, candidate{h.dist(fv, nb), nb})
		}
	}
	slices.SortFunc(cands, compareCandidates)
	s.prune = cands
	picked := h.selectNeighbors(s, cands, len(slot)-1, &s.repicked, s.quant)
	slot[0] = uint32(len(picked))
	for i, c := range picked {
		slot[1+i] = c.id
	}
}

// selectNeighbors is the diversity heuristic (algorithm 4 without extension):
// walking candidates nearest first, keep one only if it is nearer to the base
// than to every one already kept, up to m. With codes, the distances between
// candidates come from the int8 copies (as sorted's must then).
func (h *HNSW) selectNeighbors(s *searcher, sorted []candidate, m int, buf *[]candidate, codes bool) []candidate {
	if len(sorted) <= m {
		return sorted
	}
	kept := (*buf)[:0]
	for _, c := range sorted {
		if len(kept) == m {
			break
		}
		good := true
		if codes {
			s.pair.fromCode(h.code(c.id))
			for _, k := range kept {
				if h.codeDist(&s.pair, k.id) < c.dist {
					good = false
					break
				}
			}
		} else {
			cv := h.vec(c.id)
			for _, k := range kept {
				if -dot(cv, h.vec(k.id)) < c.dist {
					good = false
					break
				}
			}
		}
		if good {
			kept = append(kept, c)
		}
	}
	*buf = kept
	return kept
}

// dist is the graph's distance: the negated inner product, so nearer is smaller.
func (h *HNSW) dist(q []float32, node uint32) float32 { return -dot(q, h.vec(node)) }

// prepare readies s for a walk towards q: quantized graphs walk with q in
// int8 blocks.
func (h *HNSW) prepare(s *searcher, q []float32) {
	s.quant = h.cfg.Quantize
	if s.quant {
		s.act.Quantize(q)
	}
}

// distTo is the distance the walk uses: exact, or from the int8 copies.
func (h *HNSW) distTo(s *searcher, q []float32, node uint32) float32 {
	if s.quant {
		return h.codeDist(&s.act, node)
	}
	return h.dist(q, node)
}

// codeDist is the distance between a node's int8 copy and a (a stored code
// unpacked by fromCode, or a quantized query).
func (h *HNSW) codeDist(a *codeAct, node uint32) float32 {
	return -tensor.DotQ8Act(tensor.Q8_0, h.code(node), &a.Q8Act)
}

// rescore replaces the walk's quantized distances of the first n of found
// (sorted by them) with exact ones and returns those n re-sorted; exact
// walks pass through.
func (h *HNSW) rescore(s *searcher, q []float32, found []candidate, n int) []candidate {
	if !s.quant {
		return found
	}
	found = found[:min(n, len(found))]
	for i := range found {
		found[i].dist = h.dist(q, found[i].id)
	}
	slices.SortFunc(found, compareCandidates)
	return found
}

// greedy walks from ep to the nearest node it can reach at level (ef = 1).
func (h *HNSW) greedy(s *searcher, q []float32, ep candidate, level int) candidate {
	for changed := true; changed; {
		changed = false
		for _, nb := range h.neighbors(ep.id, level) {
			if d := h.distTo(s, q, nb); d < ep.dist {
				ep, changed = candidate{d, nb}, true
			}
		}
	}
	return ep
}

// searchLayer is the beam search of one layer (algorithm 2): it leaves the ef
// nearest nodes found from ep in s.res. With live, deleted nodes route the
// search but are kept out of s.res.
func (h *HNSW) searchLayer(s *searcher, q []float32, ep candidate, ef, level int, live bool) {
	s.startVisit(len(h.ids))
	s.cand, s.res = s.cand[:0], s.res[:0]
	s.visit(ep.id)
	s.cand.push(ep)
	bound := float32(math.Inf(1))
	if !live || !h.isDeleted(ep.id) {
		s.res.push(ep)
		bound = ep.dist
	}
	for len(s.cand) > 0 {
		c := s.cand.pop()
		if c.dist > bound && len(s.res) >= ef {
			break
		}
		for _, nb := range h.neighbors(c.id, level) {
			if s.visited[nb] == s.gen {
				continue
			}
			s.visited[nb] = s.gen
			d := h.distTo(s, q, nb)
			if len(s.res) < ef || d < bound {
				s.cand.push(candidate{d, nb})
				if !live || !h.isDeleted(nb) {
					s.res.push(candidate{d, nb})
					if len(s.res) > ef {
						s.res.pop()
					}
					bound = s.res[0].dist
				}
			}
		}
	}
}

// Delete removes id; it reports whether id was present. The node stays in
// the graph as a tombstone.
func (h *HNSW) Delete(id uint64) bool {
	node, ok := h.byID[id]
	if !ok {
		return false
	}
	h.own()
	delete(h.byID, id)
	h.deleted[node>>6] |= 1 << (node & 63)
	h.dead++
	return true
}

// Search returns the k live vectors nearest to q, best first, with the
// configured efSearch.
func (h *HNSW) Search(q []float32, k int) []VectorHit {
	return h.SearchInto(make([]VectorHit, 0, k), q, k, h.cfg.EfSearch)
}

// SearchInto appends the k live vectors nearest to q, best first, to dst,
// searching layer 0 with a candidate list of max(ef, k). It allocates nothing
// once dst has room and the scratch is warm.
func (h *HNSW) SearchInto(dst []VectorHit, q []float32, k, ef int) []VectorHit {
	if len(h.ids) == h.dead || k <= 0 {
		return dst
	}
	if len(q) != h.cfg.Dim {
		panic(fmt.Sprintf("hnsw: query has %d dimensions, index has %d", len(q), h.cfg.Dim))
	}
	s := h.searches.Get().(*searcher)
	defer h.searches.Put(s)
	if h.cfg.Metric == Cosine {
		s.query = append(s.query[:0], q...)
		normalize(s.query)
		q = s.query
	}
	h.prepare(s, q)
	ep := candidate{h.distTo(s, q, h.entry), h.entry}
	for l := h.maxLevel; l > 0; l-- {
		ep = h.greedy(s, q, ep, l)
	}
	h.searchLayer(s, q, ep, max(ef, k), 0, true)
	// The true top k lie well inside the quantized top 2k (int8 scores
	// err by ~1e-3), so only those are re-scored.
	found := h.rescore(s, q, s.res.drainAscending(&s.found), 2*k)
	for _, c := range found[:min(k, len(found))] {
		dst = append(dst, VectorHit{ID: h.ids[c.id], Score: -c.dist})
	}
	return dst
}

// own makes a graph loaded from a mapped file writable by copying it to the
// heap, and releases the mapping.
func (h *HNSW) own() {
	if h.file == nil {
		return
	}
	h.vecs = slices.Clone(h.vecs)
	h.codes = slices.Clone(h.codes)
	h.links0 = slices.Clone(h.links0)
	h.levels = slices.Clone(h.levels)
	h.ids = slices.Clone(h.ids)
	h.deleted = slices.Clone(h.deleted)
	up := make([]uint32, 0, upperLen(h.upper))
	for i, u := range h.upper {
		if u != nil {
			up = append(up, u...)
			h.upper[i] = up[len(up)-len(u) : len(up) : len(up)]
		}
	}
	h.file.Close()
	h.file = nil
}

func upperLen(upper [][]uint32) int {
	n := 0
	for _, u := range upper {
		n += len(u)
	}
	return n
}

// Close releases the mapping of a loaded graph; h must not be used afterwards.
func (h *HNSW) Close() error {
	f := h.file
	h.file = nil
	return f.Close()
}
