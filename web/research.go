package web

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/research"
)

// The research page (/research) is where researchers and admins take the
// research exports from a browser: a GET form (it changes nothing) of the
// project, the export, the format, as_of, known_at and the position,
// which answers with links that pin the position (the head when the form
// leaves it open), the manifest, the data package, the codebook and the
// citation. The files themselves are served at /research/files/{file} to
// the browser's sign-in session by the API's own handlers
// (ResearchFiles): the API takes bearer tokens only, and one
// implementation of each file answers both. /research/codebook is the
// human-readable codebook of the tabular exports, made from the same
// Tables as the files.

// sectionResearch marks the research pages in the navigation.
const sectionResearch = "research"

// researchFilesPath is where the pages serve the research files.
const researchFilesPath = "/research/files/"

// registerResearch adds the research pages to g (signed-in routes): 404
// pages when cmd gives no ResearchFiles.
func (p *Pages) registerResearch(g *gin.RouterGroup) {
	g.GET("/research", p.exportersOnly, p.researchPage)
	g.GET("/research/codebook", p.codebookPage)
	g.GET(researchFilesPath+":file", p.exportersOnly, p.researchFile)
}

// exportersOnly lets admins and researchers through; everyone else gets
// the 403 page; without ResearchFiles the research pages are 404 pages.
func (p *Pages) exportersOnly(c *gin.Context) {
	l := loc(c)
	if !principal(c).MayExport() {
		p.errorPageBack(c, http.StatusForbidden, l.T("research.forbidden"), "/")
		return
	}
	if p.research == nil {
		p.fail(c, notFound(l.T("research.unavailable")))
	}
}

// researchFile serves a file, its manifest or its data package to the
// browser's session, through the API's handlers; the session is checked
// again while the file streams.
func (p *Pages) researchFile(c *gin.Context) {
	edge.SetPrincipal(c, principal(c))
	session, _ := c.Cookie(sessionCookie)
	authorization := c.GetHeader("Authorization")
	p.research.ServeResearchFile(c, c.Param("file"), func(ctx context.Context) (auth.Principal, error) {
		if authorization != "" {
			return auth.Resolve(ctx, p.tokens, authorization)
		}
		return p.tokens.Session(ctx, session, p.now())
	})
}

// choice is an option of a select.
type choice struct {
	Value, Label string
	Selected     bool
}

// researchPage is the research page's data.
type researchPage struct {
	layoutData
	// Head is the newest position now.
	Head                       uint64
	Projects, Exports, Formats []choice
	AsOf, KnownAt, AtPosition  string
	Today                      string
	// Errors are the form's problems, one line each.
	Errors []string
	// Result is what the form asked for, when it was sent and valid.
	Result *researchResult
	// Surveys shows the survey waves' section (the server fields
	// surveys); Waves are the waves of the reader's projects.
	Surveys bool
	Waves   []responsesWave
}

// researchResult is the links of one file and its citation.
type researchResult struct {
	Position                                 uint64
	Name, Download, Manifest, DataPackage    string
	APIDownload, Codebook, Citation, Heading string
}

// researchPage draws the form and, when it was sent (export is in the
// query), its links at the pinned position.
func (p *Pages) researchPage(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	pr := principal(c)
	head, err := p.research.ResearchHead(ctx)
	if err != nil {
		p.fail(c, err)
		return
	}
	var projects []auth.Project
	if p.projectStore != nil {
		if projects, err = p.projectStore.ProjectsOf(ctx, pr); err != nil {
			p.fail(c, err)
			return
		}
	}
	now := p.now()
	q := c.Request.URL.Query()
	page := &researchPage{
		layoutData: layoutData{Title: l.T("research.title"), Section: sectionResearch},
		Head:       head, Today: calendar.Day(now),
		AsOf: q.Get("as_of"), KnownAt: q.Get("known_at"), AtPosition: q.Get("at_position"),
	}
	export, format, project := q.Get("export"), q.Get("format"), q.Get("project")
	page.Projects = append(page.Projects, choice{Value: "", Label: l.T("research.project.one_off"), Selected: project == ""})
	for _, pj := range projects {
		page.Projects = append(page.Projects, choice{Value: pj.ID, Label: pj.Name + " (" + pj.ID + ")", Selected: project == pj.ID})
	}
	page.Exports = append(page.Exports, choice{Value: research.KindEvents, Label: l.T("research.export.events"), Selected: export == research.KindEvents})
	for _, e := range research.Exports() {
		page.Exports = append(page.Exports, choice{Value: e.Table.Name, Label: tableTitle(l, e.Table), Selected: export == e.Table.Name})
	}
	for _, f := range append([]string{research.FormatNDJSON}, research.Formats...) {
		page.Formats = append(page.Formats, choice{Value: f, Label: l.T("research.format." + f), Selected: format == f})
	}
	if page.AsOf == "" {
		page.AsOf = page.Today
	}
	page.Surveys = p.surveys != nil
	if page.Waves, err = p.responsesWaves(ctx, l, projects, head, page.Today); err != nil {
		p.fail(c, err)
		return
	}
	status := http.StatusOK
	if _, sent := q["export"]; sent {
		var result *researchResult
		result, page.Errors = p.researchLinks(c, l, q, head, now, projects)
		page.Result = result
		if len(page.Errors) > 0 {
			status = http.StatusBadRequest
		}
	}
	p.render(c, status, "research", page)
}

// researchLinks checks the form and makes the links of the file it asks
// for, at the position it pins (the head when at_position is empty).
func (p *Pages) researchLinks(c *gin.Context, l *locale.Localizer, q url.Values, head uint64, now time.Time, projects []auth.Project) (*researchResult, []string) {
	var errs []string
	f := research.File{Export: q.Get("export"), Format: q.Get("format")}
	formats := research.FormatsOf(f.Export)
	switch {
	case formats == nil:
		errs = append(errs, l.T("research.error.export"))
	case f.Export == research.KindEvents || f.Format == "":
		// Events come in one format; the form's format is for the tables.
		f.Format = formats[0]
	case !slices.Contains(formats, f.Format):
		errs = append(errs, l.T("research.error.format"))
	}
	today := calendar.Day(now)
	if f.Export != research.KindEvents {
		f.AsOf = q.Get("as_of")
		if f.AsOf == "" {
			f.AsOf = today
		}
		if d, err := time.ParseInLocation(time.DateOnly, f.AsOf, calendar.Oslo); err != nil || calendar.Day(d) != f.AsOf {
			errs = append(errs, l.T("research.error.as_of"))
		} else if research.CheckAsOf(f.AsOf, today) != nil {
			errs = append(errs, l.T("research.error.as_of_ahead", "Today", today))
		}
	}
	if v := q.Get("known_at"); v != "" {
		t, err := calendar.ParseCutoff(v)
		switch {
		case err != nil:
			errs = append(errs, l.T("research.error.known_at"))
		case research.CheckKnownAt(t, now) != nil:
			errs = append(errs, l.T("research.error.known_at_ahead"))
		default:
			f.KnownAt = &t
		}
	}
	f.Position = head
	if v := q.Get("at_position"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		switch {
		case err != nil || n == 0:
			errs = append(errs, l.T("research.error.position"))
		case n > head:
			errs = append(errs, l.T("research.error.position_ahead", "Head", strconv.FormatUint(head, 10)))
		default:
			f.Position = n
		}
	}
	var by research.Citing
	if id := q.Get("project"); id != "" {
		i := slices.IndexFunc(projects, func(pj auth.Project) bool { return pj.ID == id })
		if i < 0 {
			errs = append(errs, l.T("research.error.project"))
		} else {
			f.Keys = research.Keys{Project: id, Generation: projects[i].KeyGeneration}
			by.Institution, by.ProjectName = projects[i].Institution, projects[i].Name
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	by.BaseURL = edge.BaseURL(c)
	query := f.Query()
	described := url.Values{"export": {f.Export}, "format": {f.Format}}
	for k, v := range query {
		described[k] = v
	}
	r := &researchResult{
		Position:    f.Position,
		Name:        f.Name(),
		Download:    researchFilesPath + f.Path() + "?" + query.Encode(),
		Manifest:    researchFilesPath + "manifest.json?" + described.Encode(),
		DataPackage: researchFilesPath + "datapackage.json?" + described.Encode(),
		APIDownload: by.BaseURL + "/api/v1/research/" + f.Path() + "?" + query.Encode(),
		Citation:    f.Citation(p.research.ResearchVersion(), by),
	}
	if f.Export != research.KindEvents {
		r.Codebook = "/research/codebook?export=" + url.QueryEscape(f.Export)
	}
	return r, nil
}

// tableTitle is a table's title in the reader's language (bokmål for
// nynorsk readers: the Tables are written in English and bokmål).
func tableTitle(l *locale.Localizer, t research.Table) string {
	if l.Lang() == locale.English {
		return t.Title
	}
	return t.TitleNB
}
