// Package orgnr validates Norwegian organisasjonsnummer, the 9-digit numbers
// that Brønnøysundregistrene assigns to legal entities.
//
// The ninth digit is a mod-11 check digit over the first eight, computed with
// the weights 3 2 7 6 5 4 3 2. A Number can only be obtained from Parse, so a
// non-empty Number is always valid. The package holds no state and all
// functions are safe for concurrent use.
package orgnr

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrInvalid is wrapped by every error Parse returns; the wrapping error says
// why the input was rejected. Test with errors.Is.
var ErrInvalid = errors.New("invalid organisasjonsnummer")

// Reason says why Parse rejected an input, in a stable code that a reader's
// language can word (the Error text is English).
type Reason string

// The reasons Parse rejects an input.
const (
	// ReasonEmpty: nothing but white space.
	ReasonEmpty Reason = "empty"
	// ReasonNotText: not valid UTF-8.
	ReasonNotText Reason = "not_text"
	// ReasonCharacter: a character other than a digit or a space (Char).
	ReasonCharacter Reason = "character"
	// ReasonDoubleSpace: two spaces in a row.
	ReasonDoubleSpace Reason = "double_space"
	// ReasonDigitCount: not nine digits (Digits says how many).
	ReasonDigitCount Reason = "digit_count"
	// ReasonNoCheckDigit: no check digit exists for the first eight digits.
	ReasonNoCheckDigit Reason = "no_check_digit"
	// ReasonCheckDigit: the ninth digit is not the check digit: a typing
	// error (Got and Want are the digits).
	ReasonCheckDigit Reason = "check_digit"
)

// Error is the error Parse returns: the input, the reason and what the
// reason names. errors.Is(err, ErrInvalid) holds.
type Error struct {
	Input  string
	Reason Reason
	// Char is the character that is not allowed (ReasonCharacter).
	Char rune
	// Digits is how many digits the input has (ReasonDigitCount).
	Digits int
	// Got and Want are the check digit given and the one expected
	// (ReasonCheckDigit).
	Got, Want int
}

// Error says in English why the input was rejected, e.g.
// `organisasjonsnummer "123" must have 9 digits (has 3): invalid
// organisasjonsnummer`.
func (e *Error) Error() string {
	var why string
	switch e.Reason {
	case ReasonEmpty:
		why = "is empty"
	case ReasonNotText:
		why = "is not valid UTF-8 text"
	case ReasonCharacter:
		why = fmt.Sprintf("contains %q; only digits and single spaces are allowed", e.Char)
	case ReasonDoubleSpace:
		why = "has more than one space between digits"
	case ReasonDigitCount:
		why = fmt.Sprintf("must have 9 digits (has %d)", e.Digits)
	case ReasonNoCheckDigit:
		why = "cannot be valid: no check digit exists for its first eight digits"
	case ReasonCheckDigit:
		why = fmt.Sprintf("has wrong check digit %d (expected %d); check for a typing error", e.Got, e.Want)
	}
	return fmt.Sprintf("organisasjonsnummer %q %s: %v", e.Input, why, ErrInvalid)
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// Number is a valid 9-digit organisasjonsnummer in canonical form: nine ASCII
// digits, no spaces. The zero value "" is not a valid number; obtain values
// from Parse.
type Number string

// String returns the canonical 9-digit form.
func (n Number) String() string { return string(n) }

// weights are the mod-11 weights for the first eight digits.
var weights = [8]int{3, 2, 7, 6, 5, 4, 3, 2}

// CheckDigit computes the mod-11 check digit for first8, which must be exactly
// eight ASCII digits. With r the weighted sum modulo 11, the digit is 0 when
// r = 0 and 11 − r otherwise. ok is false when first8 is not eight digits or
// when 11 − r = 10: no organisasjonsnummer starts with those eight digits.
func CheckDigit(first8 string) (digit int, ok bool) {
	if len(first8) != 8 {
		return 0, false
	}
	sum := 0
	for i := range 8 {
		c := first8[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		sum += int(c-'0') * weights[i]
	}
	r := sum % 11
	switch {
	case r == 0:
		return 0, true
	case r == 1: // 11 − r = 10 is not a digit
		return 0, false
	default:
		return 11 - r, true
	}
}

// Parse validates s and returns it as a Number in canonical form. s must hold
// nine digits, optionally grouped with single spaces ("974 760 673");
// surrounding white space is ignored. Every error wraps ErrInvalid and names
// the reason: empty input, invalid UTF-8, a character other than a digit or space, a double
// space, the wrong number of digits, or a wrong check digit; it is an *Error
// whose Reason says which.
func Parse(s string) (Number, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", &Error{Input: s, Reason: ReasonEmpty}
	}
	if !utf8.ValidString(t) {
		return "", &Error{Input: s, Reason: ReasonNotText}
	}
	var digits [9]byte
	n := 0
	space := false // the previous character was a space
	for _, r := range t {
		switch {
		case r >= '0' && r <= '9':
			if n < len(digits) {
				digits[n] = byte(r)
			}
			n++
			space = false
		case r == ' ':
			if space {
				return "", &Error{Input: s, Reason: ReasonDoubleSpace}
			}
			space = true
		default:
			return "", &Error{Input: s, Reason: ReasonCharacter, Char: r}
		}
	}
	if n != len(digits) {
		return "", &Error{Input: s, Reason: ReasonDigitCount, Digits: n}
	}
	want, ok := CheckDigit(string(digits[:8]))
	if !ok {
		return "", &Error{Input: s, Reason: ReasonNoCheckDigit}
	}
	if got := int(digits[8] - '0'); got != want {
		return "", &Error{Input: s, Reason: ReasonCheckDigit, Got: got, Want: want}
	}
	return Number(digits[:]), nil
}
