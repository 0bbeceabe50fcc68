// Package eventstoretest is the contract every eventstore.Store adapter must
// pass. An adapter's test calls Run with a constructor for fresh, empty
// stores and the Capabilities it promises; the suite runs every rule of the
// port as a subtest and skips the ones that depend on a promise the adapter
// does not make.
//
//	func TestContract(t *testing.T) {
//		eventstoretest.Run(t, newStore, eventstoretest.Capabilities{IdempotencyKeys: true})
//	}
//
// Every subtest opens its own store (or shares one among leaves that use
// distinct streams) and names its streams partnership-<uuid>, so subtests run
// in parallel.
package eventstoretest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/contract"
)

// Capabilities lists the promises an adapter may not make. The zero value
// is the smallest adapter: the tests of promises it does not make are
// skipped, everything else is required.
type Capabilities struct {
	// IdempotencyKeys means the adapter stores AppendRequest.Idempotency
	// atomically with the events: LookupIdempotency finds it, and a second
	// append with the same key is ErrIdempotencyKeyUsed.
	IdempotencyKeys bool
	// DurableAcrossReopen means a store that is closed and opened again
	// holds everything acknowledged before, and goes on from there. It
	// requires Reopen.
	DurableAcrossReopen bool
	// Reopen makes stores that can be closed and opened again; required
	// when DurableAcrossReopen is set.
	Reopen Reopener
	// ClockTolerance is how far recorded_at may lie from the test's clock
	// (a server's clock may drift from the test machine's). Zero means two
	// seconds.
	ClockTolerance time.Duration
}

// Constructor returns a fresh, empty store. It registers its own cleanup
// (t.Cleanup) to close the store and remove what it made; the suite may
// already have closed the store by then, so closing twice must be harmless.
// It calls t.Fatal if the store cannot be made.
type Constructor func(t *testing.T) eventstore.Store

// Reopener prepares a new, empty place for a store and returns a
// Constructor that opens the store at that place: the first call sees an
// empty store, and a call made after the previous store was closed sees
// everything that store acknowledged.
type Reopener func(t *testing.T) Constructor

// Run runs the whole contract against stores made by newStore. It calls
// t.Run once per rule; the subtests run in parallel with each other but
// not with the caller's other tests.
func Run(t *testing.T, newStore Constructor, caps Capabilities) {
	t.Helper()
	run(t, newStore, caps, nil)
}

// rules is the list of top-level subtests, in the order they are
// reported.
var rules = []struct {
	name string
	fn   func(*suite, *testing.T)
}{
	{"RoundTrip", (*suite).testRoundTrip},
	{"Ordering", (*suite).testOrdering},
	{"ExpectedVersion", (*suite).testExpectedVersion},
	{"MultiEventAtomicity", (*suite).testMultiEventAtomicity},
	{"ReadStreamUnknown", (*suite).testReadStreamUnknown},
	{"ReadStreamAfter", (*suite).testReadStreamAfter},
	{"StorageProbe", (*suite).testStorageProbe},
	{"EventIDIdempotency", (*suite).testEventIDIdempotency},
	{"IdempotencyKeys", (*suite).testIdempotencyKeys},
	{"ConcurrentWriters", (*suite).testConcurrentWriters},
	{"ConcurrentVisibility", (*suite).testConcurrentVisibility},
	{"HeadMoved", (*suite).testHeadMoved},
	{"ReadAllPaging", (*suite).testReadAllPaging},
	{"CancelledContext", (*suite).testCancelledContext},
	{"InvalidAppend", (*suite).testInvalidAppend},
	{"Closed", (*suite).testClosed},
	{"DurableAcrossReopen", (*suite).testDurableAcrossReopen},
}

// run runs the subtests whose name only accepts (all when only is nil).
// The package's own tests use it to run a few subtests against broken
// stores.
func run(t *testing.T, newStore Constructor, caps Capabilities, only func(name string) bool) {
	t.Helper()
	if newStore == nil {
		t.Fatal("eventstoretest: nil Constructor")
	}
	if caps.DurableAcrossReopen && caps.Reopen == nil {
		t.Fatal("eventstoretest: Capabilities.DurableAcrossReopen needs Capabilities.Reopen")
	}
	if caps.ClockTolerance <= 0 {
		caps.ClockTolerance = 2 * time.Second
	}
	s := &suite{newStore: newStore, caps: caps}
	for _, c := range rules {
		if only != nil && !only(c.name) {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(s, t)
		})
	}
}

type suite struct {
	newStore Constructor
	caps     Capabilities
}

// newStreamID returns a stream id no other test uses.
func newStreamID() string { return StreamPrefix + uuid.NewString() }

// StreamPrefix starts the id of every stream the suite writes: a store
// that holds only some streams (eventstore/kurrent's stream prefixes) must
// hold these.
const StreamPrefix = "partnership-"

// newEvent returns a complete event of type typ with a fresh id.
func newEvent(typ string) eventstore.NewEvent {
	return eventstore.NewEvent{
		EventID:       uuid.NewString(),
		Type:          typ,
		SchemaVersion: 1,
		OccurredAt:    time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC),
		Metadata:      eventstore.Metadata{Actor: eventstore.Actor{Subject: "contract-test", Role: "coordinator"}},
		Data:          json.RawMessage(`{"note":"contract test"}`),
	}
}

// newEvents returns n events of type MilestoneLogged.
func newEvents(n int) []eventstore.NewEvent {
	es := make([]eventstore.NewEvent, n)
	for i := range es {
		es[i] = newEvent("MilestoneLogged")
		es[i].Data = json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))
	}
	return es
}

func ids[E eventstore.NewEvent | eventstore.RecordedEvent](events []E) []string {
	out := make([]string, len(events))
	for i, e := range events {
		switch e := any(e).(type) {
		case eventstore.NewEvent:
			out[i] = e.EventID
		case eventstore.RecordedEvent:
			out[i] = e.EventID
		}
	}
	return out
}

func appendReq(stream string, exp eventstore.ExpectedVersion, events ...eventstore.NewEvent) eventstore.AppendRequest {
	return eventstore.AppendRequest{StreamID: stream, Expected: exp, Events: events}
}

// mustAppend appends and fails the test on error; it checks the result's
// shape.
func mustAppend(t *testing.T, s eventstore.Store, req eventstore.AppendRequest) eventstore.AppendResult {
	t.Helper()
	res, err := s.Append(contract.Context(t), req)
	if err != nil {
		t.Fatalf("Append(%s, expected %s, %d events): %v", req.StreamID, req.Expected, len(req.Events), err)
	}
	if len(res.Positions) != len(req.Events) {
		t.Fatalf("Append(%s): %d positions for %d events", req.StreamID, len(res.Positions), len(req.Events))
	}
	if res.LastVersion-res.FirstVersion+1 != uint64(len(req.Events)) || res.FirstVersion == 0 {
		t.Fatalf("Append(%s): versions %d..%d for %d events", req.StreamID, res.FirstVersion, res.LastVersion, len(req.Events))
	}
	return res
}

// appendFails appends, expecting an error that errors.Is want.
func appendFails(t *testing.T, s eventstore.Store, req eventstore.AppendRequest, want error) {
	t.Helper()
	res, err := s.Append(contract.Context(t), req)
	if !errors.Is(err, want) {
		t.Fatalf("Append(%s, expected %s, %d events) = %+v, %v; want an error wrapping %q",
			req.StreamID, req.Expected, len(req.Events), res, err, want)
	}
}

func mustReadStream(t *testing.T, s eventstore.Store, stream string) []eventstore.RecordedEvent {
	t.Helper()
	events, err := s.ReadStream(contract.Context(t), stream)
	if err != nil {
		t.Fatalf("ReadStream(%s): %v", stream, err)
	}
	return events
}

func mustHead(t *testing.T, s eventstore.Store) uint64 {
	t.Helper()
	head, err := s.Head(contract.Context(t))
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	return head
}

// readAll reads the whole log, page by page.
func readAll(t *testing.T, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	var after uint64
	for {
		page, err := s.ReadAll(contract.Context(t), after, 100)
		if err != nil {
			t.Fatalf("ReadAll(after %d, 100): %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		if len(page) > 100 {
			t.Fatalf("ReadAll(after %d, 100) returned %d events", after, len(page))
		}
		for _, e := range page {
			if e.Position <= after {
				t.Fatalf("ReadAll(after %d) returned position %d, not above the previous one", after, e.Position)
			}
			after = e.Position
		}
		all = append(all, page...)
	}
}

// assertStreamLen checks the stream's length (0: not found).
func assertStreamLen(t *testing.T, s eventstore.Store, stream string, want int) {
	t.Helper()
	events, err := s.ReadStream(contract.Context(t), stream)
	if want == 0 {
		if !errors.Is(err, eventstore.ErrStreamNotFound) {
			t.Fatalf("ReadStream(%s) = %d events, %v; want ErrStreamNotFound", stream, len(events), err)
		}
		return
	}
	if err != nil {
		t.Fatalf("ReadStream(%s): %v", stream, err)
	}
	if len(events) != want {
		t.Fatalf("ReadStream(%s) has %d events, want %d", stream, len(events), want)
	}
}

// assertLogUnchanged checks that the log still is exactly before.
func assertLogUnchanged(t *testing.T, s eventstore.Store, before []eventstore.RecordedEvent) {
	t.Helper()
	after := readAll(t, s)
	if !slices.Equal(ids(after), ids(before)) {
		t.Fatalf("log changed: had %d events %v, now %d events %v", len(before), ids(before), len(after), ids(after))
	}
	var head uint64
	if len(before) > 0 {
		head = before[len(before)-1].Position
	}
	if got := mustHead(t, s); got != head {
		t.Fatalf("Head = %d, want %d (unchanged)", got, head)
	}
}

// diffRecorded describes how got differs from want, "" if they are the
// same event. Data is compared as JSON values.
func diffRecorded(got, want eventstore.RecordedEvent) string {
	var d []string
	check := func(field string, ok bool, g, w any) {
		if !ok {
			d = append(d, fmt.Sprintf("%s = %v, want %v", field, g, w))
		}
	}
	check("event_id", got.EventID == want.EventID, got.EventID, want.EventID)
	check("type", got.Type == want.Type, got.Type, want.Type)
	check("schema_version", got.SchemaVersion == want.SchemaVersion, got.SchemaVersion, want.SchemaVersion)
	check("stream_id", got.StreamID == want.StreamID, got.StreamID, want.StreamID)
	check("version", got.Version == want.Version, got.Version, want.Version)
	check("position", got.Position == want.Position, got.Position, want.Position)
	check("occurred_at", got.OccurredAt.Equal(want.OccurredAt), got.OccurredAt, want.OccurredAt)
	check("recorded_at", got.RecordedAt.Equal(want.RecordedAt), got.RecordedAt, want.RecordedAt)
	check("metadata", got.Metadata == want.Metadata, got.Metadata, want.Metadata)
	if ok, err := jsonEqual(got.Data, want.Data); !ok {
		d = append(d, fmt.Sprintf("data = %s, want %s (%v)", got.Data, want.Data, err))
	}
	return strings.Join(d, "; ")
}

// jsonEqual reports whether a and b hold the same JSON value.
func jsonEqual(a, b []byte) (bool, error) {
	var va, vb any
	if err := json.Unmarshal(a, &va); err != nil {
		return false, fmt.Errorf("got: %w", err)
	}
	if err := json.Unmarshal(b, &vb); err != nil {
		return false, fmt.Errorf("want: %w", err)
	}
	return reflect.DeepEqual(va, vb), nil
}

// assertRecordedAt checks that a store-set time is UTC and close to the
// window [from, to] of the test's clock.
func (s *suite) assertRecordedAt(t *testing.T, what string, got, from, to time.Time) {
	t.Helper()
	if got.Location() != time.UTC {
		t.Fatalf("%s recorded_at %v is in %v, want UTC", what, got, got.Location())
	}
	tol := s.caps.ClockTolerance
	if got.Before(from.Add(-tol)) || got.After(to.Add(tol)) {
		t.Fatalf("%s recorded_at %v is not within %v of the append (%v .. %v)", what, got, tol, from.UTC(), to.UTC())
	}
}

func (s *suite) testRoundTrip(t *testing.T) {
	ctx := contract.Context(t)
	st := s.newStore(t)
	stream := newStreamID()
	oslo := time.FixedZone("CEST", 2*60*60)
	want := []eventstore.NewEvent{
		{
			EventID:       uuid.NewString(),
			Type:          "PartnershipInitiated",
			SchemaVersion: 1,
			OccurredAt:    time.Date(2024, 5, 17, 14, 3, 9, 123456789, oslo),
			Metadata: eventstore.Metadata{
				Actor:          eventstore.Actor{Subject: "user-42", Role: "coordinator"},
				CorrelationID:  "corr-" + uuid.NewString(),
				CausationID:    "cause-" + uuid.NewString(),
				IdempotencyKey: "idem-" + uuid.NewString(),
			},
			Data: json.RawMessage(`{"title":"Frivillig \"sentral\" i Ålesund","goals":["a","b"],"amount_nok":1500000,"ratio":0.25,"nested":{"x":null,"ok":true}}`),
		},
		{
			EventID:       uuid.NewString(),
			Type:          "GoalChanged",
			SchemaVersion: 2,
			OccurredAt:    time.Date(1999, 12, 31, 23, 59, 59, 1, time.UTC),
			Metadata:      eventstore.Metadata{Actor: eventstore.Actor{Subject: "svc", Role: "system"}},
			Data:          json.RawMessage(` [ 1, "two", {"three": 3} ] `),
		},
	}
	from := time.Now()
	res := mustAppend(t, st, appendReq(stream, eventstore.NoStream(), want...))
	to := time.Now()
	if res.FirstVersion != 1 || res.LastVersion != 2 || res.Deduplicated {
		t.Fatalf("Append result %+v, want versions 1..2, not deduplicated", res)
	}
	if res.Positions[0] == 0 || res.Positions[1] <= res.Positions[0] {
		t.Fatalf("Append positions %v, want positive and increasing", res.Positions)
	}
	if res.LastPosition() != res.Positions[1] {
		t.Fatalf("LastPosition() = %d, want %d", res.LastPosition(), res.Positions[1])
	}

	got := mustReadStream(t, st, stream)
	if len(got) != len(want) {
		t.Fatalf("ReadStream(%s) has %d events, want %d", stream, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		s.assertRecordedAt(t, "event "+g.EventID, g.RecordedAt, from, to)
		wantRec := eventstore.RecordedEvent{
			EventID: w.EventID, Type: w.Type, SchemaVersion: w.SchemaVersion,
			StreamID: stream, Version: uint64(i + 1), Position: res.Positions[i],
			OccurredAt: w.OccurredAt, RecordedAt: g.RecordedAt, Metadata: w.Metadata, Data: w.Data,
		}
		if d := diffRecorded(g, wantRec); d != "" {
			t.Fatalf("ReadStream event %d: %s", i, d)
		}
		if g.OccurredAt.Location() != time.UTC {
			t.Fatalf("event %d occurred_at %v is in %v, want UTC", i, g.OccurredAt, g.OccurredAt.Location())
		}
		if g.OccurredAt.Nanosecond() != w.OccurredAt.Nanosecond() {
			t.Fatalf("event %d occurred_at has %d ns, want %d", i, g.OccurredAt.Nanosecond(), w.OccurredAt.Nanosecond())
		}
	}

	all, err := st.ReadAll(ctx, 0, 10)
	if err != nil {
		t.Fatalf("ReadAll(0, 10): %v", err)
	}
	if len(all) != len(got) {
		t.Fatalf("ReadAll(0, 10) has %d events, want %d", len(all), len(got))
	}
	for i := range all {
		if d := diffRecorded(all[i], got[i]); d != "" {
			t.Fatalf("ReadAll event %d differs from ReadStream: %s", i, d)
		}
	}
}

func (s *suite) testOrdering(t *testing.T) {
	st := s.newStore(t)
	a, b := newStreamID(), newStreamID()
	type step struct {
		stream string
		exp    eventstore.ExpectedVersion
		n      int
	}
	steps := []step{
		{a, eventstore.NoStream(), 1},
		{b, eventstore.NoStream(), 2},
		{a, eventstore.Exactly(1), 3},
		{b, eventstore.Exactly(2), 1},
		{a, eventstore.Any(), 1},
		{b, eventstore.Any(), 4},
	}
	var order []string
	perStream := map[string][]string{}
	positions := map[string]uint64{}
	for _, sp := range steps {
		events := newEvents(sp.n)
		res := mustAppend(t, st, appendReq(sp.stream, sp.exp, events...))
		if want := uint64(len(perStream[sp.stream]) + 1); res.FirstVersion != want {
			t.Fatalf("Append to %s landed at version %d, want %d", sp.stream, res.FirstVersion, want)
		}
		for i, e := range events {
			positions[e.EventID] = res.Positions[i]
		}
		order = append(order, ids(events)...)
		perStream[sp.stream] = append(perStream[sp.stream], ids(events)...)
	}
	for _, stream := range []string{a, b} {
		got := mustReadStream(t, st, stream)
		if !slices.Equal(ids(got), perStream[stream]) {
			t.Fatalf("ReadStream(%s) = %v, want %v", stream, ids(got), perStream[stream])
		}
		for i, e := range got {
			if e.Version != uint64(i+1) || e.StreamID != stream {
				t.Fatalf("ReadStream(%s)[%d] is %s version %d, want %s version %d", stream, i, e.StreamID, e.Version, stream, i+1)
			}
		}
	}
	all := readAll(t, st)
	if !slices.Equal(ids(all), order) {
		t.Fatalf("ReadAll order %v, want append order %v", ids(all), order)
	}
	for _, e := range all {
		if e.Position != positions[e.EventID] {
			t.Fatalf("event %s is at position %d in ReadAll, Append reported %d", e.EventID, e.Position, positions[e.EventID])
		}
	}
}

func (s *suite) testExpectedVersion(t *testing.T) {
	seed := func(t *testing.T, st eventstore.Store, stream string, n int) {
		t.Helper()
		mustAppend(t, st, appendReq(stream, eventstore.NoStream(), newEvents(n)...))
	}
	cases := []struct {
		name string
		fn   func(t *testing.T, st eventstore.Store, stream string)
	}{
		{"AnyOnNewAndExisting", func(t *testing.T, st eventstore.Store, stream string) {
			if res := mustAppend(t, st, appendReq(stream, eventstore.Any(), newEvents(1)...)); res.FirstVersion != 1 {
				t.Fatalf("Any on a new stream landed at version %d, want 1", res.FirstVersion)
			}
			if res := mustAppend(t, st, appendReq(stream, eventstore.Any(), newEvents(2)...)); res.FirstVersion != 2 || res.LastVersion != 3 {
				t.Fatalf("Any on a stream at version 1 landed at %d..%d, want 2..3", res.FirstVersion, res.LastVersion)
			}
		}},
		{"ZeroValueIsAny", func(t *testing.T, st eventstore.Store, stream string) {
			seed(t, st, stream, 2)
			req := eventstore.AppendRequest{StreamID: stream, Events: newEvents(1)}
			if res := mustAppend(t, st, req); res.FirstVersion != 3 {
				t.Fatalf("zero ExpectedVersion on a stream at version 2 landed at %d, want 3", res.FirstVersion)
			}
		}},
		{"NoStreamOnNew", func(t *testing.T, st eventstore.Store, stream string) {
			if res := mustAppend(t, st, appendReq(stream, eventstore.NoStream(), newEvents(2)...)); res.FirstVersion != 1 || res.LastVersion != 2 {
				t.Fatalf("NoStream on a new stream landed at %d..%d, want 1..2", res.FirstVersion, res.LastVersion)
			}
		}},
		{"NoStreamOnExisting", func(t *testing.T, st eventstore.Store, stream string) {
			seed(t, st, stream, 1)
			before := readAll(t, st)
			appendFails(t, st, appendReq(stream, eventstore.NoStream(), newEvents(2)...), eventstore.ErrVersionConflict)
			assertLogUnchanged(t, st, before)
			assertStreamLen(t, st, stream, 1)
		}},
		{"ExactlyRight", func(t *testing.T, st eventstore.Store, stream string) {
			seed(t, st, stream, 2)
			if res := mustAppend(t, st, appendReq(stream, eventstore.Exactly(2), newEvents(1)...)); res.FirstVersion != 3 {
				t.Fatalf("Exactly(2) on a stream at version 2 landed at %d, want 3", res.FirstVersion)
			}
			if res := mustAppend(t, st, appendReq(stream, eventstore.Exactly(3), newEvents(2)...)); res.FirstVersion != 4 || res.LastVersion != 5 {
				t.Fatalf("Exactly(3) on a stream at version 3 landed at %d..%d, want 4..5", res.FirstVersion, res.LastVersion)
			}
		}},
		{"ExactlyWrong", func(t *testing.T, st eventstore.Store, stream string) {
			seed(t, st, stream, 2)
			before := readAll(t, st)
			for _, v := range []uint64{1, 3, 100} {
				appendFails(t, st, appendReq(stream, eventstore.Exactly(v), newEvents(2)...), eventstore.ErrVersionConflict)
			}
			assertLogUnchanged(t, st, before)
			assertStreamLen(t, st, stream, 2)
		}},
		{"ExactlyOnMissingStream", func(t *testing.T, st eventstore.Store, stream string) {
			appendFails(t, st, appendReq(stream, eventstore.Exactly(1), newEvents(1)...), eventstore.ErrVersionConflict)
			assertStreamLen(t, st, stream, 0)
			assertLogUnchanged(t, st, nil)
		}},
		{"ExactlyZeroIsNoStream", func(t *testing.T, st eventstore.Store, stream string) {
			if eventstore.Exactly(0) != eventstore.NoStream() {
				t.Fatalf("Exactly(0) = %v, want NoStream()", eventstore.Exactly(0))
			}
			if res := mustAppend(t, st, appendReq(stream, eventstore.Exactly(0), newEvents(1)...)); res.FirstVersion != 1 {
				t.Fatalf("Exactly(0) on a new stream landed at %d, want 1", res.FirstVersion)
			}
			before := readAll(t, st)
			appendFails(t, st, appendReq(stream, eventstore.Exactly(0), newEvents(1)...), eventstore.ErrVersionConflict)
			assertLogUnchanged(t, st, before)
		}},
		{"ConflictIDsStayFree", func(t *testing.T, st eventstore.Store, stream string) {
			// A rejected append stores none of its event ids: they can
			// be used afterwards.
			seed(t, st, stream, 1)
			events := newEvents(3)
			appendFails(t, st, appendReq(stream, eventstore.Exactly(7), events...), eventstore.ErrVersionConflict)
			other := newStreamID()
			mustAppend(t, st, appendReq(other, eventstore.NoStream(), events...))
			assertStreamLen(t, st, stream, 1)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, s.newStore(t), newStreamID())
		})
	}
}

func (s *suite) testMultiEventAtomicity(t *testing.T) {
	t.Run("ContiguousVersions", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		stream := newStreamID()
		events := newEvents(5)
		res := mustAppend(t, st, appendReq(stream, eventstore.NoStream(), events...))
		got := mustReadStream(t, st, stream)
		if !slices.Equal(ids(got), ids(events)) {
			t.Fatalf("ReadStream = %v, want %v", ids(got), ids(events))
		}
		for i, e := range got {
			if e.Version != uint64(i+1) || e.Position != res.Positions[i] {
				t.Fatalf("event %d at version %d position %d, want version %d position %d", i, e.Version, e.Position, i+1, res.Positions[i])
			}
			if i > 0 && e.Position <= got[i-1].Position {
				t.Fatalf("positions not increasing within one append: %d after %d", e.Position, got[i-1].Position)
			}
		}
	})
	t.Run("AllOrNothing", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		a, b := newStreamID(), newStreamID()
		taken := newEvent("PartnershipInitiated")
		mustAppend(t, st, appendReq(a, eventstore.NoStream(), taken))
		before := readAll(t, st)
		// The last event's id is taken: the two before it must not be
		// written either.
		fresh := newEvents(2)
		appendFails(t, st, appendReq(b, eventstore.NoStream(), fresh[0], fresh[1], taken), eventstore.ErrDuplicateEventID)
		assertLogUnchanged(t, st, before)
		assertStreamLen(t, st, b, 0)
		mustAppend(t, st, appendReq(b, eventstore.NoStream(), fresh...))
	})
	t.Run("ConcurrentAppendsStayWhole", func(t *testing.T) {
		t.Parallel()
		// Concurrent Any-appends of several events to one stream: each
		// append's events are consecutive and in order.
		st := s.newStore(t)
		stream := newStreamID()
		const writers, perAppend = 8, 4
		ctx := contract.Context(t)
		groups := make([][]eventstore.NewEvent, writers)
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range groups {
			groups[w] = newEvents(perAppend)
			wg.Go(func() {
				if _, err := st.Append(ctx, appendReq(stream, eventstore.Any(), groups[w]...)); err != nil {
					errs <- fmt.Errorf("writer %d: %w", w, err)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent Any append: %v", err)
		}
		got := mustReadStream(t, st, stream)
		if len(got) != writers*perAppend {
			t.Fatalf("stream has %d events, want %d", len(got), writers*perAppend)
		}
		for start := 0; start < len(got); start += perAppend {
			chunk := ids(got[start : start+perAppend])
			whole := false
			for _, g := range groups {
				if slices.Equal(chunk, ids(g)) {
					whole = true
				}
			}
			if !whole {
				t.Fatalf("versions %d..%d hold %v, which is not one append in order", start+1, start+perAppend, chunk)
			}
		}
	})
}

func (s *suite) testReadStreamUnknown(t *testing.T) {
	st := s.newStore(t)
	ctx := contract.Context(t)
	stream := newStreamID()
	if events, err := st.ReadStream(ctx, stream); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("ReadStream(%s) on an empty store = %d events, %v; want ErrStreamNotFound", stream, len(events), err)
	}
	mustAppend(t, st, appendReq(newStreamID(), eventstore.NoStream(), newEvents(2)...))
	if events, err := st.ReadStream(ctx, stream); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("ReadStream(%s) beside another stream = %d events, %v; want ErrStreamNotFound", stream, len(events), err)
	}
}

// testStorageProbe checks the optional eventstore.StorageProber on a store
// whose writes succeed: ProbeStorage returns nil and changes nothing a
// reader sees (no event, no position, no HeadMoved); after Close it
// returns ErrClosed. What it does while the storage is full needs a full
// disk; each adapter's own tests provoke one.
func (s *suite) testStorageProbe(t *testing.T) {
	st := s.newStore(t)
	prober, ok := st.(eventstore.StorageProber)
	if !ok {
		t.Skip("the store does not implement eventstore.StorageProber")
	}
	ctx := contract.Context(t)
	mustAppend(t, st, appendReq(newStreamID(), eventstore.NoStream(), newEvents(2)...))
	head, err := st.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	moved := st.HeadMoved()
	for range 3 {
		if err := prober.ProbeStorage(ctx); err != nil {
			t.Fatalf("ProbeStorage on a store that can write = %v; want nil", err)
		}
	}
	if after, err := st.Head(ctx); err != nil || after != head {
		t.Fatalf("Head after ProbeStorage = %d, %v; want %d", after, err, head)
	}
	if all, err := st.ReadAll(ctx, 0, 100); err != nil || len(all) != 2 {
		t.Fatalf("ReadAll after ProbeStorage = %d events, %v; want the 2 appended", len(all), err)
	}
	select {
	case <-moved:
		t.Fatal("HeadMoved fired for ProbeStorage")
	default:
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := prober.ProbeStorage(ctx); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ProbeStorage after Close = %v; want ErrClosed", err)
	}
}

// testReadStreamAfter checks the optional eventstore.StreamTailReader: the
// events above a version, as ReadStream has them; none past the end or for
// an unknown stream.
func (s *suite) testReadStreamAfter(t *testing.T) {
	st := s.newStore(t)
	tail, ok := st.(eventstore.StreamTailReader)
	if !ok {
		t.Skip("the store does not implement eventstore.StreamTailReader")
	}
	ctx := contract.Context(t)
	stream := newStreamID()
	mustAppend(t, st, appendReq(stream, eventstore.NoStream(), newEvents(3)...))
	mustAppend(t, st, appendReq(newStreamID(), eventstore.NoStream(), newEvents(2)...))
	mustAppend(t, st, appendReq(stream, eventstore.Exactly(3), newEvents(2)...))
	all := mustReadStream(t, st, stream)
	for after := uint64(0); after <= 6; after++ {
		got, err := tail.ReadStreamAfter(ctx, stream, after)
		if err != nil {
			t.Fatalf("ReadStreamAfter(%d): %v", after, err)
		}
		want := all[min(int(after), len(all)):]
		if len(got) != len(want) {
			t.Fatalf("ReadStreamAfter(%d) = %d events, want %d", after, len(got), len(want))
		}
		for i := range got {
			if d := diffRecorded(got[i], want[i]); d != "" {
				t.Fatalf("ReadStreamAfter(%d)[%d] differs from ReadStream: %s", after, i, d)
			}
		}
	}
	if got, err := tail.ReadStreamAfter(ctx, newStreamID(), 0); err != nil || len(got) != 0 {
		t.Fatalf("ReadStreamAfter of an unknown stream = %d events, %v; want none, nil", len(got), err)
	}
}

func (s *suite) testEventIDIdempotency(t *testing.T) {
	t.Run("SameEventsSamePlace", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		stream := newStreamID()
		events := newEvents(2)
		first := mustAppend(t, st, appendReq(stream, eventstore.NoStream(), events...))
		before := readAll(t, st)
		for _, exp := range []eventstore.ExpectedVersion{eventstore.NoStream(), eventstore.Any()} {
			again := mustAppend(t, st, appendReq(stream, exp, events...))
			if !again.Deduplicated {
				t.Fatalf("retried append (expected %s) is not Deduplicated: %+v", exp, again)
			}
			if again.FirstVersion != first.FirstVersion || again.LastVersion != first.LastVersion || !slices.Equal(again.Positions, first.Positions) {
				t.Fatalf("retried append (expected %s) reports %+v, the original %+v", exp, again, first)
			}
			assertLogUnchanged(t, st, before)
		}
		// Still a retry after the stream has moved on.
		mustAppend(t, st, appendReq(stream, eventstore.Exactly(2), newEvents(1)...))
		after := readAll(t, st)
		again := mustAppend(t, st, appendReq(stream, eventstore.NoStream(), events...))
		if !again.Deduplicated || !slices.Equal(again.Positions, first.Positions) {
			t.Fatalf("retry after the stream moved on = %+v, want Deduplicated at %v", again, first.Positions)
		}
		assertLogUnchanged(t, st, after)
	})
	t.Run("SameIDOtherStream", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		a, b := newStreamID(), newStreamID()
		e := newEvent("PartnerJoined")
		mustAppend(t, st, appendReq(a, eventstore.NoStream(), e))
		before := readAll(t, st)
		appendFails(t, st, appendReq(b, eventstore.NoStream(), e), eventstore.ErrDuplicateEventID)
		appendFails(t, st, appendReq(b, eventstore.Any(), e), eventstore.ErrDuplicateEventID)
		assertLogUnchanged(t, st, before)
		assertStreamLen(t, st, b, 0)
	})
	t.Run("SameIDOtherPlace", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		stream := newStreamID()
		events := newEvents(2)
		mustAppend(t, st, appendReq(stream, eventstore.NoStream(), events...))
		before := readAll(t, st)
		// The first event again, where version 3 would go.
		appendFails(t, st, appendReq(stream, eventstore.Exactly(2), events[0]), eventstore.ErrDuplicateEventID)
		// Both events, swapped.
		appendFails(t, st, appendReq(stream, eventstore.NoStream(), events[1], events[0]), eventstore.ErrDuplicateEventID)
		appendFails(t, st, appendReq(stream, eventstore.Any(), events[1], events[0]), eventstore.ErrDuplicateEventID)
		assertLogUnchanged(t, st, before)
	})
	t.Run("PartialOverlap", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		stream := newStreamID()
		events := newEvents(3)
		mustAppend(t, st, appendReq(stream, eventstore.NoStream(), events[0]))
		before := readAll(t, st)
		appendFails(t, st, appendReq(stream, eventstore.NoStream(), events...), eventstore.ErrDuplicateEventID)
		appendFails(t, st, appendReq(stream, eventstore.Exactly(1), events[1], events[0]), eventstore.ErrDuplicateEventID)
		assertLogUnchanged(t, st, before)
		// The new ids were not stored.
		mustAppend(t, st, appendReq(stream, eventstore.Exactly(1), events[1:]...))
	})
}

func (s *suite) testIdempotencyKeys(t *testing.T) {
	if !s.caps.IdempotencyKeys {
		t.Skip("adapter does not store idempotency keys")
	}
	withKey := func(req eventstore.AppendRequest, key, hash string) eventstore.AppendRequest {
		req.Idempotency = &eventstore.Idempotency{Key: key, RequestHash: hash}
		return req
	}
	t.Run("RecordAndLookup", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		ctx := contract.Context(t)
		stream, key, hash := newStreamID(), "key-"+uuid.NewString(), "sha256:"+uuid.NewString()
		mustAppend(t, st, appendReq(stream, eventstore.NoStream(), newEvents(1)...))
		from := time.Now()
		res := mustAppend(t, st, withKey(appendReq(stream, eventstore.Exactly(1), newEvents(2)...), key, hash))
		to := time.Now()
		rec, ok, err := st.LookupIdempotency(ctx, key)
		if err != nil || !ok {
			t.Fatalf("LookupIdempotency(%q) = %+v, %v, %v; want the record", key, rec, ok, err)
		}
		want := eventstore.IdempotencyRecord{
			Key: key, RequestHash: hash, StreamID: stream,
			FirstVersion: 2, LastVersion: 3, Position: res.LastPosition(), RecordedAt: rec.RecordedAt,
		}
		if rec != want {
			t.Fatalf("LookupIdempotency(%q) = %+v, want %+v", key, rec, want)
		}
		s.assertRecordedAt(t, "idempotency record", rec.RecordedAt, from, to)
	})
	t.Run("SecondUseRejected", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		stream, key := newStreamID(), "key-"+uuid.NewString()
		events := newEvents(1)
		mustAppend(t, st, withKey(appendReq(stream, eventstore.NoStream(), events...), key, "h1"))
		before := readAll(t, st)
		appendFails(t, st, withKey(appendReq(stream, eventstore.Any(), newEvents(2)...), key, "h1"), eventstore.ErrIdempotencyKeyUsed)
		appendFails(t, st, withKey(appendReq(stream, eventstore.Exactly(1), newEvents(1)...), key, "h2"), eventstore.ErrIdempotencyKeyUsed)
		appendFails(t, st, withKey(appendReq(newStreamID(), eventstore.NoStream(), newEvents(1)...), key, "h1"), eventstore.ErrIdempotencyKeyUsed)
		// The very same request again is still a used key: the caller
		// looks the record up.
		appendFails(t, st, withKey(appendReq(stream, eventstore.NoStream(), events...), key, "h1"), eventstore.ErrIdempotencyKeyUsed)
		assertLogUnchanged(t, st, before)
	})
	t.Run("UnknownKey", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		key := "key-" + uuid.NewString()
		if rec, ok, err := st.LookupIdempotency(contract.Context(t), key); err != nil || ok {
			t.Fatalf("LookupIdempotency(%q) on an unused key = %+v, %v, %v; want false, nil", key, rec, ok, err)
		}
	})
	t.Run("RejectedAppendStoresNoKey", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		stream, key := newStreamID(), "key-"+uuid.NewString()
		mustAppend(t, st, appendReq(stream, eventstore.NoStream(), newEvents(1)...))
		appendFails(t, st, withKey(appendReq(stream, eventstore.NoStream(), newEvents(1)...), key, "h"), eventstore.ErrVersionConflict)
		if rec, ok, err := st.LookupIdempotency(contract.Context(t), key); err != nil || ok {
			t.Fatalf("LookupIdempotency(%q) after a rejected append = %+v, %v, %v; want false, nil", key, rec, ok, err)
		}
		mustAppend(t, st, withKey(appendReq(stream, eventstore.Exactly(1), newEvents(1)...), key, "h"))
	})
}

func (s *suite) testConcurrentWriters(t *testing.T) {
	// 16 writers race on one expected version, several rounds: exactly one
	// wins each round, the others get ErrVersionConflict.
	const writers, rounds = 16, 4
	st := s.newStore(t)
	ctx := contract.Context(t)
	stream := newStreamID()
	mustAppend(t, st, appendReq(stream, eventstore.NoStream(), newEvents(1)...))
	for round := range rounds {
		version := uint64(round + 1)
		start := make(chan struct{})
		events := newEvents(writers)
		errs := make([]error, writers)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				<-start
				_, errs[w] = st.Append(ctx, appendReq(stream, eventstore.Exactly(version), events[w]))
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for w, err := range errs {
			switch {
			case err == nil && winner >= 0:
				t.Fatalf("round %d: writers %d and %d both appended at expected version %d", round, winner, w, version)
			case err == nil:
				winner = w
			case !errors.Is(err, eventstore.ErrVersionConflict):
				t.Fatalf("round %d: writer %d: %v; want nil or ErrVersionConflict", round, w, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: no writer won at expected version %d", round, version)
		}
		got := mustReadStream(t, st, stream)
		if len(got) != int(version)+1 {
			t.Fatalf("round %d: stream has %d events, want %d", round, len(got), version+1)
		}
		if last := got[len(got)-1]; last.EventID != events[winner].EventID || last.Version != version+1 {
			t.Fatalf("round %d: version %d holds %s, want the winner's %s", round, last.Version, last.EventID, events[winner].EventID)
		}
	}
}

func (s *suite) testConcurrentVisibility(t *testing.T) {
	// Writers append to many streams while readers tail ReadAll. A reader
	// only ever asks for what lies above the last position it has seen, so
	// an event committed behind that position would be lost to it: its
	// final view must be the whole log, with every acknowledged event.
	const writers, appendsEach = 8, 25
	st := s.newStore(t)
	ctx := contract.Context(t)

	var (
		mu    sync.Mutex
		acked = map[string]uint64{} // event id -> position reported by Append
	)
	writersDone := make(chan struct{})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			stream := newStreamID()
			for i := range appendsEach {
				events := newEvents(1 + (w+i)%3)
				res, err := st.Append(ctx, appendReq(stream, eventstore.Any(), events...))
				if err != nil {
					t.Errorf("writer %d append %d: %v", w, i, err)
					return
				}
				mu.Lock()
				for j, e := range events {
					acked[e.EventID] = res.Positions[j]
				}
				mu.Unlock()
			}
		})
	}

	type view struct {
		limit  int
		events []eventstore.RecordedEvent
		err    error
	}
	tail := func(limit int) view {
		v := view{limit: limit}
		var last uint64
		for {
			finished := false
			select {
			case <-writersDone:
				finished = true
			default:
			}
			moved := st.HeadMoved()
			page, err := st.ReadAll(ctx, last, limit)
			if err != nil {
				v.err = fmt.Errorf("ReadAll(after %d, %d): %w", last, limit, err)
				return v
			}
			if len(page) > limit {
				v.err = fmt.Errorf("ReadAll(after %d, %d) returned %d events", last, limit, len(page))
				return v
			}
			for _, e := range page {
				if e.Position <= last {
					v.err = fmt.Errorf("reader (limit %d) saw position %d after having passed %d", limit, e.Position, last)
					return v
				}
				last = e.Position
			}
			v.events = append(v.events, page...)
			if len(page) > 0 {
				continue
			}
			if finished {
				return v
			}
			select {
			case <-moved:
			case <-writersDone:
			case <-ctx.Done():
				v.err = fmt.Errorf("reader (limit %d) at position %d: %w", limit, last, ctx.Err())
				return v
			}
		}
	}
	views := make(chan view, 2)
	for _, limit := range []int{3, 64} {
		go func() { views <- tail(limit) }()
	}
	wg.Wait()
	close(writersDone)
	got := []view{<-views, <-views}
	if t.Failed() {
		return
	}

	// Every tailing reader saw exactly the acknowledged events, each at the
	// position Append reported.
	for _, v := range got {
		if v.err != nil {
			t.Fatal(v.err)
		}
		seen := make(map[string]uint64, len(v.events))
		for _, e := range v.events {
			seen[e.EventID] = e.Position
		}
		missing, example, examplePos := 0, "", uint64(0)
		for id, pos := range acked {
			if p, ok := seen[id]; !ok || p != pos {
				missing++
				if example == "" || pos < examplePos {
					example, examplePos = id, pos
				}
			}
		}
		if missing > 0 {
			t.Fatalf("tailing reader (limit %d) saw %d events, %d were acknowledged; %d acknowledged events never became visible to it (e.g. %s at position %d)",
				v.limit, len(v.events), len(acked), missing, example, examplePos)
		}
		if len(v.events) != len(acked) {
			t.Fatalf("tailing reader (limit %d) saw %d events, only %d were acknowledged", v.limit, len(v.events), len(acked))
		}
	}
	// And the whole log, read afresh, is the same.
	full := readAll(t, st)
	if len(full) != len(acked) {
		t.Fatalf("log holds %d events, %d were acknowledged", len(full), len(acked))
	}
	for _, e := range full {
		if pos, ok := acked[e.EventID]; !ok || pos != e.Position {
			t.Fatalf("log has %s at position %d; Append reported %d (acknowledged: %v)", e.EventID, e.Position, pos, ok)
		}
	}
	if !slices.Equal(ids(full), ids(got[0].events)) {
		t.Fatalf("the log's order differs from what a tailing reader saw")
	}
}

// isClosed reports whether ch is closed within wait.
func isClosed(ch <-chan struct{}, wait time.Duration) bool {
	if wait <= 0 {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-timer.C:
		return false
	}
}

func (s *suite) testHeadMoved(t *testing.T) {
	t.Run("HeadFollowsAppends", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		if h := mustHead(t, st); h != 0 {
			t.Fatalf("Head of an empty store = %d, want 0", h)
		}
		for _, n := range []int{1, 3} {
			res := mustAppend(t, st, appendReq(newStreamID(), eventstore.NoStream(), newEvents(n)...))
			if h := mustHead(t, st); h != res.LastPosition() {
				t.Fatalf("Head = %d after an append ending at %d", h, res.LastPosition())
			}
		}
	})
	t.Run("ClosesAfterAppendOnly", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		stream := newStreamID()
		ch := st.HeadMoved()
		if ch == nil {
			t.Fatal("HeadMoved returned a nil channel")
		}
		if isClosed(ch, 50*time.Millisecond) {
			t.Fatal("HeadMoved channel closed with no append")
		}
		res := mustAppend(t, st, appendReq(stream, eventstore.NoStream(), newEvents(1)...))
		if !isClosed(ch, 5*time.Second) {
			t.Fatalf("HeadMoved channel still open 5s after an append to position %d", res.LastPosition())
		}
		ch = st.HeadMoved()
		if isClosed(ch, 0) {
			t.Fatal("HeadMoved after the append returned a closed channel, with nothing new")
		}
		// Appends that write nothing do not move the head.
		appendFails(t, st, appendReq(stream, eventstore.NoStream(), newEvents(1)...), eventstore.ErrVersionConflict)
		appendFails(t, st, appendReq(stream, eventstore.Any()), eventstore.ErrInvalidAppend)
		if isClosed(ch, 100*time.Millisecond) {
			t.Fatal("HeadMoved channel closed after appends that wrote nothing")
		}
		mustAppend(t, st, appendReq(stream, eventstore.Exactly(1), newEvents(2)...))
		if !isClosed(ch, 5*time.Second) {
			t.Fatal("HeadMoved channel still open 5s after the second append")
		}
	})
	t.Run("ClosesOnClose", func(t *testing.T) {
		t.Parallel()
		st := s.newStore(t)
		ch := st.HeadMoved()
		if err := st.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if !isClosed(ch, 5*time.Second) {
			t.Fatal("HeadMoved channel still open 5s after Close")
		}
	})
}

func (s *suite) testReadAllPaging(t *testing.T) {
	st := s.newStore(t)
	ctx := contract.Context(t)
	a, b := newStreamID(), newStreamID()
	var positions []uint64
	for _, sp := range []struct {
		stream string
		n      int
	}{{a, 3}, {b, 3}, {a, 3}, {b, 1}} {
		res := mustAppend(t, st, appendReq(sp.stream, eventstore.Any(), newEvents(sp.n)...))
		positions = append(positions, res.Positions...)
	}

	var paged []uint64
	var after uint64
	for pages := 0; ; pages++ {
		page, err := st.ReadAll(ctx, after, 3)
		if err != nil {
			t.Fatalf("ReadAll(after %d, 3): %v", after, err)
		}
		if len(page) == 0 {
			break
		}
		if want := min(3, len(positions)-len(paged)); len(page) != want {
			t.Fatalf("ReadAll(after %d, 3) returned %d events, want %d", after, len(page), want)
		}
		for _, e := range page {
			paged = append(paged, e.Position)
		}
		after = page[len(page)-1].Position
		if pages > len(positions) {
			t.Fatalf("paging does not end: %d pages for %d events", pages, len(positions))
		}
	}
	if !slices.Equal(paged, positions) {
		t.Fatalf("paged positions %v, want %v", paged, positions)
	}
	whole, err := st.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatalf("ReadAll(0, 100): %v", err)
	}
	if len(whole) != len(positions) {
		t.Fatalf("ReadAll(0, 100) returned %d events, want %d", len(whole), len(positions))
	}
	mid, err := st.ReadAll(ctx, positions[4], 2)
	if err != nil {
		t.Fatalf("ReadAll(after %d, 2): %v", positions[4], err)
	}
	if len(mid) != 2 || mid[0].Position != positions[5] || mid[1].Position != positions[6] {
		t.Fatalf("ReadAll(after %d, 2) = %v, want positions %v", positions[4], ids(mid), positions[5:7])
	}
	one, err := st.ReadAll(ctx, 0, 1)
	if err != nil || len(one) != 1 || one[0].Position != positions[0] {
		t.Fatalf("ReadAll(0, 1) = %d events, %v; want the first event at %d", len(one), err, positions[0])
	}
	head := mustHead(t, st)
	if head != positions[len(positions)-1] {
		t.Fatalf("Head = %d, want %d", head, positions[len(positions)-1])
	}
	for _, at := range []uint64{head, head + 1000} {
		if rest, err := st.ReadAll(ctx, at, 10); err != nil || len(rest) != 0 {
			t.Fatalf("ReadAll(after %d, 10) at the head = %d events, %v; want none", at, len(rest), err)
		}
	}
}

func (s *suite) testCancelledContext(t *testing.T) {
	st := s.newStore(t)
	existing := newStreamID()
	mustAppend(t, st, appendReq(existing, eventstore.NoStream(), newEvents(1)...))
	before := readAll(t, st)

	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	stream := newStreamID()
	if res, err := st.Append(cancelled, appendReq(stream, eventstore.NoStream(), newEvents(2)...)); !errors.Is(err, context.Canceled) {
		t.Fatalf("Append with a cancelled context = %+v, %v; want an error wrapping context.Canceled", res, err)
	}
	assertStreamLen(t, st, stream, 0)
	assertLogUnchanged(t, st, before)

	if events, err := st.ReadStream(cancelled, existing); err == nil {
		t.Fatalf("ReadStream with a cancelled context = %d events, nil error", len(events))
	}
	if events, err := st.ReadAll(cancelled, 0, 10); err == nil {
		t.Fatalf("ReadAll with a cancelled context = %d events, nil error", len(events))
	}
	if head, err := st.Head(cancelled); err == nil {
		t.Fatalf("Head with a cancelled context = %d, nil error", head)
	}
	if s.caps.IdempotencyKeys {
		if _, _, err := st.LookupIdempotency(cancelled, "key-"+uuid.NewString()); err == nil {
			t.Fatal("LookupIdempotency with a cancelled context: nil error")
		}
	}
}

func (s *suite) testInvalidAppend(t *testing.T) {
	st := s.newStore(t)
	stream := newStreamID()
	noID, noType := newEvent("PartnerJoined"), newEvent("")
	noID.EventID = ""
	for _, c := range []struct {
		name string
		req  eventstore.AppendRequest
	}{
		{"nil events", appendReq(stream, eventstore.Any())},
		{"empty events", eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{}}},
		{"empty stream id", appendReq("", eventstore.Any(), newEvents(1)...)},
		{"empty event id", appendReq(stream, eventstore.Any(), newEvent("PartnerJoined"), noID)},
		{"empty type", appendReq(stream, eventstore.NoStream(), noType)},
	} {
		if res, err := st.Append(contract.Context(t), c.req); !errors.Is(err, eventstore.ErrInvalidAppend) {
			t.Fatalf("Append with %s = %+v, %v; want ErrInvalidAppend", c.name, res, err)
		}
	}
	assertLogUnchanged(t, st, nil)
}

func (s *suite) testClosed(t *testing.T) {
	st := s.newStore(t)
	ctx := contract.Context(t)
	stream := newStreamID()
	mustAppend(t, st, appendReq(stream, eventstore.NoStream(), newEvents(1)...))
	ch := st.HeadMoved()
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := st.Append(ctx, appendReq(stream, eventstore.Any(), newEvents(1)...)); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Append after Close: %v; want ErrClosed", err)
	}
	if _, err := st.ReadStream(ctx, stream); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadStream after Close: %v; want ErrClosed", err)
	}
	if _, err := st.ReadAll(ctx, 0, 10); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("ReadAll after Close: %v; want ErrClosed", err)
	}
	if _, err := st.Head(ctx); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Head after Close: %v; want ErrClosed", err)
	}
	if _, _, err := st.LookupIdempotency(ctx, "key-"+uuid.NewString()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("LookupIdempotency after Close: %v; want ErrClosed", err)
	}
	if !isClosed(ch, 5*time.Second) {
		t.Fatal("HeadMoved channel taken before Close is still open")
	}
	if !isClosed(st.HeadMoved(), 5*time.Second) {
		t.Fatal("HeadMoved after Close returned an open channel")
	}
}

func (s *suite) testDurableAcrossReopen(t *testing.T) {
	if !s.caps.DurableAcrossReopen {
		t.Skip("adapter does not promise durability across reopen")
	}
	open := s.caps.Reopen(t)
	first := open(t)
	stream := newStreamID()
	key := "key-" + uuid.NewString()
	events := newEvents(2)
	req := appendReq(stream, eventstore.NoStream(), events...)
	res := mustAppend(t, first, req)
	keyed := appendReq(stream, eventstore.Exactly(2), newEvents(1)...)
	if s.caps.IdempotencyKeys {
		keyed.Idempotency = &eventstore.Idempotency{Key: key, RequestHash: "h"}
	}
	mustAppend(t, first, keyed)
	before := readAll(t, first)
	head := mustHead(t, first)
	if err := first.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	second := open(t)
	after := readAll(t, second)
	if len(after) != len(before) {
		t.Fatalf("reopened store holds %d events, had %d", len(after), len(before))
	}
	for i := range before {
		if d := diffRecorded(after[i], before[i]); d != "" {
			t.Fatalf("event %d after reopen: %s", i, d)
		}
	}
	if h := mustHead(t, second); h != head {
		t.Fatalf("Head after reopen = %d, want %d", h, head)
	}
	again := mustAppend(t, second, req)
	if !again.Deduplicated || !slices.Equal(again.Positions, res.Positions) {
		t.Fatalf("retry after reopen = %+v, want Deduplicated at %v", again, res.Positions)
	}
	next := mustAppend(t, second, appendReq(stream, eventstore.Exactly(3), newEvents(1)...))
	if next.FirstVersion != 4 || next.LastPosition() <= head {
		t.Fatalf("append after reopen landed at version %d position %d; want version 4 above position %d", next.FirstVersion, next.LastPosition(), head)
	}
	if s.caps.IdempotencyKeys {
		rec, ok, err := second.LookupIdempotency(contract.Context(t), key)
		if err != nil || !ok || rec.FirstVersion != 3 {
			t.Fatalf("LookupIdempotency(%q) after reopen = %+v, %v, %v; want the record of version 3", key, rec, ok, err)
		}
	}
}
