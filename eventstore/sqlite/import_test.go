package sqlite

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
)

// seed appends n single-event appends spread over three streams and
// returns what the store recorded.
func seed(t *testing.T, s *Store, n int) []eventstore.RecordedEvent {
	t.Helper()
	streams := []string{streamID(), streamID(), "other-" + streamID()}
	for i := range n {
		if _, err := s.Append(t.Context(), eventstore.AppendRequest{StreamID: streams[i%3], Events: []eventstore.NewEvent{event("Thing")}}); err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.ReadAll(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return all
}

func TestImportKeepsEverythingAndIsIdempotent(t *testing.T) {
	src, _ := openTemp(t)
	events := seed(t, src, 9)
	// A gap in positions must survive the import.
	for i := range events {
		events[i].Position += 10 * uint64(i)
	}
	dst, _ := openTemp(t)
	moved := dst.HeadMoved()
	n, err := dst.Import(t.Context(), events)
	if err != nil || n != len(events) {
		t.Fatalf("Import = %d, %v; want %d, nil", n, err, len(events))
	}
	if !isClosed(moved) {
		t.Error("HeadMoved did not fire after an import")
	}
	got, err := dst.ReadAll(t.Context(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, events) {
		t.Fatalf("imported events differ:\n got %+v\nwant %+v", got, events)
	}
	if n, err := dst.Import(t.Context(), events); err != nil || n != 0 {
		t.Fatalf("second Import = %d, %v; want 0, nil", n, err)
	}
	// Appends go on after the imported head, at the imported versions.
	res, err := dst.Append(t.Context(), eventstore.AppendRequest{StreamID: events[0].StreamID, Expected: eventstore.Exactly(3), Events: []eventstore.NewEvent{event("Thing")}})
	if err != nil || res.LastVersion != 4 || res.LastPosition() <= events[len(events)-1].Position {
		t.Fatalf("append after import = %+v, %v", res, err)
	}
}

func TestImportRefusesWhatDoesNotFitAndWritesNothing(t *testing.T) {
	src, _ := openTemp(t)
	events := seed(t, src, 6)
	other, _ := openTemp(t)
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
		{"versions jump", nil, missing, nil},
		{"positions go back", nil, swapped, nil},
		{"id stored elsewhere", nil, moved, events},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := tc.store
			if dst == nil {
				dst, _ = openTemp(t)
			}
			if tc.first != nil {
				if _, err := dst.Import(t.Context(), tc.first); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := dst.ReadAll(t.Context(), 0, 1000)
			n, err := dst.Import(t.Context(), tc.events)
			if !errors.Is(err, eventstore.ErrImportConflict) || n != 0 {
				t.Fatalf("Import = %d, %v; want ErrImportConflict", n, err)
			}
			after, _ := dst.ReadAll(t.Context(), 0, 1000)
			if !reflect.DeepEqual(before, after) {
				t.Fatal("a refused import changed the store")
			}
		})
	}
}

func TestStreamsUpToMatchesTheFallback(t *testing.T) {
	s, _ := openTemp(t)
	events := seed(t, s, 9)
	for _, upTo := range []uint64{0, 1, 2, 3, events[len(events)-1].Position} {
		got, err := s.StreamsUpTo(t.Context(), "partnership-", upTo)
		if err != nil {
			t.Fatal(err)
		}
		want, err := eventstore.Streams(t.Context(), struct{ eventstore.Store }{s}, "partnership-", upTo)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) || (len(got) > 0 && !reflect.DeepEqual(got, want)) {
			t.Fatalf("upTo %d: StreamsUpTo = %v, fallback = %v", upTo, got, want)
		}
	}
	if got, _ := s.StreamsUpTo(t.Context(), "partnership-", 100); len(got) != 2 {
		t.Fatalf("want the two partnership streams, got %v", got)
	}
}

func isClosed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	case <-time.After(5 * time.Second):
		return false
	}
}
