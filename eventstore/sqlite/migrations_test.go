package sqlite

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/sqlitedb"
)

// loadMigrations lists the embedded migration files.
func loadMigrations() ([]string, error) { return fs.Glob(migrationFiles, "migrations/*.sql") }

// TestOpensADatabaseMadeBeforeGoose: a database that the hand-written
// migrations made (each file run as one script, its version recorded in
// schema_migrations) opens with goose, applies nothing, and takes and
// reads events.
func TestOpensADatabaseMadeBeforeGoose(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	if err := sqlitedb.Prepare(path); err != nil { // the owner's alone, as Open makes it
		t.Fatal(err)
	}
	db := rawDB(t, path)
	if _, err := db.ExecContext(t.Context(), `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT    NOT NULL
	) STRICT`); err != nil {
		t.Fatal(err)
	}
	names, err := loadMigrations()
	if err != nil || len(names) == 0 {
		t.Fatalf("loadMigrations = %v, %v", names, err)
	}
	for i, name := range names {
		script, err := fs.ReadFile(migrationFiles, name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.ExecContext(t.Context(), string(script)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := db.ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
			i+1, fmt.Sprintf("before goose %d", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	before := migrationRows(t, path)

	s := openAt(t, path)
	stream := streamID()
	if _, err := s.Append(t.Context(), eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{event("PartnerJoined")}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path)
	got, err := s.ReadStream(t.Context(), stream)
	if err != nil || len(got) != 1 || got[0].Type != "PartnerJoined" {
		t.Fatalf("ReadStream after reopening = %+v, %v", got, err)
	}
	if after := migrationRows(t, path); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("schema_migrations = %v, want %v (nothing applied again)", after, before)
	}
}
