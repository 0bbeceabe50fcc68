package pubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
	"github.com/samspill/samspill/eventstore/sqlite"
)

// waitFor bounds every wait of these tests for something that should
// happen; waitNot is how long they watch for something that should not.
const (
	waitFor = 10 * time.Second
	waitNot = 200 * time.Millisecond
)

// openStore opens a fresh SQLite store and closes it when the test ends
// (after the cleanups registered later, such as closing subscribers).
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// newSubscriber makes a Subscriber closed when the test ends.
func newSubscriber(t *testing.T, store eventstore.Store, cfg pubsub.SubscriberConfig) *pubsub.Subscriber {
	t.Helper()
	s, err := pubsub.NewSubscriber(store, cfg)
	if err != nil {
		t.Fatalf("NewSubscriber: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func subscribe(t *testing.T, ctx context.Context, s *pubsub.Subscriber, topic string) <-chan *message.Message {
	t.Helper()
	ch, err := s.Subscribe(ctx, topic)
	if err != nil {
		t.Fatalf("Subscribe(%s): %v", topic, err)
	}
	return ch
}

var partnerSeq atomic.Int64

// partnershipEvent is an envelope as the domain writes them.
func partnershipEvent(t *testing.T, typ string, data any) eventstore.NewEvent {
	t.Helper()
	raw, err := json.Marshal(data)
	if err != nil {
		t.Fatalf("encode %s: %v", typ, err)
	}
	return eventstore.NewEvent{
		EventID:       uuid.NewString(),
		Type:          typ,
		SchemaVersion: 1,
		OccurredAt:    time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.FixedZone("CET", 3600)),
		Metadata: eventstore.Metadata{
			Actor:         eventstore.Actor{Subject: "koordinator@example.no", Role: "coordinator"},
			CorrelationID: uuid.NewString(),
		},
		Data: raw,
	}
}

// someEvents returns n partnership events of alternating types.
func someEvents(t *testing.T, n int) []eventstore.NewEvent {
	t.Helper()
	events := make([]eventstore.NewEvent, n)
	for i := range events {
		if i%2 == 0 {
			events[i] = partnershipEvent(t, "GoalChanged", map[string]any{
				"goals": []string{fmt.Sprintf("mål %d", partnerSeq.Add(1))}, "reason": "revidert plan",
			})
		} else {
			events[i] = partnershipEvent(t, "MilestoneLogged", map[string]any{
				"kind": "meeting", "title": fmt.Sprintf("møte %d", partnerSeq.Add(1)), "date": "2025-03-01",
			})
		}
	}
	return events
}

// appendEvents appends events to stream, one append each, and returns the
// stored events.
func appendEvents(t *testing.T, store eventstore.Store, stream string, events ...eventstore.NewEvent) []eventstore.RecordedEvent {
	t.Helper()
	var positions []uint64
	for _, e := range events {
		res, err := store.Append(t.Context(), eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{e}})
		if err != nil {
			t.Fatalf("append to %s: %v", stream, err)
		}
		positions = append(positions, res.Positions...)
	}
	return readPositions(t, store, positions...)
}

// readPositions returns the stored events at the given positions.
func readPositions(t *testing.T, store eventstore.Store, positions ...uint64) []eventstore.RecordedEvent {
	t.Helper()
	out := make([]eventstore.RecordedEvent, 0, len(positions))
	for _, p := range positions {
		got, err := store.ReadAll(t.Context(), p-1, 1)
		if err != nil || len(got) != 1 || got[0].Position != p {
			t.Fatalf("read position %d: %v, %d events", p, err, len(got))
		}
		out = append(out, got[0])
	}
	return out
}

// receive returns the next message, failing the test if none comes in time
// or the channel is closed.
func receive(t *testing.T, ch <-chan *message.Message) *message.Message {
	t.Helper()
	select {
	case msg, ok := <-ch:
		if !ok {
			t.Fatal("channel closed, want a message")
		}
		return msg
	case <-time.After(waitFor):
		t.Fatal("no message in time")
		return nil
	}
}

// expectNothing fails if a message arrives within waitNot.
func expectNothing(t *testing.T, ch <-chan *message.Message) {
	t.Helper()
	select {
	case msg, ok := <-ch:
		if ok {
			t.Fatalf("unexpected message %s (position %s)", msg.UUID, msg.Metadata.Get(pubsub.MetaPosition))
		}
		t.Fatal("channel closed unexpectedly")
	case <-time.After(waitNot):
	}
}

// expectClosed fails unless ch is closed already (no message waiting).
func expectClosed(t *testing.T, ch <-chan *message.Message) {
	t.Helper()
	select {
	case msg, ok := <-ch:
		if ok {
			t.Fatalf("got message %s, want closed channel", msg.UUID)
		}
	default:
		t.Fatal("channel not closed")
	}
}

// expectClosedSoon drains ch until it closes, failing after waitFor.
func expectClosedSoon(t *testing.T, ch <-chan *message.Message) {
	t.Helper()
	deadline := time.After(waitFor)
	for {
		select {
		case _, ok := <-ch:
			if !ok {
				return
			}
		case <-deadline:
			t.Fatal("channel not closed in time")
		}
	}
}

// returnsWithin fails if f does not return within waitFor.
func returnsWithin(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(waitFor):
		t.Fatalf("%s did not return in time", what)
	}
}

// packageGoroutines counts the goroutines running code of package pubsub
// (not of these tests).
func packageGoroutines() (int, string) {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	var stacks []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "samspill/eventstore/pubsub.") {
			count++
			stacks = append(stacks, g)
		}
	}
	return count, strings.Join(stacks, "\n\n")
}

// expectNoLeak fails unless, within waitFor, no goroutine of package pubsub
// is left and the total is back to at most baseline.
func expectNoLeak(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		n, stacks := packageGoroutines()
		total := runtime.NumGoroutine()
		if n == 0 && total <= baseline {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left: %d of package pubsub, %d in all (baseline %d):\n%s", n, total, baseline, stacks)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settledGoroutines returns the goroutine count once it stops falling.
func settledGoroutines() int {
	n := runtime.NumGoroutine()
	for range 50 {
		time.Sleep(10 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m >= n {
			return m
		}
		n = m
	}
	return n
}

var errInjected = errors.New("injected failure")

// flakyStore fails the first failReads ReadAll calls and counts them all.
type flakyStore struct {
	eventstore.Store
	failReads atomic.Int64
	reads     atomic.Int64
}

func (f *flakyStore) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	f.reads.Add(1)
	if f.failReads.Add(-1) >= 0 {
		return nil, fmt.Errorf("read all after %d: %w", after, errInjected)
	}
	return f.Store.ReadAll(ctx, after, limit)
}

// flakyCheckpoints fails the first failSaves Save calls and records them.
type flakyCheckpoints struct {
	*pubsub.MemoryCheckpoints
	failSaves atomic.Int64
	mu        sync.Mutex
	attempts  []uint64
}

func (f *flakyCheckpoints) Save(ctx context.Context, key string, position uint64) error {
	f.mu.Lock()
	f.attempts = append(f.attempts, position)
	f.mu.Unlock()
	if f.failSaves.Add(-1) >= 0 {
		return errInjected
	}
	return f.MemoryCheckpoints.Save(ctx, key, position)
}

func (f *flakyCheckpoints) saveAttempts() []uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]uint64(nil), f.attempts...)
}
