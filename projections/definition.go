package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// Definition is one read model as the engine runs it: its tables and how a
// folded page of the log changes them. Each read model's package
// (projections/summaries, projections/timeline) exports one; cmd hands
// them to New.
//
// A definition's tables exist once per generation, named with the
// generation's prefix, so that a rebuild can fill a new generation while
// queries read the old one. Implementations must be safe for concurrent
// use (they are usually empty structs).
type Definition interface {
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
	Schema(d Dialect) string
	// Indexes is the DDL (CREATE INDEX IF NOT EXISTS) of the indexes only
	// queries need. A generation that serves from its creation gets them
	// with its tables; a rebuild's shadow generation gets them once it has
	// caught up, before it takes over (one sort instead of an index
	// insert per row while the log is replayed).
	Indexes(d Dialect) string
	// NewWriter returns the writer of one run of one generation whose
	// tables t names, its statements prepared on db, the pool batches are
	// written through.
	NewWriter(ctx context.Context, db *sql.DB, t Tables) (Writer, error)
}

// Writer writes folded pages into one generation's tables.
type Writer interface {
	// Write writes the rows page changes, through tx only: the engine
	// commits them with the generation's checkpoint, and with the other
	// generations the same page is written to, in one transaction. Pages
	// come in position order, each once unless its transaction failed
	// (then the same page comes again). Write must not modify page, which
	// every writer of the run shares.
	Write(ctx context.Context, tx *sql.Tx, page *Page) error
	// Close releases the prepared statements.
	Close() error
}

// StateKeeper is a Definition whose tables hold each partnership's state
// (the JSON of partnership.State, as Page.Changed hands it out) as of the
// generation's position. The engine reads the states the shared cache
// does not hold from the first generation of a run that keeps them;
// without one it replays the stream from the store.
type StateKeeper interface {
	// StatesQuery selects id and state by id: a statement with {p} that
	// ends in "WHERE id IN", to which the engine adds the list.
	StatesQuery() string
}

// Tables names one generation's tables and writes its statements for the
// database's dialect.
type Tables struct {
	prefix  string
	dialect Dialect
}

func tablesOf(name string, generation int, d Dialect) Tables {
	return Tables{prefix: fmt.Sprintf("%s_g%d_", name, generation), dialect: d}
}

// Name returns the full name of base table t.
func (t Tables) Name(base string) string { return t.prefix + base }

// Prefix returns what the generation's table names start with.
func (t Tables) Prefix() string { return t.prefix }

// Dialect returns the dialect of the database the tables live in.
func (t Tables) Dialect() Dialect { return t.dialect }

// SQL replaces {p} in a statement with the generation's prefix and binds
// its placeholders (written ?) for the driver.
func (t Tables) SQL(stmt string) string {
	return t.dialect.bind(strings.ReplaceAll(stmt, "{p}", t.prefix))
}
