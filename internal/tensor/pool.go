package tensor

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Pool runs data-parallel loops on a fixed set of goroutines, so a forward
// pass starts no goroutines per token. The calling goroutine is worker 0.
//
// Decoding one token runs ~50 short loops; waking a parked goroutine for each
// would cost more than the work, so idle workers spin for a while (spinTime)
// before they park.
//
// A Pool runs one loop at a time; concurrent callers take turns.
type Pool struct {
	threads int
	mu      sync.Mutex

	// the current loop, published by gen
	task  Task
	n     int
	parts int
	chunk int          // > 0: workers claim chunks of this size from next
	next  atomic.Int64 // the next chunk to claim
	gen   atomic.Uint64
	left  atomic.Int32 // workers still running the current loop

	workers []*poolWorker
	closed  atomic.Bool
}

type poolWorker struct {
	parked atomic.Bool
	wake   chan struct{}
}

// spinTime is how long an idle worker polls for the next loop before parking.
const spinTime = 100e3 // nanoseconds

// Task is a loop body over a range of indices, run by worker number worker.
type Task interface {
	Run(worker, lo, hi int)
}

// TaskFunc adapts a function to Task.
type TaskFunc func(worker, lo, hi int)

// Run calls f.
func (f TaskFunc) Run(worker, lo, hi int) { f(worker, lo, hi) }

// NewPool starts a pool of threads workers; threads ≤ 0 means one per core.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads}
	for w := 1; w < threads; w++ {
		pw := &poolWorker{wake: make(chan struct{}, 1)}
		p.workers = append(p.workers, pw)
		go p.work(w, pw)
	}
	return p
}

// work is worker w's loop: wait for a new generation, run its part, repeat.
func (p *Pool) work(w int, pw *poolWorker) {
	var seen uint64
	for {
		gen := p.waitNext(seen, pw)
		if p.closed.Load() {
			return
		}
		seen = gen
		if w < p.parts {
			p.runPart(w)
		}
		p.left.Add(-1)
	}
}

// waitNext returns the first generation after seen: spinning, then parked.
func (p *Pool) waitNext(seen uint64, pw *poolWorker) uint64 {
	start := nanotime()
	for spins := 0; ; spins++ {
		if g := p.gen.Load(); g != seen {
			return g
		}
		if spins&63 == 63 {
			if nanotime()-start > spinTime {
				break
			}
			runtime.Gosched()
		}
	}
	for {
		pw.parked.Store(true)
		if g := p.gen.Load(); g != seen {
			if !pw.parked.CompareAndSwap(true, false) {
				<-pw.wake // a waker already took the flag: take its token
			}
			return g
		}
		<-pw.wake
		if g := p.gen.Load(); g != seen {
			return g
		}
	}
}

// runPart runs worker w's share of the current loop: its contiguous range,
// or chunks claimed until none are left.
func (p *Pool) runPart(w int) {
	if p.chunk == 0 {
		p.task.Run(w, w*p.n/p.parts, (w+1)*p.n/p.parts)
		return
	}
	for {
		lo := int(p.next.Add(1)-1) * p.chunk
		if lo >= p.n {
			return
		}
		p.task.Run(w, lo, min(lo+p.chunk, p.n))
	}
}

// Threads is the number of workers, the caller included.
func (p *Pool) Threads() int {
	if p == nil {
		return 1
	}
	return p.threads
}

// Run calls fn over [0, n) split into one contiguous range per worker and
// returns when all have finished. A nil Pool runs fn on the caller.
func (p *Pool) Run(n int, fn func(worker, lo, hi int)) { p.RunTask(n, TaskFunc(fn)) }

// RunTask is Run for a Task; a Task kept between calls makes the loop free
// of allocations.
func (p *Pool) RunTask(n int, t Task) { p.RunChunks(n, 0, t) }

// RunChunks is RunTask with [0, n) cut into chunks of chunk indices (the
// last may be shorter) that the workers claim in turn, so a worker that
// wakes late or is descheduled leaves its share to the others. t.Run may
// then be called several times per worker, never with overlapping ranges.
// chunk ≤ 0 means one contiguous range per worker, as RunTask.
func (p *Pool) RunChunks(n, chunk int, t Task) {
	if p == nil || p.threads == 1 || n < 2 || chunk >= n {
		t.Run(0, 0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.task, p.n, p.chunk = t, n, max(chunk, 0)
	p.parts = min(p.threads, n)
	if chunk > 0 {
		p.parts = min(p.threads, (n+chunk-1)/chunk)
		p.next.Store(0)
	}
	p.left.Store(int32(len(p.workers)))
	p.gen.Add(1)
	for _, pw := range p.workers {
		if pw.parked.CompareAndSwap(true, false) {
			pw.wake <- struct{}{}
		}
	}
	p.runPart(0)
	for spins := 0; p.left.Load() != 0; spins++ {
		if spins&63 == 63 {
			runtime.Gosched()
		}
	}
	p.task = nil
}

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	if p == nil || p.closed.Swap(true) {
		return
	}
	p.gen.Add(1)
	for _, pw := range p.workers {
		if pw.parked.CompareAndSwap(true, false) {
			pw.wake <- struct{}{}
		}
	}
}
