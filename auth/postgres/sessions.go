package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/auth"
)

// DeleteExpiredSessions deletes the sessions expired at now.
func (r rows) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	_, err := r.pool.Exec(ctx, `DELETE FROM auth_sessions WHERE expires_at <= $1`, now)
	return err
}

// InsertSession stores a session bound to the token's row as it is now.
// (A revocation that commits while this insert runs may leave the row
// behind; findSession joins the token's row, so such a session is dead
// all the same, and expires.)
func (r rows) InsertSession(ctx context.Context, hash, tokenHash auth.Hash, now, expires time.Time) (bool, error) {
	tag, err := r.pool.Exec(ctx, `INSERT INTO auth_sessions (hash, principal_kind, principal_ref, created_at, last_used_at, expires_at)
		SELECT $1, $2, hash, $3, $3, $4 FROM auth_tokens WHERE hash = $5`,
		hash[:], auth.PrincipalToken, now, expires, tokenHash[:])
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() > 0, nil
}

// FindSession reads the session's row joined with its token's.
func (r rows) FindSession(ctx context.Context, hash auth.Hash) (auth.SessionRow, error) {
	var (
		row   auth.SessionRow
		codes []string
	)
	err := r.pool.QueryRow(ctx, `SELECT s.hash, s.created_at, s.last_used_at, s.expires_at, t.name, t.role, t.municipalities
		FROM auth_sessions s JOIN auth_tokens t ON t.hash = s.principal_ref
		WHERE s.hash = $1 AND s.principal_kind = $2`, hash[:], auth.PrincipalToken).
		Scan(&row.Hash, &row.Created, &row.LastUsed, &row.Expires, &row.Principal.Subject, &row.Principal.Role, &codes)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.SessionRow{}, auth.ErrUnauthenticated
	}
	row.Principal.Municipalities = kommuneCodes(codes)
	return row, err
}

// TouchSession records the session's use, unless a later one is stored
// (another instance may have recorded one meanwhile).
func (r rows) TouchSession(ctx context.Context, hash auth.Hash, at, expires time.Time) error {
	_, err := r.pool.Exec(ctx, `UPDATE auth_sessions SET last_used_at = $1, expires_at = $2 WHERE hash = $3 AND last_used_at < $1`,
		at, expires, hash[:])
	return err
}

// DeleteSession deletes the session.
func (r rows) DeleteSession(ctx context.Context, hash auth.Hash) error {
	_, err := r.pool.Exec(ctx, `DELETE FROM auth_sessions WHERE hash = $1`, hash[:])
	return err
}
