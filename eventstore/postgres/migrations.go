package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/eventstore/internal/migrations"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// SchemaTooNewError reports a schema whose tables were written by a newer
// binary than this one: its migrations are unknown here, so the store
// refuses to touch it.
type SchemaTooNewError struct {
	// Schema is the PostgreSQL schema; Found is the newest version recorded
	// in it, Known the newest this binary can apply.
	Schema       string
	Found, Known int
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("schema %s has event store version %d, newer than the %d this binary knows; upgrade samspill",
		e.Schema, e.Found, e.Known)
}

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migrations.Migration, error) {
	return migrations.Load(migrationFiles, "migrations")
}

// migrationLockSQL and migrationUnlockSQL take and release the
// session-level advisory lock under which migrations run; its key is
// derived from the current schema, so installations in other schemas of
// the database migrate independently.
const (
	migrationLockSQL   = `SELECT pg_advisory_lock(hashtextextended(current_schema() || '/samspill-events-migrations', 0))`
	migrationUnlockSQL = `SELECT pg_advisory_unlock(hashtextextended(current_schema() || '/samspill-events-migrations', 0))`
)

// migrate brings the tables of the current schema up to the newest
// embedded migration, each migration in its own transaction, and returns
// the versions it applied. It holds the advisory lock throughout, so of
// several instances opening together one migrates and the others wait and
// find nothing to do. A schema newer than the binary is a
// *SchemaTooNewError. conn must be a connection of its own: the caller
// closes it afterwards, which releases the lock whatever happened.
func migrate(ctx context.Context, conn *pgx.Conn, schema string, now func() time.Time) ([]int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	known := ms[len(ms)-1].Version
	if _, err := conn.Exec(ctx, migrationLockSQL); err != nil {
		return nil, fmt.Errorf("take the migration lock: %w", err)
	}
	defer func() { _, _ = conn.Exec(context.WithoutCancel(ctx), migrationUnlockSQL) }()

	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT    NOT NULL
	)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var current int
	if err := conn.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return nil, fmt.Errorf("read schema version: %w", err)
	}
	if current > known {
		return nil, &SchemaTooNewError{Schema: schema, Found: current, Known: known}
	}
	var applied []int
	for _, m := range ms[current:] {
		if err := applyMigration(ctx, conn, m, now); err != nil {
			return applied, err
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// applyMigration runs m and records it, in one transaction.
func applyMigration(ctx context.Context, conn *pgx.Conn, m migrations.Migration, now func() time.Time) error {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("migration %s: begin: %w", m.Name, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, m.Script); err != nil {
		return fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
		m.Version, sqlrow.FormatTime(now())); err != nil {
		return fmt.Errorf("migration %s: record version: %w", m.Name, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return nil
}
