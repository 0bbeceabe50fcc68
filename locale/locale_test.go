package locale_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/pelletier/go-toml/v2"

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

// TestDecimal: decimals with the language's separator and grouping.
func TestDecimal(t *testing.T) {
	for lang, want := range map[locale.Lang][]string{
		locale.Bokmal:  {"0,833", "1\u00a0234,5", "1,000"},
		locale.Nynorsk: {"0,833", "1\u00a0234,5", "1,000"},
		locale.English: {"0.833", "1,234.5", "1.000"},
	} {
		l := locale.For(lang)
		if got := []string{l.Decimal(0.8333333, 3), l.Decimal(1234.5, 1), l.Decimal(1, 3)}; !slices.Equal(got, want) {
			t.Errorf("%s: %q, want %q", lang, got, want)
		}
	}
}

// BenchmarkShortDate is a timeline marker's date.
func BenchmarkShortDate(b *testing.B) {
	l := locale.For(locale.Bokmal)
	at := time.Date(2026, 12, 7, 13, 5, 0, 0, time.UTC)
	buf := make([]byte, 0, 16)
	for b.Loop() {
		buf = l.AppendShortDate(buf[:0], at)
	}
}

// BenchmarkLabel is a label asked for again (a cached message).
func BenchmarkLabel(b *testing.B) {
	l := locale.For(locale.Nynorsk)
	for b.Loop() {
		_ = l.T("format.month_12")
	}
}

func TestPattern(t *testing.T) {
	l := locale.For(locale.Bokmal)
	p := l.Pattern("format.date_time", "Date", "Time")
	if got, want := p.Fill("7. desember 2026", "kl. 14.05"), l.T("format.date_time", "Date", "7. desember 2026", "Time", "kl. 14.05"); got != want {
		t.Errorf("Fill = %q, want %q", got, want)
	}
	if len(p.Parts) != 3 || p.Parts[0].Value != 0 || p.Parts[1].Value != -1 || p.Parts[2].Value != 1 {
		t.Errorf("parts %+v", p.Parts)
	}
}

// sameWords are the words that bokmål, nynorsk and English write alike;
// a Norwegian message may equal its English one only in these.
var sameWords = map[string]bool{"Partner": true, "Status": true, "administrator": true, "Median": true}

// TestNorwegianIsTranslated fails when a bokmål or nynorsk message is its
// English message (left untranslated), unless it holds no words but
// template values and sameWords.
func TestNorwegianIsTranslated(t *testing.T) {
	read := func(lang locale.Lang) map[string]string {
		files, err := filepath.Glob("messages/*." + string(lang) + ".toml")
		if err != nil || len(files) == 0 {
			t.Fatalf("catalogues of %s: %v", lang, err)
		}
		out := map[string]string{}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			if err := toml.Unmarshal(data, &m); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for id, v := range m {
				switch v := v.(type) {
				case string:
					out[id] = v
				case map[string]any:
					out[id] = fmt.Sprint(v["other"])
				}
			}
		}
		return out
	}
	actions := regexp.MustCompile(`\{\{[^}]*\}\}`)
	words := regexp.MustCompile(`\pL+`)
	en := read(locale.English)
	for _, l := range []locale.Lang{locale.Bokmal, locale.Nynorsk} {
		for id, text := range read(l) {
			if text != en[id] {
				continue
			}
			for _, w := range words.FindAllString(actions.ReplaceAllString(text, " "), -1) {
				if !sameWords[w] {
					t.Errorf("%s: %q is the English text; translate it (or add %q to sameWords if %s writes it alike)", id, text, w, l)
					break
				}
			}
		}
	}
}
