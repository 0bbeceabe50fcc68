package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/samspill/samspill/domain/partnership"
)

// TestCollaborationModelForm changes a partnership's collaboration model
// through its form on /p/{id}: the form names the model in force, a post
// redirects to the page with the entry in the history and on the
// timeline in the reader's language, a bad model is an error next to the
// field, and the model already in force is refused in plain words.
func TestCollaborationModelForm(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browser(t)
	p := b.get("/p/new?municipality=4203")
	token, _ := formValues(t, p.Body)
	today := s.now().In(osloLoc()).Format("2006-01-02")
	p = b.post("/p/new", url.Values{
		"csrf_token": {token}, "municipality": {"4203"}, "title": {"Aktivitetsvenn for personer med demens"},
		"service_area": {"health_and_care"}, "collaboration_model": {"grant"},
		"partner_0_name": {"Nasjonalforeningen Arendal"}, "partner_0_kind": {"voluntary_organisation"},
		"partner_1_name": {"Arendal kommune, helse og levekår"}, "partner_1_kind": {"municipal_unit"},
		"goals": {"Flere aktivitetsvenner"}, "occurred_at": {today},
	})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("POST /p/new = %d: %s", p.Status, p.Body)
	}
	id := strings.TrimPrefix(strings.Split(p.Location, "?")[0], "/p/")

	p = b.get("/p/" + id)
	for _, want := range []string{`<details class="form" id="model"`, "Endre samarbeidsmodell", "Nå: Tilskudd", `name="collaboration_model"`, "Hvorfor endres samarbeidsmodellen?"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the partnership page lacks %q", want)
		}
	}
	token, version := formValues(t, p.Body)

	bad := b.post("/p/"+id+"/model", url.Values{"csrf_token": {token}, "version": {version}, "collaboration_model": {"samstyring"}, "reason": {"Feil"}, "occurred_at": {today}})
	if bad.Status != http.StatusBadRequest || !strings.Contains(bad.Body, `id="model-collaboration_model-err"`) {
		t.Errorf("an unknown model: %d, want 400 with the error next to the field", bad.Status)
	}
	noReason := b.post("/p/"+id+"/model", url.Values{"csrf_token": {token}, "version": {version}, "collaboration_model": {"co_governance"}, "reason": {" "}, "occurred_at": {today}})
	if noReason.Status != http.StatusBadRequest || !strings.Contains(noReason.Body, `id="model-reason-err"`) {
		t.Errorf("no reason: %d, want 400 with the error next to the reason", noReason.Status)
	}
	same := b.post("/p/"+id+"/model", url.Values{"csrf_token": {token}, "version": {version}, "collaboration_model": {"grant"}, "reason": {"Igjen"}, "occurred_at": {today}})
	if same.Status != http.StatusConflict || !strings.Contains(same.Body, "Samarbeidsmodellen er allerede «Tilskudd»") {
		t.Errorf("the model in force: %d, want 409 naming it", same.Status)
	}

	p = b.post("/p/"+id+"/model", url.Values{"csrf_token": {token}, "version": {version}, "collaboration_model": {"co_governance"}, "reason": {"Kommunen og foreningen planlegger nå sammen"}, "occurred_at": {today}})
	if p.Status != http.StatusSeeOther || !strings.Contains(p.Location, "saved="+partnership.TypeCollaborationModelChanged) {
		t.Fatalf("POST /p/%s/model = %d, Location %q: %s", id, p.Status, p.Location, p.Body)
	}
	p = b.get(p.Location)
	for _, want := range []string{"Lagret: Samarbeidsmodell endret.", "Samarbeidsmodell: Samstyring – Kommunen og foreningen planlegger nå sammen", "Nå: Samstyring"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("after the change the page lacks %q", want)
		}
	}
	state, _, err := s.svc.History().State(context.Background(), id, partnership.View{})
	if err != nil || state.CollaborationModel != "co_governance" {
		t.Fatalf("the stored model is %q (%v), want co_governance", state.CollaborationModel, err)
	}

	p = b.get("/m/4203")
	if !strings.Contains(p.Body, `<use href="#mk-model"`) || !strings.Contains(p.Body, "Samarbeidsmodell endret – Samarbeidsmodell: Samstyring") {
		t.Errorf("the change is not on the timeline with its marker and Norwegian label")
	}
	for lang, want := range map[string][]string{
		"nn": {"Samarbeidsmodell endra", "Endre samarbeidsmodell", "No: Samstyring"},
		"en": {"Collaboration model changed", "Change collaboration model", "Collaboration model: Co-governance – Kommunen og foreningen planlegger nå sammen"},
	} {
		b.setLang(lang)
		p = b.get("/p/" + id)
		for _, w := range want {
			if !strings.Contains(p.Body, w) {
				t.Errorf("%s: the page lacks %q", lang, w)
			}
		}
	}
	b.setLang("nb")
}
