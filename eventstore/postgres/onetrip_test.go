package postgres

import (
	"errors"
	"slices"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgtest"
)

// TestBatchInOneRoundTrip: a batch whose appends each pin the version of
// a stream of their own is written in one round trip (onetrip.go), its
// events numbered in queue order without a gap; a batch that does not
// qualify, or whose checks fail, is decided request by request on the
// general path, as if the one round trip had not been tried.
func TestBatchInOneRoundTrip(t *testing.T) {
	t.Parallel()
	s := openAt(t, pgtest.URL(t))
	ctx := t.Context()
	a, b, c := streamID(), streamID(), streamID()
	mustAppend(t, s, eventstore.AppendRequest{StreamID: a, Expected: eventstore.Any(), Events: []eventstore.NewEvent{event("PartnershipInitiated")}})

	commit := func(reqs ...*request) {
		t.Helper()
		s.queue.Commit(reqs)
		for _, r := range reqs {
			<-r.Done()
		}
	}
	oneTrips := func() uint64 { return s.stats.oneTrip.Load() }

	// Three appends, streams of their own, versions pinned: one trip.
	r1 := queued(t, ctx, eventstore.AppendRequest{StreamID: a, Expected: eventstore.Exactly(1), Events: []eventstore.NewEvent{event("PartnerJoined"), event("GoalChanged")}})
	r2 := queued(t, ctx, eventstore.AppendRequest{StreamID: b, Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{event("PartnershipInitiated")}})
	r3 := queued(t, ctx, eventstore.AppendRequest{StreamID: c, Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{event("PartnershipInitiated"), event("PartnerJoined"), event("MilestoneLogged")}})
	before := oneTrips()
	commit(r1, r2, r3)
	if got := oneTrips() - before; got != 3 {
		t.Fatalf("%d appends written in one round trip; want the batch's 3", got)
	}
	var positions []uint64
	for i, c := range []struct {
		r           *request
		first, last uint64
	}{{r1, 2, 3}, {r2, 1, 1}, {r3, 1, 3}} {
		if c.r.Err != nil || c.r.Res.FirstVersion != c.first || c.r.Res.LastVersion != c.last {
			t.Fatalf("request %d: %+v, %v; want versions %d-%d", i+1, c.r.Res, c.r.Err, c.first, c.last)
		}
		positions = append(positions, c.r.Res.Positions...)
	}
	if want := []uint64{2, 3, 4, 5, 6, 7}; !slices.Equal(positions, want) {
		t.Fatalf("positions %v; want %v (queue order, after the first event)", positions, want)
	}
	log := readAll(t, s)
	for i, e := range log[1:] {
		wantID := []*request{r1, r1, r2, r3, r3, r3}[i]
		if e.Position != positions[i] || e.StreamID != wantID.req.StreamID {
			t.Fatalf("log event at %d in %s; want position %d in %s", e.Position, e.StreamID, positions[i], wantID.req.StreamID)
		}
	}

	// A stale version in one append: the one trip writes nothing, the
	// general path accepts the others and refuses that one.
	d := streamID()
	r4 := queued(t, ctx, eventstore.AppendRequest{StreamID: d, Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{event("PartnershipInitiated")}})
	r5 := queued(t, ctx, eventstore.AppendRequest{StreamID: a, Expected: eventstore.Exactly(1), Events: []eventstore.NewEvent{event("PartnerLeft")}})
	// A retry of r2 (same ids, same expectation) beside a new append.
	r6 := queued(t, ctx, r2.req)
	before = oneTrips()
	commit(r4, r5, r6)
	if got := oneTrips() - before; got != 0 {
		t.Fatalf("%d appends of a batch with a stale version written in one round trip; want 0", got)
	}
	if r4.Err != nil || r4.Res.Positions[0] != 8 {
		t.Fatalf("request 4: %+v, %v; want position 8", r4.Res, r4.Err)
	}
	if !errors.Is(r5.Err, eventstore.ErrVersionConflict) {
		t.Fatalf("request 5: %v; want ErrVersionConflict", r5.Err)
	}
	if r6.Err != nil || !r6.Res.Deduplicated || r6.Res.Positions[0] != r2.Res.Positions[0] {
		t.Fatalf("retry of request 2: %+v, %v; want it deduplicated at %d", r6.Res, r6.Err, r2.Res.Positions[0])
	}

	// Two appends to one stream: not one trip; both written in order.
	r7 := queued(t, ctx, eventstore.AppendRequest{StreamID: d, Expected: eventstore.Exactly(1), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	r8 := queued(t, ctx, eventstore.AppendRequest{StreamID: d, Expected: eventstore.Exactly(2), Events: []eventstore.NewEvent{event("PartnerLeft")}})
	before = oneTrips()
	commit(r7, r8)
	if got := oneTrips() - before; got != 0 || r7.Err != nil || r8.Err != nil || r8.Res.Positions[0] != 10 {
		t.Fatalf("one trip %d, request 7 %v, request 8 %+v %v; want the general path to write both, 8 at position 10",
			got, r7.Err, r8.Res, r8.Err)
	}
	if head, err := s.Head(ctx); err != nil || head != 10 {
		t.Fatalf("Head = %d, %v; want 10, no gap", head, err)
	}
}
