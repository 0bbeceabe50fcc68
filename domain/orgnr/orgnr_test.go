package orgnr_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/samspill/samspill/domain/orgnr"
)

// validVectors are real, valid organisasjonsnummer (see PITFALLS.md).
var validVectors = []string{
	"974760673",
	"123456785",
	"974683520", // weighted sum divisible by 11: check digit 0
	"889640782",
	"983887457",
	"864139442",
}

func TestParseValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want orgnr.Number
	}{
		{"974760673", "974760673"},
		{"123456785", "123456785"},
		{"974683520", "974683520"},
		{"889640782", "889640782"},
		{"983887457", "983887457"},
		{"864139442", "864139442"},
		{"974 760 673", "974760673"},
		{"  974760673\n", "974760673"},
		{"\t974 760 673 ", "974760673"},
		{"9 7 4 7 6 0 6 7 3", "974760673"},
		{"97476 0673", "974760673"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := orgnr.Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got != tt.want || got.String() != string(tt.want) {
				t.Fatalf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		reason   string // must appear in the error text
		code     orgnr.Reason
	}{
		{"wrong check digit", "123456786", "wrong check digit 6 (expected 5)", orgnr.ReasonCheckDigit},
		{"wrong check digit 2", "864139443", "wrong check digit 3 (expected 2)", orgnr.ReasonCheckDigit},
		{"no check digit exists", "123456700", "no check digit exists", orgnr.ReasonNoCheckDigit},
		{"empty", "", "is empty", orgnr.ReasonEmpty},
		{"blank", "   ", "is empty", orgnr.ReasonEmpty},
		{"too short", "123", `"123" must have 9 digits (has 3)`, orgnr.ReasonDigitCount},
		{"eight digits", "97476067", "must have 9 digits (has 8)", orgnr.ReasonDigitCount},
		{"ten digits", "9747606730", "must have 9 digits (has 10)", orgnr.ReasonDigitCount},
		{"letter", "12345678x", `contains 'x'`, orgnr.ReasonCharacter},
		{"hyphen", "974-760-673", `contains '-'`, orgnr.ReasonCharacter},
		{"dot", "974.760.673", `contains '.'`, orgnr.ReasonCharacter},
		{"inner tab", "974\t760673", `contains '\t'`, orgnr.ReasonCharacter},
		{"double space", "974  760 673", "more than one space", orgnr.ReasonDoubleSpace},
		{"arabic-indic digit", "97476067٣", `contains '٣'`, orgnr.ReasonCharacter},
		{"fullwidth digit", "97476067３", `contains '３'`, orgnr.ReasonCharacter},
		{"sign", "+974760673", `contains '+'`, orgnr.ReasonCharacter},
		{"invalid utf-8", "97476067\xff", "not valid UTF-8", orgnr.ReasonNotText},
		{"replacement character", "97476067\ufffd", "contains '\ufffd'", orgnr.ReasonCharacter},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := orgnr.Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %q, want error", tt.in, got)
			}
			if got != "" {
				t.Errorf("Parse(%q) returned %q with the error, want \"\"", tt.in, got)
			}
			if !errors.Is(err, orgnr.ErrInvalid) {
				t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", tt.in, err)
			}
			var e *orgnr.Error
			if !errors.As(err, &e) || e.Reason != tt.code || e.Input != tt.in {
				t.Errorf("Parse(%q) error %#v, want an *orgnr.Error with reason %s", tt.in, err, tt.code)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.reason) {
				t.Errorf("Parse(%q) error %q does not say %q", tt.in, msg, tt.reason)
			}
			if !strings.HasSuffix(msg, ": invalid organisasjonsnummer") || !strings.HasPrefix(msg, "organisasjonsnummer ") {
				t.Errorf("Parse(%q) error %q is not of the form `organisasjonsnummer ...: invalid organisasjonsnummer`", tt.in, msg)
			}
		})
	}
}

func TestParseErrorText(t *testing.T) {
	t.Parallel()
	_, err := orgnr.Parse("123")
	const want = `organisasjonsnummer "123" must have 9 digits (has 3): invalid organisasjonsnummer`
	if err == nil || err.Error() != want {
		t.Fatalf("Parse(\"123\") error = %v, want %s", err, want)
	}
}

func TestCheckDigit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		first8 string
		digit  int
		ok     bool
	}{
		{"97476067", 3, true},
		{"12345678", 5, true},
		{"97468352", 0, true}, // r = 0
		{"88964078", 2, true},
		{"98388745", 7, true},
		{"86413944", 2, true},
		{"12345670", 0, false}, // r = 1, 11 − r = 10
		{"00000300", 0, false}, // r = 1
		{"00000000", 0, true},
		{"1234567", 0, false},
		{"123456789", 0, false},
		{"1234567a", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		digit, ok := orgnr.CheckDigit(tt.first8)
		if digit != tt.digit || ok != tt.ok {
			t.Errorf("CheckDigit(%q) = %d, %v; want %d, %v", tt.first8, digit, ok, tt.digit, tt.ok)
		}
	}
}

// TestCheckDigitAgreesWithVectors ties CheckDigit to the published vectors.
func TestCheckDigitAgreesWithVectors(t *testing.T) {
	t.Parallel()
	for _, v := range validVectors {
		digit, ok := orgnr.CheckDigit(v[:8])
		if !ok || strconv.Itoa(digit) != v[8:] {
			t.Errorf("CheckDigit(%q) = %d, %v; vector %s ends in %s", v[:8], digit, ok, v, v[8:])
		}
	}
}

// TestNoCheckDigitRejectsEveryLastDigit: when 11 − r = 10 no last digit helps.
func TestNoCheckDigitRejectsEveryLastDigit(t *testing.T) {
	t.Parallel()
	for _, first8 := range []string{"12345670", "00000300"} {
		if _, ok := orgnr.CheckDigit(first8); ok {
			t.Fatalf("CheckDigit(%q) ok, want the 11 − r = 10 case", first8)
		}
		for d := range 10 {
			s := first8 + strconv.Itoa(d)
			if n, err := orgnr.Parse(s); err == nil {
				t.Errorf("Parse(%q) = %q, want error", s, n)
			} else if !errors.Is(err, orgnr.ErrInvalid) {
				t.Errorf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
		}
	}
}

// TestExactlyOneCheckDigit: for any eight digits with a check digit, exactly
// one of the ten possible last digits is accepted.
func TestExactlyOneCheckDigit(t *testing.T) {
	t.Parallel()
	for _, first8 := range []string{"97476067", "12345678", "97468352", "00000001", "99999999"} {
		accepted := 0
		for d := range 10 {
			if _, err := orgnr.Parse(first8 + strconv.Itoa(d)); err == nil {
				accepted++
			}
		}
		if accepted != 1 {
			t.Errorf("%s: %d last digits accepted, want 1", first8, accepted)
		}
	}
}
