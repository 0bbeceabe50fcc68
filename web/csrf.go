package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// Cross-site request forgery protection. Each browser gets a random
// session id in an HttpOnly, SameSite=Strict cookie; every form carries
// HMAC(key, session id) in a hidden field, and a post is accepted only when
// the field matches the cookie's MAC (compared in constant time). A forged
// cross-site post has no cookie (SameSite) and cannot read or compute the
// token (HttpOnly; the key stays on the server), and a cookie planted by a
// sibling domain does not help without the key. Posts whose Origin or
// Sec-Fetch-Site say "another site" are refused before that.

const (
	sessionCookie = "samspill_session"
	csrfField     = "csrf_token"
	sessionKey    = "web.session"
	maxFormBytes  = 1 << 20
)

// session makes sure the browser has a session cookie and remembers its id
// for the token of this request's forms.
func (p *Pages) session(c *gin.Context) {
	id, err := c.Cookie(sessionCookie)
	if err != nil || !validSession(id) {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
		id = base64.RawURLEncoding.EncodeToString(raw)
		http.SetCookie(c.Writer, &http.Cookie{
			Name:     sessionCookie,
			Value:    id,
			Path:     "/",
			HttpOnly: true,
			Secure:   c.Request.TLS != nil,
			SameSite: http.SameSiteStrictMode,
		})
	}
	c.Set(sessionKey, id)
	c.Next()
}

func validSession(id string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(raw) == 32
}

// csrfToken is the token this request's forms carry.
func (p *Pages) csrfToken(c *gin.Context) string {
	return p.mac(c.GetString(sessionKey))
}

func (p *Pages) mac(session string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte("samspill csrf v1\x00"))
	m.Write([]byte(session))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkCSRF refuses a post from another site, without the session cookie,
// or whose token does not match the cookie, with a 403 page.
func (p *Pages) checkCSRF(c *gin.Context) {
	if site := c.GetHeader("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		p.csrfFailed(c)
		return
	}
	if origin := c.GetHeader("Origin"); origin != "" && origin != "null" {
		u, err := url.Parse(origin)
		if err != nil || u.Host != c.Request.Host {
			p.csrfFailed(c)
			return
		}
	}
	id, err := c.Cookie(sessionCookie)
	if err != nil || !validSession(id) {
		p.csrfFailed(c)
		return
	}
	// Forms are small; a body over 1 MiB is refused before it is read
	// (as the API refuses its bodies).
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		p.errorPage(c, http.StatusRequestEntityTooLarge, "The form could not be read: it is too large or malformed.")
		return
	}
	if !hmac.Equal([]byte(c.PostForm(csrfField)), []byte(p.mac(id))) {
		p.csrfFailed(c)
		return
	}
	c.Next()
}

func (p *Pages) csrfFailed(c *gin.Context) {
	p.log.InfoContext(c.Request.Context(), "form refused: bad or missing CSRF token", "path", c.Request.URL.Path)
	p.errorPage(c, http.StatusForbidden, "This form could not be accepted: it did not come from a page of this site, or it was opened before your session began (for example before a restart). Go back, reload the page and submit it again.")
}
