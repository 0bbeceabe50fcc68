package surveys_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/surveys"
)

func fields(err error) []string {
	var werr *surveys.WaveError
	if !errors.As(err, &werr) {
		return nil
	}
	out := []string{}
	for _, p := range werr.Problems {
		out = append(out, p.Field)
	}
	return out
}

// TestScheduleNamesEveryProblem: a wave wrong in every field is refused
// with each field named at once, and nothing is written.
func TestScheduleNamesEveryProblem(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.svc.Publish(ctx, researcher, leaders()); err != nil {
		t.Fatal(err)
	}
	oslo := e.partnership(t, "0301", "Leksehjelp Grünerløkka")
	head := e.head(t)
	_, err := e.svc.Schedule(ctx, researcher, survey.Wave{ProjectID: "nope", Title: "  ",
		QuestionnaireID: "offri-leaders", QuestionnaireVersion: 4, Group: "mayors",
		Municipalities: []string{"12", "5006", "5006"}, Partnerships: []string{oslo, "not-a-partnership"},
		Opens: "2027-03-20", Closes: "2027-03-01"})
	if !errors.Is(err, surveys.ErrInvalidWave) {
		t.Fatalf("Schedule = %v; want ErrInvalidWave", err)
	}
	want := []string{"title", "project_id", "questionnaire_version", "group", "municipalities[0]", "municipalities[2]",
		"partnerships[0]", "partnerships[1]", "closes", "closes"}
	if got := fields(err); !slices.Equal(got, want) {
		t.Errorf("fields %v\nwant   %v\n(%v)", got, want, err)
	}
	if e.head(t) != head {
		t.Error("a refused wave wrote events")
	}
	// Each on its own: blank title, a long one, no municipalities, no
	// questionnaire, bad days, a municipality outside the project.
	good := survey.Wave{ProjectID: "offri", Title: "OFFRI", QuestionnaireID: "offri-leaders", Group: survey.GroupVolunteers,
		Municipalities: []string{"5006"}, Opens: "2027-03-01", Closes: "2027-03-31"}
	for name, c := range map[string]struct {
		change func(*survey.Wave)
		field  string
	}{
		"long title":          {func(w *survey.Wave) { w.Title = strings.Repeat("å", 201) }, "title"},
		"no municipalities":   {func(w *survey.Wave) { w.Municipalities = nil }, "municipalities"},
		"not the project's":   {func(w *survey.Wave) { w.Municipalities = []string{"4601"} }, "municipalities[0]"},
		"no questionnaire":    {func(w *survey.Wave) { w.QuestionnaireID = "" }, "questionnaire_id"},
		"unknown one":         {func(w *survey.Wave) { w.QuestionnaireID = "nope" }, "questionnaire_id"},
		"no project":          {func(w *survey.Wave) { w.ProjectID = "" }, "project_id"},
		"opens not a day":     {func(w *survey.Wave) { w.Opens = "1. mars" }, "opens"},
		"closed yesterday":    {func(w *survey.Wave) { w.Opens, w.Closes = "2027-03-01", "2027-03-09" }, "closes"},
		"partnership outside": {func(w *survey.Wave) { w.Partnerships = []string{oslo} }, "partnerships[0]"},
		"partnership twice": {func(w *survey.Wave) {
			w.Municipalities, w.Partnerships = []string{"0301"}, []string{oslo, oslo}
		}, "partnerships[1]"},
	} {
		w := good
		c.change(&w)
		if _, err := e.svc.Schedule(ctx, researcher, w); !slices.Equal(fields(err), []string{c.field}) {
			t.Errorf("%s: %v; want only %s", name, err, c.field)
		}
	}
	// A project without municipalities takes any valid code; a wave that
	// closes today is not in the past; version 0 is the latest.
	w := good
	w.ProjectID, w.Municipalities, w.Closes, w.QuestionnaireVersion = "open", []string{"4601"}, "2027-03-10", 0
	got, err := e.svc.Schedule(ctx, researcher, w)
	if err != nil || got.QuestionnaireVersion != 1 || got.ID == "" || got.Position == 0 {
		t.Errorf("Schedule = %+v, %v", got, err)
	}
}

// TestWavesAndClose: waves read back, listed newest first by project;
// Close closes once (a second close writes nothing), erases the wave's
// addresses, and its links then open as ErrWaveClosed and take no links.
func TestWavesAndClose(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	w1 := e.fielded(t)
	w2 := e.fielded(t)
	if got, err := e.svc.Wave(ctx, w1.ID); err != nil || got.Title != w1.Title || got.Closed {
		t.Errorf("Wave = %+v, %v", got, err)
	}
	if _, err := e.svc.Wave(ctx, "nope"); !errors.Is(err, surveys.ErrWaveNotFound) {
		t.Errorf("unknown wave: %v", err)
	}
	ws, err := e.svc.Waves(ctx, "offri")
	if err != nil || len(ws) != 2 || ws[0].ID != w2.ID || ws[1].ID != w1.ID {
		t.Errorf("Waves(offri) = %v, %v", ws, err)
	}
	if ws, err := e.svc.Waves(ctx, "open"); err != nil || len(ws) != 0 {
		t.Errorf("Waves(open) = %v, %v", ws, err)
	}
	mailed, err := e.svc.IssueLinks(ctx, researcher, w1.ID, surveys.LinkRequest{Municipality: "5006", Addresses: []string{"a@example.no"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Close(ctx, researcher, w1.ID, "nok svar"); err != nil {
		t.Fatal(err)
	}
	head := e.head(t)
	if err := e.svc.Close(ctx, researcher, w1.ID, "igjen"); err != nil || e.head(t) != head {
		t.Errorf("second Close: %v, head %d→%d", err, head, e.head(t))
	}
	got, err := e.svc.Wave(ctx, w1.ID)
	if err != nil || !got.Closed || got.ClosedOn != calendar.Day(day10) {
		t.Errorf("closed wave = %+v, %v", got, err)
	}
	if l, err := e.links.Link(ctx, auth.HashToken(mailed[0].Token)); err != nil || l.Address != "" {
		t.Errorf("address after close: %q, %v", l.Address, err)
	}
	if _, err := e.svc.Open(ctx, mailed[0].Token); !errors.Is(err, surveys.ErrWaveClosed) {
		t.Errorf("Open of a closed wave's link: %v", err)
	}
	if _, err := e.svc.IssueLinks(ctx, researcher, w1.ID, surveys.LinkRequest{Municipality: "5006", Count: 1}); !errors.Is(err, surveys.ErrWaveClosed) {
		t.Errorf("links of a closed wave: %v", err)
	}
	if err := e.svc.Close(ctx, researcher, "nope", ""); !errors.Is(err, surveys.ErrWaveNotFound) {
		t.Errorf("Close of no wave: %v", err)
	}
}

// TestIssueLinks: links by count and by address, stored as hashes with
// the wave's group and project and expiring at the end of the close day
// in Oslo; every bad request named; refused for a past wave.
func TestIssueLinks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	steinkjer := e.partnership(t, "5006", "Frivilligsentralen")
	oslo := e.partnership(t, "0301", "Leksehjelp")
	w := e.fielded(t)
	ls, err := e.svc.IssueLinks(ctx, researcher, w.ID, surveys.LinkRequest{Municipality: "5006", PartnershipID: steinkjer, Count: 3, Batch: "papir"})
	if err != nil || len(ls) != 3 {
		t.Fatalf("IssueLinks = %d, %v", len(ls), err)
	}
	wantExpiry := time.Date(2027, time.April, 1, 0, 0, 0, 0, calendar.Oslo)
	for _, l := range ls {
		if l.Path != "/s/"+l.Token || !l.ExpiresAt.Equal(wantExpiry) || l.PartnershipID != steinkjer {
			t.Errorf("issued %+v", l)
		}
		stored, err := e.links.Link(ctx, auth.HashToken(l.Token))
		if err != nil || stored.Group != survey.GroupMunicipalLeaders || stored.ProjectID != "offri" || stored.Batch != "papir" ||
			stored.State != auth.LinkInvited || stored.Mail != auth.MailNone || !stored.ExpiresAt.Equal(wantExpiry) {
			t.Errorf("stored %+v, %v", stored, err)
		}
	}
	mailed, err := e.svc.IssueLinks(ctx, researcher, w.ID, surveys.LinkRequest{Municipality: "0301", Addresses: []string{"ola@example.no", " kari@example.no "}})
	if err != nil || len(mailed) != 2 || mailed[1].Address != "kari@example.no" {
		t.Fatalf("mailed links = %+v, %v", mailed, err)
	}
	if stored, _ := e.links.Link(ctx, auth.HashToken(mailed[0].Token)); stored.Address != "ola@example.no" || stored.Mail != auth.MailQueued || stored.Batch == "" {
		t.Errorf("mailed link stored %+v", stored)
	}
	many := make([]string, 5001)
	for i := range many {
		many[i] = "x@example.no"
	}
	for name, c := range map[string]struct {
		req  surveys.LinkRequest
		want []string
	}{
		"none":                {surveys.LinkRequest{Municipality: "5006"}, []string{"count"}},
		"too many":            {surveys.LinkRequest{Municipality: "5006", Count: 5001}, []string{"count"}},
		"negative":            {surveys.LinkRequest{Municipality: "5006", Count: -1}, []string{"count"}},
		"both":                {surveys.LinkRequest{Municipality: "5006", Count: 2, Addresses: []string{"a@example.no"}}, []string{"count"}},
		"too many addresses":  {surveys.LinkRequest{Municipality: "5006", Addresses: many}, []string{"addresses"}},
		"bad addresses":       {surveys.LinkRequest{Municipality: "5006", Addresses: []string{"a@example.no", "nope", "Kari <k@example.no>", "A@example.no"}}, []string{"addresses[1]", "addresses[2]", "addresses[3]"}},
		"not the wave's":      {surveys.LinkRequest{Municipality: "4601", Count: 1}, []string{"municipality"}},
		"another's partner":   {surveys.LinkRequest{Municipality: "5006", PartnershipID: oslo, Count: 1}, []string{"partnership_id"}},
		"unknown partnership": {surveys.LinkRequest{Municipality: "5006", PartnershipID: "0190f0aa-0000-7000-8000-000000000000", Count: 1}, []string{"partnership_id"}},
	} {
		if _, err := e.svc.IssueLinks(ctx, researcher, w.ID, c.req); !slices.Equal(fields(err), c.want) {
			t.Errorf("%s: %v; want %v", name, err, c.want)
		}
	}
	if n, _ := e.links.CountLinks(ctx, w.ID); len(n) != 2 {
		t.Errorf("refused requests stored links: %+v", n)
	}
	// A wave that names partnerships takes links of those only.
	only := e.fielded(t, steinkjer)
	if _, err := e.svc.IssueLinks(ctx, researcher, only.ID, surveys.LinkRequest{Municipality: "0301", PartnershipID: oslo, Count: 1}); !slices.Equal(fields(err), []string{"partnership_id"}) {
		t.Errorf("a partnership not the wave's: %v", err)
	}
	if _, err := e.svc.IssueLinks(ctx, researcher, "nope", surveys.LinkRequest{Municipality: "5006", Count: 1}); !errors.Is(err, surveys.ErrWaveNotFound) {
		t.Errorf("unknown wave: %v", err)
	}
	e.setNow(time.Date(2027, time.April, 1, 0, 0, 1, 0, calendar.Oslo))
	if _, err := e.svc.IssueLinks(ctx, researcher, w.ID, surveys.LinkRequest{Municipality: "5006", Count: 1}); !errors.Is(err, surveys.ErrWaveClosed) {
		t.Errorf("links of a past wave: %v", err)
	}
}
