package projections_test

import (
	"context"
	"testing"
	"time"

	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// TestDemoProjectsAndQueries runs the projections over the demo data set
// and checks that the queries account for every partnership: one summary
// per stream, each on its municipality's timeline under today's code
// (older codes 0906 and 1702 included), and every projection live at the
// head.
func TestDemoProjectsAndQueries(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		e, sum := newDemoEnv(t, backend)
		r := e.runner(t, "readmodels.db")
		e.catchUp(t, r)
		page, err := summaries.NewQueries(r).Partnerships(ctx, summaries.ListFilter{Limit: 500})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != sum.Partnerships || page.NextCursor != nil {
			t.Fatalf("%d summaries (next %v), want %d", len(page.Items), page.NextCursor, sum.Partnerships)
		}
		lanes := map[string]string{}
		for _, code := range []string{"4203", "5006", "1508"} {
			tl, err := timeline.NewQueries(r).Timeline(ctx, code, timeline.Filter{Limit: 100000})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tl.Partnerships {
				lanes[p.ID] = code
			}
		}
		old := map[string]bool{}
		for _, s := range page.Items {
			if lanes[s.ID] != s.CurrentMunicipality {
				t.Fatalf("%s (%s, today %s) is on timeline %q", s.ID, s.Municipality, s.CurrentMunicipality, lanes[s.ID])
			}
			old[s.Municipality] = old[s.Municipality] || s.Municipality != s.CurrentMunicipality
		}
		if !old["0906"] || !old["1702"] {
			t.Fatalf("the demo exercises no old code (municipalities seen: %v)", old)
		}
		st, err := r.Status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Status != projections.StatusLive || s.Lag != 0 {
				t.Fatalf("after catching up: %+v", s)
			}
		}
	})
}

func TestRebuildOffline(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e, _ := newDemoEnv(t, backend)
		loadWorkload(t, e, 4, 50)
		live := e.runner(t, "live.db")
		e.catchUp(t, live)

		db := e.openDB(t, "offline.db")
		for round := 1; round <= 2; round++ {
			offline := projections.New(db, e.store, definitions())
			for _, name := range offline.Names() {
				var last projections.Progress
				if err := offline.RebuildOffline(context.Background(), []string{name}, time.Millisecond, func(p projections.Progress) { last = p }); err != nil {
					t.Fatal(err)
				}
				if last.Done != last.Total || last.Total == 0 {
					t.Fatalf("last progress %+v, want done = total > 0", last)
				}
			}
			offline.Close()
		}
		// Started afterwards, the runner serves the rebuilt generation (the
		// second, the first was dropped) and it equals the live one.
		rebuilt := projections.New(db, e.store, definitions())
		if err := rebuilt.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer rebuilt.Close()
		e.catchUp(t, rebuilt)
		st, _ := rebuilt.Status(context.Background())
		for _, s := range st {
			if s.Generation != 2 {
				t.Fatalf("%s serves generation %d, want 2", s.Name, s.Generation)
			}
		}
		tablesLeft := `SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name LIKE '%_g1_%'`
		if backend == onPostgres {
			tablesLeft = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name LIKE '%_g1_%'`
		}
		var tables int
		if err := db.Reader().QueryRow(tablesLeft).Scan(&tables); err != nil || tables != 0 {
			t.Fatalf("generation 1 tables left: %d (%v)", tables, err)
		}
		sameDumps(t, live, rebuilt)
	})
}

// TestFoldSharesTheStatesCache: the states the projections fold are kept
// in the cache they were given (WithStates), which cmd shares with the
// command side, each at the version the summaries show.
func TestFoldSharesTheStatesCache(t *testing.T) {
	ctx := context.Background()
	e, _ := newDemoEnv(t, onSQLite)
	states := history.NewStates(0)
	r := e.runner(t, "readmodels.db", projections.WithStates(states))
	e.catchUp(t, r)
	page, err := summaries.NewQueries(r).Partnerships(ctx, summaries.ListFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) == 0 {
		t.Fatal("no summaries")
	}
	for _, s := range page.Items {
		kept, ok := states.At(s.ID, s.Version)
		if !ok || !sameJSON(t, kept, s) {
			t.Fatalf("%s: the shared cache holds %+v (%v), the summary is at version %d", s.ID, kept, ok, s.Version)
		}
	}
}
