package server

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// errQueueFull is returned by queue.do when every worker is busy and the
// queue is full; handlers answer 429 with Retry-After.
var errQueueFull = errors.New("the server is busy: all generation workers are busy and the queue is full")

// queue bounds the generations in progress: workers run at once, up to
// length more wait their turn, and the rest are turned away at once.
type queue struct {
	slots    chan struct{} // one per running generation
	length   int64
	waiting  atomic.Int64
	rejected atomic.Int64

	mu  sync.Mutex
	avg time.Duration // moving average of a generation's duration
}

func newQueue(workers, length int) *queue {
	return &queue{slots: make(chan struct{}, workers), length: int64(length)}
}

// do runs fn when a worker is free, or returns errQueueFull at once if
// the queue is full, or ctx's error if ctx ends while it waits.
func (q *queue) do(ctx context.Context, fn func(ctx context.Context) error) error {
	select {
	case q.slots <- struct{}{}:
	default:
		if q.waiting.Add(1) > q.length {
			q.waiting.Add(-1)
			q.rejected.Add(1)
			return errQueueFull
		}
		select {
		case q.slots <- struct{}{}:
			q.waiting.Add(-1)
		case <-ctx.Done():
			q.waiting.Add(-1)
			return ctx.Err()
		}
	}
	defer func() { <-q.slots }()
	start := time.Now()
	err := fn(ctx)
	q.observe(time.Since(start))
	return err
}

func (q *queue) observe(d time.Duration) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.avg == 0 {
		q.avg = d
		return
	}
	q.avg += (d - q.avg) / 8
}

// retryAfter estimates the seconds until a place frees up: the waiting
// requests' share of the workers times a generation's average duration,
// between 1 and 60.
func (q *queue) retryAfter() int {
	q.mu.Lock()
	avg := q.avg
	q.mu.Unlock()
	waves := float64(q.waiting.Load()+1) / float64(cap(q.slots))
	secs := math.Ceil(waves * avg.Seconds())
	return int(min(max(secs, 1), 60))
}

// running is the number of generations in progress.
func (q *queue) running() int { return len(q.slots) }
