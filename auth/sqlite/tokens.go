// Package sqlite keeps samspill's tokens, the pages' sign-in sessions, the
// personal users and the audit log in their own SQLite file in the data
// folder (tokens.db): names, roles, municipalities, owners, expiries and
// the SHA-256 of each token, the SHA-256 of each session id with the hash
// of the token or the id of the user it stands for, never a token or a
// session id itself; each user's provider, the SHA-256 of its subject and
// its name and e-mail sealed by an auth.Sealer (WithSealer).
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

	db     *sql.DB
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
type rows struct{ db *sql.DB }

// Open opens (and creates) the token store at path.
func Open(ctx context.Context, path string, opts ...Option) (*Tokens, error) {
	// secure_delete: an erased user's subject hash and sealed profile
	// must not linger in free pages (EraseUser also checkpoints the WAL).
	db, err := sqlitedb.Open(ctx, path, migrations, "secure_delete(ON)")
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
	for _, o := range opts {
		o(t)
	}
	t.Credentials = auth.NewCredentials(rows{db}, func() time.Time { return t.now() })
	return t, nil
}

// tokenConns is how many connections authenticate at once.
const tokenConns = 4

// Close closes the store.
func (t *Tokens) Close() error { return t.db.Close() }

// Create makes and stores a new token, done by the CLI (auth.SystemActor).
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
	now := t.now()
	err = t.inTx(ctx, func(tx *sql.Conn) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tokens (name, hash, role, municipalities, created_at, owner, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			spec.Name, hash[:], spec.Role, joinCodes(codes), formatTime(now), nullString(spec.Owner), nullTime(spec.ExpiresAt))
		if err != nil {
			if strings.Contains(err.Error(), "UNIQUE constraint failed: tokens.name") {
				return fmt.Errorf("%w: %s", auth.ErrTokenExists, spec.Name)
			}
			return err
		}
		if spec.Owner != "" {
			var found int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE id = ?`, spec.Owner).Scan(&found); err != nil {
				return err
			}
			if found == 0 {
				return fmt.Errorf("%w: %s", auth.ErrUserNotFound, spec.Owner)
			}
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

// FindToken reads the row of the token's hash.
func (r rows) FindToken(ctx context.Context, hash auth.Hash) (auth.TokenRow, error) {
	var (
		row     auth.TokenRow
		codes   string
		expires sql.NullString
	)
	// A token of a disabled or erased owner is no row.
	err := r.db.QueryRowContext(ctx, `SELECT t.name, t.hash, t.role, t.municipalities, t.expires_at FROM tokens t
		LEFT JOIN users u ON u.id = t.owner
		WHERE t.hash = ? AND (t.owner IS NULL OR (u.disabled = 0 AND u.erased = 0))`, hash[:]).
		Scan(&row.Principal.Subject, &row.Hash, &row.Principal.Role, &codes, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.TokenRow{}, auth.ErrUnauthenticated
	}
	row.Principal.Municipalities = splitCodes(codes)
	row.ExpiresAt = parseNullTime(expires)
	return row, err
}

// TouchToken records when the token was last used.
func (r rows) TouchToken(ctx context.Context, name string, at time.Time) error {
	_, err := r.db.ExecContext(ctx, `UPDATE tokens SET last_used_at = ? WHERE name = ?`, formatTime(at), name)
	return err
}

// List returns every token, by name.
func (t *Tokens) List(ctx context.Context) ([]auth.Token, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT name, role, municipalities, created_at, last_used_at, owner, expires_at FROM tokens ORDER BY name`)
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
			owner, expires sql.NullString
		)
		if err := rows.Scan(&tok.Name, &tok.Role, &codes, &created, &lastUsed, &owner, &expires); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		tok.Municipalities = splitCodes(codes)
		tok.Owner = owner.String
		tok.ExpiresAt = parseNullTime(expires)
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

// Revoke deletes the named token and its sessions, done by the CLI
// (auth.SystemActor).
func (t *Tokens) Revoke(ctx context.Context, name string) error {
	return t.RevokeToken(ctx, auth.SystemPrincipal, name)
}

// RevokeToken deletes the named token and its sessions and writes the
// audit entry, in one transaction.
func (t *Tokens) RevokeToken(ctx context.Context, actor auth.Principal, name string) error {
	err := t.inTx(ctx, func(tx *sql.Conn) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE principal_kind = ? AND principal_ref IN (SELECT hash FROM tokens WHERE name = ?)`,
			auth.PrincipalToken, name); err != nil {
			return fmt.Errorf("end its sessions: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s", auth.ErrTokenNotFound, name)
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
