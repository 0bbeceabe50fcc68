// Package migrate brings a store's tables up to the SQL migrations it
// embeds, with goose (github.com/pressly/goose/v3): each file
// NNNN_description.sql, annotated "-- +goose Up", runs once, in its own
// transaction, in version order.
//
// The versions applied are recorded in a table of the store's own with
// the columns the event stores have always written (version INTEGER
// PRIMARY KEY, applied_at TEXT), through a goose Store over that table
// instead of goose's own goose_db_version. So every data folder and
// PostgreSQL schema made before goose opens as it was, and a binary from
// before goose still reads the versions of one made since.
//
// On PostgreSQL the migrations run under a session-level advisory lock
// keyed on the current schema, so that of several instances starting at
// once one migrates and the others wait and then find nothing to do. On
// SQLite a store's own writer transactions are IMMEDIATE; two processes
// that race to apply the same migration leave one with an error, and the
// loser looks again and finds the version applied (see Up).
package migrate

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
)

// Dialect is the database a store runs on.
type Dialect int

// The dialects.
const (
	SQLite Dialect = iota
	Postgres
)

// TooNewError reports a database whose newest recorded version is above
// the newest migration embedded: a newer binary wrote it, and Up refuses
// to touch it.
type TooNewError struct {
	Found, Known int64
}

func (e *TooNewError) Error() string {
	return fmt.Sprintf("schema version %d is newer than the %d this binary knows", e.Found, e.Known)
}

// Config says where a store keeps its migrations and their versions.
type Config struct {
	// Migrations holds the NNNN_description.sql files in its folder
	// migrations, as a store embeds them (//go:embed migrations/*.sql).
	Migrations fs.FS
	// Table is the version table (created if missing).
	Table string
	// Stamp returns the applied_at text of a migration applied now.
	Stamp func() string
	// LockKey names the store in the PostgreSQL advisory lock's key, which
	// is hashtextextended(LockKey with "%s" replaced by the current
	// schema, 0): the key that store took before goose, so that an
	// instance of the old binary and one of the new exclude each other.
	// SQLite ignores it.
	LockKey string
}

// Up applies every embedded migration the database does not have yet and
// returns the versions it applied. A database newer than the embedded
// migrations is a *TooNewError and is left untouched.
//
// On SQLite, a migration that fails while another process applies it (the
// same file racing in two processes: one wins each transaction) is looked
// at again: when the database holds that version by then, Up goes on.
func Up(ctx context.Context, db *sql.DB, d Dialect, cfg Config) ([]int64, error) {
	p, err := newProvider(db, d, cfg)
	if err != nil {
		return nil, err
	}
	sources := p.ListSources()
	if len(sources) == 0 {
		return nil, errors.New("no migrations embedded")
	}
	known := sources[len(sources)-1].Version
	var applied []int64
	for attempt := 0; ; attempt++ {
		current, err := p.GetDBVersion(ctx)
		if err != nil {
			return applied, fmt.Errorf("read schema version: %w", err)
		}
		if current > known {
			return applied, &TooNewError{Found: current, Known: known}
		}
		if current == known {
			return applied, nil
		}
		// UpTo, not Up: Up asks for pending migrations before it takes the
		// lock, and would create the version table unlocked.
		results, err := p.UpTo(ctx, math.MaxInt64)
		var partial *goose.PartialError
		if errors.As(err, &partial) {
			results = partial.Applied
		}
		for _, r := range results {
			applied = append(applied, r.Source.Version)
		}
		if err == nil {
			return applied, nil
		}
		if d != SQLite || attempt == 3 {
			return applied, fmt.Errorf("migrate: %w", err)
		}
		// Another process may have applied the migration that failed: look
		// again, and go on from what the database holds.
		if after, verr := p.GetDBVersion(ctx); verr != nil || after <= current {
			return applied, fmt.Errorf("migrate: %w", err)
		}
	}
}

// newProvider returns goose's provider for the store.
func newProvider(db *sql.DB, d Dialect, cfg Config) (*goose.Provider, error) {
	dir, err := fs.Sub(cfg.Migrations, "migrations")
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	s := &store{table: cfg.Table, stamp: cfg.Stamp, dialect: d}
	opts := []goose.ProviderOption{goose.WithStore(s), goose.WithDisableGlobalRegistry(true)}
	if d == Postgres {
		opts = append(opts, goose.WithSessionLocker(advisoryLock{key: cfg.LockKey}))
	}
	p, err := goose.NewProvider(goose.DialectCustom, db, dir, opts...)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	return p, nil
}

// advisoryLock is goose's session locker on PostgreSQL: the session-level
// advisory lock of the store's key in the current schema. It waits for the
// lock (pg_advisory_lock) where goose's own locker polls for it every few
// seconds (pg_try_advisory_lock), which would hold every instance but the
// first back that long at start-up.
type advisoryLock struct{ key string }

const keySQL = `hashtextextended(replace($1, '%s', current_schema()), 0)`

func (l advisoryLock) SessionLock(ctx context.Context, conn *sql.Conn) error {
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+keySQL+`)`, l.key); err != nil {
		return fmt.Errorf("take the migration lock: %w", err)
	}
	return nil
}

func (l advisoryLock) SessionUnlock(ctx context.Context, conn *sql.Conn) error {
	_, err := conn.ExecContext(ctx, `SELECT pg_advisory_unlock(`+keySQL+`)`, l.key)
	return err
}

// store is goose's version store over the store's own version table. goose
// counts a version 0 as the table's birth; the table never held one, so
// store answers for it without a row.
type store struct {
	table   string
	stamp   func() string
	dialect Dialect
}

var _ database.StoreExtender = (*store)(nil)

func (s *store) Tablename() string { return s.table }

// q returns query with its ? placeholders numbered for PostgreSQL.
func (s *store) q(query string) string {
	if s.dialect != Postgres {
		return query
	}
	out := make([]byte, 0, len(query)+4)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			out = fmt.Appendf(out, "$%d", n)
			continue
		}
		out = append(out, query[i])
	}
	return string(out)
}

func (s *store) CreateVersionTable(ctx context.Context, db database.DBTxConn) error {
	strict := ""
	if s.dialect == SQLite {
		strict = " STRICT"
	}
	_, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.table+` (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT    NOT NULL
	)`+strict)
	return err
}

func (s *store) TableExists(ctx context.Context, db database.DBTxConn) (bool, error) {
	query := `SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?)`
	if s.dialect == Postgres {
		query = `SELECT EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = ?)`
	}
	var exists bool
	err := db.QueryRowContext(ctx, s.q(query), s.table).Scan(&exists)
	return exists, err
}

func (s *store) Insert(ctx context.Context, db database.DBTxConn, req database.InsertRequest) error {
	if req.Version == 0 {
		return nil
	}
	_, err := db.ExecContext(ctx, s.q(`INSERT INTO `+s.table+` (version, applied_at) VALUES (?, ?)`), req.Version, s.stamp())
	return err
}

func (s *store) Delete(ctx context.Context, db database.DBTxConn, version int64) error {
	_, err := db.ExecContext(ctx, s.q(`DELETE FROM `+s.table+` WHERE version = ?`), version)
	return err
}

func (s *store) GetMigration(ctx context.Context, db database.DBTxConn, version int64) (*database.GetMigrationResult, error) {
	if version == 0 {
		return &database.GetMigrationResult{IsApplied: true}, nil
	}
	var n int
	if err := db.QueryRowContext(ctx, s.q(`SELECT count(*) FROM `+s.table+` WHERE version = ?`), version).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, database.ErrVersionNotFound
	}
	return &database.GetMigrationResult{IsApplied: true}, nil
}

func (s *store) GetLatestVersion(ctx context.Context, db database.DBTxConn) (int64, error) {
	var v int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM `+s.table).Scan(&v)
	return v, err
}

func (s *store) ListMigrations(ctx context.Context, db database.DBTxConn) ([]*database.ListMigrationsResult, error) {
	rows, err := db.QueryContext(ctx, `SELECT version FROM `+s.table+` ORDER BY version DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*database.ListMigrationsResult
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, &database.ListMigrationsResult{Version: v, IsApplied: true})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return append(out, &database.ListMigrationsResult{Version: 0, IsApplied: true}), nil
}
