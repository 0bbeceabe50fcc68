package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/samspill/samspill/eventstore"
)

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
	// Schema is the DDL of one generation's tables in dialect d, with {p}
	// for the table prefix: the tables and the indexes the writer itself
	// needs.
	Schema(d dialect) string
	// Indexes is the DDL (CREATE INDEX IF NOT EXISTS) of the indexes only
	// queries need. A generation that serves from its creation gets them
	// with its tables; a rebuild's shadow generation gets them once it has
	// caught up, before it takes over (one sort instead of an index
	// insert per row while the log is replayed).
	Indexes(d dialect) string
	// NewWriter returns the writer of one run of one generation, its
	// statements prepared on db's write pool.
	NewWriter(ctx context.Context, db *DB, t Tables, store eventstore.Store) (writer, error)
}

// writer folds events into one generation's tables, a batch at a time.
//
// Fold does the work that needs no transaction (decoding, folding,
// replays, encoding rows) and returns the writing of the batch's rows, so
// that a database with a single writer (SQLite) is held only for the
// statements, while the other projections, and this one's next batch,
// fold. A writer keeps no state that outlives a failed batch except
// through Reset.
type writer interface {
	// Fold folds batch, events in position order, into the rows it
	// changes and returns the function that writes them through tx only.
	// The batch before it may still be committing: Fold reads what that
	// batch changed from memory, everything else as last committed,
	// outside any transaction (a generation's run is the only writer of
	// its tables). The returned function owns its rows: later Folds do
	// not touch them.
	Fold(ctx context.Context, db *DB, batch []eventstore.RecordedEvent) (write func(context.Context, *sql.Tx) error, err error)
	// Reset forgets cached state (after a failed batch).
	Reset()
	// Close releases the prepared statements.
	Close() error
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
