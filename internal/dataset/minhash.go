package dataset

import (
	"encoding/binary"
	"math"
	"math/bits"
	"slices"
	"unicode"
	"unicode/utf8"
)

// sigLen is the number of MinHash values of a signature.
const sigLen = 256

// signature is a text's one-permutation MinHash: the shingles' 64-bit hashes
// are split into sigLen bins by their top bits, and each bin keeps its
// smallest value (empty bins borrow a filled bin's, see densify). Two
// signatures agree in a bin with probability equal to the Jaccard
// similarity of the two shingle sets.
type signature [sigLen]uint32

// shingler turns texts into normalised runes, an exact-match hash and a
// MinHash signature over character shingles (so Chinese, with no spaces
// between words, works as well as English).
type shingler struct {
	k     int    // characters per shingle
	runes []rune // scratch
	powK  uint64 // rollBase^(k-1)
}

const rollBase = 0x100000001b3 // FNV-1a 64's prime, odd: a good polynomial base mod 2^64

func newShingler(k int) *shingler {
	p := uint64(1)
	for i := 1; i < k; i++ {
		p *= rollBase
	}
	return &shingler{k: k, powK: p}
}

// normalize lowercases and turns each run of spaces, punctuation and
// symbols into one space: "Hello,world!", "hello - world" and "hello world"
// are the same text.
func (s *shingler) normalize(text string) []rune {
	out := s.runes[:0]
	space := false
	for i := 0; i < len(text); {
		r := rune(text[i])
		size := 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		i += size
		switch {
		case r < utf8.RuneSelf:
			switch {
			case r >= 'A' && r <= 'Z':
				r += 'a' - 'A'
			case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			default: // spaces, punctuation, symbols and controls separate words
				space = len(out) > 0
				continue
			}
		case r >= 0x4E00 && r <= 0x9FFF || r >= 0xAC00 && r <= 0xD7A3:
			// CJK ideographs and Hangul syllables: letters without case
		case unicode.IsSpace(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsControl(r):
			space = len(out) > 0
			continue
		case unicode.Is(unicode.Cf, r):
			continue
		default:
			r = unicode.ToLower(r)
		}
		if space {
			out = append(out, ' ')
			space = false
		}
		out = append(out, r)
	}
	s.runes = out
	return out
}

// exactHash hashes normalised runes (FNV-1a over the runes, then mixed).
func exactHash(runes []rune) uint64 {
	h := uint64(0xcbf29ce484222325)
	for _, r := range runes {
		h ^= uint64(r)
		h *= rollBase
	}
	return mix64(h ^ uint64(len(runes)))
}

// mix64 is splitmix64's finaliser: every input bit affects every output bit.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// sign computes the signature of normalised runes. It reports false for an
// empty text, which has no shingles.
func (s *shingler) sign(runes []rune, sig *signature) bool {
	if len(runes) == 0 {
		return false
	}
	for i := range sig {
		sig[i] = math.MaxUint32
	}
	filled := [sigLen]bool{}
	add := func(h uint64) {
		h = mix64(h)
		bin, v := h>>(64-8), uint32(h)
		if v < sig[bin] || !filled[bin] {
			sig[bin] = v
			filled[bin] = true
		}
	}
	k := min(s.k, len(runes))
	var h uint64
	for _, r := range runes[:k] {
		h = h*rollBase + uint64(r)
	}
	add(h)
	for i := k; i < len(runes); i++ {
		h = (h-uint64(runes[i-k])*s.powK)*rollBase + uint64(runes[i])
		add(h)
	}
	densify(sig, &filled)
	return true
}

// densify fills each empty bin from a filled bin chosen by a hash sequence
// of the empty bin's number (Shrivastava's optimal densification): both
// texts follow the same sequence, so their bins still agree with
// probability equal to their Jaccard similarity, and unlike borrowing from
// the next bin the borrowed values are not all from one neighbour.
func densify(sig *signature, filled *[sigLen]bool) {
	for i := range sig {
		if filled[i] {
			continue
		}
		j := -1
		for attempt := uint64(1); attempt <= 32 && j < 0; attempt++ {
			if k := mix64(uint64(i)<<32|attempt) % sigLen; filled[k] {
				j = int(k)
			}
		}
		for d := 1; j < 0; d++ { // very short texts: the next filled bin
			if k := (i + d) % sigLen; filled[k] {
				j = k
			}
		}
		sig[i] = sig[j]
	}
}

// compactSig keeps the low 8 bits of each value: enough to estimate the
// similarity of two candidates (b-bit MinHash) in an eighth of the memory.
type compactSig [sigLen]byte

func (s *signature) compact() (c compactSig) {
	for i, v := range s {
		c[i] = byte(v)
	}
	return c
}

// similarity estimates the Jaccard similarity from compact signatures,
// correcting for the 1/256 chance that two different values share 8 bits.
func (c *compactSig) similarity(o *compactSig) float64 {
	same := 0
	for i := 0; i < sigLen; i += 8 {
		same += zeroBytes(binary.LittleEndian.Uint64(c[i:]) ^ binary.LittleEndian.Uint64(o[i:]))
	}
	const chance = 1.0 / 256
	j := (float64(same)/sigLen - chance) / (1 - chance)
	return max(0, j)
}

// zeroBytes counts the zero bytes of x (the equal bytes of two XORed words).
func zeroBytes(x uint64) int {
	const low7 = 0x7f7f7f7f7f7f7f7f
	t := (x & low7) + low7 // high bit set where the low 7 bits are not all 0
	return bits.OnesCount64(^(t | x | low7))
}

// banding is how a signature is cut into LSH bands: two texts become
// candidates when all rows of one band agree, which happens with
// probability 1-(1-J^rows)^bands.
type banding struct{ bands, rows int }

// maxBandHashes bounds the signature values cut into bands: each band
// costs 8 bytes of table per record.
const maxBandHashes = 64

// bandingFor picks the most rows per band (fewest false candidates) whose
// bands, using at most maxBandHashes values, find a pair at the threshold
// with probability at least 0.99.
func bandingFor(threshold float64) banding {
	best := banding{bands: 1, rows: 1}
	for rows := 1; rows <= 16; rows++ {
		p := math.Pow(threshold, float64(rows))
		if p >= 1 {
			return banding{bands: 1, rows: rows}
		}
		bands := int(math.Ceil(math.Log(0.01) / math.Log(1-p)))
		if bands*rows > maxBandHashes {
			break
		}
		best = banding{bands: bands, rows: rows}
	}
	return best
}

// candidateProbability is the chance that a pair of similarity j shares a band.
func (b banding) candidateProbability(j float64) float64 {
	return 1 - math.Pow(1-math.Pow(j, float64(b.rows)), float64(b.bands))
}

// keys computes the band keys of a signature: each band's rows hashed
// with the band number, never 0 (the empty slot of bandTable).
func (b banding) keys(sig *signature, out []uint32) []uint32 {
	out = out[:0]
	for band := 0; band < b.bands; band++ {
		h := uint64(band+1) * 0x9e3779b97f4a7c15
		for _, v := range sig[band*b.rows : (band+1)*b.rows] {
			h = (h ^ uint64(v)) * rollBase
		}
		k := uint32(mix64(h))
		if k == 0 {
			k = 1
		}
		out = append(out, k)
	}
	return out
}

// bandTable maps band keys to record ids: an open-addressing multimap
// (linear probing, one key may repeat) in 8 bytes a slot. Keys are 32-bit
// hashes; a false match only costs one more candidate check.
type bandTable struct {
	keys []uint32
	ids  []uint32
	n    int
}

func (t *bandTable) insert(key, id uint32) {
	if t.n+1 > len(t.keys)*3/4 {
		t.grow()
	}
	mask := uint32(len(t.keys) - 1)
	i := key & mask
	for t.keys[i] != 0 {
		i = (i + 1) & mask
	}
	t.keys[i], t.ids[i] = key, id
	t.n++
}

func (t *bandTable) grow() {
	size := max(1<<12, 2*len(t.keys))
	old, oldIDs := t.keys, t.ids
	t.keys, t.ids, t.n = make([]uint32, size), make([]uint32, size), 0
	for i, k := range old {
		if k != 0 {
			t.insert(k, oldIDs[i])
		}
	}
}

// each calls f with the ids stored under key, at most limit of them, until
// f returns false.
func (t *bandTable) each(key uint32, limit int, f func(id uint32) bool) {
	if len(t.keys) == 0 {
		return
	}
	mask := uint32(len(t.keys) - 1)
	for i := key & mask; t.keys[i] != 0; i = (i + 1) & mask {
		if t.keys[i] != key {
			continue
		}
		if limit--; limit < 0 || !f(t.ids[i]) {
			return
		}
	}
}

// sigStore keeps compact signatures in fixed-size chunks, so it grows
// without copying what it holds.
type sigStore struct{ chunks [][]compactSig }

const sigChunk = 1 << 14

func (s *sigStore) add(c compactSig) uint32 {
	n := len(s.chunks)
	if n == 0 || len(s.chunks[n-1]) == sigChunk {
		s.chunks = append(s.chunks, make([]compactSig, 0, sigChunk))
		n++
	}
	s.chunks[n-1] = append(s.chunks[n-1], c)
	return uint32((n-1)*sigChunk + len(s.chunks[n-1]) - 1)
}

func (s *sigStore) get(i uint32) *compactSig { return &s.chunks[i/sigChunk][i%sigChunk] }

// lshIndex finds, among the signatures inserted, those similar to a query.
type lshIndex struct {
	banding
	threshold float64
	table     bandTable
	sigs      sigStore
	keys      []uint32
	seen      []uint32 // candidates of the current query
}

// maxBucket bounds the ids looked at per band, so a flood of similar
// records (a template) cannot make a query slow.
const maxBucket = 64

func newLSHIndex(threshold float64) *lshIndex {
	return &lshIndex{banding: bandingFor(threshold), threshold: threshold}
}

// similar calls f with each indexed signature (by insertion index) whose
// estimated similarity to the query is at or above the threshold.
func (x *lshIndex) similar(sig *signature, c *compactSig, f func(id uint32, sim float64)) {
	x.keys = x.banding.keys(sig, x.keys)
	x.seen = x.seen[:0]
	for _, k := range x.keys {
		x.table.each(k, maxBucket, func(id uint32) bool {
			if slices.Contains(x.seen, id) {
				return true
			}
			x.seen = append(x.seen, id)
			if s := c.similarity(x.sigs.get(id)); s >= x.threshold {
				f(id, s)
			}
			return true
		})
	}
}

// query returns the most similar indexed signature at or above the
// threshold, and the estimated similarity.
func (x *lshIndex) query(sig *signature, c *compactSig) (best uint32, sim float64, ok bool) {
	x.similar(sig, c, func(id uint32, s float64) {
		if s > sim || !ok {
			best, sim, ok = id, s, true
		}
	})
	return best, sim, ok
}

// insert adds a signature and returns its index; keys must be those of the
// last query of the same signature, or nil to compute them.
func (x *lshIndex) insert(sig *signature, c compactSig, sameAsQuery bool) uint32 {
	id := x.sigs.add(c)
	if !sameAsQuery {
		x.keys = x.banding.keys(sig, x.keys)
	}
	for _, k := range x.keys {
		x.table.insert(k, id)
	}
	return id
}
