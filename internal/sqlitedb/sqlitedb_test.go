//go:build unix

package sqlitedb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/samspill/samspill/internal/ownerfile"
	"github.com/samspill/samspill/internal/sqlitedb"
)

// TestFilesAreOwnerOnlyWhateverTheUmask opens a database in a folder open
// to everyone under a permissive umask and writes to it: the database, its
// -wal and its -shm must all be 0600.
func TestFilesAreOwnerOnlyWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0o002)
	defer syscall.Umask(old)
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.Mkdir(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "x.db")
	db, err := sqlitedb.Open(context.Background(), path, `CREATE TABLE IF NOT EXISTS t (v TEXT)`)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`INSERT INTO t VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"x.db", "x.db-wal", "x.db-shm"} {
		info, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != ownerfile.Mode {
			t.Errorf("%s has mode %04o, want %04o", name, info.Mode().Perm(), ownerfile.Mode)
		}
	}
}

func TestOpenRefusesAFileOpenToOthers(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "x.db")
	db, err := sqlitedb.Open(context.Background(), path, `CREATE TABLE IF NOT EXISTS t (v TEXT)`)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	for _, name := range []string{"x.db", "x.db-wal"} {
		if err := os.WriteFile(filepath.Join(dir, "x.db-wal"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(filepath.Join(dir, name), 0o640); err != nil {
			t.Fatal(err)
		}
		_, err := sqlitedb.Open(context.Background(), path, `SELECT 1`)
		var exposed *ownerfile.ExposedError
		if !errors.As(err, &exposed) || !strings.Contains(err.Error(), name+" (mode 0640)") || !strings.Contains(err.Error(), "chmod 600 "+filepath.Join(dir, name)) {
			t.Errorf("%s mode 0640: err %v, want an *ownerfile.ExposedError naming it and the chmod", name, err)
		}
		if err := os.Chmod(filepath.Join(dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}
