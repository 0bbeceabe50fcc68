package groupcommit

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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

// disk is a commit function over a storage that may be full: while full
// is set, every request fails with eventstore.ErrStorageFull as an
// adapter wraps it; otherwise a request with a negative n is a retry
// (deduplicated) and the others are written. probe is the store's probe
// write: it fails the same way while full is set, and counts its calls.
type disk struct {
	full   atomic.Bool
	probes atomic.Int32
	// inBatch is set while a batch is being committed; a probe that
	// finds it set ran beside the writer.
	inBatch atomic.Bool
	overlap atomic.Bool
	hold    chan struct{} // when set, the next batch waits for it
	entered chan struct{}
}

func (d *disk) commit(batch []*request) {
	d.inBatch.Store(true)
	defer d.inBatch.Store(false)
	if d.hold != nil {
		d.entered <- struct{}{}
		<-d.hold
		d.hold = nil
	}
	for _, r := range batch {
		switch {
		case d.full.Load():
			r.Finish(fmt.Errorf("commit: %w: database or disk is full", eventstore.ErrStorageFull))
		case r.n < 0:
			r.Res = eventstore.AppendResult{Deduplicated: true}
			r.Finish(nil)
		default:
			r.Res = eventstore.AppendResult{FirstVersion: uint64(r.n)}
			r.Finish(nil)
		}
	}
}

func (d *disk) probe(context.Context) error {
	d.probes.Add(1)
	if d.inBatch.Load() {
		d.overlap.Store(true)
	}
	if d.full.Load() {
		return fmt.Errorf("probe: %w", eventstore.ErrStorageFull)
	}
	return nil
}

func TestProbeStorageWritesOnlyFromAFailureForLackOfSpaceUntilAWriteSucceeds(t *testing.T) {
	d := &disk{}
	q := Start(10, d.commit)
	defer q.Close()
	ctx := t.Context()
	probe := func(want error) {
		t.Helper()
		if err := q.ProbeStorage(ctx, d.probe); !errors.Is(err, want) && (want != nil || err != nil) {
			t.Fatalf("ProbeStorage = %v; want %v", err, want)
		}
	}

	probe(nil)
	if _, err := q.Submit(newRequest(ctx, 1)); err != nil {
		t.Fatal(err)
	}
	probe(nil)
	if n := d.probes.Load(); n != 0 {
		t.Fatalf("%d probe writes while nothing failed for lack of space; want none", n)
	}

	d.full.Store(true)
	if _, err := q.Submit(newRequest(ctx, 2)); !errors.Is(err, eventstore.ErrStorageFull) {
		t.Fatalf("Submit on a full disk = %v; want ErrStorageFull", err)
	}
	probe(eventstore.ErrStorageFull)
	probe(eventstore.ErrStorageFull)
	if n := d.probes.Load(); n != 2 {
		t.Fatalf("%d probe writes after a failure for lack of space; want one per call (2)", n)
	}
	d.full.Store(false)
	probe(nil) // space is back: the probe goes through and ends the state
	probe(nil)
	if n := d.probes.Load(); n != 3 {
		t.Fatalf("%d probe writes; want 3: none once a probe went through", n)
	}

	// A request that writes ends the state too; one deduplicated does not.
	d.full.Store(true)
	if _, err := q.Submit(newRequest(ctx, 3)); !errors.Is(err, eventstore.ErrStorageFull) {
		t.Fatalf("Submit on a full disk = %v; want ErrStorageFull", err)
	}
	d.full.Store(false)
	if _, err := q.Submit(newRequest(ctx, -1)); err != nil {
		t.Fatal(err)
	}
	probe(nil)
	if n := d.probes.Load(); n != 4 {
		t.Fatalf("%d probe writes; want 4: a deduplicated append wrote nothing, so it proves no space", n)
	}
	d.full.Store(true)
	if _, err := q.Submit(newRequest(ctx, 4)); !errors.Is(err, eventstore.ErrStorageFull) {
		t.Fatalf("Submit on a full disk = %v; want ErrStorageFull", err)
	}
	d.full.Store(false)
	if _, err := q.Submit(newRequest(ctx, 5)); err != nil {
		t.Fatal(err)
	}
	probe(nil)
	if n := d.probes.Load(); n != 4 {
		t.Fatalf("%d probe writes; want still 4: an append that wrote ended the state", n)
	}
	if d.overlap.Load() {
		t.Fatal("a probe ran while a batch was being committed")
	}
}

func TestProbeStorageWaitsForTheWriterAndGivesUpWithItsContext(t *testing.T) {
	d := &disk{}
	q := Start(10, d.commit)
	ctx := t.Context()
	d.full.Store(true)
	if _, err := q.Submit(newRequest(ctx, 1)); !errors.Is(err, eventstore.ErrStorageFull) {
		t.Fatalf("Submit on a full disk = %v; want ErrStorageFull", err)
	}

	// The writer holds a batch: a probe waits for it, and one whose
	// context ends meanwhile returns at once and never writes.
	d.hold, d.entered = make(chan struct{}), make(chan struct{})
	held := make(chan error, 1)
	go func() {
		_, err := q.Submit(newRequest(ctx, 2))
		held <- err
	}()
	<-d.entered
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if err := q.ProbeStorage(short, d.probe); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ProbeStorage behind a held batch = %v; want its context's deadline", err)
	}
	waiting := make(chan error, 1)
	go func() { waiting <- q.ProbeStorage(ctx, d.probe) }()
	waitFor(t, q, "two probes queued", func() bool { return len(q.probes) == 2 })
	d.full.Store(false)
	close(d.hold)
	if err := <-held; err != nil {
		t.Fatalf("the held batch: %v", err)
	}
	if err := <-waiting; err != nil {
		t.Fatalf("ProbeStorage after the batch = %v; want nil", err)
	}
	if n := d.probes.Load(); n != 0 {
		t.Fatalf("%d probe writes; want none: the given-up probe is skipped, and the batch before the other wrote", n)
	}

	// Close fails a probe still queued.
	d.full.Store(true)
	if _, err := q.Submit(newRequest(ctx, 3)); !errors.Is(err, eventstore.ErrStorageFull) {
		t.Fatalf("Submit on a full disk = %v; want ErrStorageFull", err)
	}
	q.Close()
	if err := q.ProbeStorage(ctx, d.probe); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ProbeStorage after Close = %v; want ErrClosed", err)
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
