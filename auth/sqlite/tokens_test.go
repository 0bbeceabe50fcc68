package sqlite

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
)

func open(t testing.TB) (*Tokens, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens.db")
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

func TestTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	s, path := open(t)
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Fatalf("Empty = %v, %v", empty, err)
	}
	tok, err := s.Create(ctx, auth.Spec{Name: "steinkjer", Role: auth.RoleCoordinator, Municipalities: []string{"1702"}})
	if err != nil {
		t.Fatal(err)
	}
	p, err := s.Authenticate(ctx, tok)
	if err != nil || p.Subject != "steinkjer" || p.Role != auth.RoleCoordinator || !slices.Equal(p.Municipalities, []kommune.Code{"5006"}) {
		t.Fatalf("Authenticate = %+v, %v", p, err)
	}
	if _, err := s.Create(ctx, auth.Spec{Name: "steinkjer", Role: auth.RoleViewer}); !errors.Is(err, auth.ErrTokenExists) {
		t.Fatalf("duplicate name: %v", err)
	}
	other, _ := auth.NewToken()
	if _, err := s.Authenticate(ctx, other); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("unknown token: %v", err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "steinkjer" || list[0].LastUsedAt == nil || list[0].CreatedAt.IsZero() {
		t.Fatalf("List = %+v, %v", list, err)
	}
	// Only the hash is stored: the token is in no file of the store.
	_ = s.db.Close()
	s, _ = openAt(t, path)
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		b, _ := os.ReadFile(f)
		if bytes.Contains(b, []byte(tok)) {
			t.Fatalf("%s contains the token", f)
		}
	}
	if err := s.Revoke(ctx, "steinkjer"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("revoked token: %v", err)
	}
	if err := s.Revoke(ctx, "steinkjer"); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
}

func openAt(t testing.TB, path string) (*Tokens, string) {
	t.Helper()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
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
