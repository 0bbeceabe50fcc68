package web

import (
	"bytes"
	"compress/zlib"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/internal/pdfprint"
	"github.com/samspill/samspill/surveys"
)

// freeText is what every fixture respondent writes in the free-text item:
// it must never reach a report, in HTML or PDF.
const freeText = "HEMMELIG-FRITEKST"

// reportQuestionnaire has an item of every kind.
func reportQuestionnaire() survey.Questionnaire {
	return survey.Questionnaire{ID: "offri-leaders", Version: 1, Title: survey.Text{"nb": "Ledere"},
		Sections: []survey.Section{{ID: "main", Title: survey.Text{"nb": "Samarbeidet"}, Items: []survey.Item{
			{ID: "lead_clear", Kind: survey.KindLikert, Theme: "leadership",
				Text:  survey.Text{"nb": "Ledelsen av samarbeidet er tydelig", "nn": "Leiinga av samarbeidet er tydeleg", "en": "The collaboration is clearly led"},
				Scale: &survey.Scale{Points: 5, Labels: []survey.Text{{"nb": "Helt uenig"}, {"nb": "Helt enig"}}}},
			{ID: "model", Kind: survey.KindSingle, Text: survey.Text{"nb": "Hvem tok initiativet?"},
				Options: []survey.Option{{Code: "municipality", Label: survey.Text{"nb": "Kommunen"}}, {Code: "organisation", Label: survey.Text{"nb": "Organisasjonen"}}}},
			{ID: "roles", Kind: survey.KindMultiple, Text: survey.Text{"nb": "Hvem gjør hva?"},
				Options: []survey.Option{{Code: "plan", Label: survey.Text{"nb": "Planlegger"}}, {Code: "run", Label: survey.Text{"nb": "Gjennomfører"}}, {Code: "pay", Label: survey.Text{"nb": "Betaler"}}}},
			{ID: "hours", Kind: survey.KindNumber, Integer: true, Min: ptr(0.0), Max: ptr(100.0), Text: survey.Text{"nb": "Timer per måned"}},
			{ID: "comment", Kind: survey.KindText, Text: survey.Text{"nb": "Noe annet?"}},
		}}}}
}

// fixtureReports hands the report fixed waves and responses (before the
// service's reads exist; TestReportFromTheService reads the real ones).
type fixtureReports struct {
	waves     []surveys.WaveInfo
	q         survey.Questionnaire
	responses map[string][]survey.Response
	invited   map[string]int // by wave and municipality: "wave/code"
}

func (f fixtureReports) Waves(_ context.Context, project string) ([]surveys.WaveInfo, error) {
	var out []surveys.WaveInfo
	for _, w := range f.waves {
		if w.ProjectID == project {
			out = append(out, w)
		}
	}
	return out, nil
}

func (f fixtureReports) Wave(_ context.Context, id string) (surveys.WaveInfo, error) {
	for _, w := range f.waves {
		if w.ID == id {
			return w, nil
		}
	}
	return surveys.WaveInfo{}, surveys.ErrWaveNotFound
}

func (f fixtureReports) Questionnaire(_ context.Context, id string, version int) (survey.Questionnaire, error) {
	if id != f.q.ID || version != f.q.Version {
		return survey.Questionnaire{}, surveys.ErrQuestionnaireNotFound
	}
	return f.q, nil
}

func (f fixtureReports) Track(_ context.Context, wave string) (surveys.Tracking, error) {
	var tr surveys.Tracking
	for key, n := range f.invited {
		w, code, _ := strings.Cut(key, "/")
		if w == wave {
			tr.Rows = append(tr.Rows, auth.LinkCount{Municipality: code, Invited: n})
		}
	}
	return tr, nil
}

func (f fixtureReports) Responses(_ context.Context, wave string) ([]survey.Response, error) {
	return f.responses[wave], nil
}

// leaderResponse is a submitted response; hours "" leaves it unanswered.
func leaderResponse(code, lead, model string, roles []string, hours string) survey.Response {
	a := survey.Answers{"lead_clear": {lead}, "model": {model}, "roles": roles, "comment": {freeText + " fra " + code}}
	if hours != "" {
		a["hours"] = []string{hours}
	}
	return survey.Response{WaveID: "w-leaders", Municipality: code, Group: survey.GroupMunicipalLeaders, Submitted: true, Answers: a, AnsweredOn: "2026-11-20"}
}

// reportFixture: the leaders' wave in Arendal and Steinkjer. Arendal has
// five responses (one without hours: four answers) and one not submitted;
// Steinkjer four.
func reportFixture() fixtureReports {
	w := surveys.WaveInfo{Wave: survey.Wave{ID: "w-leaders", ProjectID: "offri", Title: "OFFRI 2026, kommunale ledere", QuestionnaireID: "offri-leaders", QuestionnaireVersion: 1,
		Group: survey.GroupMunicipalLeaders, Municipalities: []string{"4203", "5006"}, Opens: "2026-11-01", Closes: "2026-11-30"}}
	rs := []survey.Response{
		leaderResponse("4203", "5", "municipality", []string{"plan", "run"}, "10"),
		leaderResponse("4203", "4", "municipality", []string{"run"}, "12"),
		leaderResponse("4203", "4", "organisation", []string{"run", "pay"}, "30"),
		leaderResponse("4203", "2", "municipality", []string{"plan"}, "4"),
		leaderResponse("4203", "3", "organisation", []string{"run"}, ""),
		{WaveID: "w-leaders", Municipality: "4203", Answers: survey.Answers{"lead_clear": {"1"}, "comment": {freeText}}},
		leaderResponse("5006", "1", "municipality", []string{"plan"}, "1"),
		leaderResponse("5006", "1", "municipality", []string{"plan"}, "1"),
		leaderResponse("5006", "2", "municipality", []string{"plan"}, "2"),
		leaderResponse("5006", "2", "municipality", []string{"plan"}, "2"),
	}
	return fixtureReports{waves: []surveys.WaveInfo{w}, q: reportQuestionnaire(),
		responses: map[string][]survey.Response{"w-leaders": rs}, invited: map[string]int{"w-leaders/4203": 20, "w-leaders/5006": 10}}
}

// newReportSite is the demo site with a research project "offri" (Arendal
// and Steinkjer; the researcher a member unless outsider) and pages whose
// reports read src; opts are the reports' options.
func newReportSite(t *testing.T, src reportSource, opts ReportOptions, outsider bool) *site {
	t.Helper()
	base := newSite(t, true)
	ctx := context.Background()
	if _, err := base.projectStore.CreateProject(ctx, auth.SystemPrincipal, auth.Project{ID: "offri", Name: "Samspill over tid", Institution: "Universitetet i Oslo",
		Purpose: "Samarbeid over tid", Starts: "2026-01-01", Municipalities: []kommune.Code{"4203", "5006"}}); err != nil {
		t.Fatal(err)
	}
	if !outsider {
		if err := base.projectStore.GrantProject(ctx, auth.SystemPrincipal, "offri", "researcher"); err != nil {
			t.Fatal(err)
		}
	}
	return reportSiteOver(t, base, src, opts)
}

// reportSiteOver serves base's data through pages of their own, whose
// reports read src: the pages are set up before their server starts.
func reportSiteOver(t *testing.T, base *site, src reportSource, opts ReportOptions) *site {
	t.Helper()
	sessions, ok := base.userStore.(auth.SessionStore)
	if !ok {
		t.Fatal("the site's user store keeps no sessions")
	}
	logger := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pages, err := New(Config{Service: base.svc, Projections: base.proj, Tokens: sessions, UserStore: base.userStore, ProjectStore: base.projectStore,
		Logger: logger, Now: base.now, Reports: opts})
	if err != nil {
		t.Fatal(err)
	}
	pages.reportData = src
	engine := edge.NewEngine()
	pages.Register(engine)
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	return &site{srv: srv, tokens: base.tokens, store: base.store, svc: base.svc, proj: base.proj, pages: pages,
		userStore: base.userStore, projectStore: base.projectStore, now: base.now, example: base.example}
}

const arendalReport = "/surveys/projects/offri/report/4203"

// section returns the HTML of the element with the id up to the next
// report item or section.
func itemHTML(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("no %s on the page", id)
	}
	rest := body[i:]
	if j := strings.Index(rest[1:], `class="report-item"`); j > 0 {
		rest = rest[:j]
	}
	if j := strings.Index(rest, "</section>"); j > 0 {
		rest = rest[:j]
	}
	return rest
}

func TestReportSuppressesSmallGroups(t *testing.T) {
	s := newReportSite(t, reportFixture(), ReportOptions{}, false)
	b := s.browserAs(t, "researcher")
	p := b.get(arendalReport)
	if p.Status != http.StatusOK {
		t.Fatalf("report: %d\n%s", p.Status, p.Body)
	}
	for _, want := range []string{"Tilbakemelding til Arendal kommune", "Samspill over tid", "Universitetet i Oslo", "Arendal (4203)", "Råd til kommunen"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	// Five answered the Likert item: shown with its counts and mean.
	lead := itemHTML(t, p.Body, "item-w-leaders-lead_clear")
	for _, want := range []string{"5 svar", "gjennomsnitt 3,6 på en skala 1–5", "1 Helt uenig", "5 Helt enig", `<td class="num">2</td><td class="num">40 %</td>`} {
		if !strings.Contains(lead, want) {
			t.Errorf("the Likert item lacks %q:\n%s", want, lead)
		}
	}
	// Four answered the hours: nothing but "fewer than 5".
	hours := itemHTML(t, p.Body, "item-w-leaders-hours")
	if !strings.Contains(hours, "færre enn 5 svar") || strings.Contains(hours, "<table") || strings.Contains(hours, "4 svar") {
		t.Errorf("the hours item (4 answers) is not suppressed:\n%s", hours)
	}
	// The wave's figures: 5 completed of 20 invited (the unsubmitted
	// response is not counted).
	if !strings.Contains(p.Body, `<dd class="completed">5</dd>`) || !strings.Contains(p.Body, `<dd class="rate">25 %</dd>`) {
		t.Errorf("the wave's counts are wrong:\n%s", itemHTML(t, p.Body, "wave-w-leaders"))
	}
	if strings.Contains(p.Body, freeText) || strings.Contains(p.Body, "Noe annet?") {
		t.Error("free text (or its item) appears in the report")
	}

	// Steinkjer: four responses, so neither the count nor the rate, and
	// every item suppressed.
	p = b.get("/surveys/projects/offri/report/5006")
	if p.Status != http.StatusOK {
		t.Fatalf("Steinkjer's report: %d", p.Status)
	}
	if !strings.Contains(p.Body, `<dd class="completed"><span class="suppressed">færre enn 5 svar</span></dd>`) || strings.Contains(p.Body, `class="rate"`) {
		t.Errorf("Steinkjer's four responses are not suppressed:\n%s", itemHTML(t, p.Body, "wave-w-leaders"))
	}
	if strings.Contains(p.Body, "<table class=\"report-dist\"") {
		t.Error("a distribution of four answers is shown")
	}
	if !strings.Contains(p.Body, "Færre enn 5 svarte i kommunen, så vi viser ingen tall for denne runden.") || strings.Contains(p.Body, `class="report-item"`) {
		t.Error("Steinkjer's wave of four shows its items")
	}
}

func TestReportMinimumAnswers(t *testing.T) {
	cfg := Config{Reports: ReportOptions{MinAnswers: 2}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "at least 3") {
		t.Errorf("a minimum of 2 answers: %v, want it refused", err)
	}
	// With a minimum of 4, Steinkjer's four responses are shown.
	s := newReportSite(t, reportFixture(), ReportOptions{MinAnswers: 4}, false)
	p := s.browserAs(t, "admin").get("/surveys/projects/offri/report/5006")
	if !strings.Contains(p.Body, `<dd class="completed">4</dd>`) || !strings.Contains(p.Body, "gjennomsnitt 1,5 på en skala 1–5") {
		t.Errorf("a minimum of 4 hides four answers:\n%s", p.Body)
	}
}

func TestReportScope(t *testing.T) {
	s := newReportSite(t, reportFixture(), ReportOptions{}, true)
	notFoundPage := s.browserAs(t, "admin").get("/surveys/projects/nothing/report/4203")
	if notFoundPage.Status != http.StatusNotFound {
		t.Fatalf("an unknown project: %d", notFoundPage.Status)
	}
	for _, c := range []struct {
		who, path string
		status    int
	}{
		{"admin", arendalReport, http.StatusOK},
		{"admin", arendalReport + "?audience=organisations", http.StatusOK},
		{"admin", arendalReport + "?audience=everyone", http.StatusBadRequest},
		{"admin", "/surveys/projects/offri/report/0301", http.StatusNotFound}, // Oslo is not the project's
		{"admin", "/surveys/projects/offri/report/1702", http.StatusNotFound}, // an old code
		{"arendal", arendalReport, http.StatusOK},
		{"arendal", "/surveys/projects/offri/report/5006", http.StatusNotFound},
		{"researcher", arendalReport, http.StatusNotFound}, // not a member
		{"viewer", arendalReport, http.StatusNotFound},
		{"", arendalReport, http.StatusSeeOther},
	} {
		p := s.browserAs(t, c.who).get(c.path)
		if p.Status != c.status {
			t.Errorf("%s GET %s: %d, want %d", c.who, c.path, p.Status, c.status)
		}
		if c.status == http.StatusNotFound && p.Body != "" {
			// The same page as an unknown project: nothing tells that
			// the report exists.
			if got, want := mainOf(p.Body), mainOf(notFoundPage.Body); got != want {
				t.Errorf("%s GET %s: the 404 page differs from an unknown project's:\n%s\nvs\n%s", c.who, c.path, got, want)
			}
		}
	}
	// A wave's way to the report: to the project's, at the wave, for
	// those who may read it.
	for _, c := range []struct {
		who, path, location string
		status              int
	}{
		{"arendal", "/surveys/waves/w-leaders/report/4203?audience=organisations", arendalReport + "?audience=organisations#wave-w-leaders", http.StatusSeeOther},
		{"arendal", "/surveys/waves/w-leaders/report/5006", "", http.StatusNotFound},
		{"researcher", "/surveys/waves/w-leaders/report/4203", "", http.StatusNotFound},
		{"admin", "/surveys/waves/nothing/report/4203", "", http.StatusNotFound},
		{"admin", "/surveys/waves/w-leaders/report/0301", "", http.StatusNotFound},
	} {
		p := s.browserAs(t, c.who).get(c.path)
		if p.Status != c.status || p.Location != c.location {
			t.Errorf("%s GET %s: %d %q, want %d %q", c.who, c.path, p.Status, p.Location, c.status, c.location)
		}
	}
	if err := s.projectStore.GrantProject(context.Background(), auth.SystemPrincipal, "offri", "researcher"); err != nil {
		t.Fatal(err)
	}
	if p := s.browserAs(t, "researcher").get(arendalReport); p.Status != http.StatusOK {
		t.Errorf("a member researcher: %d", p.Status)
	}
}

func TestReportAudiences(t *testing.T) {
	s := newReportSite(t, reportFixture(), ReportOptions{}, false)
	b := s.browserAs(t, "arendal")
	p := b.get(arendalReport + "?audience=organisations")
	for _, want := range []string{"Tilbakemelding til de frivillige organisasjonene i Arendal", "Råd til de frivillige organisasjonene", `href="/surveys/projects/offri/report/4203?audience=municipality"`,
		`href="/surveys/projects/offri/report/4203.pdf?audience=organisations"`} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the organisations' report lacks %q", want)
		}
	}
	b.setLang("nn")
	p = b.get(arendalReport)
	for _, want := range []string{"Tilbakemelding til Arendal kommune", "Leiinga av samarbeidet er tydeleg", "færre enn 5 svar", "Samarbeida i kommunen"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the nynorsk report lacks %q", want)
		}
	}
}

func TestReportPartnershipFigures(t *testing.T) {
	s := newReportSite(t, reportFixture(), ReportOptions{}, false)
	p := s.browserAs(t, "admin").get(arendalReport)
	for _, want := range []string{"Kommunen har registrert", "Etter samarbeidsmodell", "Etter forankring i kommunen", "Etter antall målendringer", `<svg xmlns="http://www.w3.org/2000/svg" class="km"`, "Alle samarbeid"} {
		if !strings.Contains(p.Body, want) {
			t.Errorf("the partnership figures lack %q", want)
		}
	}
}

func TestReportPDFWithoutChromium(t *testing.T) {
	s := newReportSite(t, reportFixture(), ReportOptions{Printer: pdfprint.New("", 0, 0)}, false)
	p := s.browserAs(t, "admin").get(arendalReport + ".pdf?audience=municipality")
	if p.Status != http.StatusServiceUnavailable || !strings.Contains(p.Body, "Skriv ut rapporten fra nettleseren") {
		t.Errorf("the PDF without Chromium: %d\n%s", p.Status, mainOf(p.Body))
	}
	if !strings.Contains(p.Body, `href="/surveys/projects/offri/report/4203?audience=municipality"`) {
		t.Error("the 503 page does not lead back to the report")
	}
}

// reportPrinter is a printer over the test machine's Chromium, or skips.
func reportPrinter(t *testing.T) *pdfprint.Printer {
	t.Helper()
	bin := chromiumPath()
	if bin == "" {
		t.Skip("Chromium not found (looked for /usr/bin/chromium and chromium, chromium-browser, google-chrome on PATH); install Debian's chromium package to render the reports' PDF")
	}
	return pdfprint.New(bin, 2*time.Minute, 2)
}

func TestReportPDF(t *testing.T) {
	s := newReportSite(t, reportFixture(), ReportOptions{Printer: reportPrinter(t)}, false)
	b := s.browserAs(t, "arendal")
	start := time.Now()
	p := b.get(arendalReport + ".pdf?audience=municipality")
	t.Logf("the PDF took %s (%d bytes)", time.Since(start).Round(time.Millisecond), len(p.Body))
	if p.Status != http.StatusOK {
		t.Fatalf("PDF: %d\n%s", p.Status, mainOf(p.Body))
	}
	pdf := []byte(p.Body)
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || p.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("not a PDF: %s %q", p.Header.Get("Content-Type"), pdf[:min(20, len(pdf))])
	}
	if cd := p.Header.Get("Content-Disposition"); cd != `attachment; filename="samspill-offri-4203-municipality.pdf"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	pages := regexp.MustCompile(`/Type\s*/Page[^s]`).FindAll(pdf, -1)
	if len(pages) < 2 {
		t.Errorf("the PDF has %d pages; want one per section", len(pages))
	}
	// A4 portrait: 595 × 842 points.
	if !regexp.MustCompile(`/MediaBox\s*\[\s*0 0 59[45]\.?\d* 84[12]`).Match(pdf) {
		t.Errorf("the PDF's pages are not A4 portrait: %s", regexp.MustCompile(`/MediaBox\s*\[[^\]]*\]`).Find(pdf))
	}
	if title := pdfTitle(pdf); title != "Tilbakemelding til Arendal kommune – Samspill" {
		t.Errorf("the PDF's title is %q", title)
	}
	for _, stream := range append(inflateStreams(pdf), pdf) {
		if bytes.Contains(stream, []byte(freeText)) {
			t.Fatal("free text in the PDF's bytes")
		}
	}
	if path, err := exec.LookPath("pdftotext"); err == nil {
		cmd := exec.Command(path, "-", "-")
		cmd.Stdin = bytes.NewReader(pdf)
		text, err := cmd.Output()
		if err != nil {
			t.Fatalf("pdftotext: %v", err)
		}
		for _, want := range []string{"Ledelsen av samarbeidet er tydelig", "færre enn 5 svar", "Samarbeidene i kommunen"} {
			if !bytes.Contains(text, []byte(want)) {
				t.Errorf("the PDF's text lacks %q", want)
			}
		}
		if bytes.Contains(text, []byte(freeText)) {
			t.Error("free text in the PDF's text")
		}
	} else {
		t.Log("pdftotext (poppler-utils) not installed: the PDF's text is checked by its title only")
	}
	// A researcher outside the project gets no PDF either.
	if err := s.projectStore.RevokeProject(context.Background(), auth.SystemPrincipal, "offri", "researcher"); err != nil {
		t.Fatal(err)
	}
	if p := s.browserAs(t, "researcher").get(arendalReport + ".pdf"); p.Status != http.StatusNotFound {
		t.Errorf("a non-member's PDF: %d", p.Status)
	}
}

// pdfTitle reads the document information's /Title, a literal or a hex
// string, in PDFDocEncoding or UTF-16BE.
func pdfTitle(pdf []byte) string {
	var raw []byte
	if m := regexp.MustCompile(`/Title\s*<([0-9A-Fa-f\s]+)>`).FindSubmatch(pdf); m != nil {
		hex := strings.Join(strings.Fields(string(m[1])), "")
		for i := 0; i+1 < len(hex); i += 2 {
			var v byte
			fmt.Sscanf(hex[i:i+2], "%02x", &v)
			raw = append(raw, v)
		}
	} else if m := regexp.MustCompile(`/Title\s*\(((?:\\.|[^\\)])*)\)`).FindSubmatch(pdf); m != nil {
		raw = regexp.MustCompile(`\\(.)`).ReplaceAll(m[1], []byte("$1"))
	}
	if len(raw) >= 2 && raw[0] == 0xFE && raw[1] == 0xFF {
		var rs []rune
		for i := 2; i+1 < len(raw); i += 2 {
			rs = append(rs, rune(raw[i])<<8|rune(raw[i+1]))
		}
		return string(rs)
	}
	return string(raw)
}

// inflateStreams returns the PDF's Flate streams, decompressed.
func inflateStreams(pdf []byte) [][]byte {
	var out [][]byte
	for _, loc := range regexp.MustCompile(`stream\r?\n`).FindAllIndex(pdf, -1) {
		r, err := zlib.NewReader(bytes.NewReader(pdf[loc[1]:]))
		if err != nil {
			continue
		}
		b, err := io.ReadAll(r)
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && len(b) == 0 {
			continue
		}
		out = append(out, b)
	}
	return out
}
