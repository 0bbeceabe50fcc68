package research_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/research"
	"github.com/samspill/samspill/surveys"
)

// choices is the respondents' directory: the partnerships of Oslo.
type choices []surveys.Choice

func (c choices) Partnerships(context.Context, string) ([]surveys.Choice, error) { return c, nil }

// TestResponsesOfTheSurveyService fields a wave the way the pages do
// (surveys.Service: publish, schedule, links, answers submitted through
// them, one link fixing a partnership and one where the respondent chooses
// two) and exports it: the rows are the submitted answers, each with its
// partnership's key and covariates; a response only saved is not in.
func TestResponsesOfTheSurveyService(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 9, 1, 10, 0, 0, 0, calendar.Oslo)
	store := clockStore(t, &clock)
	links, err := authsqlite.Open(ctx, filepath.Join(t.TempDir(), "tokens.db"), authsqlite.WithProjectSealer(mustSealer(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = links.Close() })
	if _, err := links.CreateProject(ctx, auth.SystemPrincipal, auth.Project{ID: "offri", Name: "Offri", Institution: "UiO", Purpose: "Varighet", Starts: "2026-01-01", Municipalities: []kommune.Code{"0301"}}); err != nil {
		t.Fatal(err)
	}
	initiated := time.Date(2026, 2, 2, 12, 0, 0, 0, calendar.Oslo)
	var ids []string
	for _, model := range []string{"network", "grant"} {
		res, err := app.New(store).Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{Municipality: "0301", Title: "Leksehjelp " + model, ServiceArea: "education",
			CollaborationModel: model, Goals: []string{"Mål"}, Partners: []partnership.Partner{orgA}}, OccurredAt: &initiated}, app.Meta{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, res.State.ID)
	}
	svc := surveys.New(store, links, links, surveys.WithClock(func() time.Time { return clock }),
		surveys.WithDirectory(choices{{ID: ids[0], Name: "A"}, {ID: ids[1], Name: "B"}}))
	actor := eventstore.Actor{Subject: "kari", Role: auth.RoleResearcher}
	q := leaders
	q.Version = 0
	if _, err := svc.Publish(ctx, actor, q); err != nil {
		t.Fatal(err)
	}
	w := offriWave
	w.ID = ""
	w.Opens, w.Closes = "2026-09-01", "2026-09-30"
	wave, err := svc.Schedule(ctx, actor, w)
	if err != nil {
		t.Fatal(err)
	}
	fixed, err := svc.IssueLinks(ctx, actor, wave.ID, surveys.LinkRequest{Municipality: "0301", PartnershipID: ids[0], Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	open, err := svc.IssueLinks(ctx, actor, wave.ID, surveys.LinkRequest{Municipality: "0301", Count: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Submit(ctx, fixed[0].Token, "nb", survey.Answers{"leadership": {"1"}, "why_unclear": {"Ingen møter"}, "channels": {"email", "meetings"}}, nil, "req-1"); err != nil {
		t.Fatal(err)
	}
	clock = clock.Add(48 * time.Hour)
	if err := svc.Submit(ctx, open[0].Token, "en", survey.Answers{"leadership": {"4"}, "hours": {"7"}}, []string{ids[0], ids[1]}, "req-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Save(ctx, open[1].Token, "nn", survey.Answers{"leadership": {"3"}}, []string{ids[1]}, "req-3"); err != nil {
		t.Fatal(err)
	}

	f := research.File{Export: research.KindResponses, Format: research.FormatCSV, Position: head(t, store), AsOf: "2026-09-03", Keys: offriKeys(), Wave: wave.ID}
	var buf bytes.Buffer
	if _, err := f.Write(ctx, store, &buf, secret); err != nil {
		t.Fatal(err)
	}
	rows := csvRows(t, buf.Bytes())
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3 (one response about one partnership, one about two; the saved one is not submitted):\n%s", len(rows), buf.Bytes())
	}
	keys := offriKeys()
	check(t, "fixed link", rows[0], map[string]string{"partnership_key": keys.Partnership("partnership-" + ids[0]), "answered_on": "2026-09-01", "day": "211",
		"language": "nb", "leadership": "1", "why_unclear": "Ingen møter", "channels__email": "1", "channels__meetings": "1", "collaboration_model": "network", "n_partnerships": "1"})
	check(t, "chosen, first", rows[1], map[string]string{"partnership_key": keys.Partnership("partnership-" + ids[0]), "answered_on": "2026-09-03", "day": "213",
		"language": "en", "leadership": "4", "hours": "7", "why_unclear": "", "n_partnerships": "2"})
	check(t, "chosen, second", rows[2], map[string]string{"partnership_key": keys.Partnership("partnership-" + ids[1]), "collaboration_model": "grant", "response_key": rows[1]["response_key"]})
	if rows[0]["response_key"] == rows[1]["response_key"] {
		t.Fatal("two responses share a key")
	}
}

func mustSealer(t *testing.T) *auth.ProjectSealer {
	t.Helper()
	s, err := auth.NewProjectSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
