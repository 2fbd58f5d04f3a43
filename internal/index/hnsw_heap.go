package index

import (
	"cmp"

	"flywheel/internal/tensor"
)

// candidate is a node with its distance to the query.
type candidate struct {
	dist float32
	id   uint32
}

func compareCandidates(a, b candidate) int {
	if c := cmp.Compare(a.dist, b.dist); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// minHeap pops the nearest candidate first.
type minHeap []candidate

func (h *minHeap) push(c candidate) {
	*h = append(*h, c)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].dist <= c.dist {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = c
}

func (h *minHeap) pop() candidate {
	a := *h
	top := a[0]
	last := a[len(a)-1]
	a = a[:len(a)-1]
	*h = a
	n := len(a)
	if n == 0 {
		return top
	}
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		if r := l + 1; r < n && a[r].dist < a[l].dist {
			l = r
		}
		if last.dist <= a[l].dist {
			break
		}
		a[i] = a[l]
		i = l
	}
	a[i] = last
	return top
}

// maxHeap keeps the farthest candidate on top, to be evicted first.
type maxHeap []candidate

func (h *maxHeap) push(c candidate) {
	*h = append(*h, c)
	a := *h
	i := len(a) - 1
	for i > 0 {
		p := (i - 1) / 2
		if a[p].dist >= c.dist {
			break
		}
		a[i] = a[p]
		i = p
	}
	a[i] = c
}

func (h *maxHeap) pop() candidate {
	a := *h
	top := a[0]
	last := a[len(a)-1]
	a = a[:len(a)-1]
	*h = a
	n := len(a)
	if n == 0 {
		return top
	}
	i := 0
	for {
		l := 2*i + 1
		if l >= n {
			break
		}
		if r := l + 1; r < n && a[r].dist > a[l].dist {
			l = r
		}
		if last.dist >= a[l].dist {
			break
		}
		a[i] = a[l]
		i = l
	}
	a[i] = last
	return top
}

// drainAscending empties h into *buf, nearest first, and returns it.
func (h *maxHeap) drainAscending(buf *[]candidate) []candidate {
	n := len(*h)
	out := *buf
	if cap(out) < n {
		out = make([]candidate, n, 2*n)
	}
	out = out[:n]
	for i := n - 1; i >= 0; i-- {
		out[i] = h.pop()
	}
	*buf = out
	return out
}

// searcher is the scratch of one search: visited marks stamped with a
// generation (so no clearing between searches), the two heaps, and buffers.
type searcher struct {
	visited  []uint16
	gen      uint16
	cand     minHeap
	res      maxHeap
	query    []float32
	found    []candidate
	picked   []candidate
	repicked []candidate
	prune    []candidate
	quant    bool    // this walk compares int8 codes with act
	act      codeAct // the query in int8 blocks
	pair     codeAct // a stored node's code, unpacked, while pruning
}

// startVisit begins a search over n nodes.
func (s *searcher) startVisit(n int) {
	if len(s.visited) < n {
		s.visited = append(s.visited, make([]uint16, n-len(s.visited)+n/4)...)
	}
	s.gen++
	if s.gen == 0 {
		clear(s.visited)
		s.gen = 1
	}
}

func (s *searcher) visit(node uint32) { s.visited[node] = s.gen }

// codeAct is a vector in the int8 block form tensor.DotQ8Act consumes.
type codeAct struct{ tensor.Q8Act }

// fromCode unpacks a stored Q8_0 vector (per block: an f16 scale, then 32
// int8) without re-quantizing it.
func (a *codeAct) fromCode(code []byte) {
	const block = 2 + tensor.QK
	nb := len(code) / block
	if cap(a.Q) < nb*tensor.QK {
		a.Q, a.D, a.S = make([]int8, nb*tensor.QK), make([]float32, nb), make([]float32, nb)
	}
	a.Q, a.D, a.S = a.Q[:nb*tensor.QK], a.D[:nb], a.S[:nb]
	for b := range nb {
		blk := code[b*block : (b+1)*block]
		a.D[b] = tensor.F16ToF32(uint16(blk[0]) | uint16(blk[1])<<8)
		q := a.Q[b*tensor.QK : (b+1)*tensor.QK]
		for j := range q {
			q[j] = int8(blk[2+j])
		}
	}
}
