package kurrent

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/eventstoretest"
)

func TestContract(t *testing.T) {
	url := sharedURL(t)
	eventstoretest.Run(t,
		func(t *testing.T) eventstore.Store { return openStore(t, url) },
		eventstoretest.Capabilities{
			IdempotencyKeys: true,
			// The database is durable (the test server outlives its
			// clients); reopening is connecting again to the same
			// namespace.
			DurableAcrossReopen: true,
			Reopen: func(t *testing.T) eventstoretest.Constructor {
				ns := newNamespace()
				return func(t *testing.T) eventstore.Store { return openStore(t, url, WithNamespace(ns)) }
			},
		})
}

func TestOpenUnreachable(t *testing.T) {
	// A port nobody listens on.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()

	start := time.Now()
	s, err := Open(t.Context(), "esdb://"+addr+"?tls=false", WithOpenTimeout(5*time.Second), WithStreamPrefixes(eventstoretest.StreamPrefix))
	if err == nil {
		_ = s.Close()
		t.Fatal("Open on a closed port succeeded")
	}
	msg := err.Error()
	t.Logf("Open error: %s", msg)
	if !strings.HasPrefix(msg, "connect to KurrentDB at "+addr+": ") || strings.Contains(msg, "\n") {
		t.Fatalf("Open error = %q, want one line starting with %q", msg, "connect to KurrentDB at "+addr+": ")
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Open error %v does not wrap ErrUnavailable", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Open took %s to fail", d)
	}
}

func TestOpenRejectsBadConfig(t *testing.T) {
	for _, c := range []struct {
		name string
		url  string
		opts []Option
		want string
	}{
		{"bad scheme", "http://127.0.0.1:2113", []Option{WithStreamPrefixes(eventstoretest.StreamPrefix)}, "parse connection string"},
		{"prefixes not given", "esdb://127.0.0.1:1?tls=false", nil, "no stream prefixes"},
		{"empty prefix", "esdb://127.0.0.1:1?tls=false", []Option{WithStreamPrefixes("")}, "empty stream prefix"},
		{"prefix covers claims", "esdb://127.0.0.1:1?tls=false", []Option{WithStreamPrefixes("sam")}, "bookkeeping"},
		{"no prefixes", "esdb://127.0.0.1:1?tls=false", []Option{WithStreamPrefixes()}, "no stream prefixes"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(t.Context(), c.url, c.opts...)
			if err == nil {
				_ = s.Close()
				t.Fatalf("Open succeeded")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Open error %q does not mention %q", err, c.want)
			}
		})
	}
}

func TestAppendOutsidePrefixes(t *testing.T) {
	s := openStore(t, sharedURL(t))
	_, err := s.Append(t.Context(), eventstore.AppendRequest{StreamID: "other-1", Events: []eventstore.NewEvent{newEvent("X")}})
	if !errors.Is(err, eventstore.ErrInvalidAppend) {
		t.Fatalf("Append outside the prefixes: %v, want ErrInvalidAppend", err)
	}
	_, err = s.Append(t.Context(), eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{func() eventstore.NewEvent {
		e := newEvent("X")
		e.EventID = "not-a-uuid"
		return e
	}()}})
	if !errors.Is(err, eventstore.ErrInvalidAppend) {
		t.Fatalf("Append with a non-UUID event id: %v, want ErrInvalidAppend", err)
	}
}

// TestStreamPrefixes checks that ReadAll, Head and HeadMoved see exactly
// the streams of the configured prefixes, and that the bookkeeping streams
// stay out.
func TestStreamPrefixes(t *testing.T) {
	url := sharedURL(t)
	ns := newNamespace()
	topics := openStore(t, url, WithNamespace(ns), WithStreamPrefixes("topic-", "queue-"))
	partnerships := openStore(t, url, WithNamespace(ns))

	a := mustAppend(t, partnerships, streamID(), eventstore.NoStream(), newEvent("A"))
	moved := topics.HeadMoved()
	b := mustAppend(t, topics, "topic-1", eventstore.Any(), newEvent("B"))
	c := mustAppend(t, topics, "queue-1", eventstore.Any(), newEvent("C"))
	if !closedWithin(moved, 5*time.Second) {
		t.Fatal("HeadMoved of the topic store did not fire")
	}
	all, err := topics.ReadAll(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Position != b.LastPosition() || all[1].Position != c.LastPosition() || all[0].StreamID != "topic-1" {
		t.Fatalf("topic store ReadAll = %+v, want topic-1 and queue-1", all)
	}
	if h, err := topics.Head(t.Context()); err != nil || h != c.LastPosition() {
		t.Fatalf("topic store Head = %d, %v; want %d", h, err, c.LastPosition())
	}
	all, err = partnerships.ReadAll(t.Context(), 0, 10)
	if err != nil || len(all) != 1 || all[0].Position != a.LastPosition() {
		t.Fatalf("partnership store ReadAll = %+v, %v; want only its event", all, err)
	}
	if h, err := partnerships.Head(t.Context()); err != nil || h != a.LastPosition() {
		t.Fatalf("partnership store Head = %d, %v; want %d", h, err, a.LastPosition())
	}
}

// TestHeadScansPastOtherStreams checks Head on a fresh store whose events
// lie below many events of other namespaces.
func TestHeadScansPastOtherStreams(t *testing.T) {
	url := sharedURL(t)
	mine := openStore(t, url)
	res := mustAppend(t, mine, streamID(), eventstore.NoStream(), newEvent("Mine"))
	other := openStore(t, url)
	for range 100 {
		mustAppend(t, other, streamID(), eventstore.NoStream(), newEvent("Other"))
	}
	again := openStore(t, url, WithNamespace(mine.ns))
	if h, err := again.Head(t.Context()); err != nil || h != res.LastPosition() {
		t.Fatalf("Head = %d, %v; want %d", h, err, res.LastPosition())
	}
	// A cached head is still right after more foreign events.
	mustAppend(t, other, streamID(), eventstore.NoStream(), newEvent("Other"))
	if h, err := again.Head(t.Context()); err != nil || h != res.LastPosition() {
		t.Fatalf("Head again = %d, %v; want %d", h, err, res.LastPosition())
	}
}

// TestInterruptedClaims checks that a retried append of events whose
// first try lost its claims' release (a crash between claim and append)
// goes ahead in the same stream and is refused in another.
func TestInterruptedClaims(t *testing.T) {
	url := sharedURL(t)
	s := openStore(t, url)
	stream := streamID()
	ev := newEvent("X")
	ids, err := uuidsOf(ev)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.current()
	if err != nil {
		t.Fatal(err)
	}
	// Claim as a crashed append to stream would have left it.
	if _, _, err := s.claimAll(t.Context(), c, ids, s.name(stream), "crashed", time.Now()); err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(t.Context(), eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{ev}})
	if !errors.Is(err, eventstore.ErrDuplicateEventID) {
		t.Fatalf("append of an id claimed for another stream: %v, want ErrDuplicateEventID", err)
	}
	res := mustAppend(t, s, stream, eventstore.NoStream(), ev)
	if res.Deduplicated || res.FirstVersion != 1 {
		t.Fatalf("retry in the claimed stream = %+v, want a fresh write at version 1", res)
	}
	again := mustAppend(t, s, stream, eventstore.NoStream(), ev)
	if !again.Deduplicated || again.LastPosition() != res.LastPosition() {
		t.Fatalf("second retry = %+v, want Deduplicated at %d", again, res.LastPosition())
	}
}

// TestInterruptedKeyReservation checks that a reservation whose append
// never landed lets the same request through and refuses another.
func TestInterruptedKeyReservation(t *testing.T) {
	s := openStore(t, sharedURL(t))
	stream := streamID()
	c, err := s.current()
	if err != nil {
		t.Fatal(err)
	}
	key := "key-" + newNamespace()
	if _, err := s.reserveKey(t.Context(), c, eventstore.Idempotency{Key: key, RequestHash: "h1"}, s.name(stream), "crashed", time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.LookupIdempotency(t.Context(), key); err != nil || ok {
		t.Fatalf("LookupIdempotency of an unlanded reservation = %v, %v; want false", ok, err)
	}
	req := func(hash string) eventstore.AppendRequest {
		return eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{newEvent("X")},
			Idempotency: &eventstore.Idempotency{Key: key, RequestHash: hash}}
	}
	if _, err := s.Append(t.Context(), req("h2")); !errors.Is(err, eventstore.ErrIdempotencyKeyUsed) {
		t.Fatalf("append with another hash: %v, want ErrIdempotencyKeyUsed", err)
	}
	res, err := s.Append(t.Context(), req("h1"))
	if err != nil {
		t.Fatalf("append with the reserving hash: %v", err)
	}
	rec, ok, err := s.LookupIdempotency(t.Context(), key)
	if err != nil || !ok || rec.RequestHash != "h1" || rec.Position != res.LastPosition() || rec.StreamID != stream {
		t.Fatalf("LookupIdempotency = %+v, %v, %v", rec, ok, err)
	}
	if _, err := s.Append(t.Context(), req("h1")); !errors.Is(err, eventstore.ErrIdempotencyKeyUsed) {
		t.Fatalf("append after the key landed: %v, want ErrIdempotencyKeyUsed", err)
	}
}

func TestCloseStopsGoroutines(t *testing.T) {
	srv := startServer(t)
	s, err := Open(t.Context(), srv.URL(), WithLogger(testLogger()), WithStreamPrefixes(eventstoretest.StreamPrefix))
	if err != nil {
		t.Fatal(err)
	}
	mustAppend(t, s, streamID(), eventstore.NoStream(), newEvent("X"))
	eventually(t, 5*time.Second, "the HeadMoved subscription is active", func() bool { return srv.Subscriptions() == 1 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	expectNoOwnGoroutines(t)
	eventually(t, 5*time.Second, "the server sees the subscription end", func() bool { return srv.Subscriptions() == 0 })
	if _, err := s.ReadAll(context.Background(), 0, 1); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadAll after Close: %v", err)
	}
}

func TestHostOfHidesCredentials(t *testing.T) {
	for in, want := range map[string]string{
		"esdb://127.0.0.1:2113?tls=false":                          "127.0.0.1:2113",
		"esdb://admin:changeit@db.example:2113":                    "db.example:2113",
		"esdb+discover://admin:secret@n1:2113,n2:2113,n3:2113?x=1": "n1:2113,n2:2113,n3:2113",
	} {
		if got := hostOf(in); got != want {
			t.Errorf("hostOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenTimesOutOnSilentServer(t *testing.T) {
	// A listener that accepts connections and never answers.
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := lis.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		_ = lis.Close()
		<-done
		for _, c := range conns {
			_ = c.Close()
		}
	})
	start := time.Now()
	s, err := Open(t.Context(), "esdb://"+lis.Addr().String()+"?tls=false", WithOpenTimeout(time.Second), WithStreamPrefixes(eventstoretest.StreamPrefix))
	if err == nil {
		_ = s.Close()
		t.Fatal("Open on a silent server succeeded")
	}
	if !strings.Contains(err.Error(), "no answer within 1s") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Open error = %q, want one line saying there was no answer", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Open took %s with a 1s timeout", d)
	}
}
