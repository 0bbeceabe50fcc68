// Package web is samspill's browser interface: server-rendered HTML pages
// on the API's Gin engine (docs/api.md, Web pages). The front page is a
// coordinator's own partnerships (/mine) and, for everyone else, the
// municipalities that have partnerships (/m); /m/{code} draws a
// municipality's timeline a page of lanes at a time (timeline.go;
// downloads as SVG and PNG) and /m/{code}/list lists its partnerships
// (searched, filtered, sorted, paged, downloaded as CSV or Excel), /p/{id}
// shows one partnership (as of a date, as known at a time) with the
// coordinators' forms, /p/{id}/correct corrects one of its entries, and
// /p/new initiates a partnership.
//
// Pages are in bokmål, nynorsk or English (lang.go): every text comes from
// the message catalogues of package locale, dates and times are written in
// Europe/Oslo and amounts in kroner the Norwegian way, and the domain's
// errors are worded from their codes (problems.go).
//
// Pages read single partnerships and write every command through
// app.Service, and read lists and timelines from the projections, exactly
// as the JSON API does: there is no second path to the domain. Forms post
// to the server and redirect (POST/redirect/GET), carry the version they
// were rendered at (a concurrent change is reported, never overwritten) and
// a CSRF token bound to a per-browser cookie. Nothing but the assets and
// the sign-in pages is open: a browser signs in with a token at /login and
// keeps a server-side session's id, never the token (login.go), forms show
// only to those who may write, and contact persons'
// details only to those who may see them (app.Shower). Pages work without
// JavaScript; every asset is embedded in the binary.
package web

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
	"github.com/samspill/samspill/signin"
	"github.com/samspill/samspill/surveys"
)

// Config holds what the pages need.
type Config struct {
	// Service runs commands. Required.
	Service *app.Service
	// History reads single partnerships live and shows their events to
	// the signed-in reader; Service.History() if nil.
	History Partnerships
	// Projections answer the municipality list and the timelines. Required.
	Projections ReadModels
	// Summaries and Timeline are the read models' queries; when nil and
	// Projections is a projections.Runner, summaries.NewQueries and
	// timeline.NewQueries of it.
	Summaries Summaries
	Timeline  Timelines
	// Tokens signs people in and keeps their sessions. Without it no one
	// can sign in: the pages are never open.
	Tokens auth.SessionStore
	// Users names the people behind user ids to the readers who may know
	// them (the audit views); UserStore if nil; nil as well: their ids.
	Users Users
	// Logger receives one line per failed request; slog.Default() if nil.
	Logger *slog.Logger
	// Now is the clock that dates "today" on timelines and the default date
	// of forms, and times sign-in sessions; time.Now if nil. It should be
	// the service's clock.
	Now func() time.Time
	// CSRFKey signs the forms' tokens. Nil or shorter than 32 bytes: a
	// random key made by New, so forms rendered before a restart are
	// refused once (with a page that says to reload).
	CSRFKey []byte
	// ProjectionWait bounds how long a successful form post waits for the
	// projections to show its event before redirecting, so the timeline
	// shows it at once; 3 s if not positive. The partnership page reads
	// live and never waits.
	ProjectionWait time.Duration
	// SignIn signs people in through identity providers (OpenID
	// Connect); nil or without providers: tokens only. It needs UserStore.
	SignIn *signin.Service
	// UserStore keeps the people who sign in through a provider
	// (UserStore.SignIn); cmd hands the same store as Tokens. It is also
	// what the admin pages manage (users, tokens, sessions, the audit
	// log): without it they are 404 pages.
	UserStore auth.UserStore
	// ProjectStore keeps the research projects the admin's project pages
	// manage (/admin/projects); nil: those are 404 pages. cmd hands the
	// same store as UserStore.
	ProjectStore auth.ProjectStore
	// TokenSignIn is whether tokens sign in on the pages: TokenSignInAny,
	// TokenSignInAdmin (break-glass) or TokenSignInOff; "" for any
	// without providers and admin with.
	TokenSignIn string
	// AccessContact is the operator's words on whom to ask for access,
	// shown to a signed-in person without a role ("" for a general text).
	AccessContact string
	// Research serves the research files to signed-in browsers (the
	// API's http.Server); nil: the research page and its downloads are
	// 404 pages. The codebook needs nothing.
	Research ResearchFiles
	// Surveys fields the research projects' surveys: the researchers'
	// survey pages, the public answer pages (/s/<token>), tracking and
	// feedback reports; nil: those are 404 pages.
	Surveys *surveys.Service
	// Reports configure the feedback reports (report.go).
	Reports ReportOptions
	// SurveyMail mails the surveys' invitations and reminders; nil or
	// without a sender: the mailing page offers the CSV download instead.
	SurveyMail *surveys.Mailer
}

// Pages serves the browser pages. It is safe for concurrent use.
type Pages struct {
	svc      *app.Service
	hist     Partnerships
	proj     ReadModels
	sums     Summaries
	lines    Timelines
	tokens   auth.SessionStore
	users    Users
	log      *slog.Logger
	now      func() time.Time
	csrfKey  []byte
	projWait time.Duration
	// workbookRows bounds the Excel download: maxWorkbookRows (the tests
	// lower it).
	workbookRows int

	// signin, userStore, tokenMode and accessContact are Config.SignIn,
	// .UserStore, .TokenSignIn and .AccessContact.
	signin                   *signin.Service
	userStore                auth.UserStore
	projectStore             auth.ProjectStore
	tokenMode, accessContact string

	// research is Config.Research.
	research ResearchFiles
	// surveys is Config.Surveys.
	surveys *surveys.Service
	// reports is Config.Reports, its defaults set; reportData what the
	// reports read (nil without Surveys and Reports.Events: no reports).
	reports    ReportOptions
	reportData reportSource
	// surveyMail is Config.SurveyMail.
	surveyMail *surveys.Mailer
	// respond guards the public answer pages (respond.go).
	respond *respondGuard
}

// Validate reports every required field that is missing.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.Service == nil {
		errs = append(errs, errors.New("web: Config.Service is required"))
	}
	if cfg.Projections == nil {
		errs = append(errs, errors.New("web: Config.Projections is required"))
	}
	_, runner := cfg.Projections.(*projections.Runner)
	if cfg.Summaries == nil && !runner {
		errs = append(errs, errors.New("web: Config.Summaries is required unless Projections is a projections.Runner"))
	}
	switch cfg.TokenSignIn {
	case "", TokenSignInAny, TokenSignInAdmin, TokenSignInOff:
	default:
		errs = append(errs, fmt.Errorf("web: Config.TokenSignIn %q is not any, admin or off", cfg.TokenSignIn))
	}
	if cfg.SignIn != nil && len(cfg.SignIn.Providers()) > 0 && (cfg.UserStore == nil || cfg.Tokens == nil) {
		errs = append(errs, errors.New("web: Config.UserStore and Config.Tokens are required with identity providers"))
	}
	if cfg.Timeline == nil && !runner {
		errs = append(errs, errors.New("web: Config.Timeline is required unless Projections is a projections.Runner"))
	}
	if err := cfg.Reports.validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// New returns the pages over cfg; Register mounts them on an engine.
func New(cfg Config) (*Pages, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	p := &Pages{svc: cfg.Service, hist: cfg.History, proj: cfg.Projections, tokens: cfg.Tokens, users: cfg.Users, log: cfg.Logger, now: cfg.Now, csrfKey: cfg.CSRFKey, projWait: cfg.ProjectionWait, workbookRows: maxWorkbookRows}
	p.signin, p.userStore, p.tokenMode, p.accessContact = cfg.SignIn, cfg.UserStore, cfg.TokenSignIn, cfg.AccessContact
	p.projectStore = cfg.ProjectStore
	p.research = cfg.Research
	p.surveys = cfg.Surveys
	p.reports = cfg.Reports.withDefaults()
	if p.surveys != nil && p.reports.Events != nil {
		p.reportData = serviceReports{p.surveys, p.reports.Events}
	}
	p.surveyMail = cfg.SurveyMail
	p.respond = newRespondGuard(defaultRespondLimits)
	if p.users == nil && p.userStore != nil {
		p.users = p.userStore
	}
	if p.hist == nil {
		p.hist = p.svc.History()
	}
	p.sums, p.lines = cfg.Summaries, cfg.Timeline
	runner, _ := p.proj.(*projections.Runner)
	if p.sums == nil && runner != nil {
		p.sums = summaries.NewQueries(runner)
	}
	if p.lines == nil && runner != nil {
		p.lines = timeline.NewQueries(runner)
	}
	if p.log == nil {
		p.log = slog.Default()
	}
	if p.now == nil {
		p.now = time.Now
	}
	if len(p.csrfKey) < 32 {
		p.csrfKey = make([]byte, 32)
		_, _ = rand.Read(p.csrfKey) // crypto/rand.Read never fails (Go 1.24+)
	}
	if p.projWait <= 0 {
		p.projWait = 3 * time.Second
	}
	return p, nil
}

// Register adds the pages and their assets to r: GET /, /m, /m/:code (with
// its downloads /m/:code/timeline.svg and .png), /m/:code/list (and its
// .csv and .xlsx), /mine (and its .csv and .xlsx), /p/new, /p/:id,
// /p/:id/correct, /p/:id/audit, the admin pages under /admin (admin.go),
// the research page /research with its downloads under /research/files/,
// the codebook /research/codebook and the survival curves
// /research/survival (research.go, codebook.go, survival_page.go),
// /assets/*file and POST /p/new, /p/:id/:action,
// the sign-in pages GET and POST /login and /logout, and the language
// switch POST /lang. Everything but the assets, the sign-in pages and the
// language switch needs a signed-in token. cmd mounts them beside the API
// (http.Server.Register).
func (p *Pages) Register(r gin.IRouter) {
	r.GET("/assets/*file", serveAsset)
	open := r.Group("", p.language, p.secureHeaders, p.ensureCSRFID)
	open.GET("/login", p.loginForm)
	open.POST("/login", p.checkCSRF, p.login)
	open.GET("/logout", p.logoutForm)
	open.POST("/logout", p.checkCSRF, p.logout)
	// Sign-in through an identity provider (signin.go): GET
	// /login/oidc/:provider and /login/oidc/callback, open as /login is;
	// the pages below also take a signed-in user.
	open.GET(signin.CallbackPath, p.finishSignIn)
	open.GET(signin.StartPath+":provider", p.beginSignIn)
	open.POST("/lang", p.checkCSRF, p.setLanguage)
	g := open.Group("", p.signedIn, p.validText)
	g.GET("/", p.start)
	g.GET("/m", p.index)
	g.GET("/m/:code", p.municipality)
	g.GET("/m/:code/list", p.withMunicipality(p.showList))
	g.GET("/m/:code/list.csv", p.withMunicipality(p.downloadCSV))
	g.GET("/m/:code/list.xlsx", p.withMunicipality(p.downloadXLSX))
	g.GET("/mine", p.mine)
	g.GET("/mine.csv", p.withMine(p.downloadCSV))
	g.GET("/mine.xlsx", p.withMine(p.downloadXLSX))
	g.GET("/m/:code/timeline.svg", p.timelineSVG)
	g.GET("/m/:code/timeline.png", p.timelinePNG)
	g.GET("/p/new", p.newForm)
	g.POST("/p/new", p.checkCSRF, p.validText, p.initiate)
	g.GET("/p/:id", p.partnership)
	g.GET("/p/:id/correct", p.correctForm)
	g.GET("/p/:id/audit", p.audit)
	g.GET("/research/survival", p.survivalPage)
	g.POST("/p/:id/:action", p.checkCSRF, p.validText, p.command)
	p.registerAdmin(g)
	p.registerResearch(g)
	p.registerReports(g)
	p.registerSurveys(g)
	p.registerSurveyMail(g)
	if p.surveys != nil {
		p.registerRespond(r)
	}
}

// secureHeaders sets the pages' content security policy (no inline
// scripts or styles, no third-party anything, forms only to this origin)
// over the API's stricter one for data; the engine's other security
// headers (nosniff, no framing) apply to pages as they are.
func (p *Pages) secureHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "same-origin")
	c.Next()
}

// validText refuses, with a 400 page naming the field, a query parameter
// or (once checkCSRF has parsed it) a form field that is not valid UTF-8:
// the form parser would keep the bytes and a decoder turn them into U+FFFD
// silently.
func (p *Pages) validText(c *gin.Context) {
	values := c.Request.URL.Query()
	if c.Request.PostForm != nil {
		values = c.Request.PostForm
	}
	if name, bad := edge.InvalidUTF8(values); bad {
		p.errorPage(c, http.StatusBadRequest, loc(c).T("errors.not_text", "Field", name))
	}
}

// layoutData is what every page's layout needs. Pages fill the first
// fields; render fills the rest.
type layoutData struct {
	Title string
	// Wide pages (timelines) use the full width of large screens.
	Wide bool
	// Crumbs lead back to the front page.
	Crumbs []crumb
	// Here is the page the language switch returns to: the request's
	// path and query for a GET; a page drawn after a post names the page
	// to return to (a form's GET page).
	Here string

	// L writes the page's texts in the reader's language.
	L *locale.Localizer
	// Langs are the language switch's choices.
	Langs []langChoice
	// CSRF is the token of the layout's forms (language, sign-out).
	CSRF string
	// SignedIn shows the sign-out link and the municipalities; Mine the
	// link to the reader's own partnerships (coordinators); MayRecord the
	// link to a new partnership (admins and coordinators).
	SignedIn, Mine, MayRecord bool
	// Admin shows the link to the admin pages (admins, when there are
	// users to manage).
	Admin bool
	// Research shows the link to the research page (admins and
	// researchers, when the server serves research files).
	Research bool
	// Surveys shows the link to the survey pages (admins, researchers
	// and coordinators, when the server fields surveys).
	Surveys bool
	// Section is the part of the site the navigation marks as the
	// current one (sectionMine, sectionMunicipalities), if any.
	Section string
	// Refresh moves the browser on to this URL at once (a meta refresh:
	// the pages run no inline script); the page links it too.
	Refresh string
}

// layout returns the page's layoutData for render to fill.
func (d *layoutData) layout() *layoutData { return d }

// view is a page's data: a struct that embeds layoutData, by pointer.
type view interface{ layout() *layoutData }

type crumb struct{ Href, Label string }

// crumbsHome is the first crumb of every page below the municipalities:
// the municipalities (the front page of all but coordinators).
func crumbsHome(l *locale.Localizer) []crumb {
	return []crumb{{"/m", l.T("pages.crumb.home")}}
}

// render writes a page with status, in the request's language; a template
// error becomes a 500 page (the buffer keeps a half-written page from
// reaching the browser).
func (p *Pages) render(c *gin.Context, status int, name string, data view) {
	d := data.layout()
	d.L = loc(c)
	d.Langs = langChoices(d.L.Lang())
	d.CSRF = p.csrfToken(c)
	pr := principal(c)
	d.SignedIn = pr.Role != ""
	d.Mine = len(ownMunicipalities(pr)) > 0
	d.MayRecord = pr.Role == auth.RoleAdmin || pr.Role == auth.RoleCoordinator
	d.Admin = pr.IsAdmin() && p.userStore != nil
	d.Research = pr.MayExport() && p.research != nil
	d.Surveys = mayFollowSurveys(pr) && p.surveys != nil
	if d.Here == "" {
		d.Here = "/"
		if c.Request.Method == http.MethodGet {
			d.Here = localPath(c.Request.URL.RequestURI())
		}
	}
	var buf bytes.Buffer
	if err := pageTemplates[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		p.log.ErrorContext(c.Request.Context(), "render page", "page", name, "err", err)
		status = http.StatusInternalServerError
		buf.Reset()
		broken := &errorPage{layoutData: layoutData{Title: d.L.T("pages.error.title.500"), L: d.L, Langs: d.Langs, CSRF: d.CSRF, Here: "/"}, Status: status, Message: d.L.T("pages.error.render")}
		_ = pageTemplates["error"].ExecuteTemplate(&buf, "layout", broken)
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Language", string(d.L.Lang()))
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// errorPage is an HTML error answer (never problem+json on pages).
type errorPage struct {
	layoutData
	Status  int
	Message string
	Back    string
}

// fail answers with an HTML error page for err: the status edge.Classify
// gives it (the API's, for the same error), in words for people. Pages'
// own not-found errors (notFound) keep their message.
func (p *Pages) fail(c *gin.Context, err error) {
	if errors.Is(err, errNotFound) {
		p.errorPage(c, http.StatusNotFound, strings.TrimSuffix(err.Error(), ": "+errNotFound.Error()))
		return
	}
	f := edge.Classify(err)
	if f.Status >= 500 {
		// The route, never the path: a path can hold a secret (/s/<token>).
		p.log.ErrorContext(c.Request.Context(), "page failed", "method", c.Request.Method, "route", c.FullPath(), "err", err)
	}
	if f.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int(f.RetryAfter.Seconds())))
	}
	p.errorPage(c, f.Status, failureMessage(c, f))
}

// errorPage renders a plain error page, with a way back to the page the
// request came from where there is one.
func (p *Pages) errorPage(c *gin.Context, status int, msg string) {
	p.errorPageBack(c, status, msg, "")
}

// errorPageBack is errorPage with a link back to back ("": the page a
// refused post came from, where there is one).
func (p *Pages) errorPageBack(c *gin.Context, status int, msg, back string) {
	l := loc(c)
	if back == "" && c.Request.Method == http.MethodPost {
		back = formPage(c.Request.URL.Path)
	}
	p.render(c, status, "error", &errorPage{
		layoutData: layoutData{Title: errorTitle(l, status)},
		Status:     status,
		Message:    msg,
		Back:       back,
	})
	c.Abort()
}

// formPage is the page whose form posts to path: /p/{id} for its forms,
// /p/new, /login; "" for anything else.
func formPage(path string) string {
	switch parts := strings.Split(strings.Trim(path, "/"), "/"); {
	case path == "/p/new" || path == "/login" || len(parts) == 2 && parts[0] == "s":
		return path
	case len(parts) == 3 && parts[0] == "p" && history.ValidID(parts[1]):
		return "/p/" + parts[1]
	}
	return ""
}

// errorTitle names an error status in the reader's language.
func errorTitle(l *locale.Localizer, status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusConflict,
		http.StatusRequestEntityTooLarge, http.StatusInternalServerError, http.StatusServiceUnavailable:
		return l.T("pages.error.title." + strconv.Itoa(status))
	}
	return l.T("pages.error.title.other")
}

// errNotFound wraps what a page could not find; its text is shown.
var errNotFound = errors.New("not found")

// notFound is a page's own not-found error; msg, in the reader's
// language, is what its page says.
func notFound(msg string) error {
	return fmt.Errorf("%s: %w", msg, errNotFound)
}

// pageTemplates are parsed once from the embedded files; they are part of
// the binary, so a parse error is a build defect that the tests catch.
var pageTemplates = mustParseTemplates()

func mustParseTemplates() map[string]*template.Template {
	out := map[string]*template.Template{}
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/form.html"))
	for _, name := range []string{"index", "municipality", "list", "partnership", "new", "correct", "error", "login", "logout", "partnership_audit", "survival"} {
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(files, "templates/"+name+".html"))
	}
	// The admin pages share their navigation (admin_nav.html).
	for _, name := range []string{"admin_users", "admin_user", "admin_tokens", "admin_sessions", "admin_audit", "admin_projects", "admin_project"} {
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(files, "templates/admin_nav.html", "templates/"+name+".html"))
	}
	// The sign-in's own pages (signin.go) and the research pages
	// (research.go, codebook.go).
	for _, name := range []string{"finish", "noaccess", "logoutprovider", "research", "codebook", "surveys_mail", "report"} {
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(files, "templates/"+name+".html"))
	}
	// The feedback report's PDF: the same content in a document of its
	// own (report_doc.html redefines the layout).
	out["report_doc"] = template.Must(template.Must(base.Clone()).ParseFS(files, "templates/report.html", "templates/report_doc.html"))
	// The public answer pages (respond.go).
	for _, name := range []string{"respond", "respond_status"} {
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(files, "templates/"+name+".html"))
	}
	return out
}

var funcs = template.FuncMap{
	"asset": assetURL,
	"label": describe.Label,
}
