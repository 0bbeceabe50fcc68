// Package sqlitedb opens the small SQLite databases of the data folder
// that are not the event store or the read models (tokens, personal-data
// keys): one file, WAL, synchronous=FULL, a busy timeout, and one
// connection, since they see few writes and must never lose one. It also
// reads the one SQLite error every database of the data folder must read
// the same way: a write refused for lack of space (DiskFull).
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DiskFull reports whether err is SQLite refusing a write for lack of
// space: SQLITE_FULL. SQLite's unix VFS returns it when write(2) fails
// with ENOSPC (a full disk) and when the database would grow past PRAGMA
// max_page_count. An I/O error (SQLITE_IOERR_*) does not count, whatever
// its cause: modernc.org/sqlite does not report the errno behind it, so
// one caused by EDQUOT (a quota) cannot be told from a failing disk (EIO),
// and only the latter is certain to need more than time and space.
func DiskFull(err error) bool {
	var se *msqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL
}

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
