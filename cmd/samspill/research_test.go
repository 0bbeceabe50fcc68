package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samspill/samspill/research"
)

func runOK(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), args, &out, &errOut, noEnv); err != nil {
		t.Fatalf("samspill %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// readManifest reads FILE.manifest.json and checks that it describes
// FILE: its name, bytes and SHA-256.
func readManifest(t *testing.T, file string) research.ExportManifest {
	t.Helper()
	b, err := os.ReadFile(file + ".manifest.json")
	if err != nil {
		t.Fatal(err)
	}
	var m research.ExportManifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	body, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	if len(m.Files) != 1 || m.Files[0].SHA256 != hex.EncodeToString(sum[:]) || m.Files[0].Bytes != int64(len(body)) || m.Files[0].Name != filepath.Base(file) ||
		m.SamspillVersion != version || m.RulesVersion != research.RulesVersion || m.Citation == "" {
		t.Fatalf("manifest %+v does not describe %s", m, file)
	}
	return m
}

func TestExportImportRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	runOK(t, "demo", "--data", src)

	events := filepath.Join(dir, "events.ndjson")
	runOK(t, "export", "events", "--data", src, "--out", events)
	m := readManifest(t, events)
	if m.Export != "events" || m.Files[0].Rows < 1000 || m.Position == 0 {
		t.Fatalf("manifest %+v", m)
	}
	out := runOK(t, "import", events, "--data", dst)
	if !strings.Contains(out, "imported ") || !strings.Contains(out, "(0 were already there)") {
		t.Fatalf("import said %q", out)
	}
	if out := runOK(t, "import", events, "--data", dst); !strings.Contains(out, "imported 0 events") {
		t.Fatalf("second import said %q", out)
	}
	again := filepath.Join(dir, "again.ndjson")
	runOK(t, "export", "events", "--data", dst, "--out", again)
	if m2 := readManifest(t, again); m2.Files[0].SHA256 != m.Files[0].SHA256 {
		t.Fatal("export → import → export is not byte-identical")
	}

	// Spells from the source at a fixed date are reproducible, and differ
	// from the imported store's only in keys (another installation secret).
	spells := filepath.Join(dir, "spells.csv")
	runOK(t, "export", "spells", "--as-of", "2025-12-31", "--at-position", "500", "--data", src, "--out", spells)
	sm := readManifest(t, spells)
	if sm.AsOf != "2025-12-31" || sm.Position != 500 || sm.Files[0].Rows == 0 {
		t.Fatalf("spells manifest %+v", sm)
	}
	runOK(t, "export", "spells", "--as-of", "2025-12-31", "--at-position", "500", "--data", src, "--out", spells)
	if readManifest(t, spells).Files[0].SHA256 != sm.Files[0].SHA256 {
		t.Fatal("the same spells export twice differs")
	}
	stdout := runOK(t, "export", "spells", "--as-of", "2025-12-31", "--at-position", "500", "--data", src)
	if body, _ := os.ReadFile(spells); stdout != string(body) {
		t.Fatal("spells on stdout differ from the file")
	}
}

func TestExportImportErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	runOK(t, "demo", "--data", data)
	bad := filepath.Join(dir, "bad.ndjson")
	if err := os.WriteFile(bad, []byte("{\"event_id\":\"x\"}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"export"}, 2, "one of events, spells"},
		{[]string{"export", "people", "--data", data}, 2, "one of events, spells"},
		{[]string{"export", "events", "--as-of", "2024-01-01", "--data", data}, 2, "tabular exports only"},
		{[]string{"export", "spells", "--format", "xlsx", "--data", data}, 2, "one of csv, dta, parquet"},
		{[]string{"export", "events", "--format", "csv", "--data", data}, 2, "one of ndjson"},
		{[]string{"export", "spells", "--known-at", "tomorrow", "--data", data}, 2, "--known-at"},
		{[]string{"export", "spells", "--known-at", "2999-01-01", "--data", data}, 1, "known_at is after now"},
		{[]string{"export", "spells", "--project", "offri", "--data", data}, 1, "research project not found: offri"},
		{[]string{"export", "spells", "--as-of", "yesterday", "--data", data}, 2, "not a date"},
		{[]string{"export", "events", "--at-position", "999999", "--data", data}, 1, "beyond the store's head"},
		{[]string{"export", "events", "--data", filepath.Join(dir, "none")}, 1, "no event store"},
		{[]string{"import", "--data", data}, 2, "want the file"},
		{[]string{"import", filepath.Join(dir, "missing.ndjson"), "--data", data}, 1, "no such file"},
		{[]string{"import", bad, "--data", filepath.Join(dir, "fresh")}, 1, "line 1:"},
	} {
		var errOut bytes.Buffer
		err := run(context.Background(), tc.args, io.Discard, io.Discard, noEnv)
		code := exitCode(err, &errOut)
		if code != tc.code || strings.Count(errOut.String(), "\n") != 1 || !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and one line with %q", tc.args, code, errOut.String(), tc.code, tc.want)
		}
	}
}

// TestExportSpellsAfterTodayIsRefused: the CLI, like the API, refuses to
// censor spells at a day not yet observed, with one line and no file.
func TestExportSpellsAfterTodayIsRefused(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "spells.csv")
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"export", "spells", "--as-of", "2999-01-01", "--data", dir, "--out", out}, &stdout, &stderr, noEnv)
	if err == nil || !strings.Contains(err.Error(), "after today") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("export spells --as-of 2999-01-01: %v", err)
	}
	if _, statErr := os.Stat(out); !os.IsNotExist(statErr) {
		t.Fatalf("a refused export wrote %s (%v)", out, statErr)
	}
}

// TestExportFormatsManifestAndDataPackage: export writes each format of a
// tabular export into a folder under the file's own name (position and
// as_of in it), with the manifest and datapackage.json beside it; the
// same command gives the same bytes, and --known-at is named in the
// file's name and manifest.
func TestExportFormatsManifestAndDataPackage(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	runOK(t, "demo", "--data", data)
	for _, tc := range []struct{ format string }{{"csv"}, {"dta"}, {"parquet"}} {
		t.Run(tc.format, func(t *testing.T) {
			out := filepath.Join(dir, tc.format)
			if err := os.Mkdir(out, 0o755); err != nil {
				t.Fatal(err)
			}
			said := runOK(t, "export", "spells", "--format", tc.format, "--as-of", "2025-12-31", "--at-position", "500", "--data", data, "--out", out)
			file := filepath.Join(out, "spells-p500-2025-12-31."+tc.format)
			if !strings.Contains(said, "wrote "+file) {
				t.Fatalf("export said %q, want it to name %s", said, file)
			}
			m := readManifest(t, file)
			if m.Export != "spells" || m.Position != 500 || m.AsOf != "2025-12-31" || m.Files[0].Format != tc.format || m.KeyGeneration != 0 || m.Project != "" ||
				!strings.Contains(m.Citation, "samspill research export spells, position 500, as of 2025-12-31") {
				t.Fatalf("manifest %+v", m)
			}
			pkg, err := os.ReadFile(filepath.Join(out, "datapackage.json"))
			if err != nil {
				t.Fatal(err)
			}
			var dp struct {
				Resources []struct{ Path, Hash string }
			}
			if err := json.Unmarshal(pkg, &dp); err != nil || len(dp.Resources) != 1 || dp.Resources[0].Path != filepath.Base(file) || dp.Resources[0].Hash != "sha256:"+m.Files[0].SHA256 {
				t.Fatalf("datapackage.json %s (%v) does not describe %s", pkg, err, file)
			}
			again := filepath.Join(dir, "again."+tc.format)
			runOK(t, "export", "spells", "--format", tc.format, "--as-of", "2025-12-31", "--at-position", "500", "--data", data, "--out", again)
			if readManifest(t, again).Files[0].SHA256 != m.Files[0].SHA256 {
				t.Fatal("the same export twice differs")
			}
		})
	}

	known := filepath.Join(dir, "known")
	if err := os.Mkdir(known, 0o755); err != nil {
		t.Fatal(err)
	}
	runOK(t, "export", "spells", "--as-of", "2025-12-31", "--known-at", "2025-06-30", "--at-position", "500", "--data", data, "--out", known+string(os.PathSeparator))
	matches, _ := filepath.Glob(filepath.Join(known, "spells-p500-2025-12-31-known-*.csv"))
	if len(matches) != 1 {
		t.Fatalf("files in %s: %v", known, matches)
	}
	if m := readManifest(t, matches[0]); m.KnownAt != "2025-06-30T21:59:59.999999999Z" {
		t.Fatalf("known_at %q, want the end of 2025-06-30 in Norway", m.KnownAt)
	}
}
