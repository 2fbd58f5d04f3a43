package tensor

import (
	"sync/atomic"
	"testing"
)

// Chunked loops visit every index exactly once, whatever the chunk size.
func TestPoolChunksCoverRange(t *testing.T) {
	for _, threads := range []int{1, 2, 3} {
		p := NewPool(threads)
		for _, n := range []int{0, 1, 2, 5, 64, 100, 1000} {
			for _, chunk := range []int{0, 1, 3, 8, 64, 2000} {
				seen := make([]atomic.Int32, n)
				p.RunChunks(n, chunk, TaskFunc(func(_, lo, hi int) {
					for i := lo; i < hi; i++ {
						seen[i].Add(1)
					}
				}))
				for i := range seen {
					if c := seen[i].Load(); c != 1 {
						t.Fatalf("threads=%d n=%d chunk=%d: index %d visited %d times", threads, n, chunk, i, c)
					}
				}
			}
		}
		p.Close()
	}
}
