package web

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/samspill/samspill/auth"
)

// TestAdminProjectPages walks a research project's life on the admin
// pages, in bokmål: a refused form says every reason in Norwegian; the
// project is made, granted to a researcher (a viewer is refused), its key
// rotated only after a confirmation that says what it does to linkage,
// exported sealed to an age key as a download (a bad key is refused and
// takes nothing out), revoked; each change is in the audit log.
func TestAdminProjectPages(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSite(t, false)
	if _, err := s.userStore.CreateToken(ctx, auth.SystemPrincipal, auth.Spec{Name: "forsker", Role: auth.RoleResearcher}); err != nil {
		t.Fatal(err)
	}
	b := s.browser(t)
	if p := b.get("/admin/users"); !strings.Contains(p.Body, `href="/admin/projects"`) {
		t.Fatal("the admin navigation does not link the project pages")
	}
	list := b.get("/admin/projects")
	if list.Status != http.StatusOK || !strings.Contains(list.Body, "Ingen forskningsprosjekter ennå.") {
		t.Fatalf("the empty list: %d\n%s", list.Status, list.Body)
	}

	bad := b.postForm("/admin/projects", "/admin/projects", url.Values{"id": {"Offri!"}, "name": {""}, "institution": {"UiO"}, "purpose": {"Varighet"},
		"starts": {"2026-01-01"}, "ends": {"2025-12-31"}, "municipalities": {"1702"}})
	body := html.UnescapeString(bad.Body)
	for _, want := range []string{"«Offri!» kan ikke være kortnavn", "Navn må fylles ut.", "Sluttdatoen er før startdatoen.", "i dag er det 5006", `value="UiO"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the refused form lacks %q", want)
		}
	}
	if bad.Status != http.StatusBadRequest {
		t.Fatalf("the refused form: %d", bad.Status)
	}

	made := b.postForm("/admin/projects", "/admin/projects", url.Values{"id": {"offri"}, "name": {"Offentlig-frivillig samspill"}, "institution": {"Universitetet i Oslo"},
		"purpose": {"Hvordan samarbeid varer"}, "starts": {"2026-01-01"}, "municipalities": {"4203, 5006"}})
	if made.Status != http.StatusSeeOther || made.Location != "/admin/projects/offri?saved=project_created" {
		t.Fatalf("create: %d to %q\n%s", made.Status, made.Location, made.Body)
	}
	page := b.get(made.Location)
	for _, want := range []string{"Prosjektet er opprettet med sin egen nøkkel.", "Universitetet i Oslo", "Arendal", "Steinkjer", "uten sluttdato", "1. januar 2026"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("the project's page lacks %q", want)
		}
	}
	if again := b.postForm("/admin/projects", "/admin/projects", url.Values{"id": {"offri"}, "name": {"x"}, "institution": {"y"}, "purpose": {"z"}, "starts": {"2026-01-01"}}); again.Status != http.StatusConflict ||
		!strings.Contains(html.UnescapeString(again.Body), "Det finnes allerede et prosjekt med kortnavnet «offri».") {
		t.Fatalf("a taken id: %d", again.Status)
	}

	if r := b.postForm("/admin/projects/offri", "/admin/projects/offri/grant", url.Values{"subject": {"viewer"}}); r.Status != http.StatusBadRequest ||
		!strings.Contains(html.UnescapeString(r.Body), "«viewer» kan ikke få tilgang") {
		t.Fatalf("granting a viewer: %d", r.Status)
	}
	if r := b.postForm("/admin/projects/offri", "/admin/projects/offri/grant", url.Values{"subject": {"forsker"}}); r.Location != "/admin/projects/offri?saved=project_granted" {
		t.Fatalf("grant: %d to %q", r.Status, r.Location)
	}
	if got, _ := s.projectStore.ProjectsOf(ctx, auth.Principal{Subject: "forsker", Role: auth.RoleResearcher}); len(got) != 1 || got[0].ID != "offri" {
		t.Fatalf("the researcher's projects after the grant: %+v", got)
	}

	confirm := b.postForm("/admin/projects/offri", "/admin/projects/offri/rotate", url.Values{})
	if confirm.Status != http.StatusOK || !strings.Contains(confirm.Body, "kan ikke kobles med filer som ble eksportert før byttet") || !strings.Contains(confirm.Body, `id="form-rotate-confirm"`) {
		t.Fatalf("the rotation's confirmation: %d\n%s", confirm.Status, confirm.Body)
	}
	if _, gen, _ := s.projectStore.ProjectKey(ctx, "offri"); gen != 1 {
		t.Fatalf("the key rotated before the confirmation: generation %d", gen)
	}
	if r := b.postForm("/admin/projects/offri", "/admin/projects/offri/rotate", url.Values{"confirm": {"yes"}}); r.Location != "/admin/projects/offri?saved=project_rotated" {
		t.Fatalf("rotate: %d to %q", r.Status, r.Location)
	}
	key, gen, err := s.projectStore.ProjectKey(ctx, "offri")
	if err != nil || gen != 2 {
		t.Fatalf("after the rotation: generation %d, %v", gen, err)
	}

	if r := b.postForm("/admin/projects/offri", "/admin/projects/offri/export", url.Values{"recipient": {"age1nope"}}); r.Status != http.StatusBadRequest ||
		!strings.Contains(r.Body, "Dette er ingen offentlig age-nøkkel") {
		t.Fatalf("a bad recipient: %d", r.Status)
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	download := b.postForm("/admin/projects/offri", "/admin/projects/offri/export", url.Values{"recipient": {id.Recipient().String()}})
	if download.Status != http.StatusOK || download.Header.Get("Content-Disposition") != `attachment; filename="samspill-project-offri-key.age"` ||
		download.Header.Get("Content-Type") != "application/octet-stream" {
		t.Fatalf("the download: %d %v", download.Status, download.Header)
	}
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(download.Body)), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, _ := io.ReadAll(r)
	var doc auth.ExportedProjectKey
	if err := json.Unmarshal(plain, &doc); err != nil || doc.Project != "offri" || doc.Generation != 2 || !bytes.Equal(doc.Key, key) {
		t.Fatalf("the exported key: %+v, %v", doc, err)
	}

	if r := b.postForm("/admin/projects/offri", "/admin/projects/offri/revoke", url.Values{"subject": {"forsker"}}); r.Location != "/admin/projects/offri?saved=project_revoked" {
		t.Fatalf("revoke: %d to %q", r.Status, r.Location)
	}
	if r := b.postForm("/admin/projects/offri", "/admin/projects/offri/revoke", url.Values{"subject": {"forsker"}}); r.Status != http.StatusNotFound {
		t.Fatalf("revoking a non-member: %d", r.Status)
	}
	if r := b.get("/admin/projects/nope"); r.Status != http.StatusNotFound || !strings.Contains(r.Body, "Prosjektet finnes ikke.") {
		t.Fatalf("an unknown project: %d", r.Status)
	}
	rows, _ := auditRows(t, b.get("/admin/audit?target=offri").Body)
	if len(rows) != 3 || !strings.HasPrefix(rows[0], "Prosjektnøkkel eksportert | admin | offri") || !strings.HasPrefix(rows[1], "Prosjektnøkkel byttet") || !strings.HasPrefix(rows[2], "Prosjekt opprettet") {
		t.Fatalf("the project's audit log: %q", rows)
	}
	if list := b.get("/admin/projects"); !strings.Contains(list.Body, `data-project="offri"`) {
		t.Fatalf("the list lacks the project:\n%s", list.Body)
	}
}

// TestAdminProjectPagesAreForAdminsOnly: a coordinator and a viewer get
// the 403 page on every project page and form, and change nothing.
func TestAdminProjectPagesAreForAdminsOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := newSite(t, false)
	if _, err := s.projectStore.CreateProject(ctx, auth.SystemPrincipal, auth.Project{ID: "offri", Name: "n", Institution: "i", Purpose: "p", Starts: "2026-01-01"}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"arendal", "viewer"} {
		b := s.browserAs(t, who)
		for _, path := range []string{"/admin/projects", "/admin/projects/offri"} {
			if p := b.get(path); p.Status != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", who, path, p.Status)
			}
		}
		for _, path := range []string{"/admin/projects", "/admin/projects/offri/grant", "/admin/projects/offri/rotate", "/admin/projects/offri/export"} {
			if p := b.postForm("/m", path, url.Values{"id": {"x2"}, "subject": {"admin"}, "confirm": {"yes"}, "recipient": {"age1x"}}); p.Status != http.StatusForbidden {
				t.Errorf("%s POST %s: %d, want 403", who, path, p.Status)
			}
		}
	}
	if p, _ := s.projectStore.Project(ctx, "offri"); p.KeyGeneration != 1 || len(p.Members) != 0 {
		t.Fatalf("a refused post changed the project: %+v", p)
	}
}
