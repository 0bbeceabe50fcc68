package kurrent

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/kurrent/kurrenttest"
	"github.com/samspill/samspill/eventstore/pubsub"
)

// The fault tests need the in-process server's fault injection; they run
// against it even when SAMSPILL_TEST_KURRENTDB_URL is set.

// faultBackoff keeps reconnects quick in tests.
var faultBackoff = WithReconnectBackoff(10*time.Millisecond, 200*time.Millisecond)

// faultRig is a server, a reader store (its HeadMoved and a pubsub
// subscriber over it) and a writer store on the same namespace: the
// reader learns of the writer's events only through its $all
// subscription.
type faultRig struct {
	srv            *kurrenttest.Server
	reader, writer *Store
	delivered      chan eventstore.RecordedEvent
}

func newFaultRig(t *testing.T) *faultRig {
	t.Helper()
	srv := startServer(t)
	ns := newNamespace()
	r := &faultRig{
		srv:       srv,
		reader:    openStore(t, srv.URL(), WithNamespace(ns), faultBackoff),
		writer:    openStore(t, srv.URL(), WithNamespace(ns), faultBackoff),
		delivered: make(chan eventstore.RecordedEvent, 1024),
	}
	sub, err := pubsub.NewSubscriber(r.reader, pubsub.SubscriberConfig{PageSize: 7})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	msgs, err := sub.Subscribe(t.Context(), "partnership")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for msg := range msgs {
			e, err := pubsub.EventFrom(msg)
			if err != nil {
				t.Errorf("EventFrom: %v", err)
			}
			msg.Ack()
			r.delivered <- e
		}
	}()
	return r
}

// produce appends n single-event appends to a few streams, retrying each
// append (the same request: same event ids) until it succeeds, as a
// careful client does when the connection fails. It returns the event ids
// in the order their appends were acknowledged, and how many append
// attempts failed with a transient error.
func (r *faultRig) produce(t *testing.T, n int, pause func(i int)) ([]string, int) {
	t.Helper()
	failures := 0
	streams := []string{streamID(), streamID(), streamID()}
	var ids []string
	for i := range n {
		if pause != nil {
			pause(i)
		}
		ev := newEvent("MilestoneLogged")
		req := eventstore.AppendRequest{StreamID: streams[i%len(streams)], Expected: eventstore.Any(), Events: []eventstore.NewEvent{ev}}
		deadline := time.Now().Add(20 * time.Second)
		for {
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			_, err := r.writer.Append(ctx, req)
			cancel()
			if err == nil {
				break
			}
			failures++
			if !errors.Is(err, ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("append %d: %v (not a transient error)", i, err)
			}
			if time.Now().After(deadline) {
				t.Fatalf("append %d still failing: %v", i, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
		ids = append(ids, ev.EventID)
	}
	return ids, failures
}

// expectDelivered checks that the subscriber delivers exactly want, in
// position order, nothing doubled, nothing lost.
func (r *faultRig) expectDelivered(t *testing.T, want []string) {
	t.Helper()
	var got []eventstore.RecordedEvent
	timeout := time.After(30 * time.Second)
	for len(got) < len(want) {
		select {
		case e := <-r.delivered:
			got = append(got, e)
		case <-timeout:
			t.Fatalf("subscriber delivered %d of %d events", len(got), len(want))
		}
	}
	select {
	case e := <-r.delivered:
		t.Fatalf("subscriber delivered an extra event %s at %d", e.EventID, e.Position)
	case <-time.After(300 * time.Millisecond):
	}
	for i, e := range got {
		if e.EventID != want[i] {
			t.Fatalf("delivery %d is %s, want %s (deliveries must follow the acknowledged appends)", i, e.EventID, want[i])
		}
		if i > 0 && e.Position <= got[i-1].Position {
			t.Fatalf("delivery %d at position %d after %d", i, e.Position, got[i-1].Position)
		}
	}
	// A fresh read of the log ends with the same events (earlier events
	// of the test may come before them).
	all, err := r.reader.ReadAll(t.Context(), 0, 10*len(want)+100)
	if err != nil {
		t.Fatalf("ReadAll after the faults: %v", err)
	}
	if len(all) < len(want) {
		t.Fatalf("ReadAll after the faults returned %d events, want at least %d", len(all), len(want))
	}
	for i, e := range all[len(all)-len(want):] {
		if e.EventID != want[i] {
			t.Fatalf("ReadAll after the faults: event %d is %s, want %s", i, e.EventID, want[i])
		}
	}
}

// expectHeadMovedWorks checks that the reader's HeadMoved fires for an
// append of the writer (the reader's subscription is up again).
func (r *faultRig) expectHeadMovedWorks(t *testing.T) {
	t.Helper()
	moved := r.reader.HeadMoved()
	res := mustAppend(t, r.writer, streamID(), eventstore.NoStream(), newEvent("Probe"))
	if !closedWithin(moved, 10*time.Second) {
		t.Fatalf("reader's HeadMoved did not fire for the append at %d", res.LastPosition())
	}
	// The probe went to a stream of the topic too.
	select {
	case e := <-r.delivered:
		if e.Position != res.LastPosition() {
			t.Fatalf("probe delivered at %d, appended at %d", e.Position, res.LastPosition())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("probe not delivered")
	}
}

func TestFaultSubscriptionDropped(t *testing.T) {
	r := newFaultRig(t)
	eventually(t, 5*time.Second, "the reader subscribes", func() bool { return r.srv.Subscriptions() >= 1 })

	// HeadMoved keeps firing across drops, each round.
	for round := range 5 {
		moved := r.reader.HeadMoved()
		if n := r.srv.DropSubscriptions(); n == 0 {
			t.Fatalf("round %d: no subscription to drop", round)
		}
		res := mustAppend(t, r.writer, streamID(), eventstore.NoStream(), newEvent("X"))
		if !closedWithin(moved, 10*time.Second) {
			t.Fatalf("round %d: HeadMoved did not fire after the drop (append at %d)", round, res.LastPosition())
		}
	}
	// Drain the deliveries of the rounds, then stream events while the
	// server keeps dropping subscriptions.
	drained := 0
	for drained < 5 {
		select {
		case <-r.delivered:
			drained++
		case <-time.After(10 * time.Second):
			t.Fatalf("only %d of the 5 round events delivered", drained)
		}
	}
	want, _ := r.produce(t, 60, func(i int) {
		if i%10 == 5 {
			r.srv.DropSubscriptions()
		}
	})
	r.expectDelivered(t, want)
	r.expectHeadMovedWorks(t)
}

func TestFaultServerRestart(t *testing.T) {
	r := newFaultRig(t)
	eventually(t, 5*time.Second, "the reader subscribes", func() bool { return r.srv.Subscriptions() >= 1 })
	var wg sync.WaitGroup
	defer wg.Wait()
	// Appends made while the listener is down fail, or wait for it if
	// the client is between dial attempts; either way every connection,
	// and the reader's subscription with it, is gone.
	want, _ := r.produce(t, 40, func(i int) {
		if i == 15 {
			r.srv.StopListener()
			wg.Go(func() {
				time.Sleep(500 * time.Millisecond)
				if err := r.srv.StartListener(); err != nil {
					t.Errorf("restart: %v", err)
				}
			})
		}
	})
	r.expectDelivered(t, want)
	r.expectHeadMovedWorks(t)
}

func TestFaultUnavailable(t *testing.T) {
	r := newFaultRig(t)
	eventually(t, 5*time.Second, "the reader subscribes", func() bool { return r.srv.Subscriptions() >= 1 })
	want, failures := r.produce(t, 40, func(i int) {
		if i == 10 || i == 30 {
			r.srv.UnavailableFor(700 * time.Millisecond)
		}
	})
	if failures == 0 {
		t.Fatal("no append failed while the server was unavailable: the fault did not bite")
	}
	r.expectDelivered(t, want)
	r.expectHeadMovedWorks(t)
}

// TestFaultReadAllResumes checks that ReadAll fails with ErrUnavailable
// while the server is away and works again once it is back, with the same
// client configuration (the store replaces a client that gave up).
func TestFaultReadAllResumes(t *testing.T) {
	srv := startServer(t)
	s := openStore(t, srv.URL(), faultBackoff)
	res := mustAppend(t, s, streamID(), eventstore.NoStream(), newEvent("X"))
	srv.StopListener()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	_, err := s.ReadAll(ctx, 0, 10)
	cancel()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("ReadAll with the server away: %v, want ErrUnavailable", err)
	}
	if err := srv.StartListener(); err != nil {
		t.Fatal(err)
	}
	var all []eventstore.RecordedEvent
	eventually(t, 15*time.Second, "ReadAll works again", func() bool {
		all, err = s.ReadAll(t.Context(), 0, 10)
		return err == nil
	})
	if len(all) != 1 || all[0].Position != res.LastPosition() {
		t.Fatalf("ReadAll after restart = %v", fmt.Sprint(all))
	}
}
