package research_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/samspill/samspill/research"
)

// havenScript reads a .dta with haven and prints, as JSON, the data
// set's label and each variable's class, label, format, value labels and
// values (dates as YYYY-MM-DD, missing as null).
const havenScript = `
options(warn = 2)
suppressPackageStartupMessages({library(haven); library(jsonlite)})
args <- commandArgs(trailingOnly = TRUE)
d <- read_dta(args[1])
cols <- lapply(names(d), function(n) {
  x <- d[[n]]
  labs <- attr(x, "labels")
  v <- if (inherits(x, "Date")) format(x) else { y <- x; attributes(y) <- NULL; y }
  list(name = n, class = class(x)[1], label = attr(x, "label"), format = attr(x, "format.stata"),
       labels = if (is.null(labs)) NULL else as.list(setNames(unname(unclass(labs)), names(labs))),
       values = I(v))
})
cat(toJSON(list(label = attr(d, "label"), rows = nrow(d), columns = cols),
           auto_unbox = TRUE, null = "null", na = "null", digits = NA))
`

// havenFile is what havenScript prints.
type havenFile struct {
	Label   string
	Rows    int
	Columns []havenColumn
}

type havenColumn struct {
	Name, Class, Format string
	Label               *string
	Labels              map[string]float64
	Values              []any
}

func readDTA(t *testing.T, path string) havenFile {
	t.Helper()
	r := rscript(t, "haven", "jsonlite")
	var f havenFile
	runR(t, r, havenScript, &f, path)
	return f
}

// TestDTAReadByHaven writes a table with every type, missing values, a
// strL, Norwegian letters, value labels and dates, and reads it back with
// R's haven (ReadStat), an independent reader of Stata files.
func TestDTAReadByHaven(t *testing.T) {
	table, rows := everyType()
	path, _, sum := write(t, t.TempDir(), research.FormatStata, table, rowsOf(rows))
	if sum.Rows != 3 {
		t.Fatalf("rows = %d", sum.Rows)
	}
	f := readDTA(t, path)
	if f.Label != table.Title || f.Rows != 3 || len(f.Columns) != len(table.Columns) {
		t.Fatalf("haven read label %q, %d rows, %d columns", f.Label, f.Rows, len(f.Columns))
	}
	col := map[string]havenColumn{}
	for i, c := range f.Columns {
		if c.Name != table.Columns[i].Name {
			t.Fatalf("column %d is %s, want %s", i, c.Name, table.Columns[i].Name)
		}
		if c.Label == nil || *c.Label != table.Columns[i].Label {
			t.Errorf("%s: variable label %v, want %q", c.Name, c.Label, table.Columns[i].Label)
		}
		col[c.Name] = c
	}
	want := map[string][]any{
		"id":           {"a", "b", "c"},
		"municipality": {"0301", "4203", "5001"},
		"name":         {"Tromsø frivilligsentral", "", "Ærlig Åse"},
		"note":         {"", longText, "kort"},
		"n":            {3.0, nil, -7.0},
		"big":          {3e9, -2.0, 0.0},
		"share":        {0.25, nil, -0.001},
		"flag":         {1.0, nil, 0.0},
		"day":          {"1960-01-01", nil, "2026-11-26"},
		"area":         {2.0, nil, 3.0},
	}
	for name, values := range want {
		if got := col[name].Values; !equalValues(got, values) {
			t.Errorf("%s: haven read %v, want %v", name, short(got), short(values))
		}
	}
	classes := map[string]string{"id": "character", "municipality": "character", "note": "character", "n": "numeric", "share": "numeric", "flag": "numeric", "day": "Date", "area": "haven_labelled"}
	for name, class := range classes {
		if col[name].Class != class {
			t.Errorf("%s: class %s, want %s", name, col[name].Class, class)
		}
	}
	wantLabels := map[string]float64{"Culture": 1, "Health and care": 2, "Other": 3}
	if fmt.Sprint(col["area"].Labels) != fmt.Sprint(wantLabels) {
		t.Errorf("area's value labels: %v, want %v", col["area"].Labels, wantLabels)
	}
	if col["day"].Format != "%td" {
		t.Errorf("day's format %q, want %%td", col["day"].Format)
	}
}

// TestDTAStoresStringsLongerThan2045BytesAsStrL: the file holds a strL
// type code for the long column and a fixed str4 for the municipality.
func TestDTAStoresStringsLongerThan2045BytesAsStrL(t *testing.T) {
	table, rows := everyType()
	var buf bytes.Buffer
	if _, err := research.WriteTable(context.Background(), &buf, research.FormatStata, table, rowsOf(rows)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	start := bytes.Index(b, []byte("<variable_types>")) + len("<variable_types>")
	types := make([]int, len(table.Columns))
	for i := range types {
		types[i] = int(b[start+2*i]) | int(b[start+2*i+1])<<8
	}
	// id str1, municipality str4, name str24 (ø and Æ, Å are two bytes),
	// note strL, n long, big double, share double, flag byte, day long,
	// area long.
	want := []int{1, 4, len("Tromsø frivilligsentral"), 32768, 65528, 65526, 65526, 65530, 65528, 65528}
	if !slices.Equal(types, want) {
		t.Fatalf("variable types %v, want %v", types, want)
	}
	// Every non-empty cell of a strL column is a GSO entry: the long
	// note and "kort".
	if n := bytes.Count(b, []byte("GSO")); n != 2 {
		t.Fatalf("%d GSO entries, want 2 (the strL column's non-empty cells)", n)
	}
	if !bytes.Contains(b, []byte("<timestamp>\x00</timestamp>")) {
		t.Fatal("the timestamp is not empty")
	}
}

// TestDTAZeroRows: a table without rows is a valid file with its
// variables, labels and value labels.
func TestDTAZeroRows(t *testing.T) {
	table, _ := everyType()
	path, _, sum := write(t, t.TempDir(), research.FormatStata, table, rowsOf(nil))
	if sum.Rows != 0 {
		t.Fatalf("rows = %d", sum.Rows)
	}
	f := readDTA(t, path)
	if f.Rows != 0 || len(f.Columns) != len(table.Columns) {
		t.Fatalf("haven read %d rows, %d columns", f.Rows, len(f.Columns))
	}
	for _, c := range f.Columns {
		if len(c.Values) != 0 {
			t.Errorf("%s has values %v", c.Name, c.Values)
		}
	}
	if f.Columns[9].Labels["Health and care"] != 2 {
		t.Errorf("value labels lost without rows: %v", f.Columns[9].Labels)
	}
}

// TestDTABytesAreReproducible: the same rows give the same bytes.
func TestDTABytesAreReproducible(t *testing.T) {
	table, rows := everyType()
	var a, b bytes.Buffer
	sa, err := research.WriteTable(context.Background(), &a, research.FormatStata, table, rowsOf(rows))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := research.WriteTable(context.Background(), &b, research.FormatStata, table, rowsOf(rows))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) || sa.SHA256 != sb.SHA256 {
		t.Fatal("two writes of the same rows differ")
	}
}

// TestDTARefusesNamesStataCannotHold: a column name Stata refuses is an
// error, not a silently renamed variable.
func TestDTARefusesNamesStataCannotHold(t *testing.T) {
	for _, name := range []string{"1st", "with space", "long", "str12", strings.Repeat("x", 33), "ø"} {
		table := research.Table{Name: "bad", Columns: []research.Column{{Name: name, Type: research.TypeString}}}
		_, err := research.WriteTable(context.Background(), &bytes.Buffer{}, research.FormatStata, table, rowsOf(nil))
		if err == nil || !strings.Contains(err.Error(), "Stata variable name") {
			t.Errorf("%q: err = %v", name, err)
		}
	}
}

// TestDTASpellsOfTheDemoRoundTrip: haven reads the demo data set's
// spells.dta with the values of spells.csv, coded columns mapped back
// through their value labels, and the variable labels of the Table.
func TestDTASpellsOfTheDemoRoundTrip(t *testing.T) {
	store := demoStore(t)
	table, rows := demoSpells(t, store)
	dir := t.TempDir()
	_, csvBody, csvSum := write(t, dir, research.FormatCSV, table, rows)
	path, _, dtaSum := write(t, dir, research.FormatStata, table, rows)
	if csvSum.Rows == 0 || dtaSum.Rows != csvSum.Rows {
		t.Fatalf("csv has %d rows, dta %d", csvSum.Rows, dtaSum.Rows)
	}
	header, records := readCSV(t, csvBody)
	f := readDTA(t, path)
	if f.Rows != len(records) || len(f.Columns) != len(header) {
		t.Fatalf("haven read %d rows and %d columns, the CSV has %d and %d", f.Rows, len(f.Columns), len(records), len(header))
	}
	for i, c := range table.Columns {
		got := f.Columns[i]
		if got.Name != c.Name || got.Label == nil || *got.Label != c.Label {
			t.Fatalf("column %d: %s labelled %v, want %s labelled %q", i, got.Name, got.Label, c.Name, c.Label)
		}
		for r, rec := range records {
			if !sameCell(t, c, got, rec[i]) {
				t.Fatalf("%s row %d: csv %q, dta %v", c.Name, r+1, rec[i], got.Values[r])
			}
			got.Values = got.Values[1:]
		}
	}
	t.Logf("haven read %d spells of the demo data set, %d columns", f.Rows, len(f.Columns))
}

// sameCell compares a CSV cell with the first value haven read for the
// column.
func sameCell(t *testing.T, c research.Column, got havenColumn, cell string) bool {
	t.Helper()
	v := got.Values[0]
	if cell == "" && c.Type != research.TypeString {
		return v == nil
	}
	switch {
	case len(c.Values) > 0:
		if cell == "" {
			return v == nil
		}
		i := slices.IndexFunc(c.Values, func(x research.Value) bool { return x.Code == cell })
		label := c.Values[i].Label
		return got.Labels[label] == float64(i+1) && v == float64(i+1)
	case c.Type == research.TypeString, c.Type == research.TypeDate:
		return v == cell
	default:
		f, err := strconv.ParseFloat(cell, 64)
		return err == nil && v == f
	}
}

// equalValues compares values haven read with expected ones (numbers
// within rounding of their decimal text).
func equalValues(got, want []any) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		g, gok := got[i].(float64)
		w, wok := want[i].(float64)
		if gok && wok {
			if math.Abs(g-w) > 1e-12*math.Max(1, math.Abs(w)) {
				return false
			}
			continue
		}
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

// short shortens long strings for failure messages.
func short(v []any) []any {
	out := make([]any, len(v))
	for i, x := range v {
		if s, ok := x.(string); ok && len(s) > 40 {
			x = s[:40] + "…"
		}
		out[i] = x
	}
	return out
}

// TestDTACarriesNorwegianLabelsAsCharacteristics parses the
// characteristics section (each <ch> is a 4-byte length, the variable's
// and the characteristic's names in 129 bytes each, and NUL-terminated
// contents): the bokmål labels, the notes with their count, and the
// units are there, and every length adds up.
func TestDTACarriesNorwegianLabelsAsCharacteristics(t *testing.T) {
	table, rows := everyType()
	var buf bytes.Buffer
	if _, err := research.WriteTable(context.Background(), &buf, research.FormatStata, table, rowsOf(rows)); err != nil {
		t.Fatal(err)
	}
	b := buf.Bytes()
	start := bytes.Index(b, []byte("<characteristics>")) + len("<characteristics>")
	end := bytes.Index(b, []byte("</characteristics>"))
	chars := map[string]string{}
	cstr := func(p []byte) string { return string(p[:bytes.IndexByte(p, 0)]) }
	for p := b[start:end]; len(p) > 0; {
		if !bytes.HasPrefix(p, []byte("<ch>")) {
			t.Fatalf("characteristics: %q", p[:min(20, len(p))])
		}
		n := int(p[4]) | int(p[5])<<8 | int(p[6])<<16 | int(p[7])<<24
		body := p[8 : 8+n]
		if body[n-1] != 0 || !bytes.HasPrefix(p[8+n:], []byte("</ch>")) {
			t.Fatalf("a <ch> of %d bytes does not end where it says", n)
		}
		chars[cstr(body[:129])+"["+cstr(body[129:258])+"]"] = string(body[258 : n-1])
		p = p[8+n+len("</ch>"):]
	}
	want := map[string]string{
		"_dta[note0]": "2", "_dta[note1]": "A test table.", "_dta[note2]": "En testtabell.", "_dta[title_nb]": "Alle slags kolonner",
		"municipality[note0]": "2", "municipality[note1]": "Four digits.", "municipality[note2]": "Fire siffer.",
		"area[label_nb]": "Tjenesteområde", "name[label_nb]": "Navn med æøå", "n[unit]": "partners",
	}
	for k, v := range want {
		if chars[k] != v {
			t.Errorf("%s = %q, want %q", k, chars[k], v)
		}
	}
}

// TestDTALeavesNoTemporaryFile: the rows' temporary file is removed after
// an export, and after one that failed.
func TestDTALeavesNoTemporaryFile(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	table, rows := everyType()
	if _, err := research.WriteTable(context.Background(), &bytes.Buffer{}, research.FormatStata, table, rowsOf(rows)); err != nil {
		t.Fatal(err)
	}
	bad := append(slices.Clone(rows), []string{"d", "0301", "", "", "many", "", "", "", "", ""})
	if _, err := research.WriteTable(context.Background(), &bytes.Buffer{}, research.FormatStata, table, rowsOf(bad)); err == nil {
		t.Fatal("a word in an integer column was written")
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}
