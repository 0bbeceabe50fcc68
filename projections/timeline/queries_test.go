package timeline_test

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/eventstore/sqlite/sqlitetest"
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
	// The demo data set, loaded once per process (sqlitetest.WriteDemo).
	path := filepath.Join(t.TempDir(), "events.db")
	sqlitetest.WriteDemo(t, path, now)
	store, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
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

// TestLanePagesCoverTheTimeline: paging through a municipality's lanes,
// with and without grouping and filters, gives every lane of Timeline once,
// in order (by the group first), the same total on every page, and exactly
// the entries of the page's lanes, each with its event decoded, the names
// it refers to and no contact person's fields; the API's JSON carries none
// of these.
func TestLanePagesCoverTheTimeline(t *testing.T) {
	projectionstest.ForEachBackend(t, func(t *testing.T, open func() *projections.DB) {
		ctx := context.Background()
		q, _, _, _ := demoTimelines(t, open)
		from := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, tc := range []struct {
			code    string
			filter  timeline.Filter
			groupBy string
		}{
			{"4203", timeline.Filter{}, ""},
			{"5006", timeline.Filter{}, "service_area"},
			{"4203", timeline.Filter{From: &from, Status: partnership.StatusActive}, "collaboration_model"},
		} {
			whole, err := q.Timeline(ctx, tc.code, timeline.Filter{From: tc.filter.From, Status: tc.filter.Status, Limit: 100000})
			if err != nil {
				t.Fatal(err)
			}
			if len(whole.Partnerships) < 3 {
				t.Fatalf("%s: only %d lanes to page through", tc.code, len(whole.Partnerships))
			}
			want := map[string][]string{} // lane -> its entries' event ids
			for _, e := range whole.Entries {
				want[e.PartnershipID] = append(want[e.PartnershipID], e.EventID)
			}
			var seen []timeline.Partnership
			const size = 2
			for offset := 0; offset < len(whole.Partnerships)+size; offset += size {
				page, err := q.LanePage(ctx, tc.code, timeline.LaneQuery{Filter: tc.filter, GroupBy: tc.groupBy, Offset: offset, Limit: size})
				if err != nil {
					t.Fatal(err)
				}
				if page.Total != len(whole.Partnerships) {
					t.Fatalf("%s at %d: total %d, want %d", tc.code, offset, page.Total, len(whole.Partnerships))
				}
				if !page.Earliest.Equal(whole.Partnerships[0].StartedAt) {
					t.Fatalf("%s at %d: earliest start %v, want %v", tc.code, offset, page.Earliest, whole.Partnerships[0].StartedAt)
				}
				if tc.groupBy != "" {
					sum := 0
					for _, n := range page.Groups {
						sum += n
					}
					if sum != page.Total {
						t.Fatalf("%s: groups %v add up to %d, not %d", tc.code, page.Groups, sum, page.Total)
					}
				} else if page.Groups != nil {
					t.Fatalf("%s: groups without grouping: %v", tc.code, page.Groups)
				}
				if len(page.Partnerships) > size {
					t.Fatalf("%s: %d lanes on a page of %d", tc.code, len(page.Partnerships), size)
				}
				got := map[string][]string{}
				for _, e := range page.Entries {
					got[e.PartnershipID] = append(got[e.PartnershipID], e.EventID)
					if e.Event == nil || e.Event.EventType() != e.Type {
						t.Fatalf("entry %s (%s) kept event %v", e.EventID, e.Type, e.Event)
					}
					switch ev := e.Event.(type) {
					case partnership.ContactPersonAssigned:
						if ev.Name != "" || ev.Email != "" || ev.Phone != "" {
							t.Fatalf("the timeline keeps a contact person's fields: %+v", ev)
						}
						if e.Names[ev.PartnerID] == "" {
							t.Fatalf("contact entry %s without its partner's name: %v", e.EventID, e.Names)
						}
					case partnership.RolesAgreed:
						for _, r := range ev.Roles {
							if e.Names[r.PartnerID] == "" {
								t.Fatalf("roles entry %s without partner %s's name: %v", e.EventID, r.PartnerID, e.Names)
							}
						}
					}
				}
				for _, l := range page.Partnerships {
					if strings.Join(got[l.ID], ",") != strings.Join(want[l.ID], ",") {
						t.Fatalf("%s lane %s: entries %v, want %v", tc.code, l.ID, got[l.ID], want[l.ID])
					}
					delete(got, l.ID)
				}
				if len(got) > 0 {
					t.Fatalf("%s: entries of lanes not on the page: %v", tc.code, got)
				}
				seen = append(seen, page.Partnerships...)
			}
			if len(seen) != len(whole.Partnerships) {
				t.Fatalf("%s: pages hold %d lanes, want %d", tc.code, len(seen), len(whole.Partnerships))
			}
			ids := map[string]bool{}
			for i, l := range seen {
				if ids[l.ID] {
					t.Fatalf("%s: lane %s on two pages", tc.code, l.ID)
				}
				ids[l.ID] = true
				if i > 0 && tc.groupBy == "" && l.StartedAt.Before(seen[i-1].StartedAt) {
					t.Fatalf("%s: lanes out of order at %d", tc.code, i)
				}
				if i > 0 && tc.groupBy == "service_area" && l.ServiceArea < seen[i-1].ServiceArea {
					t.Fatalf("%s: lanes not grouped by service area at %d", tc.code, i)
				}
			}
		}
		if _, err := q.LanePage(ctx, "4203", timeline.LaneQuery{GroupBy: "title"}); !errors.Is(err, timeline.ErrBadGrouping) {
			t.Fatalf("grouped by title: %v", err)
		}

		// Steinkjer's lanes from before 2018 were recorded under 1702 or
		// 1724, and say so; the API's JSON says nothing of it, nor of the
		// entries' events.
		steinkjer, err := q.Timeline(ctx, "5006", timeline.Filter{Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		former := 0
		for _, l := range steinkjer.Partnerships {
			if l.Municipality != "5006" {
				former++
			}
		}
		if former == 0 {
			t.Fatal("no Steinkjer lane recorded under a former code")
		}
		raw, err := json.Marshal(steinkjer)
		if err != nil {
			t.Fatal(err)
		}
		var api struct {
			Partnerships []map[string]any `json:"partnerships"`
			Entries      []map[string]any `json:"entries"`
		}
		if err := json.Unmarshal(raw, &api); err != nil {
			t.Fatal(err)
		}
		keys := func(m map[string]any) string { return strings.Join(slices.Sorted(maps.Keys(m)), ",") }
		if got := keys(api.Partnerships[0]); got != "collaboration_model,ended_at,id,service_area,started_at,status,title" {
			t.Fatalf("the API's lanes have fields %s", got)
		}
		if got := keys(api.Entries[0]); got != "event_id,occurred_at,partnership_id,summary,type" {
			t.Fatalf("the API's entries have fields %s", got)
		}
	})
}
