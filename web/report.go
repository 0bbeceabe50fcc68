package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pdfprint"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/surveys"
)

// The feedback reports (GET /surveys/projects/{project}/report/{code} and
// its PDF, {code}.pdf): what a research project's surveys say in one
// municipality, for the municipality or for its voluntary organisations
// (?audience=municipality|organisations), set beside the municipality's
// partnership figures. The research promises both sides advice on what
// works; the report is how it is kept, so it is written to be printed on
// A4 and handed over. Its readers are the project's members, admins, and
// the municipality's coordinators; anyone else, and any municipality
// outside the project, gets the page an unknown project gets, so that a
// report's existence tells nothing. Figures are made in report_stats.go,
// small groups suppressed there.

// Audiences of a report.
const (
	audienceMunicipality  = "municipality"
	audienceOrganisations = "organisations"
)

// ReportOptions configure the feedback reports.
type ReportOptions struct {
	// Events is the event store the responses are read from
	// (surveys.Responses); nil, or Config.Surveys nil: the reports are
	// 404 pages.
	Events eventstore.Store
	// MinAnswers is the smallest group a figure is shown for;
	// DefaultReportMinAnswers if 0, refused below MinReportMinAnswers.
	MinAnswers int
	// Printer renders the PDF; nil or without Chromium: the PDF answers
	// a 503 page that says to print the page from the browser.
	Printer *pdfprint.Printer
}

func (o ReportOptions) validate() error {
	if o.MinAnswers != 0 && o.MinAnswers < MinReportMinAnswers {
		return fmt.Errorf("web: the feedback reports' smallest group (%d) must be at least %d answers", o.MinAnswers, MinReportMinAnswers)
	}
	return nil
}

// registerReports adds the report and its PDF (one route: gin names a
// whole path segment, so "4203.pdf" is the code with the PDF's suffix),
// and a wave's way to its project's report (the wave's tracking page
// links a report per municipality).
func (p *Pages) registerReports(g gin.IRouter) {
	g.GET("/surveys/projects/:project/report/:code", p.report)
	g.GET("/surveys/waves/:wave/report/:code", p.waveReport)
}

// waveReport sends a wave's report to its project's report for the
// municipality, at the wave's section (303); a wave the reader may not
// see the report of is the same 404 as an unknown one.
func (p *Pages) waveReport(c *gin.Context) {
	l := loc(c)
	unknown := notFound(l.T("report.not_found"))
	if p.reportData == nil || p.projectStore == nil {
		p.fail(c, unknown)
		return
	}
	ctx := c.Request.Context()
	w, err := p.reportData.Wave(ctx, c.Param("wave"))
	if errors.Is(err, surveys.ErrWaveNotFound) {
		p.fail(c, unknown)
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	code := c.Param("code")
	project, err := p.projectStore.Project(ctx, w.ProjectID)
	if err != nil || !mayReadReport(principal(c), project, code) || !slices.Contains(w.Municipalities, code) {
		p.fail(c, unknown)
		return
	}
	target := reportPath(project.ID, code)
	if a := c.Query("audience"); a != "" {
		target += "?" + url.Values{"audience": {a}}.Encode()
	}
	c.Redirect(http.StatusSeeOther, target+"#wave-"+url.PathEscape(w.ID))
}

type reportPage struct {
	layoutData
	Audience             string
	Project              auth.Project
	Municipality, Code   string
	Date                 string
	MinAnswers           int
	PDFHref, OtherHref   string
	OtherAudience        string
	Waves                []reportWave
	Partnerships         reportPartnerships
	Print                bool
	StyleSheet           template.CSS
	Intro, Read, Advice  []string
	SuppressionNote      string
	FewerThan            string
	NoWaves, NoResponses bool
}

// reportWave is one wave of the project in the municipality.
type reportWave struct {
	ID, Title, Group string
	Period           string
	Open             bool
	Invited          int
	// Completed and Rate are shown unless Hidden (fewer completed than
	// the minimum).
	Completed int
	Rate      string
	Hidden    bool
	Items     []reportItem
}

// reportPartnerships are the municipality's partnership figures.
type reportPartnerships struct {
	Total, Alive, Ended int
	Models              []reportCount
	Anchoring           []reportCount
	GoalChanges         []reportCount
	GoalChangesMean     string
	Chart               *survivalChart
}

type reportCount struct {
	Label   string
	Count   int
	Percent string
}

// report serves the report page and, for "{code}.pdf", its PDF.
func (p *Pages) report(c *gin.Context) {
	l := loc(c)
	code, pdf := strings.CutSuffix(c.Param("code"), ".pdf")
	page, ok := p.reportOf(c, c.Param("project"), code)
	if !ok {
		return
	}
	if pdf {
		p.reportPDF(c, page)
		return
	}
	page.Crumbs = crumbsHome(l)
	p.render(c, http.StatusOK, "report", page)
}

// reportOf resolves the reader's scope and builds the page; on false the
// answer is written.
func (p *Pages) reportOf(c *gin.Context, projectID, code string) (*reportPage, bool) {
	l := loc(c)
	ctx := c.Request.Context()
	unknown := notFound(l.T("report.not_found"))
	if p.reportData == nil || p.projectStore == nil {
		p.fail(c, unknown)
		return nil, false
	}
	audience := c.DefaultQuery("audience", audienceMunicipality)
	if audience != audienceMunicipality && audience != audienceOrganisations {
		p.errorPage(c, http.StatusBadRequest, l.T("report.bad_audience"))
		return nil, false
	}
	project, err := p.projectStore.Project(ctx, projectID)
	if errors.Is(err, auth.ErrProjectNotFound) {
		p.fail(c, unknown)
		return nil, false
	}
	if err != nil {
		p.fail(c, err)
		return nil, false
	}
	if !mayReadReport(principal(c), project, code) {
		p.fail(c, unknown)
		return nil, false
	}
	waves, err := p.reportData.Waves(ctx, project.ID)
	if err != nil {
		p.fail(c, err)
		return nil, false
	}
	name := kommune.Code(code).Name()
	now := p.now()
	page := &reportPage{
		layoutData:   layoutData{Title: l.T("report.title."+audience, "Municipality", name)},
		Audience:     audience,
		Project:      project,
		Municipality: describe.Municipality(code),
		Code:         code,
		Date:         l.Date(now.In(calendar.Oslo)),
		MinAnswers:   p.reports.MinAnswers,
		FewerThan:    l.T("report.fewer_than", "N", p.reports.MinAnswers),
	}
	page.Intro = []string{l.T("report.intro." + audience)}
	page.Read = []string{l.T("report.read.waves"), l.T("report.read.items"), l.T("report.read.partnerships")}
	page.Advice = []string{l.T("report.advice." + audience + ".1"), l.T("report.advice." + audience + ".2"), l.T("report.advice." + audience + ".3")}
	page.SuppressionNote = l.T("report.suppression", "N", p.reports.MinAnswers)
	q := url.Values{"audience": {audience}}
	page.PDFHref = reportPath(project.ID, code) + ".pdf?" + q.Encode()
	page.OtherAudience = audienceOrganisations
	if audience == audienceOrganisations {
		page.OtherAudience = audienceMunicipality
	}
	page.OtherHref = reportPath(project.ID, code) + "?" + url.Values{"audience": {page.OtherAudience}}.Encode()
	for _, w := range reportWaveOrder(waves, code, audience) {
		rw, err := p.reportWave(ctx, l, w, code, now)
		if err != nil {
			p.fail(c, err)
			return nil, false
		}
		page.Waves = append(page.Waves, rw)
	}
	page.NoWaves = len(page.Waves) == 0
	if page.Partnerships, err = p.reportPartnerships(ctx, l, code, now); err != nil {
		p.fail(c, err)
		return nil, false
	}
	return page, true
}

// reportPath is a report's address without its query.
func reportPath(project, code string) string {
	return "/surveys/projects/" + url.PathEscape(project) + "/report/" + url.PathEscape(code)
}

// mayReadReport: admins; the project's members (researchers); the
// coordinators of the municipality. The municipality must be one of the
// project's (a project without municipalities covers every one).
func mayReadReport(pr auth.Principal, project auth.Project, code string) bool {
	if kommune.Code(code).Current() != kommune.Code(code) || code == "" {
		return false // unknown, or an old code (reports are by today's)
	}
	if len(project.Municipalities) > 0 && !slices.Contains(project.Municipalities, kommune.Code(code)) {
		return false
	}
	switch pr.Role {
	case auth.RoleAdmin:
		return true
	case auth.RoleResearcher:
		return auth.MayExportProject(pr, project)
	case auth.RoleCoordinator:
		return pr.MayWrite(code)
	}
	return false
}

// reportWaveOrder keeps the waves that cover the municipality, the
// audience's own side first: the leaders' waves for the municipality,
// the volunteers' and organisation leaders' for the organisations; within
// a group the oldest first.
func reportWaveOrder(waves []surveys.WaveInfo, code, audience string) []surveys.WaveInfo {
	var out []surveys.WaveInfo
	for _, w := range waves {
		for _, m := range w.Municipalities {
			if string(kommune.Code(m).Current()) == code {
				out = append(out, w)
				break
			}
		}
	}
	rank := func(g string) int {
		own := g == survey.GroupMunicipalLeaders
		if audience == audienceOrganisations {
			own = !own
		}
		if own {
			return 0
		}
		return 1
	}
	slices.SortStableFunc(out, func(a, b surveys.WaveInfo) int {
		if ra, rb := rank(a.Group), rank(b.Group); ra != rb {
			return ra - rb
		}
		return strings.Compare(a.Opens, b.Opens)
	})
	return out
}

// reportWave reads a wave's questionnaire, tracking and responses in the
// municipality and makes its figures.
func (p *Pages) reportWave(ctx context.Context, l *locale.Localizer, w surveys.WaveInfo, code string, now time.Time) (reportWave, error) {
	rw := reportWave{ID: w.ID, Title: w.Title, Group: l.T("report.group." + w.Group),
		Period: l.T("report.period", "Opens", localDay(l, w.Opens), "Closes", localDay(l, w.Closes))}
	today := now.In(calendar.Oslo).Format(time.DateOnly)
	rw.Open = !w.Closed && w.Opens <= today && today <= w.Closes
	q, err := p.reportData.Questionnaire(ctx, w.QuestionnaireID, w.QuestionnaireVersion)
	if err != nil {
		return rw, fmt.Errorf("report: questionnaire of wave %s: %w", w.ID, err)
	}
	tr, err := p.reportData.Track(ctx, w.ID)
	if err != nil {
		return rw, fmt.Errorf("report: tracking of wave %s: %w", w.ID, err)
	}
	for _, row := range tr.Rows {
		if string(kommune.Code(row.Municipality).Current()) == code {
			rw.Invited += row.Invited
		}
	}
	all, err := p.reportData.Responses(ctx, w.ID)
	if err != nil {
		return rw, fmt.Errorf("report: responses of wave %s: %w", w.ID, err)
	}
	rs := reportResponses(all, code)
	if len(rs) < p.reports.MinAnswers {
		rw.Hidden = true
	} else {
		rw.Completed = len(rs)
		if rw.Invited > 0 {
			rw.Rate, _ = share(l, len(rs), rw.Invited)
		}
	}
	if !rw.Hidden {
		// (Every item of a hidden wave has fewer answers still.)
		rw.Items = reportItemsOf(l, q, rs, p.reports.MinAnswers)
	}
	return rw, nil
}

// reportSource is what a report reads of the surveys.
type reportSource interface {
	Wave(ctx context.Context, id string) (surveys.WaveInfo, error)
	Waves(ctx context.Context, projectID string) ([]surveys.WaveInfo, error)
	Questionnaire(ctx context.Context, id string, version int) (survey.Questionnaire, error)
	Track(ctx context.Context, waveID string) (surveys.Tracking, error)
	// Responses returns a wave's submitted responses at the head.
	Responses(ctx context.Context, waveID string) ([]survey.Response, error)
}

// serviceReports reads the surveys through the service and the
// responses from the event store (surveys.Responses).
type serviceReports struct {
	*surveys.Service
	events eventstore.Store
}

func (s serviceReports) Responses(ctx context.Context, waveID string) ([]survey.Response, error) {
	return surveys.Responses(ctx, s.events, waveID, 0)
}

// reportPartnerships counts the municipality's partnerships (alive and
// ended, by collaboration model, by anchoring level, by number of goal
// changes) and draws their Kaplan–Meier curve, all of them and by model.
func (p *Pages) reportPartnerships(ctx context.Context, l *locale.Localizer, code string, now time.Time) (reportPartnerships, error) {
	var rp reportPartnerships
	models, anchoring := map[string]int{}, map[string]int{}
	changes := map[int]int{}
	sum := 0
	err := p.sums.Each(ctx, summaries.ListFilter{Municipalities: []string{code}}, func(s partnership.State) error {
		rp.Total++
		if s.Status == partnership.StatusEnded {
			rp.Ended++
		} else {
			rp.Alive++
		}
		models[s.CollaborationModel]++
		anchoring[s.AnchoringLevel]++
		changes[min(s.GoalChanges, 3)]++
		sum += s.GoalChanges
		return nil
	})
	if err != nil {
		return rp, fmt.Errorf("report: partnerships of %s: %w", code, err)
	}
	if rp.Total == 0 {
		return rp, nil
	}
	count := func(label string, n int) reportCount {
		pct, _ := share(l, n, rp.Total)
		return reportCount{Label: label, Count: n, Percent: pct}
	}
	for _, m := range partnership.CollaborationModels {
		if models[m] > 0 {
			rp.Models = append(rp.Models, count(describe.Label(l, m), models[m]))
		}
	}
	for _, a := range partnership.AnchoringLevels {
		if anchoring[a] > 0 {
			rp.Anchoring = append(rp.Anchoring, count(describe.Label(l, a), anchoring[a]))
		}
	}
	for n := range 4 {
		label := l.T("report.partnerships.changes", "N", n)
		if n == 3 {
			label = l.T("report.partnerships.changes_more", "N", n)
		}
		rp.GoalChanges = append(rp.GoalChanges, count(label, changes[n]))
	}
	rp.GoalChangesMean = l.Decimal(float64(sum)/float64(rp.Total), 1)
	ds, err := p.sums.Durations(ctx, code, now)
	if err != nil {
		return rp, fmt.Errorf("report: durations of %s: %w", code, err)
	}
	if len(ds) > 0 {
		groups := append([]survivalGroup{{label: l.T("report.partnerships.all"), ds: ds}}, byModel(l, ds)...)
		chart := survivalChartOf(l, "km-report", l.T("report.partnerships.survival"), groups)
		rp.Chart = &chart
	}
	return rp, nil
}

// withDefaults fills what was left zero.
func (o ReportOptions) withDefaults() ReportOptions {
	if o.MinAnswers == 0 {
		o.MinAnswers = DefaultReportMinAnswers
	}
	if o.Printer == nil {
		o.Printer = pdfprint.New("", 0, 0)
	}
	return o
}
