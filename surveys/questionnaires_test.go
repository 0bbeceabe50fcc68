package surveys_test

import (
	"context"
	"errors"
	"testing"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/surveys"
)

// TestPublishVersions: the first publication is version 1; the same
// definition again publishes nothing; a changed one is version 2; both
// versions read back; the list holds the latest of each; an invalid
// definition is a *survey.ValidationError and writes nothing.
func TestPublishVersions(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	q1, err := e.svc.Publish(ctx, researcher, leaders())
	if err != nil || q1.Version != 1 {
		t.Fatalf("first Publish = v%d, %v", q1.Version, err)
	}
	head := e.head(t)
	again := leaders()
	again.Version = 7 // a version in the definition is not part of it
	if q, err := e.svc.Publish(ctx, researcher, again); err != nil || q.Version != 1 || e.head(t) != head {
		t.Fatalf("same definition: v%d, %v, head %d→%d", q.Version, err, head, e.head(t))
	}
	changed := leaders()
	changed.Title[survey.LangEN] = "Working with volunteers"
	q2, err := e.svc.Publish(ctx, researcher, changed)
	if err != nil || q2.Version != 2 {
		t.Fatalf("changed Publish = v%d, %v", q2.Version, err)
	}
	if got, err := e.svc.Questionnaire(ctx, q1.ID, 1); err != nil || got.Version != 1 || got.Title[survey.LangEN] != "" {
		t.Errorf("version 1 = %+v, %v", got, err)
	}
	if got, err := e.svc.Questionnaire(ctx, q1.ID, 0); err != nil || got.Version != 2 {
		t.Errorf("latest = v%d, %v", got.Version, err)
	}
	for _, c := range []struct {
		id string
		v  int
	}{{q1.ID, 3}, {"nope", 0}, {q1.ID, -1}, {"", 0}} {
		if _, err := e.svc.Questionnaire(ctx, c.id, c.v); !errors.Is(err, surveys.ErrQuestionnaireNotFound) {
			t.Errorf("Questionnaire(%q, %d) = %v", c.id, c.v, err)
		}
	}
	other := leaders()
	other.ID = "offri-volunteers"
	if _, err := e.svc.Publish(ctx, researcher, other); err != nil {
		t.Fatal(err)
	}
	list, err := e.svc.Questionnaires(ctx)
	if err != nil || len(list) != 2 || list[0].ID != "offri-leaders" || list[0].Version != 2 || list[1].ID != "offri-volunteers" {
		t.Errorf("Questionnaires = %+v, %v", list, err)
	}
	head = e.head(t)
	var verr *survey.ValidationError
	if _, err := e.svc.Publish(ctx, researcher, survey.Questionnaire{ID: "empty"}); !errors.As(err, &verr) || e.head(t) != head {
		t.Errorf("invalid definition: %v (head %d→%d)", err, head, e.head(t))
	}
}

// TestQuestionnairesOfAnEmptyStore: no questionnaires, no error.
func TestQuestionnairesOfAnEmptyStore(t *testing.T) {
	e := newEnv(t)
	if list, err := e.svc.Questionnaires(context.Background()); err != nil || len(list) != 0 {
		t.Errorf("Questionnaires = %v, %v", list, err)
	}
	if ws, err := e.svc.Waves(context.Background(), ""); err != nil || len(ws) != 0 {
		t.Errorf("Waves = %v, %v", ws, err)
	}
}
