//go:build unix

package sqlitedb_test

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

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
	db, err := sqlitedb.Open(context.Background(), path, schema(`CREATE TABLE IF NOT EXISTS t (v TEXT)`))
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
	db, err := sqlitedb.Open(context.Background(), path, schema(`CREATE TABLE IF NOT EXISTS t (v TEXT)`))
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
		_, err := sqlitedb.Open(context.Background(), path, schema(`SELECT 1`))
		var exposed *ownerfile.ExposedError
		if !errors.As(err, &exposed) || !strings.Contains(err.Error(), name+" (mode 0640)") || !strings.Contains(err.Error(), "chmod 600 "+filepath.Join(dir, name)) {
			t.Errorf("%s mode 0640: err %v, want an *ownerfile.ExposedError naming it and the chmod", name, err)
		}
		if err := os.Chmod(filepath.Join(dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// TestIsCorrupt opens damaged files through the driver: each is
// corruption; failures of other kinds are not.
func TestIsCorrupt(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	real := filepath.Join(dir, "real.db")
	db, err := sqlitedb.Open(ctx, real, schema(`CREATE TABLE IF NOT EXISTS t (v TEXT); CREATE TABLE IF NOT EXISTS u (v TEXT)`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO t SELECT hex(randomblob(500)) FROM (WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM c WHERE n < 200) SELECT n FROM c)`); err != nil {
		t.Fatal(err)
	}
	db.Close() // checkpoints: everything is in real.db
	whole, err := os.ReadFile(real)
	if err != nil {
		t.Fatal(err)
	}
	garbage := []byte(strings.Repeat("no database here, just words. ", 300))
	for name, content := range map[string][]byte{
		"garbage":             garbage,
		"header then garbage": append(append([]byte{}, whole[:100]...), garbage...),
		"truncated":           whole[:len(whole)/2],
	} {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".db")
		if err := os.WriteFile(path, content, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := sqlitedb.Open(ctx, path, schema(`SELECT count(*) FROM t`))
		if !sqlitedb.IsCorrupt(err) {
			t.Errorf("%s: IsCorrupt(%v) is false", name, err)
		}
		t.Logf("%s: %v", name, err)
	}

	notADir := filepath.Join(dir, "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	busy, err := sqlitedb.Open(ctx, filepath.Join(dir, "busy.db"), schema(`CREATE TABLE IF NOT EXISTS t (v TEXT)`))
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	tx, err := busy.Begin()
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`INSERT INTO t VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	// A second connection that does not wait for the write lock.
	other, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "busy.db")+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	_, busyErr := other.Exec(`INSERT INTO t VALUES ('y')`)
	for name, err := range map[string]error{
		"a file where a folder should be": func() error {
			_, err := sqlitedb.Open(ctx, filepath.Join(notADir, "x.db"), schema(`SELECT 1`))
			return err
		}(),
		"a folder where the file should be": func() error {
			if err := os.Mkdir(filepath.Join(dir, "dir.db"), 0o700); err != nil {
				t.Fatal(err)
			}
			_, err := sqlitedb.Open(ctx, filepath.Join(dir, "dir.db"), schema(`SELECT 1`))
			return err
		}(),
		"locked":       busyErr,
		"nil":          nil,
		"not sqlite's": errors.New("database disk image is malformed"),
	} {
		if sqlitedb.IsCorrupt(err) {
			t.Errorf("%s: IsCorrupt(%v) is true", name, err)
		}
		t.Logf("%s: %v", name, err)
		if name != "nil" && name != "not sqlite's" && err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestSetAside(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "r.db")
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.WriteFile(path+suffix, []byte("damaged"+suffix), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	at := time.Date(2026, 3, 1, 13, 4, 5, 0, time.FixedZone("CET", 3600))
	moved, err := sqlitedb.SetAside(path, at)
	if err != nil {
		t.Fatal(err)
	}
	if want := path + ".corrupt-20260301T120405Z"; moved != want {
		t.Fatalf("moved to %s, want %s", moved, want)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s still there: %v", path+suffix, err)
		}
		b, err := os.ReadFile(moved + suffix)
		if err != nil || string(b) != "damaged"+suffix {
			t.Errorf("%s: %q %v", moved+suffix, b, err)
		}
		if info, err := os.Stat(moved + suffix); err != nil || info.Mode().Perm() != 0o600 {
			t.Errorf("%s lost its mode: %v %v", moved+suffix, info.Mode(), err)
		}
	}
	// A second damaged file within the same second does not overwrite the
	// first.
	if err := os.WriteFile(path, []byte("again"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := sqlitedb.SetAside(path, at); err == nil {
		t.Fatal("SetAside replaced a file set aside before")
	}
}

// schema is a migration folder of one file, the script.
func schema(script string) fs.FS {
	return fstest.MapFS{"migrations/0001_schema.sql": {Data: []byte("-- +goose Up\n" + script + ";\n")}}
}
