// Package auth is who may do what: bearer tokens, the roles of docs/api.md
// (Authentication and roles) and a coordinator's municipalities, and the
// pages' sign-in sessions (session.go). Tokens and session ids are random
// 256-bit secrets; stores keep only their SHA-256. The stores are ports
// (TokenStore, SessionStore); auth/sqlite implements them in the data
// folder, auth/postgres in PostgreSQL for several instances, and
// auth/authtest holds both to one contract.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// Roles (docs/api.md, Authentication and roles).
const (
	// RoleAdmin may do everything.
	RoleAdmin = "admin"
	// RoleCoordinator runs commands and sees personal data in its
	// municipalities, and reads everything else without personal data.
	RoleCoordinator = "coordinator"
	// RoleResearcher reads everything and takes research exports, never
	// personal data.
	RoleResearcher = "researcher"
	// RoleViewer reads, without personal data.
	RoleViewer = "viewer"
)

// Roles lists every role.
var Roles = []string{RoleAdmin, RoleCoordinator, RoleResearcher, RoleViewer}

// Errors at the package boundary.
var (
	// ErrUnauthenticated means no token, or one no store knows (401).
	ErrUnauthenticated = errors.New("no valid token")
	// ErrForbidden means a valid token outside its role or municipalities
	// (403).
	ErrForbidden = errors.New("not allowed for this token")
	// ErrTokenExists means a token of that name already exists.
	ErrTokenExists = errors.New("a token of that name already exists")
	// ErrTokenNotFound means no token has that name.
	ErrTokenNotFound = errors.New("no token of that name")
	// ErrInvalidSpec means a token cannot be made as asked.
	ErrInvalidSpec = errors.New("invalid token request")
)

// Principal is who a request acts for: a token's name (its subject), role
// and, for coordinators, today's codes of its municipalities.
type Principal struct {
	Subject        string
	Role           string
	Municipalities []kommune.Code
}

// MayWrite reports whether the principal may run commands on partnerships
// of the municipality (today's code).
func (p Principal) MayWrite(municipality string) bool {
	switch p.Role {
	case RoleAdmin:
		return true
	case RoleCoordinator:
		return p.inScope(municipality)
	}
	return false
}

// MaySeePersonalData reports whether the principal may read contact
// persons of partnerships in the municipality (today's code).
func (p Principal) MaySeePersonalData(municipality string) bool { return p.MayWrite(municipality) }

// MayExport reports whether the principal may take research exports.
func (p Principal) MayExport() bool { return p.Role == RoleAdmin || p.Role == RoleResearcher }

// Same reports whether q is the same principal with the same rights: the
// same subject, role and municipalities.
func (p Principal) Same(q Principal) bool {
	return p.Subject == q.Subject && p.Role == q.Role && slices.Equal(p.Municipalities, q.Municipalities)
}

// IsAdmin reports whether the principal is an admin.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

func (p Principal) inScope(municipality string) bool {
	current := kommune.Code(municipality).Current()
	return slices.Contains(p.Municipalities, current)
}

// tokenPrefix marks samspill tokens, so that secret scanners and people
// recognise one.
const tokenPrefix = "ssp_"

// tokenBytes is the entropy of a token: 256 bits.
const tokenBytes = 32

// NewToken returns a fresh token and its hash.
func NewToken() (token string, hash Hash) {
	token = tokenPrefix + newSecret()
	return token, HashToken(token)
}

// newSecret returns tokenBytes random bytes in URL-safe base64.
func newSecret() string {
	b := make([]byte, tokenBytes)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is the SHA-256 of a token: all a store keeps. A plain hash is
// enough for 256-bit random secrets; no one can guess a preimage.
type Hash [sha256.Size]byte

// HashToken hashes a token.
func HashToken(token string) Hash { return sha256.Sum256([]byte(token)) }

// maxTokenLen bounds what is hashed: a real token is 47 characters.
const maxTokenLen = 128

// ParseAuthorization reads an Authorization header: "Bearer <token>" with
// the scheme in any case and the token well formed. It returns
// ErrUnauthenticated for anything else.
func ParseAuthorization(header string) (string, error) {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", fmt.Errorf("%w: want Authorization: Bearer <token>", ErrUnauthenticated)
	}
	token = strings.TrimLeft(token, " ")
	if !WellFormed(token) {
		return "", fmt.Errorf("%w: the bearer token is malformed", ErrUnauthenticated)
	}
	return token, nil
}

// WellFormed reports whether s could be a samspill token: the prefix and
// URL-safe base64 of the right length.
func WellFormed(s string) bool {
	rest, ok := strings.CutPrefix(s, tokenPrefix)
	if !ok || len(s) > maxTokenLen || len(rest) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

// Spec is what a new token is made for.
type Spec struct {
	Name           string
	Role           string
	Municipalities []string // codes as given; old codes mean today's
	// Owner is the user id (IsUserID) of the person who answers for the
	// token, or empty for a service account's token, which the name
	// names. A token of a disabled or erased user does not authenticate.
	Owner string
	// ExpiresAt is when the token stops authenticating; zero for never.
	ExpiresAt time.Time
}

// Validate checks the spec and returns today's codes of its
// municipalities, sorted and without repeats.
func (s Spec) Validate() ([]kommune.Code, error) {
	if !slices.Contains(Roles, s.Role) {
		return nil, fmt.Errorf("%w: role %q is not one of %s", ErrInvalidSpec, s.Role, strings.Join(Roles, ", "))
	}
	if s.Owner != "" && !IsUserID(s.Owner) {
		return nil, fmt.Errorf("%w: owner %q is not a user id", ErrInvalidSpec, s.Owner)
	}
	if s.Name == "" || len(s.Name) > 64 || strings.ContainsFunc(s.Name, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
		return nil, fmt.Errorf("%w: name must be 1 to 64 characters without spaces", ErrInvalidSpec)
	}
	if IsUserID(s.Name) {
		// The audit log and events tell people from tokens by the form
		// of the name.
		return nil, fmt.Errorf("%w: name %q has the form of a user id", ErrInvalidSpec, s.Name)
	}
	var codes []kommune.Code
	for _, m := range s.Municipalities {
		c, err := kommune.Parse(m)
		if err != nil {
			return nil, fmt.Errorf("%w: municipality %q: %w", ErrInvalidSpec, m, err)
		}
		codes = append(codes, c.Current())
	}
	switch {
	case s.Role == RoleCoordinator && len(codes) == 0:
		return nil, fmt.Errorf("%w: a coordinator needs at least one --municipality", ErrInvalidSpec)
	case s.Role != RoleCoordinator && len(codes) > 0:
		return nil, fmt.Errorf("%w: only coordinators have municipalities", ErrInvalidSpec)
	}
	slices.Sort(codes)
	return slices.Compact(codes), nil
}

// Token is a stored token as listed: never the secret.
type Token struct {
	Name           string
	Role           string
	Municipalities []kommune.Code
	Owner          string    // a user id, or empty for a service account
	ExpiresAt      time.Time // zero for never
	CreatedAt      time.Time
	LastUsedAt     *time.Time
}

// TokenStore keeps tokens by hash.
type TokenStore interface {
	// Create stores a new token for spec and returns the secret, shown
	// only this once.
	Create(ctx context.Context, spec Spec) (string, error)
	// Authenticate returns the principal of a token, or
	// ErrUnauthenticated.
	Authenticate(ctx context.Context, token string) (Principal, error)
	// List returns every token, by name.
	List(ctx context.Context) ([]Token, error)
	// Revoke deletes the named token, or returns ErrTokenNotFound. A
	// store that also keeps sessions (SessionStore) ends every session
	// signed in with the token in the same step.
	Revoke(ctx context.Context, name string) error
	// Empty reports whether the store holds no token.
	Empty(ctx context.Context) (bool, error)
}

// Resolve returns the principal a request's Authorization header names.
// It returns ErrUnauthenticated when there is no header, when it is not
// "Bearer <token>", when the store does not know the token, or when there
// is no store, and the store's own failures wrapped. Only tokens are
// accepted: a session id (SessionStore) is no bearer credential.
func Resolve(ctx context.Context, store TokenStore, authorization string) (Principal, error) {
	if authorization == "" {
		return Principal{}, fmt.Errorf("%w: send Authorization: Bearer <token>", ErrUnauthenticated)
	}
	token, err := ParseAuthorization(authorization)
	if err != nil {
		return Principal{}, err
	}
	if store == nil {
		return Principal{}, fmt.Errorf("%w: the server has no token store", ErrUnauthenticated)
	}
	p, err := store.Authenticate(ctx, token)
	if err != nil && !errors.Is(err, ErrUnauthenticated) {
		return Principal{}, fmt.Errorf("authenticate: %w", err)
	}
	return p, err
}
