package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/projections"
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

// Problem types. They are URNs: stable identifiers that need no web site.
const (
	typeValidation       = "urn:samspill:problem:validation"
	typeTooLarge         = "urn:samspill:problem:body-too-large"
	typeNotFound         = "urn:samspill:problem:not-found"
	typeMethodNotAllowed = "urn:samspill:problem:method-not-allowed"
	typeRule             = "urn:samspill:problem:rule-refused"
	typePrecondition     = "urn:samspill:problem:precondition-failed"
	typeIdempotency      = "urn:samspill:problem:idempotency-key-reused"
	typeRebuildRunning   = "urn:samspill:problem:rebuild-running"
	typeUnavailable      = "urn:samspill:problem:unavailable"
	typeStorageFull      = "urn:samspill:problem:storage-unavailable"
	typeInternal         = "urn:samspill:problem:internal"
	typeUnauthorized     = "urn:samspill:problem:unauthorized"
	typeForbidden        = "urn:samspill:problem:forbidden"
	typeErased           = "urn:samspill:problem:erased"
)

// inputError is invalid input found by the HTTP layer itself (malformed
// JSON, bad headers or query parameters).
type inputError struct {
	status int // 400 or 413
	detail string
	fields []partnership.FieldError
}

func (e *inputError) Error() string { return e.detail }

func badRequest(detail string, fields ...partnership.FieldError) error {
	return &inputError{status: http.StatusBadRequest, detail: detail, fields: fields}
}

func fieldError(field, format string, args ...any) error {
	return badRequest("the request has invalid fields", partnership.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// problemFor maps every error a handler can meet to its problem. It is the
// one place where errors become HTTP statuses.
func problemFor(err error) Problem {
	var (
		input      *inputError
		validation *partnership.ValidationError
		rule       *partnership.RuleError
	)
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		return Problem{Type: typeUnauthorized, Title: "Unauthorized", Status: http.StatusUnauthorized, Detail: "send a valid token: Authorization: Bearer <token> (samspill token create)"}
	case errors.Is(err, auth.ErrForbidden):
		return Problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden, Detail: err.Error()}
	case errors.Is(err, personal.ErrErased):
		return Problem{Type: typeErased, Title: "Contact erased", Status: http.StatusConflict, Detail: "the contact's personal data has been erased; it can no longer be corrected"}
	case errors.Is(err, personal.ErrUnknownContact):
		return Problem{Type: typeNotFound, Title: "Contact not found", Status: http.StatusNotFound, Detail: "no contact person has this contact_id"}
	case errors.As(err, &input):
		if input.status == http.StatusRequestEntityTooLarge {
			return Problem{Type: typeTooLarge, Title: "Request body too large", Status: input.status, Detail: input.detail}
		}
		return Problem{Type: typeValidation, Title: "Invalid request", Status: input.status, Detail: input.detail, Errors: input.fields}
	case errors.As(err, &validation):
		return Problem{Type: typeValidation, Title: "Invalid request", Status: http.StatusBadRequest, Detail: "the request has invalid fields", Errors: validation.Fields}
	case errors.Is(err, partnership.ErrNotFound):
		return Problem{Type: typeNotFound, Title: "Partnership not found", Status: http.StatusNotFound, Detail: "no partnership with this id (under the requested as_of/known_at)"}
	case errors.As(err, &rule):
		return Problem{Type: typeRule, Title: "Command refused", Status: http.StatusConflict, Detail: rule.Error()}
	case errors.Is(err, app.ErrConflictRetriesExhausted):
		return Problem{Type: typeRule, Title: "Command refused", Status: http.StatusConflict, Detail: err.Error()}
	case errors.Is(err, app.ErrPreconditionFailed):
		return Problem{Type: typePrecondition, Title: "Precondition failed", Status: http.StatusPreconditionFailed, Detail: err.Error()}
	case errors.Is(err, app.ErrIdempotencyKeyReused):
		return Problem{Type: typeIdempotency, Title: "Idempotency key reused", Status: http.StatusUnprocessableEntity, Detail: "this Idempotency-Key was first used with a different request"}
	case errors.Is(err, projections.ErrBadCursor):
		return Problem{Type: typeValidation, Title: "Invalid request", Status: http.StatusBadRequest, Detail: "the request has invalid parameters",
			Errors: []partnership.FieldError{{Field: "cursor", Message: "is not a cursor of this list; pass next_cursor as given"}}}
	case errors.Is(err, kommune.ErrUnknown):
		// Only a path reaches here; query parameters report unknown codes
		// as field errors.
		return Problem{Type: typeNotFound, Title: "Municipality not found", Status: http.StatusNotFound, Detail: "no municipality has this kommunenummer in SSB classification 131 from 2017 to today"}
	case errors.Is(err, projections.ErrUnknownProjection):
		return Problem{Type: typeNotFound, Title: "Projection not found", Status: http.StatusNotFound, Detail: "no projection has this name; GET /api/v1/admin/projections lists them"}
	case errors.Is(err, projections.ErrRebuildRunning):
		return Problem{Type: typeRebuildRunning, Title: "Rebuild already running", Status: http.StatusConflict, Detail: "a rebuild of this projection is under way; GET /api/v1/admin/projections shows its progress"}
	case errors.Is(err, projections.ErrFailed):
		return Problem{Type: typeUnavailable, Title: "Projection failed", Status: http.StatusServiceUnavailable, Detail: "a projection this endpoint reads has failed (it stopped on an event it cannot apply); GET /api/v1/admin/projections shows why"}
	case errors.Is(err, projections.ErrNotCaughtUp):
		return Problem{Type: typeUnavailable, Title: "Not caught up", Status: http.StatusServiceUnavailable, Detail: "the read model has not reached min_position in time; retry"}
	case errors.Is(err, eventstore.ErrStorageFull):
		return Problem{Type: typeStorageFull, Title: "Storage unavailable", Status: http.StatusServiceUnavailable, Detail: storageFullDetail}
	case errors.Is(err, eventstore.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Problem{Type: typeUnavailable, Title: "Service unavailable", Status: http.StatusServiceUnavailable, Detail: "the server is shutting down or the request was cancelled"}
	}
	return Problem{Type: typeInternal, Title: "Internal server error", Status: http.StatusInternalServerError, Detail: "an unexpected error occurred; it has been logged"}
}

// storageFullDetail says what a write refused for lack of space means to
// the client.
const storageFullDetail = "the server has no space left to store data: nothing of this request was saved; send it again later (with the same Idempotency-Key it is applied once)"

// retryAfter is the Retry-After of a 503 answered with p, in seconds. Full
// storage waits for someone to free space, so its clients are asked to
// wait longer than those of a busy or restarting server.
func retryAfter(p Problem) string {
	if p.Type == typeStorageFull {
		return "30"
	}
	return "1"
}

// fail answers with the problem for err and logs server-side failures once.
func (s *Server) fail(c *gin.Context, err error) {
	p := problemFor(err)
	if p.Status >= 500 {
		s.log.ErrorContext(c.Request.Context(), "request failed", "method", c.Request.Method, "path", c.FullPath(), "request_id", edge.RequestID(c), "err", err)
	}
	switch p.Status {
	case http.StatusServiceUnavailable:
		c.Header("Retry-After", retryAfter(p))
	case http.StatusUnauthorized:
		writeUnauthorized(c)
	}
	writeProblem(c, p)
}

func writeProblem(c *gin.Context, p Problem) {
	c.Header("Content-Type", problemContentType)
	c.AbortWithStatusJSON(p.Status, p)
}
