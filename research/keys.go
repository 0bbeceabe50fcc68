package research

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
)

// Keys makes the pseudonyms of one export: of partnerships, of the
// partners (organisations) inside them and of actors (who recorded an
// event). A research project's keys (ProjectKeys) are the same in every
// export of the project, at every position and as_of, so its files and
// waves join on them; keys of two projects, or of a one-off export
// (OneOffKeys), are unrelated. Safe for concurrent use.
type Keys struct {
	key []byte
	// Generation is the project key's generation (1 for the first key,
	// +1 per rotation), 0 for one-off keys. Manifests name it.
	Generation int
	// Project is the project's id, "" for one-off keys.
	Project string
}

// ProjectKeys returns the keys of a research project under its own
// pseudonymisation key (at least 32 bytes) of the given generation.
func ProjectKeys(project string, key []byte, generation int) Keys {
	return Keys{key: derive(key, "samspill project pseudonyms v1\x00"+project), Generation: generation, Project: project}
}

// OneOffKeys returns keys that hold for one export only: derived from the
// installation's secret and the export's parameters (kind, position,
// as_of, ...), so a repeated export gives the same bytes while two
// exports with other parameters cannot be linked.
func OneOffKeys(secret []byte, params string) Keys {
	return Keys{key: derive(secret, "samspill one-off pseudonyms v1\x00"+params)}
}

// Partnership returns the pseudonym of a partnership's stream id: 32 hex
// digits.
func (k Keys) Partnership(stream string) string { return k.of("partnership", stream) }

// Partner returns the pseudonym of a partner (its partner_id within the
// partnership's stream): 32 hex digits.
func (k Keys) Partner(stream, partnerID string) string {
	return k.of("partner", stream+"\x00"+partnerID)
}

// Actor returns the pseudonym of who recorded an event (the metadata's
// actor subject): "actor-" and 16 hex digits; "" stays "".
func (k Keys) Actor(subject string) string {
	if subject == "" {
		return ""
	}
	return "actor-" + k.of("actor", subject)[:16]
}

// Event returns the pseudonym of an event id (an envelope's event_id, a
// correction's corrected_event_id): 32 hex digits.
func (k Keys) Event(id string) string { return k.of("event", id) }

// Response returns the pseudonym of a survey response's id: 32 hex
// digits. The id is already unlinkable to the respondent's link; the
// pseudonym keeps a project's files from sharing it with other projects'.
func (k Keys) Response(id string) string { return k.of("response", id) }

// Contact returns the pseudonym of a contact person's contact_id: 32 hex
// digits.
func (k Keys) Contact(id string) string { return k.of("contact", id) }

// Request returns the pseudonym of a request id or an idempotency key (an
// event's correlation_id, causation_id, idempotency_key): "req-" and 16
// hex digits; "" stays "".
func (k Keys) Request(id string) string {
	if id == "" {
		return ""
	}
	return "req-" + k.of("request", id)[:16]
}

func (k Keys) of(kind, value string) string {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}
