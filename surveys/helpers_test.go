package surveys_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
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
	evsqlite "github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/surveys"
)

// env is a service over a real SQLite event store and a real SQLite auth
// store in the test's own folder, with a clock the test moves.
type env struct {
	svc        *surveys.Service
	store      *evsqlite.Store
	links      *authsqlite.Tokens
	dir        *directory
	eventsPath string
	authPath   string
	mu         sync.Mutex
	now        time.Time
}

var researcher = eventstore.Actor{Subject: "kari", Role: auth.RoleResearcher}

// day10 is the tests' "now": 10 March 2027, 11:00 in Oslo.
var day10 = time.Date(2027, time.March, 10, 11, 0, 0, 0, calendar.Oslo)

func newEnv(t testing.TB, opts ...surveys.Option) *env {
	t.Helper()
	ctx := context.Background()
	d := t.TempDir()
	e := &env{eventsPath: filepath.Join(d, "events.db"), authPath: filepath.Join(d, "tokens.db"), now: day10,
		dir: &directory{byMunicipality: map[string][]surveys.Choice{}}}
	store, err := evsqlite.Open(ctx, e.eventsPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	ps, err := auth.NewProjectSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	links, err := authsqlite.Open(ctx, e.authPath, authsqlite.WithProjectSealer(ps))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = links.Close() })
	e.store, e.links = store, links
	_, err = links.CreateProject(ctx, auth.Principal{Subject: "admin", Role: auth.RoleAdmin}, auth.Project{
		ID: "offri", Name: "Offentlig-frivillig samspill", Institution: "Universitetet i Oslo", Purpose: "Samarbeid over tid",
		Starts: "2026-01-01", Municipalities: []kommune.Code{"5006", "0301"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = links.CreateProject(ctx, auth.Principal{Subject: "admin", Role: auth.RoleAdmin}, auth.Project{
		ID: "open", Name: "Alle kommuner", Institution: "NTNU", Purpose: "Alt", Starts: "2026-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	all := append([]surveys.Option{surveys.WithClock(e.clock), surveys.WithDirectory(e.dir), surveys.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	e.svc = surveys.New(store, links, links, all...)
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) setNow(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

func (e *env) head(t testing.TB) uint64 {
	t.Helper()
	h, err := e.store.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// directory answers the respondents' choices from the partnerships the
// test initiated (cmd answers it from the summaries read model).
type directory struct {
	mu             sync.Mutex
	byMunicipality map[string][]surveys.Choice
}

func (d *directory) Partnerships(_ context.Context, municipality string) ([]surveys.Choice, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]surveys.Choice(nil), d.byMunicipality[municipality]...), nil
}

// partnership initiates a partnership in a municipality through the real
// command service and lists it in the directory.
func (e *env) partnership(t testing.TB, municipality, title string) string {
	t.Helper()
	in2021 := time.Date(2021, time.May, 2, 10, 0, 0, 0, time.UTC)
	res, err := app.New(e.store).Initiate(context.Background(), partnership.Command{Event: partnership.PartnershipInitiated{
		Municipality: municipality, Title: title, ServiceArea: "education", CollaborationModel: "network", Goals: []string{"Mål"},
		Partners: []partnership.Partner{{PartnerID: "a", Name: "Røde Kors", Kind: "voluntary_organisation"}},
	}, OccurredAt: &in2021}, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	e.dir.mu.Lock()
	e.dir.byMunicipality[municipality] = append(e.dir.byMunicipality[municipality], surveys.Choice{ID: res.State.ID, Name: title})
	e.dir.mu.Unlock()
	return res.State.ID
}

func nb(s string) survey.Text { return survey.Text{survey.LangNB: s} }

// leaders is a small valid questionnaire: a required Likert item, an
// optional single choice and free text.
func leaders() survey.Questionnaire {
	return survey.Questionnaire{
		ID:    "offri-leaders",
		Title: survey.Text{survey.LangNB: "Samarbeid med frivillige", survey.LangNN: "Samarbeid med frivillige"},
		Sections: []survey.Section{{
			ID: "leadership", Title: nb("Ledelse"),
			Items: []survey.Item{
				{ID: "lead_support", Kind: survey.KindLikert, Text: nb("Ledelsen støtter samarbeidet"), Required: true,
					Scale: &survey.Scale{Points: 5, Labels: []survey.Text{nb("Helt uenig"), nb("Helt enig")}}},
				{ID: "anchoring", Kind: survey.KindSingle, Text: nb("Hvor er samarbeidet forankret?"),
					Options: []survey.Option{{Code: "admin", Label: nb("Administrasjonen")}, {Code: "political", Label: nb("Politisk")}}},
				{ID: "comment", Kind: survey.KindText, Text: nb("Kommentar")},
			},
		}},
	}
}

// fielded publishes the questionnaire and schedules a wave of it for
// Steinkjer and Oslo, open 1 to 31 March 2027.
func (e *env) fielded(t testing.TB, partnerships ...string) surveys.WaveInfo {
	t.Helper()
	ctx := context.Background()
	q, err := e.svc.Publish(ctx, researcher, leaders())
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	w, err := e.svc.Schedule(ctx, researcher, survey.Wave{ProjectID: "offri", Title: "OFFRI 2027, kommunale ledere",
		QuestionnaireID: q.ID, QuestionnaireVersion: q.Version, Group: survey.GroupMunicipalLeaders,
		Municipalities: []string{"5006", "0301"}, Partnerships: partnerships, Opens: "2027-03-01", Closes: "2027-03-31"})
	if err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	return w
}

// link issues one link of the wave.
func (e *env) link(t *testing.T, w surveys.WaveInfo, municipality, partnershipID string) string {
	t.Helper()
	ls, err := e.svc.IssueLinks(context.Background(), researcher, w.ID, surveys.LinkRequest{Municipality: municipality, PartnershipID: partnershipID, Count: 1})
	if err != nil {
		t.Fatalf("IssueLinks: %v", err)
	}
	return ls[0].Token
}

func linkState(t *testing.T, e *env, token string) string {
	t.Helper()
	l, err := e.links.Link(context.Background(), auth.HashToken(token))
	if err != nil {
		t.Fatal(err)
	}
	return l.State
}

// responseEvents reads a response's stream.
func responseEvents(t *testing.T, e *env, token string) []eventstore.RecordedEvent {
	t.Helper()
	evs, err := e.store.ReadStream(context.Background(), survey.ResponseStream(surveys.ResponseID(token)))
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func types(evs []eventstore.RecordedEvent) []string {
	out := []string{}
	for _, e := range evs {
		out = append(out, e.Type)
	}
	return out
}
