// Package sqlitedb knows the SQLite files of the data folder: it readies
// each for the driver (Prepare: owner-only before SQLite touches it), says
// which errors mean a damaged file (IsCorrupt), moves a damaged one aside
// (SetAside), reads a write refused for lack of space the one way every
// database of the data folder must read it (DiskFull), and opens the small
// databases that are not the event store or the read models (Open:
// tokens, personal-data keys).
package sqlitedb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"

	msqlite "modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/samspill/samspill/internal/migrate"
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

// IsCorrupt reports whether err, or an error it wraps, is SQLite finding a
// damaged database file: SQLITE_NOTADB ("file is not a database") or
// SQLITE_CORRUPT ("database disk image is malformed", with its extended
// codes). Every other error (cannot open, permission denied, disk full,
// busy, locked, I/O) is not.
func IsCorrupt(err error) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() & 0xff { // the primary result code
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		return true
	}
	return false
}

// SetAside renames the database file at path, with its -wal and -shm
// files where they exist, to path.corrupt-<UTC time of now> (and that name
// with -wal and -shm, so that SQLite opens the moved copy with its log for
// inspection), and returns the new name of the database file. The files
// keep their mode. Nothing may have the database open. It refuses to
// replace a file already at a new name.
//
// The log and the index are moved first: a fresh database made at path
// must never meet the log of the old one, which SQLite would apply to it.
func SetAside(path string, now time.Time) (string, error) {
	moved := path + ".corrupt-" + now.UTC().Format("20060102T150405Z")
	for _, suffix := range append(companions, "") {
		from, to := path+suffix, moved+suffix
		if _, err := os.Lstat(from); errors.Is(err, fs.ErrNotExist) && suffix != "" {
			continue
		}
		if _, err := os.Lstat(to); !errors.Is(err, fs.ErrNotExist) {
			return "", fmt.Errorf("set %s aside: %s exists already", from, to)
		}
		if err := os.Rename(from, to); err != nil {
			return "", fmt.Errorf("set %s aside: %w", from, err)
		}
	}
	return moved, nil
}

// Open opens (and creates, see Prepare) the database at path, applies
// extra pragmas (such as "secure_delete(ON)") on every connection, and
// brings it up to migrations (internal/migrate: goose, the versions in the
// file's schema_migrations). It is for the small databases of the data
// folder: one file, WAL, synchronous=FULL, a busy timeout, and one
// connection, since they see few writes and must never lose one.
func Open(ctx context.Context, path string, migrations fs.FS, pragmas ...string) (*sql.DB, error) {
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
	if _, err := migrate.Up(ctx, db, migrate.SQLite, migrate.Config{
		Migrations: migrations,
		Table:      "schema_migrations",
		Stamp:      func() string { return time.Now().UTC().Format(time.RFC3339) },
	}); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: schema: %w", path, err)
	}
	return db, nil
}
