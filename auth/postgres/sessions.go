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

// FindSession reads the session's row joined with its principal's: its
// token's (whose owner, if any, is neither disabled nor erased) or its
// user's (neither disabled nor erased). The CASE keeps a token's hash,
// which is no UTF-8, from being read as a user's id.
func (r rows) FindSession(ctx context.Context, hash auth.Hash) (auth.SessionRow, error) {
	var (
		row     auth.SessionRow
		codes   []string
		expires *time.Time
	)
	err := r.pool.QueryRow(ctx, `SELECT s.hash, s.principal_kind, s.created_at, s.last_used_at, s.expires_at, t.name, t.role, t.municipalities, t.expires_at
		FROM auth_sessions s JOIN auth_tokens t ON t.hash = s.principal_ref LEFT JOIN auth_users o ON o.id = t.owner
		WHERE s.hash = $1 AND s.principal_kind = $2 AND (t.owner IS NULL OR (NOT o.disabled AND NOT o.erased))
		UNION ALL
		SELECT s.hash, s.principal_kind, s.created_at, s.last_used_at, s.expires_at, u.id, u.role, u.municipalities, NULL
		FROM auth_sessions s JOIN auth_users u ON u.id = CASE WHEN s.principal_kind = $3 THEN convert_from(s.principal_ref, 'UTF8') END
		WHERE s.hash = $1 AND s.principal_kind = $3 AND NOT u.disabled AND NOT u.erased`,
		hash[:], auth.PrincipalToken, auth.PrincipalUser).
		Scan(&row.Hash, &row.Kind, &row.Created, &row.LastUsed, &row.Expires, &row.Principal.Subject, &row.Principal.Role, &codes, &expires)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.SessionRow{}, auth.ErrUnauthenticated
	}
	row.PrincipalExpires = fromNullTime(expires)
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
