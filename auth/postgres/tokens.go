// Package postgres keeps samspill's tokens, the pages' sign-in sessions,
// the personal users and the audit log in PostgreSQL, so that several
// samspill instances share them: names, roles, municipalities, owners,
// expiries and the SHA-256 of each token, the SHA-256 of each session id
// with the hash of the token or the id of the user it stands for, never a
// token or a session id itself; each user's provider, the SHA-256 of its
// subject and its name and e-mail sealed by an auth.Sealer (WithSealer).
// It behaves as auth/sqlite does; the shared suites of auth/authtest hold
// both to the same contract.
//
// The tables (auth_tokens, auth_sessions, auth_users, auth_audit) live in the connection's current
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

	pool   *pgxpool.Pool
	now    func() time.Time
	sealer auth.Sealer
	// projects seals the research projects' keys (nil: no projects).
	projects *auth.ProjectSealer
}

var _ auth.UserStore = (*Tokens)(nil)

// Option configures Open.
type Option func(*Tokens)

// WithSealer seals the users' names and e-mails with s; without it the
// store keeps tokens and sessions, and its user methods fail with
// auth.ErrNoSealer.
func WithSealer(s auth.Sealer) Option { return func(t *Tokens) { t.sealer = s } }

// rows are the store's statements that auth.Credentials calls
// (auth.TokenRows).
type rows struct{ pool *pgxpool.Pool }

// Open connects to the PostgreSQL server of connString (a URL or key=value
// pairs, as pgx reads them; pool_max_conns and the other pgxpool settings
// work too) and creates the token table in the current schema if it is
// not there. Concurrent Opens on one schema are safe.
func Open(ctx context.Context, connString string, opts ...Option) (*Tokens, error) {
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
	for _, o := range opts {
		o(t)
	}
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

// Create makes and stores a new token, done by the CLI
// (auth.SystemActor). A name already taken (also by another instance) is
// auth.ErrTokenExists; an invalid spec is auth.ErrInvalidSpec.
func (t *Tokens) Create(ctx context.Context, spec auth.Spec) (string, error) {
	return t.CreateToken(ctx, auth.SystemPrincipal, spec)
}

// CreateToken makes and stores a new token and its audit entry in one
// transaction. An owner that names no user is auth.ErrUserNotFound.
func (t *Tokens) CreateToken(ctx context.Context, actor auth.Principal, spec auth.Spec) (string, error) {
	codes, err := spec.Validate()
	if err != nil {
		return "", err
	}
	token, hash := auth.NewToken()
	now := t.now().UTC().Truncate(time.Second)
	err = pgx.BeginFunc(ctx, t.pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO auth_tokens (name, hash, role, municipalities, created_at, owner, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			spec.Name, hash[:], spec.Role, codeStrings(codes), now, nullString(spec.Owner), nullTime(spec.ExpiresAt))
		var pg *pgconn.PgError
		switch {
		case errors.As(err, &pg) && pg.Code == uniqueViolation && pg.ConstraintName == "auth_tokens_pkey":
			return fmt.Errorf("%w: %s", auth.ErrTokenExists, spec.Name)
		case errors.As(err, &pg) && pg.Code == foreignKeyViolation:
			return fmt.Errorf("%w: %s", auth.ErrUserNotFound, spec.Owner)
		case err != nil:
			return err
		}
		return audit(ctx, tx, now, actor, auth.AuditTokenCreated, spec.Name, nil)
	})
	if err != nil {
		if errors.Is(err, auth.ErrTokenExists) || errors.Is(err, auth.ErrUserNotFound) {
			return "", err
		}
		return "", fmt.Errorf("create token: %w", err)
	}
	return token, nil
}

// foreignKeyViolation is PostgreSQL's SQLSTATE for a reference to no row
// (a token's owner that is no user).
const foreignKeyViolation = "23503"

// uniqueViolation is PostgreSQL's SQLSTATE for a unique constraint that a
// write would break.
const uniqueViolation = "23505"

// FindToken reads the row of the token's hash.
func (r rows) FindToken(ctx context.Context, hash auth.Hash) (auth.TokenRow, error) {
	var (
		row     auth.TokenRow
		codes   []string
		expires *time.Time
	)
	// A token of a disabled or erased owner is no row.
	err := r.pool.QueryRow(ctx, `SELECT t.name, t.hash, t.role, t.municipalities, t.expires_at FROM auth_tokens t
		LEFT JOIN auth_users u ON u.id = t.owner
		WHERE t.hash = $1 AND (t.owner IS NULL OR (NOT u.disabled AND NOT u.erased))`, hash[:]).
		Scan(&row.Principal.Subject, &row.Hash, &row.Principal.Role, &codes, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.TokenRow{}, auth.ErrUnauthenticated
	}
	row.Principal.Municipalities = kommuneCodes(codes)
	row.ExpiresAt = fromNullTime(expires)
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
	rows, err := t.pool.Query(ctx, `SELECT name, role, municipalities, created_at, last_used_at, owner, expires_at FROM auth_tokens ORDER BY name COLLATE "C"`)
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
			owner    *string
			expires  *time.Time
		)
		if err := rows.Scan(&tok.Name, &tok.Role, &codes, &tok.CreatedAt, &lastUsed, &owner, &expires); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		tok.Municipalities = kommuneCodes(codes)
		tok.CreatedAt = tok.CreatedAt.UTC()
		tok.ExpiresAt = fromNullTime(expires)
		if owner != nil {
			tok.Owner = *owner
		}
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

// Revoke deletes the named token and its sessions, done by the CLI
// (auth.SystemActor).
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	return t.RevokeToken(ctx, auth.SystemPrincipal, name)
}

// RevokeToken deletes the named token and its sessions and writes the
// audit entry in one transaction, or returns auth.ErrTokenNotFound. Every
// instance refuses the token and its sessions from its next request on.
func (t *Tokens) RevokeToken(ctx context.Context, actor auth.Principal, name string) error {
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
		return audit(ctx, tx, t.now(), actor, auth.AuditTokenRevoked, name, nil)
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

// nullTime is t as a parameter: NULL for the zero time.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC().Truncate(time.Second)
	return &u
}

// fromNullTime reads a nullable time: the zero time for NULL.
func fromNullTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// nullString is s as a parameter: NULL for "".
func nullString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
