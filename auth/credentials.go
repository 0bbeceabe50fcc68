package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"sync"
	"time"
)

// LastUsedEvery bounds the writes that record when a token or a session
// was last used: a busy token is not written on every request.
const LastUsedEvery = time.Minute

// TokenRow is a token's row as a store found it by the token's hash.
type TokenRow struct {
	// Hash is the hash as stored, compared with the token's in constant
	// time.
	Hash []byte
	// Principal is the token's name (as Subject), role and
	// municipalities.
	Principal Principal
	// ExpiresAt is when the token stops authenticating; zero for never.
	// (A token whose owner is disabled or erased is no row at all: the
	// store's statement leaves it out.)
	ExpiresAt time.Time
}

// SessionRow is a session's row, with its token's current row, as a store
// found it by the hash of the session's id.
type SessionRow struct {
	// Hash is the hash as stored, compared with the id's in constant
	// time.
	Hash []byte
	// Created, LastUsed and Expires are the session's times; a zero
	// Expires (a time the store could not read) has expired.
	Created, LastUsed, Expires time.Time
	// Kind is the session's principal's kind (PrincipalToken or
	// PrincipalUser): only a token's use is recorded on the token.
	Kind string
	// Principal is the session's token's or user's principal, read from
	// its row as it is now.
	Principal Principal
	// PrincipalExpires is when the session's token expires; zero for
	// never (and for users). The session ends with it.
	PrincipalExpires time.Time
}

// TokenRows are a SessionStore adapter's own statements on its token and
// session rows, which Credentials calls. They must be safe for concurrent
// use.
type TokenRows interface {
	// FindToken returns the row of the token whose hash is hash, or
	// ErrUnauthenticated when there is none.
	FindToken(ctx context.Context, hash Hash) (TokenRow, error)
	// TouchToken records that the named token was used at at (whole
	// seconds, UTC). A store shared by several instances may skip the
	// write when another instance recorded a use in the last
	// LastUsedEvery.
	TouchToken(ctx context.Context, name string, at time.Time) error
	// FindSession returns the row of the session whose id's hash is hash,
	// with its token's current row, or ErrUnauthenticated when there is
	// none (or its token is gone).
	FindSession(ctx context.Context, hash Hash) (SessionRow, error)
	// InsertSession stores a new session bound to the token of tokenHash
	// as its row is now; inserted is false when there is no such token
	// (revoked since it was authenticated).
	InsertSession(ctx context.Context, hash, tokenHash Hash, now, expires time.Time) (inserted bool, err error)
	// TouchSession records that the session was used at at and now
	// expires at expires, unless a use at or after at is stored already.
	TouchSession(ctx context.Context, hash Hash, at, expires time.Time) error
	// DeleteSession deletes the session whose id's hash is hash.
	DeleteSession(ctx context.Context, hash Hash) error
	// DeleteExpiredSessions deletes every session expired at now.
	DeleteExpiredSessions(ctx context.Context, now time.Time) error
}

// Credentials is what every SessionStore does with the token or session
// id a request presents, around the store's own statements (TokenRows):
// check that it is well formed, hash it, find the row by the hash, compare
// the hashes in constant time, end an expired session, and record the use
// (at most once per LastUsedEvery for each token in this process, and for
// each session). An adapter embeds one, so that its methods are the
// adapter's SessionStore methods of the same names. It is safe for
// concurrent use.
type Credentials struct {
	rows TokenRows
	now  func() time.Time // the clock of token uses (sessions take the request's now)

	mu       sync.Mutex
	lastUsed map[string]time.Time // when this process last recorded a token's use, by name
}

// NewCredentials returns the Credentials of a store with the statements
// rows, whose token uses are timed by now.
func NewCredentials(rows TokenRows, now func() time.Time) *Credentials {
	return &Credentials{rows: rows, now: now, lastUsed: map[string]time.Time{}}
}

// Authenticate is TokenStore.Authenticate: the token's principal; a token
// that is malformed or not stored is ErrUnauthenticated.
func (c *Credentials) Authenticate(ctx context.Context, token string) (Principal, error) {
	if !WellFormed(token) {
		return Principal{}, ErrUnauthenticated
	}
	hash := HashToken(token)
	row, err := c.rows.FindToken(ctx, hash)
	if errors.Is(err, ErrUnauthenticated) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	// The index found the row by the hash; compare it in constant time all
	// the same, so no code path depends on how much of it matched.
	if subtle.ConstantTimeCompare(row.Hash, hash[:]) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	if !row.ExpiresAt.IsZero() && !c.now().Before(row.ExpiresAt) {
		return Principal{}, ErrUnauthenticated
	}
	c.touchToken(ctx, row.Principal.Subject)
	return row.Principal, nil
}

// touchToken records that the token was used, at most once per
// LastUsedEvery for each token in this process.
func (c *Credentials) touchToken(ctx context.Context, name string) {
	now := c.now()
	c.mu.Lock()
	if now.Sub(c.lastUsed[name]) < LastUsedEvery {
		c.mu.Unlock()
		return
	}
	c.lastUsed[name] = now
	c.mu.Unlock()
	// Failing to record the time must not fail the request.
	_ = c.rows.TouchToken(ctx, name, now.UTC().Truncate(time.Second))
}

// StartSession is SessionStore.StartSession: it signs in with the token
// and stores the new session's hash, bound to the token's hash.
func (c *Credentials) StartSession(ctx context.Context, token string, now time.Time) (string, Principal, error) {
	p, err := c.Authenticate(ctx, token)
	if err != nil {
		return "", Principal{}, err
	}
	now = now.UTC().Truncate(time.Second)
	// Expired sessions go here: sign-ins are rare, and a session nobody
	// uses again is otherwise never looked at.
	if err := c.rows.DeleteExpiredSessions(ctx, now); err != nil {
		return "", Principal{}, fmt.Errorf("start session: delete expired sessions: %w", err)
	}
	id, hash := NewSessionID()
	// The session is bound to the token's row as it is now: a token
	// revoked since Authenticate binds nothing.
	inserted, err := c.rows.InsertSession(ctx, hash, HashToken(token), now, SessionExpiry(now, now))
	if err != nil {
		return "", Principal{}, fmt.Errorf("start session: %w", err)
	}
	if !inserted {
		return "", Principal{}, ErrUnauthenticated
	}
	return id, p, nil
}

// Session is SessionStore.Session: the principal of the session id, read
// from its token's current row, recording the use.
func (c *Credentials) Session(ctx context.Context, id string, now time.Time) (Principal, error) {
	if !WellFormedSessionID(id) {
		return Principal{}, ErrUnauthenticated
	}
	hash := HashSessionID(id)
	row, err := c.rows.FindSession(ctx, hash)
	if errors.Is(err, ErrUnauthenticated) {
		return Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return Principal{}, fmt.Errorf("session: %w", err)
	}
	// As in Authenticate: the index found the row, compare all the same.
	if subtle.ConstantTimeCompare(row.Hash, hash[:]) != 1 {
		return Principal{}, ErrUnauthenticated
	}
	expires := row.Expires
	if !row.PrincipalExpires.IsZero() && row.PrincipalExpires.Before(expires) {
		expires = row.PrincipalExpires
	}
	if !now.Before(expires) {
		// Failing to delete it changes nothing for the request: it has
		// expired either way, and the next sign-in deletes it.
		_ = c.rows.DeleteSession(ctx, hash)
		return Principal{}, ErrUnauthenticated
	}
	if now.Sub(row.LastUsed) >= LastUsedEvery {
		at := now.UTC().Truncate(time.Second)
		// Failing to record the use must not fail the request; the
		// session then ends a minute or so earlier. Another instance may
		// have recorded a later use meanwhile: the later one stays.
		_ = c.rows.TouchSession(ctx, hash, at, SessionExpiry(row.Created, at))
	}
	if row.Kind != PrincipalUser {
		c.touchToken(ctx, row.Principal.Subject)
	}
	return row.Principal, nil
}

// EndSession is SessionStore.EndSession: it deletes the session; an id
// that names none is no error.
func (c *Credentials) EndSession(ctx context.Context, id string) error {
	if !WellFormedSessionID(id) {
		return nil
	}
	if err := c.rows.DeleteSession(ctx, HashSessionID(id)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	return nil
}
