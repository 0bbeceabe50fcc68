package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"github.com/samspill/samspill/eventstore/internal/migrations"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// SchemaTooNewError reports a database whose schema was written by a newer
// binary than this one: its migrations are unknown here, so the store refuses
// to touch it.
type SchemaTooNewError struct {
	// Found is the newest schema version recorded in the database; Known is
	// the newest this binary can apply.
	Found, Known int
}

func (e *SchemaTooNewError) Error() string {
	return fmt.Sprintf("database schema version %d is newer than the %d this binary knows; upgrade samspill", e.Found, e.Known)
}

// loadMigrations reads the embedded migrations in version order.
func loadMigrations() ([]migrations.Migration, error) {
	return migrations.Load(migrationFiles, "migrations")
}

// migrate brings the schema of db up to the newest embedded migration, each
// migration in its own transaction, and returns the versions it applied. A
// database whose schema is newer than the binary is a *SchemaTooNewError.
// Concurrent openers are safe: each transaction is IMMEDIATE (the writer
// pool's _txlock) and re-reads the version it starts from.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) ([]int, error) {
	ms, err := loadMigrations()
	if err != nil {
		return nil, err
	}
	known := ms[len(ms)-1].Version
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT    NOT NULL
	) STRICT`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	var applied []int
	for _, m := range ms {
		done, err := applyMigration(ctx, db, m, known, now)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	// A database with no pending migration still has to be checked against
	// a newer schema.
	var current int
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return applied, fmt.Errorf("read schema version: %w", err)
	}
	if current > known {
		return applied, &SchemaTooNewError{Found: current, Known: known}
	}
	return applied, nil
}

// applyMigration applies m unless the database already has it, and reports
// whether it did.
func applyMigration(ctx context.Context, db *sql.DB, m migrations.Migration, known int, now func() time.Time) (applied bool, err error) {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("migration %s: begin: %w", m.Name, err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return false, fmt.Errorf("read schema version: %w", err)
	}
	if current > known {
		return false, &SchemaTooNewError{Found: current, Known: known}
	}
	if current >= m.Version {
		return false, tx.Rollback()
	}
	if _, err := tx.ExecContext(ctx, m.Script); err != nil {
		return false, fmt.Errorf("migration %s: %w", m.Name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, sqlrow.FormatTime(now())); err != nil {
		return false, fmt.Errorf("migration %s: record version: %w", m.Name, err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("migration %s: commit: %w", m.Name, err)
	}
	return true, nil
}
