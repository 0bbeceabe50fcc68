package migrate_test

import (
	"database/sql"
	"errors"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"

	_ "modernc.org/sqlite" // the driver every samspill SQLite store uses

	"github.com/samspill/samspill/internal/migrate"
)

var files = fstest.MapFS{
	"migrations/0001_create_a.sql": {Data: []byte("-- +goose Up\nCREATE TABLE a (id INTEGER PRIMARY KEY);\n")},
	"migrations/0002_create_b.sql": {Data: []byte("-- +goose Up\nCREATE TABLE b (id INTEGER PRIMARY KEY);\nINSERT INTO b (id) VALUES (1);\n")},
}

// openSQLite opens path as the stores' writer pools do: IMMEDIATE
// transactions, a busy timeout.
func openSQLite(t *testing.T, path string) *sql.DB {
	t.Helper()
	q := url.Values{"_txlock": {"immediate"}, "_pragma": {"busy_timeout(10000)", "journal_mode(WAL)"}}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func config() migrate.Config {
	return migrate.Config{Migrations: files, Table: "schema_migrations", Stamp: func() string { return "now" }}
}

// TestSQLiteProcessesRacing: openers that migrate one new file at once
// (one each process, as two commands on one data folder) all succeed, and
// each migration runs once.
func TestSQLiteProcessesRacing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "race.db")
	// The file exists, in WAL mode, as after any earlier start: switching
	// a new file to WAL is a lock of its own, which is not what is tested.
	if _, err := openSQLite(t, path).Exec(`CREATE TABLE earlier (id INTEGER PRIMARY KEY)`); err != nil {
		t.Fatal(err)
	}
	const openers = 6
	errs := make([]error, openers)
	applied := make([][]int64, openers)
	var wg sync.WaitGroup
	for i := range openers {
		db := openSQLite(t, path)
		wg.Go(func() { applied[i], errs[i] = migrate.Up(t.Context(), db, migrate.SQLite, config()) })
	}
	wg.Wait()
	total := 0
	for i := range openers {
		if errs[i] != nil {
			t.Fatalf("opener %d: %v", i, errs[i])
		}
		total += len(applied[i])
	}
	if total != len(files) {
		t.Fatalf("the openers applied %v: %d migrations in all, want %d", applied, total, len(files))
	}
	var versions, rows int
	db := openSQLite(t, path)
	if err := db.QueryRow(`SELECT count(*) FROM schema_migrations`).Scan(&versions); err != nil || versions != len(files) {
		t.Fatalf("schema_migrations has %d rows (%v), want %d", versions, err, len(files))
	}
	if err := db.QueryRow(`SELECT count(*) FROM b`).Scan(&rows); err != nil || rows != 1 {
		t.Fatalf("b has %d rows (%v), want 1: a migration ran twice", rows, err)
	}
}

// TestTooNew: a database with a version above the embedded ones is refused
// and left as it is.
func TestTooNew(t *testing.T) {
	db := openSQLite(t, filepath.Join(t.TempDir(), "new.db"))
	if _, err := migrate.Up(t.Context(), db, migrate.SQLite, config()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO schema_migrations (version, applied_at) VALUES (7, 'later')`); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Up(t.Context(), db, migrate.SQLite, config())
	var tooNew *migrate.TooNewError
	if !errors.As(err, &tooNew) || tooNew.Found != 7 || tooNew.Known != 2 {
		t.Fatalf("Up = %v; want *TooNewError found 7, known 2", err)
	}
}
