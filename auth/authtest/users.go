package authtest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/internal/contract"
)

// UserOpener returns a fresh, empty user store with a real Sealer.
type UserOpener = contract.Opener[auth.UserStore]

// RunUsers runs the UserStore rules (RunUsers does not run Run's: an
// adapter's test calls both) against stores made by open.
func RunUsers(t *testing.T, open UserOpener) {
	t.Helper()
	contract.Run(t, open, userRules)
}

var userRules = []contract.Rule[auth.UserStore]{
	{Name: "SignInCreatesThenFinds", Test: testSignInCreatesThenFinds},
	{Name: "MappingsUntilAdminGrants", Test: testMappingsUntilAdminGrants},
	{Name: "DisableEnable", Test: testDisableEnable},
	{Name: "Erase", Test: testErase},
	{Name: "UserSessionExpiry", Test: testUserSessionExpiry},
	{Name: "TokenOwnerAndExpiry", Test: testTokenOwnerAndExpiry},
	{Name: "AuditEntriesAndFilters", Test: testAuditEntriesAndFilters},
	{Name: "SessionsAndEndByHandle", Test: testSessionsAndEndByHandle},
	{Name: "UsersFilter", Test: testUsersFilter},
	{Name: "InvalidGrantsAndUnknownUsers", Test: testInvalidGrantsAndUnknownUsers},
	{Name: "ConcurrentFirstSignIn", Test: testConcurrentFirstSignIn},
}

var (
	viewer = auth.Grant{Role: auth.RoleViewer}
	// coordinator's 1702 is Steinkjer's old code: stored as today's 5006.
	coordinator = auth.Grant{Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"1702"}}
	adminGrant  = auth.Grant{Role: auth.RoleAdmin}
	// alice is who signs in with the identity provider.
	alice = auth.Identity{Provider: "idporten", Subject: "sub-alice", Name: "Alice Ås", Email: "alice@kommune.no", Groups: []string{"g"}}
	// someAdmin is the admin who changes users in the rules.
	someAdmin = auth.Principal{Subject: "usr-aaaaaaaaaaaaaaaaaaaa", Role: auth.RoleAdmin}
)

// signIn signs the identity in at now with the mapped grant.
func signIn(t *testing.T, s auth.UserStore, id auth.Identity, mapped auth.Grant, now time.Time) (string, auth.User) {
	t.Helper()
	sid, u, err := s.SignIn(contract.Context(t), id, mapped, now)
	if err != nil {
		t.Fatalf("SignIn(%s/%s) at %v: %v", id.Provider, id.Subject, now, err)
	}
	if !auth.WellFormedSessionID(sid) || !auth.IsUserID(u.ID) {
		t.Fatalf("SignIn = %q, %+v: want a session id and a user id", sid, u)
	}
	return sid, u
}

// userAlive checks that the session stands for the user with the grant.
func userAlive(t *testing.T, s auth.UserStore, sid string, now time.Time, userID string, g auth.Grant) {
	t.Helper()
	p, err := s.Session(contract.Context(t), sid, now)
	if err != nil || p.Subject != userID || p.Role != g.Role || !slices.Equal(p.Municipalities, g.Municipalities) {
		t.Fatalf("Session at %v = %+v, %v; want %s as %+v", now, p, err, userID, g)
	}
}

func mustUser(t *testing.T, s auth.UserStore, id string) auth.User {
	t.Helper()
	u, err := s.User(contract.Context(t), id)
	if err != nil {
		t.Fatalf("User(%s): %v", id, err)
	}
	return u
}

// actions lists the audit log's actions on target, oldest first.
func actions(t *testing.T, s auth.UserStore, target string) []string {
	t.Helper()
	entries, err := s.Audit(contract.Context(t), auth.AuditFilter{Target: target})
	if err != nil {
		t.Fatalf("Audit(%s): %v", target, err)
	}
	var out []string
	for _, e := range slices.Backward(entries) {
		out = append(out, e.Action)
	}
	return out
}

var steinkjer = auth.Grant{Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"5006"}}

// testSignInCreatesThenFinds: the first sign-in makes the user (mapped
// grant, today's codes, name and e-mail), the second finds it by provider
// and subject and records the new name; another provider's same subject
// is another user; both sessions live.
func testSignInCreatesThenFinds(t *testing.T, open UserOpener) {
	s := open(t)
	first, u := signIn(t, s, alice, coordinator, t0)
	if u.Provider != "idporten" || u.Name != alice.Name || u.Email != alice.Email || u.Grant.Role != auth.RoleCoordinator ||
		!slices.Equal(u.Grant.Municipalities, steinkjer.Municipalities) || u.GrantedByAdmin || u.Disabled || u.Erased ||
		!u.CreatedAt.Equal(t0) || !u.LastSignInAt.Equal(t0) {
		t.Fatalf("the new user: %+v", u)
	}
	if got := mustUser(t, s, u.ID); got.Name != alice.Name || got.Email != alice.Email || !got.CreatedAt.Equal(t0) || got.Grant.Role != auth.RoleCoordinator {
		t.Fatalf("User = %+v", got)
	}
	userAlive(t, s, first, t0.Add(time.Minute), u.ID, steinkjer)
	renamed := alice
	renamed.Name, renamed.Email = "Alice Ås-Berg", "alice.berg@kommune.no"
	second, again := signIn(t, s, renamed, coordinator, t0.Add(time.Hour))
	if again.ID != u.ID || again.Name != renamed.Name || !again.LastSignInAt.Equal(t0.Add(time.Hour)) || !again.CreatedAt.Equal(t0) {
		t.Fatalf("the second sign-in: %+v; want %s renamed", again, u.ID)
	}
	if got := mustUser(t, s, u.ID); got.Name != renamed.Name || got.Email != renamed.Email || !got.LastSignInAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("User after the second sign-in = %+v", got)
	}
	userAlive(t, s, first, t0.Add(time.Hour), u.ID, steinkjer)
	userAlive(t, s, second, t0.Add(time.Hour), u.ID, steinkjer)
	other := alice
	other.Provider = "feide"
	_, o := signIn(t, s, other, viewer, t0)
	if o.ID == u.ID {
		t.Fatal("the same subject at another provider found the same user")
	}
	if got := actions(t, s, u.ID); !slices.Equal(got, []string{auth.AuditUserCreated, auth.AuditUserSignedIn, auth.AuditUserSignedIn}) {
		t.Fatalf("audit of %s: %q", u.ID, got)
	}
	// The session id is no token.
	if _, err := s.Authenticate(contract.Context(t), first); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("a user's session id as a token: %v", err)
	}
}

// testMappingsUntilAdminGrants: sign-ins set the mapped grant until an
// admin grants; the admin's grant ends the sessions and holds over later
// sign-ins; UseMappings ends the sessions and the next sign-in maps again.
func testMappingsUntilAdminGrants(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	_, u := signIn(t, s, alice, viewer, t0)
	sid, _ := signIn(t, s, alice, coordinator, t0.Add(time.Minute))
	userAlive(t, s, sid, t0.Add(2*time.Minute), u.ID, steinkjer)
	if err := s.SetGrant(ctx, someAdmin, u.ID, adminGrant); err != nil {
		t.Fatal(err)
	}
	dead(t, s, sid, t0.Add(3*time.Minute))
	if got := mustUser(t, s, u.ID); got.Grant.Role != auth.RoleAdmin || !got.GrantedByAdmin {
		t.Fatalf("after SetGrant: %+v", got)
	}
	sid, again := signIn(t, s, alice, viewer, t0.Add(4*time.Minute))
	if again.Grant.Role != auth.RoleAdmin || !again.GrantedByAdmin {
		t.Fatalf("a sign-in after the admin's grant: %+v; want the admin's grant", again)
	}
	userAlive(t, s, sid, t0.Add(5*time.Minute), u.ID, adminGrant)
	if err := s.UseMappings(ctx, someAdmin, u.ID); err != nil {
		t.Fatal(err)
	}
	dead(t, s, sid, t0.Add(6*time.Minute))
	if got := mustUser(t, s, u.ID); got.Grant.Role != auth.RoleAdmin || got.GrantedByAdmin {
		t.Fatalf("after UseMappings: %+v; want the grant kept until the next sign-in", got)
	}
	sid, mapped := signIn(t, s, alice, viewer, t0.Add(7*time.Minute))
	if mapped.Grant.Role != auth.RoleViewer || mapped.GrantedByAdmin {
		t.Fatalf("a sign-in after UseMappings: %+v; want the mapped viewer", mapped)
	}
	userAlive(t, s, sid, t0.Add(8*time.Minute), u.ID, viewer)
	entries, err := s.Audit(ctx, auth.AuditFilter{Target: u.ID, Action: auth.AuditUserGranted})
	if err != nil || len(entries) != 1 || entries[0].Actor != someAdmin.Subject || entries[0].Grant == nil || entries[0].Grant.Role != auth.RoleAdmin {
		t.Fatalf("the grant's audit entry: %+v, %v", entries, err)
	}
	// A user without a role signs in all the same.
	bob := alice
	bob.Subject = "sub-bob"
	sid, b := signIn(t, s, bob, auth.Grant{}, t0)
	userAlive(t, s, sid, t0.Add(time.Minute), b.ID, auth.Grant{})
}

// testDisableEnable: disabling ends the user's sessions, stops its tokens
// and refuses its sign-ins (which write only their audit entry); enabling
// lets it sign in again and its tokens work again.
func testDisableEnable(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	sid, u := signIn(t, s, alice, viewer, t0)
	tok, err := s.CreateToken(ctx, someAdmin, auth.Spec{Name: "alice-script", Role: auth.RoleViewer, Owner: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	tokSession := mustStart(t, s, tok, t0)
	if err := s.Disable(ctx, someAdmin, u.ID); err != nil {
		t.Fatal(err)
	}
	dead(t, s, sid, t0.Add(time.Minute))
	dead(t, s, tokSession, t0.Add(time.Minute))
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("a disabled user's token: %v", err)
	}
	before := actions(t, s, u.ID)
	if id, got, err := s.SignIn(ctx, alice, viewer, t0.Add(2*time.Minute)); !errors.Is(err, auth.ErrUserDisabled) || id != "" {
		t.Fatalf("a disabled user signs in: %q, %+v, %v; want ErrUserDisabled", id, got, err)
	}
	if got := mustUser(t, s, u.ID); !got.Disabled || !got.LastSignInAt.Equal(t0) {
		t.Fatalf("after a refused sign-in: %+v; want disabled, last signed in at %v", got, t0)
	}
	if got := actions(t, s, u.ID); !slices.Equal(got, append(before, auth.AuditUserSignInRefused)) {
		t.Fatalf("audit after a refused sign-in: %q", got)
	}
	if err := s.Enable(ctx, someAdmin, u.ID); err != nil {
		t.Fatal(err)
	}
	sid, _ = signIn(t, s, alice, viewer, t0.Add(3*time.Minute))
	userAlive(t, s, sid, t0.Add(4*time.Minute), u.ID, viewer)
	if p, err := s.Authenticate(ctx, tok); err != nil || p.Subject != "alice-script" {
		t.Fatalf("the token after Enable: %+v, %v", p, err)
	}
	want := []string{auth.AuditUserCreated, auth.AuditUserSignedIn, auth.AuditUserDisabled, auth.AuditUserSignInRefused, auth.AuditUserEnabled, auth.AuditUserSignedIn}
	if got := actions(t, s, u.ID); !slices.Equal(got, want) {
		t.Fatalf("audit of %s: %q, want %q", u.ID, got, want)
	}
}

// testErase: erasing drops the name and e-mail, disables, ends sessions
// and stops tokens; the id stays; the person signing in again is a new
// user; an erased user cannot be granted or enabled; erasing twice is no
// error.
func testErase(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	sid, u := signIn(t, s, alice, viewer, t0)
	tok, err := s.CreateToken(ctx, someAdmin, auth.Spec{Name: "alice-script", Role: auth.RoleViewer, Owner: u.ID})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.EraseUser(ctx, someAdmin, u.ID); err != nil {
		t.Fatal(err)
	}
	got := mustUser(t, s, u.ID)
	if got.Name != "" || got.Email != "" || !got.Erased || !got.Disabled || got.ID != u.ID {
		t.Fatalf("the erased user: %+v", got)
	}
	dead(t, s, sid, t0.Add(time.Minute))
	if _, err := s.Authenticate(ctx, tok); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("an erased user's token: %v", err)
	}
	for name, f := range map[string]func() error{
		"SetGrant":    func() error { return s.SetGrant(ctx, someAdmin, u.ID, viewer) },
		"Enable":      func() error { return s.Enable(ctx, someAdmin, u.ID) },
		"UseMappings": func() error { return s.UseMappings(ctx, someAdmin, u.ID) },
	} {
		if err := f(); !errors.Is(err, auth.ErrUserErased) {
			t.Errorf("%s of an erased user: %v, want ErrUserErased", name, err)
		}
	}
	if err := s.EraseUser(ctx, someAdmin, u.ID); err != nil {
		t.Fatalf("erasing twice: %v", err)
	}
	list, err := s.Users(ctx, auth.UserFilter{})
	if err != nil || len(list) != 1 || !list[0].Erased {
		t.Fatalf("Users after erasing = %+v, %v", list, err)
	}
	sid, again := signIn(t, s, alice, viewer, t0.Add(time.Hour))
	if again.ID == u.ID || again.Name != alice.Name {
		t.Fatalf("the erased person signing in again: %+v; want a new user", again)
	}
	userAlive(t, s, sid, t0.Add(time.Hour+time.Minute), again.ID, viewer)
	if got := actions(t, s, u.ID); !slices.Equal(got, []string{auth.AuditUserCreated, auth.AuditUserSignedIn, auth.AuditUserErased}) {
		t.Fatalf("audit of %s: %q", u.ID, got)
	}
}

// testUserSessionExpiry: a user's session ends idle and after its
// lifetime as a token's does, and signing out ends it.
func testUserSessionExpiry(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	idle, u := signIn(t, s, alice, viewer, t0)
	dead(t, s, idle, t0.Add(auth.SessionIdleTimeout))
	busy, _ := signIn(t, s, alice, viewer, t0)
	for at := t0; at.Before(t0.Add(auth.SessionLifetime)); at = at.Add(time.Hour) {
		userAlive(t, s, busy, at, u.ID, viewer)
	}
	dead(t, s, busy, t0.Add(auth.SessionLifetime))
	out, _ := signIn(t, s, alice, viewer, t0)
	if err := s.EndSession(ctx, out); err != nil {
		t.Fatal(err)
	}
	dead(t, s, out, t0.Add(time.Minute))
}

// testTokenOwnerAndExpiry: a token names its owner and expiry in List; an
// owner that is no user is refused; an expired token and its sessions do
// not authenticate.
func testTokenOwnerAndExpiry(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	_, u := signIn(t, s, alice, viewer, t0)
	if _, err := s.CreateToken(ctx, someAdmin, auth.Spec{Name: "nobody", Role: auth.RoleViewer, Owner: auth.NewUserID()}); !errors.Is(err, auth.ErrUserNotFound) {
		t.Fatalf("a token of no user: %v, want ErrUserNotFound", err)
	}
	if _, err := s.Create(ctx, auth.Spec{Name: u.ID, Role: auth.RoleViewer}); !errors.Is(err, auth.ErrInvalidSpec) {
		t.Fatalf("a token named like a user: %v, want ErrInvalidSpec", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	soon := now.Add(90 * 24 * time.Hour)
	live, err := s.CreateToken(ctx, someAdmin, auth.Spec{Name: "owned", Role: auth.RoleViewer, Owner: u.ID, ExpiresAt: soon})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := s.CreateToken(ctx, someAdmin, auth.Spec{Name: "expired", Role: auth.RoleViewer, ExpiresAt: now.Add(-time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.Authenticate(ctx, live); err != nil || p.Subject != "owned" {
		t.Fatalf("a token that expires in 90 days: %+v, %v", p, err)
	}
	if p, err := s.Authenticate(ctx, gone); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("an expired token: %+v, %v", p, err)
	}
	if id, _, err := s.StartSession(ctx, gone, now); !errors.Is(err, auth.ErrUnauthenticated) {
		t.Fatalf("an expired token signs in: %q, %v", id, err)
	}
	// A session ends when its token expires, however young.
	sid := mustStart(t, s, live, now)
	alive(t, s, sid, now.Add(time.Minute), "owned")
	short, err := s.CreateToken(ctx, someAdmin, auth.Spec{Name: "short", Role: auth.RoleViewer, ExpiresAt: now.Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	shortSession := mustStart(t, s, short, now)
	alive(t, s, shortSession, now.Add(time.Hour-time.Minute), "short")
	dead(t, s, shortSession, now.Add(time.Hour))
	list, err := s.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]auth.Token{}
	for _, tok := range list {
		byName[tok.Name] = tok
	}
	if o := byName["owned"]; o.Owner != u.ID || !o.ExpiresAt.Equal(soon) {
		t.Fatalf("List: owned = %+v; want owner %s, expiry %v", o, u.ID, soon)
	}
	if e := byName["expired"]; e.Owner != "" || !e.ExpiresAt.Equal(now.Add(-time.Second)) {
		t.Fatalf("List: expired = %+v", e)
	}
	entries, err := s.Audit(ctx, auth.AuditFilter{Action: auth.AuditTokenCreated})
	if err != nil || len(entries) != 3 || entries[0].Target != "short" || entries[0].Actor != someAdmin.Subject {
		t.Fatalf("token.created entries: %+v, %v", entries, err)
	}
}

// testAuditEntriesAndFilters: every change writes one entry, newest
// first, by actor, action, target and time, paged with Before and Limit;
// the CLI's Create and Revoke name the system.
func testAuditEntriesAndFilters(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	before := time.Now().Add(-2 * time.Second)
	mustCreate(t, s, auth.Spec{Name: "cli", Role: auth.RoleViewer})
	if err := s.Revoke(ctx, "cli"); err != nil {
		t.Fatal(err)
	}
	_, u := signIn(t, s, alice, viewer, t0)
	if err := s.SetGrant(ctx, someAdmin, u.ID, coordinator); err != nil {
		t.Fatal(err)
	}
	if err := s.Disable(ctx, someAdmin, u.ID); err != nil {
		t.Fatal(err)
	}
	all, err := s.Audit(ctx, auth.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range all {
		got = append(got, fmt.Sprintf("%s %s %s", e.Actor, e.Action, e.Target))
	}
	want := []string{
		someAdmin.Subject + " user.disabled " + u.ID,
		someAdmin.Subject + " user.granted " + u.ID,
		"system user.signed_in " + u.ID,
		"system user.created " + u.ID,
		"system token.revoked cli",
		"system token.created cli",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("Audit = %q\nwant %q", got, want)
	}
	for i, e := range all {
		if i > 0 && e.Seq >= all[i-1].Seq {
			t.Fatalf("entries not newest first: %+v", all)
		}
	}
	if g := all[1].Grant; g == nil || g.Role != auth.RoleCoordinator || !slices.Equal(g.Municipalities, steinkjer.Municipalities) {
		t.Fatalf("the grant's entry holds %+v; want today's coordinator of 5006", g)
	}
	if all[0].Grant != nil || all[3].Grant != nil {
		t.Fatalf("entries without a grant hold one: %+v", all)
	}
	if g := all[2].Grant; g == nil || g.Role != auth.RoleViewer {
		t.Fatalf("the sign-in's entry holds %+v; want the mapped viewer", g)
	}
	check := func(f auth.AuditFilter, want int) []auth.AuditEntry {
		t.Helper()
		got, err := s.Audit(ctx, f)
		if err != nil || len(got) != want {
			t.Fatalf("Audit(%+v) = %d entries (%v), want %d", f, len(got), err, want)
		}
		return got
	}
	check(auth.AuditFilter{Actor: auth.SystemActor}, 4)
	check(auth.AuditFilter{Actor: someAdmin.Subject}, 2)
	check(auth.AuditFilter{Action: auth.AuditTokenRevoked}, 1)
	check(auth.AuditFilter{Target: "cli"}, 2)
	check(auth.AuditFilter{Actor: auth.SystemActor, Target: u.ID}, 2)
	page := check(auth.AuditFilter{Limit: 2}, 2)
	next := check(auth.AuditFilter{Limit: 2, Before: page[1].Seq}, 2)
	if next[0].Seq >= page[1].Seq || next[0].Action != auth.AuditUserSignedIn {
		t.Fatalf("the second page begins with %+v", next[0])
	}
	// A sign-in's entries are at the sign-in's now (t0), the others at
	// the store's clock.
	check(auth.AuditFilter{From: before, To: time.Now().Add(2 * time.Second)}, 4)
	check(auth.AuditFilter{From: t0, To: t0.Add(time.Second)}, 2)
	check(auth.AuditFilter{To: t0}, 0)
	for _, e := range all {
		if e.Target == u.ID && e.Actor == auth.SystemActor {
			if !e.At.Equal(t0) {
				t.Fatalf("sign-in entry at %v, want %v", e.At, t0)
			}
		} else if e.At.Before(before) || e.At.After(time.Now().Add(2*time.Second)) {
			t.Fatalf("entry at %v, want about now", e.At)
		}
	}
}

// testSessionsAndEndByHandle: Sessions lists live token and user
// sessions, newest first, by handle; an admin ends one by its handle,
// which is then unknown.
func testSessionsAndEndByHandle(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	tok := mustCreate(t, s, auth.Spec{Name: "admin", Role: auth.RoleAdmin})
	tokSession := mustStart(t, s, tok, t0)
	userSession, u := signIn(t, s, alice, viewer, t0.Add(time.Minute))
	expired, _ := signIn(t, s, alice, viewer, t0.Add(-auth.SessionLifetime))
	_ = expired
	list, err := s.Sessions(ctx, t0.Add(2*time.Minute))
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions = %+v, %v; want 2", list, err)
	}
	if list[0].Kind != auth.PrincipalUser || list[0].Subject != u.ID || list[1].Kind != auth.PrincipalToken || list[1].Subject != "admin" ||
		!list[1].Created.Equal(t0) || !list[1].Expires.Equal(auth.SessionExpiry(t0, t0)) {
		t.Fatalf("Sessions = %+v", list)
	}
	for _, info := range list {
		if len(info.Handle) != 16 || info.Handle == userSession[:16] {
			t.Fatalf("handle %q: want 16 hex digits of the hash", info.Handle)
		}
	}
	if err := s.EndSessionByHandle(ctx, someAdmin, list[0].Handle); err != nil {
		t.Fatal(err)
	}
	dead(t, s, userSession, t0.Add(3*time.Minute))
	alive(t, s, tokSession, t0.Add(3*time.Minute), "admin")
	for _, bad := range []string{list[0].Handle, "", "xyz", "00000000000000000000"} {
		if err := s.EndSessionByHandle(ctx, someAdmin, bad); !errors.Is(err, auth.ErrSessionNotFound) {
			t.Errorf("EndSessionByHandle(%q) = %v, want ErrSessionNotFound", bad, err)
		}
	}
	entries, err := s.Audit(ctx, auth.AuditFilter{Action: auth.AuditSessionEnded})
	if err != nil || len(entries) != 1 || entries[0].Target != list[0].Handle || entries[0].Actor != someAdmin.Subject {
		t.Fatalf("session.ended entries: %+v, %v", entries, err)
	}
}

// testUsersFilter: Users lists by name and filters by query (name or
// e-mail anywhere, any case, or the id), role and disabled.
func testUsersFilter(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	ids := map[string]string{}
	for i, p := range []struct{ name, email string }{{"Per Hansen", "per@bodo.kommune.no"}, {"anne Berg", "anne@tromso.kommune.no"}, {"Øystein Li", "oli@bodo.kommune.no"}} {
		id := auth.Identity{Provider: "idporten", Subject: fmt.Sprint("s", i), Name: p.name, Email: p.email}
		_, u := signIn(t, s, id, viewer, t0)
		ids[p.name] = u.ID
	}
	if err := s.SetGrant(ctx, someAdmin, ids["Per Hansen"], adminGrant); err != nil {
		t.Fatal(err)
	}
	if err := s.Disable(ctx, someAdmin, ids["Øystein Li"]); err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	for _, c := range []struct {
		f    auth.UserFilter
		want []string
	}{
		{auth.UserFilter{}, []string{"anne Berg", "Per Hansen", "Øystein Li"}},
		{auth.UserFilter{Query: "BODO"}, []string{"Per Hansen", "Øystein Li"}},
		{auth.UserFilter{Query: "berg"}, []string{"anne Berg"}},
		{auth.UserFilter{Query: ids["Øystein Li"]}, []string{"Øystein Li"}},
		{auth.UserFilter{Query: "usr-"}, nil},
		{auth.UserFilter{Role: auth.RoleAdmin}, []string{"Per Hansen"}},
		{auth.UserFilter{Disabled: &yes}, []string{"Øystein Li"}},
		{auth.UserFilter{Disabled: &no, Query: "bodo"}, []string{"Per Hansen"}},
	} {
		list, err := s.Users(ctx, c.f)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, u := range list {
			names = append(names, u.Name)
		}
		if !slices.Equal(names, c.want) {
			t.Errorf("Users(%+v) = %q, want %q", c.f, names, c.want)
		}
	}
}

// testInvalidGrantsAndUnknownUsers: a grant that does not validate
// changes nothing; changes to no user are ErrUserNotFound; a mapping that
// does not validate signs no one in.
func testInvalidGrantsAndUnknownUsers(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	sid, u := signIn(t, s, alice, viewer, t0)
	for _, g := range []auth.Grant{{Role: "superuser"}, {Role: auth.RoleCoordinator}, {Role: auth.RoleViewer, Municipalities: []kommune.Code{"5006"}}} {
		if err := s.SetGrant(ctx, someAdmin, u.ID, g); !errors.Is(err, auth.ErrInvalidSpec) {
			t.Errorf("SetGrant(%+v) = %v, want ErrInvalidSpec", g, err)
		}
	}
	userAlive(t, s, sid, t0.Add(time.Minute), u.ID, viewer)
	nobody := auth.NewUserID()
	if _, err := s.User(ctx, nobody); !errors.Is(err, auth.ErrUserNotFound) {
		t.Errorf("User of no one: %v", err)
	}
	for name, f := range map[string]func() error{
		"SetGrant":    func() error { return s.SetGrant(ctx, someAdmin, nobody, viewer) },
		"UseMappings": func() error { return s.UseMappings(ctx, someAdmin, nobody) },
		"Disable":     func() error { return s.Disable(ctx, someAdmin, nobody) },
		"Enable":      func() error { return s.Enable(ctx, someAdmin, nobody) },
		"EraseUser":   func() error { return s.EraseUser(ctx, someAdmin, nobody) },
	} {
		if err := f(); !errors.Is(err, auth.ErrUserNotFound) {
			t.Errorf("%s of no user: %v, want ErrUserNotFound", name, err)
		}
	}
	bob := alice
	bob.Subject = "sub-bob"
	if id, _, err := s.SignIn(ctx, bob, auth.Grant{Role: auth.RoleCoordinator}, t0); !errors.Is(err, auth.ErrInvalidSpec) || id != "" {
		t.Fatalf("a sign-in with an invalid mapping: %q, %v", id, err)
	}
	if list, err := s.Users(ctx, auth.UserFilter{}); err != nil || len(list) != 1 {
		t.Fatalf("Users = %+v, %v; want alice only", list, err)
	}
	if got := actions(t, s, nobody); len(got) != 0 {
		t.Fatalf("audit entries for no user: %q", got)
	}
}

// testConcurrentFirstSignIn: one person signing in from several tabs at
// once is one user, with a live session per sign-in.
func testConcurrentFirstSignIn(t *testing.T, open UserOpener) {
	ctx := contract.Context(t)
	s := open(t)
	const tabs = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		sids = map[string]string{}
	)
	for range tabs {
		wg.Go(func() {
			sid, u, err := s.SignIn(ctx, alice, viewer, t0)
			if err != nil {
				t.Errorf("SignIn: %v", err)
				return
			}
			mu.Lock()
			sids[sid] = u.ID
			mu.Unlock()
		})
	}
	wg.Wait()
	list, err := s.Users(ctx, auth.UserFilter{})
	if err != nil || len(list) != 1 || len(sids) != tabs {
		t.Fatalf("%d concurrent first sign-ins made %d users (%v) and %d sessions", tabs, len(list), err, len(sids))
	}
	for sid, id := range sids {
		if id != list[0].ID {
			t.Fatalf("a sign-in answered for %s, the user is %s", id, list[0].ID)
		}
		userAlive(t, s, sid, t0.Add(time.Minute), id, viewer)
	}
	if got := actions(t, s, list[0].ID); len(got) != tabs+1 || got[0] != auth.AuditUserCreated {
		t.Fatalf("audit: %q; want one user.created and %d sign-ins", got, tabs)
	}
}
