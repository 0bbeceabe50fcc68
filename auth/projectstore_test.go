package auth_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
)

// TestProjectValidateNamesEveryProblem: every problem of a project is in
// the error as a coded problem (what the pages translate), and the error
// is ErrInvalidProject.
func TestProjectValidateNamesEveryProblem(t *testing.T) {
	_, err := auth.Project{ID: "A", Purpose: "p", Starts: "2026-02-30", Ends: "x", Municipalities: []kommune.Code{"1702", "12"}}.Validate()
	var invalid *auth.InvalidProjectError
	if !errors.Is(err, auth.ErrInvalidProject) || !errors.As(err, &invalid) {
		t.Fatalf("Validate: %v", err)
	}
	var got []string
	for _, p := range invalid.Problems {
		got = append(got, p.Field+":"+p.Code+":"+p.Today)
	}
	want := []string{"id:id:", "name:required:", "institution:required:", "starts:day:", "ends:day:", "municipalities:municipality_old:5006", "municipalities:municipality:"}
	if !slices.Equal(got, want) {
		t.Fatalf("problems %q, want %q", got, want)
	}
	p, err := auth.Project{ID: "ok-1", Name: " n ", Institution: "i", Purpose: "p", Starts: "2026-01-01", Ends: "2026-01-01", Municipalities: []kommune.Code{"5006", "0301", "5006"}}.Validate()
	if err != nil || p.Name != "n" || !slices.Equal(p.Municipalities, []kommune.Code{"0301", "5006"}) {
		t.Fatalf("a valid project: %+v, %v", p, err)
	}
}
