package postgres

import (
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgtest"
)

// listening waits until s's LISTEN connection is up and returns its
// backend pid.
func listening(t *testing.T, s *Store) uint32 {
	t.Helper()
	var pid uint32
	eventually(t, 10*time.Second, "the store's LISTEN connection is not up", func() bool {
		pid = s.listenPID.Load()
		return pid != 0
	})
	return pid
}

func TestHeadMovedAcrossInstances(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	a := openAt(t, url)
	b := openAt(t, url, WithReconnectBackoff(300*time.Millisecond, time.Second))
	pid := listening(t, b)

	// An append through a moves b's head.
	ch := b.HeadMoved()
	res := mustAppend(t, a, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	if !closedWithin(ch, 5*time.Second) {
		t.Fatalf("b's HeadMoved did not fire within 5s of a's append at %d", res.LastPosition())
	}
	if head, err := b.Head(t.Context()); err != nil || head != res.LastPosition() {
		t.Fatalf("b.Head = %d, %v; want %d", head, err, res.LastPosition())
	}
	// So does one written in one round trip, whose NOTIFY is part of its
	// INSERT statement (onetrip.go).
	ch = b.HeadMoved()
	oneTrips := a.stats.oneTrip.Load()
	res = mustAppend(t, a, eventstore.AppendRequest{StreamID: streamID(), Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	if a.stats.oneTrip.Load() != oneTrips+1 {
		t.Fatal("an append pinning its version was not written in one round trip")
	}
	if !closedWithin(ch, 5*time.Second) {
		t.Fatalf("b's HeadMoved did not fire within 5s of a's append in one round trip at %d", res.LastPosition())
	}

	// b's own append fires once: its own notification, arriving later,
	// does not fire the next channel.
	own := b.HeadMoved()
	mustAppend(t, b, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	if !closedWithin(own, time.Second) {
		t.Fatal("b's HeadMoved did not fire for b's own append")
	}
	next := b.HeadMoved()
	if closedWithin(next, 300*time.Millisecond) {
		t.Fatal("b's HeadMoved fired again for its own append's notification")
	}

	// The LISTEN connection dies; an append made while it is down (b waits
	// 300 ms before reconnecting) is noticed on reconnect.
	if _, err := rawConn(t, url).Exec(t.Context(), `SELECT pg_terminate_backend($1)`, int(pid)); err != nil {
		t.Fatalf("terminate b's LISTEN connection: %v", err)
	}
	eventually(t, 5*time.Second, "b did not notice its LISTEN connection dying", func() bool { return b.listenPID.Load() != pid })
	res = mustAppend(t, a, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	if !closedWithin(next, 10*time.Second) {
		t.Fatalf("b's HeadMoved did not fire after reconnecting (append at %d made while it was down)", res.LastPosition())
	}
	eventually(t, 5*time.Second, "b did not reconnect", func() bool { return b.stats.reconnects.Load() >= 1 && b.listenPID.Load() != 0 })

	// And it listens again.
	ch = b.HeadMoved()
	mustAppend(t, a, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	if !closedWithin(ch, 5*time.Second) {
		t.Fatal("b's HeadMoved did not fire for an append after the reconnect")
	}
}

func TestImportWakesOtherInstances(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	a, b := openAt(t, url), openAt(t, url)
	listening(t, b)
	src := openAt(t, pgtest.URL(t))
	mustAppend(t, src, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined"), event("PartnerJoined")}})
	ch := b.HeadMoved()
	if n, err := a.Import(t.Context(), readAll(t, src)); err != nil || n != 2 {
		t.Fatalf("Import = %d, %v; want 2", n, err)
	}
	if !closedWithin(ch, 5*time.Second) {
		t.Fatal("b's HeadMoved did not fire after a's import")
	}
}
