package auth_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
)

func TestTokensAreHighEntropyAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		tok, hash := auth.NewToken()
		if !auth.WellFormed(tok) || seen[tok] || auth.HashToken(tok) != hash || len(tok) < 47 {
			t.Fatalf("token %q", tok)
		}
		seen[tok] = true
	}
}

func TestParseAuthorization(t *testing.T) {
	tok, _ := auth.NewToken()
	for _, h := range []string{"Bearer " + tok, "bearer " + tok, "BEARER   " + tok} {
		if got, err := auth.ParseAuthorization(h); err != nil || got != tok {
			t.Errorf("%q: %q, %v", h, got, err)
		}
	}
	for _, h := range []string{"", "Bearer", "Bearer ", "Basic " + tok, tok, "Bearer " + tok + "x", "Bearer " + strings.TrimPrefix(tok, "ssp_"),
		"Bearer ssp_" + strings.Repeat("!", 43), "Bearer " + tok + " extra"} {
		if _, err := auth.ParseAuthorization(h); !errors.Is(err, auth.ErrUnauthenticated) {
			t.Errorf("%q: %v, want ErrUnauthenticated", h, err)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	tok, _ := auth.NewToken()
	for _, s := range []string{"Bearer " + tok, "bearer x", "Basic abc", "", "Bearer ssp_", "Bearer  ssp_" + strings.Repeat("A", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, header string) {
		got, err := auth.ParseAuthorization(header)
		if err == nil && (!auth.WellFormed(got) || !strings.HasSuffix(header, got)) {
			t.Fatalf("accepted %q as %q", header, got)
		}
		if err != nil && !errors.Is(err, auth.ErrUnauthenticated) {
			t.Fatalf("%q: %v", header, err)
		}
	})
}

func TestSpecValidation(t *testing.T) {
	codes, err := auth.Spec{Name: "arendal-koord", Role: auth.RoleCoordinator, Municipalities: []string{"0906", "4203", "1702"}}.Validate()
	if err != nil || !slices.Equal(codes, []kommune.Code{"4203", "5006"}) {
		t.Fatalf("old codes → today's, deduplicated: %v, %v", codes, err)
	}
	for _, s := range []auth.Spec{
		{Name: "x", Role: "superuser"},
		{Name: "", Role: auth.RoleAdmin},
		{Name: "two words", Role: auth.RoleAdmin},
		{Name: "c", Role: auth.RoleCoordinator},
		{Name: "c", Role: auth.RoleCoordinator, Municipalities: []string{"9999"}},
		{Name: "v", Role: auth.RoleViewer, Municipalities: []string{"4203"}},
	} {
		if _, err := s.Validate(); !errors.Is(err, auth.ErrInvalidSpec) {
			t.Errorf("%+v: %v, want ErrInvalidSpec", s, err)
		}
	}
}

func TestPrincipalRules(t *testing.T) {
	arendal := auth.Principal{Subject: "a", Role: auth.RoleCoordinator, Municipalities: []kommune.Code{"4203"}}
	for _, tc := range []struct {
		p                       auth.Principal
		code                    string
		write, personal, export bool
	}{
		{auth.Principal{Role: auth.RoleAdmin}, "5006", true, true, true},
		{arendal, "4203", true, true, false},
		{arendal, "0906", true, true, false}, // an old code is today's
		{arendal, "5006", false, false, false},
		{auth.Principal{Role: auth.RoleResearcher}, "4203", false, false, true},
		{auth.Principal{Role: auth.RoleViewer}, "4203", false, false, false},
	} {
		if tc.p.MayWrite(tc.code) != tc.write || tc.p.MaySeePersonalData(tc.code) != tc.personal || tc.p.MayExport() != tc.export {
			t.Errorf("%s in %s: write %v personal %v export %v", tc.p.Role, tc.code, tc.p.MayWrite(tc.code), tc.p.MaySeePersonalData(tc.code), tc.p.MayExport())
		}
	}
}
