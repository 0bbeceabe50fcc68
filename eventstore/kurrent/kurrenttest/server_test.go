package kurrenttest

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"
)

// These tests drive the server with the real client over real gRPC and
// check the documented KurrentDB behaviour the adapter relies on.

func start(t *testing.T) (*Server, *kurrentdb.Client) {
	t.Helper()
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	cfg, err := kurrentdb.ParseConnectionString(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger = kurrentdb.NoopLogging()
	c, err := kurrentdb.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return srv, c
}

func events(n int) []kurrentdb.EventData {
	out := make([]kurrentdb.EventData, n)
	for i := range out {
		out[i] = kurrentdb.EventData{EventID: uuid.New(), EventType: "T", ContentType: kurrentdb.ContentTypeJson, Data: []byte(`{}`)}
	}
	return out
}

func code(err error) kurrentdb.ErrorCode {
	var kerr *kurrentdb.Error
	if errors.As(err, &kerr) {
		return kerr.Code()
	}
	return -1
}

// collect drains a read: collect(t)(c.ReadAll(...)).
func collect(t *testing.T) func(*kurrentdb.ReadStream, error) []*kurrentdb.RecordedEvent {
	return func(rs *kurrentdb.ReadStream, err error) []*kurrentdb.RecordedEvent {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out, err := drain(rs)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
}

func TestAppendExpectationsAndIdempotence(t *testing.T) {
	_, c := start(t)
	ctx := t.Context()
	evs := events(2)
	first, err := c.AppendToStream(ctx, "s-1", kurrentdb.AppendToStreamOptions{StreamState: kurrentdb.NoStream{}}, evs...)
	if err != nil || first.NextExpectedVersion != 1 || first.CommitPosition == 0 || first.CommitPosition != first.PreparePosition {
		t.Fatalf("first append = %+v, %v", first, err)
	}
	// Retries of the same ids at the same place write nothing.
	for _, state := range []kurrentdb.StreamState{kurrentdb.NoStream{}, kurrentdb.Any{}} {
		again, err := c.AppendToStream(ctx, "s-1", kurrentdb.AppendToStreamOptions{StreamState: state}, evs...)
		if err != nil || again.NextExpectedVersion != 1 || again.CommitPosition != first.CommitPosition {
			t.Fatalf("retry with %T = %+v, %v; want the first result", state, again, err)
		}
	}
	// Other ids on a wrong expectation: WrongExpectedVersion.
	for _, state := range []kurrentdb.StreamState{kurrentdb.NoStream{}, kurrentdb.StreamRevision{Value: 0}, kurrentdb.StreamRevision{Value: 5}} {
		if _, err := c.AppendToStream(ctx, "s-1", kurrentdb.AppendToStreamOptions{StreamState: state}, events(1)...); code(err) != kurrentdb.ErrorCodeWrongExpectedVersion {
			t.Fatalf("append with %+v: %v, want WrongExpectedVersion", state, err)
		}
	}
	if _, err := c.AppendToStream(ctx, "s-2", kurrentdb.AppendToStreamOptions{StreamState: kurrentdb.StreamExists{}}, events(1)...); code(err) != kurrentdb.ErrorCodeWrongExpectedVersion {
		t.Fatalf("StreamExists on a missing stream: %v", err)
	}
	next, err := c.AppendToStream(ctx, "s-1", kurrentdb.AppendToStreamOptions{StreamState: kurrentdb.StreamRevision{Value: 1}}, events(1)...)
	if err != nil || next.NextExpectedVersion != 2 || next.CommitPosition <= first.CommitPosition {
		t.Fatalf("append at revision 1 = %+v, %v", next, err)
	}
	// KurrentDB lets an id be written to another stream.
	if _, err := c.AppendToStream(ctx, "s-3", kurrentdb.AppendToStreamOptions{}, evs[0]); err != nil {
		t.Fatalf("same id in another stream: %v", err)
	}

	got := collect(t)(c.ReadStream(ctx, "s-1", kurrentdb.ReadStreamOptions{}, 10))
	if len(got) != 3 || got[0].EventID != evs[0].EventID || got[1].EventNumber != 1 {
		t.Fatalf("stream holds %d events", len(got))
	}
	for _, e := range got {
		if e.EventType != "T" || e.ContentType != "application/json" || time.Since(e.CreatedDate) > time.Minute || e.Position.Commit != e.Position.Prepare {
			t.Fatalf("recorded event %+v lacks system metadata or positions", e)
		}
	}
	back := collect(t)(c.ReadStream(ctx, "s-1", kurrentdb.ReadStreamOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1))
	if len(back) != 1 || back[0].EventNumber != 2 {
		t.Fatalf("backwards read of 1 = %+v", back)
	}
}

func TestReadMissingStream(t *testing.T) {
	_, c := start(t)
	rs, err := c.ReadStream(t.Context(), "nope", kurrentdb.ReadStreamOptions{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	if _, err := rs.Recv(); code(err) != kurrentdb.ErrorCodeResourceNotFound {
		t.Fatalf("read of a missing stream: %v, want ResourceNotFound", err)
	}
}

func TestReadAll(t *testing.T) {
	_, c := start(t)
	ctx := t.Context()
	var positions []uint64
	for _, s := range []string{"a-1", "b-1", "a-2"} {
		r, err := c.AppendToStream(ctx, s, kurrentdb.AppendToStreamOptions{}, events(1)...)
		if err != nil {
			t.Fatal(err)
		}
		positions = append(positions, r.CommitPosition)
	}
	all := collect(t)(c.ReadAll(ctx, kurrentdb.ReadAllOptions{}, 100))
	if len(all) != 3 {
		t.Fatalf("$all holds %d events", len(all))
	}
	from := collect(t)(c.ReadAll(ctx, kurrentdb.ReadAllOptions{From: kurrentdb.Position{Commit: positions[1], Prepare: positions[1]}}, 100))
	if len(from) != 2 || from[0].Position.Commit != positions[1] {
		t.Fatalf("forwards from %d (inclusive) = %d events", positions[1], len(from))
	}
	last := collect(t)(c.ReadAll(ctx, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1))
	if len(last) != 1 || last[0].Position.Commit != positions[2] {
		t.Fatalf("backwards from the end = %+v", last)
	}
	below := collect(t)(c.ReadAll(ctx, kurrentdb.ReadAllOptions{Direction: kurrentdb.Backwards, From: kurrentdb.Position{Commit: positions[2], Prepare: positions[2]}}, 10))
	if len(below) != 2 || below[0].Position.Commit != positions[1] {
		t.Fatalf("backwards from %d (exclusive) = %d events", positions[2], len(below))
	}
}

func TestSubscribeFiltered(t *testing.T) {
	srv, c := start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var first uint64
	for i := range 10 {
		stream := "other-1"
		if i%3 == 0 {
			stream = "mine-1"
		}
		r, err := c.AppendToStream(ctx, stream, kurrentdb.AppendToStreamOptions{}, events(1)...)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = r.CommitPosition
		}
	}
	sub, err := c.SubscribeToAll(ctx, kurrentdb.SubscribeToAllOptions{
		From:               kurrentdb.Position{Commit: first, Prepare: first}, // exclusive
		Filter:             &kurrentdb.SubscriptionFilter{Type: kurrentdb.StreamFilterType, Prefixes: []string{"mine-"}},
		MaxSearchWindow:    2,
		CheckpointInterval: 1,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var got, checkpoints int
	for caughtUp := false; !caughtUp; {
		ev := sub.Recv()
		switch {
		case ev.EventAppeared != nil:
			if ev.EventAppeared.Event.StreamID != "mine-1" || ev.EventAppeared.Event.Position.Commit <= first {
				t.Fatalf("subscription delivered %s at %d", ev.EventAppeared.Event.StreamID, ev.EventAppeared.Event.Position.Commit)
			}
			got++
		case ev.CheckPointReached != nil:
			checkpoints++
		case ev.CaughtUp != nil:
			if ev.CaughtUp.Date.IsZero() {
				t.Fatal("caught-up without timestamp")
			}
			caughtUp = true
		case ev.SubscriptionDropped != nil:
			t.Fatalf("dropped: %v", ev.SubscriptionDropped.Error)
		}
	}
	if got != 3 || checkpoints != 4 {
		t.Fatalf("catch-up delivered %d events and %d checkpoints, want 3 and 4", got, checkpoints)
	}
	// Live events, then a drop.
	if _, err := c.AppendToStream(ctx, "mine-2", kurrentdb.AppendToStreamOptions{}, events(1)...); err != nil {
		t.Fatal(err)
	}
	if ev := sub.Recv(); ev.EventAppeared == nil || ev.EventAppeared.Event.StreamID != "mine-2" {
		t.Fatalf("live event: %+v", ev)
	}
	if n := srv.DropSubscriptions(); n != 1 {
		t.Fatalf("DropSubscriptions dropped %d", n)
	}
	for i := 0; ; i++ {
		ev := sub.Recv()
		if ev.SubscriptionDropped != nil {
			break
		}
		if ev.CheckPointReached == nil || i > 3 {
			t.Fatalf("after DropSubscriptions: %+v, want the drop", ev)
		}
	}
}

func TestUnavailableAndRestart(t *testing.T) {
	srv, c := start(t)
	ctx := t.Context()
	if _, err := c.AppendToStream(ctx, "s-1", kurrentdb.AppendToStreamOptions{}, events(1)...); err != nil {
		t.Fatal(err)
	}
	srv.UnavailableFor(300 * time.Millisecond)
	// The server ends the call with Unavailable at once, as KurrentDB does;
	// a client still sending its events then sees only io.EOF.
	if _, err := c.AppendToStream(ctx, "s-1", kurrentdb.AppendToStreamOptions{}, events(1)...); code(err) != kurrentdb.ErrorUnavailable && !errors.Is(err, io.EOF) {
		t.Fatalf("append while unavailable: %v, want ErrorUnavailable (or io.EOF)", err)
	}
	time.Sleep(350 * time.Millisecond)

	srv.StopListener()
	if err := srv.StartListener(); err != nil {
		t.Fatal(err)
	}
	// The data survives; a client reconnects (the first call after the
	// restart may fail while the client rediscovers).
	var n int
	deadline := time.Now().Add(10 * time.Second)
	for {
		rs, err := c.ReadStream(ctx, "s-1", kurrentdb.ReadStreamOptions{}, 10)
		if err == nil {
			var evs []*kurrentdb.RecordedEvent
			evs, err = drain(rs)
			n = len(evs)
		}
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read after restart: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n != 1 {
		t.Fatalf("stream holds %d events after restart, want 1", n)
	}
	if srv.Len() != 1 {
		t.Fatalf("Len = %d", srv.Len())
	}
}

func drain(rs *kurrentdb.ReadStream) ([]*kurrentdb.RecordedEvent, error) {
	defer rs.Close()
	var out []*kurrentdb.RecordedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		out = append(out, ev.Event)
	}
}
