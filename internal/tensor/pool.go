package tensor

import (
	"runtime"
	"sync"
)

// Pool runs data-parallel loops on a fixed set of goroutines, so a forward pass
// does not start goroutines per token. The calling goroutine is worker 0.
//
// A Pool runs one loop at a time; concurrent callers take turns.
type Pool struct {
	threads int
	mu      sync.Mutex
	work    []chan job
	wg      sync.WaitGroup
}

// Task is a loop body over a range of indices, run by worker number worker.
type Task interface {
	Run(worker, lo, hi int)
}

// TaskFunc adapts a function to Task.
type TaskFunc func(worker, lo, hi int)

// Run calls f.
func (f TaskFunc) Run(worker, lo, hi int) { f(worker, lo, hi) }

type job struct {
	task    Task
	lo, hi  int
	wg      *sync.WaitGroup
	workerN int
}

// NewPool starts a pool of threads workers; threads ≤ 0 means one per core.
func NewPool(threads int) *Pool {
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	p := &Pool{threads: threads}
	for w := 1; w < threads; w++ {
		ch := make(chan job, 1)
		p.work = append(p.work, ch)
		go func() {
			for j := range ch {
				j.task.Run(j.workerN, j.lo, j.hi)
				j.wg.Done()
			}
		}()
	}
	return p
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
func (p *Pool) RunTask(n int, t Task) {
	if p == nil || p.threads == 1 || n < 2 {
		t.Run(0, 0, n)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	parts := min(p.threads, n)
	p.wg.Add(parts - 1)
	for w := 1; w < parts; w++ {
		p.work[w-1] <- job{task: t, lo: w * n / parts, hi: (w + 1) * n / parts, wg: &p.wg, workerN: w}
	}
	t.Run(0, 0, n/parts)
	p.wg.Wait()
}

// Close stops the workers. The pool must not be used afterwards.
func (p *Pool) Close() {
	if p == nil {
		return
	}
	for _, ch := range p.work {
		close(ch)
	}
	p.work = nil
}
