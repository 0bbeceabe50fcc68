package kommune_test

import (
	"cmp"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// referenceDir is the shared reference data: $SAMSPILL_SHARED_DATA if set,
// otherwise ../../../shared/data relative to this package.
func referenceDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SAMSPILL_SHARED_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "data")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatalf("resolve %s: %v", dir, err)
	}
	if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
		t.Skipf("reference data folder %s not found; set SAMSPILL_SHARED_DATA to compare the embedded facts with it", abs)
	}
	return abs
}

// readReference reads a CSV file and returns its records keyed by header.
func readReference(t *testing.T, dir, name string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, name))
	if err != nil {
		t.Fatalf("open reference: %v", err)
	}
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if len(records) < 2 {
		t.Fatalf("%s: no data rows", name)
	}
	var out []map[string]string
	for _, rec := range records[1:] {
		m := make(map[string]string, len(rec))
		for i, h := range records[0] {
			m[h] = rec[i]
		}
		out = append(out, m)
	}
	return out
}

func TestReference(t *testing.T) {
	dir := referenceDir(t)
	refCurrent := readReference(t, dir, "kommuner-2024.csv")
	refChanges := readReference(t, dir, "kommuner-changes.csv")

	t.Run("current list", func(t *testing.T) {
		got := kommune.CurrentList()
		want := make([]kommune.Municipality, 0, len(refCurrent))
		for _, r := range refCurrent {
			want = append(want, kommune.Municipality{Code: kommune.Code(r["code"]), Name: r["name"], CountyCode: r["county_code"], CountyName: r["county_name"]})
		}
		slices.SortFunc(want, func(a, b kommune.Municipality) int { return cmp.Compare(a.Code, b.Code) })
		if len(got) != len(want) {
			t.Errorf("package has %d current municipalities, reference %d", len(got), len(want))
		}
		for i := range min(len(got), len(want)) {
			if got[i] != want[i] {
				t.Errorf("current #%d: package %+v, reference %+v", i, got[i], want[i])
			}
		}
	})

	t.Run("change rows", func(t *testing.T) {
		pkg := make(map[kommune.Change]bool)
		for _, m := range kommune.CurrentList() {
			for _, c := range kommune.ChangesInto(m.Code) {
				c.ValidFrom = c.ValidFrom.UTC() // comparable key
				pkg[c] = true
			}
		}
		ref := make(map[kommune.Change]bool)
		for _, r := range refChanges {
			on, err := time.ParseInLocation(time.DateOnly, r["valid_from"], oslo)
			if err != nil {
				t.Fatalf("reference date: %v", err)
			}
			c := kommune.Change{From: kommune.Code(r["old_code"]), FromName: r["old_name"], To: kommune.Code(r["new_code"]), ToName: r["new_name"], ValidFrom: on.UTC()}
			ref[c] = true
			if !pkg[c] {
				t.Errorf("reference row %s %s → %s %s on %s is not reproduced", c.From, c.FromName, c.To, c.ToName, r["valid_from"])
			}
		}
		for c := range pkg {
			if !ref[c] {
				t.Errorf("package row %+v is not in the reference", c)
			}
		}
	})

	t.Run("validity at each change", func(t *testing.T) {
		newOn := make(map[string]bool) // code@date
		for _, r := range refChanges {
			newOn[r["new_code"]+"@"+r["valid_from"]] = true
		}
		for _, r := range refChanges {
			on, _ := time.ParseInLocation(time.DateOnly, r["valid_from"], oslo)
			from, to := kommune.Code(r["old_code"]), kommune.Code(r["new_code"])
			if !from.ValidOn(on.AddDate(0, 0, -1)) {
				t.Errorf("%s not valid the day before %s", from, r["valid_from"])
			}
			if !to.ValidOn(on) {
				t.Errorf("%s not valid on %s", to, r["valid_from"])
			}
			if kept := newOn[r["old_code"]+"@"+r["valid_from"]]; from.ValidOn(on) != kept {
				t.Errorf("%s.ValidOn(%s) = %v, want %v", from, r["valid_from"], from.ValidOn(on), kept)
			}
		}
	})

	t.Run("current of every code", func(t *testing.T) {
		current := make(map[string]bool)
		for _, r := range refCurrent {
			current[r["code"]] = true
		}
		// ends follows the reference rows from code c, valid since date
		// since, to the codes valid today (more than one after a split).
		var ends func(c, since string) []string
		ends = func(c, since string) []string {
			stop := ""
			for _, r := range refChanges {
				if r["old_code"] == c && r["valid_from"] > since && (stop == "" || r["valid_from"] < stop) {
					kept := slices.ContainsFunc(refChanges, func(o map[string]string) bool {
						return o["new_code"] == c && o["valid_from"] == r["valid_from"]
					})
					if !kept {
						stop = r["valid_from"]
					}
				}
			}
			if stop == "" {
				return []string{c}
			}
			var out []string
			for _, r := range refChanges {
				if r["old_code"] == c && r["valid_from"] == stop {
					for _, e := range ends(r["new_code"], stop) {
						if !slices.Contains(out, e) {
							out = append(out, e)
						}
					}
				}
			}
			return out
		}
		for _, r := range refChanges {
			for _, code := range []string{r["old_code"], r["new_code"]} {
				c := kommune.Code(code)
				want := ends(code, "")
				for _, e := range want {
					if !current[e] {
						t.Errorf("reference chain from %s ends in %s, which is not current", code, e)
					}
				}
				got := c.Current()
				if !slices.Contains(want, string(got)) { // equal when the chain does not split
					t.Errorf("%s.Current() = %s, reference chain ends in %v", code, got, want)
				}
			}
		}
	})

	t.Run("no unknown codes", func(t *testing.T) {
		var codes []string
		for _, r := range refCurrent {
			codes = append(codes, r["code"])
		}
		for _, r := range refChanges {
			codes = append(codes, r["old_code"], r["new_code"])
		}
		for _, s := range codes {
			if _, err := kommune.Parse(s); err != nil {
				t.Errorf("reference code %s: %v", s, err)
			}
			if _, ok := kommune.Lookup(kommune.Code(s)); !ok {
				t.Errorf("Lookup(%s) not found", s)
			}
		}
	})
}
