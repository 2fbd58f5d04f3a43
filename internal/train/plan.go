package train

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"

	"flywheel/internal/llama"
)

// An epoch is planned as optimizer steps, each a list of micro-batches, each
// a list of example indices. The order is a permutation drawn from the seed
// and the epoch number alone, so a resumed run plans exactly the steps the
// interrupted one would have taken.

// planEpoch returns the steps of epoch e (from 0) over n examples.
// Without packing a micro-batch holds batch examples; with packing it holds
// as many as fit in batch·maxLen tokens. A step is accum micro-batches; the
// last step of an epoch may have fewer.
func planEpoch(lens []int, e int, seed uint64, batch, accum, maxLen int, packing bool) [][][]int {
	perm := rand.New(rand.NewPCG(seed, uint64(e)+0x65706f6368)).Perm(len(lens))
	var micro [][]int
	var cur []int
	tokens := 0
	budget := batch * maxLen
	for _, i := range perm {
		full := len(cur) == batch
		if packing {
			full = len(cur) > 0 && tokens+lens[i] > budget
		}
		if full {
			micro = append(micro, cur)
			cur, tokens = nil, 0
		}
		cur = append(cur, i)
		tokens += lens[i]
	}
	if len(cur) > 0 {
		micro = append(micro, cur)
	}
	var steps [][][]int
	for lo := 0; lo < len(micro); lo += accum {
		steps = append(steps, micro[lo:min(lo+accum, len(micro))])
	}
	return steps
}

// collateStep lays out a step's micro-batches as batches, each with its own
// dropout seed, and counts the step's trained targets.
func collateStep(examples []Example, micro [][]int, seed uint64, step int) ([]llama.Batch, int) {
	batches := make([]llama.Batch, len(micro))
	scored := 0
	for k, idx := range micro {
		b := &batches[k]
		for _, i := range idx {
			appendExample(b, examples[i])
		}
		b.Seed = mixSeed(seed, uint64(step), uint64(k))
		scored += b.Scored()
	}
	return batches, scored
}

// collateAll lays out examples as batches of at most batch examples, for
// evaluation.
func collateAll(examples []Example, batch int) []llama.Batch {
	var out []llama.Batch
	for lo := 0; lo < len(examples); lo += batch {
		var b llama.Batch
		for _, e := range examples[lo:min(lo+batch, len(examples))] {
			appendExample(&b, e)
		}
		out = append(out, b)
	}
	return out
}

// mixSeed hashes a seed with counters (splitmix64 steps).
func mixSeed(seed uint64, xs ...uint64) uint64 {
	z := seed
	for _, x := range xs {
		z += 0x9e3779b97f4a7c15 ^ x*0xbf58476d1ce4e5b9
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
		z = (z ^ (z >> 27)) * 0x94d049bb133111eb
		z ^= z >> 31
	}
	return z
}

// fingerprint identifies a training set, so a run resumes only on the
// data it started with.
func fingerprint(examples []Example) string {
	h := sha256.New()
	var buf [8]byte
	put := func(v int) {
		binary.LittleEndian.PutUint64(buf[:], uint64(int64(v)))
		h.Write(buf[:])
	}
	for _, e := range examples {
		put(len(e.Tokens))
		for i, t := range e.Tokens {
			put(t)
			put(e.label(i))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
