package tokenizer

// flatMap maps uint64 keys to values: an open-addressing hash table
// (linear probing, at most half full) over one flat slice. The encoders ask
// one for every adjacent pair of symbols (BPE merges) or every byte of a
// piece (the unigram trie), where it answers faster than a Go map: one
// multiply and usually one slot read per question.
type flatMap[V any] struct {
	slots []flatSlot[V]
	shift uint // 64 - log2(len(slots)): the hash keeps the top bits
}

type flatSlot[V any] struct {
	key uint64 // freeKey when the slot is free
	val V
}

// freeKey marks a free slot; it cannot be used as a key.
const freeKey = ^uint64(0)

// newFlatMap returns an empty map with room for n keys.
func newFlatMap[V any](n int) flatMap[V] {
	size, bits := 8, uint(3)
	for size < 2*n {
		size, bits = size*2, bits+1
	}
	m := flatMap[V]{slots: make([]flatSlot[V], size), shift: 64 - bits}
	for i := range m.slots {
		m.slots[i].key = freeKey
	}
	return m
}

// home is the first slot probed for key (Fibonacci hashing).
func (m *flatMap[V]) home(key uint64) int { return int(key * 0x9E3779B97F4A7C15 >> m.shift) }

// add sets the value of key unless it has one already, and reports whether
// it did. At most the n keys the map was made for may be added.
func (m *flatMap[V]) add(key uint64, val V) bool {
	mask := len(m.slots) - 1
	for i := m.home(key); ; i = (i + 1) & mask {
		switch m.slots[i].key {
		case key:
			return false
		case freeKey:
			m.slots[i] = flatSlot[V]{key: key, val: val}
			return true
		}
	}
}

// get returns the value of key.
func (m *flatMap[V]) get(key uint64) (V, bool) {
	mask := len(m.slots) - 1
	for i := m.home(key); ; i = (i + 1) & mask {
		s := &m.slots[i]
		if s.key == key {
			return s.val, true
		}
		if s.key == freeKey {
			var zero V
			return zero, false
		}
	}
}

// pairKey is the key of a pair of non-negative ids.
func pairKey(left, right int32) uint64 { return uint64(left)<<32 | uint64(uint32(right)) }
