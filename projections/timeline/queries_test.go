package timeline_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/projections/timeline"
)

// demoTimelines loads the demo data set into a new store, runs the
// projections over read models from open, and returns the timeline's
// queries, the service that writes to the store and the Runner.
func demoTimelines(t *testing.T, open func() *projections.DB) (*timeline.Queries, *app.Service, *projections.Runner, *sqlite.Store) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if _, err := demo.Load(ctx, store, now); err != nil {
		t.Fatal(err)
	}
	r := projectionstest.StartOn(t, open(), store)
	return timeline.NewQueries(r), app.New(store, app.WithClock(func() time.Time { return now })), r, store
}

// TestTimelineAnswersFollowCommits checks the timeline answer cache: a
// repeated question gets the same answer, a caller appending to an answer
// does not change the next one, and a commit of the projection makes the
// next answer show the new event.
func TestTimelineAnswersFollowCommits(t *testing.T) {
	projectionstest.ForEachBackend(t, func(t *testing.T, open func() *projections.DB) {
		ctx := context.Background()
		q, svc, r, store := demoTimelines(t, open)
		const code = "4203"
		f := timeline.Filter{Limit: 100000}
		first, err := q.Timeline(ctx, code, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Partnerships) == 0 || len(first.Entries) == 0 {
			t.Fatalf("the demo's %s timeline is empty: %+v", code, first)
		}
		n := len(first.Entries)
		_ = append(first.Entries, timeline.Entry{EventID: "scribbled"})
		again, err := q.Timeline(ctx, code, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Entries) != n || len(again.Partnerships) != len(first.Partnerships) {
			t.Fatalf("asked again: %d entries, %d lanes; want %d, %d", len(again.Entries), len(again.Partnerships), n, len(first.Partnerships))
		}
		if full := again.Entries[:cap(again.Entries)]; len(full) != n {
			t.Fatalf("an answer has room for %d entries past its end: appends would share it", len(full)-n)
		}

		id := first.Partnerships[0].ID
		if _, err := svc.Execute(ctx, id, partnership.Command{Event: partnership.MilestoneLogged{Kind: "other", Title: "Etter mellomlagring"}, OccurredAt: new(time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC))}, app.Meta{}); err != nil {
			t.Fatal(err)
		}
		projectionstest.CatchUp(t, r, store)
		after, err := q.Timeline(ctx, code, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(after.Entries) != n+1 {
			t.Fatalf("after a milestone: %d entries, want %d", len(after.Entries), n+1)
		}
		found := false
		for _, en := range after.Entries {
			found = found || strings.Contains(en.Summary, "Etter mellomlagring")
		}
		if !found {
			t.Fatal("the new milestone is not on the timeline")
		}
	})
}

// TestKeptAnswersEncodeAsTheirFields: the JSON a kept answer carries is
// exactly what its fields encode to, a fresh answer (read by another
// Queries) encodes the same, and a copy with other slices or another
// cursor encodes what it holds, not the kept JSON.
func TestKeptAnswersEncodeAsTheirFields(t *testing.T) {
	ctx := context.Background()
	q, _, r, _ := demoTimelines(t, func() *projections.DB {
		db, err := projections.OpenSQLite(ctx, filepath.Join(t.TempDir(), "readmodels.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	})
	f := timeline.Filter{Limit: 3}
	kept, err := q.Timeline(ctx, "4203", f)
	if err != nil {
		t.Fatal(err)
	}
	if kept.NextCursor == nil || len(kept.Entries) != 3 {
		t.Fatalf("want a first page of 3 entries with a cursor: %+v", kept)
	}
	// fields is the JSON of the value's exported fields, field by field.
	fields := func(tl timeline.Timeline) string {
		t.Helper()
		v := reflect.ValueOf(tl)
		m := map[string]any{}
		for i := range v.NumField() {
			if f := v.Type().Field(i); f.IsExported() {
				name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
				m[name] = v.Field(i).Interface()
			}
		}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	normal := func(raw []byte) string {
		t.Helper()
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	raw, err := json.Marshal(kept)
	if err != nil {
		t.Fatal(err)
	}
	if normal(raw) != normal([]byte(fields(kept))) {
		t.Fatalf("the kept JSON is not the answer's:\n%s\n%s", raw, fields(kept))
	}
	fresh, err := timeline.NewQueries(r).Timeline(ctx, "4203", f)
	if err != nil {
		t.Fatal(err)
	}
	if freshRaw, _ := json.Marshal(fresh); string(freshRaw) != string(raw) {
		t.Fatalf("a fresh answer encodes otherwise:\n%s\n%s", freshRaw, raw)
	}

	changed := kept
	changed.Entries = changed.Entries[:1]
	changed.NextCursor = nil
	changed.Partnerships = append(changed.Partnerships, timeline.Partnership{ID: "added"})
	raw, err = json.Marshal(changed)
	if err != nil {
		t.Fatal(err)
	}
	if normal(raw) != normal([]byte(fields(changed))) {
		t.Fatalf("a changed copy encodes the kept JSON:\n%s\n%s", raw, fields(changed))
	}
}
