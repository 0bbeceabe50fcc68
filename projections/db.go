package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"time"

	"github.com/samspill/samspill/internal/sqlitedb" // also registers the "sqlite" driver
)

// busyTimeout is how long a read-model connection waits for the write lock.
const busyTimeout = 10 * time.Second

// DB is the read-model database, embedded (OpenSQLite) or shared by several
// instances (OpenPostgres). The projections and their queries are the same
// code on both: statements go through the dialect, and who may run each
// projection goes through the leases.
type DB struct {
	// w is the pool projections commit their batches and checkpoints
	// through, r the pool queries read through. SQLite has one writer, so
	// there w is one connection; PostgreSQL uses one pool for both.
	w, r    *sql.DB
	dialect Dialect
	leases  leaser
	// close releases what the DB holds.
	close func() error
}

// OpenSQLite opens (and creates) the embedded read-model database at path,
// a file of its own beside the events. One process uses it at a time (the
// data folder's lock), so that process runs every projection.
//
// The file and its -wal and -shm are readable and writable by their owner
// alone; an existing one that group or others may read or write is
// refused with an *ownerfile.ExposedError (sqlitedb.Prepare). OpenSQLite
// reads the whole catalog before it returns, so a damaged file fails here,
// with an error for which sqlitedb.IsCorrupt is true: the read models are
// disposable, and the caller may set the file aside (sqlitedb.SetAside)
// and open a fresh one, which the projections fill from the events.
//
// It runs in WAL mode with synchronous=NORMAL: a commit is atomic and
// survives a crash of the process; a power loss may lose the last commits,
// which costs nothing but a short replay, because each projection's
// checkpoint is committed in the same transaction as its tables.
func OpenSQLite(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("open read models: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open read models %s: %w", path, err)
	}
	if err := sqlitedb.Prepare(path); err != nil {
		return nil, fmt.Errorf("open read models: %w", err) // names path
	}
	timeout := fmt.Sprint(busyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", sqliteDSN(abs, url.Values{
		"_txlock":       {"immediate"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_busy_timeout": {timeout},
		// An 8 MiB page cache (modernc.org/sqlite's allocator gives each
		// 4 KiB page an 8 KiB slot, so ~16 MiB of memory) and checkpoints
		// every 16 MiB of WAL. Larger caches bought no measurable speed
		// (16 MiB against 8 MiB, alternating: 1,000,000 events caught up
		// in 32 s against 33-34 s one day, 55-61 s against 60-61 s the next)
		// and cost the process its memory bound (docs/PERFORMANCE.md,
		// Load: peak RSS). Statement journals (a multi-row upsert keeps
		// one, to undo itself alone) stay in memory.
		"_pragma": {"cache_size(-8192)", "wal_autocheckpoint(4096)", "temp_store(MEMORY)"},
	}))
	if err != nil {
		return nil, fmt.Errorf("open read models %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	r, err := sql.Open("sqlite", sqliteDSN(abs, url.Values{
		"_query_only":   {"1"},
		"_busy_timeout": {timeout},
		// Queries read ranges of the tables (a timeline, a page of the
		// list): a small cache per reader is enough, the OS caches the file.
		"_pragma": {"cache_size(-2048)"},
	}))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open read models %s: %w", path, err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	db := &DB{w: w, r: r, dialect: SQLite, leases: soleLeaser{}}
	db.close = func() error { return errors.Join(w.Close(), r.Close()) }
	if _, err := w.ExecContext(ctx, sqliteCatalog); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open read models %s: create catalog: %w", path, err)
	}
	var rows int
	if err := w.QueryRowContext(ctx, sqliteCatalogRead).Scan(&rows); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open read models %s: read catalog: %w", path, err)
	}
	return db, nil
}

func sqliteDSN(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// The catalog: each projection's generations (their schema version,
// committed position, and which one answers queries), which instance
// leads each projection, why a generation failed, and rebuilds asked of
// an instance that does not lead the projection. Each projection's own
// tables are created per generation (see Runner).
const sqliteCatalog = `
CREATE TABLE IF NOT EXISTS projection_generations (
	name       TEXT    NOT NULL,
	generation INTEGER NOT NULL,
	schema     INTEGER NOT NULL,
	position   INTEGER NOT NULL DEFAULT 0,
	active     INTEGER NOT NULL DEFAULT 0,
	created_at TEXT    NOT NULL,
	PRIMARY KEY (name, generation)
) STRICT;
CREATE TABLE IF NOT EXISTS projection_leaders (
	name     TEXT NOT NULL PRIMARY KEY,
	instance TEXT NOT NULL,
	since    TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS projection_failures (
	name       TEXT    NOT NULL,
	generation INTEGER NOT NULL,
	error      TEXT    NOT NULL,
	at         TEXT    NOT NULL,
	PRIMARY KEY (name, generation)
) STRICT;
CREATE TABLE IF NOT EXISTS projection_rebuild_requests (
	name         TEXT NOT NULL PRIMARY KEY,
	requested_by TEXT NOT NULL,
	requested_at TEXT NOT NULL
) STRICT;`

// sqliteCatalogRead visits every page of the catalog's tables and of
// their indexes, so that damage to them shows at open: count(*) walks the
// smallest index of a table, and a count with NOT INDEXED and a condition
// on a column no index holds walks the table itself.
const sqliteCatalogRead = `SELECT
	(SELECT count(*) FROM projection_generations) +
	(SELECT count(*) FROM projection_generations NOT INDEXED WHERE created_at IS NOT NULL) +
	(SELECT count(*) FROM projection_leaders) +
	(SELECT count(*) FROM projection_leaders NOT INDEXED WHERE since IS NOT NULL) +
	(SELECT count(*) FROM projection_failures) +
	(SELECT count(*) FROM projection_failures NOT INDEXED WHERE at IS NOT NULL) +
	(SELECT count(*) FROM projection_rebuild_requests) +
	(SELECT count(*) FROM projection_rebuild_requests NOT INDEXED WHERE requested_at IS NOT NULL)`

// Close closes the database's pools and releases its leases' connections.
func (db *DB) Close() error { return db.close() }

// q binds a catalog statement for the driver.
func (db *DB) q(stmt string) string { return db.dialect.bind(stmt) }
