package research_test

import (
	"testing"

	"github.com/samspill/samspill/research"
)

// TestEveryValueIsLabelledInThreeLanguages: every code of every export's
// coded columns has a label in English, bokmål and nynorsk from the
// catalogues, and the English one is words, not the code.
func TestEveryValueIsLabelledInThreeLanguages(t *testing.T) {
	coded := 0
	for _, e := range research.Exports() {
		for _, c := range e.Table.Columns {
			if len(c.Values) > 0 {
				coded++
			}
			for _, v := range c.Values {
				if v.Code == "" || v.Label == "" || v.LabelNB == "" || v.LabelNN == "" {
					t.Errorf("%s.%s: %+v lacks a code or a label", e.Table.Name, c.Name, v)
				}
				if v.Label == v.Code {
					t.Errorf("%s.%s: the English label of %q is the code itself", e.Table.Name, c.Name, v.Code)
				}
			}
		}
	}
	if coded == 0 {
		t.Fatal("no export has a coded column")
	}
}

// TestValueLabelsAreThePagesWords: the labels are the catalogue's, as
// the pages show them.
func TestValueLabelsAreThePagesWords(t *testing.T) {
	want := map[string]research.Value{
		"service_area":        {Code: "health_and_care", Label: "Health and care"},
		"collaboration_model": {Code: "grant", Label: "Grant", LabelNB: "Tilskudd", LabelNN: "Tilskot"},
		"end_reason":          {Code: "taken_over_by_municipality", Label: "Taken over by the municipality"},
	}
	for _, c := range research.SpellsTable().Columns {
		w, ok := want[c.Name]
		if !ok {
			continue
		}
		delete(want, c.Name)
		found := false
		for _, v := range c.Values {
			if v.Code == w.Code {
				found = true
				if v.Label != w.Label || (w.LabelNB != "" && (v.LabelNB != w.LabelNB || v.LabelNN != w.LabelNN)) {
					t.Errorf("%s %s: %+v, want %+v", c.Name, w.Code, v, w)
				}
			}
		}
		if !found {
			t.Errorf("%s has no code %s", c.Name, w.Code)
		}
	}
	if len(want) > 0 {
		t.Errorf("columns missing from spells: %v", want)
	}
}
