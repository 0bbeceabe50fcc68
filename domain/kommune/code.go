package kommune

import (
	"fmt"
	"time"
)

// Code is a 4-digit kommunenummer known to classification 131: a municipality
// valid at some time from 2017 to today. Codes from Parse and ParseValidOn, and
// the codes in Municipality, Change and NotValidOnError values from this
// package, are always known. The methods accept any Code; for a string that is
// not a known code they report "not valid" and return "".
type Code string

// Parse checks that s is exactly four ASCII digits (ErrMalformed otherwise;
// surrounding space is not trimmed) and that it names a municipality valid at
// some time from 2017 to today (ErrUnknown otherwise, also for 9999
// "Uoppgitt"). The returned error wraps the sentinel and quotes s.
func Parse(s string) (Code, error) {
	if !isDigits(s, 4) {
		return "", fmt.Errorf("kommunenummer %q must be exactly 4 digits: %w", s, ErrMalformed)
	}
	c := Code(s)
	if tab.entries[c] == nil {
		if s == "9999" {
			return "", fmt.Errorf("kommunenummer \"9999\" means Uoppgitt (unspecified) and is not a municipality: %w", ErrUnknown)
		}
		return "", fmt.Errorf("kommunenummer %q is not a municipality in SSB classification 131 from 2017 to today: %w", s, ErrUnknown)
	}
	return c, nil
}

// ParseValidOn is Parse followed by a check that the code was valid on the
// calendar date of on in Europe/Oslo. If it was not, the error is a
// *NotValidOnError (errors.Is(err, ErrNotValidOnDate) holds) that tells when
// the code was valid and which code succeeds it today.
func ParseValidOn(s string, on time.Time) (Code, error) {
	c, err := Parse(s)
	if err != nil {
		return "", err
	}
	e := tab.entries[c]
	d := dayOf(on)
	if e.validOn(d) {
		return c, nil
	}
	iv := e.nearest(d)
	return "", &NotValidOnError{
		Code:       c,
		Date:       midnight(on),
		ValidFrom:  iv.from.time(),
		ValidUntil: iv.until.time(),
		Successor:  e.current,
	}
}

// ValidOn reports whether c was a valid municipality code on the calendar date
// of on in Europe/Oslo. It is false for codes that are not known.
func (c Code) ValidOn(on time.Time) bool {
	e := tab.entries[c]
	return e != nil && e.validOn(dayOf(on))
}

// Current returns the code that succeeds c today: c itself if c is valid
// today, otherwise the end of its chain of changes (1702 → 5004 → 5006), with
// splits resolved as the package documentation describes. It returns "" if c
// is not known.
func (c Code) Current() Code {
	if e := tab.entries[c]; e != nil {
		return e.current
	}
	return ""
}

// Name returns the newest name SSB gives for c: the 2024 name for a current
// code, otherwise the name it had when it last stopped being valid. It
// returns "" if c is not known.
func (c Code) Name() string {
	if e := tab.entries[c]; e != nil {
		return e.name
	}
	return ""
}

// isDigits reports whether s is exactly n ASCII digits.
func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
