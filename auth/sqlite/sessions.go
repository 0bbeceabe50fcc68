package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/samspill/samspill/auth"
)

// DeleteExpiredSessions deletes the sessions expired at now.
func (r rows) DeleteExpiredSessions(ctx context.Context, now time.Time) error {
	_, err := r.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, formatTime(now))
	return err
}

// InsertSession stores a session bound to the token's row as it is now.
func (r rows) InsertSession(ctx context.Context, hash, tokenHash auth.Hash, now, expires time.Time) (bool, error) {
	res, err := r.db.ExecContext(ctx, `INSERT INTO sessions (hash, principal_kind, principal_ref, created_at, last_used_at, expires_at)
		SELECT ?, ?, hash, ?, ?, ? FROM tokens WHERE hash = ?`,
		hash[:], auth.PrincipalToken, formatTime(now), formatTime(now), formatTime(expires), tokenHash[:])
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// FindSession reads the session's row joined with its principal's: its
// token's (whose owner, if any, is neither disabled nor erased) or its
// user's (neither disabled nor erased).
func (r rows) FindSession(ctx context.Context, hash auth.Hash) (auth.SessionRow, error) {
	var (
		row                           auth.SessionRow
		codes, created, used, expires string
		principalExpires              sql.NullString
	)
	err := r.db.QueryRowContext(ctx, `SELECT s.hash, s.principal_kind, s.created_at, s.last_used_at, s.expires_at, t.name, t.role, t.municipalities, t.expires_at
		FROM sessions s JOIN tokens t ON t.hash = s.principal_ref LEFT JOIN users o ON o.id = t.owner
		WHERE s.hash = ? AND s.principal_kind = ? AND (t.owner IS NULL OR (o.disabled = 0 AND o.erased = 0))
		UNION ALL
		SELECT s.hash, s.principal_kind, s.created_at, s.last_used_at, s.expires_at, u.id, u.role, u.municipalities, NULL
		FROM sessions s JOIN users u ON u.id = CAST(s.principal_ref AS TEXT)
		WHERE s.hash = ? AND s.principal_kind = ? AND u.disabled = 0 AND u.erased = 0`,
		hash[:], auth.PrincipalToken, hash[:], auth.PrincipalUser).
		Scan(&row.Hash, &row.Kind, &created, &used, &expires, &row.Principal.Subject, &row.Principal.Role, &codes, &principalExpires)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.SessionRow{}, auth.ErrUnauthenticated
	}
	row.Created, row.LastUsed, row.Expires = parseTime(created), parseTime(used), parseTime(expires)
	row.PrincipalExpires = parseNullTime(principalExpires)
	row.Principal.Municipalities = splitCodes(codes)
	return row, err
}

// TouchSession records the session's use, unless a later one is stored.
func (r rows) TouchSession(ctx context.Context, hash auth.Hash, at, expires time.Time) error {
	_, err := r.db.ExecContext(ctx, `UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE hash = ? AND last_used_at < ?`,
		formatTime(at), formatTime(expires), hash[:], formatTime(at))
	return err
}

// DeleteSession deletes the session.
func (r rows) DeleteSession(ctx context.Context, hash auth.Hash) error {
	_, err := r.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash[:])
	return err
}

// formatTime is how the store writes times: RFC 3339 in UTC to the second,
// so that they compare as text.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// nullTime writes t, or NULL for the zero time.
func nullTime(t time.Time) sql.NullString {
	if t.IsZero() {
		return sql.NullString{}
	}
	return sql.NullString{String: formatTime(t), Valid: true}
}

// nullString writes s, or NULL for "".
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// parseNullTime reads what nullTime wrote: the zero time for NULL.
func parseNullTime(s sql.NullString) time.Time {
	if !s.Valid {
		return time.Time{}
	}
	return parseTime(s.String)
}

// parseTime reads a time the store wrote; a malformed one is the zero
// time, which makes a session expired.
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}
