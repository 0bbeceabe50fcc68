package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/samspill/samspill/eventstore"
)

// Topic is the part of the global log projections read: every partnership
// stream (stream ids partnership-<id>).
const Topic = "partnership"

// definition is one read model: its tables and how an event changes them.
//
// A definition's tables exist once per generation, named with the
// generation's prefix, so that a rebuild can fill a new generation while
// queries read the old one.
type definition interface {
	// Name is the projection's name, its consumer group and table prefix.
	// Renaming it rebuilds it from position 0.
	Name() string
	// SchemaVersion changes whenever the tables or their meaning change; a
	// stored generation of another version is rebuilt on start.
	SchemaVersion() int
	// Tables lists the base names of the tables Schema creates.
	Tables() []string
	// Schema is the DDL of one generation in dialect d, with {p} for the
	// table prefix.
	Schema(d dialect) string
	// NewWriter returns the writer of one run of one generation, its
	// statements prepared on db (the write connection).
	NewWriter(ctx context.Context, db *sql.DB, t Tables, store eventstore.Store) (writer, error)
}

// writer folds events into one generation's tables.
//
// Apply is called with each batch of events, in position order, inside the
// batch's transaction. It must change the tables only through tx, and keep
// no state that outlives a rolled-back transaction except through Reset.
type writer interface {
	Apply(ctx context.Context, tx *sql.Tx, batch []eventstore.RecordedEvent) error
	// Reset forgets cached state after a rolled-back transaction.
	Reset()
	// Close releases the prepared statements.
	Close() error
}

// statements are a writer's prepared statements, bound to a transaction
// with tx.StmtContext.
type statements []*sql.Stmt

// prepare prepares each query (with {p} for the table prefix) on db.
func prepare(ctx context.Context, db *sql.DB, t Tables, queries ...string) (statements, error) {
	out := make(statements, 0, len(queries))
	for _, q := range queries {
		st, err := db.PrepareContext(ctx, t.SQL(q))
		if err != nil {
			_ = out.Close()
			return nil, fmt.Errorf("prepare %q: %w", q, err)
		}
		out = append(out, st)
	}
	return out, nil
}

// Close closes every statement.
func (s statements) Close() error {
	var errs []error
	for _, st := range s {
		errs = append(errs, st.Close())
	}
	return errors.Join(errs...)
}

// Tables names one generation's tables and writes its statements for the
// database's dialect.
type Tables struct {
	prefix  string
	dialect dialect
}

func tablesOf(name string, generation int, d dialect) Tables {
	return Tables{prefix: fmt.Sprintf("%s_g%d_", name, generation), dialect: d}
}

// Name returns the full name of base table t.
func (t Tables) Name(base string) string { return t.prefix + base }

// SQL replaces {p} in a statement with the generation's prefix and binds
// its placeholders for the driver.
func (t Tables) SQL(stmt string) string {
	return t.dialect.bind(strings.ReplaceAll(stmt, "{p}", t.prefix))
}
