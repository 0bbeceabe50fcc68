package auth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/samspill/samspill/auth"
)

// TestSealProjectKeyOpensWithTheIdentity: the export is an armored age
// file that the recipient's identity (and only it) opens, with the
// library and, where installed, the age command; it holds the project,
// generation, key and creation time.
func TestSealProjectKeyOpensWithTheIdentity(t *testing.T) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	key := auth.NewProjectKey()
	at := time.Date(2026, 12, 7, 16, 0, 0, 0, time.UTC)
	file, err := auth.SealProjectKey(id.Recipient().String(), "offri", key, 3, at)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(file, []byte("-----BEGIN AGE ENCRYPTED FILE-----")) || bytes.Contains(file, key) {
		t.Fatalf("not an armored age file:\n%s", file)
	}
	check := func(plain []byte) {
		t.Helper()
		var got auth.ExportedProjectKey
		if err := json.Unmarshal(plain, &got); err != nil {
			t.Fatalf("the document: %v\n%s", err, plain)
		}
		if got.Project != "offri" || got.Generation != 3 || !bytes.Equal(got.Key, key) || !got.CreatedAt.Equal(at) || !strings.Contains(got.Algorithm, "HMAC-SHA-256") {
			t.Fatalf("the document: %+v", got)
		}
	}
	r, err := age.Decrypt(armor.NewReader(bytes.NewReader(file)), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	check(plain)

	other, _ := age.GenerateX25519Identity()
	if _, err := age.Decrypt(armor.NewReader(bytes.NewReader(file)), other); err == nil {
		t.Fatal("another identity opened the export")
	}

	cli, err := exec.LookPath("age")
	if err != nil {
		t.Log("the age command is not installed (apt-get install age): decrypted with the library only")
		return
	}
	dir := t.TempDir()
	identity := filepath.Join(dir, "key.txt")
	sealed := filepath.Join(dir, "offri.age")
	if err := os.WriteFile(identity, []byte(id.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sealed, file, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.CommandContext(t.Context(), cli, "-d", "-i", identity, sealed).Output()
	if err != nil {
		t.Fatalf("age -d: %v", err)
	}
	check(out)
}

func TestSealProjectKeyRefusesBadRecipients(t *testing.T) {
	for _, r := range []string{"", "age1", "ssh-ed25519 AAAA", "AGE-SECRET-KEY-1QQQ"} {
		if _, err := auth.SealProjectKey(r, "offri", auth.NewProjectKey(), 1, time.Now()); !errors.Is(err, auth.ErrInvalidRecipient) {
			t.Errorf("recipient %q: %v, want ErrInvalidRecipient", r, err)
		}
	}
}

// TestProjectSealerBindsProjectAndGeneration: a sealed key opens only for
// the project and generation it was sealed for, and only under its key.
func TestProjectSealerBindsProjectAndGeneration(t *testing.T) {
	s, err := auth.NewProjectSealer(bytes.Repeat([]byte{1}, 32))
	if err != nil {
		t.Fatal(err)
	}
	key := auth.NewProjectKey()
	sealed, err := s.Seal("offri", 2, key)
	if err != nil || bytes.Contains(sealed, key) {
		t.Fatalf("Seal = %x, %v", sealed, err)
	}
	if got, err := s.Open("offri", 2, sealed); err != nil || !bytes.Equal(got, key) {
		t.Fatalf("Open = %x, %v", got, err)
	}
	if _, err := s.Open("other", 2, sealed); err == nil {
		t.Fatal("opened as another project's key")
	}
	if _, err := s.Open("offri", 1, sealed); err == nil {
		t.Fatal("opened as another generation's key")
	}
	wrong, _ := auth.NewProjectSealer(bytes.Repeat([]byte{2}, 32))
	if _, err := wrong.Open("offri", 2, sealed); err == nil {
		t.Fatal("opened under another installation's key")
	}
	if _, err := auth.NewProjectSealer([]byte("short")); err == nil {
		t.Fatal("a short key made a sealer")
	}
}
