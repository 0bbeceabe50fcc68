// Package authtest is the contract every auth.SessionStore adapter (a
// token store that also keeps the pages' sign-in sessions) must pass, and
// (RunUsers, users.go) every auth.UserStore adapter too. An adapter's test
// calls Run (and RunUsers) with a function that opens a fresh, empty
// store; the suite runs each rule as a parallel subtest.
//
//	func TestContract(t *testing.T) {
//		authtest.Run(t, func(t *testing.T) auth.SessionStore { return open(t) })
//	}
//
// Session rules pass their own clock (the now of each call), so expiry is
// tested to the second without waiting. What only one adapter can check
// (that no file holds a token or a session id, that a session reads its
// token's row as it is now, what two processes on one database see) stays
// in that adapter's tests.
package authtest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/internal/contract"
)

// Opener returns a fresh, empty store (contract.Opener: it cleans up
// after itself and calls t.Fatal if the store cannot be made).
type Opener = contract.Opener[auth.SessionStore]

// Run runs the whole contract against stores made by open. It calls t.Run
// once per rule; the subtests run in parallel with each other.
func Run(t *testing.T, open Opener) {
	t.Helper()
	contract.Run(t, open, rules)
}

// rules are the subtests, in the order they are reported.
var rules = []contract.Rule[auth.SessionStore]{
	{Name: "Lifecycle", Test: testLifecycle},
	{Name: "InvalidSpec", Test: testInvalidSpec},
	{Name: "UnknownAndMalformedTokens", Test: testUnknownAndMalformed},
	{Name: "ListOrderAndTimes", Test: testListOrderAndTimes},
	{Name: "ConcurrentCreateOneName", Test: testConcurrentCreate},
	{Name: "ConcurrentAuthenticate", Test: testConcurrentAuthenticate},
	{Name: "SessionLifecycle", Test: testSessionLifecycle},
	{Name: "SessionPerSignIn", Test: testSessionPerSignIn},
	{Name: "RevokeEndsSessions", Test: testRevokeEndsSessions},
	{Name: "SessionIdleExpiry", Test: testSessionIdleExpiry},
	{Name: "SessionAbsoluteExpiry", Test: testSessionAbsoluteExpiry},
	{Name: "ExpiredSessionsDeleted", Test: testExpiredSessionsDeleted},
	{Name: "ConcurrentSessions", Test: testConcurrentSessions},
}

// mustCreate creates a token and fails the test on error.
func mustCreate(t *testing.T, s auth.TokenStore, spec auth.Spec) string {
	t.Helper()
	tok, err := s.Create(contract.Context(t), spec)
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
	ctx := contract.Context(t)
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
	ctx := contract.Context(t)
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
	ctx := contract.Context(t)
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
	ctx := contract.Context(t)
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
	ctx := contract.Context(t)
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
	ctx := contract.Context(t)
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

// t0 is the sign-in time of the session rules: a whole second, as stores
// keep session times to the second.
var t0 = time.Date(2026, time.December, 1, 8, 0, 0, 0, time.UTC)

// mustStart signs in with a token at now and fails the test on error.
func mustStart(t *testing.T, s auth.SessionStore, token string, now time.Time) string {
	t.Helper()
	id, _, err := s.StartSession(contract.Context(t), token, now)
	if err != nil {
		t.Fatalf("StartSession at %v: %v", now, err)
	}
	if !auth.WellFormedSessionID(id) {
		t.Fatalf("StartSession = %q: not a well-formed session id", id)
	}
	return id
}

// alive checks that the session id is alive at now for the named token.
func alive(t *testing.T, s auth.SessionStore, id string, now time.Time, subject string) {
	t.Helper()
	if p, err := s.Session(contract.Context(t), id, now); err != nil || p.Subject != subject {
		t.Fatalf("Session at %v = %+v, %v; want alive for %s", now, p, err, subject)
	}
}

// dead checks that the session id gives nothing at now.
func dead(t *testing.T, s auth.SessionStore, id string, now time.Time) {
	t.Helper()
	if p, err := s.Session(contract.Context(t), id, now); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("Session at %v = %+v, %v; want ErrUnauthenticated", now, p, err)
	}
}

// testSessionLifecycle: a token signs in and the session stands for it
// (old codes are today's); the id is no token and the token no session id;
// signing out ends it, also twice; unknown tokens start nothing.
func testSessionLifecycle(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	s := open(t)
	tok := mustCreate(t, s, auth.Spec{Name: "steinkjer", Role: auth.RoleCoordinator, Municipalities: []string{"1702"}})
	id, p, err := s.StartSession(ctx, tok, t0)
	if err != nil || p.Subject != "steinkjer" || p.Role != auth.RoleCoordinator || !slices.Equal(p.Municipalities, []kommune.Code{"5006"}) {
		t.Fatalf("StartSession = %+v, %v; want steinkjer, coordinator of 5006", p, err)
	}
	if !auth.WellFormedSessionID(id) || id == tok || auth.WellFormed(id) || auth.WellFormedSessionID(tok) {
		t.Fatalf("session id %q for token %q: want a session id that is no token", id, tok)
	}
	p, err = s.Session(ctx, id, t0.Add(time.Minute))
	if err != nil || p.Subject != "steinkjer" || p.Role != auth.RoleCoordinator || !slices.Equal(p.Municipalities, []kommune.Code{"5006"}) {
		t.Fatalf("Session = %+v, %v; want steinkjer, coordinator of 5006", p, err)
	}
	if p, err := s.Authenticate(ctx, id); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("the session id as a token: %+v, %v; want ErrUnauthenticated", p, err)
	}
	if p, err := s.Authenticate(ctx, "ssp_"+id); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("the session id dressed as a token: %+v, %v; want ErrUnauthenticated", p, err)
	}
	dead(t, s, tok, t0.Add(time.Minute))
	dead(t, s, strings.TrimPrefix(tok, "ssp_"), t0.Add(time.Minute))
	other, _ := auth.NewSessionID()
	for _, bad := range []string{other, "", id[:len(id)-1], id + "A", id[:len(id)-1] + flip(id[len(id)-1])} {
		dead(t, s, bad, t0.Add(time.Minute))
	}
	if err := s.EndSession(ctx, id); err != nil {
		t.Fatalf("EndSession: %v", err)
	}
	dead(t, s, id, t0.Add(2*time.Minute))
	for _, again := range []string{id, other, "", "not a session"} {
		if err := s.EndSession(ctx, again); err != nil {
			t.Fatalf("EndSession(%q) of no session: %v, want nil", again, err)
		}
	}
	unknown, _ := auth.NewToken()
	for _, bad := range []string{unknown, "", "ssp_", tok + "A", id} {
		if id, p, err := s.StartSession(ctx, bad, t0); !errors.Is(err, auth.ErrUnauthenticated) || id != "" {
			t.Errorf("StartSession(%q) = %q, %+v, %v; want ErrUnauthenticated", bad, id, p, err)
		}
	}
	// The token itself is untouched by its sessions.
	if p, err := s.Authenticate(ctx, tok); err != nil || p.Subject != "steinkjer" {
		t.Fatalf("the token after its session ended: %+v, %v", p, err)
	}
}

// testSessionPerSignIn: every sign-in is a new session; a second one (say
// on another device) leaves the first alive, and ending one leaves the
// other.
func testSessionPerSignIn(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	s := open(t)
	tok := mustCreate(t, s, auth.Spec{Name: "admin", Role: auth.RoleAdmin})
	first := mustStart(t, s, tok, t0)
	second := mustStart(t, s, tok, t0.Add(time.Minute))
	if first == second {
		t.Fatalf("two sign-ins got one session id %q", first)
	}
	alive(t, s, first, t0.Add(2*time.Minute), "admin")
	alive(t, s, second, t0.Add(2*time.Minute), "admin")
	if err := s.EndSession(ctx, second); err != nil {
		t.Fatal(err)
	}
	dead(t, s, second, t0.Add(3*time.Minute))
	alive(t, s, first, t0.Add(3*time.Minute), "admin")
}

// testRevokeEndsSessions: revoking a token ends every session it signed
// in at once and no other; a token made again under the revoked name
// (another secret) does not bring them back.
func testRevokeEndsSessions(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	s := open(t)
	tok := mustCreate(t, s, auth.Spec{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"4203"}})
	other := mustCreate(t, s, auth.Spec{Name: "viewer", Role: auth.RoleViewer})
	a, b := mustStart(t, s, tok, t0), mustStart(t, s, tok, t0)
	keep := mustStart(t, s, other, t0)
	alive(t, s, a, t0.Add(time.Minute), "arendal")
	if err := s.Revoke(ctx, "arendal"); err != nil {
		t.Fatal(err)
	}
	dead(t, s, a, t0.Add(time.Minute))
	dead(t, s, b, t0.Add(time.Minute))
	alive(t, s, keep, t0.Add(time.Minute), "viewer")
	again := mustCreate(t, s, auth.Spec{Name: "arendal", Role: auth.RoleAdmin})
	dead(t, s, a, t0.Add(2*time.Minute))
	dead(t, s, b, t0.Add(2*time.Minute))
	if id, p, err := s.StartSession(ctx, tok, t0.Add(2*time.Minute)); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("the revoked token signs in: %q, %+v, %v", id, p, err)
	}
	fresh := mustStart(t, s, again, t0.Add(2*time.Minute))
	if p, err := s.Session(ctx, fresh, t0.Add(3*time.Minute)); err != nil || p.Subject != "arendal" || p.Role != auth.RoleAdmin {
		t.Fatalf("the new token's session: %+v, %v", p, err)
	}
}

// testSessionIdleExpiry: each use moves the idle limit; a session unused
// for auth.SessionIdleTimeout is gone for good, also to a clock set back.
func testSessionIdleExpiry(t *testing.T, open Opener) {
	s := open(t)
	tok := mustCreate(t, s, auth.Spec{Name: "viewer", Role: auth.RoleViewer})
	id := mustStart(t, s, tok, t0)
	used := t0.Add(auth.SessionIdleTimeout - time.Second)
	alive(t, s, id, used, "viewer")
	used = used.Add(auth.SessionIdleTimeout - time.Second)
	alive(t, s, id, used, "viewer")
	dead(t, s, id, used.Add(auth.SessionIdleTimeout))
	dead(t, s, id, used) // deleted, not only refused

	unused := mustStart(t, s, tok, t0)
	dead(t, s, unused, t0.Add(auth.SessionIdleTimeout))
}

// testSessionAbsoluteExpiry: a session in steady use still ends
// auth.SessionLifetime after sign-in.
func testSessionAbsoluteExpiry(t *testing.T, open Opener) {
	s := open(t)
	tok := mustCreate(t, s, auth.Spec{Name: "viewer", Role: auth.RoleViewer})
	id := mustStart(t, s, tok, t0)
	end := t0.Add(auth.SessionLifetime)
	for at := t0.Add(time.Hour); at.Before(end); at = at.Add(time.Hour) {
		alive(t, s, id, at, "viewer")
	}
	alive(t, s, id, end.Add(-time.Second), "viewer")
	dead(t, s, id, end)
	dead(t, s, id, end.Add(-time.Second)) // deleted, not only refused
}

// testExpiredSessionsDeleted: a sign-in deletes the sessions that have
// expired by then (a clock set back finds them gone) and no other.
func testExpiredSessionsDeleted(t *testing.T, open Opener) {
	s := open(t)
	tok := mustCreate(t, s, auth.Spec{Name: "viewer", Role: auth.RoleViewer})
	idle := mustStart(t, s, tok, t0)
	busy := mustStart(t, s, tok, t0)
	alive(t, s, busy, t0.Add(time.Hour), "viewer")
	later := t0.Add(auth.SessionIdleTimeout)
	mustStart(t, s, tok, later) // idle has expired by now, busy has not
	dead(t, s, idle, t0.Add(time.Minute))
	alive(t, s, busy, t0.Add(time.Hour+time.Minute), "viewer")
}

// testConcurrentSessions: many sign-ins and uses at once, each session
// standing for its own token.
func testConcurrentSessions(t *testing.T, open Opener) {
	ctx := contract.Context(t)
	s := open(t)
	names := []string{"admin", "viewer", "researcher"}
	roles := []string{auth.RoleAdmin, auth.RoleViewer, auth.RoleResearcher}
	tokens := make([]string, len(names))
	for i := range names {
		tokens[i] = mustCreate(t, s, auth.Spec{Name: names[i], Role: roles[i]})
	}
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[string]bool{}
	)
	for g := range 12 {
		wg.Go(func() {
			i := g % len(tokens)
			id, _, err := s.StartSession(ctx, tokens[i], t0)
			if err != nil {
				t.Errorf("StartSession(%s): %v", names[i], err)
				return
			}
			mu.Lock()
			ids[id] = true
			mu.Unlock()
			for n := range 10 {
				p, err := s.Session(ctx, id, t0.Add(time.Duration(n)*time.Minute))
				if err != nil || p.Subject != names[i] || p.Role != roles[i] {
					t.Errorf("Session(%s) = %+v, %v", names[i], p, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if len(ids) != 12 {
		t.Fatalf("12 sign-ins made %d distinct sessions", len(ids))
	}
}
