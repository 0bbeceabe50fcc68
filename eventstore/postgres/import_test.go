package postgres

import (
	"bytes"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/research"
)

// seed appends n single-event appends spread over three streams and
// returns what the store recorded.
func seed(t *testing.T, s *Store, n int) []eventstore.RecordedEvent {
	t.Helper()
	streams := []string{streamID(), streamID(), "other-" + streamID()}
	for i := range n {
		mustAppend(t, s, eventstore.AppendRequest{StreamID: streams[i%3], Events: []eventstore.NewEvent{event("Thing")}})
	}
	return readAll(t, s)
}

func TestImportKeepsEverythingAndIsIdempotent(t *testing.T) {
	t.Parallel()
	src := openAt(t, pgtest.URL(t))
	events := seed(t, src, 9)
	// A gap in positions must survive the import.
	for i := range events {
		events[i].Position += 10 * uint64(i)
	}
	dst := openAt(t, pgtest.URL(t))
	moved := dst.HeadMoved()
	n, err := dst.Import(t.Context(), events)
	if err != nil || n != len(events) {
		t.Fatalf("Import = %d, %v; want %d, nil", n, err, len(events))
	}
	if !closedWithin(moved, 0) {
		t.Error("HeadMoved did not fire after an import")
	}
	got := readAll(t, dst)
	if !reflect.DeepEqual(got, events) {
		t.Fatalf("imported events differ:\n got %+v\nwant %+v", got, events)
	}
	if n, err := dst.Import(t.Context(), events); err != nil || n != 0 {
		t.Fatalf("second Import = %d, %v; want 0, nil", n, err)
	}
	// Appends go on after the imported head, at the imported versions.
	res, err := dst.Append(t.Context(), eventstore.AppendRequest{StreamID: events[0].StreamID, Expected: eventstore.Exactly(3), Events: []eventstore.NewEvent{event("Thing")}})
	last := events[len(events)-1].Position
	if err != nil || res.LastVersion != 4 || res.LastPosition() != last+1 {
		t.Fatalf("append after import = %+v, %v; want version 4 at position %d", res, err, last+1)
	}
	if ids, err := dst.StreamsUpTo(t.Context(), "partnership-", last); err != nil || len(ids) != 2 || ids[0] != events[0].StreamID {
		t.Fatalf("StreamsUpTo = %v, %v; want the two partnership streams, first %s", ids, err, events[0].StreamID)
	}
}

func TestImportRefusesWhatDoesNotFitAndWritesNothing(t *testing.T) {
	t.Parallel()
	src := openAt(t, pgtest.URL(t))
	events := seed(t, src, 6)
	other := openAt(t, pgtest.URL(t))
	seed(t, other, 3) // a store that holds other events

	missing := append([]eventstore.RecordedEvent{}, events[:1]...)
	missing = append(missing, events[4:]...) // versions jump
	swapped := append([]eventstore.RecordedEvent{}, events...)
	swapped[1], swapped[2] = swapped[2], swapped[1] // positions go back
	moved := append([]eventstore.RecordedEvent{}, events...)
	moved[5].Version = 7 // an id that exists at another place, on a second run

	for _, tc := range []struct {
		name   string
		store  *Store
		events []eventstore.RecordedEvent
		first  []eventstore.RecordedEvent
	}{
		{"store holds other events", other, events, nil},
		{"versions jump", openAt(t, pgtest.URL(t)), missing, nil},
		{"positions go back", openAt(t, pgtest.URL(t)), swapped, nil},
		{"id stored elsewhere", openAt(t, pgtest.URL(t)), moved, events},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.first != nil {
				if _, err := tc.store.Import(t.Context(), tc.first); err != nil {
					t.Fatal(err)
				}
			}
			before := readAll(t, tc.store)
			n, err := tc.store.Import(t.Context(), tc.events)
			if !errors.Is(err, eventstore.ErrImportConflict) || n != 0 {
				t.Fatalf("Import = %d, %v; want 0, ErrImportConflict", n, err)
			}
			if after := readAll(t, tc.store); !reflect.DeepEqual(after, before) {
				t.Fatalf("a refused import changed the store: %d events before, %d after", len(before), len(after))
			}
		})
	}
}

// TestImportRoundTripOfAnExport is samspill import's path: the demo data
// set, exported from the embedded store (research.WriteEvents), imported
// here (research.Import) and exported again, comes out byte for byte the
// same; importing it again writes nothing.
func TestImportRoundTripOfAnExport(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC)
	src, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = src.Close() })
	if _, err := demo.Load(t.Context(), src, now); err != nil {
		t.Fatal(err)
	}
	export := func(s eventstore.Store) []byte {
		t.Helper()
		head, err := s.Head(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := research.WriteEvents(t.Context(), s, &buf, research.EventsOptions{Position: head, Secret: []byte("a secret for the import tests")}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	want := export(src)

	dst := openAt(t, pgtest.URL(t))
	res, err := research.Import(t.Context(), dst, bytes.NewReader(want), nil)
	if err != nil || res.Written != res.Events || res.Events == 0 {
		t.Fatalf("Import = %+v, %v; want every event written", res, err)
	}
	if got := export(dst); !bytes.Equal(got, want) {
		t.Fatalf("export after import differs from the original export (%d bytes vs %d)", len(got), len(want))
	}
	again, err := research.Import(t.Context(), dst, bytes.NewReader(want), nil)
	if err != nil || again.Written != 0 {
		t.Fatalf("second Import = %+v, %v; want nothing written", again, err)
	}
	t.Logf("%d events, %d bytes, round trip exact", res.Events, len(want))
}
