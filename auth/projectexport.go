package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// ErrInvalidRecipient means a sealed export's recipient is no age X25519
// public key (age1…).
var ErrInvalidRecipient = errors.New("invalid age recipient")

// ExportedProjectKey is what a sealed key export holds once decrypted: a
// small JSON document a trusted third party can read without samspill.
type ExportedProjectKey struct {
	Project    string    `json:"project"`
	Generation int       `json:"generation"`
	Key        []byte    `json:"key"` // base64 in JSON
	CreatedAt  time.Time `json:"created_at"`
	Algorithm  string    `json:"algorithm"`
}

// exportAlgorithm tells the third party what the key makes.
const exportAlgorithm = "HMAC-SHA-256 pseudonyms, see docs/research.md"

// SealProjectKey encrypts the project's key of the generation to an age
// X25519 recipient ("age1…") as an ASCII-armored age file, decryptable
// with `age -d -i key.txt`. at is when the export was made.
func SealProjectKey(recipient, project string, key []byte, generation int, at time.Time) ([]byte, error) {
	r, err := age.ParseX25519Recipient(strings.TrimSpace(recipient))
	if err != nil {
		return nil, fmt.Errorf("%w: %q: want an age X25519 public key (age1…)", ErrInvalidRecipient, recipient)
	}
	doc, _ := json.Marshal(ExportedProjectKey{ // only strings, numbers and bytes: always marshals
		Project: project, Generation: generation, Key: key, CreatedAt: at.UTC().Truncate(time.Second), Algorithm: exportAlgorithm,
	})
	var out bytes.Buffer
	a := armor.NewWriter(&out)
	w, err := age.Encrypt(a, r)
	if err != nil {
		return nil, fmt.Errorf("seal the key of project %s: %w", project, err)
	}
	if _, err := w.Write(append(doc, '\n')); err != nil {
		return nil, fmt.Errorf("seal the key of project %s: %w", project, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("seal the key of project %s: %w", project, err)
	}
	if err := a.Close(); err != nil {
		return nil, fmt.Errorf("seal the key of project %s: %w", project, err)
	}
	return out.Bytes(), nil
}

// ExportSealedProjectKey takes the project's current key out of the store
// in actor's name (its audit entry) and seals it to recipient with
// SealProjectKey. A recipient that is no age X25519 key is
// ErrInvalidRecipient before the key is taken out, so it writes no audit
// entry. It returns the armored file and the key's generation.
func ExportSealedProjectKey(ctx context.Context, store ProjectStore, actor Principal, id, recipient string, at time.Time) ([]byte, int, error) {
	if _, err := age.ParseX25519Recipient(strings.TrimSpace(recipient)); err != nil {
		return nil, 0, fmt.Errorf("%w: %q: want an age X25519 public key (age1…)", ErrInvalidRecipient, recipient)
	}
	key, gen, err := store.ExportProjectKey(ctx, actor, id)
	if err != nil {
		return nil, 0, err
	}
	sealed, err := SealProjectKey(recipient, id, key, gen, at)
	return sealed, gen, err
}

// ProjectKeyFilename is the name a sealed key export is saved as.
func ProjectKeyFilename(id string) string { return "samspill-project-" + id + "-key.age" }
