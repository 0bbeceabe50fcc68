package http

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// appendEvent appends one event to a stream of the test API's store and
// returns its position.
func appendEvent(t *testing.T, a *testAPI, stream, eventType string, schema int, at time.Time, data []byte) uint64 {
	t.Helper()
	res, err := a.store.Append(context.Background(), eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{{
		EventID: fmt.Sprintf("%s-%s-%d", stream, eventType, at.UnixNano()), Type: eventType, SchemaVersion: schema, OccurredAt: at,
		Metadata: eventstore.Metadata{Actor: eventstore.Actor{Subject: "tester", Role: "admin"}}, Data: data,
	}}})
	if err != nil {
		t.Fatal(err)
	}
	return res.LastPosition()
}

func appendSurveyEvent(t *testing.T, a *testAPI, stream string, e survey.Event) uint64 {
	t.Helper()
	data, err := survey.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return appendEvent(t, a, stream, e.EventType(), survey.SchemaVersion, testNow, data)
}

// surveyFixture records a partnership in Oslo, a questionnaire, a wave
// of offri (w1) and of another project (w2), and one response to w1 about
// the partnership; it returns the position before the response.
func surveyFixture(t *testing.T, a *testAPI) uint64 {
	t.Helper()
	init := partnership.PartnershipInitiated{PartnershipID: "p1", Municipality: "0301", Title: "Leksehjelp", ServiceArea: "education", CollaborationModel: "network",
		Goals: []string{"Mål"}, Partners: []partnership.Partner{{PartnerID: "a", Name: "Røde Kors", Kind: "voluntary_organisation"}}}
	data, err := partnership.Encode(init)
	if err != nil {
		t.Fatal(err)
	}
	appendEvent(t, a, history.StreamID("p1"), init.EventType(), partnership.SchemaVersion, time.Date(2024, 1, 10, 12, 0, 0, 0, calendar.Oslo), data)
	q := survey.Questionnaire{ID: "offri-leaders", Version: 1, Title: survey.Text{"nb": "Ledere"}, Sections: []survey.Section{{ID: "s", Title: survey.Text{"nb": "Del", "en": "Part"}, Items: []survey.Item{
		{ID: "leadership", Kind: survey.KindLikert, Theme: "leadership", Text: survey.Text{"nb": "Ledelsen er tydelig", "nn": "Leiinga er tydeleg", "en": "The leadership is clear"},
			Scale: &survey.Scale{Points: 5, Labels: []survey.Text{{"nb": "Helt uenig"}, {"nb": "Helt enig"}}}},
		{ID: "comment", Kind: survey.KindText, Text: survey.Text{"nb": "Kommentar"}},
	}}}}
	appendSurveyEvent(t, a, survey.QuestionnaireStream(q.ID), survey.QuestionnairePublished{Questionnaire: q})
	w := survey.Wave{ID: "w1", ProjectID: "offri", Title: "OFFRI", QuestionnaireID: q.ID, QuestionnaireVersion: 1, Group: survey.GroupVolunteers,
		Municipalities: []string{"0301"}, Opens: "2024-05-01", Closes: "2024-06-30"}
	appendSurveyEvent(t, a, survey.WaveStream("w1"), survey.SurveyWaveScheduled{Wave: w})
	w.ID, w.ProjectID = "w2", "other"
	before := appendSurveyEvent(t, a, survey.WaveStream("w2"), survey.SurveyWaveScheduled{Wave: w})
	appendSurveyEvent(t, a, survey.ResponseStream("r1"), survey.SurveyResponseStarted{WaveID: "w1", Municipality: "0301", Group: survey.GroupVolunteers, Language: "nb"})
	appendSurveyEvent(t, a, survey.ResponseStream("r1"), survey.SurveyResponseSubmitted{Answers: survey.Answers{"leadership": {"4"}, "comment": {"Godt samarbeid"}}, Partnerships: []string{"p1"}, AnsweredOn: "2024-05-02"})
	return before
}

func csvOf(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	all, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, body)
	}
	var rows []map[string]string
	for _, r := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}

// TestResearchResponsesExport: a member of the project takes a wave's
// responses in every format, joined to the partnership on the spells'
// key; a researcher who is not a member, another project's wave and an
// unknown wave get the same 404; a viewer 403; bad parameters 400 naming
// each; the manifest and data package name the wave; free_text=0 leaves
// the free text out; a position before the response has no row.
func TestResearchResponsesExport(t *testing.T) {
	a, _ := newProjectAPI(t, "sqlite")
	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects", offriBody), http.StatusCreated)
	other := map[string]any{"id": "other", "name": "Annet", "institution": "NTNU", "purpose": "Annet", "starts": "2026-01-01", "ends": "2028-12-31", "municipalities": []string{"0301"}}
	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects", other), http.StatusCreated)
	wantStatus(t, a.as("admin", "POST", "/api/v1/admin/research-projects/offri/members", map[string]string{"subject": "forsker"}), http.StatusOK)
	before := surveyFixture(t, a.testAPI)

	const route = "/api/v1/research/responses.csv?project=offri&wave=w1"
	r := a.as("forsker", "GET", route, nil)
	wantStatus(t, r, http.StatusOK)
	rows := csvOf(t, r.Body)
	spells := csvOf(t, a.as("forsker", "GET", "/api/v1/research/spells.csv?project=offri", nil).Body)
	if len(rows) != 1 || len(spells) != 1 || rows[0]["partnership_key"] != spells[0]["partnership_key"] || rows[0]["leadership"] != "4" ||
		rows[0]["comment"] != "Godt samarbeid" || rows[0]["day"] != "113" || rows[0]["collaboration_model"] != "network" || rows[0]["group"] != "volunteers" {
		t.Fatalf("responses %v, spells %v", rows, spells)
	}
	if cd := r.Header.Get("Content-Disposition"); !strings.Contains(cd, "responses-offri-w1-p") || r.Header.Get("X-Samspill-Project") != "offri" {
		t.Fatalf("Content-Disposition %q", cd)
	}
	for _, format := range []string{"dta", "parquet"} {
		wantStatus(t, a.as("admin", "GET", "/api/v1/research/responses."+format+"?project=offri&wave=w1", nil), http.StatusOK)
	}

	for _, path := range []string{route, "/api/v1/research/responses.csv?project=offri&wave=w2", "/api/v1/research/responses.csv?project=offri&wave=nope",
		"/api/v1/research/manifest.json?export=responses&project=offri&wave=w2"} {
		who := "forsker2"
		if !strings.Contains(path, "w1") {
			who = "forsker"
		}
		wantProblem(t, a.as(who, "GET", path, nil), http.StatusNotFound, typeNotFound)
	}
	wantProblem(t, a.as("viewer", "GET", route, nil), http.StatusForbidden, "")
	for path, fields := range map[string][]string{
		"/api/v1/research/responses.csv":                               {"project", "wave"},
		"/api/v1/research/responses.csv?project=offri&free_text=2":     {"wave", "free_text"},
		"/api/v1/research/spells.csv?wave=w1&free_text=0":              {"wave", "free_text"},
		"/api/v1/research/responses.csv?project=offri&wave=w1&as_of=x": {"as_of"},
	} {
		p := wantProblem(t, a.as("forsker", "GET", path, nil), http.StatusBadRequest, typeValidation)
		var named []string
		for _, e := range p.Errors {
			named = append(named, e.Field)
		}
		for _, f := range fields {
			if !slices.Contains(named, f) {
				t.Errorf("%s: the problem names %v, not %s", path, named, f)
			}
		}
	}

	noText := a.as("forsker", "GET", route+"&free_text=0", nil)
	wantStatus(t, noText, http.StatusOK)
	if strings.Contains(string(noText.Body), "comment") || strings.Contains(string(noText.Body), "Godt samarbeid") {
		t.Fatalf("free_text=0 kept the free text:\n%s", noText.Body)
	}
	early := a.as("forsker", "GET", fmt.Sprintf("%s&at_position=%d", route, before), nil)
	wantStatus(t, early, http.StatusOK)
	if rows := csvOf(t, early.Body); len(rows) != 0 {
		t.Fatalf("at position %d, before the response: %v", before, rows)
	}

	m := a.as("forsker", "GET", "/api/v1/research/manifest.json?export=responses&format=dta&project=offri&wave=w1&free_text=0", nil)
	wantStatus(t, m, http.StatusOK)
	var manifest struct {
		Export, Wave, Citation string
		WithoutFreeText        bool `json:"without_free_text"`
		Files                  []struct{ Rows int }
	}
	if err := json.Unmarshal(m.Body, &manifest); err != nil || manifest.Export != "responses" || manifest.Wave != "w1" || !manifest.WithoutFreeText ||
		len(manifest.Files) != 1 || manifest.Files[0].Rows != 1 || !strings.Contains(manifest.Citation, "wave=w1") {
		t.Fatalf("manifest %s (%v)", m.Body, err)
	}
	pkg := a.as("forsker", "GET", "/api/v1/research/datapackage.json?export=responses&project=offri&wave=w1", nil)
	wantStatus(t, pkg, http.StatusOK)
	for _, want := range []string{`"x-wave": "w1"`, `"nn": "Leiinga er tydeleg"`, `"x-personal": "free text can identify a person"`} {
		if !strings.Contains(string(pkg.Body), want) {
			t.Errorf("datapackage.json has no %s", want)
		}
	}
}
