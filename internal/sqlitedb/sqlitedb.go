// Package sqlitedb knows the SQLite files of the data folder: it readies
// each for the driver (Prepare: owner-only before SQLite touches it), and
// opens the small databases that are not the event store or the read
// models (Open: tokens, personal-data keys).
package sqlitedb

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/samspill/samspill/internal/ownerfile"
)

// companions are the suffixes of the files SQLite keeps beside a database
// in WAL mode: the log and the shared-memory index.
var companions = []string{"-wal", "-shm"}

// Prepare readies the database file at path for the driver: it refuses a
// file (or its -wal or -shm) that group or others may read or write, with
// an *ownerfile.ExposedError, and creates the file, empty and with
// ownerfile.Mode, if it does not exist.
//
// Creating the file first is what makes every file of the database
// owner-only: SQLite creates a database file itself with mode 0644 less
// the umask, but it creates the -wal and -shm files with the mode of the
// database file (the unix VFS's findCreateFileMode, which modernc.org/sqlite
// runs as it is), and an empty file is a valid empty database.
func Prepare(path string) error {
	files := []string{path}
	for _, suffix := range companions {
		files = append(files, path+suffix)
	}
	if err := ownerfile.Check(files...); err != nil {
		return err
	}
	return ownerfile.Create(path)
}

// Open opens (and creates, see Prepare) the database at path, applies
// extra pragmas (such as "secure_delete(ON)") on every connection, and
// runs schema, a script of idempotent statements. It is for the small
// databases of the data folder: one file, WAL, synchronous=FULL, a busy
// timeout, and one connection, since they see few writes and must never
// lose one.
func Open(ctx context.Context, path, schema string, pragmas ...string) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := Prepare(path); err != nil {
		return nil, err // names path
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
