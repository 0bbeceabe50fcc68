// Package projectionstest starts real projections for the tests of the
// packages that read them (http, web, cmd).
package projectionstest

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/samspill/samspill/eventstore"
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
