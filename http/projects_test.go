package http

import (
	"bytes"
	"context"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	authpostgres "github.com/samspill/samspill/auth/postgres"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/personal"
	personalsqlite "github.com/samspill/samspill/personal/sqlite"
)

// projectStore is the user store with research projects both adapters are.
type projectStore interface {
	auth.UserStore
	auth.ProjectStore
}

// newProjectAPI is a server over a real store of the kind with research
// projects, tokens admin, arendal (coordinator), viewer, forsker and
// forsker2 (researchers), and one route more than the API: GET
// /test/scope/{id}, which answers what projectScope resolves for the
// request's principal.
func newProjectAPI(t *testing.T, kind string) (*adminAPI, projectStore) {
	t.Helper()
	ctx := context.Background()
	keys, err := personalsqlite.Open(ctx, filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	sealer := personal.UserSealer{Keys: keys}
	projectSealer, err := auth.NewProjectSealer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	var store projectStore
	switch kind {
	case "sqlite":
		s, err := authsqlite.Open(ctx, filepath.Join(t.TempDir(), "tokens.db"), authsqlite.WithSealer(sealer), authsqlite.WithProjectSealer(projectSealer))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		store = s
	case "postgres":
		s, err := authpostgres.Open(ctx, pgtest.URL(t), authpostgres.WithSealer(sealer), authpostgres.WithProjectSealer(projectSealer))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		store = s
	}
	a := &adminAPI{users: store, tokens: map[string]string{}}
	for _, spec := range []auth.Spec{
		{Name: "admin", Role: auth.RoleAdmin},
		{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"4203"}},
		{Name: "viewer", Role: auth.RoleViewer},
		{Name: "forsker", Role: auth.RoleResearcher},
		{Name: "forsker2", Role: auth.RoleResearcher},
	} {
		if a.tokens[spec.Name], err = store.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	base := startTestAPI(t, func(c *Config) { c.Tokens, c.Admin, c.Projects = store, store, store }, nil)
	s, err := New(base.cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := edge.NewEngine()
	s.Use(r)
	s.Register(r)
	r.GET("/test/scope/:id", s.allow(anyRole), func(c *gin.Context) {
		keys, municipalities, p, ok := s.projectScope(c, c.Param("id"))
		if !ok {
			return
		}
		c.JSON(http.StatusOK, gin.H{"project": p.ID, "keys_project": keys.Project, "generation": keys.Generation,
			"pseudonym": keys.Partnership("ptn-1"), "municipalities": codes(municipalities)})
	})
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	base.srv = srv
	a.testAPI = base
	return a, store
}

// eachProjectStore runs test against a server over each kind of store.
func eachProjectStore(t *testing.T, test func(t *testing.T, a *adminAPI, s projectStore)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			a, s := newProjectAPI(t, kind)
			test(t, a, s)
		})
	}
}

var offriBody = map[string]any{
	"id": "offri", "name": "Offentlig-frivillig samspill", "institution": "Universitetet i Oslo", "purpose": "Varighet",
	"starts": "2026-01-01", "ends": "2028-12-31", "municipalities": []string{"5006", "0301"},
}

// TestProjectsAdminAPI: create (a bad body is a 400 problem naming what is
// wrong, a taken id 409), list, show, grant (a viewer cannot be granted),
// revoke, rotate; the researcher's list shows its projects without keys
// or members; non-admins are refused every admin route.
func TestProjectsAdminAPI(t *testing.T) { eachProjectStore(t, testProjectsAdminAPI) }

func testProjectsAdminAPI(t *testing.T, a *adminAPI, _ projectStore) {
	r := a.as("admin", "POST", "/api/v1/admin/research-projects", offriBody)
	wantStatus(t, r, http.StatusCreated)
	created := decodeBody[adminProjectResponse](t, r)
	if created.ID != "offri" || created.KeyGeneration != 1 || !slices.Equal(created.Municipalities, []string{"0301", "5006"}) ||
		r.Header.Get("Location") != "/api/v1/admin/research-projects/offri" || created.Members == nil {
		t.Fatalf("created %s (Location %q)", r.Body, r.Header.Get("Location"))
	}
	wantProblem(t, a.as("admin", "POST", "/api/v1/admin/research-projects", offriBody), http.StatusConflict, typeRule)
	bad := map[string]any{"id": "Bad id", "name": "", "institution": "x", "purpose": "y", "starts": "2026-02-30", "municipalities": []string{"1702"}}
	p := wantProblem(t, a.as("admin", "POST", "/api/v1/admin/research-projects", bad), http.StatusBadRequest, typeValidation)
	for _, part := range []string{"id", "name is required", "starts", "1702", "5006"} {
		if !bytes.Contains([]byte(p.Detail), []byte(part)) {
			t.Errorf("the problem's detail %q does not name %q", p.Detail, part)
		}
	}
	wantProblem(t, a.as("admin", "POST", "/api/v1/admin/research-projects", `{"id": "x", "colour": "red"}`), http.StatusBadRequest, "")

	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects/offri/members", map[string]string{"subject": "forsker"}), http.StatusOK)
	wantProblem(t, a.as("admin", "POST", "/api/v1/admin/research-projects/offri/members", map[string]string{"subject": "viewer"}), http.StatusBadRequest, typeValidation)
	wantProblem(t, a.as("admin", "POST", "/api/v1/admin/research-projects/nope/members", map[string]string{"subject": "forsker"}), http.StatusNotFound, typeNotFound)
	r = a.as("admin", "GET", "/api/v1/admin/research-projects/offri", nil)
	wantStatus(t, r, http.StatusOK)
	if got := decodeBody[adminProjectResponse](t, r); !slices.Equal(got.Members, []string{"forsker"}) {
		t.Fatalf("members %q", got.Members)
	}
	r = a.as("admin", "GET", "/api/v1/admin/research-projects", nil)
	wantStatus(t, r, http.StatusOK)
	if got := decodeBody[struct{ Items []adminProjectResponse }](t, r); len(got.Items) != 1 || got.Items[0].ID != "offri" {
		t.Fatalf("list %s", r.Body)
	}

	for who, want := range map[string]int{"forsker": 1, "forsker2": 0, "admin": 1} {
		r := a.as(who, "GET", "/api/v1/research/projects", nil)
		wantStatus(t, r, http.StatusOK)
		if bytes.Contains(r.Body, []byte("members")) || bytes.Contains(r.Body, []byte(`"key"`)) {
			t.Errorf("the researchers' list shows members or a key: %s", r.Body)
		}
		if got := decodeBody[struct{ Items []projectResponse }](t, r); len(got.Items) != want {
			t.Errorf("%s's projects: %s; want %d", who, r.Body, want)
		}
	}
	wantProblem(t, a.as("viewer", "GET", "/api/v1/research/projects", nil), http.StatusForbidden, problemType("forbidden"))

	r = a.as("admin", "POST", "/api/v1/admin/research-projects/offri/rotate-key", nil)
	wantStatus(t, r, http.StatusOK)
	if got := decodeBody[struct {
		KeyGeneration int `json:"key_generation"`
	}](t, r); got.KeyGeneration != 2 {
		t.Fatalf("rotate: %s", r.Body)
	}
	wantStatus(t, a.as("admin", "DELETE", "/api/v1/admin/research-projects/offri/members/forsker", nil), http.StatusNoContent)
	wantProblem(t, a.as("admin", "DELETE", "/api/v1/admin/research-projects/offri/members/forsker", nil), http.StatusNotFound, typeNotFound)

	routes := [][2]string{
		{"GET", "/api/v1/admin/research-projects"}, {"POST", "/api/v1/admin/research-projects"},
		{"GET", "/api/v1/admin/research-projects/offri"}, {"POST", "/api/v1/admin/research-projects/offri/members"},
		{"DELETE", "/api/v1/admin/research-projects/offri/members/forsker"}, {"POST", "/api/v1/admin/research-projects/offri/rotate-key"},
		{"POST", "/api/v1/admin/research-projects/offri/export-key"},
	}
	for _, rt := range routes {
		for _, who := range []string{"forsker", "arendal", "viewer"} {
			wantProblem(t, a.as(who, rt[0], rt[1], map[string]string{"subject": "forsker"}), http.StatusForbidden, problemType("forbidden"))
		}
	}
	entries, err := a.users.Audit(context.Background(), auth.AuditFilter{Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	var acts []string
	for _, e := range slices.Backward(entries) {
		if e.Action != auth.AuditTokenCreated {
			acts = append(acts, e.Action)
		}
	}
	if want := []string{auth.AuditProjectCreated, auth.AuditProjectGranted, auth.AuditProjectKeyRotated, auth.AuditProjectRevoked}; !slices.Equal(acts, want) {
		t.Fatalf("audit %q, want %q", acts, want)
	}
}

// TestProjectKeyExportAPI: the export is an armored age file for the
// recipient, as an attachment; a bad recipient is a 400 problem that
// writes no audit entry.
func TestProjectKeyExportAPI(t *testing.T) { eachProjectStore(t, testProjectKeyExportAPI) }

func testProjectKeyExportAPI(t *testing.T, a *adminAPI, s projectStore) {
	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects", offriBody), http.StatusCreated)
	wantProblem(t, a.as("admin", "POST", "/api/v1/admin/research-projects/offri/export-key", map[string]string{"recipient": "age1nope"}), http.StatusBadRequest, typeValidation)
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	wantProblem(t, a.as("admin", "POST", "/api/v1/admin/research-projects/nope/export-key", map[string]string{"recipient": id.Recipient().String()}), http.StatusNotFound, typeNotFound)
	r := a.as("admin", "POST", "/api/v1/admin/research-projects/offri/export-key", map[string]string{"recipient": id.Recipient().String()})
	wantStatus(t, r, http.StatusOK)
	if ct, cd := r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"); ct != "application/octet-stream" || cd != `attachment; filename="samspill-project-offri-key.age"` {
		t.Fatalf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	plain, err := age.Decrypt(armor.NewReader(bytes.NewReader(r.Body)), id)
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := io.ReadAll(plain)
	key, _, _ := s.ProjectKey(context.Background(), "offri")
	exported := decodeBody[auth.ExportedProjectKey](t, response{Body: doc})
	if exported.Project != "offri" || exported.Generation != 1 || !bytes.Equal(exported.Key, key) {
		t.Fatalf("exported %+v", exported)
	}
	entries, _ := a.users.Audit(context.Background(), auth.AuditFilter{Action: auth.AuditProjectKeyExported})
	if len(entries) != 1 || entries[0].Actor != "admin" || entries[0].Target != "offri" {
		t.Fatalf("export audit entries: %+v; want one, the successful export's", entries)
	}
}

// TestProjectScope: a member researcher and an admin get the project's
// keys (the same pseudonyms at every call, new ones after a rotation) and
// municipalities; a researcher not granted it gets the same 404 as for an
// unknown id; a role that may not export gets 403.
func TestProjectScope(t *testing.T) { eachProjectStore(t, testProjectScope) }

func testProjectScope(t *testing.T, a *adminAPI, _ projectStore) {
	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects", offriBody), http.StatusCreated)
	other := withKey(offriBody, "id", "other")
	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects", other), http.StatusCreated)
	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects/offri/members", map[string]string{"subject": "forsker"}), http.StatusOK)
	type scope struct {
		Project        string
		KeysProject    string `json:"keys_project"`
		Generation     int
		Pseudonym      string
		Municipalities []string
	}
	get := func(who, id string) scope {
		t.Helper()
		r := a.as(who, "GET", "/test/scope/"+id, nil)
		wantStatus(t, r, http.StatusOK)
		return decodeBody[scope](t, r)
	}
	mine := get("forsker", "offri")
	if mine.KeysProject != "offri" || mine.Generation != 1 || len(mine.Pseudonym) != 32 || !slices.Equal(mine.Municipalities, []string{"0301", "5006"}) {
		t.Fatalf("scope %+v", mine)
	}
	if again := get("admin", "offri"); again.Pseudonym != mine.Pseudonym {
		t.Fatalf("the admin's pseudonym %s, the researcher's %s: want one per project", again.Pseudonym, mine.Pseudonym)
	}
	if o := get("admin", "other"); o.Pseudonym == mine.Pseudonym {
		t.Fatal("two projects share a pseudonym")
	}
	unknown := wantProblem(t, a.as("forsker", "GET", "/test/scope/nope", nil), http.StatusNotFound, typeNotFound)
	notMine := wantProblem(t, a.as("forsker", "GET", "/test/scope/other", nil), http.StatusNotFound, typeNotFound)
	if unknown.Title != notMine.Title || unknown.Detail != notMine.Detail {
		t.Fatalf("unknown %+v and not granted %+v differ", unknown, notMine)
	}
	wantProblem(t, a.as("forsker2", "GET", "/test/scope/offri", nil), http.StatusNotFound, typeNotFound)
	wantProblem(t, a.as("admin", "GET", "/test/scope/nope", nil), http.StatusNotFound, typeNotFound)
	wantProblem(t, a.as("viewer", "GET", "/test/scope/offri", nil), http.StatusForbidden, problemType("forbidden"))
	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects/offri/rotate-key", nil), http.StatusOK)
	if rotated := get("forsker", "offri"); rotated.Generation != 2 || rotated.Pseudonym == mine.Pseudonym {
		t.Fatalf("after rotation: %+v", rotated)
	}
}

// withKey returns a copy of m with key set to v.
func withKey(m map[string]any, key string, v any) map[string]any {
	out := maps.Clone(m)
	out[key] = v
	return out
}
