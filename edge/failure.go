package edge

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/projections"
)

// Kind names what an error means to a client, the same through the API and
// the pages. It is the last part of the API's problem type
// (urn:samspill:problem:<kind>, docs/api.md, Errors); the pages word each
// kind for people.
type Kind string

// The kinds of failure.
const (
	KindValidation       Kind = "validation"
	KindTooLarge         Kind = "body-too-large"
	KindUnauthorized     Kind = "unauthorized"
	KindForbidden        Kind = "forbidden"
	KindNotFound         Kind = "not-found"
	KindMethodNotAllowed Kind = "method-not-allowed"
	KindRule             Kind = "rule-refused"
	KindErased           Kind = "erased"
	KindRebuildRunning   Kind = "rebuild-running"
	KindPrecondition     Kind = "precondition-failed"
	KindIdempotency      Kind = "idempotency-key-reused"
	KindUnavailable      Kind = "unavailable"
	KindStorageFull      Kind = "storage-unavailable"
	KindInternal         Kind = "internal"
)

// Failure is what a front door tells a client about an error: its kind,
// the HTTP status, a short title and a detail safe to show (never an
// internal cause), the invalid fields of a validation, and how long a
// client should wait before it retries a 503.
type Failure struct {
	Kind       Kind
	Status     int
	Title      string
	Detail     string
	Fields     []partnership.FieldError
	RetryAfter time.Duration
}

// Retry waits: full storage waits for someone to free space, so its
// clients are asked to wait longer than those of a busy or restarting
// server.
const (
	retryBusy        = time.Second
	retryStorageFull = 30 * time.Second
)

// StorageFullDetail says what a write refused for lack of space means.
const StorageFullDetail = "the server has no space left to store data: nothing of this request was saved; send it again later (with the same Idempotency-Key it is applied once)"

// InputError is input found invalid at the edge itself, before the domain
// sees it: malformed JSON, a bad header, query parameter or form field.
type InputError struct {
	// Status is 400, or 413 for a body too large.
	Status int
	Detail string
	Fields []partnership.FieldError
}

func (e *InputError) Error() string { return e.Detail }

// BadRequest is a 400 InputError.
func BadRequest(detail string, fields ...partnership.FieldError) error {
	return &InputError{Status: http.StatusBadRequest, Detail: detail, Fields: fields}
}

// FieldError is a 400 InputError naming one invalid field.
func FieldError(field, format string, args ...any) error {
	return BadRequest("the request has invalid fields", partnership.FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// TooLarge is a 413 InputError.
func TooLarge(detail string) error {
	return &InputError{Status: http.StatusRequestEntityTooLarge, Detail: detail}
}

// Classify maps every error a request can meet to its Failure: the one
// place where errors become statuses, for both front doors. An error it
// does not know is an internal failure, whose cause the caller logs.
func Classify(err error) Failure {
	var (
		input      *InputError
		validation *partnership.ValidationError
		rule       *partnership.RuleError
	)
	switch {
	case errors.Is(err, auth.ErrUnauthenticated):
		return Failure{Kind: KindUnauthorized, Status: http.StatusUnauthorized, Title: "Unauthorized", Detail: "send a valid token: Authorization: Bearer <token> (samspill token create)"}
	case errors.Is(err, auth.ErrForbidden):
		return Failure{Kind: KindForbidden, Status: http.StatusForbidden, Title: "Forbidden", Detail: err.Error()}
	// Who may do what (auth.UserStore): the admin API's and pages'. An
	// erased user's error is also personal.ErrErased (its sealed data),
	// so it comes first.
	case errors.Is(err, auth.ErrUserErased):
		return Failure{Kind: KindRule, Status: http.StatusConflict, Title: "Command refused", Detail: "the user's personal data has been erased; it can no longer be changed"}
	case errors.Is(err, auth.ErrUserNotFound):
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "User not found", Detail: "no user has this id"}
	case errors.Is(err, auth.ErrTokenNotFound):
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "Token not found", Detail: "no token has this name"}
	case errors.Is(err, auth.ErrSessionNotFound):
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "Session not found", Detail: "no live session has this handle"}
	case errors.Is(err, auth.ErrInvalidSpec):
		return Failure{Kind: KindValidation, Status: http.StatusBadRequest, Title: "Invalid request", Detail: err.Error()}
	case errors.Is(err, auth.ErrTokenExists):
		return Failure{Kind: KindRule, Status: http.StatusConflict, Title: "Command refused", Detail: "a token of that name already exists"}
	// Research projects (auth.ProjectStore).
	case errors.Is(err, auth.ErrProjectNotFound):
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "Research project not found", Detail: "no research project has this id"}
	case errors.Is(err, auth.ErrNotMember):
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "Member not found", Detail: err.Error()}
	case errors.Is(err, auth.ErrProjectExists):
		return Failure{Kind: KindRule, Status: http.StatusConflict, Title: "Command refused", Detail: "a research project with that id already exists"}
	case errors.Is(err, auth.ErrInvalidProject), errors.Is(err, auth.ErrInvalidMember), errors.Is(err, auth.ErrInvalidRecipient):
		return Failure{Kind: KindValidation, Status: http.StatusBadRequest, Title: "Invalid request", Detail: err.Error()}
	case errors.Is(err, personal.ErrErased):
		return Failure{Kind: KindErased, Status: http.StatusConflict, Title: "Contact erased", Detail: "the contact's personal data has been erased; it can no longer be corrected"}
	case errors.Is(err, personal.ErrUnknownContact):
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "Contact not found", Detail: "no contact person has this contact_id"}
	case errors.As(err, &input):
		if input.Status == http.StatusRequestEntityTooLarge {
			return Failure{Kind: KindTooLarge, Status: input.Status, Title: "Request body too large", Detail: input.Detail}
		}
		return Failure{Kind: KindValidation, Status: input.Status, Title: "Invalid request", Detail: input.Detail, Fields: input.Fields}
	case errors.As(err, &validation):
		return Failure{Kind: KindValidation, Status: http.StatusBadRequest, Title: "Invalid request", Detail: "the request has invalid fields", Fields: validation.Fields}
	case errors.Is(err, partnership.ErrNotFound):
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "Partnership not found", Detail: "no partnership with this id (under the requested as_of/known_at)"}
	case errors.As(err, &rule):
		return Failure{Kind: KindRule, Status: http.StatusConflict, Title: "Command refused", Detail: rule.Error()}
	case errors.Is(err, app.ErrConflictRetriesExhausted):
		return Failure{Kind: KindRule, Status: http.StatusConflict, Title: "Command refused", Detail: err.Error()}
	case errors.Is(err, app.ErrPreconditionFailed):
		return Failure{Kind: KindPrecondition, Status: http.StatusPreconditionFailed, Title: "Precondition failed", Detail: err.Error()}
	case errors.Is(err, app.ErrIdempotencyKeyReused):
		return Failure{Kind: KindIdempotency, Status: http.StatusUnprocessableEntity, Title: "Idempotency key reused", Detail: "this Idempotency-Key was first used with a different request"}
	case errors.Is(err, projections.ErrBadCursor):
		return Failure{Kind: KindValidation, Status: http.StatusBadRequest, Title: "Invalid request", Detail: "the request has invalid parameters",
			Fields: []partnership.FieldError{{Field: "cursor", Message: "is not a cursor of this list in this sort; pass next_cursor or prev_cursor as given"}}}
	case errors.Is(err, kommune.ErrUnknown):
		// Only a path reaches here; query parameters report unknown codes
		// as field errors.
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "Municipality not found", Detail: "no municipality has this kommunenummer in SSB classification 131 from 2017 to today"}
	case errors.Is(err, projections.ErrUnknownProjection):
		return Failure{Kind: KindNotFound, Status: http.StatusNotFound, Title: "Projection not found", Detail: "no projection has this name; GET /api/v1/admin/projections lists them"}
	case errors.Is(err, projections.ErrRebuildRunning):
		return Failure{Kind: KindRebuildRunning, Status: http.StatusConflict, Title: "Rebuild already running", Detail: "a rebuild of this projection is under way; GET /api/v1/admin/projections shows its progress"}
	case errors.Is(err, projections.ErrFailed):
		return Failure{Kind: KindUnavailable, Status: http.StatusServiceUnavailable, RetryAfter: retryBusy, Title: "Projection failed", Detail: "a projection this endpoint reads has failed (it stopped on an event it cannot apply); GET /api/v1/admin/projections shows why"}
	case errors.Is(err, projections.ErrNotCaughtUp):
		return Failure{Kind: KindUnavailable, Status: http.StatusServiceUnavailable, RetryAfter: retryBusy, Title: "Not caught up", Detail: "the read model has not reached min_position in time; retry"}
	case errors.Is(err, eventstore.ErrStorageFull):
		return Failure{Kind: KindStorageFull, Status: http.StatusServiceUnavailable, RetryAfter: retryStorageFull, Title: "Storage unavailable", Detail: StorageFullDetail}
	case errors.Is(err, eventstore.ErrClosed), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Failure{Kind: KindUnavailable, Status: http.StatusServiceUnavailable, RetryAfter: retryBusy, Title: "Service unavailable", Detail: "the server is shutting down or the request was cancelled"}
	}
	return Failure{Kind: KindInternal, Status: http.StatusInternalServerError, Title: "Internal server error", Detail: "an unexpected error occurred; it has been logged"}
}
