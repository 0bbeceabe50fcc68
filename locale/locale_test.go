package locale_test

import (
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/locale"
)

// TestEveryMessageExistsInEveryLanguage fails when a message id is in one
// language's catalogues and not in another's.
func TestEveryMessageExistsInEveryLanguage(t *testing.T) {
	ids := map[locale.Lang][]string{}
	for _, l := range locale.Langs {
		list, err := locale.IDs(l)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) == 0 {
			t.Fatalf("%s has no messages", l)
		}
		ids[l] = list
	}
	for _, a := range locale.Langs {
		for _, b := range locale.Langs {
			for _, id := range ids[a] {
				if _, found := slices.BinarySearch(ids[b], id); !found {
					t.Errorf("message %q is in %s but not in %s", id, a, b)
				}
			}
		}
	}
}

func TestNegotiate(t *testing.T) {
	for header, want := range map[string]locale.Lang{
		"":                                locale.Bokmal,
		"nb-NO,nb;q=0.9,en;q=0.8":         locale.Bokmal,
		"no":                              locale.Bokmal,
		"nn-NO,nn;q=0.9,nb;q=0.8":         locale.Nynorsk,
		"nn":                              locale.Nynorsk,
		"en-GB,en;q=0.9":                  locale.English,
		"de-DE,de;q=0.9":                  locale.Bokmal,
		"sv-SE,sv;q=0.9,en;q=0.5":         locale.English,
		"this is not a language header!!": locale.Bokmal,
	} {
		if got := locale.Negotiate(header); got != want {
			t.Errorf("Negotiate(%q) = %s, want %s", header, got, want)
		}
	}
}

func TestFormats(t *testing.T) {
	// 2026-12-07 13:05 UTC is 14:05 in Oslo; 22:30 UTC on 31 Dec is 1 Jan.
	at := time.Date(2026, 12, 7, 13, 5, 0, 0, time.UTC)
	newYear := time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		lang                   locale.Lang
		long, short, dt, newYr string
		kroner                 string
	}{
		{locale.Bokmal, "7. desember 2026", "07.12.2026", "7. desember 2026 kl. 14.05", "1. januar 2027", "290\u00a0000 kr"},
		{locale.Nynorsk, "7. desember 2026", "07.12.2026", "7. desember 2026 kl. 14.05", "1. januar 2027", "290\u00a0000 kr"},
		{locale.English, "7 December 2026", "07/12/2026", "7 December 2026, 14:05", "1 January 2027", "NOK 290,000"},
	} {
		l := locale.For(c.lang)
		got := []string{l.Date(at), l.ShortDate(at), l.DateTime(at), l.Date(newYear), l.Kroner(290000)}
		want := []string{c.long, c.short, c.dt, c.newYr, c.kroner}
		if !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", c.lang, got, want)
		}
	}
}
