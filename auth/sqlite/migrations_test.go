package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/internal/sqlitedb"
)

// TestOpensATokensFileMadeBeforeMigrations: a tokens.db that the store
// made before it had migrations (its tables, no version table) opens, its
// tokens still authenticate, and 0001 is recorded as applied.
func TestOpensATokensFileMadeBeforeMigrations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.db")
	if err := sqlitedb.Prepare(path); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	script, err := migrations.ReadFile("migrations/0001_create_tokens_and_sessions.sql")
	if err != nil {
		t.Fatal(err)
	}
	// What Open ran before migrations: the schema, a script of idempotent
	// statements.
	if _, err := db.Exec(string(script)); err != nil {
		t.Fatal(err)
	}
	token, hash := auth.NewToken()
	if _, err := db.Exec(`INSERT INTO tokens (name, hash, role, municipalities, created_at) VALUES ('admin', ?, 'admin', '', ?)`,
		hash[:], time.Now().UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s := openAt(t, path)
	if p, err := s.Authenticate(t.Context(), token); err != nil || p.Subject != "admin" {
		t.Fatalf("Authenticate = %+v, %v; want admin", p, err)
	}
	var versions int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM schema_migrations WHERE version = 1`).Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("schema_migrations holds version 1 %d times (%v), want once", versions, err)
	}
}
