package projections_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/internal/smallfs"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
)

// TestFullDiskMakesProjectionsWaitNotFail puts the read models on a small
// disk of their own (a tmpfs for SQLite, a tablespace on one for
// PostgreSQL) and fills it while events arrive: the projections cannot
// write, retry for far longer than maxAttempts restarts would take
// without being marked failed, say why they lag, and catch up by
// themselves once space is freed.
func TestFullDiskMakesProjectionsWaitNotFail(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		e := newEnv(t, backend)
		var location, dir string
		if backend == onSQLite {
			dir = smallfs.Mount(t, "4m")
			location = filepath.Join(dir, "readmodels.db")
		} else {
			location, dir = pgtest.URLOnSmallDisk(t, "4m") // the demo's read models fit in 4 MB, not in 2
		}
		db, err := openReadModels(ctx, backend, location)
		if err != nil {
			t.Fatalf("open read models: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		r := projections.New(db, e.store, definitions(), projections.WithLogger(testLogger(t)), projections.WithRestartDelay(time.Millisecond))
		if err := r.Start(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { r.Close() })

		filler := smallfs.Fill(t, dir)
		sum, err := demo.Load(ctx, e.store, e.clock.Now()) // the events have space: only the read models are full
		if err != nil {
			t.Fatal(err)
		}
		waiting := func() bool {
			t.Helper()
			st, err := r.Status(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range st {
				if s.Status == projections.StatusFailed {
					t.Fatalf("projection %s failed on a full disk: %s", s.Name, s.Error)
				}
				if s.Status == projections.StatusCatchingUp && strings.Contains(s.Error, "waiting for storage space") {
					return true
				}
			}
			return false
		}
		for deadline := time.Now().Add(30 * time.Second); !waiting(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				st, _ := r.Status(ctx)
				t.Fatalf("no projection says it waits for storage: %+v", st)
			}
		}
		// maxAttempts restarts take a few milliseconds here; waiting for
		// storage goes on.
		time.Sleep(300 * time.Millisecond)
		waiting()

		smallfs.Free(t, filler)
		e.catchUp(t, r)
		waitStatus(t, r, func(s projections.Status) bool { return s.Status == projections.StatusLive && s.Error == "" })
		page, err := summaries.NewQueries(r).Partnerships(ctx, summaries.ListFilter{Limit: 500})
		if err != nil || len(page.Items) != sum.Partnerships {
			t.Fatalf("%d summaries (%v) once space is back; want %d", len(page.Items), err, sum.Partnerships)
		}
	})
}
