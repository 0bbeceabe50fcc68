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
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/projections"
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
	pageSignIn  = row(401, 401, pass, pass, pass, pass, pass) // POST /login with the principal's token
	authzMatrix = map[string]map[string]outcome{
		"GET /healthz":                         public,
		"GET /readyz":                          public,
		"GET /metrics":                         public,
		"GET /api/v1/openapi.json":             public,
		"GET /assets/*file":                    public,
		"GET /login":                           public,
		"POST /login":                          pageSignIn,
		"GET /logout":                          public,
		"POST /logout":                         public,
		"GET /":                                pageRead,
		"GET /m/:code":                         pageRead,
		"GET /p/new":                           pageRead,
		"GET /p/:id":                           pageRead,
		"POST /p/new":                          pageWrite,
		"POST /p/:id/:action":                  pageWrite,
		"GET /api/v1/events":                   apiRead,
		"GET /api/v1/events/stream":            apiRead,
		"GET /api/v1/partnerships":             apiRead,
		"GET /api/v1/partnerships/:id":         apiRead,
		"GET /api/v1/partnerships/:id/history": apiRead,
		"GET /api/v1/municipalities":           apiRead,
		"GET /api/v1/municipalities/:code/timeline":                apiRead,
		"GET /api/v1/stats":                                        apiRead,
		"GET /api/v1/research/events.ndjson":                       apiExport,
		"GET /api/v1/research/spells.csv":                          apiExport,
		"GET /api/v1/admin/projections":                            apiAdmin,
		"POST /api/v1/admin/projections/:name/rebuild":             apiAdmin,
		"POST /api/v1/admin/contacts/:contact_id/erase":            apiAdmin,
		"POST /api/v1/partnerships":                                apiWrite,
		"POST /api/v1/partnerships/:id/partners":                   apiWrite,
		"POST /api/v1/partnerships/:id/partners/:partner_id/leave": apiWrite,
		"POST /api/v1/partnerships/:id/roles":                      apiWrite,
		"POST /api/v1/partnerships/:id/goals":                      apiWrite,
		"POST /api/v1/partnerships/:id/agreements":                 apiWrite,
		"POST /api/v1/partnerships/:id/funding":                    apiWrite,
		"POST /api/v1/partnerships/:id/anchoring":                  apiWrite,
		"POST /api/v1/partnerships/:id/milestones":                 apiWrite,
		"POST /api/v1/partnerships/:id/contacts":                   apiWrite,
		"POST /api/v1/partnerships/:id/pause":                      apiWrite,
		"POST /api/v1/partnerships/:id/resume":                     apiWrite,
		"POST /api/v1/partnerships/:id/end":                        apiWrite,
		"POST /api/v1/partnerships/:id/corrections":                apiWrite,
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
	tokens, err := b.openTokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tokens.Close() })
	db, err := b.openReadModels(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	runner := projections.New(db, store, projections.WithLogger(log))
	if err := runner.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = runner.Close(); _ = db.Close() })
	secret, err := b.secret(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	handler := site{store: store, runner: runner, tokens: tokens, keys: keys, secret: secret, log: log, registry: prometheus.NewRegistry()}.handler()
	s := &testSite{engine: handler.(*gin.Engine), tokens: map[string]string{badToken: "ssp_" + strings.Repeat("A", 43)}, store: store, runner: runner, keys: keys, dir: dir}
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

// call sends a request as the principal and returns status and body.
func (s *testSite) call(t *testing.T, who, method, path, contentType, body string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if tok := s.tokens[who]; tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if strings.HasSuffix(path, "/events/stream") {
		return res.StatusCode, "" // a live stream: the status is enough
	}
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
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
	_, body = s.call(t, admin, http.MethodGet, "/api/v1/partnerships/"+id+"/history", "", "")
	var h struct {
		Items []struct {
			EventID string          `json:"event_id"`
			Type    string          `json:"type"`
			Data    json.RawMessage `json:"data"`
		}
	}
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	for _, e := range h.Items {
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
func TestAuthorizationMatrix(t *testing.T) {
	s := newTestSite(t)
	id, partner, event, contact := s.initiate(t)
	params := strings.NewReplacer(":id", id, ":partner_id", partner, ":code", "4203", ":name", projections.SummariesName,
		":contact_id", contact, ":action", "milestone", "*file", "style.css")
	today := time.Now().Format(time.DateOnly)
	bodies := map[string]string{
		"/api/v1/partnerships":    initiateBody,
		"/partners":               `{"partner":{"name":"Idrettslaget","kind":"voluntary_organisation"}}`,
		"/leave":                  `{"reason":"flytter"}`,
		"/roles":                  `{"roles":[{"partner_id":"` + partner + `","role":"lead","responsibilities":[]}]}`,
		"/goals":                  `{"goals":["Et nytt mål"],"reason":"revisjon"}`,
		"/agreements":             `{"agreement_type":"letter_of_intent","valid_from":"2024-03-01","reference":"sak 1"}`,
		"/funding":                `{"amount_nok":1000,"source":"tilskudd","period_from":"2024-03-01","period_until":"2024-12-31"}`,
		"/anchoring":              `{"level":"political","note":""}`,
		"/milestones":             `{"kind":"meeting","title":"Møte","note":""}`,
		"/contacts":               `{"partner_id":"` + partner + `","name":"Ola","email":"","phone":"+47 400 00 000"}`,
		"/pause":                  `{"reason":"pause"}`,
		"/resume":                 `{"reason":"videre"}`,
		"/end":                    `{"reason":"completed","outcome":"ferdig"}`,
		"/corrections":            `{"corrected_event_id":"` + event + `","reason":"feil"}`,
		"/p/new":                  "municipality=4203&title=Ny&service_area=culture&collaboration_model=network&partner_name_0=Kor&partner_kind_0=voluntary_organisation&goals=M%C3%A5l&occurred_at=" + today,
		"/p/" + id + "/milestone": "kind=meeting&title=M%C3%B8te&occurred_at=" + today,
		"/api/v1/admin/projections/" + projections.SummariesName + "/rebuild": "",
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
			var status int
			if r.Method == http.MethodPost && !strings.HasPrefix(path, "/api/") {
				status = s.postForm(t, who, path, body)
			} else {
				status, _ = s.call(t, who, r.Method, path, contentType, body)
			}
			switch w := want[who]; {
			case w == pass && (status == 401 || status == 403):
				t.Errorf("%s as %s: %d, want it let through", key, who, status)
			case w != pass && status != int(w):
				t.Errorf("%s as %s: %d, want %d", key, who, status, w)
			}
		}
	}
	for key := range authzMatrix {
		if !seen[key] {
			t.Errorf("the matrix has a row for %s, which is no route", key)
		}
	}
}

// postForm posts a page form as a browser would: with the session cookie
// and CSRF token of a page, and the principal's token (the bearer header;
// for POST /login, the form's token field).
func (s *testSite) postForm(t *testing.T, who, path, form string) int {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(s.srv.URL + "/logout")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on /logout")
	}
	values, _ := url.ParseQuery(form)
	values.Set("csrf_token", string(m[1]))
	values.Set("version", "1")
	if path == "/login" {
		values.Set("token", s.tokens[who])
	}
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if tok := s.tokens[who]; tok != "" && path != "/login" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}
