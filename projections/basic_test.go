package projections

import (
	"context"
	"testing"
	"time"

	"github.com/samspill/samspill/demo"
)

func TestDemoProjectsAndQueries(t *testing.T) {
	e := newEnv(t)
	if _, err := demo.Load(context.Background(), e.store, e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	r := e.runner(t, "readmodels.db")
	e.catchUp(t, r)
	page, err := r.Partnerships(context.Background(), ListFilter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d partnerships", len(page.Items))
	tl, err := r.Timeline(context.Background(), "4203", TimelineFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("4203: %d partnerships, %d entries", len(tl.Partnerships), len(tl.Entries))
	st, _ := r.Status(context.Background())
	t.Logf("%+v", st)
	_ = time.Second
}

func TestRebuildOffline(t *testing.T) {
	e := newEnv(t)
	loadWorkload(t, e, 4, 50)
	live := e.runner(t, "live.db")
	e.catchUp(t, live)

	db, err := OpenSQLite(context.Background(), e.dir+"/offline.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for round := 1; round <= 2; round++ {
		offline := New(db, e.store)
		for _, name := range offline.Names() {
			var last Progress
			if err := offline.RebuildOffline(context.Background(), name, time.Millisecond, func(p Progress) { last = p }); err != nil {
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
	rebuilt := New(db, e.store)
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
	var tables int
	if err := db.r.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name LIKE '%_g1_%'`).Scan(&tables); err != nil || tables != 0 {
		t.Fatalf("generation 1 tables left: %d (%v)", tables, err)
	}
	sameDumps(t, live, rebuilt)
}
