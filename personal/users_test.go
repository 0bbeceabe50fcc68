package personal_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/personal/sqlite"
)

func userSealer(t *testing.T) personal.UserSealer {
	t.Helper()
	keys, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	return personal.UserSealer{Keys: keys}
}

// TestUserSealer: a profile sealed for a user opens for it and for no
// other; after the user is erased it opens for no one, with a clear
// error, and cannot be sealed again.
func TestUserSealer(t *testing.T) {
	ctx := t.Context()
	s := userSealer(t)
	alice, bob := auth.NewUserID(), auth.NewUserID()
	plain := []byte(`{"name":"Kari Nordmann","email":"kari@example.no"}`)
	sealed, err := s.Seal(ctx, alice, plain)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte("Kari")) {
		t.Fatalf("the sealed profile holds the name: %q", sealed)
	}
	again, err := s.Seal(ctx, alice, plain)
	if err != nil || bytes.Equal(again, sealed) {
		t.Fatalf("sealing twice gave the same bytes (%v): the nonce is not fresh", err)
	}
	if got, err := s.Open(ctx, alice, sealed); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %q, %v; want %q", got, err, plain)
	}
	if _, err := s.Seal(ctx, bob, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Open(ctx, bob, sealed); err == nil {
		t.Fatalf("alice's profile opened as bob's: %q", got)
	}
	if _, err := s.Open(ctx, alice, sealed[:len(sealed)-1]); err == nil {
		t.Fatal("a truncated profile opened")
	}
	if err := s.Erase(ctx, alice); err != nil {
		t.Fatal(err)
	}
	if err := s.Erase(ctx, alice); err != nil {
		t.Fatalf("erasing twice: %v", err)
	}
	if err := s.Erase(ctx, auth.NewUserID()); err != nil {
		t.Fatalf("erasing a user without a key: %v", err)
	}
	_, err = s.Open(ctx, alice, sealed)
	if !errors.Is(err, auth.ErrUserErased) || !errors.Is(err, personal.ErrErased) {
		t.Fatalf("Open after erasing = %v; want auth.ErrUserErased and personal.ErrErased", err)
	}
	if _, err := s.Seal(ctx, alice, plain); !errors.Is(err, auth.ErrUserErased) {
		t.Fatalf("Seal after erasing = %v; want auth.ErrUserErased", err)
	}
	if got, err := s.Open(ctx, bob, mustSeal(t, s, bob)); err != nil || string(got) != "bob" {
		t.Fatalf("bob after alice was erased: %q, %v", got, err)
	}
}

func mustSeal(t *testing.T, s personal.UserSealer, id string) []byte {
	t.Helper()
	b, err := s.Seal(t.Context(), id, []byte("bob"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
