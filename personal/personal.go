// Package personal keeps the personal data of contact persons (docs/events.md:
// name, email and phone of ContactPersonAssigned) unreadable at rest and
// erasable: each contact's fields are sealed with AES-256-GCM under a data
// key of its own, kept in a KeyStore apart from the events. Destroying the
// key erases the person everywhere at once (crypto-shredding) while every
// other fact stays replayable.
//
// Every read path shows a contact through View: the fields to those who
// may see them, else only that the contact exists and for which partner.
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
	// Key returns the contact's key. With create set it makes one if there
	// is none. It returns ErrErased for an erased contact and
	// ErrUnknownContact when there is no key and create is not set.
	Key(ctx context.Context, contactID string, create bool) ([]byte, error)
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
	return seal(ctx, data, func(id string) ([]byte, error) { return keys.Key(ctx, id, true) })
}

// SealAgain seals a contact's corrected payload (a correction's
// replacement) as SealNew does, under the key the contact already has:
// ErrUnknownContact without one, ErrErased once it was erased.
func SealAgain(ctx context.Context, keys KeyStore, data json.RawMessage) (json.RawMessage, error) {
	return seal(ctx, data, func(id string) ([]byte, error) { return keys.Key(ctx, id, false) })
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

// show returns a contact payload as a viewer sees it: with its fields when
// allowed (decrypted if sealed; marked erased when the key is gone), else
// only contact_id and partner_id. keys may be nil when allowed is false.
func show(ctx context.Context, keys KeyStore, data json.RawMessage, allowed bool) (json.RawMessage, error) {
	var c contact
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, fmt.Errorf("show contact: %w", err)
	}
	out := contact{ContactID: c.ContactID, PartnerID: c.PartnerID}
	switch {
	case !allowed:
	case c.Sealed == "":
		out.Name, out.Email, out.Phone, out.Erased = c.Name, c.Email, c.Phone, c.Erased
	default:
		key, err := keys.Key(ctx, c.ContactID, false)
		if errors.Is(err, ErrErased) || errors.Is(err, ErrUnknownContact) {
			out.Erased = true
			break
		}
		if err != nil {
			return nil, err
		}
		f, err := open(key, c)
		if err != nil {
			return nil, err
		}
		out.Name, out.Email, out.Phone = f.Name, f.Email, f.Phone
	}
	return json.Marshal(out)
}

// View returns a stored event as a viewer may see it: a
// ContactPersonAssigned, or a correction replacing one, passes through
// show; every other event is returned as stored, byte for byte.
func View(ctx context.Context, keys KeyStore, e eventstore.RecordedEvent, allowed bool) (eventstore.RecordedEvent, error) {
	switch e.Type {
	case partnership.TypeContactPersonAssigned:
		data, err := show(ctx, keys, e.Data, allowed)
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
		replacement, err := show(ctx, keys, c.Replacement, allowed)
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

// Redact returns the event without personal data, for those who may never
// see it (research exports).
func Redact(e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	return View(context.Background(), nil, e, false)
}
