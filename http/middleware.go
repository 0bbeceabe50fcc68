package http

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/uuid"
)

// readyTimeout bounds the store probe of /readyz.
const readyTimeout = 2 * time.Second

const requestIDKey = "samspill.request_id"

// withRequestID takes X-Request-ID when it is a sane token (it becomes the
// events' correlation_id) or makes one, and echoes it on the response.
func withRequestID(c *gin.Context) {
	id := c.GetHeader("X-Request-ID")
	if !validToken(id, 128) {
		id = uuid.NewString()
	}
	c.Set(requestIDKey, id)
	c.Header("X-Request-ID", id)
	c.Next()
}

func requestID(c *gin.Context) string { return c.GetString(requestIDKey) }

// validToken reports whether s is 1..max visible ASCII characters.
func validToken(s string, max int) bool {
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
