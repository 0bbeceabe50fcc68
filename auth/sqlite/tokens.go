// Package sqlite keeps samspill's tokens and the pages' sign-in sessions
// in their own SQLite file in the data folder (tokens.db): names, roles,
// municipalities and the SHA-256 of each token, and the SHA-256 of each
// session id with the hash of the token it stands for, never a token or a
// session id itself.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/internal/sqlitedb"
)

// migrations are the tables' SQL (internal/migrate). 0001 is the schema
// the store created before it had migrations, still IF NOT EXISTS, so a
// tokens.db made then gets its version table and keeps its rows.
//
//go:embed migrations/*.sql
var migrations embed.FS

// Tokens is the SQLite token and session store (auth.SessionStore).
type Tokens struct {
	// Credentials checks the tokens and session ids requests present
	// (Authenticate, StartSession, Session, EndSession) with the
	// statements of rows.
	*auth.Credentials

	db  *sql.DB
	now func() time.Time
}

var _ auth.SessionStore = (*Tokens)(nil)

// rows are the store's statements that auth.Credentials calls
// (auth.TokenRows).
type rows struct{ db *sql.DB }

// Open opens (and creates) the token store at path.
func Open(ctx context.Context, path string) (*Tokens, error) {
	db, err := sqlitedb.Open(ctx, path, migrations)
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	// Every request authenticates: with one connection they queued behind
	// each other (docs/PERFORMANCE.md, Load). WAL lets readers run side by
	// side, and every write here is one autocommit statement, which the
	// busy timeout serialises.
	db.SetMaxOpenConns(tokenConns)
	db.SetMaxIdleConns(tokenConns)
	t := &Tokens{db: db, now: time.Now}
	t.Credentials = auth.NewCredentials(rows{db}, func() time.Time { return t.now() })
	return t, nil
}

// tokenConns is how many connections authenticate at once.
const tokenConns = 4

// Close closes the store.
func (t *Tokens) Close() error { return t.db.Close() }

// Create makes and stores a new token.
func (t *Tokens) Create(ctx context.Context, spec auth.Spec) (string, error) {
	codes, err := spec.Validate()
	if err != nil {
		return "", err
	}
	token, hash := auth.NewToken()
	_, err = t.db.ExecContext(ctx, `INSERT INTO tokens (name, hash, role, municipalities, created_at) VALUES (?, ?, ?, ?, ?)`,
		spec.Name, hash[:], spec.Role, joinCodes(codes), formatTime(t.now()))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE constraint failed: tokens.name") {
			return "", fmt.Errorf("%w: %s", auth.ErrTokenExists, spec.Name)
		}
		return "", fmt.Errorf("create token: %w", err)
	}
	return token, nil
}

// FindToken reads the row of the token's hash.
func (r rows) FindToken(ctx context.Context, hash auth.Hash) (auth.TokenRow, error) {
	var (
		row   auth.TokenRow
		codes string
	)
	err := r.db.QueryRowContext(ctx, `SELECT name, hash, role, municipalities FROM tokens WHERE hash = ?`, hash[:]).
		Scan(&row.Principal.Subject, &row.Hash, &row.Principal.Role, &codes)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.TokenRow{}, auth.ErrUnauthenticated
	}
	row.Principal.Municipalities = splitCodes(codes)
	return row, err
}

// TouchToken records when the token was last used.
func (r rows) TouchToken(ctx context.Context, name string, at time.Time) error {
	_, err := r.db.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE name = ?`, formatTime(at), name)
	return err
}

// List returns every token, by name.
func (t *Tokens) List(ctx context.Context) ([]auth.Token, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT name, role, municipalities, created_at, last_used_at FROM tokens ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []auth.Token
	for rows.Next() {
		var (
			tok            auth.Token
			codes, created string
			lastUsed       sql.NullString
		)
		if err := rows.Scan(&tok.Name, &tok.Role, &codes, &created, &lastUsed); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		tok.Municipalities = splitCodes(codes)
		tok.CreatedAt, _ = time.Parse(time.RFC3339, created)
		if lastUsed.Valid {
			at, _ := time.Parse(time.RFC3339, lastUsed.String)
			tok.LastUsedAt = &at
		}
		out = append(out, tok)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// Revoke deletes the named token and its sessions in one transaction.
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	defer func() { _ = tx.Rollback() }() // after Commit it does nothing
	// The first statement writes, so the transaction takes the write lock
	// at once and never has to upgrade a read lock.
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE principal_kind = ? AND principal_ref IN (SELECT hash FROM tokens WHERE name = ?)`,
		auth.PrincipalToken, name); err != nil {
		return fmt.Errorf("revoke token: end its sessions: %w", err)
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE name = ?`, name)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("%w: %s", auth.ErrTokenNotFound, name)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	return nil
}

// Empty reports whether no token exists.
func (t *Tokens) Empty(ctx context.Context) (bool, error) {
	var n int
	if err := t.db.QueryRowContext(ctx, `SELECT count(*) FROM tokens`).Scan(&n); err != nil {
		return false, fmt.Errorf("count tokens: %w", err)
	}
	return n == 0, nil
}

func joinCodes(codes []kommune.Code) string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = string(c)
	}
	return strings.Join(s, ",")
}

func splitCodes(s string) []kommune.Code {
	if s == "" {
		return nil
	}
	var out []kommune.Code
	for _, c := range strings.Split(s, ",") {
		out = append(out, kommune.Code(c))
	}
	return out
}
