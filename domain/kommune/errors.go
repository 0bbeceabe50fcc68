package kommune

import (
	"errors"
	"strings"
	"time"
)

// Sentinel errors. Parse and ParseValidOn wrap them with the rejected input;
// test with errors.Is.
var (
	// ErrMalformed means the input is not exactly four ASCII digits (no
	// surrounding space, sign or other characters are accepted).
	ErrMalformed = errors.New("malformed kommunenummer")
	// ErrUnknown means the input is four digits but names no municipality in
	// classification 131 from 2017 to today. 9999 "Uoppgitt" (unspecified) is
	// unknown too: it is not a municipality.
	ErrUnknown = errors.New("unknown kommunenummer")
	// ErrNotValidOnDate means the code names a municipality, but not on the
	// date asked about. ParseValidOn returns it as a *NotValidOnError.
	ErrNotValidOnDate = errors.New("kommunenummer not valid on that date")
)

// NotValidOnError reports a known code that was not valid on a date. All
// dates are midnight in Europe/Oslo. errors.Is(err, ErrNotValidOnDate) holds.
type NotValidOnError struct {
	// Code is the code that was asked about.
	Code Code
	// Date is the calendar date asked about.
	Date time.Time
	// ValidFrom is the first day of the validity period nearest Date; zero if
	// the code has been valid since before 2017.
	ValidFrom time.Time
	// ValidUntil is the first day after that period on which the code is no
	// longer valid; zero if the code is still valid.
	ValidUntil time.Time
	// Successor is the code that succeeds Code today (see Code.Current); equal
	// to Code if Code is valid today.
	Successor Code
}

// Error says which code was not valid when, when it was valid, and which code
// succeeds it today, e.g. "kommunenummer 1702 was not valid on 2020-03-01
// (valid until 2018-01-01; today 5006)".
func (e *NotValidOnError) Error() string {
	var b strings.Builder
	b.WriteString("kommunenummer ")
	b.WriteString(string(e.Code))
	b.WriteString(" was not valid on ")
	b.WriteString(e.Date.Format(time.DateOnly))
	var details []string
	var span []string
	if !e.ValidFrom.IsZero() {
		span = append(span, "valid from "+e.ValidFrom.Format(time.DateOnly))
	}
	if !e.ValidUntil.IsZero() {
		if len(span) == 0 {
			span = append(span, "valid")
		}
		span = append(span, "until "+e.ValidUntil.Format(time.DateOnly))
	}
	if len(span) > 0 {
		details = append(details, strings.Join(span, " "))
	}
	if e.Successor != "" && e.Successor != e.Code {
		details = append(details, "today "+string(e.Successor))
	}
	if len(details) > 0 {
		b.WriteString(" (")
		b.WriteString(strings.Join(details, "; "))
		b.WriteString(")")
	}
	return b.String()
}

// Is reports whether target is ErrNotValidOnDate.
func (e *NotValidOnError) Is(target error) bool { return target == ErrNotValidOnDate }
