// Package postgres keeps samspill's tokens and the pages' sign-in sessions
// in PostgreSQL, so that several samspill instances share them: names,
// roles, municipalities and the SHA-256 of each token, and the SHA-256 of
// each session id with the hash of the token it stands for, never a token
// or a session id itself. It behaves as auth/sqlite does; the shared suite
// auth/authtest holds both to the same contract.
//
// The tables (auth_tokens, auth_sessions) live in the connection's current
// schema, the first existing one of its search_path. Open creates them if
// need be, under an advisory lock keyed on that schema, so instances that
// start at the same time do not trip over each other.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/internal/pgdb"
)

// migrations are the tables' SQL (internal/migrate), their versions in
// auth_schema_migrations. 0001 is the schema the store created before it
// had migrations, still IF NOT EXISTS, so a schema made then gets its
// version table and keeps its rows.
//
//go:embed migrations/*.sql
var migrations embed.FS

// applicationName names the store's connections in pg_stat_activity
// unless the connection string names them.
const applicationName = "samspill tokens"

// Tokens is the PostgreSQL token and session store (auth.SessionStore). It is safe for
// concurrent use, also by several processes on one schema.
type Tokens struct {
	// Credentials checks the tokens and session ids requests present
	// (Authenticate, StartSession, Session, EndSession) with the
	// statements of rows.
	*auth.Credentials

	pool *pgxpool.Pool
	now  func() time.Time
}

var _ auth.SessionStore = (*Tokens)(nil)

// rows are the store's statements that auth.Credentials calls
// (auth.TokenRows).
type rows struct{ pool *pgxpool.Pool }

// Open connects to the PostgreSQL server of connString (a URL or key=value
// pairs, as pgx reads them; pool_max_conns and the other pgxpool settings
// work too) and creates the token table in the current schema if it is
// not there. Concurrent Opens on one schema are safe.
func Open(ctx context.Context, connString string) (*Tokens, error) {
	pool, err := pgdb.Open(ctx, connString, pgdb.Store{
		Name:         "auth/postgres",
		Application:  applicationName,
		Migrations:   migrations,
		VersionTable: "auth_schema_migrations",
		MaxConns:     maxConns,
	})
	if err != nil {
		return nil, fmt.Errorf("token store: %w", err)
	}
	t := &Tokens{pool: pool, now: time.Now}
	t.Credentials = auth.NewCredentials(rows{pool}, func() time.Time { return t.now() })
	return t, nil
}

// maxConns bounds the store's pool (pool_max_conns in the connection
// string overrides it).
const maxConns = 4

// Close closes the store's connections. It never fails; the error is
// there so that Tokens closes as auth/sqlite's does.
func (t *Tokens) Close() error {
	t.pool.Close()
	return nil
}

// Create makes and stores a new token. A name already taken (also by
// another instance) is auth.ErrTokenExists; an invalid spec is
// auth.ErrInvalidSpec.
func (t *Tokens) Create(ctx context.Context, spec auth.Spec) (string, error) {
	codes, err := spec.Validate()
	if err != nil {
		return "", err
	}
	token, hash := auth.NewToken()
	_, err = t.pool.Exec(ctx, `INSERT INTO auth_tokens (name, hash, role, municipalities, created_at) VALUES ($1, $2, $3, $4, $5)`,
		spec.Name, hash[:], spec.Role, codeStrings(codes), t.now().UTC().Truncate(time.Second))
	if err != nil {
		var pg *pgconn.PgError
		if errors.As(err, &pg) && pg.Code == uniqueViolation && pg.ConstraintName == "auth_tokens_pkey" {
			return "", fmt.Errorf("%w: %s", auth.ErrTokenExists, spec.Name)
		}
		return "", fmt.Errorf("create token: %w", err)
	}
	return token, nil
}

// uniqueViolation is PostgreSQL's SQLSTATE for a unique constraint that a
// write would break.
const uniqueViolation = "23505"

// FindToken reads the row of the token's hash.
func (r rows) FindToken(ctx context.Context, hash auth.Hash) (auth.TokenRow, error) {
	var (
		row   auth.TokenRow
		codes []string
	)
	err := r.pool.QueryRow(ctx, `SELECT name, hash, role, municipalities FROM auth_tokens WHERE hash = $1`, hash[:]).
		Scan(&row.Principal.Subject, &row.Hash, &row.Principal.Role, &codes)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.TokenRow{}, auth.ErrUnauthenticated
	}
	row.Principal.Municipalities = kommuneCodes(codes)
	return row, err
}

// TouchToken records when the token was last used, unless any instance
// recorded a use in the last minute (this process asks at most once a
// minute per token: auth.Credentials).
func (r rows) TouchToken(ctx context.Context, name string, at time.Time) error {
	_, err := r.pool.Exec(ctx, `UPDATE auth_tokens SET last_used_at = $1
		WHERE name = $2 AND (last_used_at IS NULL OR last_used_at <= $3)`, at, name, at.Add(-auth.LastUsedEvery))
	return err
}

// List returns every token, by name (byte order, as auth/sqlite).
func (t *Tokens) List(ctx context.Context) ([]auth.Token, error) {
	rows, err := t.pool.Query(ctx, `SELECT name, role, municipalities, created_at, last_used_at FROM auth_tokens ORDER BY name COLLATE "C"`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []auth.Token
	for rows.Next() {
		var (
			tok      auth.Token
			codes    []string
			lastUsed *time.Time
		)
		if err := rows.Scan(&tok.Name, &tok.Role, &codes, &tok.CreatedAt, &lastUsed); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		tok.Municipalities = kommuneCodes(codes)
		tok.CreatedAt = tok.CreatedAt.UTC()
		if lastUsed != nil {
			at := lastUsed.UTC()
			tok.LastUsedAt = &at
		}
		out = append(out, tok)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// Revoke deletes the named token and its sessions in one transaction, or
// returns auth.ErrTokenNotFound. Every instance refuses the token and its
// sessions from its next request on.
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	err := pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		var hash []byte
		err := tx.QueryRow(ctx, `DELETE FROM auth_tokens WHERE name = $1 RETURNING hash`, name).Scan(&hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %s", auth.ErrTokenNotFound, name)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM auth_sessions WHERE principal_kind = $1 AND principal_ref = $2`, auth.PrincipalToken, hash); err != nil {
			return fmt.Errorf("end its sessions: %w", err)
		}
		return nil
	})
	if err != nil && !errors.Is(err, auth.ErrTokenNotFound) {
		return fmt.Errorf("revoke token: %w", err)
	}
	return err
}

// Empty reports whether no token exists.
func (t *Tokens) Empty(ctx context.Context) (bool, error) {
	var empty bool
	if err := t.pool.QueryRow(ctx, `SELECT NOT EXISTS (SELECT 1 FROM auth_tokens)`).Scan(&empty); err != nil {
		return false, fmt.Errorf("count tokens: %w", err)
	}
	return empty, nil
}

// codeStrings returns the codes as a text[] parameter: never nil, which
// pgx would send as NULL.
func codeStrings(codes []kommune.Code) []string {
	s := make([]string, len(codes))
	for i, c := range codes {
		s[i] = string(c)
	}
	return s
}

// kommuneCodes returns stored codes as codes, nil for none (as
// auth/sqlite).
func kommuneCodes(s []string) []kommune.Code {
	if len(s) == 0 {
		return nil
	}
	out := make([]kommune.Code, len(s))
	for i, c := range s {
		out[i] = kommune.Code(c)
	}
	return out
}
