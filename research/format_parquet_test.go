package research_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/samspill/samspill/research"
)

// duckFile is what testdata/duckdb/read_parquet.mjs prints.
type duckFile struct {
	Columns []struct{ Name, Type string }
	Schema  []struct {
		Name           string
		RepetitionType string `json:"repetition_type"`
		LogicalType    string `json:"logical_type"`
	}
	Metadata  map[string]string
	RowGroups int `json:"row_groups"`
	Rows      [][]any
}

// readParquet reads a Parquet file with DuckDB (npm @duckdb/node-api,
// installed by make test-deps into testdata/duckdb), or skips.
func readParquet(t *testing.T, path string) duckFile {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed; skipping the DuckDB check of the Parquet file")
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@duckdb", "node-api")); err != nil {
		t.Skip("DuckDB for node is missing (make test-deps runs npm ci in research/testdata/duckdb); skipping the DuckDB check of the Parquet file")
	}
	cmd := exec.Command(node, filepath.Join(dir, "read_parquet.mjs"), path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("DuckDB could not read %s: %v\n%s", path, err, stderr.String())
	}
	var f duckFile
	if err := json.Unmarshal(out, &f); err != nil {
		t.Fatalf("DuckDB printed no JSON: %v\n%s", err, out)
	}
	return f
}

// duckTypes are the DuckDB types of the Table's types.
var duckTypes = map[string]string{
	research.TypeString: "VARCHAR", research.TypeInteger: "BIGINT", research.TypeNumber: "DOUBLE",
	research.TypeBoolean: "BOOLEAN", research.TypeDate: "DATE",
}

// TestParquetReadByDuckDB writes a table with every type and missing
// values and reads it with DuckDB: the columns in the Table's order with
// their types, REQUIRED and OPTIONAL as the Table says, nulls for
// missing values, the metadata naming the table and its codebook.
func TestParquetReadByDuckDB(t *testing.T) {
	table, rows := everyType()
	path, _, sum := write(t, t.TempDir(), research.FormatParquet, table, rowsOf(rows))
	if sum.Rows != len(rows) {
		t.Fatalf("rows = %d", sum.Rows)
	}
	f := readParquet(t, path)
	checkParquetSchema(t, table, f)
	want := [][]any{
		{"a", "0301", "Tromsø frivilligsentral", nil, "3", "3000000000", 0.25, true, "1960-01-01", "health_and_care"},
		{"b", "4203", nil, longText, nil, "-2", nil, nil, nil, nil},
		{"c", "5001", "Ærlig Åse", "kort", "-7", "0", -0.001, false, "2026-11-26", "other"},
	}
	if fmt.Sprint(f.Rows) != fmt.Sprint(want) {
		t.Fatalf("DuckDB read\n%v\nwant\n%v", short(slices.Concat(f.Rows...)), short(slices.Concat(want...)))
	}
	if f.Metadata[research.ParquetTableKey] != "every_type" || f.Metadata[research.ParquetCodebookKey] != "datapackage.json" {
		t.Errorf("key/value metadata %v", f.Metadata)
	}
}

// checkParquetSchema compares DuckDB's view of the columns with the
// Table.
func checkParquetSchema(t *testing.T, table research.Table, f duckFile) {
	t.Helper()
	if len(f.Columns) != len(table.Columns) || len(f.Schema) != len(table.Columns) {
		t.Fatalf("DuckDB sees %d columns (%d in the schema), the table has %d", len(f.Columns), len(f.Schema), len(table.Columns))
	}
	for i, c := range table.Columns {
		if f.Columns[i].Name != c.Name || f.Columns[i].Type != duckTypes[c.Type] {
			t.Errorf("column %d: %s %s, want %s %s", i, f.Columns[i].Name, f.Columns[i].Type, c.Name, duckTypes[c.Type])
		}
		rep := "OPTIONAL"
		if c.Required {
			rep = "REQUIRED"
		}
		if f.Schema[i].RepetitionType != rep {
			t.Errorf("%s is %s, want %s", c.Name, f.Schema[i].RepetitionType, rep)
		}
	}
}

// TestParquetZeroRows: a table without rows is a valid file with its
// typed columns.
func TestParquetZeroRows(t *testing.T) {
	table, _ := everyType()
	path, _, _ := write(t, t.TempDir(), research.FormatParquet, table, rowsOf(nil))
	f := readParquet(t, path)
	checkParquetSchema(t, table, f)
	if len(f.Rows) != 0 {
		t.Fatalf("rows %v", f.Rows)
	}
}

// TestParquetBytesAreReproducible: the same rows give the same bytes.
func TestParquetBytesAreReproducible(t *testing.T) {
	table, rows := everyType()
	var a, b bytes.Buffer
	if _, err := research.WriteTable(context.Background(), &a, research.FormatParquet, table, rowsOf(rows)); err != nil {
		t.Fatal(err)
	}
	if _, err := research.WriteTable(context.Background(), &b, research.FormatParquet, table, rowsOf(rows)); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two writes of the same rows differ")
	}
}

// TestParquetRowGroupsAreBounded: many rows are written in several row
// groups (memory holds one at a time), and DuckDB reads them all back in
// order.
func TestParquetRowGroupsAreBounded(t *testing.T) {
	table := research.Table{Name: "many", Columns: []research.Column{
		{Name: "i", Type: research.TypeInteger, Required: true},
		{Name: "s", Type: research.TypeString},
	}}
	const n = 120_001
	rows := func(ctx context.Context, emit func([]string) error) error {
		for i := range n {
			s := ""
			if i%3 != 0 {
				s = "row " + strconv.Itoa(i)
			}
			if err := emit([]string{strconv.Itoa(i), s}); err != nil {
				return err
			}
		}
		return nil
	}
	path, _, sum := write(t, t.TempDir(), research.FormatParquet, table, rows)
	if sum.Rows != n {
		t.Fatalf("rows = %d", sum.Rows)
	}
	f := readParquet(t, path)
	if f.RowGroups < 3 || len(f.Rows) != n {
		t.Fatalf("%d row groups, %d rows; want at least 3 groups and %d rows", f.RowGroups, len(f.Rows), n)
	}
	for i, r := range f.Rows {
		var s any
		if i%3 != 0 {
			s = "row " + strconv.Itoa(i)
		}
		if r[0] != strconv.Itoa(i) || r[1] != s {
			t.Fatalf("row %d: %v", i, r)
		}
	}
	t.Logf("%d rows in %d row groups, %d bytes", n, f.RowGroups, sum.Bytes)
}

// TestParquetSpellsOfTheDemoMatchTheCSV: DuckDB reads the demo data
// set's spells.parquet with the values of spells.csv.
func TestParquetSpellsOfTheDemoMatchTheCSV(t *testing.T) {
	store := demoStore(t)
	table, rows := demoSpells(t, store)
	dir := t.TempDir()
	_, csvBody, _ := write(t, dir, research.FormatCSV, table, rows)
	path, _, sum := write(t, dir, research.FormatParquet, table, rows)
	_, records := readCSV(t, csvBody)
	f := readParquet(t, path)
	checkParquetSchema(t, table, f)
	if len(f.Rows) != len(records) || sum.Rows != len(records) {
		t.Fatalf("DuckDB read %d rows, the CSV has %d", len(f.Rows), len(records))
	}
	for r, rec := range records {
		for i, c := range table.Columns {
			if got := duckCell(c, f.Rows[r][i]); got != rec[i] {
				t.Fatalf("row %d, %s: parquet %q, csv %q", r+1, c.Name, got, rec[i])
			}
		}
	}
	t.Logf("DuckDB read %d spells of the demo data set", len(f.Rows))
}

// duckCell writes a value DuckDB read as the CSV writes it.
func duckCell(c research.Column, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case bool:
		if x {
			return "1"
		}
		return "0"
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case string:
		return x
	}
	return fmt.Sprint(v)
}
