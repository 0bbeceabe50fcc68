package partnership

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors for states that refuse a command. Each is wrapped in a
// *RuleError that says why; test with errors.Is.
var (
	// ErrNotFound means the partnership does not exist (under the requested
	// view, for as-of and as-known-at reads).
	ErrNotFound = errors.New("partnership not found")
	// ErrEnded means the partnership has ended; only corrections remain.
	ErrEnded = errors.New("partnership has ended")
	// ErrAlreadyInitiated means the stream already holds an initiation.
	ErrAlreadyInitiated = errors.New("partnership already initiated")
	// ErrNotActive means the command needs an active partnership.
	ErrNotActive = errors.New("partnership is not active")
	// ErrNotPaused means resume was asked of a partnership that is not paused.
	ErrNotPaused = errors.New("partnership is not paused")
	// ErrPartnerAlreadyActive means the partner (same id or org number) is
	// already active in the partnership.
	ErrPartnerAlreadyActive = errors.New("partner already active")
	// ErrPartnerNotActive means the command names a partner that is not
	// active in the partnership.
	ErrPartnerNotActive = errors.New("partner not active")
	// ErrLastExternalPartner means the command would leave no partner outside
	// the municipality; the partnership must be ended instead.
	ErrLastExternalPartner = errors.New("last non-municipal partner cannot leave")
	// ErrGoalsUnchanged means a goal change repeats the current goals.
	ErrGoalsUnchanged = errors.New("goals unchanged")
	// ErrAnchoringUnchanged means an anchoring change repeats the current level.
	ErrAnchoringUnchanged = errors.New("anchoring level unchanged")
	// ErrUnknownEntry means a correction points at no earlier event of the
	// partnership, or at a correction.
	ErrUnknownEntry = errors.New("no such entry to correct")
	// ErrInvalidHistory means the command would make the history invalid
	// when replayed in the order things occurred.
	ErrInvalidHistory = errors.New("history would become invalid")
)

// RuleError is a domain rule refusing a command. It wraps one of the
// sentinel errors above and adds the detail a user needs.
type RuleError struct {
	Err    error
	Detail string
}

func (e *RuleError) Error() string {
	if e.Detail == "" {
		return e.Err.Error()
	}
	return e.Err.Error() + ": " + e.Detail
}

// Unwrap returns the sentinel.
func (e *RuleError) Unwrap() error { return e.Err }

func refuse(err error, format string, args ...any) error {
	return &RuleError{Err: err, Detail: fmt.Sprintf(format, args...)}
}

// FieldError is one invalid input field. Field is a JSON path such as
// "partners[1].org_no".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// ValidationError lists every invalid field of a command. It is returned
// before any rule is checked.
type ValidationError struct {
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// fieldErrors collects field errors under a path prefix.
type fieldErrors struct {
	prefix string
	list   *[]FieldError
}

func newFieldErrors() fieldErrors { return fieldErrors{list: new([]FieldError)} }

// at returns a collector for a nested object or array element.
func (f fieldErrors) at(name string) fieldErrors {
	return fieldErrors{prefix: f.path(name), list: f.list}
}

func (f fieldErrors) path(name string) string {
	switch {
	case f.prefix == "":
		return name
	case strings.HasPrefix(name, "["):
		return f.prefix + name
	default:
		return f.prefix + "." + name
	}
}

func (f fieldErrors) add(name, format string, args ...any) {
	*f.list = append(*f.list, FieldError{Field: f.path(name), Message: fmt.Sprintf(format, args...)})
}

func (f fieldErrors) err() error {
	if len(*f.list) == 0 {
		return nil
	}
	return &ValidationError{Fields: *f.list}
}
