package demo_test

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/surveys"
)

// TestLoadSurveys loads the demo and its surveys into real SQLite stores:
// the project, three waves, links in both municipalities, about 25
// leaders' and 60 volunteers' responses about the demo's partnerships,
// all valid for their questionnaire; a second run writes nothing.
func TestLoadSurveys(t *testing.T) {
	ctx := context.Background()
	store := openStore(t)
	load(t, store, now)
	sealer, err := auth.NewProjectSealer(bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	links, err := authsqlite.Open(ctx, filepath.Join(t.TempDir(), "tokens.db"), authsqlite.WithProjectSealer(sealer))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = links.Close() })
	svc := surveys.New(store, links, links, surveys.WithClock(func() time.Time { return now }))

	sum, err := demo.LoadSurveys(ctx, svc, links, now)
	if err != nil {
		t.Fatalf("LoadSurveys: %v", err)
	}
	if sum.Waves != 3 || sum.Responses < 80 || sum.Links < sum.Responses {
		t.Errorf("summary %+v: want 3 waves, some 95 responses of more links", sum)
	}
	if _, err := links.Project(ctx, demo.SurveyProject); err != nil {
		t.Fatalf("the demo project: %v", err)
	}
	waves, err := svc.Waves(ctx, demo.SurveyProject)
	if err != nil || len(waves) != 3 {
		t.Fatalf("waves: %d, %v", len(waves), err)
	}
	byGroup := map[string]int{}
	partnerships := map[string]bool{}
	for _, w := range waves {
		q, err := svc.Questionnaire(ctx, w.QuestionnaireID, w.QuestionnaireVersion)
		if err != nil {
			t.Fatal(err)
		}
		rs, err := surveys.Responses(ctx, store, w.ID, 0)
		if err != nil {
			t.Fatal(err)
		}
		byMunicipality := map[string]int{}
		values := map[string]map[string]bool{}
		for _, r := range rs {
			if err := q.Check(r.Answers, true); err != nil {
				t.Errorf("a demo response to %s is not valid: %v", w.Title, err)
			}
			if len(r.Partnerships) != 1 {
				t.Errorf("a demo response concerns %v, want one partnership", r.Partnerships)
			}
			for _, p := range r.Partnerships {
				partnerships[p] = true
			}
			byMunicipality[r.Municipality]++
			for id, v := range r.Answers {
				if values[id] == nil {
					values[id] = map[string]bool{}
				}
				values[id][v[0]] = true
			}
		}
		byGroup[w.Group] += len(rs)
		if byMunicipality["4203"] == 0 || byMunicipality["5006"] == 0 {
			t.Errorf("%s: responses by municipality %v, want both", w.Title, byMunicipality)
		}
		// Varied: every required Likert item gets at least three values.
		for _, it := range q.Items() {
			if it.Kind == survey.KindLikert && it.Required && len(values[it.ID]) < 3 {
				t.Errorf("%s: item %s has only the answers %v", w.Title, it.ID, values[it.ID])
			}
		}
	}
	if n := byGroup[survey.GroupMunicipalLeaders]; n < 20 || n > 30 {
		t.Errorf("%d leaders' responses, want about 25", n)
	}
	if n := byGroup[survey.GroupVolunteers]; n < 50 || n > 70 {
		t.Errorf("%d volunteers' responses, want about 60", n)
	}
	if len(partnerships) < 10 {
		t.Errorf("the responses concern %d partnerships, want them spread over the demo's", len(partnerships))
	}

	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	again, err := demo.LoadSurveys(ctx, svc, links, now)
	if err != nil {
		t.Fatalf("second LoadSurveys: %v", err)
	}
	if again.Links != 0 || again.Responses != 0 {
		t.Errorf("a second load issued %d links and %d responses", again.Links, again.Responses)
	}
	if h, _ := store.Head(ctx); h != head {
		t.Errorf("a second load wrote %d events", h-head)
	}
}
