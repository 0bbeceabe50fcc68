package auth

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// Personal users are people who sign in through their municipality's
// identity provider (OpenID Connect; package signin does the protocol).
// A user is made on first sign-in from the provider's subject, which is
// stable per provider, and gets an id of samspill's own (UserID): the
// stable, pseudonymous actor id that the events the user causes record as
// their actor's Subject. The user's display name and e-mail are personal
// data: a store keeps them sealed under a key of the user's own (Sealer),
// and erasing the user destroys that key.
//
// A user's role and municipalities (its Grant) come from the provider's
// groups through the configured mappings at every sign-in, until an admin
// grants them on the users page; from then on the admin's grant holds
// until an admin gives the user back to the mappings. A user with no role
// may sign in and is told whom to ask.
//
// Every change to who may do what (users granted, disabled, enabled,
// erased; tokens made and revoked; sessions ended by an admin) is written
// to the audit log (AuditEntry) by the store, in the same transaction as
// the change.

// PrincipalUser is the kind of principal a session stands for when a
// person signed in through an identity provider; its reference is the
// user's id.
const PrincipalUser = "user"

// Errors at the package boundary for users.
var (
	// ErrUserNotFound means no user has that id.
	ErrUserNotFound = errors.New("no such user")
	// ErrUserDisabled means an admin disabled the user: it cannot sign in
	// and its sessions and tokens no longer authenticate.
	ErrUserDisabled = errors.New("the user is disabled")
	// ErrUserErased means the user's personal data was erased; it cannot
	// sign in again under that id.
	ErrUserErased = errors.New("the user has been erased")
	// ErrSessionNotFound means no live session has that handle.
	ErrSessionNotFound = errors.New("no such session")
)

// userIDPrefix marks user ids, so a reader of an event tells a person
// from a token's name at a glance.
const userIDPrefix = "usr-"

// userIDForm is the form of a user id: the prefix and 20 characters of
// lower-case base32 (100 random bits).
var userIDForm = regexp.MustCompile(`^usr-[a-z2-7]{20}$`)

// NewUserID returns a fresh user id.
func NewUserID() string {
	b := make([]byte, 13)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
	return userIDPrefix + strings.ToLower(enc[:20])
}

// IsUserID reports whether s has the form of a user id (and so names a
// person, not a token).
func IsUserID(s string) bool { return userIDForm.MatchString(s) }

// Identity is what an identity provider vouched for at a sign-in: the
// configured provider's name, its subject for the person, the person's
// display name and e-mail, and the groups of the configured claim.
type Identity struct {
	Provider string
	Subject  string
	Name     string
	Email    string
	Groups   []string
}

// Grant is what a user may do: a role (empty for none) and, for
// coordinators, today's codes of its municipalities.
type Grant struct {
	Role           string
	Municipalities []kommune.Code
}

// Validate checks the grant as an admin or a mapping gives it: a known role
// or none, municipalities for coordinators only and at least one for them.
// It returns the grant with its codes made today's, sorted and without
// repeats.
func (g Grant) Validate() (Grant, error) {
	if g.Role != "" && !slices.Contains(Roles, g.Role) {
		return Grant{}, fmt.Errorf("%w: role %q is not one of %s", ErrInvalidSpec, g.Role, strings.Join(Roles, ", "))
	}
	codes := make([]kommune.Code, 0, len(g.Municipalities))
	for _, c := range g.Municipalities {
		codes = append(codes, c.Current())
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	switch {
	case g.Role == RoleCoordinator && len(codes) == 0:
		return Grant{}, fmt.Errorf("%w: a coordinator needs at least one municipality", ErrInvalidSpec)
	case g.Role != RoleCoordinator && len(codes) > 0:
		return Grant{}, fmt.Errorf("%w: only coordinators have municipalities", ErrInvalidSpec)
	}
	return Grant{Role: g.Role, Municipalities: codes}, nil
}

// User is a personal user as a store lists it.
type User struct {
	// ID is samspill's own id of the user (NewUserID), the actor id of
	// the events it causes.
	ID string
	// Provider is the name of the configured provider it signs in with.
	Provider string
	// Name and Email are the person's, opened from their sealed form;
	// both are empty once the user is erased.
	Name  string
	Email string
	// Grant is what the user may do now.
	Grant Grant
	// GrantedByAdmin is true when an admin set the grant; false when the
	// mappings set it at the last sign-in.
	GrantedByAdmin bool
	Disabled       bool
	Erased         bool
	CreatedAt      time.Time
	LastSignInAt   time.Time
}

// Principal is the user as a principal: its id, role and municipalities.
func (u User) Principal() Principal {
	return Principal{Subject: u.ID, Role: u.Grant.Role, Municipalities: u.Grant.Municipalities}
}

// UserFilter narrows a list of users. Query matches the display name or
// e-mail (case-insensitively, anywhere in them) or the id exactly.
type UserFilter struct {
	Query    string
	Role     string // "" for any
	Disabled *bool  // nil for any
}

// SessionInfo is a live session as an admin sees it: never its id.
type SessionInfo struct {
	// Handle names the session for EndSessionByHandle: the first 16 hex
	// digits of its hash, which is no credential.
	Handle string
	// Kind is PrincipalToken or PrincipalUser, Subject the token's name or
	// the user's id.
	Kind     string
	Subject  string
	Created  time.Time
	LastUsed time.Time
	Expires  time.Time
}

// Audit actions: what an AuditEntry records.
const (
	AuditUserCreated  = "user.created"
	AuditUserSignedIn = "user.signed_in"
	// AuditUserSignInRefused is a sign-in of a disabled user: the only
	// thing such a sign-in writes.
	AuditUserSignInRefused = "user.sign_in_refused"
	AuditUserGranted       = "user.granted"
	AuditUserToMappings    = "user.to_mappings"
	AuditUserDisabled      = "user.disabled"
	AuditUserEnabled       = "user.enabled"
	AuditUserErased        = "user.erased"
	AuditTokenCreated      = "token.created"
	AuditTokenRevoked      = "token.revoked"
	AuditSessionEnded      = "session.ended"
)

// AuditEntry is one change to who may do what. It holds no personal data:
// users are named by id, tokens by name.
type AuditEntry struct {
	// Seq orders the log; a store assigns it.
	Seq int64
	At  time.Time
	// Actor is who made the change: a principal's Subject (a user id or a
	// token's name), or "system" for the CLI and for sign-ins.
	Actor string
	// Action is one of the Audit* constants.
	Action string
	// Target is the user id, token name or session handle changed.
	Target string
	// Grant is the grant given, where the action gives one.
	Grant *Grant
}

// AuditFilter narrows the audit log: entries with Seq below Before (all if
// 0), newest first, at most Limit (100 if 0).
type AuditFilter struct {
	Actor  string
	Action string
	Target string
	From   time.Time // zero for no bound
	To     time.Time // exclusive; zero for no bound
	Before int64
	Limit  int
}

// SystemActor is the audit log's actor for changes no principal made: the
// CLI on the server's machine and the sign-ins themselves.
const SystemActor = "system"

// Sealer seals and opens a user's personal data under a key of the user's
// own, and destroys that key (personal.UserSealer over the KeyStore).
type Sealer interface {
	Seal(ctx context.Context, userID string, plain []byte) ([]byte, error)
	Open(ctx context.Context, userID string, sealed []byte) ([]byte, error)
	Erase(ctx context.Context, userID string) error
}

// UserStore is a SessionStore that also keeps personal users, their
// sessions and the audit log. Sessions of users read the user's current
// row on every use, as token sessions read their token's: a disabled or
// erased user's sessions no longer authenticate, and a changed grant
// applies at the next request.
type UserStore interface {
	SessionStore
	// SignIn finds the user of the identity (by provider and subject) or
	// makes one, records its name, e-mail and sign-in time, and, unless an
	// admin granted it, sets its grant to mapped. It starts a session for
	// it and returns the session's id, shown only this once. A disabled
	// user is ErrUserDisabled, an erased one ErrUserErased; then nothing
	// is written but the audit entry.
	SignIn(ctx context.Context, id Identity, mapped Grant, now time.Time) (sessionID string, u User, err error)
	// User returns the user, or ErrUserNotFound.
	User(ctx context.Context, id string) (User, error)
	// Users lists the users that match, by name.
	Users(ctx context.Context, f UserFilter) ([]User, error)
	// SetGrant is an admin's grant (GrantedByAdmin); it ends the user's
	// sessions, so every open page and stream of theirs ends.
	SetGrant(ctx context.Context, actor Principal, userID string, g Grant) error
	// UseMappings gives the user back to the mappings: the grant holds
	// until the next sign-in sets it from the groups. It ends the user's
	// sessions.
	UseMappings(ctx context.Context, actor Principal, userID string) error
	// Disable stops the user signing in, ends its sessions and stops its
	// tokens; Enable undoes it.
	Disable(ctx context.Context, actor Principal, userID string) error
	Enable(ctx context.Context, actor Principal, userID string) error
	// EraseUser destroys the user's personal data (the Sealer's key and
	// the provider's subject), disables it and ends its sessions. Its id
	// stays, so the events it caused still name one actor.
	EraseUser(ctx context.Context, actor Principal, userID string) error
	// Sessions lists the live sessions, newest first.
	Sessions(ctx context.Context, now time.Time) ([]SessionInfo, error)
	// EndSessionByHandle ends the session an admin picked from Sessions,
	// or returns ErrSessionNotFound.
	EndSessionByHandle(ctx context.Context, actor Principal, handle string) error
	// CreateToken and RevokeToken are TokenStore.Create and Revoke done
	// by actor, who is named in the audit log (Create and Revoke name
	// SystemActor: the CLI on the server's machine). A token whose Owner
	// names no user is ErrUserNotFound.
	CreateToken(ctx context.Context, actor Principal, spec Spec) (string, error)
	RevokeToken(ctx context.Context, actor Principal, name string) error
	// Audit returns the audit log's entries that match, newest first.
	Audit(ctx context.Context, f AuditFilter) ([]AuditEntry, error)
}
