package sqlite

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/auth/authtest"
	"github.com/samspill/samspill/personal"
	personalsqlite "github.com/samspill/samspill/personal/sqlite"
)

// sealer returns a real user sealer over a key store in dir.
func sealer(t testing.TB, dir string) personal.UserSealer {
	t.Helper()
	keys, err := personalsqlite.Open(t.Context(), filepath.Join(dir, "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	return personal.UserSealer{Keys: keys}
}

func openUsers(t *testing.T) (*Tokens, string) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.db")
	s, err := Open(t.Context(), path, WithSealer(sealer(t, dir)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// benchStore opens a user store for a benchmark.
func benchStore(b *testing.B) *Tokens {
	dir := b.TempDir()
	s, err := Open(b.Context(), filepath.Join(dir, "tokens.db"), WithSealer(sealer(b, dir)))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func TestUserContract(t *testing.T) {
	authtest.RunUsers(t, func(t *testing.T) auth.UserStore {
		s, _ := openUsers(t)
		return s
	})
}

// TestNoPersonalDataInTheFile: the users' names, e-mails and subjects are
// in no file of the token store, before or after erasing; after erasing,
// neither are the subject's hash and the sealed profile (secure_delete and
// a checkpoint).
func TestNoPersonalDataInTheFile(t *testing.T) {
	s, path := openUsers(t)
	id := auth.Identity{Provider: "idporten", Subject: "subject-0123456789", Name: "Kari Nordmann", Email: "kari@example.no"}
	_, u, err := s.SignIn(t.Context(), id, auth.Grant{Role: auth.RoleViewer}, t0())
	if err != nil {
		t.Fatal(err)
	}
	check := func() {
		t.Helper()
		files, _ := filepath.Glob(path + "*")
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, secret := range []string{id.Name, id.Email, id.Subject} {
				if bytes.Contains(b, []byte(secret)) {
					t.Fatalf("%s holds %q", f, secret)
				}
			}
		}
	}
	check()
	var sealed []byte
	if err := s.db.QueryRowContext(t.Context(), `SELECT profile FROM users WHERE id = ?`, u.ID).Scan(&sealed); err != nil || len(sealed) < 16 {
		t.Fatalf("the sealed profile: %x, %v", sealed, err)
	}
	subject := auth.SubjectHash(id.Provider, id.Subject)
	var hashes int
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM users WHERE subject_hash IS NOT NULL AND profile IS NOT NULL`).Scan(&hashes); err != nil || hashes != 1 {
		t.Fatalf("users with a subject hash and a profile: %d, %v", hashes, err)
	}
	if err := s.EraseUser(t.Context(), auth.SystemPrincipal, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRowContext(t.Context(), `SELECT count(*) FROM users WHERE subject_hash IS NOT NULL OR profile IS NOT NULL`).Scan(&hashes); err != nil || hashes != 0 {
		t.Fatalf("erased users with a subject hash or a profile: %d, %v", hashes, err)
	}
	check()
	// Neither the subject's hash nor the sealed profile is left in a free
	// page or the WAL.
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, subject[:]) || bytes.Contains(b, sealed) {
			t.Fatalf("%s still holds the erased user's subject hash or sealed profile", f)
		}
	}
}

func t0() time.Time { return time.Date(2026, time.December, 1, 8, 0, 0, 0, time.UTC) }

// projectSealer is the project sealer under a fixed test key.
func projectSealer(t testing.TB) *auth.ProjectSealer {
	t.Helper()
	s, err := auth.NewProjectSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestProjectContract(t *testing.T) {
	authtest.RunProjects(t, func(t *testing.T) authtest.ProjectUserStore {
		dir := t.TempDir()
		s, err := Open(t.Context(), filepath.Join(dir, "tokens.db"), WithSealer(sealer(t, dir)), WithProjectSealer(projectSealer(t)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// TestRotatedKeyIsInNoFile: after a rotation the old sealed key is in no
// file of the store (secure_delete and the checkpoint).
func TestRotatedKeyIsInNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.db")
	s, err := Open(t.Context(), path, WithSealer(sealer(t, dir)), WithProjectSealer(projectSealer(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if _, err := s.CreateProject(t.Context(), auth.SystemPrincipal, auth.Project{ID: "offri", Name: "n", Institution: "i", Purpose: "p", Starts: "2026-01-01"}); err != nil {
		t.Fatal(err)
	}
	var old []byte
	if err := s.db.QueryRowContext(t.Context(), `SELECT sealed_key FROM projects WHERE id = 'offri'`).Scan(&old); err != nil || len(old) < 32 {
		t.Fatalf("sealed key %x, %v", old, err)
	}
	if _, err := s.RotateProjectKey(t.Context(), auth.SystemPrincipal, "offri"); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, old) {
			t.Fatalf("%s still holds the old sealed key", f)
		}
	}
}
