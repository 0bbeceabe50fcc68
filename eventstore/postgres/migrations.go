package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/samspill/samspill/eventstore/internal/sqlrow"
	migrations "github.com/samspill/samspill/internal/migrate"
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

// migrate brings the tables of the current schema of the connections cc
// makes up to the newest embedded migration (internal/migrate: goose, each
// migration in its own transaction, the versions in schema_migrations as
// before) and returns the versions it applied, stamped by now. It holds
// the advisory lock on the schema throughout, on a connection of its own
// that it closes afterwards, so of several instances opening together one
// migrates and the others wait and find nothing to do; the lock's key is
// the one taken before goose, so older binaries wait too. A schema newer
// than the binary is a *SchemaTooNewError.
func migrate(ctx context.Context, cc *pgx.ConnConfig, schema string, now func() time.Time) ([]int64, error) {
	db := stdlib.OpenDB(*cc.Copy())
	defer db.Close()
	applied, err := migrations.Up(ctx, db, migrations.Postgres, migrations.Config{
		Migrations: migrationFiles,
		Table:      "schema_migrations",
		Stamp:      func() string { return sqlrow.FormatTime(now()) },
		LockKey:    "%s/samspill-events-migrations",
	})
	var tooNew *migrations.TooNewError
	if errors.As(err, &tooNew) {
		return applied, &SchemaTooNewError{Schema: schema, Found: int(tooNew.Found), Known: int(tooNew.Known)}
	}
	return applied, err
}
