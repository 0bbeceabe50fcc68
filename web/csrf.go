package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"

	"github.com/gin-gonic/gin"
)

// Cross-site request forgery protection. Each browser gets a random CSRF
// id in an HttpOnly, SameSite=Strict cookie of its own (samspill_csrf, a
// different thing from the sign-in session of login.go: it exists before
// anyone signs in); every form carries HMAC(key, CSRF id) in a hidden
// field, and a post is accepted only when the field matches the cookie's
// MAC (compared in constant time). A forged cross-site post has no cookie
// (SameSite) and cannot read or compute the token (HttpOnly; the key stays
// on the server), and a cookie planted by a sibling domain does not help
// without the key. Sign-in and sign-out give the browser a new id, so no id
// chosen or seen before either survives it. Before that, Go's
// net/http.CrossOriginProtection refuses a post whose Sec-Fetch-Site or
// Origin says it comes from another site or origin.

const (
	csrfCookie   = "samspill_csrf"
	csrfField    = "csrf_token"
	csrfIDKey    = "web.csrf_id"
	maxFormBytes = 1 << 20
)

// ensureCSRFID makes sure the browser has a CSRF cookie and remembers its
// id for the token of this request's forms.
func (p *Pages) ensureCSRFID(c *gin.Context) {
	id, err := c.Cookie(csrfCookie)
	if err != nil || !validCSRFID(id) {
		p.newCSRFID(c)
	} else {
		c.Set(csrfIDKey, id)
	}
	c.Next()
}

// newCSRFID gives the browser a new CSRF id (a cookie that lasts until the
// browser closes), which this request's forms use too.
func (p *Pages) newCSRFID(c *gin.Context) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	id := base64.RawURLEncoding.EncodeToString(raw)
	setCookie(c, csrfCookie, id, 0)
	c.Set(csrfIDKey, id)
}

func validCSRFID(id string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	return err == nil && len(raw) == 32
}

// csrfToken is the token this request's forms carry.
func (p *Pages) csrfToken(c *gin.Context) string {
	return p.mac(c.GetString(csrfIDKey))
}

func (p *Pages) mac(id string) string {
	m := hmac.New(sha256.New, p.csrfKey)
	m.Write([]byte("samspill csrf v1\x00"))
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// crossOrigin refuses browsers' cross-origin posts: no origin is trusted
// besides the pages' own.
var crossOrigin = http.NewCrossOriginProtection()

// checkCSRF refuses a post from another site, without the CSRF cookie,
// or whose token does not match the cookie, with a 403 page.
func (p *Pages) checkCSRF(c *gin.Context) {
	if err := crossOrigin.Check(c.Request); err != nil {
		p.csrfFailed(c)
		return
	}
	id, err := c.Cookie(csrfCookie)
	if err != nil || !validCSRFID(id) {
		p.csrfFailed(c)
		return
	}
	// Forms are small; a body over 1 MiB is refused before it is read
	// (as the API refuses its bodies).
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		p.errorPage(c, http.StatusRequestEntityTooLarge, loc(c).T("errors.form_unreadable"))
		return
	}
	if !hmac.Equal([]byte(c.PostForm(csrfField)), []byte(p.mac(id))) {
		p.csrfFailed(c)
		return
	}
	c.Next()
}

func (p *Pages) csrfFailed(c *gin.Context) {
	p.log.InfoContext(c.Request.Context(), "form refused: bad or missing CSRF token", "route", c.FullPath())
	p.errorPage(c, http.StatusForbidden, loc(c).T("errors.csrf"))
}
