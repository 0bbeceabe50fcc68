package web

import (
	"bytes"
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/surveys"
)

// TestReportFromTheService reads the demo's surveys (demo.LoadSurveys,
// answered through the service) from the event store: both
// municipalities' reports show the waves with their counts, Steinkjer's
// three organisation leaders are suppressed, and no free text reaches
// either page.
func TestReportFromTheService(t *testing.T) {
	ctx := context.Background()
	base := newSite(t, true)
	sealer, err := auth.NewProjectSealer(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	links, err := authsqlite.Open(ctx, filepath.Join(t.TempDir(), "links.db"), authsqlite.WithProjectSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = links.Close() })
	// The survey links live in their own store here; the project must be
	// in the pages' project store too, for the readers' scope.
	svc := surveys.New(base.store, links, base.projectStore, surveys.WithClock(base.now))
	sum, err := demo.LoadSurveys(ctx, svc, base.projectStore, base.now())
	if err != nil {
		t.Fatalf("LoadSurveys: %v", err)
	}
	if err := base.projectStore.GrantProject(ctx, auth.SystemPrincipal, demo.SurveyProject, "researcher"); err != nil {
		t.Fatal(err)
	}
	s := reportSiteOver(t, base, serviceReports{svc, base.store}, ReportOptions{})
	var texts []string
	waves, _ := svc.Waves(ctx, demo.SurveyProject)
	for _, w := range waves {
		rs, err := surveys.Responses(ctx, base.store, w.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := svc.Questionnaire(ctx, w.QuestionnaireID, w.QuestionnaireVersion)
		for _, r := range rs {
			for _, it := range q.Items() {
				if it.Kind == "text" && len(r.Answers[it.ID]) > 0 {
					texts = append(texts, r.Answers[it.ID][0])
				}
			}
		}
	}
	if len(texts) == 0 {
		t.Fatal("the demo responses hold no free text to look for")
	}
	b := s.browserAs(t, "researcher")
	for _, code := range []string{"4203", "5006"} {
		p := b.get("/surveys/projects/" + demo.SurveyProject + "/report/" + code)
		if p.Status != http.StatusOK {
			t.Fatalf("%s: %d\n%s", code, p.Status, mainOf(p.Body))
		}
		if n := strings.Count(p.Body, `class="report-section report-wave"`); n != sum.Waves {
			t.Errorf("%s: %d waves on the report, want %d", code, n, sum.Waves)
		}
		if !strings.Contains(p.Body, `<dd class="completed">`) || !strings.Contains(p.Body, `<table class="report-dist">`) {
			t.Errorf("%s: no counts or distributions", code)
		}
		for _, text := range texts {
			if strings.Contains(p.Body, text) {
				t.Errorf("%s: free text %q on the report", code, text)
			}
		}
	}
	p := b.get("/surveys/projects/" + demo.SurveyProject + "/report/5006")
	if !strings.Contains(p.Body, `<dd class="completed"><span class="suppressed">færre enn 5 svar</span></dd>`) {
		t.Error("Steinkjer's three organisation leaders are not suppressed")
	}
}
