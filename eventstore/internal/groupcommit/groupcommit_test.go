package groupcommit

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
)

type request struct {
	Call
	n int
}

func newRequest(ctx context.Context, n int) *request {
	return &request{Call: NewCall(ctx), n: n}
}

// recorder is a commit function that answers every request with its n as
// the first version and remembers the batches. With hold set, it holds
// the first batch: it says so on entered and waits until hold is closed.
type recorder struct {
	mu      sync.Mutex
	batches [][]int
	hold    chan struct{}
	entered chan struct{}
}

func holding() *recorder {
	return &recorder{hold: make(chan struct{}), entered: make(chan struct{})}
}

func (c *recorder) commit(batch []*request) {
	if c.hold != nil {
		c.entered <- struct{}{}
		<-c.hold
		c.hold = nil // only the writer goroutine reads it
	}
	c.mu.Lock()
	var ns []int
	for _, r := range batch {
		ns = append(ns, r.n)
	}
	c.batches = append(c.batches, ns)
	c.mu.Unlock()
	for _, r := range batch {
		r.Res = eventstore.AppendResult{FirstVersion: uint64(r.n)}
		r.Finish(nil)
	}
}

func TestRequestsQueuedMeanwhileShareBatchesOfAtMostMax(t *testing.T) {
	rec := holding()
	q := Start(3, rec.commit)
	defer q.Close()

	var wg sync.WaitGroup
	submit := func(n int) {
		wg.Go(func() {
			res, err := q.Submit(newRequest(t.Context(), n))
			if err != nil || res.FirstVersion != uint64(n) {
				t.Errorf("Submit(%d) = %+v, %v", n, res, err)
			}
		})
	}
	submit(1)
	<-rec.entered // the writer holds batch [1]; the next ones queue
	for n := 2; n <= 6; n++ {
		submit(n)
	}
	waitFor(t, q, "five requests queued", func() bool { return len(q.pending) == 5 })
	close(rec.hold)
	wg.Wait()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.batches) != 3 || len(rec.batches[0]) != 1 || len(rec.batches[1]) != 3 || len(rec.batches[2]) != 2 {
		t.Fatalf("batches %v; want [1], then the five queued meanwhile as three and two", rec.batches)
	}
}

func TestRequestWhoseCallerGaveUpIsDroppedBeforeCommit(t *testing.T) {
	rec := &recorder{}
	q := Start(10, rec.commit)
	defer q.Close()

	ctx, cancel := context.WithCancel(t.Context())
	gone, live := newRequest(ctx, 1), newRequest(t.Context(), 2)
	cancel()
	q.Commit([]*request{gone, live})
	<-gone.Done()
	<-live.Done()
	if !errors.Is(gone.Err, context.Canceled) || live.Err != nil {
		t.Fatalf("errors %v, %v; want context.Canceled, nil", gone.Err, live.Err)
	}
	if len(rec.batches) != 1 || len(rec.batches[0]) != 1 || rec.batches[0][0] != 2 {
		t.Fatalf("committed %v; want only the live request", rec.batches)
	}
	if _, err := q.Submit(newRequest(ctx, 3)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Submit with a done context: %v; want context.Canceled", err)
	}
}

func TestCloseFailsWhatIsQueuedAndWhatComesLater(t *testing.T) {
	rec := holding()
	q := Start(10, rec.commit)

	first := make(chan error, 1)
	go func() {
		_, err := q.Submit(newRequest(t.Context(), 1))
		first <- err
	}()
	<-rec.entered
	queued := make(chan error, 1)
	go func() {
		_, err := q.Submit(newRequest(t.Context(), 2))
		queued <- err
	}()
	waitFor(t, q, "a request queued", func() bool { return len(q.pending) == 1 })
	closed := make(chan struct{})
	go func() {
		q.Close()
		close(closed)
	}()
	waitFor(t, q, "Close begun", func() bool { return q.closing })
	close(rec.hold) // the batch under way completes

	if err := <-first; err != nil {
		t.Fatalf("the batch under way: %v; want it to complete", err)
	}
	if err := <-queued; !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("the queued request: %v; want ErrClosed", err)
	}
	<-closed
	if _, err := q.Submit(newRequest(t.Context(), 3)); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Submit after Close: %v; want ErrClosed", err)
	}
}

func TestCommittedKeepsTheLargestBatch(t *testing.T) {
	var s Stats
	s.Committed(3)
	s.Committed(7)
	s.Committed(2)
	if s.Batches.Load() != 3 || s.Requests.Load() != 12 || s.MaxBatch.Load() != 7 {
		t.Fatalf("batches %d, requests %d, max %d; want 3, 12, 7", s.Batches.Load(), s.Requests.Load(), s.MaxBatch.Load())
	}
}

// waitFor waits until cond, which reads the queue's state under its lock,
// holds.
func waitFor[R Request](t *testing.T, q *Queue[R], what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		q.mu.Lock()
		ok := cond()
		q.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
	}
}
