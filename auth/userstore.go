package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/samspill/samspill/domain/kommune"
)

// What follows is shared by the UserStore adapters: what they keep of a
// user (the subject's hash, the sealed profile) and how they read the
// filters, so that auth/sqlite and auth/postgres agree byte for byte.

// ErrNoSealer means a store was opened without a Sealer and cannot keep
// users.
var ErrNoSealer = errors.New("the store has no sealer for personal data")

// SubjectHash is what a store keeps of a provider's subject: the SHA-256
// of the provider's name, a NUL and the subject. Only equality is needed,
// and the hash is no personal data worth keeping once the user is erased
// (the store drops it then).
func SubjectHash(provider, subject string) Hash {
	return sha256.Sum256([]byte(provider + "\x00" + subject))
}

// profile is what a store seals of a user.
type profile struct {
	Name  string `json:"name"`
	Email string `json:"email"`
}

// SealProfile seals a user's name and e-mail under its key.
func SealProfile(ctx context.Context, s Sealer, userID, name, email string) ([]byte, error) {
	if s == nil {
		return nil, ErrNoSealer
	}
	plain, _ := json.Marshal(profile{Name: name, Email: email}) // strings always marshal
	sealed, err := s.Seal(ctx, userID, plain)
	if err != nil {
		return nil, fmt.Errorf("seal the profile of %s: %w", userID, err)
	}
	return sealed, nil
}

// OpenProfile opens what SealProfile sealed; an empty sealed (an erased
// user's) is an empty name and e-mail.
func OpenProfile(ctx context.Context, s Sealer, userID string, sealed []byte) (name, email string, err error) {
	if len(sealed) == 0 {
		return "", "", nil
	}
	if s == nil {
		return "", "", ErrNoSealer
	}
	plain, err := s.Open(ctx, userID, sealed)
	if err != nil {
		return "", "", fmt.Errorf("open the profile of %s: %w", userID, err)
	}
	var p profile
	if err := json.Unmarshal(plain, &p); err != nil {
		return "", "", fmt.Errorf("open the profile of %s: %w", userID, err)
	}
	return p.Name, p.Email, nil
}

// Match reports whether the user is one the filter asks for.
func (f UserFilter) Match(u User) bool {
	if f.Role != "" && u.Grant.Role != f.Role {
		return false
	}
	if f.Disabled != nil && u.Disabled != *f.Disabled {
		return false
	}
	q := strings.TrimSpace(f.Query)
	if q == "" || u.ID == q {
		return true
	}
	q = strings.ToLower(q)
	return strings.Contains(strings.ToLower(u.Name), q) || strings.Contains(strings.ToLower(u.Email), q)
}

// CompareUsers orders users by name, then id (Users' order).
func CompareUsers(a, b User) int {
	if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// ActorOf is the audit log's actor for a principal: its subject, or
// SystemActor for none.
func ActorOf(p Principal) string {
	if p.Subject == "" {
		return SystemActor
	}
	return p.Subject
}

// SystemPrincipal is the principal of the CLI on the server's machine, as
// the audit log names it.
var SystemPrincipal = Principal{Subject: SystemActor, Role: RoleAdmin}

// handleBytes is how many bytes of a session's hash its handle shows.
const handleBytes = 8

// SessionHandle is the handle of the session whose id's hash is hash.
func SessionHandle(hash []byte) string {
	return hex.EncodeToString(hash[:min(len(hash), handleBytes)])
}

// ParseSessionHandle returns the bytes a handle names: the first bytes of
// a session's hash. A handle that is not 16 hex digits is
// ErrSessionNotFound.
func ParseSessionHandle(handle string) ([]byte, error) {
	b, err := hex.DecodeString(strings.ToLower(handle))
	if err != nil || len(b) != handleBytes {
		return nil, fmt.Errorf("%w: %q is no session handle", ErrSessionNotFound, handle)
	}
	return b, nil
}

// AuditLimit is the number of entries the filter asks for: 100 unless it
// says, at most 1000.
func (f AuditFilter) AuditLimit() int {
	switch {
	case f.Limit <= 0:
		return 100
	case f.Limit > 1000:
		return 1000
	}
	return f.Limit
}

// auditGrant is a grant as the audit log keeps it.
type auditGrant struct {
	Role           string   `json:"role"`
	Municipalities []string `json:"municipalities"`
}

// EncodeGrant is how a store writes an audit entry's grant; nil for none.
func EncodeGrant(g *Grant) []byte {
	if g == nil {
		return nil
	}
	a := auditGrant{Role: g.Role, Municipalities: []string{}}
	for _, c := range g.Municipalities {
		a.Municipalities = append(a.Municipalities, string(c))
	}
	b, _ := json.Marshal(a) // strings always marshal
	return b
}

// DecodeGrant reads what EncodeGrant wrote; empty is no grant.
func DecodeGrant(b []byte) (*Grant, error) {
	if len(b) == 0 {
		return nil, nil
	}
	var a auditGrant
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, fmt.Errorf("audit grant: %w", err)
	}
	g := &Grant{Role: a.Role}
	for _, c := range a.Municipalities {
		g.Municipalities = append(g.Municipalities, kommune.Code(c))
	}
	return g, nil
}
