package http

import (
	"context"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	authpostgres "github.com/samspill/samspill/auth/postgres"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/personal"
	personalsqlite "github.com/samspill/samspill/personal/sqlite"
)

// adminAPI is a test server whose token store keeps personal users (a real
// user store with a real key store), with tokens of its own.
type adminAPI struct {
	*testAPI
	users  auth.UserStore
	tokens map[string]string // admin, arendal (coordinator of 4203), viewer
}

// userStores open a real user store of each kind on fresh storage: SQLite
// in a temporary folder, PostgreSQL on a fresh schema (skipped without
// SAMSPILL_TEST_POSTGRES_URL); the sealer's keys in a temporary folder.
var userStores = map[string]func(t *testing.T, sealer personal.UserSealer) auth.UserStore{
	"sqlite": func(t *testing.T, sealer personal.UserSealer) auth.UserStore {
		s, err := authsqlite.Open(context.Background(), filepath.Join(t.TempDir(), "tokens.db"), authsqlite.WithSealer(sealer))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	},
	"postgres": func(t *testing.T, sealer personal.UserSealer) auth.UserStore {
		s, err := authpostgres.Open(context.Background(), pgtest.URL(t), authpostgres.WithSealer(sealer))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	},
}

// eachUserStore runs test against a server over each kind of user store.
func eachUserStore(t *testing.T, test func(t *testing.T, a *adminAPI)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { test(t, newAdminAPI(t, kind)) })
	}
}

func newAdminAPI(t *testing.T, kind string) *adminAPI {
	t.Helper()
	ctx := context.Background()
	keys, err := personalsqlite.Open(ctx, filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	users := userStores[kind](t, personal.UserSealer{Keys: keys})
	a := &adminAPI{users: users, tokens: map[string]string{}}
	for _, spec := range []auth.Spec{
		{Name: "admin", Role: auth.RoleAdmin},
		{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"4203"}},
		{Name: "viewer", Role: auth.RoleViewer},
	} {
		if a.tokens[spec.Name], err = users.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	a.testAPI = startTestAPI(t, func(c *Config) { c.Tokens, c.Admin = users, users }, nil)
	return a
}

// as sends a request with the named token of this server.
func (a *adminAPI) as(who, method, path string, body any) response {
	a.t.Helper()
	return a.do(method, path, body, "Authorization", "Bearer "+a.tokens[who])
}

// person signs a person in, as the sign-in pages do.
func (a *adminAPI) person(t *testing.T, name string, mapped auth.Grant) (string, auth.User) {
	t.Helper()
	sid, u, err := a.users.SignIn(context.Background(), auth.Identity{Provider: "entra", Subject: "sub-" + name, Name: name, Email: strings.ToLower(strings.Fields(name)[0]) + "@example.no"}, mapped, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return sid, u
}

// TestAdminAPIIsForAdminsOnly: every admin route answers 401 without a
// token and 403 to a coordinator and a viewer, changing nothing.
func TestAdminAPIIsForAdminsOnly(t *testing.T) {
	a := newAdminAPI(t, "sqlite")
	_, kari := a.person(t, "Kari Nordmann", auth.Grant{Role: auth.RoleViewer})
	routes := [][2]string{
		{"GET", "/api/v1/admin/users"}, {"GET", "/api/v1/admin/users/" + kari.ID},
		{"POST", "/api/v1/admin/users/" + kari.ID + "/grant"}, {"POST", "/api/v1/admin/users/" + kari.ID + "/mappings"},
		{"POST", "/api/v1/admin/users/" + kari.ID + "/disable"}, {"POST", "/api/v1/admin/users/" + kari.ID + "/enable"},
		{"DELETE", "/api/v1/admin/users/" + kari.ID}, {"GET", "/api/v1/admin/tokens"}, {"POST", "/api/v1/admin/tokens"},
		{"DELETE", "/api/v1/admin/tokens/admin"}, {"GET", "/api/v1/admin/sessions"}, {"DELETE", "/api/v1/admin/sessions/0123456789abcdef"},
		{"GET", "/api/v1/admin/audit"},
	}
	body := map[string]any{"role": "admin", "name": "x"}
	for _, r := range routes {
		for _, who := range []string{"arendal", "viewer"} {
			wantProblem(t, a.as(who, r[0], r[1], body), http.StatusForbidden, problemType("forbidden"))
		}
		wantProblem(t, a.do(r[0], r[1], body, "Authorization", ""), http.StatusUnauthorized, problemType("unauthorized"))
	}
	if u, _ := a.users.User(context.Background(), kari.ID); u.Erased || u.Disabled || u.GrantedByAdmin {
		t.Fatalf("a refused request changed the user: %+v", u)
	}
}

// TestAdminAPIUsers: list, grant (refused grants are 400 problems),
// mappings, disable, enable, erase; an unknown user is a 404 problem and
// an erased one cannot be changed (409).
func TestAdminAPIUsers(t *testing.T) { eachUserStore(t, testAdminAPIUsers) }

func testAdminAPIUsers(t *testing.T, a *adminAPI) {
	sid, kari := a.person(t, "Kari Nordmann", auth.Grant{Role: auth.RoleViewer})
	a.person(t, "Ola Hansen", auth.Grant{})
	list := func(query string) []string {
		t.Helper()
		r := a.as("admin", "GET", "/api/v1/admin/users"+query, nil)
		wantStatus(t, r, http.StatusOK)
		var names []string
		for _, u := range decodeBody[usersResponse](t, r).Items {
			names = append(names, u.Name)
		}
		return names
	}
	for query, want := range map[string]string{"": "Kari Nordmann,Ola Hansen", "?q=kari": "Kari Nordmann", "?role=viewer": "Kari Nordmann", "?disabled=true": "", "?q=" + kari.ID: "Kari Nordmann"} {
		if got := strings.Join(list(query), ","); got != want {
			t.Errorf("users%s: %q, want %q", query, got, want)
		}
	}
	p := wantProblem(t, a.as("admin", "GET", "/api/v1/admin/users?role=king&disabled=maybe", nil), http.StatusBadRequest, typeValidation)
	if !p.hasField("role", false) || !p.hasField("disabled", false) {
		t.Errorf("bad filters: %v", p.fields())
	}
	wantProblem(t, a.as("admin", "GET", "/api/v1/admin/users/"+auth.NewUserID(), nil), http.StatusNotFound, typeNotFound)
	wantProblem(t, a.as("admin", "POST", "/api/v1/admin/users/"+auth.NewUserID()+"/grant", map[string]any{"role": "viewer"}), http.StatusNotFound, typeNotFound)

	grant := "/api/v1/admin/users/" + kari.ID + "/grant"
	for _, bad := range []map[string]any{
		{"role": "coordinator"},
		{"role": "viewer", "municipalities": []string{"4203"}},
		{"role": "king"},
		{"role": "coordinator", "municipalities": []string{"99x"}},
		{"role": "viewer", "colour": "blue"},
	} {
		wantProblem(t, a.as("admin", "POST", grant, bad), http.StatusBadRequest, typeValidation)
	}
	r := a.as("admin", "POST", grant, map[string]any{"role": "coordinator", "municipalities": []string{"0906"}})
	wantStatus(t, r, http.StatusOK)
	if u := decodeBody[userResponse](t, r); u.Role != "coordinator" || strings.Join(u.Municipalities, ",") != "4203" || !u.GrantedByAdmin || u.Name != "Kari Nordmann" {
		t.Errorf("after the grant: %+v", u)
	}
	if _, err := a.users.Session(context.Background(), sid, time.Now()); err == nil {
		t.Error("the grant did not end the user's session")
	}
	for _, step := range []struct {
		action string
		ok     func(userResponse) bool
	}{
		{"mappings", func(u userResponse) bool { return !u.GrantedByAdmin }},
		{"disable", func(u userResponse) bool { return u.Disabled }},
		{"enable", func(u userResponse) bool { return !u.Disabled }},
	} {
		r := a.as("admin", "POST", "/api/v1/admin/users/"+kari.ID+"/"+step.action, nil)
		wantStatus(t, r, http.StatusOK)
		if u := decodeBody[userResponse](t, r); !step.ok(u) {
			t.Errorf("after %s: %+v", step.action, u)
		}
	}
	wantStatus(t, a.as("admin", "DELETE", "/api/v1/admin/users/"+kari.ID, nil), http.StatusNoContent)
	r = a.as("admin", "GET", "/api/v1/admin/users/"+kari.ID, nil)
	if u := decodeBody[userResponse](t, r); !u.Erased || !u.Disabled || u.Name != "" || u.Email != "" || strings.Contains(string(r.Body), "Kari") {
		t.Errorf("after erasing: %s", r.Body)
	}
	wantProblem(t, a.as("admin", "POST", "/api/v1/admin/users/"+kari.ID+"/enable", nil), http.StatusConflict, typeRule)
	wantStatus(t, a.as("admin", "DELETE", "/api/v1/admin/users/"+kari.ID, nil), http.StatusNoContent)
	wantProblem(t, a.as("admin", "DELETE", "/api/v1/admin/users/"+auth.NewUserID(), nil), http.StatusNotFound, typeNotFound)
}

// TestAdminAPITokensAndSessions: a token made through the API shows its
// secret once and works; listed without it; refused as the spec says;
// revoked. A live session is listed and ended. The audit log has each
// change, newest first, names the admin's token, and pages by before.
func TestAdminAPITokensAndSessions(t *testing.T) { eachUserStore(t, testAdminAPITokensAndSessions) }

func testAdminAPITokensAndSessions(t *testing.T, a *adminAPI) {
	_, kari := a.person(t, "Kari Nordmann", auth.Grant{Role: auth.RoleViewer})
	expires := calendar.Day(time.Now().AddDate(0, 1, 0))
	r := a.as("admin", "POST", "/api/v1/admin/tokens", map[string]any{"name": "skript", "role": "coordinator", "municipalities": []string{"4203"}, "owner": kari.ID, "expires_at": expires})
	wantStatus(t, r, http.StatusCreated)
	made := decodeBody[createdTokenResponse](t, r)
	if made.Token == "" || made.Owner != kari.ID || made.ExpiresAt == nil || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("made: %s", r.Body)
	}
	wantStatus(t, a.do("GET", "/api/v1/municipalities", nil, "Authorization", "Bearer "+made.Token), http.StatusOK)
	r = a.as("admin", "GET", "/api/v1/admin/tokens", nil)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), made.Token) || len(decodeBody[tokensResponse](t, r).Items) != 4 {
		t.Errorf("the token list: %s", r.Body)
	}
	for body, want := range map[string]struct {
		status int
		typ    string
	}{
		`{"name":"skript","role":"viewer"}`:                                {http.StatusConflict, typeRule},
		`{"name":"to","role":"coordinator"}`:                               {http.StatusBadRequest, typeValidation},
		`{"name":"to","role":"viewer","expires_at":"2020-01-01"}`:          {http.StatusBadRequest, typeValidation},
		`{"name":"to","role":"viewer","expires_at":"snart"}`:               {http.StatusBadRequest, typeValidation},
		`{"name":"to","role":"viewer","owner":"` + auth.NewUserID() + `"}`: {http.StatusNotFound, typeNotFound},
		`{"name":"to","role":"viewer","secret":"mine"}`:                    {http.StatusBadRequest, typeValidation},
		`{"name":"` + auth.NewUserID() + `","role":"viewer"}`:              {http.StatusBadRequest, typeValidation},
	} {
		wantProblem(t, a.as("admin", "POST", "/api/v1/admin/tokens", body), want.status, want.typ)
	}
	wantStatus(t, a.as("admin", "DELETE", "/api/v1/admin/tokens/skript", nil), http.StatusNoContent)
	wantProblem(t, a.do("GET", "/api/v1/municipalities", nil, "Authorization", "Bearer "+made.Token), http.StatusUnauthorized, problemType("unauthorized"))
	wantProblem(t, a.as("admin", "DELETE", "/api/v1/admin/tokens/skript", nil), http.StatusNotFound, typeNotFound)

	sid, _ := a.person(t, "Kari Nordmann", auth.Grant{Role: auth.RoleViewer})
	r = a.as("admin", "GET", "/api/v1/admin/sessions", nil)
	wantStatus(t, r, http.StatusOK)
	hash := auth.HashSessionID(sid)
	handle, listed := auth.SessionHandle(hash[:]), false
	for _, s := range decodeBody[sessionsResponse](t, r).Items {
		listed = listed || s.Handle == handle && s.Subject == kari.ID && s.Kind == auth.PrincipalUser
	}
	if !listed || strings.Contains(string(r.Body), sid) {
		t.Fatalf("the sessions: %s", r.Body)
	}
	wantStatus(t, a.as("admin", "DELETE", "/api/v1/admin/sessions/"+handle, nil), http.StatusNoContent)
	if _, err := a.users.Session(context.Background(), sid, time.Now()); err == nil {
		t.Error("the ended session still authenticates")
	}
	wantProblem(t, a.as("admin", "DELETE", "/api/v1/admin/sessions/"+handle, nil), http.StatusNotFound, typeNotFound)

	r = a.as("admin", "GET", "/api/v1/admin/audit?actor=admin", nil)
	wantStatus(t, r, http.StatusOK)
	var got []string
	for _, e := range decodeBody[auditLogResponse](t, r).Items {
		got = append(got, e.Action+" "+e.Target)
	}
	if want := "session.ended " + handle + ",token.revoked skript,token.created skript"; strings.Join(got, ",") != want {
		t.Errorf("the admin's audit entries: %q, want %q", got, want)
	}
	page := decodeBody[auditLogResponse](t, a.as("admin", "GET", "/api/v1/admin/audit?limit=2", nil))
	if len(page.Items) != 2 || page.NextBefore == nil || *page.NextBefore != page.Items[1].Seq {
		t.Fatalf("a page of 2: %+v", page)
	}
	next := decodeBody[auditLogResponse](t, a.as("admin", "GET", "/api/v1/admin/audit?limit=2&before="+strconv.FormatInt(*page.NextBefore, 10), nil))
	if len(next.Items) == 0 || next.Items[0].Seq >= page.Items[1].Seq {
		t.Errorf("the next page: %+v", next)
	}
	today := calendar.Day(time.Now()) // the API reads days in Europe/Oslo
	if got := decodeBody[auditLogResponse](t, a.as("admin", "GET", "/api/v1/admin/audit?action=token.created&from="+today+"&to="+today, nil)); len(got.Items) != 4 {
		t.Errorf("tokens made today: %d, want 4", len(got.Items))
	}
	if got := decodeBody[auditLogResponse](t, a.as("admin", "GET", "/api/v1/admin/audit?to=2020-01-01", nil)); len(got.Items) != 0 {
		t.Errorf("entries before 2020: %d", len(got.Items))
	}
	p := wantProblem(t, a.as("admin", "GET", "/api/v1/admin/audit?limit=0&before=x&from=soon", nil), http.StatusBadRequest, typeValidation)
	if !p.hasField("limit", false) || !p.hasField("before", false) || !p.hasField("from", false) {
		t.Errorf("bad audit parameters: %v", p.fields())
	}
}
