package sqlitedb

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
)

func TestDiskFullIsSQLiteRefusingToGrow(t *testing.T) {
	ctx := t.Context()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "t.db"), fstest.MapFS{
		"migrations/0001_t.sql": {Data: []byte("-- +goose Up\nCREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY, v BLOB);\n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `INSERT INTO t VALUES ('a', 'x')`); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO t VALUES ('a', 'y')`)
	if err == nil || DiskFull(err) {
		t.Fatalf("a UNIQUE violation: %v, DiskFull %v; want an error that is not DiskFull", err, DiskFull(err))
	}
	// The one connection cannot grow the file any more: SQLITE_FULL, as
	// when write(2) fails with ENOSPC.
	if _, err := db.ExecContext(ctx, `PRAGMA max_page_count = 1`); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO t VALUES ('b', ?)`, strings.Repeat("z", 20000))
	if !DiskFull(err) || !DiskFull(fmt.Errorf("write: %w", err)) {
		t.Fatalf("an insert past max_page_count: %v; want DiskFull, also wrapped", err)
	}
	if DiskFull(nil) {
		t.Fatal("DiskFull(nil)")
	}
}
