package web

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/locale"
)

// The pages' language. Each request is written in one language: the
// reader's remembered choice (the cookie samspill_lang, set by the
// language switch on every page) when it names one of locale.Langs, else
// the best fit to the browser's Accept-Language (locale.Negotiate), which
// is bokmål when nothing fits. Every text of a page comes from the message
// catalogues through the request's *locale.Localizer (layoutData.L).

const (
	langCookie = "samspill_lang"
	langKey    = "web.lang"
	// langLifetime is how long a chosen language is remembered.
	langLifetime = 365 * 24 * time.Hour
)

// language picks the request's language and keeps its Localizer for the
// handlers and the page.
func (p *Pages) language(c *gin.Context) {
	lang, ok := locale.Lang(""), false
	if v, err := c.Cookie(langCookie); err == nil {
		lang, ok = locale.Parse(v)
	}
	if !ok {
		lang = locale.Negotiate(c.GetHeader("Accept-Language"))
	}
	c.Set(langKey, locale.For(lang))
	c.Next()
}

// loc is the request's Localizer (bokmål outside the pages' middleware).
func loc(c *gin.Context) *locale.Localizer {
	if v, ok := c.Get(langKey); ok {
		return v.(*locale.Localizer)
	}
	return locale.For(locale.Bokmal)
}

// setLanguage handles the language switch (POST /lang, fields lang and
// back): it remembers the choice for a year and sends the browser back
// (303) to back, a path on this site (localPath).
func (p *Pages) setLanguage(c *gin.Context) {
	lang, ok := locale.Parse(c.PostForm("lang"))
	if !ok {
		p.errorPage(c, http.StatusBadRequest, loc(c).T("pages.lang.unknown"))
		return
	}
	// SameSite=Lax, unlike the sign-in cookies: a link into the pages
	// from elsewhere (an e-mail) opens in the reader's language too.
	http.SetCookie(c.Writer, &http.Cookie{
		Name: langCookie, Value: string(lang), Path: "/", MaxAge: int(langLifetime.Seconds()),
		HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back")))
}

// langChoice is one language of the switch.
type langChoice struct {
	Lang    locale.Lang
	Name    string
	Current bool
}

// langChoices are the switch's languages, each named in itself.
func langChoices(current locale.Lang) []langChoice {
	out := make([]langChoice, len(locale.Langs))
	for i, l := range locale.Langs {
		out[i] = langChoice{Lang: l, Name: locale.For(l).T("lang.name"), Current: l == current}
	}
	return out
}
