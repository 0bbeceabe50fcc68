package surveys_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/surveys"
)

// TestOpenRefusals: a malformed or unknown token is ErrLinkUnknown (the
// same answer); a link before its wave opens ErrWaveNotOpen, after its
// close day ErrLinkExpired; opening writes nothing.
func TestOpenRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	w := e.fielded(t)
	token := e.link(t, w, "5006", "")
	other, _ := auth.NewLinkToken()
	for _, bad := range []string{"", "short", token + "x", token[:42] + "*", other, "../../" + token[6:]} {
		if _, err := e.svc.Open(ctx, bad); !errors.Is(err, surveys.ErrLinkUnknown) {
			t.Errorf("Open(%q) = %v; want ErrLinkUnknown", bad, err)
		}
	}
	head := e.head(t)
	sess, err := e.svc.Open(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if sess.Response.ID != surveys.ResponseID(token) || sess.Response.Submitted || sess.Link.State != auth.LinkInvited ||
		sess.Questionnaire.ID != "offri-leaders" || sess.Wave.ID != w.ID || len(sess.Choices) != 0 {
		t.Errorf("session %+v", sess)
	}
	if e.head(t) != head || linkState(t, e, token) != auth.LinkInvited {
		t.Error("Open wrote something")
	}
	e.setNow(time.Date(2027, time.February, 28, 23, 59, 0, 0, calendar.Oslo))
	if _, err := e.svc.Open(ctx, token); !errors.Is(err, surveys.ErrWaveNotOpen) {
		t.Errorf("before the wave: %v", err)
	}
	e.setNow(time.Date(2027, time.March, 31, 23, 59, 0, 0, calendar.Oslo))
	if _, err := e.svc.Open(ctx, token); err != nil {
		t.Errorf("last minute of the close day: %v", err)
	}
	e.setNow(time.Date(2027, time.April, 1, 0, 0, 0, 0, calendar.Oslo))
	if _, err := e.svc.Open(ctx, token); !errors.Is(err, surveys.ErrLinkExpired) {
		t.Errorf("after the close day: %v", err)
	}
	if _, err := e.svc.Save(ctx, token, "nn", survey.Answers{"lead_support": {"4"}}, nil, "r1"); !errors.Is(err, surveys.ErrLinkExpired) {
		t.Errorf("Save after the close day: %v", err)
	}
	if err := e.svc.Submit(ctx, token, "nn", survey.Answers{"lead_support": {"4"}}, nil, "r2"); !errors.Is(err, surveys.ErrLinkExpired) {
		t.Errorf("Submit after the close day: %v", err)
	}
	if e.head(t) != head {
		t.Error("an expired link wrote events")
	}
}

// TestAnswerSaveAndSubmit: a respondent saves (the response starts, the
// link is started), comes back, saves again, submits (the link is
// completed); the events are the respondent's and nothing else; a second
// submission is ErrLinkUsed and writes nothing; the response reads back.
func TestAnswerSaveAndSubmit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.partnership(t, "5006", "Frivilligsentralen")
	w := e.fielded(t)
	token := e.link(t, w, "5006", p)
	sess, err := e.svc.Save(ctx, token, "nn", survey.Answers{"lead_support": {"4"}, "comment": {"Godt samarbeid"}}, nil, "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sess.Response.Answers["lead_support"], []string{"4"}) || sess.Response.Language != "nn" ||
		!slices.Equal(sess.Response.Partnerships, []string{p}) || !sess.Response.Fixed || sess.Link.Address != "" {
		t.Errorf("after the first save: %+v", sess.Response)
	}
	if linkState(t, e, token) != auth.LinkStarted {
		t.Error("link not started")
	}
	// Back later: the saved answers are there; an empty answer clears one.
	sess, err = e.svc.Open(ctx, token)
	if err != nil || sess.Response.Answers["comment"][0] != "Godt samarbeid" {
		t.Fatalf("reopened: %+v, %v", sess.Response, err)
	}
	if _, err := e.svc.Save(ctx, token, "nn", survey.Answers{"comment": {}, "anchoring": {"admin"}}, nil, "req-2"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Submit(ctx, token, "nn", survey.Answers{"lead_support": {"5"}}, nil, "req-3"); err != nil {
		t.Fatal(err)
	}
	if linkState(t, e, token) != auth.LinkCompleted {
		t.Error("link not completed")
	}
	evs := responseEvents(t, e, token)
	want := []string{survey.TypeSurveyResponseStarted, survey.TypeSurveyAnswersSaved, survey.TypeSurveyAnswersSaved, survey.TypeSurveyResponseSubmitted}
	if !slices.Equal(types(evs), want) {
		t.Fatalf("events %v", types(evs))
	}
	for _, ev := range evs {
		if ev.Metadata != (eventstore.Metadata{Actor: eventstore.Actor{Subject: "respondent", Role: "respondent"}}) {
			t.Errorf("%s metadata %+v", ev.Type, ev.Metadata)
		}
	}
	head := e.head(t)
	if err := e.svc.Submit(ctx, token, "nn", survey.Answers{"lead_support": {"1"}}, nil, "req-4"); !errors.Is(err, surveys.ErrLinkUsed) {
		t.Errorf("second submission: %v", err)
	}
	if _, err := e.svc.Save(ctx, token, "nn", survey.Answers{"lead_support": {"1"}}, nil, "req-5"); !errors.Is(err, surveys.ErrLinkUsed) {
		t.Errorf("save after submission: %v", err)
	}
	if _, err := e.svc.Open(ctx, token); !errors.Is(err, surveys.ErrLinkUsed) {
		t.Errorf("open after submission: %v", err)
	}
	if e.head(t) != head {
		t.Error("a used link wrote events")
	}
	rs, err := surveys.Responses(ctx, e.store, w.ID, 0)
	if err != nil || len(rs) != 1 {
		t.Fatalf("Responses = %v, %v", rs, err)
	}
	r := rs[0]
	wantAnswers := survey.Answers{"lead_support": {"5"}, "anchoring": {"admin"}}
	if r.ID != surveys.ResponseID(token) || !r.Submitted || r.AnsweredOn != "2027-03-10" || r.Group != survey.GroupMunicipalLeaders ||
		r.Municipality != "5006" || !slices.Equal(r.Partnerships, []string{p}) || len(r.Answers) != 2 ||
		!slices.Equal(r.Answers["lead_support"], wantAnswers["lead_support"]) || !slices.Equal(r.Answers["anchoring"], wantAnswers["anchoring"]) {
		t.Errorf("response %+v", r)
	}
}

// TestSubmitChecksEverythingAndWritesNothing: a submission missing a
// required answer, or one naming an unknown item, is a
// *survey.ValidationError naming each, and nothing is written; a save of
// bad answers too.
func TestSubmitChecksEverythingAndWritesNothing(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.partnership(t, "5006", "Frivilligsentralen")
	w := e.fielded(t)
	token := e.link(t, w, "5006", "")
	head := e.head(t)
	err := e.svc.Submit(ctx, token, "nb", survey.Answers{"nonsense": {"1"}}, nil, "r1")
	var verr *survey.ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Submit = %v; want a ValidationError", err)
	}
	var paths []string
	for _, p := range verr.Problems {
		paths = append(paths, p.Path)
	}
	for _, want := range []string{"nonsense", "lead_support", "partnerships"} {
		if !slices.Contains(paths, want) {
			t.Errorf("problems %v lack %s", paths, want)
		}
	}
	if _, err := e.svc.Save(ctx, token, "nb", survey.Answers{"nonsense": {"1"}}, nil, "r2"); !errors.As(err, &verr) {
		t.Errorf("Save of an unknown item: %v", err)
	}
	if e.head(t) != head || linkState(t, e, token) != auth.LinkInvited {
		t.Error("refused answers wrote something")
	}
}

// TestPartnershipChoices: a link that fixes none offers the
// municipality's partnerships (or the wave's own); a choice outside them
// is ErrPartnershipNotAllowed; the choice is kept across saves and
// submitted; a link that fixes one offers none and takes no other.
func TestPartnershipChoices(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.partnership(t, "5006", "Frivilligsentralen")
	b := e.partnership(t, "5006", "Turlaget")
	osl := e.partnership(t, "0301", "Leksehjelp")
	w := e.fielded(t)
	token := e.link(t, w, "5006", "")
	sess, err := e.svc.Open(ctx, token)
	if err != nil || len(sess.Choices) != 2 || sess.Choices[0] != (surveys.Choice{ID: a, Name: "Frivilligsentralen"}) {
		t.Fatalf("choices %+v, %v", sess.Choices, err)
	}
	if _, err := e.svc.Save(ctx, token, "nb", nil, []string{osl}, "r1"); !errors.Is(err, surveys.ErrPartnershipNotAllowed) {
		t.Errorf("another municipality's partnership: %v", err)
	}
	if sess, err = e.svc.Save(ctx, token, "nb", survey.Answers{"lead_support": {"3"}}, []string{b, a, b}, "r2"); err != nil || !slices.Equal(sess.Response.Partnerships, []string{b, a}) {
		t.Fatalf("chosen %v, %v", sess.Response.Partnerships, err)
	}
	if sess, err = e.svc.Save(ctx, token, "nb", survey.Answers{"comment": {"x"}}, nil, "r3"); err != nil || !slices.Equal(sess.Response.Partnerships, []string{b, a}) {
		t.Fatalf("kept %v, %v", sess.Response.Partnerships, err)
	}
	if err := e.svc.Submit(ctx, token, "nb", nil, nil, "r4"); err != nil {
		t.Fatal(err)
	}
	rs, _ := surveys.Responses(ctx, e.store, w.ID, 0)
	if len(rs) != 1 || !slices.Equal(rs[0].Partnerships, []string{b, a}) || rs[0].Fixed {
		t.Errorf("submitted %+v", rs)
	}
	// A wave of one partnership offers that one only.
	only := e.fielded(t, b)
	sess, err = e.svc.Open(ctx, e.link(t, only, "5006", ""))
	if err != nil || len(sess.Choices) != 1 || sess.Choices[0].ID != b {
		t.Errorf("the wave's choices %+v, %v", sess.Choices, err)
	}
	// The pages name a wave's partnerships by the same choices.
	if named, err := e.svc.Choices(ctx, only, "5006"); err != nil || len(named) != 1 || named[0] != (surveys.Choice{ID: b, Name: "Turlaget"}) {
		t.Errorf("the wave's named partnerships %+v, %v", named, err)
	}
	fixed := e.link(t, w, "5006", a)
	if _, err := e.svc.Save(ctx, fixed, "nb", nil, []string{b}, "r5"); !errors.Is(err, surveys.ErrPartnershipNotAllowed) {
		t.Errorf("another partnership on a fixed link: %v", err)
	}
	if sess, err := e.svc.Save(ctx, fixed, "nb", nil, []string{a}, "r6"); err != nil || !slices.Equal(sess.Response.Partnerships, []string{a}) {
		t.Errorf("the fixed partnership itself: %+v, %v", sess.Response, err)
	}
}

// TestRetriesWriteOnce: a retried save (also after the stream moved on)
// and a retried submission write nothing twice, and the retried
// submission answers nil.
func TestRetriesWriteOnce(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.partnership(t, "5006", "Frivilligsentralen")
	w := e.fielded(t)
	token := e.link(t, w, "5006", p)
	save := func(req string, a survey.Answers) {
		t.Helper()
		if _, err := e.svc.Save(ctx, token, "nb", a, nil, req); err != nil {
			t.Fatalf("Save %s: %v", req, err)
		}
	}
	save("a", survey.Answers{"lead_support": {"2"}})
	save("a", survey.Answers{"lead_support": {"2"}}) // at its place: deduplicated
	if n := len(responseEvents(t, e, token)); n != 2 {
		t.Fatalf("%d events after a retried first save", n)
	}
	save("b", survey.Answers{"comment": {"ok"}})
	save("a", survey.Answers{"lead_support": {"2"}}) // the stream moved on since
	if got := types(responseEvents(t, e, token)); len(got) != 3 {
		t.Fatalf("events %v after a late retry", got)
	}
	if err := e.svc.Submit(ctx, token, "nb", survey.Answers{"lead_support": {"4"}}, nil, "s"); err != nil {
		t.Fatal(err)
	}
	head := e.head(t)
	if err := e.svc.Submit(ctx, token, "nb", survey.Answers{"lead_support": {"4"}}, nil, "s"); err != nil {
		t.Errorf("retried submission: %v", err)
	}
	if e.head(t) != head {
		t.Error("a retried submission wrote")
	}
	if err := e.svc.Submit(ctx, token, "nb", survey.Answers{"lead_support": {"4"}}, nil, "t"); !errors.Is(err, surveys.ErrLinkUsed) {
		t.Errorf("another submission: %v", err)
	}
}

// TestStoreDedupeAsTheServiceUsesIt pins what the service relies on: an
// identical retry of an append (its Exactly(v) unchanged) is deduplicated,
// also after the stream moved on; a retry that re-read the stream and
// expects its new version is ErrDuplicateEventID (the service takes it as
// "already written"); neither writes.
func TestStoreDedupeAsTheServiceUsesIt(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ev := func(id string) eventstore.NewEvent {
		return eventstore.NewEvent{EventID: id, Type: survey.TypeSurveyAnswersSaved, SchemaVersion: 1, OccurredAt: day10, Data: []byte(`{"answers":{}}`)}
	}
	const stream = "survey-response-00000000000000000000000000000001"
	first := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.NoStream(),
		Events: []eventstore.NewEvent{ev("0193a000-0000-7000-8000-000000000001")}}
	if _, err := e.store.Append(ctx, first); err != nil {
		t.Fatal(err)
	}
	res, err := e.store.Append(ctx, first)
	if err != nil || !res.Deduplicated {
		t.Fatalf("identical retry: %+v, %v", res, err)
	}
	second := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(1),
		Events: []eventstore.NewEvent{ev("0193a000-0000-7000-8000-000000000002")}}
	if _, err := e.store.Append(ctx, second); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(2),
		Events: []eventstore.NewEvent{ev("0193a000-0000-7000-8000-000000000003")}}); err != nil {
		t.Fatal(err)
	}
	head := e.head(t)
	// The same request again, Exactly(1) and all: still at its place.
	if res, err := e.store.Append(ctx, second); err != nil || !res.Deduplicated {
		t.Errorf("identical retry after the stream moved: %+v, %v", res, err)
	}
	// A retry that re-read the stream first, as the service's does.
	second.Expected = eventstore.Exactly(3)
	if _, err := e.store.Append(ctx, second); !errors.Is(err, eventstore.ErrDuplicateEventID) {
		t.Errorf("retry at the stream's new version: %v", err)
	}
	if e.head(t) != head {
		t.Error("a retry wrote")
	}
}

// TestConcurrentSavesOnOneLink: saves of different items from many
// goroutines at once all land, in one response with one start.
func TestConcurrentSavesOnOneLink(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.partnership(t, "5006", "Frivilligsentralen")
	w := e.fielded(t)
	token := e.link(t, w, "5006", p)
	const n = 6
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			a := survey.Answers{"comment": {fmt.Sprint("svar ", i)}}
			if i == 0 {
				a = survey.Answers{"lead_support": {"3"}}
			}
			_, errs[i] = e.svc.Save(ctx, token, "nb", a, nil, fmt.Sprint("req-", i))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("save %d: %v", i, err)
		}
	}
	evs := responseEvents(t, e, token)
	if len(evs) != n+1 || evs[0].Type != survey.TypeSurveyResponseStarted {
		t.Fatalf("events %v", types(evs))
	}
	for _, ev := range evs[1:] {
		if ev.Type != survey.TypeSurveyAnswersSaved {
			t.Errorf("event %s", ev.Type)
		}
	}
	sess, err := e.svc.Open(ctx, token)
	if err != nil || sess.Response.Answers["lead_support"][0] != "3" || len(sess.Response.Answers["comment"]) != 1 {
		t.Errorf("response %+v, %v", sess.Response, err)
	}
}

// failingMarks is the real link store whose marks as completed fail, as
// when the auth database is briefly away after the submission's append.
type failingMarks struct {
	auth.SurveyLinkStore
	fail bool
}

func (f *failingMarks) MarkLink(ctx context.Context, h auth.Hash, state string) error {
	if f.fail && state == auth.LinkCompleted {
		return errors.New("database is locked")
	}
	return f.SurveyLinkStore.MarkLink(ctx, h, state)
}

// TestSubmissionWhoseMarkFailed: the submission stands (nil), the link
// stays started; the next Open answers ErrLinkUsed from the stream and
// repairs the mark.
func TestSubmissionWhoseMarkFailed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	marks := &failingMarks{SurveyLinkStore: e.links}
	svc := surveys.New(e.store, marks, e.links, surveys.WithClock(e.clock), surveys.WithLogger(slog.New(slog.DiscardHandler)))
	p := e.partnership(t, "5006", "Frivilligsentralen")
	w := e.fielded(t)
	token := e.link(t, w, "5006", p)
	if _, err := svc.Save(ctx, token, "nb", survey.Answers{"lead_support": {"2"}}, nil, "a"); err != nil {
		t.Fatal(err)
	}
	marks.fail = true
	if err := svc.Submit(ctx, token, "nb", nil, nil, "b"); err != nil {
		t.Fatalf("Submit with a failing mark: %v", err)
	}
	if linkState(t, e, token) != auth.LinkStarted {
		t.Fatal("the mark did not fail: the test tests nothing")
	}
	marks.fail = false
	if _, err := svc.Save(ctx, token, "nb", survey.Answers{"lead_support": {"1"}}, nil, "c"); !errors.Is(err, surveys.ErrLinkUsed) {
		t.Errorf("Save after the submission: %v", err)
	}
	if linkState(t, e, token) != auth.LinkCompleted {
		t.Error("mark not repaired")
	}
}

// TestTrackCounts: links by municipality, group and partnership, totals;
// for links that fix none, the completed responses per chosen partnership.
func TestTrackCounts(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a := e.partnership(t, "5006", "Frivilligsentralen")
	b := e.partnership(t, "5006", "Turlaget")
	w := e.fielded(t)
	fixed := e.link(t, w, "5006", a)
	free1, free2 := e.link(t, w, "5006", ""), e.link(t, w, "5006", "")
	e.link(t, w, "0301", "")
	if err := e.svc.Submit(ctx, fixed, "nb", survey.Answers{"lead_support": {"2"}}, nil, "x"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Submit(ctx, free1, "nb", survey.Answers{"lead_support": {"2"}}, []string{a, b}, "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Save(ctx, free2, "nb", survey.Answers{"lead_support": {"2"}}, []string{b}, "x"); err != nil {
		t.Fatal(err)
	}
	tr, err := e.svc.Track(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	g := survey.GroupMunicipalLeaders
	want := []auth.LinkCount{
		{Municipality: "0301", Group: g, Invited: 1},
		{Municipality: "5006", Group: g, Invited: 2, Started: 2, Completed: 1},
		{Municipality: "5006", Group: g, PartnershipID: a, Invited: 1, Started: 1, Completed: 1},
		{Municipality: "5006", Group: g, PartnershipID: a, Completed: 1},
		{Municipality: "5006", Group: g, PartnershipID: b, Completed: 1},
	}
	if len(tr.Rows) != len(want) {
		t.Fatalf("rows %+v", tr.Rows)
	}
	for _, r := range want {
		if !slices.Contains(tr.Rows, r) {
			t.Errorf("rows %+v lack %+v", tr.Rows, r)
		}
	}
	if tr.Totals != (auth.LinkCount{Invited: 4, Started: 3, Completed: 2}) || tr.Wave.ID != w.ID {
		t.Errorf("totals %+v", tr.Totals)
	}
	if _, err := e.svc.Track(ctx, "nope"); !errors.Is(err, surveys.ErrWaveNotFound) {
		t.Errorf("Track of no wave: %v", err)
	}
}

// TestResponsesByPositionAndWave: submitted responses of the wave only,
// in submission order, up to a position.
func TestResponsesByPositionAndWave(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p := e.partnership(t, "5006", "Frivilligsentralen")
	w := e.fielded(t)
	other := e.fielded(t)
	first, second, unsent := e.link(t, w, "5006", p), e.link(t, w, "5006", p), e.link(t, w, "5006", p)
	// second starts first but submits last.
	if _, err := e.svc.Save(ctx, second, "nb", survey.Answers{"lead_support": {"1"}}, nil, "a"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Submit(ctx, first, "nb", survey.Answers{"lead_support": {"2"}}, nil, "a"); err != nil {
		t.Fatal(err)
	}
	between := e.head(t)
	if err := e.svc.Submit(ctx, second, "nb", nil, nil, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Save(ctx, unsent, "nb", survey.Answers{"lead_support": {"3"}}, nil, "a"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Submit(ctx, e.link(t, other, "5006", p), "nb", survey.Answers{"lead_support": {"2"}}, nil, "a"); err != nil {
		t.Fatal(err)
	}
	rs, err := surveys.Responses(ctx, e.store, w.ID, 0)
	if err != nil || len(rs) != 2 || rs[0].ID != surveys.ResponseID(first) || rs[1].ID != surveys.ResponseID(second) {
		t.Errorf("Responses = %+v, %v", rs, err)
	}
	rs, err = surveys.Responses(ctx, e.store, w.ID, between)
	if err != nil || len(rs) != 1 || rs[0].ID != surveys.ResponseID(first) {
		t.Errorf("Responses up to %d = %+v, %v", between, rs, err)
	}
}
