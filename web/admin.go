package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/locale"
)

// The admin pages (/admin/...) manage who may do what: personal users
// (their grants, the mappings, disabling, erasing), API tokens, live
// sessions, and the audit log of every such change. They are for admins
// only (others get a 403 page) and need a store that keeps users
// (Config.UserStore; without it they are 404 pages). Every change posts a
// form with the CSRF token and redirects back (POST/redirect/GET), except
// a new token, whose secret is shown on the answer to the post only: it
// is never in a URL. The store writes each change to the audit log, in the
// same transaction, naming the signed-in admin.

// sectionAdmin marks the admin pages in the navigation.
const sectionAdmin = "admin"

// auditPageSize is how many audit log entries a page shows.
const auditPageSize = 50

// adminActions are the audit log's actions, in the filter's order.
var adminActions = []string{
	auth.AuditUserCreated, auth.AuditUserSignedIn, auth.AuditUserSignInRefused, auth.AuditUserGranted, auth.AuditUserToMappings,
	auth.AuditUserDisabled, auth.AuditUserEnabled, auth.AuditUserErased,
	auth.AuditTokenCreated, auth.AuditTokenRevoked, auth.AuditSessionEnded,
	auth.AuditProjectCreated, auth.AuditProjectGranted, auth.AuditProjectRevoked, auth.AuditProjectKeyRotated, auth.AuditProjectKeyExported,
}

// registerAdmin adds the admin pages to g (signed-in routes).
func (p *Pages) registerAdmin(g *gin.RouterGroup) {
	a := g.Group("/admin", p.adminOnly)
	a.GET("", func(c *gin.Context) { c.Redirect(http.StatusSeeOther, "/admin/users") })
	a.GET("/users", p.adminUsers)
	a.GET("/users/:id", p.adminUser)
	a.POST("/users/:id/:action", p.checkCSRF, p.validText, p.adminUserAction)
	a.GET("/tokens", p.adminTokens)
	a.POST("/tokens", p.checkCSRF, p.validText, p.adminCreateToken)
	a.POST("/tokens/:name/revoke", p.checkCSRF, p.adminRevokeToken)
	a.GET("/sessions", p.adminSessions)
	a.POST("/sessions/:handle/end", p.checkCSRF, p.adminEndSession)
	a.GET("/audit", p.adminAudit)
	p.registerAdminProjects(a)
}

// adminOnly lets admins through; everyone else gets the 403 page, and
// for admins every admin page is a 404 page when there is no user store.
func (p *Pages) adminOnly(c *gin.Context) {
	l := loc(c)
	if !principal(c).IsAdmin() {
		p.errorPageBack(c, http.StatusForbidden, l.T("admin.forbidden"), "/")
		return
	}
	if p.userStore == nil {
		p.fail(c, notFound(l.T("admin.unavailable")))
	}
}

// adminNav is the admin pages' own navigation.
type adminNav struct {
	Href, Label string
	Current     bool
}

// adminLayout is what every admin page has: the layout and the admin
// pages' navigation.
type adminLayout struct {
	layoutData
	Nav   []adminNav
	Saved string
	Error string
}

func (p *Pages) adminLayout(c *gin.Context, title, here string) adminLayout {
	l := loc(c)
	a := adminLayout{layoutData: layoutData{Title: title, Section: sectionAdmin}}
	nav := []struct{ path, id string }{{"/admin/users", "users"}, {"/admin/tokens", "tokens"}, {"/admin/sessions", "sessions"}, {"/admin/audit", "audit"}}
	if p.projectStore != nil {
		nav = append(nav, struct{ path, id string }{"/admin/projects", "projects"})
	}
	for _, n := range nav {
		a.Nav = append(a.Nav, adminNav{Href: n.path, Label: l.T("admin.nav." + n.id), Current: n.path == here})
	}
	if saved := c.Query("saved"); saved != "" && slices.Contains(append([]string{"grant", "mappings", "disable", "enable", "erase", "revoke", "end"}, projectSaved...), saved) {
		a.Saved = l.T("admin.saved." + saved)
	}
	return a
}

// ---- users ----

type adminUsersPage struct {
	adminLayout
	Query, Role, Disabled string
	Roles                 []roleChoice
	Users                 []userRow
}

type roleChoice struct {
	Value, Label string
	Selected     bool
}

type userRow struct {
	ID, Name, Email, Provider string
	Role, Municipalities      string
	ByAdmin                   bool
	Disabled, Erased          bool
	LastSignIn                string
}

// roleChoices are the roles of a select, with none first (labelled none).
func roleChoices(l *locale.Localizer, selected, none string) []roleChoice {
	out := []roleChoice{{Value: "", Label: none, Selected: selected == ""}}
	for _, r := range auth.Roles {
		out = append(out, roleChoice{Value: r, Label: l.T("pages.role." + r), Selected: r == selected})
	}
	return out
}

// roleLabel names a role in the reader's language ("" is no role).
func roleLabel(l *locale.Localizer, role string) string {
	if role == "" {
		return l.T("admin.role.none")
	}
	return l.T("pages.role." + roleKey(role))
}

// municipalityNames lists municipalities by name and code.
func municipalityNames(codes []kommune.Code) string {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = describe.Municipality(string(c))
	}
	return strings.Join(names, ", ")
}

func newUserRow(l *locale.Localizer, u auth.User) userRow {
	r := userRow{ID: u.ID, Name: u.Name, Email: u.Email, Provider: u.Provider, Role: roleLabel(l, u.Grant.Role),
		Municipalities: municipalityNames(u.Grant.Municipalities), ByAdmin: u.GrantedByAdmin, Disabled: u.Disabled, Erased: u.Erased}
	if u.Erased {
		r.Name = l.T("admin.actor.erased")
	}
	if !u.LastSignInAt.IsZero() {
		r.LastSignIn = l.DateTime(u.LastSignInAt)
	}
	return r
}

// adminUsers lists the users, searched by name, e-mail or id and filtered
// by role and whether they are disabled.
func (p *Pages) adminUsers(c *gin.Context) {
	l := loc(c)
	page := &adminUsersPage{adminLayout: p.adminLayout(c, l.T("admin.users.title"), "/admin/users"),
		Query: strings.TrimSpace(c.Query("q")), Role: c.Query("role"), Disabled: c.Query("disabled")}
	f := auth.UserFilter{Query: page.Query}
	var problems []string
	if page.Role != "" && page.Role != "none" && !slices.Contains(auth.Roles, page.Role) {
		problems = append(problems, l.T("admin.error.role", "Value", page.Role))
	}
	if page.Role != "none" {
		f.Role = page.Role
	}
	switch page.Disabled {
	case "":
	case "yes", "no":
		d := page.Disabled == "yes"
		f.Disabled = &d
	default:
		problems = append(problems, l.T("admin.error.disabled", "Value", page.Disabled))
	}
	if len(problems) > 0 {
		p.errorPageBack(c, http.StatusBadRequest, strings.Join(problems, " "), "/admin/users")
		return
	}
	users, err := p.userStore.Users(c.Request.Context(), f)
	if err != nil {
		p.fail(c, err)
		return
	}
	for _, u := range users {
		// "none" (users with no role) is the page's own filter: the
		// store's empty Role means any.
		if page.Role == "none" && u.Grant.Role != "" {
			continue
		}
		page.Users = append(page.Users, newUserRow(l, u))
	}
	page.Roles = roleChoices(l, page.Role, l.T("admin.users.any_role"))
	page.Roles = slices.Insert(page.Roles, 1, roleChoice{Value: "none", Label: l.T("admin.role.none"), Selected: page.Role == "none"})
	p.render(c, http.StatusOK, "admin_users", page)
}

type adminUserPage struct {
	adminLayout
	User   userRow
	Roles  []roleChoice
	Codes  string
	Tokens []tokenRow
	// Confirm asks to confirm erasing the user.
	Confirm bool
}

// adminUser shows one user with the forms that change it.
func (p *Pages) adminUser(c *gin.Context) {
	p.showUser(c, http.StatusOK, "", nil)
}

// userOf reads the user the path names, or answers the not-found page (or
// the failure) itself and returns false.
func (p *Pages) userOf(c *gin.Context) (auth.User, bool) {
	u, err := p.userStore.User(c.Request.Context(), c.Param("id"))
	if errors.Is(err, auth.ErrUserNotFound) {
		err = notFound(loc(c).T("admin.error.no_user"))
	}
	if err != nil {
		p.fail(c, err)
		return auth.User{}, false
	}
	return u, true
}

// showUser draws a user's page; problem is a refused form's reason, and
// form what it sent.
func (p *Pages) showUser(c *gin.Context, status int, problem string, form *auth.Grant) {
	l := loc(c)
	u, ok := p.userOf(c)
	if !ok {
		return
	}
	row := newUserRow(l, u)
	title := row.Name
	if title == "" {
		title = u.ID
	}
	page := &adminUserPage{adminLayout: p.adminLayout(c, title, ""), User: row}
	page.Crumbs = []crumb{{"/admin/users", l.T("admin.nav.users")}}
	page.Here = "/admin/users/" + url.PathEscape(u.ID)
	page.Error = problem
	g := u.Grant
	if form != nil {
		g = *form
	}
	page.Roles = roleChoices(l, g.Role, l.T("admin.role.none"))
	codes := make([]string, len(g.Municipalities))
	for i, m := range g.Municipalities {
		codes[i] = string(m)
	}
	page.Codes = strings.Join(codes, ", ")
	tokens, err := p.userStore.List(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	for _, t := range tokens {
		if t.Owner == u.ID {
			page.Tokens = append(page.Tokens, p.newTokenRow(c, t))
		}
	}
	p.render(c, status, "admin_user", page)
}

// parseGrant reads the grant form: a role ("" for none) and the
// municipalities' codes, separated by commas or spaces. It returns the
// grant as typed and, when it is not valid, why in the reader's language.
func parseGrant(l *locale.Localizer, role, municipalities string) (auth.Grant, string) {
	g := auth.Grant{Role: role}
	var problems []string
	if role != "" && !slices.Contains(auth.Roles, role) {
		problems = append(problems, l.T("admin.error.role", "Value", role))
	}
	for _, f := range strings.FieldsFunc(municipalities, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		code, err := kommune.Parse(f)
		if err != nil {
			problems = append(problems, l.T("admin.error.municipality", "Value", f))
			g.Municipalities = append(g.Municipalities, kommune.Code(f))
			continue
		}
		g.Municipalities = append(g.Municipalities, code)
	}
	switch {
	case len(problems) > 0:
	case role == auth.RoleCoordinator && len(g.Municipalities) == 0:
		problems = append(problems, l.T("admin.error.coordinator_needs"))
	case role != auth.RoleCoordinator && len(g.Municipalities) > 0:
		problems = append(problems, l.T("admin.error.only_coordinators"))
	}
	return g, strings.Join(problems, " ")
}

// adminUserAction posts one of a user's forms: grant, mappings, disable,
// enable or erase (which first asks to confirm).
func (p *Pages) adminUserAction(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	id, action := c.Param("id"), c.Param("action")
	actor := principal(c)
	var err error
	switch action {
	case "grant":
		g, problem := parseGrant(l, c.PostForm("role"), c.PostForm("municipalities"))
		if problem != "" {
			p.showUser(c, http.StatusBadRequest, problem, &g)
			return
		}
		err = p.userStore.SetGrant(ctx, actor, id, g)
	case "mappings":
		err = p.userStore.UseMappings(ctx, actor, id)
	case "disable":
		err = p.userStore.Disable(ctx, actor, id)
	case "enable":
		err = p.userStore.Enable(ctx, actor, id)
	case "erase":
		if c.PostForm("confirm") != "yes" {
			p.confirmErase(c)
			return
		}
		err = p.userStore.EraseUser(ctx, actor, id)
	default:
		p.fail(c, notFound(l.T("pages.no_such_form")))
		return
	}
	switch {
	case errors.Is(err, auth.ErrUserNotFound):
		p.fail(c, notFound(l.T("admin.error.no_user")))
		return
	case errors.Is(err, auth.ErrInvalidSpec):
		p.showUser(c, http.StatusBadRequest, l.T("admin.error.invalid_grant"), nil)
		return
	case errors.Is(err, auth.ErrUserErased):
		p.showUser(c, http.StatusConflict, l.T("admin.error.erased"), nil)
		return
	case err != nil:
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/users/"+url.PathEscape(id)+"?saved="+action)
}

// confirmErase asks the admin to confirm erasing a user: erasing cannot
// be undone.
func (p *Pages) confirmErase(c *gin.Context) {
	l := loc(c)
	u, ok := p.userOf(c)
	if !ok {
		return
	}
	row := newUserRow(l, u)
	page := &adminUserPage{adminLayout: p.adminLayout(c, l.T("admin.erase.title"), ""), User: row, Confirm: true}
	page.Crumbs = []crumb{{"/admin/users", l.T("admin.nav.users")}, {"/admin/users/" + url.PathEscape(u.ID), row.Name}}
	page.Here = "/admin/users/" + url.PathEscape(u.ID)
	p.render(c, http.StatusOK, "admin_user", page)
}

// ---- tokens ----

type adminTokensPage struct {
	adminLayout
	Tokens []tokenRow
	Roles  []roleChoice
	// The create form as sent, when it was refused.
	Name, Codes, Owner, Expires string
	// Secret is a new token's secret, shown this once; NewName its name.
	Secret, NewName string
}

type tokenRow struct {
	Name, Role, Municipalities string
	Owner, OwnerName           string
	Expires, Created, LastUsed string
	Expired                    bool
}

func (p *Pages) newTokenRow(c *gin.Context, t auth.Token) tokenRow {
	l := loc(c)
	r := tokenRow{Name: t.Name, Role: roleLabel(l, t.Role), Municipalities: municipalityNames(t.Municipalities), Owner: t.Owner, Created: l.DateTime(t.CreatedAt)}
	if t.Owner != "" {
		if u, err := p.userStore.User(c.Request.Context(), t.Owner); err == nil {
			r.OwnerName = newUserRow(l, u).Name
		}
	}
	if !t.ExpiresAt.IsZero() {
		r.Expires = l.DateTime(t.ExpiresAt)
		r.Expired = !t.ExpiresAt.After(p.now())
	}
	if t.LastUsedAt != nil {
		r.LastUsed = l.DateTime(*t.LastUsedAt)
	}
	return r
}

// adminTokens lists the tokens, with the form that makes one.
func (p *Pages) adminTokens(c *gin.Context) {
	p.showTokens(c, http.StatusOK, &adminTokensPage{}, "")
}

// showTokens draws the tokens page; problem is why a new token was
// refused.
func (p *Pages) showTokens(c *gin.Context, status int, page *adminTokensPage, problem string) {
	l := loc(c)
	page.adminLayout = p.adminLayout(c, l.T("admin.tokens.title"), "/admin/tokens")
	page.Here = "/admin/tokens"
	page.Error = problem
	tokens, err := p.userStore.List(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	for _, t := range tokens {
		page.Tokens = append(page.Tokens, p.newTokenRow(c, t))
	}
	role := c.PostForm("role")
	if role == "" {
		role = auth.RoleViewer
	}
	page.Roles = roleChoices(l, role, "")[1:]
	p.render(c, status, "admin_tokens", page)
}

// adminCreateToken makes a token and shows its secret this once.
func (p *Pages) adminCreateToken(c *gin.Context) {
	l := loc(c)
	page := &adminTokensPage{Name: strings.TrimSpace(c.PostForm("name")), Codes: c.PostForm("municipalities"),
		Owner: strings.TrimSpace(c.PostForm("owner")), Expires: strings.TrimSpace(c.PostForm("expires"))}
	spec := auth.Spec{Name: page.Name, Role: c.PostForm("role"), Owner: page.Owner, Municipalities: strings.FieldsFunc(page.Codes, func(r rune) bool { return r == ',' || r == ' ' || r == ';' })}
	var problems []string
	if page.Expires != "" {
		// The token lasts through its last day in Norway, as in the API
		// and the CLI.
		end, err := calendar.ParseCutoff(page.Expires)
		switch {
		case err != nil:
			problems = append(problems, l.T("admin.error.expires", "Value", page.Expires))
		case !end.After(p.now()):
			problems = append(problems, l.T("admin.error.expires_past"))
		default:
			spec.ExpiresAt = end
		}
	}
	if _, err := spec.Validate(); err != nil && len(problems) == 0 {
		problems = append(problems, tokenProblem(l, spec))
	}
	if len(problems) == 0 {
		secret, err := p.userStore.CreateToken(c.Request.Context(), principal(c), spec)
		switch {
		case err == nil:
			p.showTokens(c, http.StatusCreated, &adminTokensPage{Secret: secret, NewName: spec.Name}, "")
			return
		case errors.Is(err, auth.ErrTokenExists):
			problems = append(problems, l.T("admin.error.token_exists", "Name", spec.Name))
		case errors.Is(err, auth.ErrUserNotFound):
			problems = append(problems, l.T("admin.error.owner", "Value", spec.Owner))
		case errors.Is(err, auth.ErrInvalidSpec):
			problems = append(problems, tokenProblem(l, spec))
		default:
			p.fail(c, err)
			return
		}
	}
	p.showTokens(c, http.StatusBadRequest, page, strings.Join(problems, " "))
}

// tokenProblem says in the reader's language why a token cannot be made
// as specified (auth.Spec.Validate's reasons).
func tokenProblem(l *locale.Localizer, s auth.Spec) string {
	switch {
	case !slices.Contains(auth.Roles, s.Role):
		return l.T("admin.error.role", "Value", s.Role)
	case s.Owner != "" && !auth.IsUserID(s.Owner):
		return l.T("admin.error.owner", "Value", s.Owner)
	case s.Name == "" || len(s.Name) > 64 || strings.ContainsFunc(s.Name, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return l.T("admin.error.token_name")
	}
	for _, m := range s.Municipalities {
		if _, err := kommune.Parse(m); err != nil {
			return l.T("admin.error.municipality", "Value", m)
		}
	}
	if s.Role == auth.RoleCoordinator {
		return l.T("admin.error.coordinator_needs")
	}
	return l.T("admin.error.only_coordinators")
}

// adminRevokeToken revokes a token (and ends its sessions).
func (p *Pages) adminRevokeToken(c *gin.Context) {
	err := p.userStore.RevokeToken(c.Request.Context(), principal(c), c.Param("name"))
	p.adminDone(c, err, auth.ErrTokenNotFound, "admin.error.no_token", "/admin/tokens?saved=revoke")
}

// adminDone finishes an admin's change of one thing on a list: back to the
// list saying it is done, or the localized 404 page when missing (the
// store's sentinel) names nothing, or the error page.
func (p *Pages) adminDone(c *gin.Context, err, missing error, missingMessage, back string) {
	switch {
	case errors.Is(err, missing):
		p.fail(c, notFound(loc(c).T(missingMessage)))
	case err != nil:
		p.fail(c, err)
	default:
		c.Redirect(http.StatusSeeOther, back)
	}
}

// ---- sessions ----

type adminSessionsPage struct {
	adminLayout
	Sessions []sessionRow
}

type sessionRow struct {
	Handle, Kind, Subject, Name string
	Created, LastUsed, Expires  string
	// Own is the admin's own session.
	Own bool
}

// adminSessions lists the live sessions, newest first.
func (p *Pages) adminSessions(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	page := &adminSessionsPage{adminLayout: p.adminLayout(c, l.T("admin.sessions.title"), "/admin/sessions")}
	sessions, err := p.userStore.Sessions(ctx, p.now())
	if err != nil {
		p.fail(c, err)
		return
	}
	for _, s := range sessions {
		r := sessionRow{Handle: s.Handle, Kind: l.T("admin.sessions.kind." + s.Kind), Subject: s.Subject,
			Created: l.DateTime(s.Created), LastUsed: l.DateTime(s.LastUsed), Expires: l.DateTime(s.Expires)}
		if s.Kind == auth.PrincipalUser {
			if u, err := p.userStore.User(ctx, s.Subject); err == nil {
				r.Name = newUserRow(l, u).Name
			}
		}
		page.Sessions = append(page.Sessions, r)
	}
	p.render(c, http.StatusOK, "admin_sessions", page)
}

// adminEndSession ends a session an admin picked from the list.
func (p *Pages) adminEndSession(c *gin.Context) {
	err := p.userStore.EndSessionByHandle(c.Request.Context(), principal(c), c.Param("handle"))
	p.adminDone(c, err, auth.ErrSessionNotFound, "admin.error.no_session", "/admin/sessions?saved=end")
}

// ---- audit log ----

type adminAuditPage struct {
	adminLayout
	Actor, Action, Target, From, To string
	Actions                         []roleChoice
	Entries                         []auditLogRow
	// Older is the link to the next page of older entries; Newest the
	// link back to the first.
	Older, Newest string
}

type auditLogRow struct {
	Seq                  int64
	At, Actor, ActorName string
	Action, Target       string
	TargetName           string
	Grant                string
}

// adminAudit shows the audit log, newest first, filtered by actor,
// action, target and dates, a page at a time (before the last entry
// shown).
func (p *Pages) adminAudit(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	page := &adminAuditPage{adminLayout: p.adminLayout(c, l.T("admin.audit.title"), "/admin/audit"),
		Actor: strings.TrimSpace(c.Query("actor")), Action: c.Query("action"), Target: strings.TrimSpace(c.Query("target")),
		From: c.Query("from"), To: c.Query("to")}
	f := auth.AuditFilter{Actor: page.Actor, Action: page.Action, Target: page.Target, Limit: auditPageSize}
	var problems []string
	if f.Action != "" && !slices.Contains(adminActions, f.Action) {
		problems = append(problems, l.T("admin.error.action", "Value", f.Action))
	}
	day := func(name, v string) time.Time {
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, v, calendar.Oslo)
		if err != nil {
			problems = append(problems, l.T("admin.error.date", "Field", l.T("admin.audit."+name), "Value", v))
		}
		return t
	}
	f.From = day("from", page.From)
	if to := day("to", page.To); !to.IsZero() {
		// The filter's To is exclusive; the page's includes its day.
		f.To = to.AddDate(0, 0, 1)
	}
	if b := c.Query("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			problems = append(problems, l.T("admin.error.before", "Value", b))
		}
		f.Before = n
	}
	if len(problems) > 0 {
		p.errorPageBack(c, http.StatusBadRequest, strings.Join(problems, " "), "/admin/audit")
		return
	}
	entries, err := p.userStore.Audit(ctx, f)
	if err != nil {
		p.fail(c, err)
		return
	}
	page.Actions = []roleChoice{{Value: "", Label: l.T("admin.audit.any_action"), Selected: f.Action == ""}}
	for _, a := range adminActions {
		page.Actions = append(page.Actions, roleChoice{Value: a, Label: l.T("admin.action." + a), Selected: a == f.Action})
	}
	names := map[string]string{}
	name := func(id string) string {
		if !auth.IsUserID(id) {
			return ""
		}
		if n, ok := names[id]; ok {
			return n
		}
		u, err := p.userStore.User(ctx, id)
		if err == nil {
			names[id] = newUserRow(l, u).Name
		}
		return names[id]
	}
	for _, e := range entries {
		r := auditLogRow{Seq: e.Seq, At: l.DateTime(e.At), Actor: e.Actor, ActorName: name(e.Actor), Action: l.T("admin.action." + e.Action), Target: e.Target, TargetName: name(e.Target)}
		if e.Actor == auth.SystemActor {
			r.Actor = l.T("admin.actor.system")
		}
		if e.Grant != nil {
			r.Grant = roleLabel(l, e.Grant.Role)
			if len(e.Grant.Municipalities) > 0 {
				r.Grant += " (" + municipalityNames(e.Grant.Municipalities) + ")"
			}
		}
		page.Entries = append(page.Entries, r)
	}
	q := url.Values{}
	for k, v := range map[string]string{"actor": page.Actor, "action": page.Action, "target": page.Target, "from": page.From, "to": page.To} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if len(entries) == auditPageSize {
		older := url.Values{}
		for k, v := range q {
			older[k] = v
		}
		older.Set("before", strconv.FormatInt(entries[len(entries)-1].Seq, 10))
		page.Older = "/admin/audit?" + older.Encode()
	}
	if f.Before != 0 {
		page.Newest = "/admin/audit"
		if len(q) > 0 {
			page.Newest += "?" + q.Encode()
		}
	}
	p.render(c, http.StatusOK, "admin_audit", page)
}
