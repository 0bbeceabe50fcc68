package orgnr_test

import (
	"errors"
	"testing"

	"github.com/samspill/samspill/domain/orgnr"
)

func FuzzParse(f *testing.F) {
	for _, v := range validVectors {
		f.Add(v)
	}
	for _, s := range []string{
		"123456786", "864139443", "123456700", "974 760 673", " 974760673 ",
		"974  760 673", "12345678x", "123", "", "9747606730", "97476067٣",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := orgnr.Parse(s)
		if err != nil {
			if !errors.Is(err, orgnr.ErrInvalid) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalid", s, err)
			}
			if n != "" {
				t.Fatalf("Parse(%q) returned %q with an error", s, n)
			}
			return
		}
		if len(n) != 9 {
			t.Fatalf("Parse(%q) = %q, not 9 characters", s, n)
		}
		for i := range len(n) {
			if n[i] < '0' || n[i] > '9' {
				t.Fatalf("Parse(%q) = %q, not all digits", s, n)
			}
		}
		again, err := orgnr.Parse(n.String())
		if err != nil || again != n {
			t.Fatalf("Parse(%q) = %q, %v; want round trip of %q", n, again, err, n)
		}
		digit, ok := orgnr.CheckDigit(string(n[:8]))
		if !ok || digit != int(n[8]-'0') {
			t.Fatalf("Parse(%q) = %q but CheckDigit(%q) = %d, %v", s, n, n[:8], digit, ok)
		}
	})
}
