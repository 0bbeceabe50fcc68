package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
)

// Pages are never open: a browser signs in at /login with a token (made by
// samspill token create), which is kept in an HttpOnly, SameSite=Strict
// cookie (Secure on TLS) for a working day; clients may also send the
// API's Authorization: Bearer header. The same roles apply as on the API.

const (
	tokenCookie  = "samspill_token"
	tokenMaxAge  = 12 * time.Hour
	principalKey = "web.principal"
)

// signedIn lets a request through with its principal, or sends a browser
// to /login (GET) or answers 401 (anything else).
func (p *Pages) signedIn(c *gin.Context) {
	pr, err := p.authenticate(c)
	if err == nil {
		c.Set(principalKey, pr)
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
	p.errorPage(c, http.StatusUnauthorized, "You are not signed in, or your sign-in has expired. Sign in and try again.")
}

// authenticate finds the request's principal from its bearer header or
// its sign-in cookie.
func (p *Pages) authenticate(c *gin.Context) (auth.Principal, error) {
	cookie, _ := c.Cookie(tokenCookie)
	return auth.Resolve(c.Request.Context(), p.tokens, c.GetHeader("Authorization"), cookie)
}

// principal is the signed-in principal of the request.
func principal(c *gin.Context) auth.Principal {
	v, _ := c.Get(principalKey)
	pr, _ := v.(auth.Principal)
	return pr
}

// loginPage is the sign-in form.
type loginPage struct {
	layoutData
	CSRF, Next, Error string
}

func (p *Pages) loginForm(c *gin.Context) {
	p.showLogin(c, http.StatusOK, "")
}

func (p *Pages) showLogin(c *gin.Context, status int, problem string) {
	p.render(c, status, "login", loginPage{layoutData: layoutData{Title: "Sign in"}, CSRF: p.csrfToken(c), Next: localPath(c.Query("next")), Error: problem})
}

// login checks the token typed into the form and keeps it in the sign-in
// cookie.
func (p *Pages) login(c *gin.Context) {
	token := strings.TrimSpace(c.PostForm("token"))
	pr, err := auth.Resolve(c.Request.Context(), p.tokens, "", token)
	if errors.Is(err, auth.ErrUnauthenticated) {
		c.Request.URL.RawQuery = url.Values{"next": {c.PostForm("next")}}.Encode()
		p.showLogin(c, http.StatusUnauthorized, "This token is not valid. Check that you copied all of it, or ask an administrator for a new one.")
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	http.SetCookie(c.Writer, &http.Cookie{
		Name: tokenCookie, Value: token, Path: "/", MaxAge: int(tokenMaxAge.Seconds()),
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	p.log.InfoContext(c.Request.Context(), "signed in", "subject", pr.Subject, "role", pr.Role)
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("next")))
}

// logoutPage confirms signing out (a GET must not change anything).
type logoutPage struct {
	layoutData
	CSRF string
}

func (p *Pages) logoutForm(c *gin.Context) {
	p.render(c, http.StatusOK, "logout", logoutPage{layoutData: layoutData{Title: "Sign out"}, CSRF: p.csrfToken(c)})
}

// logout clears the sign-in cookie.
func (p *Pages) logout(c *gin.Context) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: tokenCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	c.Redirect(http.StatusSeeOther, "/login")
}

// localPath returns next if it is a path on this site, else "/": a sign-in
// link must not send anyone elsewhere.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/"
	}
	return next
}
