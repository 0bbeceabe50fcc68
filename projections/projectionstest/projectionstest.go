// Package projectionstest starts real projections for the tests of the
// packages that read them (http, web, cmd).
package projectionstest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// Definitions are samspill's read models, as cmd hands them to the engine.
func Definitions() []projections.Definition {
	return []projections.Definition{summaries.Projection{}, timeline.Projection{}}
}

// Start runs the projections over store, with their read models in a file
// of the test's temporary folder, and stops them when the test ends.
func Start(t testing.TB, store eventstore.Store, logger *slog.Logger) *projections.Runner {
	t.Helper()
	db, err := projections.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "readmodels.db"))
	if err != nil {
		t.Fatalf("open read models: %v", err)
	}
	r := projections.New(db, store, Definitions(), projections.WithLogger(logger))
	if err := r.Start(context.Background()); err != nil {
		_ = db.Close()
		t.Fatalf("start projections: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("stop projections: %v", err)
		}
		if err := db.Close(); err != nil {
			t.Errorf("close read models: %v", err)
		}
	})
	return r
}

// ForEachBackend runs test once with the read models in an SQLite file
// and once in a PostgreSQL schema of its own (skipped with pgtest's
// message where no server is configured); open opens a new, empty
// read-model database on the backend, closed when the test ends.
func ForEachBackend(t *testing.T, test func(t *testing.T, open func() *projections.DB)) {
	for _, backend := range []string{"sqlite", "postgres"} {
		t.Run(backend, func(t *testing.T) {
			if backend == "postgres" {
				pgtest.ServerURL(t)
			}
			test(t, func() *projections.DB {
				t.Helper()
				var db *projections.DB
				var err error
				if backend == "postgres" {
					db, err = projections.OpenPostgres(context.Background(), pgtest.URL(t))
				} else {
					db, err = projections.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "readmodels.db"))
				}
				if err != nil {
					t.Fatalf("open read models: %v", err)
				}
				t.Cleanup(func() { _ = db.Close() })
				return db
			})
		})
	}
}

// StartOn runs the projections over store with their read models in db,
// stops them when the test ends, and returns once they have reached the
// store's head.
func StartOn(t testing.TB, db *projections.DB, store eventstore.Store, opts ...projections.Option) *projections.Runner {
	t.Helper()
	r := projections.New(db, store, Definitions(), opts...)
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("start projections: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	CatchUp(t, r, store)
	return r
}

// CatchUp waits until every projection of r has reached store's head.
func CatchUp(t testing.TB, r *projections.Runner, store eventstore.Store) {
	t.Helper()
	head, err := store.Head(context.Background())
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, head); err != nil {
		t.Fatalf("projections did not reach head %d: %v", head, err)
	}
}
