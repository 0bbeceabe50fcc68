package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/locale"
)

// The admin's research project pages (/admin/projects): the list with the
// form that makes a project, and each project's page with its members
// (grant, revoke), key rotation (after a confirmation that says what it
// does to linkage) and the sealed key export, which answers the armored
// age file as a download. Over auth.ProjectStore (Config.ProjectStore;
// without it they are 404 pages); the store writes each change to the
// audit log, naming the signed-in admin.

// projectSaved are the ?saved= notices of the project pages.
var projectSaved = []string{"project_created", "project_granted", "project_revoked", "project_rotated"}

// registerAdminProjects adds the project pages to the admin group a.
func (p *Pages) registerAdminProjects(a *gin.RouterGroup) {
	g := a.Group("/projects", p.needProjects)
	g.GET("", p.adminProjects)
	g.POST("", p.checkCSRF, p.validText, p.adminCreateProject)
	g.GET("/:id", p.adminProject)
	g.POST("/:id/:action", p.checkCSRF, p.validText, p.adminProjectAction)
}

// needProjects answers the 404 page when there is no project store.
func (p *Pages) needProjects(c *gin.Context) {
	if p.projectStore == nil {
		p.fail(c, notFound(loc(c).T("admin.projects.unavailable")))
	}
}

type projectRow struct {
	ID, Name, Institution, Purpose string
	Starts, Ends, Created          string
	Municipalities                 string
	Members, Generation            int
}

func newProjectRow(l *locale.Localizer, pr auth.Project) projectRow {
	r := projectRow{ID: pr.ID, Name: pr.Name, Institution: pr.Institution, Purpose: pr.Purpose, Starts: localDay(l, pr.Starts), Ends: localDay(l, pr.Ends),
		Created: l.DateTime(pr.CreatedAt), Municipalities: municipalityNames(pr.Municipalities), Members: len(pr.Members), Generation: pr.KeyGeneration}
	if r.Municipalities == "" {
		r.Municipalities = l.T("admin.projects.all_municipalities")
	}
	return r
}

// localDay is a YYYY-MM-DD day in the reader's language ("" stays "").
func localDay(l *locale.Localizer, day string) string {
	t, err := time.ParseInLocation(time.DateOnly, day, calendar.Oslo)
	if err != nil {
		return day
	}
	return l.Date(t)
}

type adminProjectsPage struct {
	adminLayout
	Projects []projectRow
	// The create form as sent, when it was refused.
	ID, Name, Institution, Purpose, Starts, Ends, Codes string
}

// adminProjects lists the projects, with the form that makes one.
func (p *Pages) adminProjects(c *gin.Context) {
	p.showProjects(c, http.StatusOK, &adminProjectsPage{}, "")
}

func (p *Pages) showProjects(c *gin.Context, status int, page *adminProjectsPage, problem string) {
	l := loc(c)
	page.adminLayout = p.adminLayout(c, l.T("admin.projects.title"), "/admin/projects")
	page.Here = "/admin/projects"
	page.Error = problem
	list, err := p.projectStore.Projects(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	for _, pr := range list {
		page.Projects = append(page.Projects, newProjectRow(l, pr))
	}
	p.render(c, status, "admin_projects", page)
}

// adminCreateProject makes a project; a refused one is shown again with
// every reason in the reader's language.
func (p *Pages) adminCreateProject(c *gin.Context) {
	l := loc(c)
	page := &adminProjectsPage{ID: strings.TrimSpace(c.PostForm("id")), Name: c.PostForm("name"), Institution: c.PostForm("institution"),
		Purpose: c.PostForm("purpose"), Starts: c.PostForm("starts"), Ends: c.PostForm("ends"), Codes: c.PostForm("municipalities")}
	pr := auth.Project{ID: page.ID, Name: page.Name, Institution: page.Institution, Purpose: page.Purpose, Starts: page.Starts, Ends: page.Ends}
	for _, f := range strings.FieldsFunc(page.Codes, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		pr.Municipalities = append(pr.Municipalities, kommune.Code(f))
	}
	created, err := p.projectStore.CreateProject(c.Request.Context(), principal(c), pr)
	var invalid *auth.InvalidProjectError
	switch {
	case err == nil:
		c.Redirect(http.StatusSeeOther, "/admin/projects/"+url.PathEscape(created.ID)+"?saved=project_created")
	case errors.As(err, &invalid):
		p.showProjects(c, http.StatusBadRequest, page, projectProblems(l, invalid))
	case errors.Is(err, auth.ErrProjectExists):
		p.showProjects(c, http.StatusConflict, page, l.T("admin.projects.error.exists", "ID", pr.ID))
	default:
		p.fail(c, err)
	}
}

// projectProblems says in the reader's language why a project cannot be
// made as asked.
func projectProblems(l *locale.Localizer, e *auth.InvalidProjectError) string {
	out := make([]string, len(e.Problems))
	for i, pr := range e.Problems {
		out[i] = l.T("admin.projects.error."+pr.Code, "Field", l.T("admin.projects.field."+pr.Field), "Value", pr.Value, "Today", pr.Today)
	}
	return strings.Join(out, " ")
}

type memberRow struct{ Subject, Name string }

type adminProjectPage struct {
	adminLayout
	Project projectRow
	Members []memberRow
	// Subject and Recipient are the grant and export forms as sent, when
	// they were refused.
	Subject, Recipient string
	// ConfirmRotate asks to confirm a key rotation.
	ConfirmRotate bool
}

// adminProject shows one project with the forms that change it.
func (p *Pages) adminProject(c *gin.Context) {
	p.showProject(c, http.StatusOK, &adminProjectPage{}, "")
}

func (p *Pages) showProject(c *gin.Context, status int, page *adminProjectPage, problem string) {
	ctx := c.Request.Context()
	l := loc(c)
	pr, err := p.projectStore.Project(ctx, c.Param("id"))
	if errors.Is(err, auth.ErrProjectNotFound) {
		p.fail(c, notFound(l.T("admin.projects.error.no_project")))
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	title := pr.Name
	if page.ConfirmRotate {
		title = l.T("admin.projects.rotate.title")
	}
	page.adminLayout = p.adminLayout(c, title, "")
	page.Crumbs = []crumb{{"/admin/projects", l.T("admin.nav.projects")}}
	page.Here = "/admin/projects/" + url.PathEscape(pr.ID)
	page.Error = problem
	page.Project = newProjectRow(l, pr)
	for _, m := range pr.Members {
		row := memberRow{Subject: m}
		if auth.IsUserID(m) && p.userStore != nil {
			if u, err := p.userStore.User(ctx, m); err == nil {
				row.Name = newUserRow(l, u).Name
			}
		}
		page.Members = append(page.Members, row)
	}
	p.render(c, status, "admin_project", page)
}

// adminProjectAction posts one of a project's forms: grant, revoke,
// rotate (which first asks to confirm) or export (which answers the
// sealed key as a download).
func (p *Pages) adminProjectAction(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	id, action, actor := c.Param("id"), c.Param("action"), principal(c)
	subject := strings.TrimSpace(c.PostForm("subject"))
	var err error
	switch action {
	case "grant":
		err = p.projectStore.GrantProject(ctx, actor, id, subject)
		if errors.Is(err, auth.ErrInvalidMember) {
			p.showProject(c, http.StatusBadRequest, &adminProjectPage{Subject: subject}, l.T("admin.projects.error.member", "Value", subject))
			return
		}
	case "revoke":
		err = p.projectStore.RevokeProject(ctx, actor, id, subject)
		if errors.Is(err, auth.ErrNotMember) {
			p.fail(c, notFound(l.T("admin.projects.error.not_member", "Value", subject)))
			return
		}
	case "rotate":
		if c.PostForm("confirm") != "yes" {
			p.showProject(c, http.StatusOK, &adminProjectPage{ConfirmRotate: true}, "")
			return
		}
		_, err = p.projectStore.RotateProjectKey(ctx, actor, id)
	case "export":
		p.exportProjectKey(c, id)
		return
	default:
		p.fail(c, notFound(l.T("pages.no_such_form")))
		return
	}
	if errors.Is(err, auth.ErrProjectNotFound) {
		p.fail(c, notFound(l.T("admin.projects.error.no_project")))
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	saved := map[string]string{"grant": "project_granted", "revoke": "project_revoked", "rotate": "project_rotated"}[action]
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+url.PathEscape(id)+"?saved="+saved)
}

// exportProjectKey answers the project's key sealed to the form's age
// recipient as a download; a recipient that is no age key is refused
// before the key is taken out, so it writes no audit entry.
func (p *Pages) exportProjectKey(c *gin.Context, id string) {
	l := loc(c)
	recipient := strings.TrimSpace(c.PostForm("recipient"))
	sealed, _, err := auth.ExportSealedProjectKey(c.Request.Context(), p.projectStore, principal(c), id, recipient, p.now())
	switch {
	case errors.Is(err, auth.ErrInvalidRecipient):
		p.showProject(c, http.StatusBadRequest, &adminProjectPage{Recipient: recipient}, l.T("admin.projects.error.recipient"))
		return
	case errors.Is(err, auth.ErrProjectNotFound):
		p.fail(c, notFound(l.T("admin.projects.error.no_project")))
		return
	case err != nil:
		p.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="`+auth.ProjectKeyFilename(id)+`"`)
	c.Header("Content-Length", strconv.Itoa(len(sealed)))
	c.Data(http.StatusOK, "application/octet-stream", sealed)
}
