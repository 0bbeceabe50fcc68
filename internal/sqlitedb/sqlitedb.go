// Package sqlitedb opens the small SQLite databases of the data folder
// that are not the event store or the read models (tokens, personal-data
// keys): one file, WAL, synchronous=FULL, a busy timeout, and one
// connection, since they see few writes and must never lose one.
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Open opens (and creates) the database at path, applies extra pragmas
// (such as "secure_delete(ON)") on every connection, and runs schema, a
// script of idempotent statements.
func Open(ctx context.Context, path, schema string, pragmas ...string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	q := url.Values{"_pragma": append([]string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)"}, pragmas...)}
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	db, err := sql.Open("sqlite", u.String())
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: schema: %w", path, err)
	}
	return db, nil
}
