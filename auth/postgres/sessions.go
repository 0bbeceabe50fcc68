package postgres

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

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
	if _, err := t.pool.Exec(ctx, `DELETE FROM auth_sessions WHERE expires_at <= $1`, now); err != nil {
		return "", auth.Principal{}, fmt.Errorf("start session: delete expired sessions: %w", err)
	}
	id, hash := auth.NewSessionID()
	tokenHash := auth.HashToken(token)
	// The session is bound to the token's row as it is now: a token
	// revoked since Authenticate binds nothing. (A revocation that commits
	// while this insert runs may leave the row behind; Session joins the
	// token's row, so such a session is dead all the same, and expires.)
	tag, err := t.pool.Exec(ctx, `INSERT INTO auth_sessions (hash, principal_kind, principal_ref, created_at, last_used_at, expires_at)
		SELECT $1, $2, hash, $3, $3, $4 FROM auth_tokens WHERE hash = $5`,
		hash[:], auth.PrincipalToken, now, auth.SessionExpiry(now, now), tokenHash[:])
	if err != nil {
		return "", auth.Principal{}, fmt.Errorf("start session: %w", err)
	}
	if tag.RowsAffected() == 0 {
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
		p                      auth.Principal
		stored                 []byte
		codes                  []string
		created, used, expires time.Time
	)
	err := t.pool.QueryRow(ctx, `SELECT s.hash, s.created_at, s.last_used_at, s.expires_at, t.name, t.role, t.municipalities
		FROM auth_sessions s JOIN auth_tokens t ON t.hash = s.principal_ref
		WHERE s.hash = $1 AND s.principal_kind = $2`, hash[:], auth.PrincipalToken).
		Scan(&stored, &created, &used, &expires, &p.Subject, &p.Role, &codes)
	if errors.Is(err, pgx.ErrNoRows) {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if err != nil {
		return auth.Principal{}, fmt.Errorf("session: %w", err)
	}
	// As in Authenticate: the index found the row, compare all the same.
	if subtle.ConstantTimeCompare(stored, hash[:]) != 1 {
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if !now.Before(expires) {
		// Failing to delete it changes nothing for the request: it has
		// expired either way, and the next sign-in deletes it.
		_, _ = t.pool.Exec(ctx, `DELETE FROM auth_sessions WHERE hash = $1`, hash[:])
		return auth.Principal{}, auth.ErrUnauthenticated
	}
	if now.Sub(used) >= lastUsedEvery {
		at := now.UTC().Truncate(time.Second)
		// Failing to record the use must not fail the request; the
		// session then ends a minute or so earlier. Another instance may
		// have recorded a later use meanwhile: the later one stays.
		_, _ = t.pool.Exec(ctx, `UPDATE auth_sessions SET last_used_at = $1, expires_at = $2 WHERE hash = $3 AND last_used_at < $1`,
			at, auth.SessionExpiry(created, at), hash[:])
	}
	p.Municipalities = kommuneCodes(codes)
	t.touch(ctx, p.Subject)
	return p, nil
}

// EndSession deletes the session, for every instance.
func (t *Tokens) EndSession(ctx context.Context, id string) error {
	if !auth.WellFormedSessionID(id) {
		return nil
	}
	hash := auth.HashSessionID(id)
	if _, err := t.pool.Exec(ctx, `DELETE FROM auth_sessions WHERE hash = $1`, hash[:]); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
