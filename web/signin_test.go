package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/signin"
	"github.com/samspill/samspill/signin/oidctest"
)

// People at the test provider: Kari coordinates in Arendal, Ola sees,
// Nils is in no mapped group.
var (
	kariAtOP = oidctest.User{Username: "kari", Subject: "op-sub-kari", First: "Kari", Last: "Nordmann", Email: "kari@arendal.kommune.no", Groups: []string{"koord-arendal", "ansatte"}}
	olaAtOP  = oidctest.User{Username: "ola", Subject: "op-sub-ola", First: "Ola", Last: "Hansen", Email: "ola@arendal.kommune.no", Groups: []string{"ansatte"}}
	nilsAtOP = oidctest.User{Username: "nils", Subject: "op-sub-nils", First: "Nils", Last: "Ny", Email: "nils@arendal.kommune.no", Groups: []string{"vikarer"}}
)

const accessContact = "Ring IT-brukerstøtte på 37 01 30 00."

// oidcSite is a site with the test provider "arendal" configured; the
// provider listens at addr ("" for a free port) and is started unless
// down.
func oidcSite(t *testing.T, down bool, host, tokenSignIn string) (*site, *oidctest.Provider, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var op *oidctest.Provider
	issuer := "http://" + addr + "/"
	if host != "" {
		_, port, _ := net.SplitHostPort(addr)
		issuer = "http://" + net.JoinHostPort(host, port) + "/"
	}
	s := newSiteWith(t, t.TempDir(), true, siteOptions{tokenSignIn: tokenSignIn, accessContact: accessContact, signIn: func(siteURL string) *signin.Service {
		if !down {
			op = oidctest.New(t, oidctest.Options{Addr: addr, Host: host, RedirectURIs: []string{siteURL + signin.CallbackPath}, PostLogoutURIs: []string{siteURL + "/login"}},
				kariAtOP, olaAtOP, nilsAtOP)
		}
		var mappings []signin.Mapping
		for _, m := range []string{"koord-arendal=coordinator:4203", "ansatte=viewer"} {
			mp, err := signin.ParseMapping(m)
			if err != nil {
				t.Fatal(err)
			}
			mappings = append(mappings, mp)
		}
		svc, err := signin.New(signin.Config{
			Providers: []signin.ProviderConfig{{Name: "arendal", DisplayName: "Arendal kommune", Issuer: issuer,
				ClientID: oidctest.ClientID, ClientSecret: oidctest.ClientSecret, RedirectURL: siteURL + signin.CallbackPath}},
			Mappings:  mappings,
			CookieKey: make([]byte, 32),
		})
		if err != nil {
			t.Fatal(err)
		}
		return svc
	}})
	return s, op, addr
}

// signInAt signs the browser in as user at the provider, from the login
// page's button, and returns the callback's answer.
func (b *browser) signInAt(user oidctest.User, next string) page {
	b.t.Helper()
	login := b.get("/login?next=" + url.QueryEscape(next))
	m := regexp.MustCompile(`href="(/login/oidc/arendal[^"]*)"`).FindStringSubmatch(login.Body)
	if m == nil {
		b.t.Fatalf("no button for the provider on the login page:\n%s", login.Body)
	}
	start := b.site.srv.URL + strings.ReplaceAll(m[1], "&amp;", "&")
	cb, err := oidctest.Login(context.Background(), b.client, start, user.Username)
	if err != nil {
		b.t.Fatalf("sign in at the provider: %v", err)
	}
	u, _ := url.Parse(cb)
	return b.get(u.RequestURI())
}

func (s *site) usersNow(t *testing.T) []auth.User {
	t.Helper()
	us, err := s.userStore.Users(context.Background(), auth.UserFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return us
}

// TestSignInWithProvider: the first sign-in makes the user from the
// provider's subject, name and e-mail with the mapped grant, starts a
// session like a token's (rotated, the previous one ended, a new CSRF id)
// and moves on to next; the next sign-in finds the same user.
func TestSignInWithProvider(t *testing.T) {
	t.Parallel()
	s, _, _ := oidcSite(t, false, "", "")
	if n := len(s.usersNow(t)); n != 0 {
		t.Fatalf("%d users before anyone signed in", n)
	}
	b := s.browserAs(t, "admin") // a token's session first (break-glass: admins only)
	tokenSession, tokenCSRF := b.cookie(sessionCookie), b.cookie(csrfCookie)

	res := b.signInAt(kariAtOP, "/mine")
	if res.Status != http.StatusOK || !strings.Contains(res.Body, `http-equiv="refresh" content="0; url=/mine"`) {
		t.Fatalf("callback: %d, want the page that moves on to /mine:\n%s", res.Status, res.Body)
	}
	if !strings.Contains(res.Body, "Du er logget inn") {
		t.Errorf("the callback's page is not in bokmål:\n%s", res.Body)
	}
	session := b.cookie(sessionCookie)
	if session == "" || session == tokenSession || b.cookie(csrfCookie) == tokenCSRF {
		t.Fatalf("session %q (was %q), CSRF id renewed: %v", session, tokenSession, b.cookie(csrfCookie) != tokenCSRF)
	}
	if p := s.getWith(t, "/mine", withCookie(sessionCookie, tokenSession)); p.Status != http.StatusSeeOther {
		t.Errorf("the browser's previous session still opens /mine: %d", p.Status)
	}
	users := s.usersNow(t)
	if len(users) != 1 {
		t.Fatalf("users after the first sign-in: %+v", users)
	}
	u := users[0]
	if !auth.IsUserID(u.ID) || u.Provider != "arendal" || u.Name != "Kari Nordmann" || u.Email != kariAtOP.Email ||
		u.Grant.Role != auth.RoleCoordinator || !slices.Equal(u.Grant.Municipalities, []kommune.Code{"4203"}) || u.GrantedByAdmin {
		t.Errorf("the user made: %+v", u)
	}
	mine := b.get("/mine")
	if mine.Status != http.StatusOK || !strings.Contains(mine.Body, `<html lang="nb">`) || !strings.Contains(mine.Body, "Arendal") {
		t.Fatalf("/mine as Kari: %d\n%s", mine.Status, mine.Body)
	}

	// Again, in another browser: the same user, a second session.
	other := s.browserAs(t, "")
	if res := other.signInAt(kariAtOP, "/"); res.Status != http.StatusOK {
		t.Fatalf("second sign-in: %d", res.Status)
	}
	if users := s.usersNow(t); len(users) != 1 || users[0].ID != u.ID {
		t.Errorf("users after signing in again: %+v, want only %s", users, u.ID)
	}
	if p := b.get("/mine"); p.Status != http.StatusOK {
		t.Errorf("the first browser's session ended when another browser signed in: %d", p.Status)
	}
}

// TestSignInMapsGroupsOrSaysWhomToAsk: a viewer group gives a viewer; a
// person in no mapped group is signed in but sees, on every page, whom to
// ask, and can sign out.
func TestSignInMapsGroupsOrSaysWhomToAsk(t *testing.T) {
	t.Parallel()
	s, _, _ := oidcSite(t, false, "", "")
	ola := s.browserAs(t, "")
	ola.signInAt(olaAtOP, "/m")
	if p := ola.get("/m"); p.Status != http.StatusOK {
		t.Errorf("Ola (viewer) on /m: %d", p.Status)
	}
	if p := ola.get("/m"); strings.Contains(p.Body, `class="new"`) || strings.Contains(p.Body, `class="mine"`) {
		t.Errorf("Ola (viewer) is offered a coordinator's links:\n%s", p.Body)
	}
	nils := s.browserAs(t, "")
	nils.signInAt(nilsAtOP, "/")
	for _, path := range []string{"/", "/m", "/mine", "/m/4203"} {
		p := nils.get(path)
		if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Du har ikke tilgang ennå") || !strings.Contains(p.Body, accessContact) {
			t.Fatalf("Nils (no role) on %s: %d\n%s", path, p.Status, p.Body)
		}
	}
	var nilsUser auth.User
	for _, u := range s.usersNow(t) {
		if u.Name == "Nils Ny" {
			nilsUser = u
		}
	}
	if nilsUser.ID == "" || nilsUser.Grant.Role != "" {
		t.Errorf("Nils's user: %+v, want one without a role", nilsUser)
	}
	csrf, _ := formValues(t, nils.get("/").Body)
	if p := nils.post("/logout", url.Values{"csrf_token": {csrf}}); p.Status != http.StatusOK && p.Status != http.StatusSeeOther {
		t.Fatalf("sign out from the no-access page: %d", p.Status)
	}
	signedOut(t, "after signing out", nils.get("/"))
}

// TestProviderSignInFailsCleanly: a provider that cannot be reached, a
// forged state and a tampered or expired ID token each give a page that
// says what to do, and create no user and no session.
func TestProviderSignInFailsCleanly(t *testing.T) {
	t.Parallel()
	t.Run("unreachable", func(t *testing.T) {
		t.Parallel()
		s, _, _ := oidcSite(t, true, "", "")
		b := s.browserAs(t, "")
		p := b.get("/login/oidc/arendal?next=/mine")
		if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "Vi får ikke kontakt med Arendal kommune") || !strings.Contains(p.Body, `href="/login"`) {
			t.Fatalf("provider down: %d\n%s", p.Status, p.Body)
		}
		if n := len(s.usersNow(t)); n != 0 || b.cookie(sessionCookie) != "" {
			t.Errorf("after a failed sign-in: %d users, session %q", n, b.cookie(sessionCookie))
		}
		// The login page still draws, with the provider's button and the
		// admin's break-glass token form.
		login := b.get("/login")
		if login.Status != http.StatusOK || !strings.Contains(login.Body, "Logg inn med Arendal kommune") || !strings.Contains(login.Body, `id="token"`) {
			t.Errorf("login page with the provider down: %d\n%s", login.Status, login.Body)
		}
	})
	for _, c := range []struct {
		name   string
		spoil  func(op *oidctest.Provider, callback string) string
		status int
		text   string
	}{
		{"forged state", func(_ *oidctest.Provider, cb string) string {
			return regexp.MustCompile(`state=[^&]+`).ReplaceAllString(cb, "state=forged")
		}, http.StatusBadRequest, "Start innloggingen på nytt"},
		{"tampered ID token", func(op *oidctest.Provider, cb string) string { op.SetFault(oidctest.Tampered); return cb }, http.StatusUnauthorized, "kunne ikke bekreftes"},
		{"expired ID token", func(op *oidctest.Provider, cb string) string { op.SetFault(oidctest.Expired); return cb }, http.StatusUnauthorized, "kunne ikke bekreftes"},
		{"wrong audience", func(op *oidctest.Provider, cb string) string { op.SetFault(oidctest.WrongAudience); return cb }, http.StatusUnauthorized, "kunne ikke bekreftes"},
		{"provider gone at the callback", func(op *oidctest.Provider, cb string) string { op.Close(); return cb }, http.StatusServiceUnavailable, "Vi får ikke kontakt med Arendal kommune"},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			s, op, _ := oidcSite(t, false, "", "")
			b := s.browserAs(t, "")
			cb, err := oidctest.Login(context.Background(), b.client, s.srv.URL+"/login/oidc/arendal?next=/mine", kariAtOP.Username)
			if err != nil {
				t.Fatal(err)
			}
			u, _ := url.Parse(c.spoil(op, cb))
			p := b.get(u.RequestURI())
			if p.Status != c.status || !strings.Contains(p.Body, c.text) {
				t.Fatalf("%d, want %d with %q:\n%s", p.Status, c.status, c.text, p.Body)
			}
			if n := len(s.usersNow(t)); n != 0 || b.cookie(sessionCookie) != "" {
				t.Errorf("after a refused sign-in: %d users, session %q", n, b.cookie(sessionCookie))
			}
		})
	}
}

// TestSignOutAtProvider: signing out ends the samspill session and sends
// the browser on to the provider's end_session_endpoint, which ends the
// person's session there and comes back to /login.
func TestSignOutAtProvider(t *testing.T) {
	t.Parallel()
	s, op, _ := oidcSite(t, false, "", "")
	b := s.browserAs(t, "")
	b.signInAt(kariAtOP, "/mine")
	csrf, _ := formValues(t, b.get("/logout").Body)
	p := b.post("/logout", url.Values{"csrf_token": {csrf}})
	m := regexp.MustCompile(`http-equiv="refresh" content="0; url=([^"]+)"`).FindStringSubmatch(p.Body)
	if p.Status != http.StatusOK || m == nil {
		t.Fatalf("sign-out: %d, want a page that moves on to the provider:\n%s", p.Status, p.Body)
	}
	signedOut(t, "after signing out", b.get("/mine"))
	end := strings.ReplaceAll(m[1], "&amp;", "&")
	if !strings.HasPrefix(end, op.Issuer) || !strings.Contains(end, "id_token_hint=") {
		t.Fatalf("the end-session URL %q is not the provider's, with the ID token as hint", end)
	}
	resp, err := b.client.Get(end)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != s.srv.URL+"/login" {
		t.Errorf("the provider sent the browser to %q, want %s/login", loc, s.srv.URL)
	}
	if got := op.Ended(); !slices.Equal(got, []string{kariAtOP.Subject}) {
		t.Errorf("sessions ended at the provider: %v", got)
	}
	// A token's session signs out as before: straight to /login.
	tb := s.browserAs(t, "admin")
	csrf, _ = formValues(t, tb.get("/logout").Body)
	if p := tb.post("/logout", url.Values{"csrf_token": {csrf}}); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Errorf("a token's sign-out: %d → %q", p.Status, p.Location)
	}
}

// TestTokenSignInModes: with a provider, token sign-in is for admins only
// by default (another role's token is refused and left without a
// session); off removes the form and refuses every post; any lets every
// token in.
func TestTokenSignInModes(t *testing.T) {
	t.Parallel()
	s, _, _ := oidcSite(t, true, "", "")
	viewer := s.browserAs(t, "")
	p := viewer.signIn(s.tokens["viewer"], "/")
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Bare en administrators tilgangsnøkkel") || viewer.cookie(sessionCookie) != "" {
		t.Fatalf("a viewer's token with admin-only token sign-in: %d, session %q\n%s", p.Status, viewer.cookie(sessionCookie), p.Body)
	}
	if login := viewer.get("/login"); !strings.Contains(login.Body, "Nødtilgang for administratorer") {
		t.Errorf("the login page does not say the token form is for admins:\n%s", login.Body)
	}
	if p := s.browserAs(t, "").signIn(s.tokens["admin"], "/"); p.Status != http.StatusSeeOther {
		t.Errorf("the admin's token: %d", p.Status)
	}

	off, _, _ := oidcSite(t, true, "", TokenSignInOff)
	b := off.browserAs(t, "")
	login := b.get("/login")
	if strings.Contains(login.Body, `id="token"`) || !strings.Contains(login.Body, "Logg inn med Arendal kommune") {
		t.Errorf("token sign-in off: the login page\n%s", login.Body)
	}
	csrf, _ := formValues(t, login.Body)
	if p := b.post("/login", url.Values{"csrf_token": {csrf}, "token": {off.tokens["admin"]}, "next": {"/"}}); p.Status != http.StatusForbidden || b.cookie(sessionCookie) != "" {
		t.Errorf("token sign-in off, an admin's token: %d", p.Status)
	}

	anyMode, _, _ := oidcSite(t, true, "", TokenSignInAny)
	if p := anyMode.browserAs(t, "").signIn(anyMode.tokens["viewer"], "/"); p.Status != http.StatusSeeOther {
		t.Errorf("token sign-in any, a viewer's token: %d", p.Status)
	}
	// No provider: the page is as before, every token signs in.
	plain := newSite(t, false)
	if login := plain.browserAs(t, "").get("/login"); strings.Contains(login.Body, "/login/oidc/") || strings.Contains(login.Body, "Nødtilgang") {
		t.Errorf("without providers the login page shows them:\n%s", login.Body)
	}
}

// TestDisabledUserCannotSignIn: a user an admin disabled loses the
// session at once and is told, at the next sign-in, that the user is
// disabled; no session starts.
func TestDisabledUserCannotSignIn(t *testing.T) {
	t.Parallel()
	s, _, _ := oidcSite(t, false, "", "")
	b := s.browserAs(t, "")
	b.signInAt(kariAtOP, "/mine")
	users := s.usersNow(t)
	if len(users) != 1 {
		t.Fatalf("users: %+v", users)
	}
	admin := auth.Principal{Subject: "admin", Role: auth.RoleAdmin}
	if err := s.userStore.Disable(context.Background(), admin, users[0].ID); err != nil {
		t.Fatal(err)
	}
	signedOut(t, "Kari's session after she was disabled", b.get("/mine"))
	p := b.signInAt(kariAtOP, "/mine")
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Brukeren din i Samspill er sperret") || !strings.Contains(p.Body, accessContact) {
		t.Fatalf("a disabled user's sign-in: %d\n%s", p.Status, p.Body)
	}
	if p := b.get("/mine"); p.Status != http.StatusSeeOther {
		t.Errorf("a disabled user's sign-in started a session: /mine %d", p.Status)
	}
}
