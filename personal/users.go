package personal

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/samspill/samspill/auth"
)

// UserSealer seals the name and e-mail of personal users (auth.Sealer)
// as contacts' fields are sealed: AES-256-GCM under a key of the user's
// own in the KeyStore, keyed by the user's id (a user id's form, "usr-…",
// is no contact id's). Erasing the user destroys the key, so every copy
// of its sealed profile (in the token store, its backups) is unreadable.
type UserSealer struct{ Keys KeyStore }

var _ auth.Sealer = UserSealer{}

// userAAD binds a sealed profile to its user: a profile copied onto
// another user's row, or a contact's ciphertext, does not open.
func userAAD(userID string) []byte { return []byte("user\x00" + userID) }

// Seal seals plain under the user's key, making the key on first use.
// An erased user's key is never made again: ErrErased.
func (s UserSealer) Seal(ctx context.Context, userID string, plain []byte) ([]byte, error) {
	key, err := s.Keys.EnsureKey(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("seal user %s: %w", userID, userErr(err))
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce) // never fails (crypto/rand)
	return aead.Seal(nonce, nonce, plain, userAAD(userID)), nil
}

// Open opens what Seal sealed for the user. Once the user is erased it
// fails with an error that is both ErrErased and auth.ErrUserErased.
func (s UserSealer) Open(ctx context.Context, userID string, sealed []byte) ([]byte, error) {
	key, err := s.Keys.Key(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("open user %s: %w", userID, userErr(err))
	}
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	if len(sealed) < aead.NonceSize() {
		return nil, fmt.Errorf("open user %s: sealed data is too short", userID)
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], userAAD(userID))
	if err != nil {
		return nil, fmt.Errorf("open user %s: %w", userID, err)
	}
	return plain, nil
}

// Erase destroys the user's key. A user with no key (none was ever made)
// has nothing to destroy: no error.
func (s UserSealer) Erase(ctx context.Context, userID string) error {
	err := s.Keys.Erase(ctx, userID)
	if err != nil && !errors.Is(err, ErrUnknownContact) {
		return fmt.Errorf("erase user %s: %w", userID, err)
	}
	return nil
}

// userErr makes the key store's ErrErased the user's too.
func userErr(err error) error {
	if errors.Is(err, ErrErased) {
		return fmt.Errorf("%w (%w)", auth.ErrUserErased, err)
	}
	return err
}
