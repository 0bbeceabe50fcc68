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

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// busyTimeout is how long a read-model connection waits for the write lock.
const busyTimeout = 10 * time.Second

// DB is the read-model database: one write connection, through which every
// projection commits its batches and checkpoints (SQLite has one writer
// anyway), and a pool of read-only connections for queries.
type DB struct {
	w *sql.DB
	r *sql.DB
}

// OpenSQLite opens (and creates) the embedded read-model database at path,
// a file of its own beside the events.
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
	timeout := fmt.Sprint(busyTimeout.Milliseconds())
	w, err := sql.Open("sqlite", sqliteDSN(abs, url.Values{
		"_txlock":       {"immediate"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
		"_busy_timeout": {timeout},
		// A 64 MiB page cache and checkpoints every 16 MiB of WAL: batches
		// of index updates then mostly hit memory and are copied into the
		// database file less often.
		"_pragma": {"cache_size(-65536)", "wal_autocheckpoint(4096)"},
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
		"_pragma":       {"cache_size(-16384)"},
	}))
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("open read models %s: %w", path, err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(readers)
	r.SetMaxIdleConns(readers)
	db := &DB{w: w, r: r}
	if err := db.migrate(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open read models %s: %w", path, err)
	}
	return db, nil
}

func sqliteDSN(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// migrate creates the catalog of generations. Each projection's own tables
// are created per generation (see Runner).
func (db *DB) migrate(ctx context.Context) error {
	_, err := db.w.ExecContext(ctx, `
CREATE TABLE IF NOT EXISTS projection_generations (
	name       TEXT    NOT NULL,
	generation INTEGER NOT NULL,
	schema     INTEGER NOT NULL,
	position   INTEGER NOT NULL DEFAULT 0,
	active     INTEGER NOT NULL DEFAULT 0,
	created_at TEXT    NOT NULL,
	PRIMARY KEY (name, generation)
) STRICT`)
	if err != nil {
		return fmt.Errorf("create catalog: %w", err)
	}
	return nil
}

// Close closes both pools.
func (db *DB) Close() error {
	return errors.Join(db.w.Close(), db.r.Close())
}
