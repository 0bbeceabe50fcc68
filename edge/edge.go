// Package edge is what samspill's two front doors, the HTTP API (package
// http) and the browser pages (package web), share about a request: its
// id, who makes it (its principal), and the metadata of the event a
// command appends. Both build a command's app.Meta here, so an event
// records the same actor, correlation and causation whichever door it came
// through, and both refuse the same bad input the same way.
package edge

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/eventstore"
)

// NewEngine returns the Gin engine the front doors are mounted on, in
// release mode, answering 405 for a known path with another method. It
// trusts no proxy: a request's client address (c.ClientIP, which the
// answer pages' rate limits key on) is its connection's, whatever
// X-Forwarded-For says, until TrustProxies names the proxies in front.
// (Gin's default trusts every sender's X-Forwarded-For, so any client
// could choose its address.)
func NewEngine() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	_ = r.SetTrustedProxies(nil) // nil is always accepted: trust none
	return r
}

// TrustProxies makes the engine take a request's client address from
// X-Forwarded-For (or X-Real-IP) when the connection comes from one of
// proxies (addresses or CIDR ranges, e.g. a load balancer's); it returns
// an error naming an entry that is neither.
func TrustProxies(r *gin.Engine, proxies []string) error {
	if len(proxies) == 0 {
		proxies = nil
	}
	if err := r.SetTrustedProxies(proxies); err != nil {
		return fmt.Errorf("trusted proxies: %w", err)
	}
	return nil
}

// Keys of the request's values in the Gin context.
const (
	requestIDKey = "samspill.request_id"
	principalKey = "samspill.principal"
)

// RequestIDHeader carries a request's id in and out.
const RequestIDHeader = "X-Request-ID"

// maxRequestID bounds a client-chosen request id.
const maxRequestID = 128

// WithRequestID is the middleware that gives every request an id: the
// client's X-Request-ID when it is 1 to 128 visible ASCII characters, else
// a new UUID. The id is echoed on the response and becomes the correlation
// and causation id of the events the request appends.
func WithRequestID(c *gin.Context) {
	id := c.GetHeader(RequestIDHeader)
	if !VisibleASCII(id, maxRequestID) {
		id = uuid.NewString()
	}
	c.Set(requestIDKey, id)
	c.Header(RequestIDHeader, id)
	c.Next()
}

// RequestID returns the request's id (set by WithRequestID), "" outside
// it.
func RequestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// VisibleASCII reports whether s is 1 to max visible ASCII characters: what
// a header value chosen by a client (a request id, an idempotency key) may
// be.
func VisibleASCII(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// SetPrincipal records who the request acts for, once it is
// authenticated.
func SetPrincipal(c *gin.Context, p auth.Principal) { c.Set(principalKey, p) }

// Principal returns the request's authenticated principal; the zero
// Principal (no role) before SetPrincipal.
func Principal(c *gin.Context) auth.Principal {
	v, _ := c.Get(principalKey)
	p, _ := v.(auth.Principal)
	return p
}

// CommandMeta is the metadata of a command the principal sends with the
// request: the principal as the event's actor, the request id as its
// correlation and causation, and the principal's scope as the app's check
// of the municipalities before and after the event (app.Meta.MayWrite).
// The API adds If-Match and the idempotency key; the pages add the version
// their form was drawn at.
func CommandMeta(c *gin.Context, p auth.Principal) app.Meta {
	id := RequestID(c)
	return app.Meta{
		Actor:         eventstore.Actor{Subject: p.Subject, Role: p.Role},
		CorrelationID: id,
		CausationID:   id,
		MayWrite:      MayWrite(p),
	}
}

// MayWrite is the principal's scope check for app.Meta: nil for a
// municipality (today's code) it may write in, else an error wrapping
// auth.ErrForbidden that says where it may write.
func MayWrite(p auth.Principal) func(municipality string) error {
	return func(municipality string) error {
		if p.MayWrite(municipality) {
			return nil
		}
		return fmt.Errorf("%w: %s", auth.ErrForbidden, ForbiddenReason(p, municipality))
	}
}

// ForbiddenReason says in words why the principal may not write in the
// municipality ("" for none: any).
func ForbiddenReason(p auth.Principal, municipality string) string {
	if p.Role != auth.RoleCoordinator && p.Role != auth.RoleAdmin {
		return "the " + p.Role + " role only reads"
	}
	names := make([]string, len(p.Municipalities))
	for i, m := range p.Municipalities {
		names[i] = fmt.Sprintf("%s (%s)", m.Name(), m)
	}
	reason := "a coordinator may change partnerships only in " + strings.Join(names, ", ")
	if municipality != "" {
		reason += ", not in " + municipality
	}
	return reason
}

// InvalidUTF8 returns the name of the first parameter (in name order) whose
// name or any value is not valid UTF-8, and false when all are valid.
// Decoders replace such bytes with U+FFFD without a word; the front doors
// refuse them instead, naming the parameter.
func InvalidUTF8(values url.Values) (string, bool) {
	for _, name := range slices.Sorted(maps.Keys(values)) {
		if !utf8.ValidString(name) {
			return strings.ToValidUTF8(name, "\uFFFD"), true
		}
		for _, v := range values[name] {
			if !utf8.ValidString(v) {
				return name, true
			}
		}
	}
	return "", false
}

// BaseURL is the address a request came to, its scheme and Host header
// ("https://samspill.example.no"): what a citation of a research file
// names, from the API and the pages alike.
func BaseURL(c *gin.Context) string {
	scheme := "http"
	if c.Request.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.Request.Host
}
