package http

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
)

// problemContentType is RFC 9457's media type.
const problemContentType = "application/problem+json"

// Problem is an RFC 9457 problem details body.
type Problem struct {
	Type   string                   `json:"type"`
	Title  string                   `json:"title"`
	Status int                      `json:"status"`
	Detail string                   `json:"detail,omitempty"`
	Errors []partnership.FieldError `json:"errors,omitempty"`
}

// problemType is the problem type URN of a kind of failure.
func problemType(k edge.Kind) string { return "urn:samspill:problem:" + string(k) }

// Problem types. They are URNs: stable identifiers that need no web site.
var (
	typeValidation       = problemType(edge.KindValidation)
	typeTooLarge         = problemType(edge.KindTooLarge)
	typeNotFound         = problemType(edge.KindNotFound)
	typeMethodNotAllowed = problemType(edge.KindMethodNotAllowed)
	typeRule             = problemType(edge.KindRule)
	typePrecondition     = problemType(edge.KindPrecondition)
	typeIdempotency      = problemType(edge.KindIdempotency)
	typeRebuildRunning   = problemType(edge.KindRebuildRunning)
	typeUnavailable      = problemType(edge.KindUnavailable)
	typeStorageFull      = problemType(edge.KindStorageFull)
	typeInternal         = problemType(edge.KindInternal)
)

// problemFor is the problem of an error, as edge.Classify, the one mapping
// of errors to statuses, has it.
func problemFor(err error) Problem { return problemOf(edge.Classify(err)) }

func problemOf(f edge.Failure) Problem {
	return Problem{Type: problemType(f.Kind), Title: f.Title, Status: f.Status, Detail: f.Detail, Errors: f.Fields}
}

// fail answers with the problem for err and logs server-side failures once.
func (s *Server) fail(c *gin.Context, err error) {
	f := edge.Classify(err)
	if f.Status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.FullPath(), "request_id", edge.RequestID(c), "err", err)
	}
	writeFailure(c, f)
}

// writeFailure answers with f's problem, with Retry-After on a 503 and the
// challenge on a 401.
func writeFailure(c *gin.Context, f edge.Failure) {
	switch f.Status {
	case http.StatusServiceUnavailable:
		c.Header("Retry-After", strconv.Itoa(max(1, int(f.RetryAfter.Seconds()))))
	case http.StatusUnauthorized:
		writeUnauthorized(c)
	}
	writeProblem(c, problemOf(f))
}

func writeProblem(c *gin.Context, p Problem) {
	c.Header("Content-Type", problemContentType)
	c.AbortWithStatusJSON(p.Status, p)
}
