package research_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/research"
)

// longText is longer than Stata's longest fixed string (2045 bytes), so
// it is stored as a strL; its letters are two bytes each in UTF-8.
var longText = strings.Repeat("Blåbærsyltetøy på Ørland. ", 100)

// everyType is a table with a column of every type, a coded column, a
// string that must stay text (0301) and a long string, and its rows
// hold a missing value in every optional column.
func everyType() (research.Table, [][]string) {
	t := research.Table{
		Name: "every_type", Title: "Every type of column", TitleNB: "Alle slags kolonner",
		Description: "A test table.", DescriptionNB: "En testtabell.",
		PrimaryKey: []string{"id"},
		Columns: []research.Column{
			{Name: "id", Type: research.TypeString, Required: true, Label: "Identifier", LabelNB: "Identifikator"},
			{Name: "municipality", Type: research.TypeString, Required: true, Label: "Municipality", LabelNB: "Kommune", Description: "Four digits.", DescriptionNB: "Fire siffer."},
			{Name: "name", Type: research.TypeString, Label: "Name with æøå", LabelNB: "Navn med æøå"},
			{Name: "note", Type: research.TypeString, Label: "A long note", LabelNB: "Et langt notat"},
			{Name: "n", Type: research.TypeInteger, Label: "Count", LabelNB: "Antall", Unit: "partners"},
			{Name: "big", Type: research.TypeInteger, Label: "Beyond Stata's long", LabelNB: "Utenfor Statas long"},
			{Name: "share", Type: research.TypeNumber, Label: "Share", LabelNB: "Andel"},
			{Name: "flag", Type: research.TypeBoolean, Label: "Flag", LabelNB: "Flagg"},
			{Name: "day", Type: research.TypeDate, Label: "Day", LabelNB: "Dag"},
			{Name: "area", Type: research.TypeString, Label: "Service area", LabelNB: "Tjenesteområde", Values: []research.Value{
				{Code: "culture", Label: "Culture", LabelNB: "Kultur", LabelNN: "Kultur"},
				{Code: "health_and_care", Label: "Health and care", LabelNB: "Helse og omsorg", LabelNN: "Helse og omsorg"},
				{Code: "other", Label: "Other", LabelNB: "Annet", LabelNN: "Anna"},
			}},
		},
	}
	rows := [][]string{
		{"a", "0301", "Tromsø frivilligsentral", "", "3", "3000000000", "0.25", "1", "1960-01-01", "health_and_care"},
		{"b", "4203", "", longText, "", "-2", "", "", "", ""},
		{"c", "5001", "Ærlig Åse", "kort", "-7", "0", "-1e-3", "0", "2026-11-26", "other"},
	}
	return t, rows
}

// rowsOf serves fixed rows.
func rowsOf(rows [][]string) research.Rows {
	return func(ctx context.Context, emit func([]string) error) error {
		for _, r := range rows {
			if err := emit(r); err != nil {
				return err
			}
		}
		return nil
	}
}

// write writes a table in a format into a file in dir and returns its
// path, bytes and summary.
func write(t *testing.T, dir, format string, table research.Table, rows research.Rows) (string, []byte, research.Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := research.WriteTable(context.Background(), &buf, format, table, rows)
	if err != nil {
		t.Fatalf("write %s: %v", format, err)
	}
	if sum.Bytes != int64(buf.Len()) {
		t.Fatalf("summary says %d bytes, %d written", sum.Bytes, buf.Len())
	}
	path := filepath.Join(dir, table.Name+"."+format)
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes(), sum
}

// demoSpells is the spells export of the demo data set, censored on the
// day the demo is pinned to.
func demoSpells(t *testing.T, store eventstore.Store) (research.Table, research.Rows) {
	t.Helper()
	e, ok := research.Lookup(research.KindSpells)
	if !ok {
		t.Fatal("no spells export")
	}
	pos, err := research.Position(context.Background(), store, 0)
	if err != nil {
		t.Fatal(err)
	}
	o := research.Options{Position: pos, AsOf: "2026-11-26", Keys: research.OneOffKeys(secret, "formats test")}
	return e.Table, e.Rows(context.Background(), store, o)
}

// readCSV parses a CSV file written by WriteTable: header and rows.
func readCSV(t *testing.T, body []byte) ([]string, [][]string) {
	t.Helper()
	all, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return all[0], all[1:]
}

// rscript finds Rscript with the packages a test needs, or skips it.
func rscript(t *testing.T, packages ...string) string {
	t.Helper()
	path, err := exec.LookPath("Rscript")
	if err != nil {
		t.Skip("Rscript is not installed (Debian: r-base-core; make test-deps); skipping the R check")
	}
	for _, p := range packages {
		v, _ := rPackages.LoadOrStore(p, &rPackage{})
		probe := v.(*rPackage)
		probe.once.Do(func() { probe.out, probe.err = exec.Command(path, "-e", "library("+p+")").CombinedOutput() })
		if probe.err != nil {
			t.Skipf("R's %s package is missing (Debian: r-cran-%s; make test-deps): %s", p, p, bytes.TrimSpace(probe.out))
		}
	}
	return path
}

// rPackages remembers, by name, whether R loads a package: each probe
// starts R (a second or more under load), and the answer does not change
// while the tests run.
var rPackages sync.Map // string → *rPackage

// rPackage is the outcome of one package's probe.
type rPackage struct {
	once sync.Once
	out  []byte
	err  error
}

// runR runs an R script with arguments and decodes the JSON it prints
// into out.
func runR(t *testing.T, rscript, script string, out any, args ...string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "check.R")
	if err := os.WriteFile(path, []byte(script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rscript, append([]string{"--vanilla", path}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("R failed: %v\n%s\n%s", err, stdout, stderr.String())
	}
	if out == nil {
		return
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("R printed no JSON: %v\n%s\n%s", err, stdout, stderr.String())
	}
}

// TestWriteTableRefusesCellsThatDoNotFit: the typed formats name the
// row and column of a cell their type cannot hold, and write nothing
// useful; CSV, which holds text, is not checked.
func TestWriteTableRefusesCellsThatDoNotFit(t *testing.T) {
	table, good := everyType()
	cases := map[string]func(r []string){
		"word in integer":  func(r []string) { r[4] = "three" },
		"unknown code":     func(r []string) { r[9] = "sports" },
		"missing required": func(r []string) { r[1] = "" },
		"bad boolean":      func(r []string) { r[7] = "yes" },
		"bad date":         func(r []string) { r[8] = "26.11.2026" },
		"infinite number":  func(r []string) { r[6] = "Inf" },
		"not UTF-8":        func(r []string) { r[2] = "\xff" },
	}
	for name, spoil := range cases {
		for _, format := range []string{research.FormatStata, research.FormatParquet} {
			t.Run(name+"/"+format, func(t *testing.T) {
				rows := make([][]string, len(good))
				for i, r := range good {
					rows[i] = append([]string(nil), r...)
				}
				spoil(rows[1])
				_, err := research.WriteTable(context.Background(), &bytes.Buffer{}, format, table, rowsOf(rows))
				if !errors.Is(err, research.ErrCell) {
					t.Fatalf("err = %v, want ErrCell", err)
				}
				if !strings.Contains(err.Error(), "row 2") {
					t.Fatalf("the error does not name the row: %v", err)
				}
			})
		}
	}
}

// TestEveryExportWritesInEveryFormat writes every export of the registry
// in every format from the demo data: a column a format cannot hold (a
// name too long for Stata, a cell outside its type) fails here, not in a
// researcher's download.
func TestEveryExportWritesInEveryFormat(t *testing.T) {
	store := demoStore(t)
	pos, err := research.Position(context.Background(), store, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range research.Exports() {
		for _, format := range research.Formats {
			f := research.File{Export: e.Table.Name, Format: format, Position: pos, AsOf: "2026-11-26"}
			f.Keys = f.OneOffKeys(secret)
			sum, err := f.Write(context.Background(), store, io.Discard, secret)
			if err != nil {
				t.Errorf("%s: %v", f.Name(), err)
				continue
			}
			if sum.Rows == 0 {
				t.Errorf("%s: no rows", f.Name())
			}
		}
	}
}
