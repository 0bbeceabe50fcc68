package personal

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"regexp"

	"github.com/samspill/samspill/eventstore"
)

// Who recorded an event is personal data too: the actor's subject (a
// token's name such as "arendal-kari") and the request ids a client may
// choose (X-Request-ID, Idempotency-Key, which can hold a name). Research
// exports, and every reader who may not see the partnership's personal
// data, get keyed pseudonyms instead. The key derives from the
// installation's secret, so a person keeps one pseudonym everywhere in the
// installation (their entries can be counted and followed), while no one
// without the secret can tell who it is. The role stays: who records what
// is part of the research.

// pseudonymForm matches a value that already is a pseudonym, which an
// export keeps as it is: an export imported into another installation and
// exported again is byte-identical (samspill import).
var pseudonymForm = regexp.MustCompile(`^(actor|req)-[0-9a-f]{16}$`)

// IsPseudonym reports whether s has the form of a pseudonym (actor-<16
// hex> or req-<16 hex>).
func IsPseudonym(s string) bool { return pseudonymForm.MatchString(s) }

// Pseudonyms makes the pseudonyms of one installation. Make one with
// NewPseudonyms. Safe for concurrent use.
type Pseudonyms struct{ key []byte }

// NewPseudonyms returns the pseudonyms under the installation's secret (at
// least 16 bytes; the same secret gives the same pseudonyms).
func NewPseudonyms(secret []byte) Pseudonyms {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("samspill research pseudonyms v1"))
	return Pseudonyms{key: m.Sum(nil)}
}

// of returns kind-<16 hex digits of HMAC-SHA-256(key, kind, value)>; ""
// stays "", and a pseudonym stays itself.
func (p Pseudonyms) of(kind, value string) string {
	if value == "" || IsPseudonym(value) {
		return value
	}
	m := hmac.New(sha256.New, p.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return kind + "-" + hex.EncodeToString(m.Sum(nil)[:8])
}

// Metadata returns the event's metadata with every identifier of a person
// or a client replaced by its pseudonym.
func (p Pseudonyms) Metadata(m eventstore.Metadata) eventstore.Metadata {
	m.Actor.Subject = p.of("actor", m.Actor.Subject)
	m.CorrelationID = p.of("req", m.CorrelationID)
	m.CausationID = p.of("req", m.CausationID)
	m.IdempotencyKey = p.of("req", m.IdempotencyKey)
	return m
}
