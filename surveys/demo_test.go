package surveys_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/surveys"
)

// answerAll answers every item of q with a valid value of its kind.
func answerAll(q survey.Questionnaire) survey.Answers {
	a := survey.Answers{}
	for _, it := range q.Items() {
		switch it.Kind {
		case survey.KindLikert:
			a[it.ID] = []string{"3"}
		case survey.KindSingle, survey.KindMultiple:
			a[it.ID] = []string{it.Options[0].Code}
		case survey.KindNumber:
			n := 1.0
			if it.Min != nil {
				n = *it.Min
			}
			a[it.ID] = []string{strconv.FormatFloat(n, 'f', -1, 64)}
		case survey.KindText:
			a[it.ID] = []string{"Godt samarbeid"}
		}
	}
	return a
}

// TestDemoQuestionnairesAnswered: the demo's leader and volunteer
// questionnaires publish, field, and take a whole response in nynorsk,
// saved over two requests and submitted; the submitted answers are the
// cleaned ones (none to a hidden item).
func TestDemoQuestionnairesAnswered(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.partnership(t, "5006", "Frivilligsentralen")
	for _, q := range survey.Demo() {
		pub, err := e.svc.Publish(ctx, researcher, q)
		if err != nil {
			t.Fatalf("Publish %s: %v", q.ID, err)
		}
		w, err := e.svc.Schedule(ctx, researcher, survey.Wave{ProjectID: "offri", Title: "OFFRI 2027 " + q.ID,
			QuestionnaireID: pub.ID, QuestionnaireVersion: pub.Version, Group: survey.GroupVolunteers,
			Municipalities: []string{"5006"}, Opens: "2027-03-01", Closes: "2027-03-31"})
		if err != nil {
			t.Fatalf("Schedule %s: %v", q.ID, err)
		}
		token := e.link(t, w, "5006", "")
		all := answerAll(pub)
		half := survey.Answers{}
		for id, v := range all {
			if len(half) < len(all)/2 {
				half[id] = v
			}
		}
		if _, err := e.svc.Save(ctx, token, "nn", half, []string{p}, "first"); err != nil {
			t.Fatalf("%s: Save: %v", q.ID, err)
		}
		if err := e.svc.Submit(ctx, token, "nn", all, nil, "last"); err != nil {
			t.Fatalf("%s: Submit: %v", q.ID, err)
		}
		rs, err := surveys.Responses(ctx, e.store, w.ID, 0)
		if err != nil || len(rs) != 1 {
			t.Fatalf("%s: Responses = %v, %v", q.ID, rs, err)
		}
		r := rs[0]
		shown := pub.Shown(r.Answers)
		for id := range r.Answers {
			if !shown[id] {
				t.Errorf("%s: the answer to hidden item %s was submitted", q.ID, id)
			}
		}
		if len(r.Answers) == 0 || r.Language != "nn" || len(r.Partnerships) != 1 || r.Partnerships[0] != p {
			t.Errorf("%s: response %+v", q.ID, r)
		}
	}
}
