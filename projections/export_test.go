package projections

import (
	"context"
	"database/sql"
	"time"
)

// What the engine's tests (package projections_test, which may import the
// read models that import this package) need of its insides.

// WithFailpoint makes every generation call f before writing a
// checkpoint, and retries failed batches at once.
var WithFailpoint = withFailpoint

// WithRestartDelay sets the first pause before a failed batch is retried.
func WithRestartDelay(d time.Duration) Option {
	return func(r *Runner) { r.restartDelay = d }
}

// ErrCheckpointMoved is errCheckpointMoved.
var ErrCheckpointMoved = errCheckpointMoved

// Definition returns the definition of the projection name.
func (r *Runner) Definition(name string) (Definition, error) {
	s, err := r.slot(name)
	if err != nil {
		return nil, err
	}
	return s.def, nil
}

// Leading reports whether r leads the projection name.
func (r *Runner) Leading(name string) bool {
	s, err := r.slot(name)
	return err == nil && s.leading()
}

// Instance is r's name in the catalog.
func (r *Runner) Instance() string { return r.instance }

// ExecCatalog runs a statement (with ? placeholders) on the write pool.
func (r *Runner) ExecCatalog(ctx context.Context, stmt string, args ...any) (sql.Result, error) {
	return r.db.w.ExecContext(ctx, r.db.q(stmt), args...)
}

// Reader is the query pool.
func (db *DB) Reader() *sql.DB { return db.r }

// Dialect is the database's dialect.
func (db *DB) Dialect() Dialect { return db.dialect }
