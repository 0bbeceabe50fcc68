package http

import (
	"bytes"
	"context"
	"encoding/csv"
	"net/http"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/personal"
	personalsqlite "github.com/samspill/samspill/personal/sqlite"
	"github.com/samspill/samspill/surveys"
)

// The survey routes' bodies and vocabularies, for the OpenAPI agreement
// tests (openapi_test.go).
func init() {
	requestTypes["POST /api/v1/surveys/questionnaires"] = reflect.TypeFor[survey.Questionnaire]()
	requestTypes["POST /api/v1/surveys/questionnaires/validate"] = reflect.TypeFor[survey.Questionnaire]()
	requestTypes["POST /api/v1/research/projects/{project}/waves"] = reflect.TypeFor[waveRequest]()
	requestTypes["POST /api/v1/surveys/waves/{wave}/close"] = reflect.TypeFor[closeWaveRequest]()
	requestTypes["POST /api/v1/surveys/waves/{wave}/links"] = reflect.TypeFor[linksRequest]()
	vocabularies["SurveyGroup"] = survey.Groups
	vocabularies["SurveyItemKind"] = survey.Kinds
}

// leadersYAML is a small valid questionnaire in YAML: a Likert item
// labelled at its ends, a single choice with a skip condition on it, a
// multiple choice, a number and free text.
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
          en: Who leads the work?
        options:
          - {code: municipality, label: {nb: Kommunen, en: The municipality}}
          - {code: volunteers, label: {nb: De frivillige, en: The volunteers}}
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

// surveyAPI is a server with surveys over real stores: the SQLite event
// store, an auth SQLite store with research projects and the survey
// links, and a real surveys.Service. Tokens: admin, forsker (member of
// offri), forsker2 (not), arendal (coordinator of 4203), oslo
// (coordinator of 0301) and viewer. Project offri covers 4203 and 5006.
type surveyAPI struct {
	*testAPI
	svc    *surveys.Service
	tokens map[string]string
}

func newSurveyAPI(t *testing.T) *surveyAPI {
	t.Helper()
	ctx := context.Background()
	keys, err := personalsqlite.Open(ctx, filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = keys.Close() })
	projectSealer, err := auth.NewProjectSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	store, err := authsqlite.Open(ctx, filepath.Join(t.TempDir(), "tokens.db"), authsqlite.WithSealer(personal.UserSealer{Keys: keys}), authsqlite.WithProjectSealer(projectSealer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	a := &surveyAPI{tokens: map[string]string{}}
	for _, spec := range []auth.Spec{
		{Name: "admin", Role: auth.RoleAdmin},
		{Name: "forsker", Role: auth.RoleResearcher},
		{Name: "forsker2", Role: auth.RoleResearcher},
		{Name: "arendal", Role: auth.RoleCoordinator, Municipalities: []string{"4203"}},
		{Name: "oslo", Role: auth.RoleCoordinator, Municipalities: []string{"0301"}},
		{Name: "viewer", Role: auth.RoleViewer},
	} {
		if a.tokens[spec.Name], err = store.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.CreateProject(ctx, auth.SystemPrincipal, auth.Project{ID: "offri", Name: "Offentlig-frivillig samspill", Institution: "Universitetet i Oslo",
		Purpose: "Varighet", Starts: "2026-01-01", Municipalities: []kommune.Code{"4203", "5006"}}); err != nil {
		t.Fatal(err)
	}
	if err := store.GrantProject(ctx, auth.SystemPrincipal, "offri", "forsker"); err != nil {
		t.Fatal(err)
	}
	a.testAPI = startTestAPI(t, func(c *Config) {
		a.svc = surveys.New(c.Store, store, store, surveys.WithLogger(c.Logger))
		c.Tokens, c.Admin, c.Projects, c.Surveys = store, store, store, a.svc
	}, nil)
	return a
}

// as sends a request with the named token.
func (a *surveyAPI) as(name, method, path string, body any, headers ...string) response {
	a.t.Helper()
	return doRequest(a.t, a.srv.URL, method, path, body, append([]string{"Authorization", "Bearer " + a.tokens[name]}, headers...)...)
}

// publishLeaders publishes leadersYAML as forsker.
func (a *surveyAPI) publishLeaders() survey.Questionnaire {
	a.t.Helper()
	r := a.as("forsker", "POST", "/api/v1/surveys/questionnaires", leadersYAML, "Content-Type", "application/yaml")
	wantStatus(a.t, r, http.StatusCreated)
	return decodeBody[survey.Questionnaire](a.t, r)
}

// waveBody is a valid wave of offri open from today for a month.
func waveBody() obj {
	today := time.Now().In(calendar.Oslo)
	return obj{"title": "OFFRI 2027, kommunale ledere", "questionnaire_id": "offri-leaders", "questionnaire_version": 1,
		"group": survey.GroupMunicipalLeaders, "municipalities": []string{"4203", "5006"},
		"opens": calendar.Day(today), "closes": calendar.Day(today.AddDate(0, 1, 0))}
}

// scheduleWave publishes the questionnaire and schedules waveBody as
// forsker.
func (a *surveyAPI) scheduleWave() waveResponse {
	a.t.Helper()
	a.publishLeaders()
	r := a.as("forsker", "POST", "/api/v1/research/projects/offri/waves", waveBody())
	wantStatus(a.t, r, http.StatusCreated)
	return decodeBody[waveResponse](a.t, r)
}

// TestSurveyQuestionnairesAPI: a YAML definition publishes as version 1
// (and again as the same version), a JSON change as version 2; each
// version reads back; an invalid definition is a 422 naming every problem
// and stores nothing; the check route stores nothing; other media types
// are 415; only researchers and admins may.
func TestSurveyQuestionnairesAPI(t *testing.T) {
	t.Parallel()
	a := newSurveyAPI(t)
	q := a.publishLeaders()
	if q.ID != "offri-leaders" || q.Version != 1 || len(q.Sections) != 2 {
		t.Fatalf("published %+v, want offri-leaders version 1 with 2 sections", q)
	}
	again := a.as("admin", "POST", "/api/v1/surveys/questionnaires", leadersYAML, "Content-Type", "text/yaml")
	wantStatus(t, again, http.StatusOK)
	if v := decodeBody[survey.Questionnaire](t, again).Version; v != 1 {
		t.Errorf("an unchanged definition published version %d, want 1", v)
	}
	q.Version = 0
	q.Title[survey.LangEN] = "Working with volunteers (revised)"
	r := a.as("forsker", "POST", "/api/v1/surveys/questionnaires", q)
	wantStatus(t, r, http.StatusCreated)
	if v := decodeBody[survey.Questionnaire](t, r).Version; v != 2 {
		t.Errorf("a changed definition published version %d, want 2", v)
	}
	if loc := r.Header.Get("Location"); loc != "/api/v1/surveys/questionnaires/offri-leaders/versions/2" {
		t.Errorf("Location = %q", loc)
	}
	latest := decodeBody[survey.Questionnaire](t, a.as("forsker", "GET", "/api/v1/surveys/questionnaires/offri-leaders", nil))
	first := decodeBody[survey.Questionnaire](t, a.as("forsker", "GET", "/api/v1/surveys/questionnaires/offri-leaders/versions/1", nil))
	if latest.Version != 2 || latest.Title.In(survey.LangEN) != "Working with volunteers (revised)" || first.Version != 1 || first.Title.In(survey.LangEN) != "Working with volunteers" {
		t.Errorf("latest %d %q, first %d %q", latest.Version, latest.Title.In(survey.LangEN), first.Version, first.Title.In(survey.LangEN))
	}
	list := decodeBody[questionnaireList](t, a.as("forsker2", "GET", "/api/v1/surveys/questionnaires", nil))
	if len(list.Items) != 1 || list.Items[0].Version != 2 {
		t.Errorf("list = %+v, want offri-leaders version 2", list.Items)
	}
	wantProblem(t, a.as("forsker", "GET", "/api/v1/surveys/questionnaires/offri-leaders/versions/3", nil), http.StatusNotFound, typeNotFound)
	wantProblem(t, a.as("forsker", "GET", "/api/v1/surveys/questionnaires/nobody", nil), http.StatusNotFound, typeNotFound)
	wantProblem(t, a.as("forsker", "GET", "/api/v1/surveys/questionnaires/offri-leaders/versions/x", nil), http.StatusBadRequest, typeValidation)

	// Three problems in one definition: every one is named.
	bad := strings.NewReplacer("points: 5", "points: 6", "id: lead_role", "id: lead_support", "in: [volunteers]", "in: [nobody]").Replace(leadersYAML)
	bad = strings.Replace(bad, "id: offri-leaders", "id: offri-bad", 1)
	before := a.head()
	for _, path := range []string{"/api/v1/surveys/questionnaires", "/api/v1/surveys/questionnaires/validate"} {
		r := a.as("forsker", "POST", path, bad, "Content-Type", "application/yaml")
		if r.Status != http.StatusUnprocessableEntity || !strings.HasPrefix(r.Header.Get("Content-Type"), problemContentType) {
			t.Fatalf("%s: status %d %s, want a 422 problem: %s", path, r.Status, r.Header.Get("Content-Type"), r.Body)
		}
		p := decodeBody[questionnaireProblem](t, r)
		if len(p.Errors) < 3 {
			t.Errorf("%s: errors %+v, want every one of the three problems", path, p.Errors)
		}
		for _, e := range p.Errors {
			if e.Path == "" || e.Code == "" || e.Message == "" {
				t.Errorf("%s: a problem without path, code or message: %+v", path, e)
			}
		}
		if !slices.ContainsFunc(p.Errors, func(e survey.Problem) bool { return strings.Contains(e.Path, "scale.points") }) {
			t.Errorf("%s: no problem names scale.points: %+v", path, p.Errors)
		}
	}
	if a.head() != before {
		t.Error("an invalid definition wrote events")
	}
	ok := a.as("forsker", "POST", "/api/v1/surveys/questionnaires/validate", strings.Replace(leadersYAML, "id: offri-leaders", "id: offri-other", 1), "Content-Type", "application/yaml")
	wantStatus(t, ok, http.StatusOK)
	if v := decodeBody[validationResult](t, ok); !v.Valid || v.Questionnaire.ID != "offri-other" {
		t.Errorf("validate = %+v", v)
	}
	if a.head() != before {
		t.Error("the check wrote events")
	}
	wantProblem(t, a.as("forsker", "POST", "/api/v1/surveys/questionnaires", leadersYAML, "Content-Type", "text/plain"), http.StatusUnsupportedMediaType, typeValidation)
	wantProblem(t, a.as("forsker", "POST", "/api/v1/surveys/questionnaires", leadersYAML), http.StatusBadRequest, typeValidation)
	wantProblem(t, a.as("forsker", "POST", "/api/v1/surveys/questionnaires", strings.Repeat("#", maxBody+1), "Content-Type", "application/yaml"), http.StatusRequestEntityTooLarge, typeTooLarge)
	for _, who := range []string{"viewer", "arendal"} {
		wantProblem(t, a.as(who, "GET", "/api/v1/surveys/questionnaires", nil), http.StatusForbidden, "")
		wantProblem(t, a.as(who, "POST", "/api/v1/surveys/questionnaires", leadersYAML, "Content-Type", "application/yaml"), http.StatusForbidden, "")
	}
	wantProblem(t, a.as("", "GET", "/api/v1/surveys/questionnaires", nil, "Authorization", ""), http.StatusUnauthorized, "")
}

// TestSurveyWavesAPI: a member schedules and reads a wave of the project;
// a researcher outside it gets the same 404 as for an unknown project or
// wave; an invalid wave is a 422 naming every field; a malformed one 400.
func TestSurveyWavesAPI(t *testing.T) {
	t.Parallel()
	a := newSurveyAPI(t)
	w := a.scheduleWave()
	if w.ID == "" || w.ProjectID != "offri" || w.Group != survey.GroupMunicipalLeaders || !slices.Equal(w.Municipalities, []string{"4203", "5006"}) || w.Closed {
		t.Fatalf("scheduled %+v", w)
	}
	for _, who := range []string{"forsker", "admin"} {
		got := decodeBody[waveResponse](t, a.as(who, "GET", "/api/v1/surveys/waves/"+w.ID, nil))
		if got.ID != w.ID || got.Title != w.Title {
			t.Errorf("%s reads %+v", who, got)
		}
		list := decodeBody[waveList](t, a.as(who, "GET", "/api/v1/research/projects/offri/waves", nil))
		if len(list.Items) != 1 || list.Items[0].ID != w.ID {
			t.Errorf("%s lists %+v", who, list.Items)
		}
	}
	// Outside the project: the answers of unknown ids, word for word.
	unknownWave := a.as("forsker", "GET", "/api/v1/surveys/waves/no-such-wave", nil)
	wantProblem(t, unknownWave, http.StatusNotFound, typeNotFound)
	for _, r := range []response{
		a.as("forsker2", "GET", "/api/v1/surveys/waves/"+w.ID, nil),
		a.as("forsker2", "POST", "/api/v1/surveys/waves/"+w.ID+"/close", obj{"reason": "x"}),
		a.as("forsker2", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "4203", "count": 1}),
		a.as("forsker2", "GET", "/api/v1/surveys/waves/"+w.ID+"/progress", nil),
	} {
		wantProblem(t, r, http.StatusNotFound, typeNotFound)
		if !bytes.Equal(r.Body, unknownWave.Body) {
			t.Errorf("a wave of another project answers %s, an unknown one %s", r.Body, unknownWave.Body)
		}
	}
	unknownProject := a.as("forsker2", "GET", "/api/v1/research/projects/no-such/waves", nil)
	for _, r := range []response{
		a.as("forsker2", "GET", "/api/v1/research/projects/offri/waves", nil),
		a.as("forsker2", "POST", "/api/v1/research/projects/offri/waves", waveBody()),
	} {
		wantProblem(t, r, http.StatusNotFound, typeNotFound)
		if !bytes.Equal(r.Body, unknownProject.Body) {
			t.Errorf("another's project answers %s, an unknown one %s", r.Body, unknownProject.Body)
		}
	}
	wantProblem(t, a.as("arendal", "GET", "/api/v1/surveys/waves/"+w.ID, nil), http.StatusForbidden, "")
	wantProblem(t, a.as("viewer", "POST", "/api/v1/research/projects/offri/waves", waveBody()), http.StatusForbidden, "")

	// Every invalid field named at once.
	before := a.head()
	bad := with(with(with(waveBody(), "group", "everyone"), "municipalities", []string{"0301"}), "closes", "2020-01-01")
	p := wantProblem(t, a.as("forsker", "POST", "/api/v1/research/projects/offri/waves", bad), http.StatusUnprocessableEntity, typeValidation)
	for _, f := range []string{"group", "municipalities", "closes"} {
		if !p.hasField(f, true) {
			t.Errorf("errors %q do not name %s", p.fields(), f)
		}
	}
	wantProblem(t, a.as("forsker", "POST", "/api/v1/research/projects/offri/waves", with(waveBody(), "questionnaire_version", 9)), http.StatusUnprocessableEntity, "")
	p = wantProblem(t, a.as("forsker", "POST", "/api/v1/research/projects/offri/waves", with(waveBody(), "count", 3)), http.StatusBadRequest, typeValidation)
	if !p.hasField("count", false) {
		t.Errorf("an unknown field: errors %q", p.fields())
	}
	wantProblem(t, a.as("forsker", "POST", "/api/v1/research/projects/offri/waves", with(waveBody(), "municipalities", "4203")), http.StatusBadRequest, typeValidation)
	if a.head() != before {
		t.Error("a refused wave wrote events")
	}
}

// TestSurveyLinksAPI: links come as JSON or as the CSV download with
// absolute URLs, each opens its wave through the service, none is
// shown twice; a bad count or municipality is a 422; a closed wave makes
// no more (409).
func TestSurveyLinksAPI(t *testing.T) {
	t.Parallel()
	a := newSurveyAPI(t)
	w := a.scheduleWave()
	ctx := context.Background()
	r := a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "4203", "count": 2})
	wantStatus(t, r, http.StatusCreated)
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	js := decodeBody[linksResponse](t, r)
	if js.WaveID != w.ID || len(js.Links) != 2 || js.Links[0].URL == js.Links[1].URL {
		t.Fatalf("links = %+v", js)
	}
	r = a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "5006", "count": 3}, "Accept", "text/csv")
	wantStatus(t, r, http.StatusCreated)
	if ct, cd := r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"); !strings.HasPrefix(ct, "text/csv") || !strings.Contains(cd, "attachment") {
		t.Errorf("Content-Type %q, Content-Disposition %q", ct, cd)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("the CSV does not parse: %v\n%s", err, r.Body)
	}
	if len(rows) != 4 || !slices.Equal(rows[0], []string{"url", "municipality", "partnership_id", "expires_at"}) {
		t.Fatalf("CSV = %q", rows)
	}
	var tokens []string
	for _, l := range js.Links {
		tokens = append(tokens, l.URL)
	}
	for _, row := range rows[1:] {
		if row[1] != "5006" || row[2] != "" {
			t.Errorf("row %q, want municipality 5006 and no partnership", row)
		}
		if _, err := time.Parse(time.RFC3339, row[3]); err != nil {
			t.Errorf("expires_at %q: %v", row[3], err)
		}
		tokens = append(tokens, row[0])
	}
	for _, u := range tokens {
		token, ok := strings.CutPrefix(u, a.srv.URL+"/s/")
		if !ok || token == "" {
			t.Fatalf("link %q is not an absolute /s/ URL of the server", u)
		}
		session, err := a.svc.Open(ctx, token)
		if err != nil {
			t.Fatalf("open %s: %v", u, err)
		}
		if session.Wave.ID != w.ID {
			t.Errorf("link opens wave %q, want %q", session.Wave.ID, w.ID)
		}
	}
	if _, err := a.svc.Open(ctx, "not-a-token"); err == nil {
		t.Error("a made-up token opens something")
	}

	before := a.head()
	p := wantProblem(t, a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "", "count": 0}), http.StatusUnprocessableEntity, typeValidation)
	for _, f := range []string{"municipality", "count"} {
		if !p.hasField(f, false) {
			t.Errorf("errors %q do not name %s", p.fields(), f)
		}
	}
	wantProblem(t, a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "4203", "count": surveys.MaxLinksPerCall + 1}), http.StatusUnprocessableEntity, typeValidation)
	wantProblem(t, a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "0301", "count": 1}), http.StatusUnprocessableEntity, typeValidation)
	wantProblem(t, a.as("arendal", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "4203", "count": 1}), http.StatusForbidden, "")
	if a.head() != before {
		t.Error("refused link requests wrote events")
	}

	r = a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/close", obj{"reason": "the municipality asked us to stop"})
	wantStatus(t, r, http.StatusOK)
	if closed := decodeBody[waveResponse](t, r); !closed.Closed || closed.ClosedOn == "" {
		t.Errorf("closed wave = %+v", closed)
	}
	wantProblem(t, a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "4203", "count": 1}), http.StatusConflict, typeRule)
	wantProblem(t, a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/close", obj{"reason": strings.Repeat("x", 501)}), http.StatusBadRequest, typeValidation)
}

// TestSurveyProgressAPI: those who manage a wave see every row; a
// coordinator of one of its municipalities sees its own rows and their
// totals only; a coordinator elsewhere the 404 of an unknown wave; a
// viewer 403.
func TestSurveyProgressAPI(t *testing.T) {
	t.Parallel()
	a := newSurveyAPI(t)
	w := a.scheduleWave()
	ctx := context.Background()
	arendal := decodeBody[linksResponse](t, a.as("forsker", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "4203", "count": 2}))
	wantStatus(t, a.as("admin", "POST", "/api/v1/surveys/waves/"+w.ID+"/links", obj{"municipality": "5006", "count": 3}), http.StatusCreated)
	token := strings.TrimPrefix(arendal.Links[0].URL, a.srv.URL+"/s/")
	if _, err := a.svc.Save(ctx, token, survey.LangNN, survey.Answers{"lead_support": {"4"}}, nil, "req-1"); err != nil {
		t.Fatalf("save: %v", err)
	}

	all := decodeBody[progressResponse](t, a.as("forsker", "GET", "/api/v1/surveys/waves/"+w.ID+"/progress", nil))
	if all.Wave.ID != w.ID || all.Totals.Invited != 5 || all.Totals.Started != 1 || all.Totals.Completed != 0 {
		t.Errorf("progress totals = %+v, want 5 invited, 1 started", all.Totals)
	}
	byMunicipality := map[string]progressRow{}
	for _, r := range all.Rows {
		byMunicipality[r.Municipality] = r
	}
	if byMunicipality["4203"].Invited != 2 || byMunicipality["4203"].Started != 1 || byMunicipality["5006"].Invited != 3 {
		t.Errorf("rows = %+v", all.Rows)
	}
	if rate := all.Totals.ResponseRate; rate == nil || *rate != 0 {
		t.Errorf("response rate = %v, want 0", rate)
	}

	own := decodeBody[progressResponse](t, a.as("arendal", "GET", "/api/v1/surveys/waves/"+w.ID+"/progress", nil))
	if len(own.Rows) == 0 || own.Totals.Invited != 2 || own.Totals.Started != 1 {
		t.Errorf("the coordinator's totals = %+v, want 2 invited, 1 started (4203 only)", own.Totals)
	}
	for _, r := range own.Rows {
		if r.Municipality != "4203" {
			t.Errorf("the coordinator of 4203 sees a row of %s", r.Municipality)
		}
	}
	unknown := a.as("oslo", "GET", "/api/v1/surveys/waves/no-such-wave/progress", nil)
	elsewhere := a.as("oslo", "GET", "/api/v1/surveys/waves/"+w.ID+"/progress", nil)
	wantProblem(t, elsewhere, http.StatusNotFound, typeNotFound)
	if !bytes.Equal(elsewhere.Body, unknown.Body) {
		t.Errorf("a wave elsewhere answers %s, an unknown one %s", elsewhere.Body, unknown.Body)
	}
	wantProblem(t, a.as("viewer", "GET", "/api/v1/surveys/waves/"+w.ID+"/progress", nil), http.StatusForbidden, "")
}

// TestSurveyRoutesWithoutSurveys: a server that fields no surveys
// answers 404 on every survey route.
func TestSurveyRoutesWithoutSurveys(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	for _, path := range []string{"/api/v1/surveys/questionnaires", "/api/v1/surveys/waves/x", "/api/v1/surveys/waves/x/progress"} {
		wantProblem(t, a.do("GET", path, nil), http.StatusNotFound, typeNotFound)
	}
}

// TestSurveyOpenAPISchemas checks the survey schemas of openapi.json
// against the Go types the handlers encode.
func TestSurveyOpenAPISchemas(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	for name, typ := range map[string]reflect.Type{
		"SurveyQuestionnaire":           reflect.TypeFor[survey.Questionnaire](),
		"SurveyQuestionnaireList":       reflect.TypeFor[questionnaireList](),
		"SurveyQuestionnaireValidation": reflect.TypeFor[validationResult](),
		"SurveyQuestionnaireProblem":    reflect.TypeFor[questionnaireProblem](),
		"SurveyWave":                    reflect.TypeFor[waveResponse](),
		"SurveyWaveList":                reflect.TypeFor[waveList](),
		"SurveyLinks":                   reflect.TypeFor[linksResponse](),
		"SurveyProgress":                reflect.TypeFor[progressResponse](),
	} {
		d.matchSchema(t, name, typ, map[string]any{"$ref": "#/components/schemas/" + name}, false)
	}
}
