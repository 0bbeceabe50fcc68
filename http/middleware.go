package http

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/edge"
)

// readyTimeout bounds the store probe of /readyz.
const readyTimeout = 2 * time.Second

// recoverer turns a panic in a handler into a logged 500 problem, never a
// stack trace in the body.
func (s *Server) recoverer(c *gin.Context) {
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.ErrorContext(c.Request.Context(), "handler panicked", "path", c.FullPath(), "panic", v)
			writeProblem(c, Problem{Type: typeInternal, Title: "Internal server error", Status: http.StatusInternalServerError, Detail: "an unexpected error occurred; it has been logged"})
		}
	}()
	c.Next()
}

// securityHeaders are sent with every response. The API's documents are
// data, never pages: nothing may frame, sniff or run them. The browser
// pages set their own, stricter-for-pages policy on top. No CORS header is
// ever sent: samspill serves its own pages from the same origin, so other
// sites' scripts get no access (a proxy in front may add CORS on purpose).
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	c.Next()
}

// validQuery refuses a request with a query parameter whose name or value
// is not valid UTF-8 (a decoder would turn it into U+FFFD silently): 400,
// naming the parameter.
func (s *Server) validQuery(c *gin.Context) {
	if name, bad := edge.InvalidUTF8(c.Request.URL.Query()); bad {
		s.fail(c, edge.FieldError(name, "must be valid UTF-8 text"))
	}
}

// accessLog logs one line per request at info level when it ends: the
// method, the route template (c.FullPath, never the raw path), the status,
// the duration, the bytes of the body written and the request id. Never a
// header (Authorization least of all) and nothing of the query: its values
// can hold what a user typed (a name searched for), and its names are the
// client's to choose. It must run after edge.WithRequestID and before the
// recoverer, so that a panic is logged with its 500.
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	attrs := []slog.Attr{
		slog.String("method", methodLabel(c)),
		slog.String("route", routeLabel(c)),
		slog.Int("status", c.Writer.Status()),
		slog.Duration("duration", time.Since(start)),
		slog.Int("bytes", max(c.Writer.Size(), 0)),
		slog.String("request_id", edge.RequestID(c)),
	}
	s.log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request", attrs...)
}

// routeLabel is how the request's route is named in metrics and logs:
// Gin's route template, or "unmatched" for a request that matched none,
// so that ids in paths never appear.
func routeLabel(c *gin.Context) string {
	if route := c.FullPath(); route != "" {
		return route
	}
	return unmatchedRoute
}

// methodLabel is how the request's method is named in metrics and logs:
// one of knownMethods, else "other", so that a client cannot choose it.
func methodLabel(c *gin.Context) string {
	if knownMethods[c.Request.Method] {
		return c.Request.Method
	}
	return "other"
}
