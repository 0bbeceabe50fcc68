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
// space, the wrong number of digits, or a wrong check digit.
func Parse(s string) (Number, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return "", invalid(s, "is empty")
	}
	if !utf8.ValidString(t) {
		return "", invalid(s, "is not valid UTF-8 text")
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
				return "", invalid(s, "has more than one space between digits")
			}
			space = true
		default:
			return "", invalid(s, fmt.Sprintf("contains %q; only digits and single spaces are allowed", r))
		}
	}
	if n != len(digits) {
		return "", invalid(s, fmt.Sprintf("must have 9 digits (has %d)", n))
	}
	want, ok := CheckDigit(string(digits[:8]))
	if !ok {
		return "", invalid(s, "cannot be valid: no check digit exists for its first eight digits")
	}
	if got := int(digits[8] - '0'); got != want {
		return "", invalid(s, fmt.Sprintf("has wrong check digit %d (expected %d); check for a typing error", got, want))
	}
	return Number(digits[:]), nil
}

// invalid wraps ErrInvalid with the input and the reason it was rejected.
func invalid(s, reason string) error {
	return fmt.Errorf("organisasjonsnummer %q %s: %w", s, reason, ErrInvalid)
}
