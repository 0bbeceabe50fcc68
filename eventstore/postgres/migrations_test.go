package postgres

import (
	"fmt"
	"io/fs"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgtest"
)

// loadMigrations lists the embedded migration files.
func loadMigrations() ([]string, error) { return fs.Glob(migrationFiles, "migrations/*.sql") }

// TestOpensASchemaMadeBeforeGoose: a schema that the hand-written
// migrations made (each file run as one script in a transaction, its
// version recorded in schema_migrations) opens with goose, applies
// nothing, and takes and reads events.
func TestOpensASchemaMadeBeforeGoose(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	conn := rawConn(t, url)
	if _, err := conn.Exec(t.Context(), `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at TEXT    NOT NULL
	)`); err != nil {
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
		tx, err := conn.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(t.Context(), string(script)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := tx.Exec(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)`,
			i+1, fmt.Sprintf("before goose %d", i+1)); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	before := migrationRows(t, url)

	s := openAt(t, url)
	stream := streamID()
	if _, err := s.Append(t.Context(), eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{event("PartnerJoined")}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, url)
	got, err := s.ReadStream(t.Context(), stream)
	if err != nil || len(got) != 1 || got[0].Type != "PartnerJoined" {
		t.Fatalf("ReadStream after reopening = %+v, %v", got, err)
	}
	if after := migrationRows(t, url); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("schema_migrations = %v, want %v (nothing applied again)", after, before)
	}
}
