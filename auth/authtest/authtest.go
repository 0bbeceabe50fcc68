// Package authtest is the contract every auth.TokenStore adapter must
// pass. An adapter's test calls Run with a function that opens a fresh,
// empty store; the suite runs each rule as a parallel subtest.
//
//	func TestContract(t *testing.T) {
//		authtest.Run(t, func(t *testing.T) auth.TokenStore { return open(t) })
//	}
//
// What only one adapter can check (that no file holds a token, what two
// processes on one database see) stays in that adapter's tests.
package authtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
)

// Opener returns a fresh, empty store. It registers its own cleanup
// (t.Cleanup) to close the store and remove what it made, and calls
// t.Fatal if the store cannot be made.
type Opener func(t *testing.T) auth.TokenStore

// Run runs the whole contract against stores made by open. It calls t.Run
// once per rule; the subtests run in parallel with each other.
func Run(t *testing.T, open Opener) {
	t.Helper()
	if open == nil {
		t.Fatal("authtest: nil Opener")
	}
	for _, c := range contract {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.fn(t, open)
		})
	}
}

// contract is the list of subtests, in the order they are reported.
var contract = []struct {
	name string
	fn   func(*testing.T, Opener)
}{
	{"Lifecycle", testLifecycle},
	{"InvalidSpec", testInvalidSpec},
	{"UnknownAndMalformedTokens", testUnknownAndMalformed},
	{"ListOrderAndTimes", testListOrderAndTimes},
	{"ConcurrentCreateOneName", testConcurrentCreate},
	{"ConcurrentAuthenticate", testConcurrentAuthenticate},
}

// timeout bounds every subtest, so a store that hangs fails instead of
// stalling the run.
const timeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	return ctx
}

// mustCreate creates a token and fails the test on error.
func mustCreate(t *testing.T, s auth.TokenStore, spec auth.Spec) string {
	t.Helper()
	tok, err := s.Create(testContext(t), spec)
	if err != nil {
		t.Fatalf("Create(%+v): %v", spec, err)
	}
	if !auth.WellFormed(tok) {
		t.Fatalf("Create(%+v) = %q: not a well-formed token", spec, tok)
	}
	return tok
}

// testLifecycle: an empty store, a token made, authenticated (old codes
// are today's), listed, a second of its name refused, revoked once.
func testLifecycle(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Fatalf("Empty of a new store = %v, %v; want true", empty, err)
	}
	tok := mustCreate(t, s, auth.Spec{Name: "steinkjer", Role: auth.RoleCoordinator, Municipalities: []string{"1702"}})
	if empty, err := s.Empty(ctx); err != nil || empty {
		t.Fatalf("Empty with a token = %v, %v; want false", empty, err)
	}
	p, err := s.Authenticate(ctx, tok)
	if err != nil || p.Subject != "steinkjer" || p.Role != auth.RoleCoordinator || !slices.Equal(p.Municipalities, []kommune.Code{"5006"}) {
		t.Fatalf("Authenticate = %+v, %v; want steinkjer, coordinator of 5006", p, err)
	}
	if _, err := s.Create(ctx, auth.Spec{Name: "steinkjer", Role: auth.RoleViewer}); !errors.Is(err, auth.ErrTokenExists) {
		t.Fatalf("a second token named steinkjer: %v, want ErrTokenExists", err)
	}
	list, err := s.List(ctx)
	if err != nil || len(list) != 1 || list[0].Name != "steinkjer" || list[0].Role != auth.RoleCoordinator ||
		!slices.Equal(list[0].Municipalities, []kommune.Code{"5006"}) || list[0].LastUsedAt == nil || list[0].CreatedAt.IsZero() {
		t.Fatalf("List = %+v, %v", list, err)
	}
	if err := s.Revoke(ctx, "steinkjer"); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("a revoked token: %v, want ErrUnauthenticated", err)
	}
	if err := s.Revoke(ctx, "steinkjer"); !errors.Is(err, auth.ErrTokenNotFound) {
		t.Fatalf("a second revoke: %v, want ErrTokenNotFound", err)
	}
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Fatalf("Empty after the revoke = %v, %v; want true", empty, err)
	}
	// The name is free again.
	mustCreate(t, s, auth.Spec{Name: "steinkjer", Role: auth.RoleViewer})
}

// testInvalidSpec: a spec that does not validate stores nothing.
func testInvalidSpec(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	for _, spec := range []auth.Spec{
		{Name: "x", Role: "superuser"},
		{Name: "", Role: auth.RoleAdmin},
		{Name: "c", Role: auth.RoleCoordinator},
		{Name: "v", Role: auth.RoleViewer, Municipalities: []string{"4203"}},
	} {
		if tok, err := s.Create(ctx, spec); !errors.Is(err, auth.ErrInvalidSpec) {
			t.Errorf("Create(%+v) = %q, %v; want ErrInvalidSpec", spec, tok, err)
		}
	}
	if empty, err := s.Empty(ctx); err != nil || !empty {
		t.Fatalf("Empty after refused creates = %v, %v; want true", empty, err)
	}
}

// testUnknownAndMalformed: only a stored token authenticates.
func testUnknownAndMalformed(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	tok := mustCreate(t, s, auth.Spec{Name: "admin", Role: auth.RoleAdmin})
	unknown, _ := auth.NewToken()
	for _, bad := range []string{unknown, "", "ssp_", tok[:len(tok)-1], tok + "A", tok[:len(tok)-1] + flip(tok[len(tok)-1])} {
		if p, err := s.Authenticate(ctx, bad); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %+v, %v; want ErrUnauthenticated", bad, p, err)
		}
	}
	if p, err := s.Authenticate(ctx, tok); err != nil || p.Subject != "admin" || p.Role != auth.RoleAdmin || p.Municipalities != nil {
		t.Fatalf("the real token: %+v, %v", p, err)
	}
}

// flip returns another character of the token alphabet.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// testListOrderAndTimes: List orders names byte by byte (upper case
// before lower), with the time each was made and, once used, last used.
func testListOrderAndTimes(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	before := time.Now().Add(-2 * time.Second)
	tokens := map[string]string{}
	for _, name := range []string{"b", "alpha", "Zeta", "a-1", "ålesund"} {
		tokens[name] = mustCreate(t, s, auth.Spec{Name: name, Role: auth.RoleViewer})
	}
	if _, err := s.Authenticate(ctx, tokens["alpha"]); err != nil {
		t.Fatal(err)
	}
	after := time.Now().Add(2 * time.Second)
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tok := range list {
		names = append(names, tok.Name)
		if tok.CreatedAt.Before(before) || tok.CreatedAt.After(after) {
			t.Errorf("%s: CreatedAt %v, want between %v and %v", tok.Name, tok.CreatedAt, before, after)
		}
		switch {
		case tok.Name == "alpha" && (tok.LastUsedAt == nil || tok.LastUsedAt.Before(before) || tok.LastUsedAt.After(after)):
			t.Errorf("alpha: LastUsedAt %v, want between %v and %v", tok.LastUsedAt, before, after)
		case tok.Name != "alpha" && tok.LastUsedAt != nil:
			t.Errorf("%s, never used: LastUsedAt %v", tok.Name, tok.LastUsedAt)
		}
	}
	if want := []string{"Zeta", "a-1", "alpha", "b", "ålesund"}; !slices.Equal(names, want) {
		t.Fatalf("List names %q, want %q", names, want)
	}
}

// testConcurrentCreate: writers racing for one name, exactly one wins and
// the others get ErrTokenExists.
func testConcurrentCreate(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	const writers = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		won  []string
		errs []error
	)
	for i := range writers {
		wg.Go(func() {
			tok, err := s.Create(ctx, auth.Spec{Name: "race", Role: auth.RoleViewer})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won = append(won, tok)
			case !errors.Is(err, auth.ErrTokenExists):
				errs = append(errs, fmt.Errorf("writer %d: %w", i, err))
			}
		})
	}
	wg.Wait()
	if len(errs) > 0 || len(won) != 1 {
		t.Fatalf("%d of %d writers made the token; errors other than ErrTokenExists: %v", len(won), writers, errs)
	}
	if p, err := s.Authenticate(ctx, won[0]); err != nil || p.Subject != "race" {
		t.Fatalf("the winner's token: %+v, %v", p, err)
	}
}

// testConcurrentAuthenticate: many requests at once each get their own
// token's principal.
func testConcurrentAuthenticate(t *testing.T, open Opener) {
	ctx := testContext(t)
	s := open(t)
	names := []string{"admin", "viewer", "researcher"}
	roles := []string{auth.RoleAdmin, auth.RoleViewer, auth.RoleResearcher}
	tokens := make([]string, len(names))
	for i := range names {
		tokens[i] = mustCreate(t, s, auth.Spec{Name: names[i], Role: roles[i]})
	}
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for n := range 20 {
				i := (g + n) % len(tokens)
				p, err := s.Authenticate(ctx, tokens[i])
				if err != nil || p.Subject != names[i] || p.Role != roles[i] {
					t.Errorf("Authenticate(%s) = %+v, %v", names[i], p, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
