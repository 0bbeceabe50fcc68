// Package groupcommit is the queue in front of an event store's single
// writer: Append queues a request and waits, and one writer goroutine
// takes everything queued meanwhile and hands it, in batches, to the
// adapter's commit function, which writes a batch in one transaction and
// answers every request of it. Concurrent appends so share one commit.
//
// The queue owns what every such writer does the same way: queueing and
// waking the writer, refusing requests once the store closes, dropping
// requests whose caller gave up before their batch started, cutting the
// queue into batches, and knowing whether the store's storage is full
// (eventstore.StorageProber). How a batch is checked, written and retried,
// and how the storage is probed, stays with the adapter.
package groupcommit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/samspill/samspill/eventstore"
)

// Call is the queue's part of one queued append: the caller's context and
// the outcome. An adapter's request type embeds it (NewCall).
type Call struct {
	ctx  context.Context
	done chan struct{}

	// Res and Err are the outcome. The commit function may set them as it
	// decides (and set them again when it retries the request); they are
	// final once Finish has been called, and only then read by the caller.
	Res eventstore.AppendResult
	Err error
}

// NewCall returns the Call of a request made under ctx.
func NewCall(ctx context.Context) Call {
	return Call{ctx: ctx, done: make(chan struct{})}
}

// Finish sets Err and hands the outcome to the waiting caller. The commit
// function calls it exactly once for every request of the batch.
func (c *Call) Finish(err error) {
	c.Err = err
	close(c.done)
}

// Done is closed once Finish has been called.
func (c *Call) Done() <-chan struct{} { return c.done }

func (c *Call) call() *Call { return c }

// Request is a queued append: a pointer to an adapter's request type,
// which embeds Call (the only way to implement Request).
type Request interface{ call() *Call }

// Queue is the queue and its writer goroutine. Its methods are safe for
// concurrent use, except Commit.
type Queue[R Request] struct {
	commit   func(batch []R)
	maxBatch int

	// mu guards pending, probes and closing. Submit queues requests under
	// it (ProbeStorage probes); the writer goroutine takes the whole queue
	// at once.
	mu      sync.Mutex
	pending []R
	probes  []*probe
	closing bool
	// full is set from the moment a request fails with
	// eventstore.ErrStorageFull until a request writes or a probe goes
	// through. Only the writer goroutine changes it, in the order it
	// decides requests and probes.
	full atomic.Bool
	// wake carries at most one token: "the queue may be non-empty".
	wake chan struct{}
	// stopped is closed when the writer goroutine has returned.
	stopped chan struct{}
}

// Start starts the writer goroutine of a new queue. It hands commit the
// queued requests in batches of at most maxBatch (at least 1), in queue
// order, one batch at a time; commit must Finish every request of its
// batch.
func Start[R Request](maxBatch int, commit func(batch []R)) *Queue[R] {
	q := &Queue[R]{
		commit:   commit,
		maxBatch: max(maxBatch, 1),
		wake:     make(chan struct{}, 1),
		stopped:  make(chan struct{}),
	}
	go q.run()
	return q
}

// Submit queues r and waits for its outcome: r's Res, or its Err. A
// context that is done already, or a queue that is closing, fails r
// without queueing it (ctx.Err(), eventstore.ErrClosed). Once queued, r is
// decided by the writer even if its context ends meanwhile, and Submit
// waits for that.
func (q *Queue[R]) Submit(r R) (eventstore.AppendResult, error) {
	c := r.call()
	if err := c.ctx.Err(); err != nil {
		return eventstore.AppendResult{}, err
	}
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		return eventstore.AppendResult{}, eventstore.ErrClosed
	}
	q.pending = append(q.pending, r)
	q.mu.Unlock()
	q.signal()

	// No select on ctx here: once queued, the writer decides, and the
	// caller must learn whether its events were written.
	<-c.done
	if c.Err != nil {
		return eventstore.AppendResult{}, c.Err
	}
	return c.Res, nil
}

// Close stops the writer goroutine and returns once it has: requests still
// queued fail with eventstore.ErrClosed (a batch already handed to commit
// completes), and later Submits fail with eventstore.ErrClosed too. Call
// it once.
func (q *Queue[R]) Close() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	q.signal()
	<-q.stopped
}

// signal tells the writer goroutine that the queue may be non-empty.
func (q *Queue[R]) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine.
func (q *Queue[R]) run() {
	defer close(q.stopped)
	var spare []R
	for range q.wake {
		q.mu.Lock()
		batch, probes := q.pending, q.probes
		q.pending, q.probes = spare, nil
		closing := q.closing
		q.mu.Unlock()

		if closing {
			for _, r := range batch {
				r.call().Finish(eventstore.ErrClosed)
			}
			for _, p := range probes {
				p.finish(eventstore.ErrClosed)
			}
			return
		}
		for rest := batch; len(rest) > 0; {
			n := min(len(rest), q.maxBatch)
			q.Commit(rest[:n])
			rest = rest[n:]
		}
		clear(batch)
		spare = batch[:0]
		for _, p := range probes {
			q.runProbe(p)
		}
	}
}

// Commit hands batch to the commit function as the writer goroutine does:
// requests whose context is done (their caller gave up before the batch
// started) are finished with its error, the others are committed. Only
// the writer goroutine calls it, and tests while the writer is idle.
func (q *Queue[R]) Commit(batch []R) {
	live := make([]R, 0, len(batch))
	for _, r := range batch {
		c := r.call()
		if err := c.ctx.Err(); err != nil {
			c.Finish(err)
			continue
		}
		live = append(live, r)
	}
	if len(live) > 0 {
		q.commit(live)
		q.observe(live)
	}
}

// observe keeps the storage state after a batch (see full): requests are
// decided in queue order, so the last one that failed for lack of space
// or wrote events tells.
func (q *Queue[R]) observe(batch []R) {
	for _, r := range batch {
		c := r.call()
		switch {
		case errors.Is(c.Err, eventstore.ErrStorageFull):
			q.full.Store(true)
		case c.Err == nil && !c.Res.Deduplicated:
			q.full.Store(false)
		}
	}
}

// probe is a queued storage probe (ProbeStorage).
type probe struct {
	ctx   context.Context
	write func(context.Context) error
	err   error
	done  chan struct{}
}

func (p *probe) finish(err error) {
	p.err = err
	close(p.done)
}

// ProbeStorage answers for a store as eventstore.StorageProber promises,
// with write as the store's own small write. It returns nil at once while
// the storage is not known to be full. Otherwise it queues write to run on
// the writer goroutine after the batches queued before it, so that the
// store's single writer is never used by two at once, and returns write's
// error; write's nil ends the full state. write is skipped (nil) when a
// batch meanwhile wrote, and when ctx ends before its turn (ctx's error,
// which ProbeStorage also returns if ctx ends while write runs). A write
// that is interrupted through ctx must leave nothing behind: a single
// autocommit statement, or a transaction it rolls back itself.
func (q *Queue[R]) ProbeStorage(ctx context.Context, write func(context.Context) error) error {
	if !q.full.Load() {
		return nil
	}
	p := &probe{ctx: ctx, write: write, done: make(chan struct{})}
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		return eventstore.ErrClosed
	}
	q.probes = append(q.probes, p)
	q.mu.Unlock()
	q.signal()
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// runProbe runs a queued probe on the writer goroutine.
func (q *Queue[R]) runProbe(p *probe) {
	if err := p.ctx.Err(); err != nil {
		p.finish(err)
		return
	}
	if !q.full.Load() {
		p.finish(nil)
		return
	}
	err := p.write(p.ctx)
	if err == nil {
		q.full.Store(false)
	}
	p.finish(err)
}

// Stats count what a writer did; tests and benchmarks read them to see
// batching happen. The commit function keeps them.
type Stats struct {
	Batches  atomic.Uint64 // committed transactions holding at least one request
	Requests atomic.Uint64 // requests answered from those transactions
	MaxBatch atomic.Uint64 // most requests seen in one transaction
	Retries  atomic.Uint64 // batches tried again after a database failure
}

// Committed counts a transaction that committed n requests.
func (s *Stats) Committed(n int) {
	s.Batches.Add(1)
	s.Requests.Add(uint64(n))
	for {
		m := s.MaxBatch.Load()
		if uint64(n) <= m || s.MaxBatch.CompareAndSwap(m, uint64(n)) {
			return
		}
	}
}
