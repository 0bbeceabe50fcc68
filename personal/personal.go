// Package personal keeps the personal data of contact persons (docs/events.md:
// name, email and phone of ContactPersonAssigned) unreadable at rest and
// erasable: each contact's fields are sealed with AES-256-GCM under a data
// key of its own, kept in a KeyStore apart from the events. Destroying the
// key erases the person everywhere at once (crypto-shredding) while every
// other fact stays replayable.
//
// Every read path shows a contact through Reveal, to those who may see its
// fields, or Redact, to those who may not: they see only that the contact
// exists and for which partner.
package personal

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// Errors at the package boundary.
var (
	// ErrErased means the contact's key was destroyed: its personal data
	// can no longer be read or written.
	ErrErased = errors.New("the contact's personal data has been erased")
	// ErrUnknownContact means no key was ever made for the contact.
	ErrUnknownContact = errors.New("no such contact")
)

// KeyStore keeps one data key (32 bytes) per contact. A write it cannot
// make for lack of space (a full disk) fails with an error wrapping
// eventstore.ErrStorageFull, the one error for that cause: nothing was
// stored, and the same call can succeed once space has been freed.
type KeyStore interface {
	// Key returns the contact's key; it never makes one. It returns
	// ErrErased for an erased contact and ErrUnknownContact when there is
	// no key.
	Key(ctx context.Context, contactID string) ([]byte, error)
	// EnsureKey returns the contact's key, making one first if there is
	// none. Callers racing to make one contact's key all get the one
	// stored first. It returns ErrErased for an erased contact: an erased
	// contact never gets a key again.
	EnsureKey(ctx context.Context, contactID string) ([]byte, error)
	// Erase destroys the contact's key: no reader of the store can get it
	// back, and the store removes every copy it controls (each adapter
	// says how far that reaches: the embedded store leaves none in its
	// files; a database server's WAL and backups are the operator's).
	// Erasing an erased contact is no error; ErrUnknownContact means there
	// never was a key.
	Erase(ctx context.Context, contactID string) error
}

// sealedPrefix versions the sealed format.
const sealedPrefix = "v1:"

// contact is a contact payload in any of its forms: plain (fields set),
// sealed (Sealed set), or as shown (Erased set, or neither).
type contact struct {
	ContactID string `json:"contact_id"`
	PartnerID string `json:"partner_id"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone,omitempty"`
	Sealed    string `json:"sealed,omitempty"`
	Erased    bool   `json:"erased,omitempty"`
}

// fields is what is sealed.
type fields struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// SealNew returns a new contact's ContactPersonAssigned payload with name,
// email and phone replaced by their ciphertext under a key made for the
// contact.
func SealNew(ctx context.Context, keys KeyStore, data json.RawMessage) (json.RawMessage, error) {
	return seal(ctx, data, func(id string) ([]byte, error) { return keys.EnsureKey(ctx, id) })
}

// SealAgain seals a contact's corrected payload (a correction's
// replacement) as SealNew does, under the key the contact already has:
// ErrUnknownContact without one, ErrErased once it was erased.
func SealAgain(ctx context.Context, keys KeyStore, data json.RawMessage) (json.RawMessage, error) {
	return seal(ctx, data, func(id string) ([]byte, error) { return keys.Key(ctx, id) })
}

func seal(ctx context.Context, data json.RawMessage, keyOf func(contactID string) ([]byte, error)) (json.RawMessage, error) {
	var c contact
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("seal contact: %w", err)
	}
	if c.ContactID == "" {
		return nil, errors.New("seal contact: no contact_id")
	}
	key, err := keyOf(c.ContactID)
	if err != nil {
		return nil, fmt.Errorf("seal contact %s: %w", c.ContactID, err)
	}
	plain, _ := json.Marshal(fields{Name: c.Name, Email: c.Email, Phone: c.Phone})
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	sealed := aead.Seal(nonce, nonce, plain, []byte(c.ContactID))
	out := contact{ContactID: c.ContactID, PartnerID: c.PartnerID, Sealed: sealedPrefix + base64.RawURLEncoding.EncodeToString(sealed)}
	return json.Marshal(out)
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("contact key: %w", err)
	}
	return cipher.NewGCM(block)
}

// open decrypts a sealed contact's fields.
func open(key []byte, c contact) (fields, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(c.Sealed, sealedPrefix))
	if err != nil || !strings.HasPrefix(c.Sealed, sealedPrefix) {
		return fields{}, fmt.Errorf("contact %s: sealed data is malformed", c.ContactID)
	}
	aead, err := newAEAD(key)
	if err != nil {
		return fields{}, err
	}
	if len(raw) < aead.NonceSize() {
		return fields{}, fmt.Errorf("contact %s: sealed data is too short", c.ContactID)
	}
	plain, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(c.ContactID))
	if err != nil {
		return fields{}, fmt.Errorf("contact %s: %w", c.ContactID, err)
	}
	var f fields
	err = json.Unmarshal(plain, &f)
	return f, err
}

// contactView turns a contact payload into what a reader sees of it.
type contactView func(data json.RawMessage) (json.RawMessage, error)

// revealContact shows a contact payload with its fields (decrypted if
// sealed; marked erased when the key is gone).
func revealContact(ctx context.Context, keys KeyStore) contactView {
	return func(data json.RawMessage) (json.RawMessage, error) {
		var c contact
		if err := json.Unmarshal(data, &c); err != nil {
			return nil, fmt.Errorf("show contact: %w", err)
		}
		out := contact{ContactID: c.ContactID, PartnerID: c.PartnerID}
		if c.Sealed == "" {
			out.Name, out.Email, out.Phone, out.Erased = c.Name, c.Email, c.Phone, c.Erased
			return json.Marshal(out)
		}
		key, err := keys.Key(ctx, c.ContactID)
		if errors.Is(err, ErrErased) || errors.Is(err, ErrUnknownContact) {
			out.Erased = true
			return json.Marshal(out)
		}
		if err != nil {
			return nil, err
		}
		f, err := open(key, c)
		if err != nil {
			return nil, err
		}
		out.Name, out.Email, out.Phone = f.Name, f.Email, f.Phone
		return json.Marshal(out)
	}
}

// redactContact shows a contact payload as only its contact_id and
// partner_id.
func redactContact(data json.RawMessage) (json.RawMessage, error) {
	var c contact
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("show contact: %w", err)
	}
	return json.Marshal(contact{ContactID: c.ContactID, PartnerID: c.PartnerID})
}

// Reveal returns a stored event as a reader who may see personal data sees
// it: a ContactPersonAssigned, or a correction replacing one, with the
// contact's fields decrypted under its key from keys (marked erased when
// the key is gone); every other event is returned as stored, byte for
// byte.
func Reveal(ctx context.Context, keys KeyStore, e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	return view(e, revealContact(ctx, keys))
}

// Redact returns the event without personal data, for readers who may not
// see it (and research exports): a contact shows only its contact_id and
// partner_id; every other event is returned as stored, byte for byte.
func Redact(e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	return view(e, redactContact)
}

// view returns the event with each contact payload in it (a
// ContactPersonAssigned's, or a correction's replacement of one) passed
// through show.
func view(e eventstore.RecordedEvent, show contactView) (eventstore.RecordedEvent, error) {
	switch e.Type {
	case partnership.TypeContactPersonAssigned:
		data, err := show(e.Data)
		if err != nil {
			return e, fmt.Errorf("event %s: %w", e.EventID, err)
		}
		e.Data = data
	case partnership.TypeEntryCorrected:
		var c partnership.EntryCorrected
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return e, fmt.Errorf("event %s: %w", e.EventID, err)
		}
		// Only a contact payload has a contact_id.
		if len(c.Replacement) == 0 || !bytes.Contains(c.Replacement, []byte(`"contact_id"`)) {
			return e, nil
		}
		replacement, err := show(c.Replacement)
		if err != nil {
			return e, fmt.Errorf("event %s: replacement: %w", e.EventID, err)
		}
		c.Replacement = replacement
		data, err := partnership.Encode(c)
		if err != nil {
			return e, err
		}
		e.Data = data
	}
	return e, nil
}
