package kommune_test

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samspill/samspill/domain/kommune"
)

// splitRows formats changes as "FROM>TO@DATE" for comparison.
func splitRows(changes []kommune.Change) string {
	var parts []string
	for _, c := range changes {
		parts = append(parts, string(c.From)+">"+string(c.To)+"@"+c.ValidFrom.Format("2006-01-02"))
	}
	return strings.Join(parts, " ")
}

func TestSplitsOf(t *testing.T) {
	for _, tc := range []struct {
		code kommune.Code
		want string
	}{
		{"1507", "1507>1508@2024-01-01 1507>1580@2024-01-01"},
		{"1534", "1507>1508@2024-01-01 1507>1580@2024-01-01"}, // Haram 2019 → Ålesund 2020 → split 2024
		{"1613", "5012>5055@2020-01-01 5012>5056@2020-01-01 5012>5059@2020-01-01"},
		{"5012", "5012>5055@2020-01-01 5012>5056@2020-01-01 5012>5059@2020-01-01"},
		{"1850", "1850>1806@2020-01-01 1850>1875@2020-01-01"},
		{"1508", ""}, // born of the split: valid today, nothing on its way
		{"1580", ""},
		{"0301", ""},
		{"1702", ""}, // Steinkjer: two changes, no split
		{"9999", ""},
		{"abcd", ""},
	} {
		if got := splitRows(kommune.SplitsOf(tc.code)); got != tc.want {
			t.Errorf("SplitsOf(%s) = %q, want %q", tc.code, got, tc.want)
		}
	}
}

// TestSplitsOfAgreesWithTheChangeTable reads the embedded CSV itself: every
// old code that is the old code of several rows with different new codes on
// one day is a split, and SplitsOf of that code holds exactly those rows
// (and the splits further down its chain).
func TestSplitsOfAgreesWithTheChangeTable(t *testing.T) {
	f, err := os.Open(filepath.Join("data", "kommuner-changes.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	type group struct{ from, on string }
	tos := map[group][]string{}
	for _, r := range records[1:] {
		if r[0] != r[2] {
			g := group{r[0], r[4]}
			tos[g] = append(tos[g], r[2])
		}
	}
	splits := 0
	for g, to := range tos {
		got := splitRows(kommune.SplitsOf(kommune.Code(g.from)))
		for _, code := range to {
			row := g.from + ">" + code + "@" + g.on
			if contains := strings.Contains(got, row); contains != (len(to) > 1) {
				t.Errorf("SplitsOf(%s) = %q: row %s of a group of %d rows", g.from, got, row, len(to))
			}
		}
		if len(to) > 1 {
			splits++
		}
	}
	if splits != 4 {
		t.Errorf("%d splits in the change table, want 4 (Stokke 2017, Tysfjord and Snillfjord 2020, Ålesund 2024)", splits)
	}
}
