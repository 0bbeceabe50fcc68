package sqlite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/auth/authtest"
)

func open(t testing.TB) (*Tokens, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.db")
	return openAt(t, path), path
}

func openAt(t testing.TB, path string) *Tokens {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestContract(t *testing.T) {
	authtest.Run(t, func(t *testing.T) auth.SessionStore {
		s, _ := open(t)
		return s
	})
}

// TestOnlyTheHashIsStored: neither the token nor a session id is in any
// file of the store, also after both were used and the store closed; the
// session's hash is.
func TestOnlyTheHashIsStored(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	tok, err := s.Create(ctx, auth.Spec{Name: "steinkjer", Role: auth.RoleCoordinator, Municipalities: []string{"1702"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id, _, err := s.StartSession(ctx, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, id, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	s = openAt(t, path)
	files, _ := filepath.Glob(path + "*")
	if len(files) == 0 {
		t.Fatalf("no files at %s", path)
	}
	hash := auth.HashSessionID(id)
	var hashed bool
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(tok)) {
			t.Fatalf("%s contains the token", f)
		}
		if bytes.Contains(b, []byte(id)) {
			t.Fatalf("%s contains the session id", f)
		}
		hashed = hashed || bytes.Contains(b, hash[:])
	}
	if !hashed {
		t.Fatalf("no file of %s holds the session's hash", path)
	}
	if p, err := s.Authenticate(ctx, tok); err != nil || p.Subject != "steinkjer" {
		t.Fatalf("after reopening: %+v, %v", p, err)
	}
	if p, err := s.Session(ctx, id, now.Add(2*time.Minute)); err != nil || p.Subject != "steinkjer" {
		t.Fatalf("the session after reopening: %+v, %v", p, err)
	}
}

// TestSessionReadsTheTokenRow: a session's principal is the token's row as
// it is at each use, not as it was at sign-in.
func TestSessionReadsTheTokenRow(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t)
	tok, err := s.Create(ctx, auth.Spec{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"4203"}})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	id, _, err := s.StartSession(ctx, tok, now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE tokens SET role = 'viewer', municipalities = '' WHERE name = 'arendal'`); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Session(ctx, id, now.Add(time.Second)); err != nil || p.Role != auth.RoleViewer || p.Municipalities != nil {
		t.Fatalf("after the row changed: %+v, %v; want a viewer without municipalities", p, err)
	}
}

// FuzzAuthenticate looks up arbitrary strings: only the one real token
// authenticates, nothing panics.
func FuzzAuthenticate(f *testing.F) {
	s, _ := open(f)
	tok, err := s.Create(context.Background(), auth.Spec{Name: "admin", Role: auth.RoleAdmin})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tok)
	f.Add(tok[:len(tok)-1] + "A")
	f.Add("ssp_")
	f.Add("")
	f.Fuzz(func(t *testing.T, s2 string) {
		p, err := s.Authenticate(context.Background(), s2)
		switch {
		case s2 == tok:
			if err != nil || p.Role != auth.RoleAdmin {
				t.Fatalf("the real token: %+v, %v", p, err)
			}
		case !errors.Is(err, auth.ErrUnauthenticated):
			t.Fatalf("%q: %+v, %v", s2, p, err)
		}
	})
}
