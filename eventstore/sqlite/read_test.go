package sqlite

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/samspill/samspill/eventstore"
)

// TestReadsWithTheSeparatorInText: ids, types and metadata may hold the
// character that joins the text columns of a read (read.go). Every read
// returns them as they were appended; only a result with such a row is
// read the plain way, and the rows stay distinct (each event's data is its
// own, not a buffer the driver reuses).
func TestReadsWithTheSeparatorInText(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s, _ := openTemp(t)
	sep := string(separator)

	plain := streamID()
	odd := map[string]func(*eventstore.NewEvent) string{
		"stream id": func(*eventstore.NewEvent) string { return streamID() + sep + "x" },
		"event id":  func(e *eventstore.NewEvent) string { e.EventID += sep + "x"; return streamID() },
		"type":      func(e *eventstore.NewEvent) string { e.Type = "Milestone" + sep + "Logged"; return streamID() },
		// Metadata is JSON, which escapes the separator: the join stays
		// unambiguous and the read stays on the driver.
		"metadata": func(e *eventstore.NewEvent) string { e.Metadata.Actor.Subject = "a" + sep + "b"; return streamID() },
	}
	want := map[string][]eventstore.NewEvent{}
	appendTo := func(stream string, events ...eventstore.NewEvent) {
		t.Helper()
		if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Events: events}); err != nil {
			t.Fatalf("append to %q: %v", stream, err)
		}
		want[stream] = append(want[stream], events...)
	}
	distinct := func(n int) []eventstore.NewEvent {
		events := make([]eventstore.NewEvent, n)
		for i := range events {
			events[i] = event("MilestoneLogged")
			events[i].Data = json.RawMessage(fmt.Sprintf(`{"n":%d}`, i))
		}
		return events
	}
	appendTo(plain, distinct(5)...)
	streamOf := map[string]string{}
	for what, change := range odd {
		e := event("MilestoneLogged")
		stream := change(&e)
		appendTo(stream, e)
		streamOf[what] = stream
	}

	check := func(what string, got []eventstore.RecordedEvent, wantEvents []eventstore.NewEvent, stream string) {
		t.Helper()
		if len(got) != len(wantEvents) {
			t.Fatalf("%s: %d events, want %d", what, len(got), len(wantEvents))
		}
		for i, e := range got {
			w := wantEvents[i]
			if e.StreamID != stream || e.EventID != w.EventID || e.Type != w.Type || e.Metadata != w.Metadata ||
				string(e.Data) != string(w.Data) || !e.OccurredAt.Equal(w.OccurredAt) {
				t.Errorf("%s: event %d = %+v; want %+v in %q", what, i, e, w, stream)
			}
		}
	}

	got, err := s.ReadStream(ctx, plain)
	if err != nil {
		t.Fatal(err)
	}
	check("ReadStream(plain)", got, want[plain], plain)
	tail, err := s.ReadStreamAfter(ctx, plain, 2)
	if err != nil {
		t.Fatal(err)
	}
	check("ReadStreamAfter(plain, 2)", tail, want[plain][2:], plain)
	if n := s.plainReads.Load(); n != 0 {
		t.Fatalf("%d reads of ordinary events went the plain way; want 0", n)
	}
	if _, err := s.ReadStream(ctx, streamOf["metadata"]); err != nil {
		t.Fatal(err)
	}
	if n := s.plainReads.Load(); n != 0 {
		t.Fatalf("a read of metadata holding the separator went the plain way; want the driver's (JSON escapes it)")
	}

	for what, stream := range streamOf {
		before := s.plainReads.Load()
		got, err := s.ReadStream(ctx, stream)
		if err != nil {
			t.Fatalf("ReadStream(%s): %v", what, err)
		}
		check("ReadStream with the separator in the "+what, got, want[stream], stream)
		if after, err := s.ReadStreamAfter(ctx, stream, 0); err != nil || !reflect.DeepEqual(after, got) {
			t.Fatalf("ReadStreamAfter(%s, 0) = %+v, %v; want %+v", what, after, err, got)
		}
		wantPlain := int64(2)
		if what == "metadata" {
			wantPlain = 0
		}
		if n := s.plainReads.Load() - before; n != wantPlain {
			t.Errorf("the separator in the %s: %d reads went the plain way, want %d", what, n, wantPlain)
		}
	}

	all, err := s.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	check("ReadAll, the plain stream's part", all[:5], want[plain], plain)
	if len(all) != 5+len(odd) {
		t.Fatalf("ReadAll: %d events, want %d", len(all), 5+len(odd))
	}
	for _, e := range all[5:] {
		check("ReadAll, "+e.StreamID, []eventstore.RecordedEvent{e}, want[e.StreamID], e.StreamID)
	}
	for i, e := range all {
		if e.Position != uint64(i+1) {
			t.Fatalf("ReadAll: event %d at position %d", i, e.Position)
		}
	}
}
