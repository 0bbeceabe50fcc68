package auth

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// Sessions are how a browser stays signed in to the pages. It signs in
// once with a token; from then on it carries only a session id, a random
// 256-bit secret of its own that is no API credential (the API takes only
// Authorization: Bearer <token>). A store keeps the SHA-256 of the id, the
// principal it stands for and its times, beside the tokens, so that every
// instance sharing the tokens shares the sessions too.
//
// A session record names its principal by kind and reference, not by a
// token's columns: PrincipalToken and the token's hash (never its name,
// which can be revoked and made again for someone else), or PrincipalUser
// and the user's id (a person signed in with OpenID Connect, UserStore).
// The role and municipalities are read from the token's or user's current
// row on every use, so revoking the token, or disabling or erasing the
// user, ends the session at once and any change to the row applies at
// once.
//
// Every session ends at the earlier of two limits (SessionExpiry): idle
// for SessionIdleTimeout, or SessionLifetime after sign-in however busy.
// Signing in again makes a new session and leaves the token's other
// sessions (other browsers, other devices) alone; signing out ends only the
// one session.
const (
	// SessionIdleTimeout ends a session nobody has used for two hours: a
	// browser left open over lunch asks for the token again, a morning of
	// work in one case does not. Uses are recorded to the minute, so the
	// limit counts from at most a minute before the last use.
	SessionIdleTimeout = 2 * time.Hour
	// SessionLifetime ends every session twelve hours after sign-in, busy
	// or not: a working day, so staff sign in once a day at most and a
	// stolen cookie is worth a day at most.
	SessionLifetime = 12 * time.Hour
)

// PrincipalToken is the kind of principal a session stands for when a
// token signed it in; its reference is the token's Hash.
const PrincipalToken = "token"

// SessionStore is a TokenStore that also keeps the pages' sign-in
// sessions. Sessions are stored by the SHA-256 of their id only. Methods
// take the time of the request (now), so expiry follows the caller's
// clock. It is safe for concurrent use; stores shared by several
// instances (auth/postgres) see each other's sessions and revocations.
type SessionStore interface {
	TokenStore
	// StartSession signs in with a token: it stores a new session bound to
	// the token (by its hash) and returns the session's id, shown only this
	// once, and the token's principal. A token the store does not know is
	// ErrUnauthenticated. Other sessions of the token live on; sessions
	// that have expired by now (anyone's) are deleted on the way.
	StartSession(ctx context.Context, token string, now time.Time) (id string, p Principal, err error)
	// Session returns the principal of the session id, read from its
	// token's current row, and records the use, which moves its idle limit
	// (to the minute). An id that names no session, a session expired at
	// now (which is then deleted) or one whose token was revoked is
	// ErrUnauthenticated.
	Session(ctx context.Context, id string, now time.Time) (Principal, error)
	// EndSession deletes the session (signing out). An id that names no
	// session is not an error: the outcome is the same.
	EndSession(ctx context.Context, id string) error
}

// sessionIDLen is the length of a session id: 256 bits in URL-safe
// base64, without the token prefix.
var sessionIDLen = base64.RawURLEncoding.EncodedLen(tokenBytes)

// NewSessionID returns a fresh session id and its hash.
func NewSessionID() (id string, hash Hash) {
	id = newSecret()
	return id, HashSessionID(id)
}

// HashSessionID hashes a session id: all a store keeps of it.
func HashSessionID(id string) Hash { return sha256.Sum256([]byte(id)) }

// WellFormedSessionID reports whether s could be a session id: URL-safe
// base64 of 256 bits. A token is not one (it has a prefix and is longer).
func WellFormedSessionID(s string) bool {
	if len(s) != sessionIDLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// SessionExpiry is when a session that began at started and was last used
// at lastUsed ends: the earlier of its idle and absolute limits. A session
// is alive while now is before its expiry.
func SessionExpiry(started, lastUsed time.Time) time.Time {
	idle, absolute := lastUsed.Add(SessionIdleTimeout), started.Add(SessionLifetime)
	if idle.Before(absolute) {
		return idle
	}
	return absolute
}
