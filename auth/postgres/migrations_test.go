package postgres

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/internal/pgtest"
)

// TestOpensASchemaMadeBeforeMigrations: a schema whose token tables the
// store made before it had migrations (no version table) opens, its tokens
// still authenticate, and 0001 is recorded as applied.
func TestOpensASchemaMadeBeforeMigrations(t *testing.T) {
	url := pgtest.URL(t)
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	script, err := migrations.ReadFile("migrations/0001_create_tokens_and_sessions.sql")
	if err != nil {
		t.Fatal(err)
	}
	// What Open ran before migrations: the schema, a script of idempotent
	// statements.
	if _, err := conn.Exec(t.Context(), string(script)); err != nil {
		t.Fatal(err)
	}
	token, hash := auth.NewToken()
	if _, err := conn.Exec(t.Context(), `INSERT INTO auth_tokens (name, hash, role, municipalities, created_at) VALUES ('admin', $1, 'admin', '{}', $2)`,
		hash[:], time.Now().UTC()); err != nil {
		t.Fatal(err)
	}

	s := openAt(t, url)
	if p, err := s.Authenticate(t.Context(), token); err != nil || p.Subject != "admin" {
		t.Fatalf("Authenticate = %+v, %v; want admin", p, err)
	}
	var versions int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM auth_schema_migrations WHERE version = 1`).Scan(&versions); err != nil || versions != 1 {
		t.Fatalf("auth_schema_migrations holds version 1 %d times (%v), want once", versions, err)
	}
}
