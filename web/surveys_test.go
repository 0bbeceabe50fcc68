package web

import (
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/surveys"
)

// newTestSurveys is the site's survey service over its event store and
// its token store (the links' and the projects' store).
func newTestSurveys(store eventstore.Store, tokens interface {
	auth.ProjectStore
	auth.SurveyLinkStore
}, now func() time.Time, logger *slog.Logger) *surveys.Service {
	return surveys.New(store, tokens, tokens, surveys.WithClock(now), surveys.WithLogger(logger))
}

// leadersYAML is a small valid questionnaire: a Likert item labelled at
// its ends, a single choice, free text shown only after one of its
// options, a multiple choice and a number; texts in bokmål, nynorsk and
// English (some in bokmål only, which the other languages fall back to).
const leadersYAML = `id: offri-leaders
title:
  nb: Samarbeid med frivillige
  nn: Samarbeid med frivillige
  en: Working with volunteers
sections:
  - id: leadership
    title:
      nb: Ledelse
      nn: Leiing
      en: Leadership
    items:
      - id: lead_support
        kind: likert
        required: true
        text:
          nb: Ledelsen støtter samarbeidet.
          nn: Leiinga støttar samarbeidet.
          en: Management supports the partnership.
        scale:
          points: 5
          labels:
            - {nb: Helt uenig, nn: Heilt usamd, en: Strongly disagree}
            - {nb: Helt enig, nn: Heilt samd, en: Strongly agree}
      - id: lead_role
        kind: single
        text:
          nb: Hvem leder arbeidet?
          nn: Kven leier arbeidet?
          en: Who leads the work?
        options:
          - {code: municipality, label: {nb: Kommunen, nn: Kommunen, en: The municipality}}
          - {code: volunteers, label: {nb: De frivillige, nn: Dei frivillige, en: The volunteers}}
      - id: lead_why
        kind: text
        show_if: {item: lead_role, in: [volunteers]}
        text:
          nb: Hvorfor leder de frivillige?
          en: Why do the volunteers lead?
  - id: practice
    title:
      nb: Praksis
      en: Practice
    items:
      - id: practice_areas
        kind: multiple
        text:
          nb: Hvor samarbeider dere?
          en: Where do you work together?
        options:
          - {code: culture, label: {nb: Kultur, en: Culture}}
          - {code: health, label: {nb: Helse, en: Health}}
      - id: practice_hours
        kind: number
        min: 0
        max: 500
        integer: true
        unit: {nb: timer per måned, en: hours per month}
        text:
          nb: Hvor mange timer bruker du på samarbeidet?
          en: How many hours do you spend on the partnership?
`

// surveyFixture makes project offri (Arendal 4203 and Steinkjer 5006)
// unless it exists, grants it to the tokens named, publishes leadersYAML
// and schedules a wave of it in the project's municipalities, open for a
// month; it returns the wave's id.
func surveyFixture(t testing.TB, s *site, members ...string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := s.projectStore.Project(ctx, "offri"); err != nil {
		if _, err := s.projectStore.CreateProject(ctx, auth.SystemPrincipal, auth.Project{ID: "offri", Name: "Samspill over tid", Institution: "Universitetet i Oslo",
			Purpose: "Varighet", Starts: "2026-01-01", Municipalities: []kommune.Code{"4203", "5006"}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, m := range members {
		if err := s.projectStore.GrantProject(ctx, auth.SystemPrincipal, "offri", m); err != nil {
			t.Fatal(err)
		}
	}
	q, err := survey.Parse([]byte(leadersYAML))
	if err != nil {
		t.Fatal(err)
	}
	actor := eventstore.Actor{Subject: "admin", Role: auth.RoleAdmin}
	if _, err := s.surveys.Publish(ctx, actor, q); err != nil {
		t.Fatal(err)
	}
	pj, err := s.projectStore.Project(ctx, "offri")
	if err != nil {
		t.Fatal(err)
	}
	today := s.now().In(calendar.Oslo)
	w, err := s.surveys.Schedule(ctx, actor, survey.Wave{ProjectID: "offri", Title: "OFFRI 2027, kommunale ledere", QuestionnaireID: "offri-leaders",
		QuestionnaireVersion: 1, Group: survey.GroupMunicipalLeaders, Municipalities: codesOf(pj),
		Opens: calendar.Day(today), Closes: calendar.Day(today.AddDate(0, 1, 0))})
	if err != nil {
		t.Fatal(err)
	}
	return w.ID
}

// surveyAxePaths makes the survey fixture (the admin a member of offri)
// and returns the survey pages for the accessibility walk.
func surveyAxePaths(t testing.TB, s *site) []string {
	t.Helper()
	wave := surveyFixture(t, s, "admin")
	// Links, so that the wave's page shows its tracking table.
	w, err := s.surveys.Wave(context.Background(), wave)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.surveys.IssueLinks(context.Background(), eventstore.Actor{Subject: "admin", Role: auth.RoleAdmin}, wave,
		surveys.LinkRequest{Municipality: w.Municipalities[0], Count: 2}); err != nil {
		t.Fatal(err)
	}
	return []string{"/surveys", "/surveys/questionnaires", "/surveys/questionnaires/offri-leaders/1", "/surveys/questionnaires/offri-leaders/1?text=en",
		"/surveys/projects/offri/waves/new", "/surveys/waves/" + wave}
}

func wantPage(t *testing.T, p page, status int, contains ...string) {
	t.Helper()
	if p.Status != status {
		t.Fatalf("status %d, want %d\n%s", p.Status, status, p.Body)
	}
	for _, s := range contains {
		if !strings.Contains(p.Body, s) {
			t.Errorf("the page lacks %q", s)
		}
	}
}

var waveLinkRe = regexp.MustCompile(`^/surveys/waves/([^/?]+)$`)

// TestSurveyQuestionnairePages: an invalid definition is refused with
// every problem listed and its text kept; a valid one is checked and
// previewed without being stored, then published from a file and
// previewed in nynorsk and English, skip conditions in words.
func TestSurveyQuestionnairePages(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browserAs(t, "researcher")
	p := b.get("/surveys/questionnaires")
	wantPage(t, p, http.StatusOK, `id="form-questionnaire"`, `id="questionnaires-none"`, "Sjekk og forhåndsvis", `class="surveys" href="/surveys"`)

	bad := strings.NewReplacer("points: 5", "points: 6", "id: lead_role", "id: lead_support", "in: [volunteers]", "in: [nobody]").Replace(leadersYAML)
	before, _ := s.store.Head(context.Background())
	p = b.postMultipart("/surveys/questionnaires", map[string]string{"definition": bad, "action": "publish"}, "", "")
	wantPage(t, p, http.StatusUnprocessableEntity, `id="questionnaire-errors"`, "scale.points", "points: 6")
	if n := strings.Count(p.Body[strings.Index(p.Body, `id="questionnaire-errors"`):strings.Index(p.Body, `id="form-questionnaire"`)], "<li>"); n < 3 {
		t.Errorf("%d problems listed, want every one of the three", n)
	}
	p = b.postMultipart("/surveys/questionnaires", map[string]string{"definition": leadersYAML, "action": "check"}, "", "")
	wantPage(t, p, http.StatusOK, `id="questionnaire-checked"`, "Ledelsen støtter samarbeidet.", "1 – Helt uenig", "5 – Helt enig", "Vises bare hvis svaret på «Hvem leder arbeidet?» er «De frivillige».")
	if after, _ := s.store.Head(context.Background()); after != before {
		t.Error("refusing and checking wrote events")
	}
	p = b.postMultipart("/surveys/questionnaires", map[string]string{"action": "publish"}, "leaders.yaml", leadersYAML)
	if p.Status != http.StatusSeeOther || p.Location != "/surveys/questionnaires/offri-leaders/1?published=1" {
		t.Fatalf("publish: %d to %q\n%s", p.Status, p.Location, p.Body)
	}
	wantPage(t, b.get(p.Location), http.StatusOK, `id="questionnaire-published"`, "Samarbeid med frivillige, versjon 1", `data-kind="likert"`, `data-kind="number"`, "timer per måned")
	wantPage(t, b.get("/surveys/questionnaires/offri-leaders/1?text=nn"), http.StatusOK, `lang="nn"`, "Leiinga støttar samarbeidet.", "Heilt usamd", "Kven leier arbeidet?")
	wantPage(t, b.get("/surveys/questionnaires/offri-leaders/1?text=en"), http.StatusOK, "Management supports the partnership.", "Where do you work together?")
	wantPage(t, b.get("/surveys/questionnaires"), http.StatusOK, `data-questionnaire="offri-leaders"`)
	wantPage(t, b.get("/surveys/questionnaires/offri-leaders/2"), http.StatusNotFound)
	// The same refused in nynorsk, with the form's text kept.
	b.setLang("nn")
	p = b.postMultipart("/surveys/questionnaires", map[string]string{"definition": bad, "action": "check"}, "", "")
	wantPage(t, p, http.StatusUnprocessableEntity, "Spørjeskjemaet har", "er brukt to gonger")
	// A file over the limit is refused as such.
	p = b.postMultipart("/surveys/questionnaires", map[string]string{"action": "check"}, "big.yaml", strings.Repeat("#", 1<<20+1))
	wantPage(t, p, http.StatusRequestEntityTooLarge, "1 MiB")
	// Others may not.
	wantPage(t, s.browserAs(t, "viewer").get("/surveys/questionnaires"), http.StatusForbidden)
	wantPage(t, s.browserAs(t, "arendal").get("/surveys/questionnaires"), http.StatusForbidden)
}

// TestSurveyWavePages: a member schedules a wave through the form (a
// refused one is drawn again with its problems), follows it, downloads
// links that open through the service, and closes it; the coordinator
// sees its own municipality's counts only and no forms; a researcher
// outside the project gets the page of an unknown wave.
func TestSurveyWavePages(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	ctx := context.Background()
	other := surveyFixture(t, s) // a wave of offri, which researcher is not yet a member of
	b := s.browserAs(t, "researcher")
	notFoundPage := b.get("/surveys/waves/no-such-wave")
	wantPage(t, notFoundPage, http.StatusNotFound)
	hidden := b.get("/surveys/waves/" + other)
	wantPage(t, hidden, http.StatusNotFound)
	if strings.Contains(hidden.Body, "OFFRI 2027") {
		t.Error("the page of another project's wave names it")
	}
	wantPage(t, b.get("/surveys/projects/offri/waves/new"), http.StatusNotFound)
	if err := s.projectStore.GrantProject(ctx, auth.SystemPrincipal, "offri", "researcher"); err != nil {
		t.Fatal(err)
	}

	wantPage(t, b.get("/surveys"), http.StatusOK, `data-project="offri"`, `href="/surveys/projects/offri/waves/new"`, "OFFRI 2027")
	p := b.get("/surveys/projects/offri/waves/new")
	wantPage(t, p, http.StatusOK, `id="form-wave"`, `value="offri-leaders@1"`, `id="w-m-4203"`, "Arendal", "Kommunale ledere")
	csrf, _ := formValues(t, p.Body)
	today := s.now().In(calendar.Oslo)
	form := url.Values{"csrf_token": {csrf}, "title": {"OFFRI 2027, frivillige"}, "questionnaire": {"offri-leaders@1"}, "group": {survey.GroupVolunteers},
		"municipalities": {"4203"}, "opens": {calendar.Day(today)}, "closes": {"2020-01-01"}}
	p = b.post("/surveys/projects/offri/waves/new", form)
	wantPage(t, p, http.StatusUnprocessableEntity, `id="wave-errors"`, `value="OFFRI 2027, frivillige"`)
	form.Set("closes", calendar.Day(today.AddDate(0, 0, 14)))
	p = b.post("/surveys/projects/offri/waves/new", form)
	m := waveLinkRe.FindStringSubmatch(p.Location)
	if p.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("schedule: %d to %q\n%s", p.Status, p.Location, p.Body)
	}
	wave := m[1]
	p = b.get(p.Location)
	wantPage(t, p, http.StatusOK, "OFFRI 2027, frivillige", "Frivillige", `id="wave-no-links"`, `id="form-links"`, `id="form-close"`,
		`href="/surveys/waves/`+wave+`/mail"`, `href="/surveys/waves/`+wave+`/report/4203"`,
		`href="/research/files/responses.csv?project=offri&amp;wave=`+wave+`"`, "responses.dta?", "responses.parquet?")

	p = b.post("/surveys/waves/"+wave+"/links", url.Values{"csrf_token": {csrf}, "municipality": {"4203"}, "count": {"0"}})
	wantPage(t, p, http.StatusUnprocessableEntity, `id="wave-errors"`, "Antall lenker")
	p = b.post("/surveys/waves/"+wave+"/links", url.Values{"csrf_token": {csrf}, "municipality": {"4203"}, "count": {"3"}})
	if p.Status != http.StatusOK || !strings.HasPrefix(p.Header.Get("Content-Type"), "text/csv") || !strings.Contains(p.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("links: %d %s %s\n%s", p.Status, p.Header.Get("Content-Type"), p.Header.Get("Content-Disposition"), p.Body)
	}
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil || len(rows) != 4 || rows[0][0] != "url" {
		t.Fatalf("CSV %q: %v", rows, err)
	}
	for _, row := range rows[1:] {
		token, ok := strings.CutPrefix(row[0], s.srv.URL+"/s/")
		if !ok || row[1] != "4203" {
			t.Fatalf("row %q", row)
		}
		session, err := s.surveys.Open(ctx, token)
		if err != nil || session.Wave.ID != wave {
			t.Fatalf("open %s: %+v, %v", row[0], session.Wave, err)
		}
	}
	if _, err := s.surveys.Save(ctx, strings.TrimPrefix(rows[1][0], s.srv.URL+"/s/"), survey.LangNB, survey.Answers{"lead_support": {"3"}}, nil, "r1"); err != nil {
		t.Fatal(err)
	}
	other5006 := url.Values{"csrf_token": {csrf}, "municipality": {"5006"}, "count": {"2"}}
	if p := b.post("/surveys/waves/"+other+"/links", other5006); p.Status != http.StatusOK {
		t.Fatalf("links of the other wave: %d", p.Status)
	}
	p = b.get("/surveys/waves/" + wave)
	wantPage(t, p, http.StatusOK, `id="wave-tracking"`, `data-municipality="4203"`)
	totals := p.Body[strings.Index(p.Body, `id="wave-totals"`):]
	for _, want := range []string{">3</td>", ">1</td>", ">0 %</td>"} {
		if !strings.Contains(totals, want) {
			t.Errorf("the totals lack %s: %s", want, totals[:min(len(totals), 600)])
		}
	}

	// The coordinator of Arendal: counts of 4203 only, no forms, no links.
	coord := s.browserAs(t, "arendal")
	wantPage(t, coord.get("/surveys"), http.StatusOK, `id="coordinator-waves"`, `data-wave="`+wave+`"`, `data-wave="`+other+`"`)
	p = coord.get("/surveys/waves/" + other)
	wantPage(t, p, http.StatusOK, `id="wave-no-links"`, `href="/surveys/waves/`+other+`/report/4203"`)
	for _, never := range []string{`data-municipality="5006"`, `id="form-links"`, `id="form-close"`, "/mail", "responses.csv", "/report/5006"} {
		if strings.Contains(p.Body, never) {
			t.Errorf("the coordinator's page has %s", never)
		}
	}
	coordCSRF, _ := formValues(t, coord.get("/surveys").Body)
	if p := coord.post("/surveys/waves/"+wave+"/links", url.Values{"csrf_token": {coordCSRF}, "municipality": {"4203"}, "count": {"1"}}); p.Status != http.StatusForbidden {
		t.Errorf("the coordinator makes links: %d", p.Status)
	}
	wantPage(t, s.browserAs(t, "viewer").get("/surveys"), http.StatusForbidden)

	p = b.post("/surveys/waves/"+wave+"/close", url.Values{"csrf_token": {csrf}, "reason": {"nok svar"}})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("close: %d\n%s", p.Status, p.Body)
	}
	p = b.get("/surveys/waves/" + wave)
	wantPage(t, p, http.StatusOK, "Stengt ")
	if strings.Contains(p.Body, `id="form-links"`) {
		t.Error("a closed wave still offers links")
	}
	if p := b.post("/surveys/waves/"+wave+"/links", url.Values{"csrf_token": {csrf}, "municipality": {"4203"}, "count": {"1"}}); p.Status != http.StatusConflict {
		t.Errorf("links of a closed wave: %d", p.Status)
	}
}
