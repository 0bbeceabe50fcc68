package web

import (
	"bytes"
	"html"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
)

// getWith sends one GET to the site without a cookie jar, after set has
// dressed the request (headers, cookies), and does not follow redirects.
func (s *site) getWith(t *testing.T, path string, set func(*http.Request)) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	set(req)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return read(t, resp)
}

// withCookie sends only the named cookie.
func withCookie(name, value string) func(*http.Request) {
	return func(r *http.Request) { r.AddCookie(&http.Cookie{Name: name, Value: value}) }
}

// withBearer sends only an Authorization: Bearer header.
func withBearer(credential string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+credential) }
}

// signedOut checks that a page answer sends the browser to sign in.
func signedOut(t *testing.T, what string, p page) {
	t.Helper()
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Location, "/login?next=") {
		t.Fatalf("%s: %d → %q, want the sign-in page", what, p.Status, p.Location)
	}
}

// TestSignInKeepsASessionNotTheToken: the sign-in cookie is a session id
// of its own, stored only as its hash; it is no API credential, the token
// cookie of earlier versions opens nothing, each sign-in rotates both
// cookies, and signing out ends the session on the server.
func TestSignInKeepsASessionNotTheToken(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	token := s.tokens["arendal"]
	b := s.browserAs(t, "")
	_ = b.get("/login")
	csrfBefore := b.cookie(csrfCookie)
	staleForm, _ := formValues(t, b.get("/logout").Body)
	res := b.signIn(token, "/m/4203")
	if res.Status != http.StatusSeeOther || res.Location != "/m/4203" {
		t.Fatalf("sign in: %d → %q", res.Status, res.Location)
	}
	id := b.cookie(sessionCookie)
	if !auth.WellFormedSessionID(id) || strings.Contains(id, strings.TrimPrefix(token, "ssp_")) {
		t.Fatalf("the sign-in cookie %q is no session id of its own (token %q)", id, token)
	}
	var setCookies []string
	for _, c := range res.Header.Values("Set-Cookie") {
		setCookies = append(setCookies, c)
		if strings.Contains(c, token) || strings.Contains(c, strings.TrimPrefix(token, "ssp_")) {
			t.Fatalf("a cookie holds the token: %s", c)
		}
		if !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Strict") || !strings.Contains(c, "Path=/") {
			t.Errorf("cookie %q: want HttpOnly, SameSite=Strict, Path=/", c)
		}
	}
	joined := strings.Join(setCookies, "\n")
	if want := sessionCookie + "=" + id + "; Path=/; Max-Age=43200"; !strings.Contains(joined, want) {
		t.Errorf("Set-Cookie:\n%s\nwant %q", joined, want)
	}
	if !strings.Contains(joined, legacyTokenCookie+"=; Path=/; Max-Age=0") {
		t.Errorf("sign-in does not delete the old token cookie:\n%s", joined)
	}
	if after := b.cookie(csrfCookie); after == "" || after == csrfBefore {
		t.Errorf("the CSRF cookie was not renewed at sign-in: %q, then %q", csrfBefore, after)
	}
	if p := b.post("/logout", url.Values{"csrf_token": {staleForm}}); p.Status != http.StatusForbidden {
		t.Errorf("a form drawn before sign-in, posted after it: %d, want 403", p.Status)
	}
	if p := b.get("/m/4203"); p.Status != http.StatusOK {
		t.Fatalf("signed in: %d", p.Status)
	}

	// The token store holds the session's hash, never the id or the token.
	files, _ := filepath.Glob(s.tokensPath + "*")
	hash := auth.HashSessionID(id)
	var hashed bool
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(id)) || bytes.Contains(data, []byte(token)) {
			t.Fatalf("%s holds the session id or the token", f)
		}
		hashed = hashed || bytes.Contains(data, hash[:])
	}
	if !hashed {
		t.Fatalf("none of %v holds the session's hash", files)
	}

	// The session id is no bearer credential, on the API or the pages; the
	// session cookie opens no API route, the old token cookie no page.
	if p := s.getWith(t, "/api/v1/partnerships", withBearer(id)); p.Status != http.StatusUnauthorized {
		t.Errorf("the session id as a bearer token on the API: %d, want 401", p.Status)
	}
	if p := s.getWith(t, "/api/v1/partnerships", withBearer("ssp_"+id)); p.Status != http.StatusUnauthorized {
		t.Errorf("the session id dressed as a token on the API: %d, want 401", p.Status)
	}
	if p := s.getWith(t, "/api/v1/partnerships", withCookie(sessionCookie, id)); p.Status != http.StatusUnauthorized {
		t.Errorf("the session cookie on the API: %d, want 401", p.Status)
	}
	signedOut(t, "the session id as a bearer token on a page", s.getWith(t, "/m/4203", withBearer(id)))
	signedOut(t, "the token in the old token cookie", s.getWith(t, "/m/4203", withCookie(legacyTokenCookie, token)))
	signedOut(t, "the token in the session cookie", s.getWith(t, "/m/4203", withCookie(sessionCookie, token)))
	if p := s.getWith(t, "/m/4203", withCookie(sessionCookie, id)); p.Status != http.StatusOK {
		t.Fatalf("the session cookie alone: %d", p.Status)
	}

	// Signing in again in this browser makes a new session and ends the
	// old one; another browser's session lives on.
	other := s.browserAs(t, "arendal")
	if res := b.signIn(token, "/"); res.Status != http.StatusSeeOther {
		t.Fatalf("second sign-in: %d", res.Status)
	}
	second := b.cookie(sessionCookie)
	if second == id || second == other.cookie(sessionCookie) || !auth.WellFormedSessionID(second) {
		t.Fatalf("sessions %q, %q and another browser's %q: want three different ids", id, second, other.cookie(sessionCookie))
	}
	signedOut(t, "the session before signing in again", s.getWith(t, "/m/4203", withCookie(sessionCookie, id)))
	if p := b.get("/m/4203"); p.Status != http.StatusOK {
		t.Fatalf("the new session: %d", p.Status)
	}
	if p := other.get("/m/4203"); p.Status != http.StatusOK {
		t.Fatalf("another browser of the same token: %d", p.Status)
	}

	// Signing out ends the session on the server, not just in the jar.
	csrf, _ := formValues(t, b.get("/logout").Body)
	if p := b.post("/logout", url.Values{"csrf_token": {csrf}}); p.Status != http.StatusSeeOther || p.Location != "/login" {
		t.Fatalf("sign out: %d → %q", p.Status, p.Location)
	}
	if b.cookie(sessionCookie) != "" {
		t.Errorf("the session cookie outlived the sign-out")
	}
	signedOut(t, "the session cookie kept from before the sign-out", s.getWith(t, "/m/4203", withCookie(sessionCookie, second)))
	if p := other.get("/m/4203"); p.Status != http.StatusOK {
		t.Fatalf("another browser after this one signed out: %d", p.Status)
	}
}

// TestSessionsExpire: a session ends after auth.SessionIdleTimeout without
// use and auth.SessionLifetime after sign-in however busy, on the site's
// clock.
func TestSessionsExpire(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	used := s.browserAs(t, "viewer")
	unused := s.browserAs(t, "viewer")
	for range 2 {
		s.advance(auth.SessionIdleTimeout - time.Minute)
		if p := used.get("/"); p.Status != http.StatusOK {
			t.Fatalf("used within the idle limit: %d", p.Status)
		}
	}
	signedOut(t, "unused for twice the idle limit", unused.get("/"))
	s.advance(auth.SessionIdleTimeout)
	signedOut(t, "unused for the idle limit since its last use", used.get("/"))

	busy := s.browserAs(t, "viewer")
	var since time.Duration
	for since+time.Hour < auth.SessionLifetime {
		s.advance(time.Hour)
		since += time.Hour
		if p := busy.get("/"); p.Status != http.StatusOK {
			t.Fatalf("%v after sign-in, used hourly: %d", since, p.Status)
		}
	}
	s.advance(auth.SessionLifetime - since - time.Minute)
	if p := busy.get("/"); p.Status != http.StatusOK {
		t.Fatalf("a minute before the absolute limit: %d", p.Status)
	}
	s.advance(time.Minute)
	signedOut(t, "at the absolute limit, used a minute before", busy.get("/"))
}

var nextField = regexp.MustCompile(`name="next" value="([^"]*)"`)

// TestSignInStaysOnThisSite: the sign-in form's next, from the query of
// GET /login (its hidden field) or posted, is followed only when it is a
// plain path on this site; every known way to make a browser read it as
// another site gets "/". Good paths survive unchanged.
func TestSignInStaysOnThisSite(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browserAs(t, "")
	// check draws the form with next and posts it: the hidden field must
	// be field and the redirect location.
	check := func(next, field, location string) {
		t.Helper()
		form := b.get("/login?next=" + url.QueryEscape(next))
		m := nextField.FindStringSubmatch(form.Body)
		if m == nil || html.UnescapeString(m[1]) != field {
			t.Errorf("GET /login?next=%q: hidden next %q, want %q", next, m, field)
		}
		csrf, _ := formValues(t, form.Body)
		res := b.post("/login", url.Values{"csrf_token": {csrf}, "token": {s.tokens["viewer"]}, "next": {next}})
		if res.Status != http.StatusSeeOther || res.Location != location {
			t.Errorf("POST /login next=%q: %d → %q, want %q", next, res.Status, res.Location, location)
		}
	}
	for _, next := range []string{
		"", "//evil.example/", "///evil.example/", "////evil.example/",
		`/\evil.example/`, `\/evil.example/`, `\\evil.example/`, `/\/evil.example/`,
		"/\t/evil.example/", "/\n/evil.example/", "/\r\n/evil.example/", "\t//evil.example/",
		"/%09/evil.example/", "/%0a/evil.example/", "/%0d%0a/evil.example/", "/%00/evil.example/",
		"/%2f%2fevil.example/", "/%2F/evil.example/", "/%5cevil.example/", "/%5c%5cevil.example/",
		" /evil.example/", " //evil.example/", "\x00/evil", "/\x00/evil", "/\x7f/evil", "/\u0085/evil", "/\xff/evil",
		"https://evil.example/", "http:evil.example", "http:/evil.example", "HTTPS://evil.example", "//evil.example@x/",
		"javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,x", "evil.example", "m/4203",
		"/.//evil.example/", "/./evil", "/../evil", "/m/../../evil", "/m//evil",
		s.srv.URL + "/m/4203", strings.Replace(s.srv.URL, "http:", "", 1) + "/m/4203",
	} {
		check(next, "/", "/")
	}
	for _, next := range []string{
		"/", "/p/new", "/m/4203", "/m/4203#x", "/p/" + newIDLike() + "?as_of=2024-01-01",
		"/m/4203?status=active&from=2020-01-01", "/m/4203?next=%2F%2Fevil.example", "/m/4203/",
		"/\u3002evil.example", // a path on this site: 。 means "." only in host names
	} {
		location := next
		if next == "/\u3002evil.example" {
			location = "/%e3%80%82evil.example" // a Location carries non-ASCII escaped
		}
		check(next, next, location)
	}

	// The way in: a signed-out page sends the browser to /login?next=…,
	// and signing in from there returns to the page.
	anon := s.browserAs(t, "")
	to := anon.get("/m/4203?status=active&from=2020-01-01")
	loc, err := url.Parse(to.Location)
	if err != nil || to.Status != http.StatusSeeOther || loc.Path != "/login" {
		t.Fatalf("signed out: %d → %q", to.Status, to.Location)
	}
	form := anon.get(to.Location)
	csrf, _ := formValues(t, form.Body)
	m := nextField.FindStringSubmatch(form.Body)
	if m == nil {
		t.Fatal("no next on the sign-in form")
	}
	res := anon.post("/login", url.Values{"csrf_token": {csrf}, "token": {s.tokens["viewer"]}, "next": {html.UnescapeString(m[1])}})
	if res.Location != "/m/4203?status=active&from=2020-01-01" {
		t.Fatalf("signed in from a redirect: → %q", res.Location)
	}
}

// newIDLike is a partnership id's shape; the page need not exist for
// sign-in to return to it.
func newIDLike() string { return "01JD5Z8Q4C7V3N2M1K0H9G8F7E" }

// TestRedirectsStayOnThisSite: no redirect the server makes from a
// request's path, query or headers (the signed-out redirect, a former
// municipality code, the router's trailing-slash and path fixes) leaves
// the site.
func TestRedirectsStayOnThisSite(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browser(t)
	anon := s.browserAs(t, "")
	for _, path := range []string{
		"/m/0906?next=//evil.example/", "/m/0906?%2F%2Fevil.example", "/m/1702/", "/m/4203/",
		"//evil.example/", "//evil.example/%2e%2e", "/%2F%2Fevil.example/", "/%5Cevil.example/",
		"/p/x/", "/p//evil.example/", "/login/", "/logout/", "/M/4203", "/P/NEW",
		"/m/4203?x=%0d%0aLocation:%20//evil.example/",
	} {
		for i, who := range []*browser{b, anon, b, anon} {
			req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if i >= 2 {
				// Gin's trailing-slash redirect puts this header, cleaned,
				// in front of the path.
				req.Header.Set("X-Forwarded-Prefix", "//evil.example")
			}
			resp, err := who.client.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			p := read(t, resp)
			if p.Location == "" {
				continue
			}
			if localPath(p.Location) != p.Location {
				t.Errorf("GET %s: %d → %q, which leaves the site", path, p.Status, p.Location)
			}
			if len(p.Header.Values("Location")) != 1 {
				t.Errorf("GET %s: Location %q", path, p.Header.Values("Location"))
			}
		}
	}
}
