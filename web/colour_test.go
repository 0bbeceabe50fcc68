package web

import (
	"math"
	"strconv"
	"testing"
)

// luminance is the WCAG 2.x relative luminance of #rrggbb.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	v, err := strconv.ParseUint(hex[1:], 16, 32)
	if err != nil || len(hex) != 7 {
		t.Fatalf("colour %q", hex)
	}
	ch := func(c uint64) float64 {
		s := float64(c) / 255
		if s <= 0.03928 {
			return s / 12.92
		}
		return math.Pow((s+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(v>>16&0xff) + 0.7152*ch(v>>8&0xff) + 0.0722*ch(v&0xff)
}

func contrast(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05)
}

// TestColourContrast checks WCAG AA: marker and rule colours at least 3:1
// against the white page and the light bar fill (non-text contrast, 1.4.11),
// text colours at least 4.5:1 on their backgrounds (1.4.3). Shapes differ
// by event type as well, so colour is never the only signal.
func TestColourContrast(t *testing.T) {
	for _, k := range markerKinds {
		for _, bg := range []string{"#ffffff", "#cfe2f3"} {
			if r := contrast(t, k.Color, bg); r < 3 {
				t.Errorf("%s marker %s on %s: %.1f:1, want ≥ 3:1", k.Type, k.Color, bg, r)
			} else if bg == "#ffffff" {
				t.Logf("marker %-22s %s %.1f:1 on white, %.1f:1 on the bar", k.Type, k.Color, r, contrast(t, k.Color, "#cfe2f3"))
			}
		}
	}
	for name, c := range map[string]string{"spell outline": spellOutline, "paused outline": pausedOutline, "reform rule": reformColour, "today rule": todayColour} {
		r := contrast(t, c, "#ffffff")
		if r < 3 {
			t.Errorf("%s %s: %.1f:1, want ≥ 3:1", name, c, r)
		}
		t.Logf("%-14s %s %.1f:1 on white", name, c, r)
	}
	for _, tc := range []struct{ what, fg, bg string }{
		{"body text", "#1a1a1a", "#ffffff"},
		{"secondary text", "#4a4a4a", "#ffffff"},
		{"links", "#0b4f9c", "#ffffff"},
		{"links on the filter panel", "#0b4f9c", "#f4f6f8"},
		{"field errors", "#a4001d", "#ffffff"},
		{"conflict heading", "#a4001d", "#fdeef0"},
		{"button text", "#ffffff", "#1d4e89"},
		{"reform labels", "#6a1b9a", "#ffffff"},
		{"correction note", "#7a3e00", "#ffffff"},
		{"lane titles", "#0b4f9c", "#ffffff"},
		{"secondary button", "#1d4e89", "#ffffff"},
		{"language switch on hover", "#0b4f9c", "#eef3f9"},
		{"corrected value", "#1b6e30", "#ffffff"},
		{"preview: old value", "#a4001d", "#fff8e1"},
		{"preview: new value", "#1b6e30", "#fff8e1"},
		{"struck-through entry", "#4a4a4a", "#ffffff"},
	} {
		r := contrast(t, tc.fg, tc.bg)
		if r < 4.5 {
			t.Errorf("%s %s on %s: %.1f:1, want ≥ 4.5:1", tc.what, tc.fg, tc.bg, r)
		}
		t.Logf("%-26s %s on %s %.1f:1", tc.what, tc.fg, tc.bg, r)
	}
}
