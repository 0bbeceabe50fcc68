package web

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/eventstore/sqlite/sqlitetest"
	httpapi "github.com/samspill/samspill/http"
	"github.com/samspill/samspill/personal"
	personalsqlite "github.com/samspill/samspill/personal/sqlite"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/signin"
	"github.com/samspill/samspill/surveys"
)

// demoNow is the day the demo data set is loaded up to; the test clock
// starts there and runs at real speed, so recorded_at still grows, and a
// test may move it forward (site.advance) to expire sessions.
var demoNow = time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC)

// site is a real server (httpapi.NewHandler with the pages) over a real
// SQLite store and read models in the test's temporary folder.
type site struct {
	srv        *httptest.Server
	tokens     map[string]string // admin, arendal (coordinator of 4203), viewer, researcher
	tokensPath string            // the token store's file (tokens.db)
	skew       atomic.Int64      // how far advance has moved the clock, in nanoseconds
	store      *sqlite.Store
	svc        *app.Service
	proj       *projections.Runner
	pages      *Pages
	userStore  auth.UserStore
	// projectStore is the same store as userStore, as the research
	// projects' store.
	projectStore auth.ProjectStore
	// surveys fields the surveys over store and the token store.
	surveys *surveys.Service
	now     func() time.Time
	example string
}

// newSite starts a server; with demoData it loads the demo data set and
// waits until the projections show it.
func newSite(t testing.TB, demoData bool) *site {
	t.Helper()
	return newSiteIn(t, t.TempDir(), demoData)
}

// newSiteIn is newSite with the event store's file in dir.
func newSiteIn(t testing.TB, dir string, demoData bool) *site {
	t.Helper()
	return newSiteWith(t, dir, demoData, siteOptions{})
}

// siteOptions are what some tests change of the site.
type siteOptions struct {
	// signIn makes the pages' relying party, given the site's address
	// (its callback is there); nil: tokens only.
	signIn func(siteURL string) *signin.Service
	// tokenSignIn and accessContact are the pages' Config fields.
	tokenSignIn, accessContact string
}

// newSiteWith is newSiteIn with options. The token store is also the user
// store, its personal data sealed under keys in the test's folder.
func newSiteWith(t testing.TB, dir string, demoData bool, opts siteOptions) *site {
	t.Helper()
	start := time.Now()
	s := &site{}
	now := func() time.Time { return demoNow.Add(time.Since(start) + time.Duration(s.skew.Load())) }
	s.now = now
	ctx := context.Background()
	if demoData {
		// The demo data set, loaded once per process (sqlitetest.WriteDemo):
		// the same events a demo.Load here would append.
		s.example = sqlitetest.WriteDemo(t, filepath.Join(dir, "events.db"), demoNow).Example
	}
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), sqlite.WithClock(now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	logger := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s.store = store
	s.proj = projectionstest.Start(t, store, logger)
	s.svc = app.New(store, app.WithClock(now), app.WithLogger(logger))
	s.tokensPath = filepath.Join(t.TempDir(), "tokens.db")
	keys, err := personalsqlite.Open(ctx, filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatalf("open keys: %v", err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	projectSealer, err := auth.NewProjectSealer(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := authsqlite.Open(ctx, s.tokensPath, authsqlite.WithSealer(personal.UserSealer{Keys: keys}), authsqlite.WithProjectSealer(projectSealer))
	if err != nil {
		t.Fatalf("open tokens: %v", err)
	}
	t.Cleanup(func() { _ = tokens.Close() })
	s.userStore, s.projectStore = tokens, tokens
	s.surveys = newTestSurveys(store, tokens, now, logger)
	s.tokens = map[string]string{}
	for _, spec := range []auth.Spec{
		{Name: "admin", Role: auth.RoleAdmin},
		{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"4203"}},
		{Name: "viewer", Role: auth.RoleViewer},
		{Name: "researcher", Role: auth.RoleResearcher},
	} {
		if s.tokens[spec.Name], err = tokens.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	engine := edge.NewEngine()
	// The server's address is known before it serves, for the relying
	// party's callback.
	s.srv = httptest.NewUnstartedServer(engine)
	cfg := Config{Service: s.svc, Projections: s.proj, Tokens: tokens, UserStore: tokens, ProjectStore: tokens, Logger: logger, Now: now,
		TokenSignIn: opts.tokenSignIn, AccessContact: opts.accessContact, Surveys: s.surveys}
	if opts.signIn != nil {
		cfg.SignIn = opts.signIn("http://" + s.srv.Listener.Addr().String())
	}
	api, err := httpapi.New(httpapi.Config{Service: s.svc, Store: store, Projections: s.proj, Tokens: tokens, Admin: tokens, Projects: tokens, Logger: logger,
		Version: "test-version", ResearchSecret: []byte("a research secret for the page tests"), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Research = api
	if s.pages, err = New(cfg); err != nil {
		t.Fatal(err)
	}
	api.Use(engine)
	api.Register(engine)
	s.pages.Register(engine)
	s.srv.Start()
	t.Cleanup(s.srv.Close)
	s.caughtUp(t)
	return s
}

// advance moves the site's clock (the service's and the sessions') forward
// by d.
func (s *site) advance(d time.Duration) { s.skew.Add(int64(d)) }

// caughtUp waits until the projections hold every stored event.
func (s *site) caughtUp(t testing.TB) {
	t.Helper()
	head, err := s.store.Head(context.Background())
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.proj.WaitFor(ctx, head); err != nil {
		t.Fatalf("projections: %v", err)
	}
}

type testLog struct{ t testing.TB }

func (w testLog) Write(p []byte) (int, error) {
	w.t.Logf("server log: %s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see the 303 of POST/redirect/GET.
type browser struct {
	t      testing.TB
	site   *site
	client *http.Client
}

// browser is signed in as the admin.
func (s *site) browser(t testing.TB) *browser { return s.browserAs(t, "admin") }

// browserAs signs in through the login form with the named token ("" stays
// signed out).
func (s *site) browserAs(t testing.TB, name string) *browser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &browser{t: t, site: s, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	if name == "" {
		return b
	}
	if res := b.signIn(s.tokens[name], "/"); res.Status != http.StatusSeeOther {
		t.Fatalf("sign in as %s: status %d\n%s", name, res.Status, res.Body)
	}
	return b
}

// signIn posts the sign-in form, as drawn by GET /login, with token and
// next, and returns the answer.
func (b *browser) signIn(token, next string) page {
	b.t.Helper()
	csrf, _ := formValues(b.t, b.get("/login").Body)
	return b.post("/login", url.Values{"csrf_token": {csrf}, "token": {token}, "next": {next}})
}

// setLang chooses the browser's language through the language switch.
func (b *browser) setLang(lang string) {
	b.t.Helper()
	csrf, _ := formValues(b.t, b.get("/login").Body)
	if p := b.post("/lang", url.Values{"csrf_token": {csrf}, "lang": {lang}, "back": {"/"}}); p.Status != http.StatusSeeOther {
		b.t.Fatalf("choose %s: %d", lang, p.Status)
	}
}

// cookie is the value of the browser's cookie of that name, "" if none.
func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.site.srv.URL)
	for _, c := range b.client.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

type page struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

func (b *browser) get(path string) page {
	b.t.Helper()
	resp, err := b.client.Get(b.site.srv.URL + path)
	if err != nil {
		b.t.Fatalf("GET %s: %v", path, err)
	}
	return read(b.t, resp)
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.site.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := b.client.Do(req)
	if err != nil {
		b.t.Fatalf("POST %s: %v", path, err)
	}
	return read(b.t, resp)
}

func read(t testing.TB, resp *http.Response) page {
	t.Helper()
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Location: resp.Header.Get("Location")}
}

var (
	csrfRe    = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
	versionRe = regexp.MustCompile(`name="version" value="(\d+)"`)
)

// formValues returns the CSRF token and version of the first form on a page.
func formValues(t testing.TB, body string) (token, version string) {
	t.Helper()
	m := csrfRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the page")
	}
	token = m[1]
	if v := versionRe.FindStringSubmatch(body); v != nil {
		version = v[1]
	}
	return token, version
}

func osloLoc() *time.Location { return calendar.Oslo }
