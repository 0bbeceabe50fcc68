package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	httpapi "github.com/samspill/samspill/http"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/surveys"
)

// respondNow is the answer tests' start: the wave opened the day before
// and closes thirty days later.
var respondNow = time.Date(2027, time.March, 10, 9, 0, 0, 0, time.UTC)

// respondSite is a real server for the answer pages: the API's engine
// (access log, security headers) with the pages, over a SQLite event store
// and an auth SQLite store (tokens, projects, survey links) in the test's
// folder, and a real surveys.Service with one wave of the test
// questionnaire. Its server log (JSON, info and up) is kept, so tests can
// read what was logged.
type respondSite struct {
	srv   *httptest.Server
	store *sqlite.Store
	svc   *surveys.Service
	pages *Pages
	wave  surveys.WaveInfo
	// choices are two partnerships in Arendal, as the directory offers
	// them.
	choices []surveys.Choice
	skew    atomic.Int64
	log     *lockedBuffer
}

// respondOptions change the site.
type respondOptions struct {
	// limits replace defaultRespondLimits (the load benchmark lifts them,
	// the rate-limit test lowers them).
	limits *respondLimits
	// opensIn moves the wave's opening day (and close) by days.
	opensIn int
	// questionnaire replaces respondQuestionnaire.
	questionnaire *survey.Questionnaire
	// trustedProxies are the engine's (edge.TrustProxies).
	trustedProxies []string
}

// lockedBuffer is a buffer that takes the server's concurrent log writes.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// staticDirectory names the partnerships the site initiated in Arendal
// (4203): the service's port to the summaries read model, which cmd
// answers and these tests need not wait for.
type staticDirectory struct{ choices *[]surveys.Choice }

func (d staticDirectory) Partnerships(_ context.Context, municipality string) ([]surveys.Choice, error) {
	if municipality == "4203" {
		return *d.choices, nil
	}
	return nil, nil
}

func ptr[T any](v T) *T { return &v }

// respondQuestionnaire is the answer tests' questionnaire: four sections,
// every kind of item, a section shown only to volunteers, and an item
// shown by an answer on its own page.
func respondQuestionnaire() survey.Questionnaire {
	agree5 := []survey.Text{
		{"nb": "Helt uenig", "nn": "Heilt usamd", "en": "Strongly disagree"},
		{"nb": "Litt uenig", "nn": "Litt usamd", "en": "Disagree"},
		{"nb": "Verken eller", "nn": "Verken eller", "en": "Neither"},
		{"nb": "Litt enig", "nn": "Litt samd", "en": "Agree"},
		{"nb": "Helt enig", "nn": "Heilt samd", "en": "Strongly agree"},
	}
	return survey.Questionnaire{
		ID:    "respond-test",
		Title: survey.Text{"nb": "Samarbeid med kommunen", "nn": "Samarbeid med kommunen", "en": "Working with the municipality"},
		Intro: survey.Text{"nb": "Takk for at du svarer.", "nn": "Takk for at du svarar.", "en": "Thank you for answering."},
		Sections: []survey.Section{
			{ID: "about", Title: survey.Text{"nb": "Om deg", "nn": "Om deg", "en": "About you"}, Items: []survey.Item{
				{ID: "role", Kind: survey.KindSingle, Required: true, Text: survey.Text{"nb": "Hva er din rolle?", "nn": "Kva er rolla di?", "en": "What is your role?"},
					Options: []survey.Option{
						{Code: "leader", Label: survey.Text{"nb": "Leder i kommunen", "nn": "Leiar i kommunen", "en": "Municipal leader"}},
						{Code: "volunteer", Label: survey.Text{"nb": "Frivillig", "nn": "Frivillig", "en": "Volunteer"}},
					}},
				{ID: "support", Kind: survey.KindLikert, Required: true, Theme: "leadership",
					Text:  survey.Text{"nb": "Ledelsen støtter samarbeidet.", "nn": "Leiinga støttar samarbeidet.", "en": "The leadership supports the partnership."},
					Help:  survey.Text{"nb": "Tenk på det siste året.", "nn": "Tenk på det siste året.", "en": "Think of the last year."},
					Scale: &survey.Scale{Points: 5, Labels: agree5}},
			}},
			{ID: "work", Title: survey.Text{"nb": "Arbeidet", "nn": "Arbeidet", "en": "The work"}, Items: []survey.Item{
				{ID: "tasks", Kind: survey.KindMultiple, Text: survey.Text{"nb": "Hva gjør du?", "nn": "Kva gjer du?", "en": "What do you do?"},
					Options: []survey.Option{
						{Code: "homework", Label: survey.Text{"nb": "Leksehjelp", "nn": "Leksehjelp", "en": "Homework help"}},
						{Code: "walks", Label: survey.Text{"nb": "Turer", "nn": "Turar", "en": "Walks"}},
						{Code: "other", Label: survey.Text{"nb": "Annet", "nn": "Anna", "en": "Other"}},
					}},
				{ID: "other_task", Kind: survey.KindText, MaxLength: 200, ShowIf: &survey.Condition{Item: "tasks", In: []string{"other"}},
					Text: survey.Text{"nb": "Hva annet gjør du?", "nn": "Kva anna gjer du?", "en": "What else do you do?"}},
				{ID: "hours", Kind: survey.KindNumber, Min: ptr(0.0), Max: ptr(200.0),
					Unit: survey.Text{"nb": "timer i måneden", "nn": "timar i månaden", "en": "hours a month"},
					Text: survey.Text{"nb": "Hvor mye tid bruker du?", "nn": "Kor mykje tid bruker du?", "en": "How much time do you spend?"}},
			}},
			{ID: "volunteers", ShowIf: &survey.Condition{Item: "role", In: []string{"volunteer"}}, Title: survey.Text{"nb": "Som frivillig", "nn": "Som frivillig", "en": "As a volunteer"}, Items: []survey.Item{
				{ID: "organised", Kind: survey.KindLikert, Required: true, Theme: "facilitation",
					Text:  survey.Text{"nb": "Arbeidet er organisert i hjel.", "nn": "Arbeidet er organisert i hel.", "en": "The work is organised to death."},
					Scale: &survey.Scale{Points: 7, Labels: []survey.Text{{"nb": "Helt uenig", "nn": "Heilt usamd", "en": "Strongly disagree"}, {"nb": "Helt enig", "nn": "Heilt samd", "en": "Strongly agree"}}}},
			}},
			{ID: "last", Title: survey.Text{"nb": "Til slutt", "nn": "Til slutt", "en": "Finally"}, Items: []survey.Item{
				{ID: "comment", Kind: survey.KindText, Text: survey.Text{"nb": "Noe mer du vil si?", "nn": "Noko meir du vil seie?", "en": "Anything else?"}},
			}},
		},
	}
}

// newRespondSite starts the server with one wave of the questionnaire in
// Arendal, open from the day before respondNow for thirty days.
func newRespondSite(t testing.TB, opts respondOptions) *respondSite {
	t.Helper()
	ctx := context.Background()
	s := &respondSite{log: &lockedBuffer{}}
	start := time.Now()
	now := func() time.Time { return respondNow.Add(time.Since(start) + time.Duration(s.skew.Load())) }
	dir := t.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"), sqlite.WithClock(now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	s.store = store
	logger := slog.New(slog.NewJSONHandler(s.log, &slog.HandlerOptions{Level: slog.LevelInfo}))
	projectSealer, err := auth.NewProjectSealer(bytes.Repeat([]byte{5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := authsqlite.Open(ctx, filepath.Join(dir, "tokens.db"), authsqlite.WithProjectSealer(projectSealer))
	if err != nil {
		t.Fatalf("open tokens: %v", err)
	}
	t.Cleanup(func() { _ = tokens.Close() })
	links, ok := any(tokens).(auth.SurveyLinkStore)
	if !ok {
		t.Fatal("auth/sqlite does not keep survey links yet (helper B's link store)")
	}
	if _, err := tokens.CreateProject(ctx, auth.SystemPrincipal, auth.Project{ID: "offri", Name: "Samspill over tid", Institution: "Universitetet i Oslo",
		Purpose: "Spørjeundersøkingar", Starts: "2026-01-01", Municipalities: []kommune.Code{"4203"}}); err != nil {
		t.Fatal(err)
	}
	s.svc = surveys.New(store, links, tokens, surveys.WithClock(now), surveys.WithLogger(logger), surveys.WithDirectory(staticDirectory{&s.choices}))
	svc := app.New(store, app.WithClock(now), app.WithLogger(logger))
	for _, title := range []string{"Leksehjelp på biblioteket", "Turvenner"} {
		res, err := svc.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
			Title: title, Municipality: "4203", ServiceArea: "education", CollaborationModel: "network",
			Partners: []partnership.Partner{{Name: "Arendal frivilligsentral", Kind: "voluntary_organisation"}}, Goals: []string{"Samarbeid"},
		}}, app.Meta{Actor: eventstore.Actor{Subject: "admin", Role: auth.RoleAdmin}})
		if err != nil {
			t.Fatalf("initiate %s: %v", title, err)
		}
		s.choices = append(s.choices, surveys.Choice{ID: res.State.ID, Name: title})
	}
	q := respondQuestionnaire()
	if opts.questionnaire != nil {
		q = *opts.questionnaire
	}
	actor := eventstore.Actor{Subject: "researcher", Role: auth.RoleResearcher}
	q, err = s.svc.Publish(ctx, actor, q)
	if err != nil {
		t.Fatalf("publish the questionnaire: %v", err)
	}
	day := func(days int) string { return calendar.Day(respondNow.AddDate(0, 0, days)) }
	s.wave, err = s.svc.Schedule(ctx, actor, survey.Wave{ProjectID: "offri", Title: "Test", QuestionnaireID: q.ID, QuestionnaireVersion: q.Version,
		Group: survey.GroupVolunteers, Municipalities: []string{"4203"}, Opens: day(opts.opensIn - 1), Closes: day(opts.opensIn + 30)})
	if err != nil {
		t.Fatalf("schedule the wave: %v", err)
	}
	proj := projectionstest.Start(t, store, logger)
	pages, err := New(Config{Service: svc, Projections: proj, Tokens: tokens, Logger: logger, Now: now, Surveys: s.svc})
	if err != nil {
		t.Fatal(err)
	}
	if opts.limits != nil {
		pages.respond = newRespondGuard(*opts.limits)
	}
	s.pages = pages
	api, err := httpapi.New(httpapi.Config{Service: app.New(store), Store: store, Projections: proj, Tokens: tokens, Logger: logger, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	engine := edge.NewEngine()
	if err := edge.TrustProxies(engine, opts.trustedProxies); err != nil {
		t.Fatal(err)
	}
	api.Use(engine)
	api.Register(engine)
	pages.Register(engine)
	s.srv = httptest.NewServer(engine)
	t.Cleanup(s.srv.Close)
	return s
}

// links issues n links in Arendal, fixed to partnership when it is not "".
func (s *respondSite) links(t testing.TB, n int, partnership string) []string {
	t.Helper()
	issued, err := s.svc.IssueLinks(context.Background(), eventstore.Actor{Subject: "researcher", Role: auth.RoleResearcher}, s.wave.ID,
		surveys.LinkRequest{Municipality: "4203", PartnershipID: partnership, Count: n})
	if err != nil {
		t.Fatalf("issue links: %v", err)
	}
	out := make([]string, len(issued))
	for i, l := range issued {
		out[i] = l.Token
	}
	return out
}

// advance moves the site's clock.
func (s *respondSite) advance(d time.Duration) { s.skew.Add(int64(d)) }

// responseEvents reads the types of the events of a token's response.
func (s *respondSite) responseEvents(t testing.TB, token string) []string {
	t.Helper()
	events, err := s.store.ReadStream(context.Background(), survey.ResponseStream(surveys.ResponseID(token)))
	if err != nil && !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("read the response: %v", err)
	}
	types := []string{}
	for _, e := range events {
		types = append(types, e.Type)
	}
	return types
}

// visitor is a browser without sign-in: a cookie jar, redirects not
// followed, and an Accept-Language.
type visitor struct {
	t      testing.TB
	base   string
	client *http.Client
	lang   string
}

func (s *respondSite) visitor(t testing.TB, lang string) *visitor {
	jar, _ := cookiejar.New(nil)
	return &visitor{t: t, base: s.srv.URL, lang: lang, client: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	if v.lang != "" {
		req.Header.Set("Accept-Language", v.lang)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		v.t.Fatalf("read body: %v", err)
	}
	return page{Status: resp.StatusCode, Header: resp.Header, Body: string(body), Location: resp.Header.Get("Location")}
}

func (v *visitor) get(path string) page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, v.base+path, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	return v.do(req)
}

func (v *visitor) post(path string, form url.Values) page {
	v.t.Helper()
	return v.postBody(path, form.Encode())
}

func (v *visitor) postBody(path, body string) page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodPost, v.base+path, strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return v.do(req)
}

var (
	requestIDRe = regexp.MustCompile(`name="request_id" value="([^"]+)"`)
	sectionRe   = regexp.MustCompile(`name="section" value="([^"]+)"`)
)

// answerForm is the form a section page draws: its hidden fields, ready
// for the answers and a button.
func answerForm(t testing.TB, body string) url.Values {
	t.Helper()
	csrf, _ := formValues(t, body)
	rid, sec := requestIDRe.FindStringSubmatch(body), sectionRe.FindStringSubmatch(body)
	if rid == nil || sec == nil {
		t.Fatalf("no answer form on the page:\n%s", body)
	}
	return url.Values{"csrf_token": {csrf}, "request_id": {rid[1]}, "section": {sec[1]}}
}

// with returns a copy of form with more fields.
func with(form url.Values, pairs ...string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = append([]string(nil), v...)
	}
	for i := 0; i+1 < len(pairs); i += 2 {
		out.Add(pairs[i], pairs[i+1])
	}
	return out
}
