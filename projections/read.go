package projections

import (
	"context"
	"database/sql"
	"fmt"
)

// Querier is what a read model's query reads through: the read pool, or a
// read transaction on it.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Read runs fn against the active generation of the projection name: the
// read models' queries go through it. Where several instances share the
// read models (PostgreSQL), fn runs in one read-only transaction: its
// statements see one commit of the leader, and the tables they touch
// cannot be dropped under them. A generation that the leader replaced and
// dropped since this instance last read the catalog is found again and fn
// runs once more (its first statement failed, so it has gathered
// nothing). Errors: ErrUnknownProjection, ErrNotCaughtUp before the
// projection has a generation, and fn's, wrapped.
func (r *Runner) Read(ctx context.Context, name string, fn func(Tables, Querier) error) error {
	for attempt := 0; ; attempt++ {
		t, release, err := r.acquire(name)
		if err != nil {
			return err
		}
		err = r.readIn(ctx, t, fn)
		release()
		if err == nil {
			return nil
		}
		if attempt == 0 && r.db.dialect.undefinedTable(err) {
			if s, serr := r.slot(name); serr == nil && !s.leading() && r.refresh(ctx, s) == nil {
				continue
			}
		}
		return fmt.Errorf("query %s: %w", name, err)
	}
}

// acquire returns the active generation of name for reading; release must
// be called when the query is done.
func (r *Runner) acquire(name string) (Tables, func(), error) {
	s, err := r.slot(name)
	if err != nil {
		return Tables{}, nil, err
	}
	s.mu.Lock()
	g := s.active
	if g == nil {
		s.mu.Unlock()
		return Tables{}, nil, fmt.Errorf("%s has no generation yet (not started, or its leader has not created one): %w", name, ErrNotCaughtUp)
	}
	g.inUse.RLock()
	s.mu.Unlock()
	return g.tables, g.inUse.RUnlock, nil
}

func (r *Runner) readIn(ctx context.Context, t Tables, fn func(Tables, Querier) error) error {
	if r.db.dialect != Postgres {
		return fn(t, r.db.r) // one writer, one process: no drop can race a query
	}
	tx, err := r.db.r.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(t, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Version identifies what a read of a projection sees: its active
// generation and that generation's committed position. A read model
// changes only when its projection commits, so two reads at the same
// Version give the same answer (a read may show a commit just past its
// Version, read before the position was published, never one before it:
// all that min_position promises). Versions are comparable; the zero
// Version is that of no generation.
type Version struct {
	g        *generation
	position uint64
}

// Version returns the projection's current Version, the zero Version
// when it has no generation yet.
func (r *Runner) Version(name string) (Version, error) {
	s, err := r.slot(name)
	if err != nil {
		return Version{}, err
	}
	g, _ := s.current()
	if g == nil {
		return Version{}, nil
	}
	return Version{g: g, position: g.position.Load()}, nil
}
