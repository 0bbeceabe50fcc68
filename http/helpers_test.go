package http

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/projections/projectionstest"
)

// testNow is where every test server's clock starts: recorded_at of the
// first events, and the "now" against which occurred_at may be at most 24 h
// ahead.
var testNow = time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)

// clock is a settable clock shared by the service (decisions) and the
// store (recorded_at), so tests control both.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock and returns the new time.
func (c *clock) Advance(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	return c.now
}

// testAPI is a real server (NewHandler) over a real SQLite store file.
type testAPI struct {
	t     *testing.T
	srv   *httptest.Server
	store *sqlite.Store
	clock *clock
	// cfg is the server's Config (its projections running over store), for
	// tests that start a variant of the server beside it.
	cfg Config
}

// newTestAPI starts a server over a new store, and projections over their
// own read-model file, in t's temporary folder. The server, the
// projections and the store are closed when t ends.
func newTestAPI(t *testing.T) *testAPI {
	t.Helper()
	return startTestAPI(t, nil, nil)
}

// startTestAPI is newTestAPI with a say in the handler's Config and the
// http.Server (its timeouts) before the server starts.
func startTestAPI(t *testing.T, configure func(*Config), server func(*http.Server)) *testAPI {
	t.Helper()
	return startTestAPIIn(t, t.TempDir(), configure, server)
}

// startTestAPIIn is startTestAPI with the store's file in dir.
func startTestAPIIn(t *testing.T, dir string, configure func(*Config), server func(*http.Server)) *testAPI {
	t.Helper()
	c := &clock{now: testNow}
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "events.db"), sqlite.WithClock(c.Now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := store.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	logger := slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc := app.New(store, app.WithClock(c.Now), app.WithLogger(logger))
	cfg := Config{Service: svc, Store: store, Logger: logger, Projections: projectionstest.Start(t, store, logger), Tokens: testTokens().store,
		ResearchSecret: []byte("a research secret for the tests")}
	if configure != nil {
		configure(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(h)
	if server != nil {
		server(srv.Config)
	}
	srv.Start()
	t.Cleanup(srv.Close) // runs before the store closes: cleanups are LIFO
	return &testAPI{t: t, srv: srv, store: store, clock: c, cfg: cfg}
}

// bind returns the same server for use by subtest t.
func (a *testAPI) bind(t *testing.T) *testAPI {
	c := *a
	c.t = t
	return &c
}

// testLogWriter sends the server's log lines to the test log, so that a
// 500 shows why. httptest.Server.Close waits for the handlers, so nothing
// logs after the test.
type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Logf("server log: %s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// response is a read HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// do sends a request. body is nil (no body), a string or []byte (sent as
// is) or anything else (sent as JSON). headers are name/value pairs.
func (a *testAPI) do(method, path string, body any, headers ...string) response {
	a.t.Helper()
	return doRequest(a.t, a.srv.URL, method, path, body, headers...)
}

func doRequest(t *testing.T, base, method, path string, body any, headers ...string) response {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("marshal body: %v", err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, base+path, r)
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if len(headers)%2 != 0 {
		t.Fatalf("headers must be name/value pairs: %q", headers)
	}
	authorize(req)
	for i := 0; i < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Del("Authorization") // "Authorization", "" sends none
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: res.StatusCode, Header: res.Header, Body: data}
}

// head returns the store's head position.
func (a *testAPI) head() uint64 {
	a.t.Helper()
	h, err := a.store.Head(context.Background())
	if err != nil {
		a.t.Fatalf("head: %v", err)
	}
	return h
}

// decodeBody decodes a JSON response body.
func decodeBody[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r.Body, err)
	}
	return v
}

// wantStatus fails the test unless the response has the status.
func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
}

// problem is the problem+json body as a client reads it.
type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field   string `json:"field"`
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (p problem) fields() []string {
	out := make([]string, len(p.Errors))
	for i, e := range p.Errors {
		out[i] = e.Field
	}
	return out
}

// hasField reports whether an error names field exactly, or a field inside
// it when prefix is true (partner → partner.name).
func (p problem) hasField(field string, prefix bool) bool {
	for _, e := range p.Errors {
		if e.Field == field || prefix && (strings.HasPrefix(e.Field, field+".") || strings.HasPrefix(e.Field, field+"[")) {
			return true
		}
	}
	return false
}

// wantProblem checks an error response: its status, the problem+json
// content type and the RFC 9457 members, and returns the problem.
func wantProblem(t *testing.T, r response, status int, typ string) problem {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, problemContentType) {
		t.Errorf("Content-Type = %q, want %s", ct, problemContentType)
	}
	p := decodeBody[problem](t, r)
	if p.Status != status {
		t.Errorf("problem status = %d, want %d", p.Status, status)
	}
	if typ != "" && p.Type != typ {
		t.Errorf("problem type = %q, want %q", p.Type, typ)
	}
	if p.Type == "" || p.Title == "" || p.Detail == "" {
		t.Errorf("problem lacks type, title or detail: %s", r.Body)
	}
	for _, e := range p.Errors {
		if e.Field == "" || e.Message == "" {
			t.Errorf("field error without field or message: %s", r.Body)
		}
	}
	return p
}

// etagOf returns the version in a response's ETag.
func etagOf(t *testing.T, r response) uint64 {
	t.Helper()
	v := r.Header.Get("ETag")
	n, err := strconv.ParseUint(strings.Trim(v, `"`), 10, 64)
	if err != nil || v != etag(n) {
		t.Fatalf("ETag = %q, want \"<version>\"", v)
	}
	return n
}

// positionOf returns a command response's X-Samspill-Position.
func positionOf(t *testing.T, r response) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(r.Header.Get("X-Samspill-Position"), 10, 64)
	if err != nil || n == 0 {
		t.Fatalf("X-Samspill-Position = %q, want a position", r.Header.Get("X-Samspill-Position"))
	}
	return n
}

// stateBody is the derived state as a client reads it.
type stateBody struct {
	ID                  string   `json:"id"`
	Status              string   `json:"status"`
	Municipality        string   `json:"municipality"`
	CurrentMunicipality string   `json:"current_municipality"`
	Title               string   `json:"title"`
	Description         string   `json:"description"`
	ServiceArea         string   `json:"service_area"`
	CollaborationModel  string   `json:"collaboration_model"`
	Partners            []obj    `json:"partners"`
	Roles               []obj    `json:"roles"`
	Goals               []string `json:"goals"`
	GoalChanges         int      `json:"goal_changes"`
	AnchoringLevel      string   `json:"anchoring_level"`
	Agreements          []obj    `json:"agreements"`
	FundingTotalNOK     int64    `json:"funding_total_nok"`
	StartedAt           string   `json:"started_at"`
	EndedAt             *string  `json:"ended_at"`
	EndReason           *string  `json:"end_reason"`
	Version             uint64   `json:"version"`
	LastOccurredAt      string   `json:"last_occurred_at"`
}

func (s stateBody) partnerIDs() []string {
	var ids []string
	for _, p := range s.Partners {
		ids = append(ids, p["partner_id"].(string))
	}
	return ids
}

// historyBody is GET /history as a client reads it.
type historyBody struct {
	Items []struct {
		EventID       string          `json:"event_id"`
		Type          string          `json:"type"`
		SchemaVersion int             `json:"schema_version"`
		StreamID      string          `json:"stream_id"`
		Version       uint64          `json:"version"`
		Position      uint64          `json:"position"`
		OccurredAt    string          `json:"occurred_at"`
		RecordedAt    string          `json:"recorded_at"`
		Metadata      obj             `json:"metadata"`
		Data          json.RawMessage `json:"data"`
		CorrectedBy   *struct {
			EventID    string `json:"event_id"`
			RecordedAt string `json:"recorded_at"`
			Retracted  bool   `json:"retracted"`
		} `json:"corrected_by"`
	} `json:"items"`
}

// obj is a JSON object body, built and changed by tests.
type obj = map[string]any

// with returns a deep copy of o with key set to v, or removed when v is
// the remove marker.
func with(o obj, key string, v any) obj {
	c := deepCopy(o).(obj)
	if v == remove {
		delete(c, key)
	} else {
		c[key] = v
	}
	return c
}

// removeMarker makes with delete a key.
type removeMarker struct{}

var remove any = removeMarker{}

func deepCopy(v any) any {
	switch x := v.(type) {
	case obj:
		c := make(obj, len(x))
		for k, e := range x {
			c[k] = deepCopy(e)
		}
		return c
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = deepCopy(e)
		}
		return c
	case []string:
		return slices.Clone(x)
	}
	return v
}

// Valid org numbers (mod-11 check digit) for fixtures.
const (
	orgLag       = "974760673"
	orgIdrett    = "923609016"
	orgTredjeLag = "123456785"
)

// initiateBody is a valid POST /partnerships body: Oslo, initiated
// 2024-03-01 (00:00 Oslo), with a municipal unit and a voluntary
// organisation.
func initiateBody() obj {
	return obj{
		"municipality":        "0301",
		"title":               "Møteplass Tøyen",
		"description":         "Frivillige og bydelen driver en møteplass.",
		"service_area":        "culture",
		"collaboration_model": "co_governance",
		"partners": []any{
			obj{"partner_id": "kommune", "name": "Bydel Gamle Oslo", "kind": "municipal_unit"},
			obj{"partner_id": "lag", "name": "Tøyen frivilligsentral", "kind": "voluntary_organisation", "org_no": orgLag},
		},
		"goals":       []any{"Flere møteplasser"},
		"occurred_at": "2024-03-01",
	}
}

// ptn is a partnership a test made.
type ptn struct {
	ID   string
	path string // /api/v1/partnerships/{id}
}

// initiate creates a partnership from body and returns it.
func (a *testAPI) initiate(body obj) ptn {
	a.t.Helper()
	r := a.do("POST", "/api/v1/partnerships", body)
	wantStatus(a.t, r, http.StatusCreated)
	s := decodeBody[stateBody](a.t, r)
	return ptn{ID: s.ID, path: "/api/v1/partnerships/" + s.ID}
}

// newPartnership creates the standard fixture partnership.
func (a *testAPI) newPartnership() ptn {
	a.t.Helper()
	return a.initiate(initiateBody())
}

// post sends a command to the partnership and requires the status.
func (a *testAPI) post(p ptn, sub string, body any, status int, headers ...string) response {
	a.t.Helper()
	r := a.do("POST", p.path+sub, body, headers...)
	wantStatus(a.t, r, status)
	return r
}

// state reads the partnership's state with an optional query.
func (a *testAPI) state(p ptn, query string) stateBody {
	a.t.Helper()
	r := a.do("GET", p.path+query, nil)
	wantStatus(a.t, r, http.StatusOK)
	return decodeBody[stateBody](a.t, r)
}

// history reads the partnership's history with an optional query.
func (a *testAPI) history(p ptn, query string) historyBody {
	a.t.Helper()
	r := a.do("GET", p.path+"/history"+query, nil)
	wantStatus(a.t, r, http.StatusOK)
	return decodeBody[historyBody](a.t, r)
}

// lastEventID returns the id of the partnership's newest event.
func (a *testAPI) lastEventID(p ptn) string {
	a.t.Helper()
	h := a.history(p, "")
	return h.Items[len(h.Items)-1].EventID
}

// tokenFixture is one token store for every test server of the package,
// with a token per kind of principal.
type tokenFixture struct {
	store  *authsqlite.Tokens
	tokens map[string]string // admin, arendal (coordinator of 4203), steinkjer (5006), researcher, viewer
}

var testTokens = sync.OnceValue(func() tokenFixture {
	dir, err := os.MkdirTemp("", "samspill-http-tokens-")
	if err != nil {
		panic(err)
	}
	tokenDir = dir
	store, err := authsqlite.Open(context.Background(), filepath.Join(dir, "tokens.db"))
	if err != nil {
		panic(err)
	}
	f := tokenFixture{store: store, tokens: map[string]string{}}
	for _, spec := range []auth.Spec{
		{Name: "admin", Role: auth.RoleAdmin},
		{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"4203"}},
		{Name: "steinkjer", Role: auth.RoleCoordinator, Municipalities: []string{"5006"}},
		{Name: "researcher", Role: auth.RoleResearcher},
		{Name: "viewer", Role: auth.RoleViewer},
	} {
		tok, err := store.Create(context.Background(), spec)
		if err != nil {
			panic(err)
		}
		f.tokens[spec.Name] = tok
	}
	return f
})

// tokenDir is the folder of the shared token store, removed by TestMain.
var tokenDir string

func TestMain(m *testing.M) {
	code := m.Run()
	if tokenDir != "" {
		_ = os.RemoveAll(tokenDir)
	}
	os.Exit(code)
}

// bearer returns the Authorization header value of a fixture token.
func bearer(name string) string { return "Bearer " + testTokens().tokens[name] }

// authorize gives a request the admin token; the caller's own headers
// override it.
func authorize(req *http.Request) { req.Header.Set("Authorization", bearer("admin")) }
