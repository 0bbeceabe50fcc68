package sqlite

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/samspill/samspill/auth"
)

// StartSession signs in with a token and stores the new session's hash,
// bound to the token's hash.
func (t *Tokens) StartSession(ctx context.Context, token string, now time.Time) (string, auth.Principal, error) {
	p, err := t.Authenticate(ctx, token)
	if err != nil {
		return "", auth.Principal{}, err
	}
	now = now.UTC().Truncate(time.Second)
	// Expired sessions go here: sign-ins are rare, and a session nobody
	// uses again is otherwise never looked at.
	if _, err := t.db.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= ?`, formatTime(now)); err != nil {
		return "", auth.Principal{}, fmt.Errorf("start session: delete expired sessions: %w", err)
	}
	id, hash := auth.NewSessionID()
	tokenHash := auth.HashToken(token)
	// The session is bound to the token's row as it is now: a token
	// revoked since Authenticate binds nothing.
	res, err := t.db.ExecContext(ctx, `INSERT INTO sessions (hash, principal_kind, principal_ref, created_at, last_used_at, expires_at)
		SELECT ?, ?, hash, ?, ?, ? FROM tokens WHERE hash = ?`,
		hash[:], auth.PrincipalToken, formatTime(now), formatTime(now), formatTime(auth.SessionExpiry(now, now)), tokenHash[:])
	if err != nil {
		return "", auth.Principal{}, fmt.Errorf("start session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return "", auth.Principal{}, auth.ErrUnauthenticated
	}
	return id, p, nil
}

// Session looks the session up by its hash, with its token's current row.
func (t *Tokens) Session(ctx context.Context, id string, now time.Time) (auth.Principal, error) {
	if !auth.WellFormedSessionID(id) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	hash := auth.HashSessionID(id)
	var (
		p                             auth.Principal
		stored                        []byte
		codes, created, used, expires string
	)
	err := t.db.QueryRowContext(ctx, `SELECT s.hash, s.created_at, s.last_used_at, s.expires_at, t.name, t.role, t.municipalities
		FROM sessions s JOIN tokens t ON t.hash = s.principal_ref
		WHERE s.hash = ? AND s.principal_kind = ?`, hash[:], auth.PrincipalToken).
		Scan(&stored, &created, &used, &expires, &p.Subject, &p.Role, &codes)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("session: %w", err)
	}
	// As in Authenticate: the index found the row, compare all the same.
	if subtle.ConstantTimeCompare(stored, hash[:]) != 1 {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if !now.Before(parseTime(expires)) {
		// Failing to delete it changes nothing for the request: it has
		// expired either way, and the next sign-in deletes it.
		_, _ = t.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash[:])
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if now.Sub(parseTime(used)) >= lastUsedEvery {
		at := now.UTC().Truncate(time.Second)
		// Failing to record the use must not fail the request; the
		// session then ends a minute or so earlier.
		_, _ = t.db.ExecContext(ctx, `UPDATE sessions SET last_used_at = ?, expires_at = ? WHERE hash = ? AND last_used_at < ?`,
			formatTime(at), formatTime(auth.SessionExpiry(parseTime(created), at)), hash[:], formatTime(at))
	}
	p.Municipalities = splitCodes(codes)
	t.touch(ctx, p.Subject)
	return p, nil
}

// EndSession deletes the session.
func (t *Tokens) EndSession(ctx context.Context, id string) error {
	if !auth.WellFormedSessionID(id) {
		return nil
	}
	hash := auth.HashSessionID(id)
	if _, err := t.db.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash[:]); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}

// formatTime is how the store writes times: RFC 3339 in UTC to the second,
// so that they compare as text.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// parseTime reads a time the store wrote; a malformed one is the zero
// time, which makes a session expired.
func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}
