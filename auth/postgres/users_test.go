package postgres

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/auth/authtest"
	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/personal"
	personalsqlite "github.com/samspill/samspill/personal/sqlite"
)

// openUsers opens a user store on a fresh schema, its sealer a real key
// store in a temporary folder.
func openUsers(t *testing.T) (*Tokens, string) {
	t.Helper()
	url := pgtest.URL(t)
	keys, err := personalsqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	s, err := Open(t.Context(), url, WithSealer(personal.UserSealer{Keys: keys}))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, url
}

func TestUserContract(t *testing.T) {
	authtest.RunUsers(t, func(t *testing.T) auth.UserStore {
		s, _ := openUsers(t)
		return s
	})
}

// TestNoPersonalDataInTheTable: no column of the users' rows holds a
// name, e-mail or subject, before or after erasing; erasing leaves neither
// the subject's hash nor the profile.
func TestNoPersonalDataInTheTable(t *testing.T) {
	s, url := openUsers(t)
	id := auth.Identity{Provider: "idporten", Subject: "subject-0123456789", Name: "Kari Nordmann", Email: "kari@example.no"}
	_, u, err := s.SignIn(t.Context(), id, auth.Grant{Role: auth.RoleViewer}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var rows string
	query(t, url, `SELECT string_agg(u::text, ' ') FROM auth_users u`, &rows)
	for _, secret := range []string{id.Name, id.Email, id.Subject} {
		if strings.Contains(rows, secret) {
			t.Fatalf("auth_users holds %q: %s", secret, rows)
		}
	}
	if err := s.EraseUser(t.Context(), auth.SystemPrincipal, u.ID); err != nil {
		t.Fatal(err)
	}
	var left int
	query(t, url, `SELECT count(*) FROM auth_users WHERE subject_hash IS NOT NULL OR profile IS NOT NULL`, &left)
	if left != 0 {
		t.Fatalf("%d erased users keep a subject hash or a profile", left)
	}
}

func TestProjectContract(t *testing.T) {
	authtest.RunProjects(t, func(t *testing.T) authtest.ProjectUserStore {
		keys, err := personalsqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = keys.Close() })
		sealer, err := auth.NewProjectSealer(bytes.Repeat([]byte{7}, 32))
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(t.Context(), pgtest.URL(t), WithSealer(personal.UserSealer{Keys: keys}), WithProjectSealer(sealer))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
