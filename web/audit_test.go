package web

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// auditActors returns the actor cell of each row of an audit page, by
// version.
func auditActors(t testing.TB, body string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(?s)<tr id="v(\d+)" class="audit-row[^"]*".*?<td data-label="[^"]*" class="actor actor-(\w+)">([^<]*)</td>`).FindAllStringSubmatch(body, -1) {
		out[m[1]] = m[2] + ":" + m[3]
	}
	return out
}

// recordAsPerson records goals on the partnership as a signed-in person
// (its actor a user id), through the service as the pages would.
func recordAsPerson(t *testing.T, s *site, id, userID string) {
	t.Helper()
	meta := app.Meta{Actor: eventstore.Actor{Subject: userID, Role: auth.RoleCoordinator}}
	if _, err := s.svc.Execute(context.Background(), id, partnership.Command{Event: partnership.GoalChanged{Goals: []string{"Hjelp med lekser"}, Reason: "Færre mål"}}, meta); err != nil {
		t.Fatal(err)
	}
}

// TestAuditViewNamesActorsOnlyToThoseWhoMaySee: the audit view lists
// every entry with who recorded or corrected it; admins and the
// municipality's coordinators see the token's name (and the user id), a
// viewer only the role and pseudonyms, one per actor.
func TestAuditViewNamesActorsOnlyToThoseWhoMaySee(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	coordinator := s.browserAs(t, "arendal")
	id := initiateThroughForm(t, coordinator, s, "4203", "2026-03-01")
	user := auth.NewUserID()
	recordAsPerson(t, s, id, user)
	goals := entryID(t, s, id, partnership.TypeGoalChanged)
	correct := partnership.Command{Event: partnership.EntryCorrected{CorrectedEventID: goals, Reason: "Feil registrert"}}
	if _, err := s.svc.Execute(context.Background(), id, correct, app.Meta{Actor: eventstore.Actor{Subject: "arendal", Role: auth.RoleCoordinator}}); err != nil {
		t.Fatal(err)
	}

	if page := coordinator.get("/p/" + id); !strings.Contains(page.Body, `href="/p/`+id+`/audit"`) {
		t.Errorf("the partnership page does not link its audit view")
	}
	for _, who := range []string{"admin", "arendal"} {
		page := s.browserAs(t, who).get("/p/" + id + "/audit")
		if page.Status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", who, page.Status, page.Body)
		}
		actors := auditActors(t, page.Body)
		want := map[string]string{"1": "token:Nøkkel «arendal»", "2": "user:" + user, "3": "token:Nøkkel «arendal»"}
		for v, w := range want {
			if actors[v] != w {
				t.Errorf("%s sees version %s recorded by %q, want %q", who, v, actors[v], w)
			}
		}
		if !strings.Contains(page.Body, `<a href="#v2">Korrigerte versjon 2</a>`) || strings.Count(page.Body, "Registrerte</td>") != 2 {
			t.Errorf("%s: the correction does not name the entry it corrects", who)
		}
		if !strings.Contains(page.Body, "Hjelp med lekser") || !strings.Contains(page.Body, ">koordinator<") {
			t.Errorf("%s: the entries are not described, or the role is missing", who)
		}
	}

	page := s.browserAs(t, "viewer").get("/p/" + id + "/audit")
	if page.Status != http.StatusOK {
		t.Fatalf("viewer: %d", page.Status)
	}
	if strings.Contains(page.Body, "arendal") || strings.Contains(page.Body, user) || strings.Contains(page.Body, "usr-") {
		t.Errorf("a viewer sees who recorded the entries:\n%s", page.Body)
	}
	actors := auditActors(t, page.Body)
	pseudonym := regexp.MustCompile(`^pseudonym:actor-[0-9a-f]{16}$`)
	for _, v := range []string{"1", "2", "3"} {
		if !pseudonym.MatchString(actors[v]) {
			t.Errorf("a viewer sees version %s recorded by %q, want a pseudonym", v, actors[v])
		}
	}
	if actors["1"] != actors["3"] || actors["1"] == actors["2"] {
		t.Errorf("pseudonyms %v: want one per actor", actors)
	}

	if p := s.browserAs(t, "viewer").get("/p/00000000-0000-4000-8000-000000000000/audit"); p.Status != http.StatusNotFound {
		t.Errorf("an unknown partnership's audit: %d, want 404", p.Status)
	}
}

// TestAuditAPI: GET /api/v1/partnerships/{id}/audit describes each entry
// in the language asked for and names actors as the page does.
func TestAuditAPI(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	id := initiateThroughForm(t, s.browserAs(t, "arendal"), s, "4203", "2026-03-01")
	user := auth.NewUserID()
	recordAsPerson(t, s, id, user)
	get := func(token, lang string) (*http.Response, []map[string]any) {
		t.Helper()
		return getAudit(t, s, id, token, "Accept-Language", lang)
	}
	res, items := get(s.tokens["admin"], "nn")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Language") != "nn" || res.Header.Get("ETag") != `"2"` || len(items) != 2 {
		t.Fatalf("admin: %d %q %q, %d items", res.StatusCode, res.Header.Get("Content-Language"), res.Header.Get("ETag"), len(items))
	}
	if a := items[1]["actor"].(map[string]any); a["kind"] != "user" || a["id"] != user || a["role"] != "coordinator" || items[1]["action"] != "recorded" {
		t.Errorf("admin sees the person's entry as %v", items[1])
	}
	if a := items[0]["actor"].(map[string]any); a["kind"] != "token" || a["id"] != "arendal" {
		t.Errorf("admin sees the first entry recorded by %v", a)
	}
	if d, _ := items[1]["description"].(string); !strings.Contains(d, "Hjelp med lekser") {
		t.Errorf("description %q", d)
	}
	_, en := get(s.tokens["admin"], "en")
	if en[1]["description"] == items[1]["description"] {
		t.Errorf("the description is the same in English and nynorsk: %v", en[1]["description"])
	}
	res, items = get(s.tokens["viewer"], "")
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Language") != "nb" {
		t.Fatalf("viewer: %d %q", res.StatusCode, res.Header.Get("Content-Language"))
	}
	for _, it := range items {
		a := it["actor"].(map[string]any)
		if a["kind"] != "pseudonym" || !strings.HasPrefix(a["id"].(string), "actor-") || a["name"] != nil {
			t.Errorf("a viewer sees the actor %v", a)
		}
	}
}

// getAudit reads GET /api/v1/partnerships/{id}/audit with the token and
// headers (name, value, ...), and returns the answer and its items.
func getAudit(t *testing.T, s *site, id, token string, headers ...string) (*http.Response, []map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/api/v1/partnerships/"+id+"/audit", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var body struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return res, body.Items
}
