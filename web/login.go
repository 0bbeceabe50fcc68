package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
)

// Pages are never open. A browser signs in at /login with a token (made by
// samspill token create): the server starts a session (auth.SessionStore)
// and the browser keeps only the session's random id, in an HttpOnly,
// SameSite=Strict cookie (Secure on TLS). The cookie is never the token, so
// a copy of it is no API credential and dies with the session: after two
// hours idle or twelve after sign-in (auth.SessionIdleTimeout,
// auth.SessionLifetime), at sign-out, or when the token is revoked. Each
// sign-in makes a new session and a new CSRF id (csrf.go) and ends the
// browser's previous session; sessions in other browsers live on. Clients
// may also send the API's Authorization: Bearer header. The same roles
// apply as on the API, read from the token's current row on every request.

const (
	// sessionCookie holds the id of the browser's sign-in session.
	sessionCookie = "samspill_session"
	// legacyTokenCookie is where earlier versions kept the token itself.
	// It is never read; sign-in and sign-out delete it, so that browsers
	// stop holding a copy of a token.
	legacyTokenCookie = "samspill_token"
	principalKey      = "web.principal"
)

// signedIn lets a request through with its principal, or sends a browser
// to /login (GET) or answers 401 (anything else).
func (p *Pages) signedIn(c *gin.Context) {
	pr, err := p.authenticate(c)
	if err == nil {
		c.Set(principalKey, pr)
		if pr.Role == "" {
			// A person signed in through a provider whom neither the
			// mappings nor an admin gave a role.
			p.noAccess(c)
			return
		}
		c.Next()
		return
	}
	if !errors.Is(err, auth.ErrUnauthenticated) {
		p.fail(c, err)
		return
	}
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return
	}
	p.errorPage(c, http.StatusUnauthorized, loc(c).T("errors.signed_out"))
}

// authenticate finds the request's principal from its bearer header when
// it has one, else from its sign-in session.
func (p *Pages) authenticate(c *gin.Context) (auth.Principal, error) {
	ctx := c.Request.Context()
	if header := c.GetHeader("Authorization"); header != "" {
		return auth.Resolve(ctx, p.tokens, header)
	}
	id, err := c.Cookie(sessionCookie)
	if err != nil || p.tokens == nil {
		return auth.Principal{}, fmt.Errorf("%w: not signed in", auth.ErrUnauthenticated)
	}
	pr, err := p.tokens.Session(ctx, id, p.now())
	if err != nil && !errors.Is(err, auth.ErrUnauthenticated) {
		return auth.Principal{}, fmt.Errorf("sign-in session: %w", err)
	}
	return pr, err
}

// principal is the signed-in principal of the request.
func principal(c *gin.Context) auth.Principal {
	v, _ := c.Get(principalKey)
	pr, _ := v.(auth.Principal)
	return pr
}

// loginPage is the sign-in page: a button per identity provider above the
// token form (as Config.TokenSignIn allows); it states how long a session
// lasts.
type loginPage struct {
	layoutData
	Next, Error              string
	IdleHours, LifetimeHours int
	Providers                []providerButton
	// TokenForm shows the token form; AdminOnly says it is for admins'
	// break-glass sign-in only.
	TokenForm, AdminOnly bool
}

// providerButton starts the sign-in with one provider.
type providerButton struct {
	Href, DisplayName string
}

func (p *Pages) loginForm(c *gin.Context) {
	p.showLogin(c, http.StatusOK, "")
}

func (p *Pages) showLogin(c *gin.Context, status int, problem string) {
	next := localPath(c.Query("next"))
	mode := p.tokenSignIn()
	page := &loginPage{
		layoutData: layoutData{Title: loc(c).T("pages.login.title"), Here: "/login?next=" + url.QueryEscape(next)}, Next: next, Error: problem,
		IdleHours: int(auth.SessionIdleTimeout.Hours()), LifetimeHours: int(auth.SessionLifetime.Hours()),
		TokenForm: mode != TokenSignInOff, AdminOnly: mode == TokenSignInAdmin,
	}
	if p.signin != nil && p.userStore != nil {
		for _, pr := range p.signin.Providers() {
			page.Providers = append(page.Providers, providerButton{
				Href:        "/login/oidc/" + url.PathEscape(pr.Name) + "?next=" + url.QueryEscape(next),
				DisplayName: pr.DisplayName,
			})
		}
	}
	p.render(c, status, "login", page)
}

// login checks the token typed into the form, starts a session for it and
// gives the browser the session's id, a new CSRF id, and the end of its
// previous session.
func (p *Pages) login(c *gin.Context) {
	ctx := c.Request.Context()
	mode := p.tokenSignIn()
	if mode == TokenSignInOff {
		p.errorPageBack(c, http.StatusForbidden, loc(c).T("signin.token.off"), "/login")
		return
	}
	token := strings.TrimSpace(c.PostForm("token"))
	var (
		id  string
		pr  auth.Principal
		err = fmt.Errorf("%w: the server has no token store", auth.ErrUnauthenticated)
	)
	if p.tokens != nil {
		id, pr, err = p.tokens.StartSession(ctx, token, p.now())
	}
	if errors.Is(err, auth.ErrUnauthenticated) {
		c.Request.URL.RawQuery = url.Values{"next": {c.PostForm("next")}}.Encode()
		p.showLogin(c, http.StatusUnauthorized, loc(c).T("pages.login.bad_token"))
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	if mode == TokenSignInAdmin && pr.Role != auth.RoleAdmin {
		// Break-glass only: the session just started ends at once.
		if err := p.tokens.EndSession(ctx, id); err != nil {
			p.fail(c, err)
			return
		}
		c.Request.URL.RawQuery = url.Values{"next": {c.PostForm("next")}}.Encode()
		p.showLogin(c, http.StatusForbidden, loc(c).T("signin.token.admin_only"))
		return
	}
	if !p.startSession(c, id) {
		return
	}
	setCookie(c, logoutHintCookie, "", -1)
	p.log.InfoContext(ctx, "signed in", "subject", pr.Subject, "role", pr.Role)
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("next")))
}

// startSession gives the browser the new session's id, ends its previous
// session, and gives it a new CSRF id: the same for every way of signing
// in. False when it failed (the error page is drawn).
func (p *Pages) startSession(c *gin.Context, id string) bool {
	if old, err := c.Cookie(sessionCookie); err == nil && p.tokens != nil {
		if err := p.tokens.EndSession(c.Request.Context(), old); err != nil {
			p.fail(c, err)
			return false
		}
	}
	setCookie(c, sessionCookie, id, auth.SessionLifetime)
	setCookie(c, legacyTokenCookie, "", -1)
	p.newCSRFID(c)
	return true
}

// logoutPage confirms signing out (a GET must not change anything).
type logoutPage struct {
	layoutData
}

func (p *Pages) logoutForm(c *gin.Context) {
	p.render(c, http.StatusOK, "logout", &logoutPage{layoutData: layoutData{Title: loc(c).T("pages.logout.title")}})
}

// logout ends the browser's session on the server (every instance
// refuses its id from then on) and deletes its cookies; after a sign-in
// through a provider it goes on to sign out there (RP-initiated logout),
// which comes back to /login.
func (p *Pages) logout(c *gin.Context) {
	if id, err := c.Cookie(sessionCookie); err == nil && p.tokens != nil {
		if err := p.tokens.EndSession(c.Request.Context(), id); err != nil {
			p.fail(c, err)
			return
		}
	}
	setCookie(c, sessionCookie, "", -1)
	setCookie(c, legacyTokenCookie, "", -1)
	p.newCSRFID(c)
	if u := p.providerLogout(c); u != "" {
		p.render(c, http.StatusOK, "logoutprovider", &logoutAtProvider{layoutData: layoutData{Title: loc(c).T("signin.logout.title"), Here: "/login", Refresh: u}, URL: u})
		return
	}
	c.Redirect(http.StatusSeeOther, "/login")
}

// setCookie sets one of the pages' cookies: HttpOnly, SameSite=Strict,
// Secure when the request came over TLS, for the whole site. A positive
// maxAge keeps it that long, a negative one deletes it, and zero makes it
// last until the browser closes.
func setCookie(c *gin.Context, name, value string, maxAge time.Duration) {
	age := int(maxAge.Seconds())
	if maxAge < 0 {
		age = -1
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: age,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
}

// localPath returns next if it is a plain path on this site, else "/": a
// sign-in link must not send anyone elsewhere. Browsers forgive a lot in a
// Location: they drop tabs and newlines ("/\t/evil" is "//evil"), read a
// backslash as a slash ("/\evil" is "//evil"), strip leading spaces, and
// take "//host" as another site. So next must be valid UTF-8 with one
// leading "/", without control characters or backslashes anywhere, must
// parse without a scheme or host, and its decoded path must hold neither
// (so "/%2f%2fevil" and "/%5cevil" are refused too) and be clean: no empty
// or dot segments, which a browser or proxy could fold into "//".
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || !plainText(next) {
		return "/"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !plainText(u.Path) {
		return "/"
	}
	if clean := path.Clean(u.Path); clean != u.Path && clean+"/" != u.Path {
		return "/"
	}
	return next
}

// plainText reports whether s is valid UTF-8 without control characters
// (C0, DEL, C1) or backslashes.
func plainText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return r == '\\' || unicode.IsControl(r) })
}
