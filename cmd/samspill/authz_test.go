package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
)

// The principals of the authorization matrix.
const (
	noToken    = "no token"
	badToken   = "bad token"
	admin      = "admin"
	inScope    = "coordinator in scope"
	outOfScope = "coordinator out of scope"
	researcher = "researcher"
	viewer     = "viewer"
)

var principals = []string{noToken, badToken, admin, inScope, outOfScope, researcher, viewer}

// outcome is what the matrix expects: a status, or pass (anything but 401
// and 403: the request got past authorization).
type outcome int

const pass outcome = 0

func row(none, bad, adm, in, out, res, view outcome) map[string]outcome {
	return map[string]outcome{noToken: none, badToken: bad, admin: adm, inScope: in, outOfScope: out, researcher: res, viewer: view}
}

var (
	public      = row(pass, pass, pass, pass, pass, pass, pass)
	apiRead     = row(401, 401, pass, pass, pass, pass, pass)
	apiWrite    = row(401, 401, pass, pass, 403, 403, 403)
	apiExport   = row(401, 401, pass, 403, 403, pass, 403)
	apiAdmin    = row(401, 401, pass, 403, 403, 403, 403)
	pageRead    = row(303, 303, pass, pass, pass, pass, pass) // signed out: to /login
	pageWrite   = row(401, 401, pass, pass, 403, 403, 403)
	pageCorrect = row(303, 303, pass, pass, 403, 403, 403)    // a form that only writers see: signed out to /login
	pageSignIn  = row(401, 401, pass, pass, pass, pass, pass) // POST /login with the principal's token
	pageAdmin   = row(303, 303, pass, 403, 403, 403, 403)     // the admin pages: signed out to /login, others 403
	pageAdminDo = row(401, 401, pass, 403, 403, 403, 403)
	pageExport  = row(303, 303, pass, 403, 403, pass, 403) // the research page and its files: signed out to /login, others 403
	authzMatrix = map[string]map[string]outcome{
		"GET /healthz":              public,
		"GET /readyz":               public,
		"GET /metrics":              public,
		"GET /api/v1/openapi.json":  public,
		"GET /assets/*file":         public,
		"GET /login":                public,
		"POST /login":               pageSignIn,
		"GET /logout":               public,
		"POST /logout":              public,
		"GET /login/oidc/:provider": public, // sign-in through an identity provider (none configured here: 404)
		"GET /login/oidc/callback":  public,
		"GET /s/:token":             public, // a survey's answer page: the link is the credential
		"POST /s/:token":            public,
		// Feedback reports: any signed-in reader gets past sign-in; who
		// may read which report is the page's own 404 (web/report_test.go).
		"GET /surveys/projects/:project/report/:code":                 pageRead,
		"GET /surveys/waves/:wave/report/:code":                       pageRead,
		"POST /lang":                                                  public, // the language switch, CSRF-protected like every form
		"GET /":                                                       pageRead,
		"GET /m":                                                      pageRead,
		"GET /m/:code":                                                pageRead,
		"GET /m/:code/list":                                           pageRead,
		"GET /m/:code/list.csv":                                       pageRead,
		"GET /m/:code/list.xlsx":                                      pageRead,
		"GET /mine":                                                   pageRead, // every reader; without municipalities of one's own it says so
		"GET /mine.csv":                                               pageRead, // 404 without municipalities of one's own
		"GET /mine.xlsx":                                              pageRead,
		"GET /p/new":                                                  pageRead,
		"GET /p/:id":                                                  pageRead,
		"GET /p/:id/correct":                                          pageCorrect,
		"GET /p/:id/audit":                                            pageRead,
		"GET /admin":                                                  pageAdmin,
		"GET /admin/users":                                            pageAdmin,
		"GET /admin/users/:id":                                        pageAdmin,
		"POST /admin/users/:id/:action":                               pageAdminDo,
		"GET /admin/tokens":                                           pageAdmin,
		"POST /admin/tokens":                                          pageAdminDo,
		"POST /admin/tokens/:name/revoke":                             pageAdminDo,
		"GET /admin/sessions":                                         pageAdmin,
		"POST /admin/sessions/:handle/end":                            pageAdminDo,
		"GET /admin/audit":                                            pageAdmin,
		"GET /admin/projects":                                         pageAdmin,
		"POST /admin/projects":                                        pageAdminDo,
		"GET /admin/projects/:id":                                     pageAdmin,
		"POST /admin/projects/:id/:action":                            pageAdminDo,
		"POST /p/new":                                                 pageWrite,
		"POST /p/:id/:action":                                         pageWrite,
		"GET /api/v1/events":                                          apiRead,
		"GET /api/v1/events/stream":                                   apiRead,
		"GET /api/v1/partnerships":                                    apiRead,
		"GET /api/v1/partnerships/:id":                                apiRead,
		"GET /api/v1/partnerships/:id/history":                        apiRead,
		"GET /api/v1/partnerships/:id/audit":                          apiRead,
		"GET /api/v1/municipalities":                                  apiRead,
		"GET /api/v1/municipalities/:code/timeline":                   apiRead,
		"GET /api/v1/stats":                                           apiRead,
		"GET /api/v1/research/events.ndjson":                          apiExport,
		"GET /api/v1/research/spells.csv":                             apiExport,
		"GET /api/v1/research/projects":                               apiExport,
		"GET /api/v1/research/manifest.json":                          apiExport,
		"GET /api/v1/research/datapackage.json":                       apiExport,
		"GET /api/v1/research/:file":                                  apiExport,
		"GET /research":                                               pageExport,
		"GET /research/codebook":                                      pageRead, // documentation of the files, no data
		"GET /research/survival":                                      pageExport,
		"GET /research/files/:file":                                   pageExport,
		"GET /api/v1/admin/projections":                               apiAdmin,
		"POST /api/v1/admin/projections/:name/rebuild":                apiAdmin,
		"POST /api/v1/admin/contacts/:contact_id/erase":               apiAdmin,
		"GET /api/v1/admin/users":                                     apiAdmin,
		"GET /api/v1/admin/users/:id":                                 apiAdmin,
		"POST /api/v1/admin/users/:id/grant":                          apiAdmin,
		"POST /api/v1/admin/users/:id/mappings":                       apiAdmin,
		"POST /api/v1/admin/users/:id/disable":                        apiAdmin,
		"POST /api/v1/admin/users/:id/enable":                         apiAdmin,
		"DELETE /api/v1/admin/users/:id":                              apiAdmin,
		"GET /api/v1/admin/tokens":                                    apiAdmin,
		"POST /api/v1/admin/tokens":                                   apiAdmin,
		"DELETE /api/v1/admin/tokens/:name":                           apiAdmin,
		"GET /api/v1/admin/sessions":                                  apiAdmin,
		"DELETE /api/v1/admin/sessions/:handle":                       apiAdmin,
		"GET /api/v1/admin/audit":                                     apiAdmin,
		"GET /api/v1/admin/research-projects":                         apiAdmin,
		"POST /api/v1/admin/research-projects":                        apiAdmin,
		"GET /api/v1/admin/research-projects/:id":                     apiAdmin,
		"POST /api/v1/admin/research-projects/:id/members":            apiAdmin,
		"DELETE /api/v1/admin/research-projects/:id/members/:subject": apiAdmin,
		"POST /api/v1/admin/research-projects/:id/rotate-key":         apiAdmin,
		"POST /api/v1/admin/research-projects/:id/export-key":         apiAdmin,
		"POST /api/v1/partnerships":                                   apiWrite,
		"POST /api/v1/partnerships/:id/partners":                      apiWrite,
		"POST /api/v1/partnerships/:id/partners/:partner_id/leave":    apiWrite,
		"POST /api/v1/partnerships/:id/roles":                         apiWrite,
		"POST /api/v1/partnerships/:id/goals":                         apiWrite,
		"POST /api/v1/partnerships/:id/agreements":                    apiWrite,
		"POST /api/v1/partnerships/:id/funding":                       apiWrite,
		"POST /api/v1/partnerships/:id/anchoring":                     apiWrite,
		"POST /api/v1/partnerships/:id/milestones":                    apiWrite,
		"POST /api/v1/partnerships/:id/contacts":                      apiWrite,
		"POST /api/v1/partnerships/:id/pause":                         apiWrite,
		"POST /api/v1/partnerships/:id/resume":                        apiWrite,
		"POST /api/v1/partnerships/:id/end":                           apiWrite,
		"POST /api/v1/partnerships/:id/corrections":                   apiWrite,
		"POST /api/v1/partnerships/:id/collaboration-model":           apiWrite,

		// A timeline's downloads are read as its page is.
		"GET /m/:code/timeline.svg": pageRead,
		"GET /m/:code/timeline.png": pageRead,

		// The surveys (http/surveys.go, web/surveys.go): a wave's counts are
		// also for coordinators (of its municipalities; elsewhere the 404 of
		// an unknown wave), the forms for admins and researchers only.
		"POST /api/v1/surveys/questionnaires":                      apiExport,
		"POST /api/v1/surveys/questionnaires/validate":             apiExport,
		"GET /api/v1/surveys/questionnaires":                       apiExport,
		"GET /api/v1/surveys/questionnaires/:id":                   apiExport,
		"GET /api/v1/surveys/questionnaires/:id/versions/:version": apiExport,
		"POST /api/v1/research/projects/:project/waves":            apiExport, // others' projects: the 404 of an unknown one
		"GET /api/v1/research/projects/:project/waves":             apiExport,
		"GET /api/v1/surveys/waves/:wave":                          apiExport,
		"POST /api/v1/surveys/waves/:wave/close":                   apiExport,
		"POST /api/v1/surveys/waves/:wave/links":                   apiExport,
		"GET /api/v1/surveys/waves/:wave/progress":                 row(401, 401, pass, pass, pass, pass, 403),
		"GET /surveys":                              row(303, 303, pass, pass, pass, pass, 403),
		"GET /surveys/questionnaires":               pageExport,
		"POST /surveys/questionnaires":              row(401, 401, pass, 403, 403, pass, 403),
		"GET /surveys/questionnaires/:id/:version":  pageExport,
		"GET /surveys/projects/:project/waves/new":  pageExport,
		"POST /surveys/projects/:project/waves/new": row(401, 401, pass, 403, 403, pass, 403),
		"GET /surveys/waves/:wave":                  row(303, 303, pass, pass, pass, pass, 403),
		"POST /surveys/waves/:wave/links":           row(401, 401, pass, 403, 403, pass, 403),
		"POST /surveys/waves/:wave/close":           row(401, 401, pass, 403, 403, pass, 403),
	}
)

// testSite wires the whole server (API and pages, as serve does) over
// stores in a temporary data folder, and makes a token per principal.
type testSite struct {
	srv    *httptest.Server
	engine *gin.Engine
	tokens map[string]string
	store  *sqlite.Store
	runner *projections.Runner
	keys   personal.KeyStore
	dir    string
	// users is the store as a UserStore; userGrants the grant each
	// principal's personal user signs in with (viaUser).
	users      auth.UserStore
	userGrants map[string]auth.Grant
}

func newTestSite(t *testing.T) *testSite {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	b := backend{data: dir, store: storeSQLite, readModel: readModelSQLite}
	opened, err := b.openEvents(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	store := opened.(*sqlite.Store)
	t.Cleanup(func() { _ = store.Close() })
	keys, err := b.openKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	tokens, err := b.openTokens(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tokens.Close() })
	db, err := b.openReadModels(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	runner := projections.New(db, store, readModels(), projections.WithLogger(log))
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = runner.Close(); _ = db.Close() })
	secret, err := b.secret(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := site{store: store, runner: runner, tokens: tokens, users: tokens, projects: tokens, links: tokens, keys: keys, secret: secret, log: log, registry: prometheus.NewRegistry()}.handler()
	if err != nil {
		t.Fatal(err)
	}
	s := &testSite{engine: handler.(*gin.Engine), tokens: map[string]string{badToken: "ssp_" + strings.Repeat("A", 43)}, store: store, runner: runner, keys: keys, dir: dir,
		users: tokens, userGrants: map[string]auth.Grant{
			admin:      {Role: auth.RoleAdmin},
			inScope:    {Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"0906"}},
			outOfScope: {Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"5006"}},
			researcher: {Role: auth.RoleResearcher},
			viewer:     {Role: auth.RoleViewer},
		}}
	for name, spec := range map[string]auth.Spec{
		admin:      {Name: "admin", Role: auth.RoleAdmin},
		inScope:    {Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"0906"}}, // an old code means today's 4203
		outOfScope: {Name: "steinkjer", Role: auth.RoleCoordinator, Municipalities: []string{"5006"}},
		researcher: {Name: "researcher", Role: auth.RoleResearcher},
		viewer:     {Name: "viewer", Role: auth.RoleViewer},
	} {
		if s.tokens[name], err = tokens.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	s.srv = httptest.NewServer(handler)
	t.Cleanup(s.srv.Close)
	return s
}

// The credentials a request can carry: the API's bearer header, or the
// cookie of a sign-in session (the pages' way), made by signing in with
// the principal's token or by a personal user with the principal's grant
// signing in through the store (auth.UserStore.SignIn, as the OpenID
// Connect sign-in does).
const (
	viaBearer  = "bearer"
	viaSession = "session"
	viaUser    = "user"
)

// caller sends requests as one principal: with its bearer token, or with a
// session signed in through POST /login in its cookie jar.
type caller struct {
	client *http.Client
	bearer string
}

// as returns a caller for the principal. With viaSession it signs in with
// the principal's token through the sign-in form; badToken gets a session
// id that was never issued, noToken no cookie at all.
func (s *testSite) as(t *testing.T, who, via string) caller {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := caller{client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	switch {
	case via == viaBearer:
		c.bearer = s.tokens[who]
	case via == viaUser && who != noToken && who != badToken:
		id := auth.Identity{Provider: "test", Subject: who, Name: who, Email: strings.ReplaceAll(who, " ", ".") + "@example.no"}
		sid, _, err := s.users.SignIn(t.Context(), id, s.userGrants[who], time.Now())
		if err != nil {
			t.Fatalf("sign in the user %s: %v", who, err)
		}
		u, _ := url.Parse(s.srv.URL)
		jar.SetCookies(u, []*http.Cookie{{Name: "samspill_session", Value: sid, Path: "/"}})
	case who == badToken:
		u, _ := url.Parse(s.srv.URL)
		forged, _ := auth.NewSessionID()
		jar.SetCookies(u, []*http.Cookie{{Name: "samspill_session", Value: forged, Path: "/"}})
	case who != noToken:
		csrf := c.csrf(t, s)
		form := url.Values{"csrf_token": {csrf}, "token": {s.tokens[who]}, "next": {"/"}}
		res, err := c.client.PostForm(s.srv.URL+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign in as %s: %d", who, res.StatusCode)
		}
	}
	return c
}

// csrf returns the CSRF token of the caller's forms (from GET /logout).
func (c caller) csrf(t *testing.T, s *testSite) string {
	t.Helper()
	res, err := c.client.Get(s.srv.URL + "/logout")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on /logout")
	}
	return string(m[1])
}

// answer is what a request got.
type answer struct {
	status         int
	body, location string
}

// toSignIn reports whether the answer sends a browser to sign in: the
// pages' way of refusing a GET without valid credentials.
func (a answer) toSignIn() bool {
	return a.status == http.StatusSeeOther && strings.HasPrefix(a.location, "/login?")
}

// do sends a request with the caller's credentials.
func (c caller) do(t *testing.T, method, url, contentType, body string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	res, err := c.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer res.Body.Close()
	a := answer{status: res.StatusCode, location: res.Header.Get("Location")}
	if strings.HasSuffix(req.URL.Path, "/events/stream") {
		return a // a live stream: the status is enough
	}
	b, _ := io.ReadAll(res.Body)
	a.body = string(b)
	return a
}

// call sends a request as the principal with its bearer token and returns
// status and body.
func (s *testSite) call(t *testing.T, who, method, path, contentType, body string) (int, string) {
	t.Helper()
	a := s.as(t, who, viaBearer).do(t, method, s.srv.URL+path, contentType, body)
	return a.status, a.body
}

// initiate makes an Arendal partnership through the API as the admin and
// returns its id, a partner id, an event id and a contact id.
func (s *testSite) initiate(t *testing.T) (id, partner, event, contact string) {
	t.Helper()
	status, body := s.call(t, admin, http.MethodPost, "/api/v1/partnerships", "application/json", initiateBody)
	var st struct {
		ID       string
		Partners []struct {
			PartnerID string `json:"partner_id"`
		}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || status != http.StatusCreated {
		t.Fatalf("initiate: %d %s", status, body)
	}
	id, partner = st.ID, st.Partners[0].PartnerID
	if status, body := s.call(t, admin, http.MethodPost, "/api/v1/partnerships/"+id+"/contacts", "application/json",
		`{"partner_id":"`+partner+`","name":"Kari Nordmann","email":"kari@example.no","phone":""}`); status != http.StatusOK {
		t.Fatalf("contact: %d %s", status, body)
	}
	for _, e := range s.historyOf(t, id) {
		var c struct {
			ContactID string `json:"contact_id"`
		}
		_ = json.Unmarshal(e.Data, &c)
		if c.ContactID != "" {
			contact = c.ContactID
		}
		event = e.EventID
	}
	return id, partner, event, contact
}

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// TestAuthorizationMatrix sends every route of the real server's route
// table as each principal and checks the matrix: a route without a row
// fails, so no endpoint can be added without deciding who may use it.
// Every route is sent three times, with the principal's bearer token,
// with a sign-in session of it, and with the session of a personal user
// granted the principal's role: the pages take any, the API only the token
// (a session gets 401 wherever a token is needed).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	s := newTestSite(t)
	id, partner, event, contact := s.initiate(t)
	params := strings.NewReplacer(":id", id, ":partner_id", partner, ":code", "4203", ":name", summaries.Name,
		":contact_id", contact, ":action", "milestone", "*file", "style.css")
	today := calendar.Day(time.Now()) // the API reads days in Europe/Oslo
	bodies := map[string]string{
		"/api/v1/partnerships":    initiateBody,
		"/partners":               `{"partner":{"name":"Idrettslaget","kind":"voluntary_organisation"}}`,
		"/leave":                  `{"reason":"flytter"}`,
		"/roles":                  `{"roles":[{"partner_id":"` + partner + `","role":"lead","responsibilities":[]}]}`,
		"/goals":                  `{"goals":["Et nytt mål"],"reason":"revisjon"}`,
		"/agreements":             `{"agreement_type":"letter_of_intent","valid_from":"2024-03-01","reference":"sak 1"}`,
		"/funding":                `{"amount_nok":1000,"source":"tilskudd","period_from":"2024-03-01","period_until":"2024-12-31"}`,
		"/anchoring":              `{"level":"political","note":""}`,
		"/collaboration-model":    `{"collaboration_model":"grant","reason":"Tilskudd"}`,
		"/milestones":             `{"kind":"meeting","title":"Møte","note":""}`,
		"/contacts":               `{"partner_id":"` + partner + `","name":"Ola","email":"","phone":"+47 400 00 000"}`,
		"/pause":                  `{"reason":"pause"}`,
		"/resume":                 `{"reason":"videre"}`,
		"/end":                    `{"reason":"completed","outcome":"ferdig"}`,
		"/corrections":            `{"corrected_event_id":"` + event + `","reason":"feil"}`,
		"/p/new":                  "municipality=4203&title=Ny&service_area=culture&collaboration_model=network&partner_name_0=Kor&partner_kind_0=voluntary_organisation&goals=M%C3%A5l&occurred_at=" + today,
		"/p/" + id + "/milestone": "kind=meeting&title=M%C3%B8te&occurred_at=" + today,
		"/lang":                   "lang=nn&back=%2F",
		"/api/v1/admin/projections/" + summaries.Name + "/rebuild": "",
	}
	routes := s.engine.Routes()
	seen := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		seen[key] = true
		want, ok := authzMatrix[key]
		if !ok {
			t.Errorf("route %s has no row in the authorization matrix", key)
			continue
		}
		path := params.Replace(r.Path)
		if r.Path == "/assets/*file" {
			path = "/assets/style.css"
		}
		for _, who := range principals {
			contentType, body := "", ""
			if r.Method == http.MethodPost {
				contentType = "application/json"
				for suffix, b := range bodies {
					if strings.HasSuffix(path, suffix) {
						body = b
					}
				}
			}
			api := strings.HasPrefix(path, "/api/")
			for _, via := range []string{viaBearer, viaSession, viaUser} {
				c := s.as(t, who, via)
				var got answer
				if r.Method == http.MethodPost && !api {
					got = s.postForm(t, c, who, path, body)
				} else {
					got = c.do(t, r.Method, s.srv.URL+path, contentType, body)
				}
				w := want[who]
				if via != viaBearer && api && want[noToken] != pass {
					w = http.StatusUnauthorized
				}
				switch {
				case w == pass && (got.status == 401 || got.status == 403 || got.toSignIn()):
					t.Errorf("%s as %s by %s: %d %s, want it let through", key, who, via, got.status, got.location)
				case w != pass && got.status != int(w):
					t.Errorf("%s as %s by %s: %d, want %d", key, who, via, got.status, w)
				case w == http.StatusSeeOther && !got.toSignIn():
					t.Errorf("%s as %s by %s: to %q, want to the sign-in page", key, who, via, got.location)
				}
			}
		}
	}
	for key := range authzMatrix {
		if !seen[key] {
			t.Errorf("the matrix has a row for %s, which is no route", key)
		}
	}
}

// postForm posts a page form as a browser would, as the caller: with the
// CSRF cookie and token of a page and the caller's credentials (for POST
// /login, the principal's token in the form's token field).
func (s *testSite) postForm(t *testing.T, c caller, who, path, form string) answer {
	t.Helper()
	values, _ := url.ParseQuery(form)
	values.Set("csrf_token", c.csrf(t, s))
	values.Set("version", "1")
	if path == "/login" {
		values.Set("token", s.tokens[who])
	}
	return c.do(t, http.MethodPost, s.srv.URL+path, "application/x-www-form-urlencoded", values.Encode())
}
