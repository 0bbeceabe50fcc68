package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// fieldWave records a questionnaire, a wave of the project (id waveID)
// and a response to it about the demo's example partnership, and returns
// the partnership's municipality.
func fieldWave(t *testing.T, s *site, project, waveID string) {
	t.Helper()
	ctx := context.Background()
	q := survey.Questionnaire{ID: "leaders-" + waveID, Version: 1, Title: survey.Text{"nb": "Ledere"}, Sections: []survey.Section{{ID: "s", Title: survey.Text{"nb": "Samarbeidet", "nn": "Samarbeidet", "en": "The cooperation"}, Items: []survey.Item{
		{ID: "leadership", Kind: survey.KindLikert, Theme: "leadership", Text: survey.Text{"nb": "Ledelsen er tydelig", "nn": "Leiinga er tydeleg", "en": "The leadership is clear"},
			Scale: &survey.Scale{Points: 5, Labels: []survey.Text{{"nb": "Helt uenig", "nn": "Heilt usamd", "en": "Strongly disagree"}, {"nb": "Helt enig", "nn": "Heilt samd", "en": "Strongly agree"}}}},
		{ID: "why", Kind: survey.KindText, Text: survey.Text{"nb": "Hvorfor?", "nn": "Kvifor?", "en": "Why?"}, ShowIf: &survey.Condition{Item: "leadership", In: []string{"1", "2"}}},
	}}}}
	municipality := exampleMunicipality(t, s)
	for _, e := range []struct {
		stream string
		event  survey.Event
	}{
		{survey.QuestionnaireStream(q.ID), survey.QuestionnairePublished{Questionnaire: q}},
		{survey.WaveStream(waveID), survey.SurveyWaveScheduled{Wave: survey.Wave{ID: waveID, ProjectID: project, Title: "Ledere " + waveID, QuestionnaireID: q.ID, QuestionnaireVersion: 1,
			Group: survey.GroupMunicipalLeaders, Municipalities: []string{municipality}, Opens: "2026-11-01", Closes: "2026-12-31"}}},
		{survey.ResponseStream("r-" + waveID), survey.SurveyResponseStarted{WaveID: waveID, Municipality: municipality, Group: survey.GroupMunicipalLeaders, Language: "nn"}},
		{survey.ResponseStream("r-" + waveID), survey.SurveyResponseSubmitted{Answers: survey.Answers{"leadership": {"2"}, "why": {"Uklart"}}, Partnerships: []string{s.example}, AnsweredOn: "2026-11-20"}},
	} {
		data, err := survey.Encode(e.event)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.store.Append(ctx, eventstore.AppendRequest{StreamID: e.stream, Events: []eventstore.NewEvent{{EventID: e.stream + "-" + e.event.EventType(),
			Type: e.event.EventType(), SchemaVersion: survey.SchemaVersion, OccurredAt: s.now(), Data: data}}}); err != nil {
			t.Fatal(err)
		}
	}
}

// exampleMunicipality is the demo example's municipality, today's code.
func exampleMunicipality(t *testing.T, s *site) string {
	t.Helper()
	recorded, err := s.store.ReadStream(context.Background(), history.StreamID(s.example))
	if err != nil {
		t.Fatal(err)
	}
	entries, err := history.Entries(recorded[:1])
	if err != nil {
		t.Fatal(err)
	}
	return string(kommune.Code(entries[0].Event.(partnership.PartnershipInitiated).Municipality).Current())
}

// surveySite is the demo site with the project offri (the researcher a
// member) and its wave w1, and the project other with its wave w2.
func surveySite(t *testing.T) *site {
	t.Helper()
	s := newSite(t, true)
	ctx := context.Background()
	m := kommune.Code(exampleMunicipality(t, s))
	for _, id := range []string{"offri", "other"} {
		if _, err := s.projectStore.CreateProject(ctx, auth.SystemPrincipal, auth.Project{ID: id, Name: "Samspill " + id, Institution: "UiO", Purpose: "Varighet", Starts: "2026-01-01", Municipalities: []kommune.Code{m}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.projectStore.GrantProject(ctx, auth.SystemPrincipal, "offri", "researcher"); err != nil {
		t.Fatal(err)
	}
	fieldWave(t, s, "offri", "w1")
	fieldWave(t, s, "other", "w2")
	return s
}

// TestResearchPageListsTheWavesResponses: the research page lists the
// waves of the researcher's projects only, with links at the pinned
// position; the browser's session downloads the file (one row, the
// project's spells key); the wave's codebook has the questions in three
// languages, the value labels and the skip condition in words; another
// project's wave is a 404 for the codebook and the file.
func TestResearchPageListsTheWavesResponses(t *testing.T) {
	t.Parallel()
	s := surveySite(t)
	b := s.browserAs(t, "researcher")
	p := b.get("/research")
	if p.Status != http.StatusOK || !strings.Contains(p.Body, `id="wave-w1"`) || strings.Contains(p.Body, `id="wave-w2"`) || !strings.Contains(p.Body, "Ledere w1") {
		t.Fatalf("research page: %d\n%s", p.Status, p.Body)
	}
	head, err := s.store.Head(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	csvLink := fmt.Sprintf(`/research/files/responses.csv?as_of=2026-11-26&amp;at_position=%d&amp;project=offri&amp;wave=w1`, head)
	if !strings.Contains(p.Body, `href="`+csvLink+`"`) {
		t.Fatalf("no link %s on the page", csvLink)
	}
	_, body := b.download(t, strings.ReplaceAll(csvLink, "&amp;", "&"))
	rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("responses.csv (%v):\n%s", err, body)
	}
	_, spells := b.download(t, "/research/files/spells.csv?project=offri")
	if !strings.Contains(string(spells), rows[1][8]) || rows[0][8] != "partnership_key" {
		t.Fatalf("the response's partnership_key %s is not in the project's spells", rows[1][8])
	}

	cb := b.get("/research/codebook?export=responses&wave=w1")
	for _, want := range []string{"Ledelsen er tydelig", `lang="nn">Leiinga er tydeleg`, `lang="en">The leadership is clear`, "Helt uenig", "Heilt samd",
		"Stilles bare når svaret på leadership er 1 (Helt uenig) eller 2.", `data-column="why"`, `data-item="why"`} {
		if !strings.Contains(cb.Body, want) {
			t.Errorf("the wave's codebook lacks %s", want)
		}
	}
	if t.Failed() {
		t.Log(cb.Body)
	}
	selector := b.get("/research/codebook")
	if !strings.Contains(selector.Body, `id="form-wave-codebook"`) || !strings.Contains(selector.Body, `<option value="w1">Ledere w1 (Samspill offri)</option>`) || strings.Contains(selector.Body, `value="w2"`) {
		t.Errorf("the codebook's wave selector for the researcher:\n%s", selector.Body)
	}
	if p := s.browser(t).get("/research/codebook"); !strings.Contains(p.Body, `value="w2"`) {
		t.Error("the admin's wave selector lacks the other project's wave")
	}
	if p := s.browserAs(t, "viewer").get("/research/codebook"); p.Status != http.StatusOK || strings.Contains(p.Body, `id="form-wave-codebook"`) {
		t.Errorf("a viewer's codebook: %d, with a wave selector", p.Status)
	}
	for _, path := range []string{"/research/codebook?export=responses&wave=w2", "/research/codebook?export=responses&wave=nope", "/research/codebook?export=responses"} {
		if p := b.get(path); p.Status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, p.Status)
		}
	}
	if res, err := b.client.Get(s.srv.URL + "/research/files/responses.csv?project=other&wave=w2"); err != nil || res.StatusCode != http.StatusNotFound {
		t.Errorf("another project's wave's file: %v %v", res.StatusCode, err)
	} else {
		res.Body.Close()
	}
	if p := s.browser(t).get("/research/codebook?export=responses&wave=w2"); p.Status != http.StatusOK {
		t.Errorf("the admin's codebook of w2: %d", p.Status)
	}
}

// TestResearchResponsesPagesAreAccessible runs axe-core on the research
// page with its waves and on a wave's codebook, in bokmål and nynorsk, at
// a desktop's width and a phone's.
func TestResearchResponsesPagesAreAccessible(t *testing.T) {
	t.Parallel()
	source := axeSource(t)
	ctx := newBrowserWithin(t, 1280, 900, 3*time.Minute)
	s := surveySite(t)
	base := s.srv.URL
	do(t, ctx, "sign-in page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#token")))
	do(t, ctx, "sign in", chromedp.SetValue(chromedp.CSS("#token"), s.tokens["researcher"]), chromedp.Click(chromedp.CSS("#form-login button")))
	waitUntil(t, ctx, "signed in", `!document.querySelector("#token")`)
	for _, lang := range []string{"nb", "nn"} {
		if lang != "nb" {
			do(t, ctx, "language", chromedp.Navigate(base+"/research"), chromedp.Click(chromedp.CSS(`form.lang button[value="`+lang+`"]`)))
			waitUntil(t, ctx, "the page in "+lang, `document.documentElement.lang === "`+lang+`"`)
		}
		for _, path := range []string{"/research", "/research/codebook?export=responses&wave=w1"} {
			for _, width := range []int64{1280, phoneWidth} {
				do(t, ctx, "open "+path, chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+path))
				waitUntil(t, ctx, path, `!!document.querySelector("main")`)
				checkAccessibility(t, ctx, source, fmt.Sprintf("%s in %s at %d px", path, lang, width))
				if width == phoneWidth {
					if wide := eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth + 1`); wide {
						t.Errorf("%s in %s scrolls sideways on a phone", path, lang)
					}
				}
			}
		}
	}
}
