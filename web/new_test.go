package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/samspill/samspill/domain/partnership"
)

// TestNewPartnershipByMunicipalityName: no one types a municipality code.
// A coordinator of one municipality has it filled in and fixed; an admin
// chooses among today's municipalities by name; the partnership is
// recorded under the code valid on the day it began, and where a merger
// under a new name leaves several, the form asks which.
func TestNewPartnershipByMunicipalityName(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	admin, arendal := s.browser(t), s.browserAs(t, "arendal")

	p := arendal.get("/p/new")
	if !strings.Contains(p.Body, `<input type="hidden" name="municipality" value="4203"><output id="new-municipality" class="fixed">Arendal (4203)</output>`) {
		t.Errorf("a coordinator of Arendal does not get Arendal filled in and fixed:\n%s", p.Body)
	}
	if strings.Contains(p.Body, `name="municipality" type="text"`) || strings.Contains(p.Body, "kommunenummer)") {
		t.Errorf("the form asks for a code by hand")
	}
	p = admin.get("/p/new?municipality=1702")
	if !strings.Contains(p.Body, `<option value="5006" selected>Steinkjer</option>`) || !strings.Contains(p.Body, `<option value="4203">Arendal</option>`) {
		t.Errorf("an admin does not choose among today's municipalities by name, Steinkjer (1702 today) chosen")
	}
	// Norwegian order: Å after Ø, not beside A.
	if i, j := strings.Index(p.Body, ">Ørsta<"), strings.Index(p.Body, ">Ålesund<"); i < 0 || j < i || strings.Index(p.Body, ">Alta<") > i {
		t.Errorf("municipalities not in Norwegian order (Alta, ..., Ørsta, Ålesund)")
	}

	for _, c := range []struct{ choose, date, recorded string }{
		{"5006", "2017-06-01", "1702"}, // Steinkjer (and Verran) before the Trøndelag merger
		{"5006", "2019-06-01", "5004"},
		{"5006", "2021-06-01", "5006"},
		{"4203", "2019-12-31", "0906"},
	} {
		id := initiateThroughForm(t, admin, s, c.choose, c.date)
		st, _, err := s.svc.History().State(context.Background(), id, partnership.View{})
		if err != nil || st.Municipality != c.recorded {
			t.Errorf("%s chosen for %s: recorded under %q (%v), want %s", c.choose, c.date, st.Municipality, err, c.recorded)
		}
	}

	// Indre Østfold (3118) was made in 2020 of Askim, Eidsberg, Hobøl,
	// Spydeberg and Trøgstad: on 2019-06-01 the form asks which.
	token, _ := formValues(t, admin.get("/p/new").Body)
	form := url.Values{"csrf_token": {token}, "municipality": {"3118"}, "title": {"Frivilligsentralen i Askim"}, "service_area": {"culture"},
		"collaboration_model": {"network"}, "partner_0_name": {"Askim frivilligsentral"}, "partner_0_kind": {"voluntary_organisation"},
		"goals": {"Flere frivillige"}, "occurred_at": {"01.06.2019"}}
	p = admin.post("/p/new", form)
	if p.Status != http.StatusBadRequest || !strings.Contains(p.Body, `id="new-municipality-err"`) || !strings.Contains(p.Body, `<option value="0124">Askim (0124)</option>`) {
		t.Fatalf("a merged municipality before its merger: %d, want the choice of the former ones\n%s", p.Status, p.Body)
	}
	if !strings.Contains(p.Body, `value="Askim frivilligsentral"`) {
		t.Errorf("the input is not kept")
	}
	form.Set("former_municipality", "0124")
	p = admin.post("/p/new", form)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("with the former municipality chosen: %d\n%s", p.Status, p.Body)
	}
	st, _, _ := s.svc.History().State(context.Background(), strings.TrimPrefix(strings.Split(p.Location, "?")[0], "/p/"), partnership.View{})
	if st.Municipality != "0124" || st.CurrentMunicipality != "3118" {
		t.Errorf("recorded under %s (today %s), want 0124 (today 3118)", st.Municipality, st.CurrentMunicipality)
	}

	// A coordinator posting another municipality: 403, the form as typed.
	atoken, _ := formValues(t, arendal.get("/p/new").Body)
	form.Set("csrf_token", atoken)
	form.Set("occurred_at", "2024-06-01")
	p = arendal.post("/p/new", form)
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "Som koordinator kan du bare registrere for Arendal (4203).") ||
		!strings.Contains(p.Body, `value="Askim frivilligsentral"`) || !strings.Contains(p.Body, `id="form-new"`) {
		t.Errorf("a coordinator outside its municipality: %d, want 403 with the form kept\n%s", p.Status, p.Body)
	}
}

var partnerRowRe = regexp.MustCompile(`<fieldset class="row" data-row="new"`)

// TestPartnerRowsWithoutJavaScript: the form starts with two partner rows;
// "add a partner" draws it again with one more and everything typed kept,
// and a partnership with three partners is initiated from it.
func TestPartnerRowsWithoutJavaScript(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browserAs(t, "arendal")
	p := b.get("/p/new")
	if n := len(partnerRowRe.FindAllString(p.Body, -1)); n != 2 {
		t.Fatalf("%d partner rows at first, want 2", n)
	}
	token, _ := formValues(t, p.Body)
	form := url.Values{"csrf_token": {token}, "municipality": {"4203"}, "title": {"Turgrupper"}, "service_area": {"public_health"},
		"collaboration_model": {"co_governance"}, "partner_rows": {"2"},
		"partner_0_name": {"DNT Sør"}, "partner_0_kind": {"voluntary_organisation"},
		"partner_1_name": {"Frisklivssentralen"}, "partner_1_kind": {"municipal_unit"},
		"goals": {"Flere ut på tur"}, "occurred_at": {s.now().In(osloLoc()).Format("2006-01-02")}, "add_partner": {"1"}}
	p = b.post("/p/new", form)
	if p.Status != http.StatusOK || len(partnerRowRe.FindAllString(p.Body, -1)) != 3 {
		t.Fatalf("add a partner: %d with %d rows, want 200 with 3", p.Status, len(partnerRowRe.FindAllString(p.Body, -1)))
	}
	for _, want := range []string{`value="DNT Sør"`, `value="Frisklivssentralen"`, `value="Turgrupper"`, `id="new-partner_2_name"`, "<legend>Partner 3</legend>", `name="partner_rows" value="3"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the form drawn again lacks %s", want)
		}
	}
	if head, _ := s.store.Head(context.Background()); head != 0 {
		t.Fatalf("adding a row wrote: head %d", head)
	}
	form.Del("add_partner")
	form.Set("partner_rows", "3")
	form.Set("partner_2_name", "Arendal Røde Kors")
	form.Set("partner_2_kind", "voluntary_organisation")
	p = b.post("/p/new", form)
	if p.Status != http.StatusSeeOther {
		t.Fatalf("initiate with three partners: %d\n%s", p.Status, p.Body)
	}
	st, _, _ := s.svc.History().State(context.Background(), strings.TrimPrefix(strings.Split(p.Location, "?")[0], "/p/"), partnership.View{})
	if len(st.Partners) != 3 {
		t.Errorf("%d partners, want 3", len(st.Partners))
	}
}

// TestReadersSeeNoForms: a viewer (or researcher) is offered no form and
// no "new partnership" or "Registrer" action, only what it may do.
func TestReadersSeeNoForms(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	viewer, admin := s.browserAs(t, "viewer"), s.browser(t)
	for _, path := range []string{"/", "/m/4203", "/p/" + s.example, "/p/new"} {
		p := viewer.get(path)
		if p.Status != http.StatusOK {
			t.Errorf("%s: %d", path, p.Status)
		}
		for _, not := range []string{`id="form-`, `href="/p/new"`, `id="register"`, "/correct?entry="} {
			if strings.Contains(p.Body, not) {
				t.Errorf("%s shows a viewer %s", path, not)
			}
		}
	}
	if p := viewer.get("/p/new"); !strings.Contains(p.Body, "kan lese, men ikke registrere") {
		t.Errorf("/p/new does not tell a viewer why there is no form")
	}
	p := admin.get("/p/" + s.example)
	for _, want := range []string{`href="/p/new"`, `<a class="button" id="register" href="#forms">Registrer</a>`, `id="form-milestone"`, "/correct?entry="} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the admin's partnership page lacks %s", want)
		}
	}
	// The forms come before the history, the Registrer action first of all.
	if i, j, k := strings.Index(p.Body, `id="register"`), strings.Index(p.Body, `id="forms"`), strings.Index(p.Body, `id="history"`); i > j || j > k {
		t.Errorf("the page's order: Registrer at %d, forms at %d, history at %d", i, j, k)
	}
}
