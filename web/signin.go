package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/signin"
)

// Sign-in through an identity provider (OpenID Connect, package signin):
// GET /login/oidc/{provider} sends the browser to the provider's login page,
// and the provider sends it back to GET /login/oidc/callback, which verifies
// the sign-in, hands the identity and its mapped grant to
// auth.UserStore.SignIn and starts the session exactly as a token's
// sign-in does (startSession). A signed-in user with no role sees whom to
// ask (noAccess). Signing out of such a session also signs out at the
// provider (logout, login.go).
//
// Token sign-in on the pages stays as the operator allows it
// (Config.TokenSignIn): for any token, for admin tokens only (the
// break-glass way in while a provider is down), or not at all.

// Token sign-in modes (Config.TokenSignIn).
const (
	TokenSignInAny   = "any"
	TokenSignInAdmin = "admin"
	TokenSignInOff   = "off"
)

// logoutHintCookie keeps, sealed, the provider and ID token of an
// OpenID Connect sign-in for the logout at the provider.
const logoutHintCookie = "samspill_oidc_logout"

// tokenSignIn is the effective token sign-in mode: as configured, else any
// without providers and admin with.
func (p *Pages) tokenSignIn() string {
	switch p.tokenMode {
	case TokenSignInAny, TokenSignInAdmin, TokenSignInOff:
		return p.tokenMode
	}
	if p.signin != nil && len(p.signin.Providers()) > 0 {
		return TokenSignInAdmin
	}
	return TokenSignInAny
}

// beginSignIn sends the browser to the provider's login page.
func (p *Pages) beginSignIn(c *gin.Context) {
	if p.signin == nil || p.userStore == nil {
		p.errorPageBack(c, http.StatusNotFound, loc(c).T("signin.error.unknown"), "/login")
		return
	}
	name := c.Param("provider")
	to, err := p.signin.Begin(c.Request.Context(), c.Writer, c.Request, name, localPath(c.Query("next")), p.now())
	if err != nil {
		p.signInFailed(c, name, err)
		return
	}
	c.Redirect(http.StatusSeeOther, to)
}

// finishPage is drawn by the callback: the browser comes back from the
// provider's site, and a SameSite=Strict cookie set on the way is not sent
// on the rest of that cross-site redirect chain. So the callback answers
// with a page of this site that moves on by itself (meta refresh, no
// script) with the new session.
type finishPage struct {
	layoutData
	Next string
}

// finishSignIn is the callback.
func (p *Pages) finishSignIn(c *gin.Context) {
	if p.signin == nil || p.userStore == nil {
		p.errorPageBack(c, http.StatusNotFound, loc(c).T("signin.error.unknown"), "/login")
		return
	}
	ctx := c.Request.Context()
	res, err := p.signin.Complete(ctx, c.Writer, c.Request, p.now())
	if err != nil {
		p.signInFailed(c, res.Identity.Provider, err)
		return
	}
	id, u, err := p.userStore.SignIn(ctx, res.Identity, res.Grant, p.now())
	switch {
	case errors.Is(err, auth.ErrUserDisabled), errors.Is(err, auth.ErrUserErased):
		p.log.InfoContext(ctx, "sign-in refused", "provider", res.Identity.Provider, "err", err)
		p.render(c, http.StatusForbidden, "noaccess", &noAccessPage{layoutData: layoutData{Title: loc(c).T("signin.disabled.title")},
			Message: loc(c).T("signin.disabled.text"), Contact: p.accessContact})
		return
	case err != nil:
		p.fail(c, err)
		return
	}
	if !p.startSession(c, id) {
		return
	}
	setCookie(c, logoutHintCookie, p.signin.Hint(res), auth.SessionLifetime)
	p.log.InfoContext(ctx, "signed in", "subject", u.ID, "provider", u.Provider, "role", u.Grant.Role)
	next := localPath(res.Next)
	p.render(c, http.StatusOK, "finish", &finishPage{layoutData: layoutData{Title: loc(c).T("signin.finish.title"), Here: next, Refresh: next}, Next: next})
}

// signInFailed draws the page of a sign-in that went wrong, in words the
// reader can act on; nothing was created.
func (p *Pages) signInFailed(c *gin.Context, provider string, err error) {
	l := loc(c)
	display := provider
	if p.signin != nil {
		display = p.signin.DisplayName(provider)
	}
	status, msg := http.StatusInternalServerError, l.T("signin.error.other")
	switch {
	case errors.Is(err, signin.ErrUnknownProvider):
		status, msg = http.StatusNotFound, l.T("signin.error.unknown")
	case errors.Is(err, signin.ErrUnavailable):
		status, msg = http.StatusServiceUnavailable, l.T("signin.error.unavailable", "Provider", display)
	case errors.Is(err, signin.ErrStale):
		status, msg = http.StatusBadRequest, l.T("signin.error.stale")
	case errors.Is(err, signin.ErrRejected):
		status, msg = http.StatusUnauthorized, l.T("signin.error.rejected")
	}
	p.log.WarnContext(c.Request.Context(), "sign-in failed", "provider", provider, "status", status, "err", err)
	p.errorPageBack(c, status, msg, "/login")
}

// noAccessPage tells a signed-in user without a role, or a disabled one,
// whom to ask.
type noAccessPage struct {
	layoutData
	Message, Contact string
}

// noAccess is the page of a signed-in user with no role.
func (p *Pages) noAccess(c *gin.Context) {
	p.render(c, http.StatusForbidden, "noaccess", &noAccessPage{layoutData: layoutData{Title: loc(c).T("signin.noaccess.title")},
		Message: loc(c).T("signin.noaccess.text"), Contact: p.accessContact})
	c.Abort()
}

// logoutAtProvider is drawn after the samspill session ended when it was
// an OpenID Connect sign-in: it moves on to the provider's end-session
// page (meta refresh; a form's redirect to another site would break the
// pages' form-action policy), which sends the browser back to /login.
type logoutAtProvider struct {
	layoutData
	URL string
}

// providerLogout returns the provider's end-session URL for the
// browser's OpenID Connect sign-in, if it has one, and forgets the hint.
func (p *Pages) providerLogout(c *gin.Context) string {
	v, err := c.Cookie(logoutHintCookie)
	if err != nil {
		return ""
	}
	setCookie(c, logoutHintCookie, "", -1)
	if p.signin == nil {
		return ""
	}
	u := p.signin.LogoutURL(c.Request.Context(), v)
	if parsed, err := url.Parse(u); err != nil || (parsed.Scheme != "https" && parsed.Scheme != "http") {
		return ""
	}
	return u
}
