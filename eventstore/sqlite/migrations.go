package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/samspill/samspill/eventstore/internal/sqlrow"
	migrations "github.com/samspill/samspill/internal/migrate"
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

// migrate brings the schema of db up to the newest embedded migration
// (internal/migrate: goose, each migration in its own transaction, the
// versions in schema_migrations as before) and returns the versions it
// applied, stamped by now. A database whose schema is newer than the
// binary is a *SchemaTooNewError. Concurrent openers are safe: each
// transaction is IMMEDIATE (the writer pool's _txlock), and one that loses
// the race to apply a migration finds it applied and goes on.
func migrate(ctx context.Context, db *sql.DB, now func() time.Time) ([]int64, error) {
	applied, err := migrations.Up(ctx, db, migrations.SQLite, migrations.Config{
		Migrations: migrationFiles,
		Table:      "schema_migrations",
		Stamp:      func() string { return sqlrow.FormatTime(now()) },
	})
	var tooNew *migrations.TooNewError
	if errors.As(err, &tooNew) {
		return applied, &SchemaTooNewError{Found: int(tooNew.Found), Known: int(tooNew.Known)}
	}
	return applied, err
}
