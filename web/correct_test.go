package web

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/samspill/samspill/domain/partnership"
)

// entryID is the id of the first entry of the partnership's history of
// type eventType.
func entryID(t *testing.T, s *site, id, eventType string) string {
	t.Helper()
	hist, _, err := s.svc.History().Events(context.Background(), id, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hist {
		if h.Type == eventType {
			return h.EventID
		}
	}
	t.Fatalf("no %s in %s", eventType, id)
	return ""
}

// hiddenValues are the hidden inputs of a page's form id, as a browser
// would post them.
func hiddenValues(t *testing.T, body, formID string) url.Values {
	t.Helper()
	i := strings.Index(body, `id="`+formID+`"`)
	if i < 0 {
		t.Fatalf("no form %s on the page", formID)
	}
	form := body[i : i+strings.Index(body[i:], "</form>")]
	out := url.Values{}
	for _, m := range regexp.MustCompile(`<input type="hidden"(?: id="[^"]*")? name="([^"]+)" value="([^"]*)">`).FindAllStringSubmatch(form, -1) {
		out.Add(m[1], html.UnescapeString(m[2]))
	}
	return out
}

// TestCorrectAnEntryThroughItsForm: choosing an entry opens a form of its
// own type with its values; sending it shows the change before and after;
// confirming saves a correction, and the history shows the corrected
// value beside the struck-through one. No JSON is typed anywhere.
func TestCorrectAnEntryThroughItsForm(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browserAs(t, "arendal")
	id := initiateThroughForm(t, b, s, "4203", "2026-03-01")
	token, version := formValues(t, b.get("/p/"+id).Body)
	if p := b.post("/p/"+id+"/funding", url.Values{"csrf_token": {token}, "version": {version}, "amount_nok": {"250000"}, "source": {"Sparebankstiftelsen"},
		"period_from": {"2026-01-01"}, "period_until": {"2026-12-31"}, "occurred_at": {"2026-03-15"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("funding: %d", p.Status)
	}
	funding := entryID(t, s, id, partnership.TypeFundingRecorded)

	// The history offers "Rett" on the entry; it opens the funding form.
	page := b.get("/p/" + id)
	link := "/p/" + id + "/correct?entry=" + funding
	if !strings.Contains(page.Body, `href="`+link+`"`) {
		t.Fatalf("no correction link on the funding entry")
	}
	form := b.get(link)
	for _, want := range []string{`id="correct-amount_nok"`, `name="amount_nok" type="text" value="250000"`, `value="Sparebankstiftelsen"`, `name="period_from" type="date" value="2026-01-01"`,
		`name="correction_reason"`, `name="retract" value="1"`, "250\u00a0000 kr"} {
		if !strings.Contains(form.Body, want) {
			t.Errorf("the correction form lacks %s", want)
		}
	}
	if strings.Contains(form.Body, `name="occurred_at"`) || strings.Contains(form.Body, "JSON") || strings.Contains(form.Body, `name="replacement"`) {
		t.Errorf("the correction form asks for a date or for JSON")
	}

	// Sending it shows the change before and after; nothing is saved yet.
	values := hiddenValues(t, form.Body, "form-correct")
	values.Set("amount_nok", "290 000")
	values.Set("source", "Sparebankstiftelsen")
	values.Set("period_from", "2026-01-01")
	values.Set("period_until", "2026-12-31")
	values.Set("correction_reason", "Feil beløp i vedtaket")
	preview := b.post("/p/"+id+"/correct", values)
	if preview.Status != http.StatusOK {
		t.Fatalf("preview: %d\n%s", preview.Status, preview.Body)
	}
	changed := regexp.MustCompile(`<tr class="changed">\s*<th scope="row">Beløp \(hele kroner\) <span class="changed-mark">\(endret\)</span></th>\s*<td data-label="Før"><del>250000</del></td>\s*<td data-label="Etter"><ins>290000</ins></td>`)
	if !changed.MatchString(preview.Body) || strings.Count(preview.Body, `<tr class="changed">`) != 1 || !strings.Contains(preview.Body, "Feil beløp i vedtaket") {
		t.Errorf("the preview does not show the amount changed from 250000 to 290000, and only it:\n%s", preview.Body)
	}
	if _, v, _ := s.svc.History().Events(context.Background(), id, partnership.View{}); v != 2 {
		t.Fatalf("the preview saved: version %d", v)
	}

	// "Endre" goes back to the form with what was typed.
	back := hiddenValues(t, preview.Body, "form-confirm")
	back.Set("step", "edit")
	if p := b.post("/p/"+id+"/correct", back); p.Status != http.StatusOK || !strings.Contains(p.Body, `name="amount_nok" type="text" value="290 000"`) {
		t.Errorf("back to the form: %d", p.Status)
	}

	// Confirming saves it; the history shows the new value beside the old.
	confirm := hiddenValues(t, preview.Body, "form-confirm")
	confirm.Set("step", "confirm")
	p := b.post("/p/"+id+"/correct", confirm)
	if p.Status != http.StatusSeeOther || p.Location != "/p/"+id+"?saved=EntryCorrected#history" {
		t.Fatalf("confirm: %d → %q\n%s", p.Status, p.Location, p.Body)
	}
	st, _, _ := s.svc.History().State(context.Background(), id, partnership.View{})
	if st.FundingTotalNOK != 290000 {
		t.Errorf("funding in total %d after the correction, want 290000", st.FundingTotalNOK)
	}
	page = b.get("/p/" + id + "?saved=EntryCorrected")
	entry := regexp.MustCompile(`(?s)<li class="entry corrected" data-type="FundingRecorded".*?</li>`).FindString(page.Body)
	if !strings.Contains(entry, "<del class=\"summary\">Finansiering: 250\u00a0000 kr") || !strings.Contains(entry, "<ins class=\"replacement\">") ||
		!strings.Contains(entry, "Finansiering: 290\u00a0000 kr fra Sparebankstiftelsen") || !strings.Contains(entry, "Rettet 26. november 2026 kl.") {
		t.Errorf("the history does not show the corrected value beside the struck-through one:\n%s", entry)
	}
	if !strings.Contains(page.Body, "Rettet en tidligere oppføring: Feil beløp i vedtaket") || !strings.Contains(page.Body, "Lagret: Retting.") {
		t.Errorf("the correction is not in the history")
	}
	// Corrected again, the form starts from the corrected values.
	if f := b.get(link); !strings.Contains(f.Body, `name="amount_nok" type="text" value="290000"`) {
		t.Errorf("a corrected entry's form does not start from its corrected values")
	}
}

// TestCorrectionKeepsIDsAndRetracts: a corrected initiation keeps its
// partners' ids (renaming a partner does not make it another), a contact
// person's form is filled for those who may see the person, a retraction
// is previewed struck through and then shown so, and the form's errors
// (no reason) come back with the input kept.
func TestCorrectionKeepsIDsAndRetracts(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browser(t)
	id := initiateThroughForm(t, b, s, "4203", "2026-03-01")
	red := partnerID(t, s, id, "Røde Kors Arendal")
	token, version := formValues(t, b.get("/p/"+id).Body)
	if p := b.post("/p/"+id+"/contact", url.Values{"csrf_token": {token}, "version": {version}, "partner_id": {red}, "name": {"Kari Nordmann"}, "email": {"kari@example.no"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("contact: %d", p.Status)
	}
	token, version = formValues(t, b.get("/p/"+id).Body)
	if p := b.post("/p/"+id+"/milestone", url.Values{"csrf_token": {token}, "version": {version}, "kind": {"meeting"}, "title": {"Oppstartsmøte"}, "occurred_at": {"2026-03-10"}}); p.Status != http.StatusSeeOther {
		t.Fatalf("milestone: %d", p.Status)
	}

	// The initiation: rename a partner.
	initiation := entryID(t, s, id, partnership.TypePartnershipInitiated)
	form := b.get("/p/" + id + "/correct?entry=" + initiation)
	if !strings.Contains(form.Body, `name="partner_0_id" value="`+red+`"`) || strings.Contains(form.Body, `name="retract"`) {
		t.Fatalf("the initiation's form lacks its partners' ids, or offers to retract it:\n%s", form.Body)
	}
	values := hiddenValues(t, form.Body, "form-correct")
	for k, v := range map[string]string{"municipality": "4203", "title": "Leksehjelp på biblioteket", "service_area": "education", "collaboration_model": "network",
		"partner_0_name": "Arendal Røde Kors", "partner_0_kind": "voluntary_organisation", "partner_0_org_no": "974760673",
		"partner_1_name": "Arendal bibliotek", "partner_1_kind": "municipal_unit", "goals": "Hjelp med lekser\nMøteplass", "correction_reason": "Riktig navn"} {
		values.Set(k, v)
	}
	values.Set("add_partner", "1")
	if p := b.post("/p/"+id+"/correct", values); p.Status != http.StatusOK || !strings.Contains(p.Body, `id="correct-partner_2_name"`) || !strings.Contains(p.Body, `value="Arendal Røde Kors"`) {
		t.Errorf("a partner row added to the initiation's correction: %d", p.Status)
	}
	values.Del("add_partner")
	preview := b.post("/p/"+id+"/correct", values)
	if preview.Status != http.StatusOK || strings.Count(preview.Body, `<tr class="changed">`) != 1 || !strings.Contains(preview.Body, "<ins>Arendal Røde Kors</ins>") {
		t.Fatalf("preview of a renamed partner: %d\n%s", preview.Status, preview.Body)
	}
	confirm := hiddenValues(t, preview.Body, "form-confirm")
	confirm.Set("step", "confirm")
	if p := b.post("/p/"+id+"/correct", confirm); p.Status != http.StatusSeeOther {
		t.Fatalf("confirm: %d\n%s", p.Status, p.Body)
	}
	if got := partnerID(t, s, id, "Arendal Røde Kors"); got != red {
		t.Errorf("the renamed partner's id is %s, was %s", got, red)
	}

	// The contact person: filled in for the admin.
	contact := entryID(t, s, id, partnership.TypeContactPersonAssigned)
	if f := b.get("/p/" + id + "/correct?entry=" + contact); !strings.Contains(f.Body, `value="Kari Nordmann"`) || !strings.Contains(f.Body, `value="kari@example.no"`) {
		t.Errorf("the contact person's form is not filled in for an admin")
	}

	// The milestone: retracted, with a reason; without one, the form again.
	milestone := entryID(t, s, id, partnership.TypeMilestoneLogged)
	values = hiddenValues(t, b.get("/p/"+id+"/correct?entry="+milestone).Body, "form-correct")
	values.Set("retract", "1")
	p := b.post("/p/"+id+"/correct", values)
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="correct-correction_reason-err"`) || !strings.Contains(p.Body, "Dette feltet må fylles ut") {
		t.Fatalf("a retraction without a reason: %d\n%s", p.Status, p.Body)
	}
	values.Set("correction_reason", "Møtet ble avlyst")
	preview = b.post("/p/"+id+"/correct", values)
	if preview.Status != http.StatusOK || !strings.Contains(preview.Body, "Oppføringen trekkes tilbake") || !strings.Contains(preview.Body, "<del>Oppstartsmøte</del>") {
		t.Fatalf("retraction preview: %d\n%s", preview.Status, preview.Body)
	}
	confirm = hiddenValues(t, preview.Body, "form-confirm")
	confirm.Set("step", "confirm")
	if p := b.post("/p/"+id+"/correct", confirm); p.Status != http.StatusSeeOther {
		t.Fatalf("confirm the retraction: %d\n%s", p.Status, p.Body)
	}
	page := b.get("/p/" + id)
	entry := regexp.MustCompile(`(?s)<li class="entry corrected" data-type="MilestoneLogged".*?</li>`).FindString(page.Body)
	if !strings.Contains(entry, `<del class="summary">Møte: Oppstartsmøte</del>`) || !strings.Contains(entry, "Trukket tilbake 26. november 2026") || strings.Contains(entry, "<ins") {
		t.Errorf("the retracted entry is not struck through:\n%s", entry)
	}
	// A stale version: the form again, nothing saved.
	values.Set("version", "1")
	values.Set("step", "confirm")
	if p := b.post("/p/"+id+"/correct", values); p.Status != http.StatusConflict || !strings.Contains(p.Body, "Ikke lagret: samarbeidet ble endret") {
		t.Errorf("a correction of an old version: %d", p.Status)
	}
}
