package research_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/research"
)

// manifestOf is the manifest of the files written into dir.
func manifestOf(files map[string]research.Summary, formats ...string) research.ExportManifest {
	m := research.ExportManifest{
		Export: "spells", Position: 42, AsOf: "2026-11-26", RulesVersion: research.RulesVersion,
		SamspillVersion: "test", Citation: "Samspill research export, position 42.",
	}
	for _, f := range formats {
		s := files[f]
		m.Files = append(m.Files, research.FileSum{Name: s.Kind + "." + f, Format: f, MediaType: research.MediaType(f), Rows: s.Rows, Bytes: s.Bytes, SHA256: s.SHA256})
	}
	return m
}

// TestDataPackageFollowsTheSpecification checks the codebook against the
// rules of the Frictionless Data Package and Table Schema (v1, with v2
// categories) on the decoded JSON, not on samspill's own types.
func TestDataPackageFollowsTheSpecification(t *testing.T) {
	table, rows := everyType()
	files := map[string]research.Summary{}
	for _, f := range research.Formats {
		_, _, s := write(t, t.TempDir(), f, table, rowsOf(rows))
		files[f] = s
	}
	m := manifestOf(files, research.Formats...)
	body, err := research.DataPackage(m, []research.Table{table})
	if err != nil {
		t.Fatal(err)
	}
	again, err := research.DataPackage(m, []research.Table{table})
	if err != nil || !bytes.Equal(body, again) {
		t.Fatalf("two codebooks of the same manifest differ (err %v)", err)
	}
	var pkg map[string]any
	if err := json.Unmarshal(body, &pkg); err != nil {
		t.Fatal(err)
	}
	for _, problem := range checkDataPackage(pkg) {
		t.Error(problem)
	}
	if t.Failed() {
		t.Logf("%s", body)
	}

	// What a reader of the codebook relies on.
	resources := pkg["resources"].([]any)
	if len(resources) != 3 {
		t.Fatalf("%d resources, want 3", len(resources))
	}
	csvRes := resources[0].(map[string]any)
	if csvRes["path"] != "every_type.csv" || csvRes["hash"] != "sha256:"+files["csv"].SHA256 || csvRes["bytes"] != float64(files["csv"].Bytes) || csvRes["encoding"] != "utf-8" {
		t.Errorf("csv resource: %v", csvRes)
	}
	fields := csvRes["schema"].(map[string]any)["fields"].([]any)
	field := func(fields []any, name string) map[string]any {
		for _, f := range fields {
			if f := f.(map[string]any); f["name"] == name {
				return f
			}
		}
		t.Fatalf("no field %s", name)
		return nil
	}
	if f := field(fields, "municipality"); f["type"] != "string" || f["constraints"].(map[string]any)["required"] != true {
		t.Errorf("municipality: %v", f)
	}
	area := field(fields, "area")
	if fmt.Sprint(area["constraints"].(map[string]any)["enum"]) != "[culture health_and_care other]" {
		t.Errorf("area's enum: %v", area["constraints"])
	}
	cat := area["categories"].([]any)[2].(map[string]any)
	if cat["value"] != "other" || cat["label"] != "Other" || fmt.Sprint(cat["x-labels"]) != "map[en:Other nb:Annet nn:Anna]" {
		t.Errorf("area's third category: %v", cat)
	}
	if f := field(fields, "n"); f["x-unit"] != "partners" || fmt.Sprint(f["x-labels"]) != "map[en:Count nb:Antall]" {
		t.Errorf("n: %v", f)
	}
	// In the Stata file the coded column is the numbers 1..k.
	dtaArea := field(resources[1].(map[string]any)["schema"].(map[string]any)["fields"].([]any), "area")
	dtaCat := dtaArea["categories"].([]any)[1].(map[string]any)
	if dtaArea["type"] != "integer" || dtaCat["value"] != float64(2) || dtaCat["x-code"] != "health_and_care" || dtaCat["label"] != "Health and care" {
		t.Errorf("dta's area: %v", dtaArea)
	}
	if strings.Contains(string(body), "created") {
		t.Error("the codebook holds a creation time")
	}
}

// checkDataPackage lists what breaks the Data Package and Table Schema
// rules: required properties, names, paths, hashes, field types,
// constraints that fit their type, primary keys that name fields.
func checkDataPackage(pkg map[string]any) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	name := regexp.MustCompile(`^[a-z0-9._-]+$`)
	if n, _ := pkg["name"].(string); !name.MatchString(n) {
		bad("package name %q", pkg["name"])
	}
	resources, ok := pkg["resources"].([]any)
	if !ok || len(resources) == 0 {
		return append(problems, "resources must be a non-empty array")
	}
	types := []string{"string", "number", "integer", "boolean", "object", "array", "date", "time", "datetime", "year", "yearmonth", "duration", "geopoint", "geojson", "any"}
	names := map[string]bool{}
	for i, r := range resources {
		res, ok := r.(map[string]any)
		if !ok {
			bad("resource %d is not an object", i)
			continue
		}
		rn, _ := res["name"].(string)
		if !name.MatchString(rn) || names[rn] {
			bad("resource %d: name %q missing, malformed or used twice", i, rn)
		}
		names[rn] = true
		p, _ := res["path"].(string)
		if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "..") || strings.Contains(p, `\`) {
			bad("resource %s: path %q must be a relative POSIX path", rn, p)
		}
		if h, _ := res["hash"].(string); !regexp.MustCompile(`^sha256:[0-9a-f]{64}$`).MatchString(h) {
			bad("resource %s: hash %q", rn, h)
		}
		if b, ok := res["bytes"].(float64); !ok || b <= 0 || b != float64(int64(b)) {
			bad("resource %s: bytes %v", rn, res["bytes"])
		}
		if res["mediatype"] == "" || res["format"] == "" {
			bad("resource %s: no format or media type", rn)
		}
		schema, ok := res["schema"].(map[string]any)
		if !ok {
			bad("resource %s has no schema", rn)
			continue
		}
		fields, ok := schema["fields"].([]any)
		if !ok || len(fields) == 0 {
			bad("resource %s: fields must be a non-empty array", rn)
			continue
		}
		fieldNames := map[string]bool{}
		for _, f := range fields {
			field := f.(map[string]any)
			fn, _ := field["name"].(string)
			if fn == "" || fieldNames[fn] {
				bad("resource %s: field name %q missing or used twice", rn, fn)
			}
			fieldNames[fn] = true
			typ, _ := field["type"].(string)
			if !slices.Contains(types, typ) {
				bad("%s.%s: type %q", rn, fn, typ)
			}
			if c, ok := field["constraints"].(map[string]any); ok {
				if r, ok := c["required"]; ok {
					if _, isBool := r.(bool); !isBool {
						bad("%s.%s: constraints.required is not a boolean", rn, fn)
					}
				}
				if enum, ok := c["enum"]; ok {
					values, ok := enum.([]any)
					if !ok || len(values) == 0 {
						bad("%s.%s: constraints.enum must be a non-empty array", rn, fn)
					}
					for _, v := range values {
						_, isString := v.(string)
						_, isNumber := v.(float64)
						if (typ == "string" && !isString) || (typ == "integer" && !isNumber) {
							bad("%s.%s: enum value %v does not fit type %s", rn, fn, v, typ)
						}
					}
				}
			}
			if cats, ok := field["categories"].([]any); ok {
				for _, c := range cats {
					if _, ok := c.(map[string]any)["value"]; !ok {
						bad("%s.%s: a category without a value", rn, fn)
					}
				}
			}
		}
		if mv, ok := schema["missingValues"].([]any); !ok || len(mv) == 0 || mv[0] != "" {
			bad("resource %s: missingValues %v", rn, schema["missingValues"])
		}
		pk, _ := schema["primaryKey"].([]any)
		for _, k := range pk {
			if !fieldNames[k.(string)] {
				bad("resource %s: primaryKey names %v, not a field", rn, k)
			}
		}
	}
	return problems
}

// TestDataPackageRefusesUnsafeFileNames: a file name that is a path or
// is used twice (in any case) is refused.
func TestDataPackageRefusesUnsafeFileNames(t *testing.T) {
	table, _ := everyType()
	for _, names := range [][]string{{"../spells.csv"}, {"a/spells.csv"}, {"spells (1).csv"}, {"spells.csv", "spells.csv"}, {"spells.csv", "Spells.csv"}} {
		m := research.ExportManifest{Export: "spells"}
		for _, n := range names {
			m.Files = append(m.Files, research.FileSum{Name: n, Format: "csv", SHA256: strings.Repeat("0", 64)})
		}
		if _, err := research.DataPackage(m, []research.Table{table}); err == nil {
			t.Errorf("%v: no error", names)
		}
	}
}

// rCodebookScript reads the CSV with the column classes the codebook
// gives (string → character, integer → integer, number → numeric,
// boolean → logical via its 1/0, date → Date), turning every warning
// into an error, and prints the classes and the municipalities.
const rCodebookScript = `
options(warn = 2)
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
pkg <- fromJSON(args[1], simplifyVector = FALSE)
res <- Filter(function(r) identical(r$format, "csv"), pkg$resources)[[1]]
classes <- c(string = "character", integer = "integer", number = "numeric", boolean = "integer", date = "Date")
fields <- res$schema$fields
colClasses <- setNames(unname(classes[vapply(fields, function(f) f$type, "")]), vapply(fields, function(f) f$name, ""))
d <- read.csv(file.path(dirname(args[1]), res$path), colClasses = colClasses, na.strings = unlist(res$schema$missingValues),
              encoding = "UTF-8", fileEncoding = "UTF-8")
for (f in fields) if (f$type == "boolean") d[[f$name]] <- as.logical(d[[f$name]])
stopifnot(identical(names(d), names(colClasses)), nrow(d) == res[["x-rows"]])
cat(toJSON(list(classes = lapply(d, function(x) class(x)[1]), municipalities = sort(unique(d$municipality))), auto_unbox = TRUE))
`

// TestCodebookTypesLoadTheCSVInR reads the demo data set's spells.csv,
// with a partnership in Oslo (0301) added, in R with the column classes
// of datapackage.json: every column loads without a warning, and the
// municipality keeps its leading zero.
func TestCodebookTypesLoadTheCSVInR(t *testing.T) {
	r := rscript(t, "jsonlite")
	store := demoStore(t)
	oslo := initiated
	oslo.PartnershipID, oslo.Municipality = "oslo", "0301"
	if _, err := app.New(store).Initiate(context.Background(), partnership.Command{Event: oslo, OccurredAt: &in2019}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	table, rows := demoSpells(t, store)
	dir := t.TempDir()
	_, _, sum := write(t, dir, research.FormatCSV, table, rows)
	body, err := research.DataPackage(manifestOf(map[string]research.Summary{"csv": sum}, "csv"), []research.Table{table})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "datapackage.json")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Classes        map[string]string
		Municipalities []string
	}
	runR(t, r, rCodebookScript, &out, path)
	want := map[string]string{research.TypeString: "character", research.TypeInteger: "integer", research.TypeBoolean: "logical", research.TypeDate: "Date", research.TypeNumber: "numeric"}
	for _, c := range table.Columns {
		if out.Classes[c.Name] != want[c.Type] {
			t.Errorf("%s (%s) loaded as %s, want %s", c.Name, c.Type, out.Classes[c.Name], want[c.Type])
		}
	}
	if !slices.Contains(out.Municipalities, "0301") {
		t.Fatalf("R lost Oslo's leading zero: %v", out.Municipalities)
	}
	t.Logf("R loaded %d spells with the codebook's types; municipalities %v", sum.Rows, out.Municipalities)
}

// TestDataPackageFindsTheTableOfDatedFileNames: a file named as the API
// names downloads ("spells-2026-11-26.csv") is described by the spells
// table; a file of no table is a resource without a schema.
func TestDataPackageFindsTheTableOfDatedFileNames(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	m := research.ExportManifest{Export: "spells", Files: []research.FileSum{
		{Name: "spells-2026-11-26.csv", Format: "csv", Bytes: 1, SHA256: sum},
		{Name: "events.ndjson", Format: "ndjson", MediaType: "application/x-ndjson", Bytes: 1, SHA256: sum},
	}}
	var tables []research.Table
	for _, e := range research.Exports() {
		tables = append(tables, e.Table)
	}
	body, err := research.DataPackage(m, tables)
	if err != nil {
		t.Fatal(err)
	}
	var pkg struct {
		Resources []struct {
			Name   string
			Schema *struct{ Fields []struct{ Name string } }
		}
	}
	if err := json.Unmarshal(body, &pkg); err != nil {
		t.Fatal(err)
	}
	if len(pkg.Resources) != 2 || pkg.Resources[0].Schema == nil || pkg.Resources[0].Schema.Fields[0].Name != "partnership_key" {
		t.Fatalf("the dated spells file has no spells schema: %s", body)
	}
	if pkg.Resources[1].Schema != nil {
		t.Fatalf("the events file got a schema: %s", body)
	}
}
