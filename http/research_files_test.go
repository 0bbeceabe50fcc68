package http

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/samspill/samspill/research"
)

// TestResearchFilesEveryExportAndFormat: every export of the registry in
// every format answers with its content type, a download name that
// carries the position and as_of, the export's headers and a body whose
// SHA-256 is the trailer's.
func TestResearchFilesEveryExportAndFormat(t *testing.T) {
	a := newResearchAPI(t)
	pos := a.loadDemo()
	p := strconv.FormatUint(pos, 10)
	type fileCase struct {
		path, contentType, filename string
	}
	var cases []fileCase
	for _, e := range research.Exports() {
		name := e.Table.Name
		cases = append(cases,
			fileCase{"/api/v1/research/" + name + ".csv?as_of=2024-05-31", "text/csv; charset=utf-8", name + "-p" + p + "-2024-05-31.csv"},
			fileCase{"/api/v1/research/" + name + ".dta?as_of=2024-05-31", "application/x-stata-dta", name + "-p" + p + "-2024-05-31.dta"},
			fileCase{"/api/v1/research/" + name + ".parquet?as_of=2024-05-31", "application/vnd.apache.parquet", name + "-p" + p + "-2024-05-31.parquet"},
		)
	}
	cases = append(cases,
		fileCase{"/api/v1/research/spells.csv?as_of=2024-05-31", "text/csv; charset=utf-8", "spells-p" + p + "-2024-05-31.csv"},
		fileCase{"/api/v1/research/events.ndjson", "application/x-ndjson", "events-p" + p + ".ndjson"},
	)
	for _, tc := range cases {
		t.Run(tc.path, func(t *testing.T) {
			f := a.export(tc.path)
			f.checked(t)
			if ct := f.header.Get("Content-Type"); ct != tc.contentType {
				t.Errorf("Content-Type %q, want %q", ct, tc.contentType)
			}
			if cd := f.header.Get("Content-Disposition"); cd != `attachment; filename="`+tc.filename+`"` {
				t.Errorf("Content-Disposition %q, want the name %s", cd, tc.filename)
			}
			if got := f.header.Get("X-Samspill-Position"); got != p {
				t.Errorf("X-Samspill-Position %q, want %s", got, p)
			}
		})
	}
}

// TestResearchSpecSpellsRouteUnchanged: /research/spells.csv answers as the
// spec says (the spec's thirteen columns first, in its order, then the
// covariates rules version 2 adds; default as_of today) and the same bytes
// as the generic route.
func TestResearchSpecSpellsRouteUnchanged(t *testing.T) {
	a := newResearchAPI(t)
	a.loadDemo()
	spec := a.export("/api/v1/research/spells.csv").checked(t)
	if !strings.HasPrefix(string(spec), "partnership_key,municipality,service_area,collaboration_model,start_date,tstart,tstop,ended,end_reason,n_partners,n_goal_changes,anchoring_level,paused,lead_kind,") {
		t.Fatalf("spells.csv starts %.200q", spec)
	}
	if bytes.Count(spec, []byte("\n")) < 50 {
		t.Fatalf("spells.csv of the demo has only %d lines", bytes.Count(spec, []byte("\n")))
	}
	generic := a.export("/api/v1/research/spells.csv?as_of=2024-06-01")
	if !bytes.Equal(generic.checked(t), spec) || generic.header.Get("X-Samspill-As-Of") != "2024-06-01" {
		t.Fatal("spells.csv with as_of=today differs from spells.csv without")
	}
}

// TestResearchManifestMatchesDownload: the manifest's SHA-256, rows and
// bytes are those of the file downloaded at the same position; without
// at_position the manifest pins the head, and its citation URL gives the
// same bytes after later writes.
func TestResearchManifestMatchesDownload(t *testing.T) {
	a := newResearchAPI(t)
	pos := a.loadDemo()
	r := a.do(http.MethodGet, "/api/v1/research/manifest.json?export=spells&as_of=2024-05-31", nil)
	wantStatus(t, r, http.StatusOK)
	m := decodeBody[research.ExportManifest](t, r)
	if m.Export != "spells" || m.Position != pos || m.AsOf != "2024-05-31" || m.RulesVersion != research.RulesVersion || m.SamspillVersion != "test-version" || len(m.Files) != 1 {
		t.Fatalf("manifest %+v", m)
	}
	file := m.Files[0]
	if file.Name != "spells-p"+strconv.FormatUint(pos, 10)+"-2024-05-31.csv" || file.Format != "csv" || file.MediaType != "text/csv; charset=utf-8" {
		t.Fatalf("manifest file %+v", file)
	}

	// More events after the manifest: the file at its position is still
	// the one it describes, fetched by the URL its citation names.
	pt := a.newPartnership()
	a.post(pt, "/milestones", obj{"kind": "meeting", "title": "Oppstart"}, http.StatusOK)
	i := strings.Index(m.Citation, a.srv.URL+"/api/v1/research/")
	if i < 0 {
		t.Fatalf("citation %q names no URL of this server", m.Citation)
	}
	cited := strings.TrimPrefix(m.Citation[i:], a.srv.URL)
	if !strings.Contains(m.Citation, "samspill research export spells, position "+strconv.FormatUint(pos, 10)+", as of 2024-05-31, rules version "+research.RulesVersion+", samspill test-version.") {
		t.Fatalf("citation %q", m.Citation)
	}
	body := a.export(cited).checked(t)
	sum := sha256.Sum256(body)
	if hex.EncodeToString(sum[:]) != file.SHA256 || int64(len(body)) != file.Bytes || bytes.Count(body, []byte("\n"))-1 != file.Rows {
		t.Fatalf("download of %s: %d bytes, sha256 %x; manifest %+v", cited, len(body), sum, file)
	}

	// The same manifest asked again at its position is byte-identical;
	// at the head now it is not.
	again := a.do(http.MethodGet, "/api/v1/research/manifest.json?export=spells&as_of=2024-05-31&at_position="+strconv.FormatUint(pos, 10), nil)
	wantStatus(t, again, http.StatusOK)
	if !bytes.Equal(again.Body, r.Body) {
		t.Fatalf("manifest at the same position differs:\n%s\n%s", r.Body, again.Body)
	}
	head := decodeBody[research.ExportManifest](t, a.do(http.MethodGet, "/api/v1/research/manifest.json?export=spells&as_of=2024-05-31", nil))
	if head.Position == pos || head.Files[0].SHA256 == file.SHA256 {
		t.Fatalf("the manifest at the head %+v misses the later writes", head)
	}

	// The events' manifest describes the events file.
	em := decodeBody[research.ExportManifest](t, a.do(http.MethodGet, "/api/v1/research/manifest.json?export=events&at_position="+strconv.FormatUint(pos, 10), nil))
	events := a.export("/api/v1/research/events.ndjson?at_position=" + strconv.FormatUint(pos, 10))
	events.checked(t)
	if em.Files[0].SHA256 != events.trailer.Get("X-Samspill-Sha256") || em.Files[0].Format != "ndjson" || em.AsOf != "" {
		t.Fatalf("events manifest %+v, trailer %s", em, events.trailer.Get("X-Samspill-Sha256"))
	}
}

// TestResearchDataPackage: datapackage.json names the file of the
// manifest, with its hash and a schema of the export's columns.
func TestResearchDataPackage(t *testing.T) {
	a := newResearchAPI(t)
	pos := a.loadDemo()
	q := "?export=spells&as_of=2024-05-31&at_position=" + strconv.FormatUint(pos, 10)
	m := decodeBody[research.ExportManifest](t, a.do(http.MethodGet, "/api/v1/research/manifest.json"+q, nil))
	r := a.do(http.MethodGet, "/api/v1/research/datapackage.json"+q, nil)
	wantStatus(t, r, http.StatusOK)
	var pkg struct {
		Resources []struct {
			Path, Hash string
			Schema     struct{ Fields []struct{ Name string } }
		}
	}
	if err := json.Unmarshal(r.Body, &pkg); err != nil {
		t.Fatal(err)
	}
	if len(pkg.Resources) != 1 || pkg.Resources[0].Path != m.Files[0].Name || !strings.HasSuffix(pkg.Resources[0].Hash, m.Files[0].SHA256) {
		t.Fatalf("datapackage %s for manifest %+v", r.Body, m)
	}
	var names []string
	for _, f := range pkg.Resources[0].Schema.Fields {
		names = append(names, f.Name)
	}
	if strings.Join(names, ",") != strings.Join(research.SpellsHeader, ",") {
		t.Fatalf("datapackage fields %v", names)
	}
}

// TestResearchFilesRefuseBadInput: future as_of and known_at, unknown
// exports and formats, a project the caller is not granted, and roles
// that may not export are refused with problems naming what is wrong.
func TestResearchFilesRefuseBadInput(t *testing.T) {
	a := newResearchAPI(t)
	a.newPartnership()
	for _, tc := range []struct {
		path, field string
	}{
		{"/api/v1/research/spells.csv?as_of=2024-06-02", "as_of"},
		{"/api/v1/research/spells.dta?as_of=2999-01-01", "as_of"},
		{"/api/v1/research/spells.csv?known_at=2024-06-02", "known_at"},
		{"/api/v1/research/spells.parquet?known_at=2024-06-01T10:00:01Z", "known_at"},
		{"/api/v1/research/events.ndjson?known_at=2025-01-01", "known_at"},
		{"/api/v1/research/events.ndjson?known_at=soon", "known_at"},
		{"/api/v1/research/events.ndjson?as_of=2024-05-01", "as_of"},
		{"/api/v1/research/spells.csv?project=", "project"},
		{"/api/v1/research/manifest.json?export=people", "export"},
		{"/api/v1/research/manifest.json", "export"},
		{"/api/v1/research/manifest.json?export=spells&format=xlsx", "format"},
		{"/api/v1/research/datapackage.json?export=events&format=csv", "format"},
		{"/api/v1/research/manifest.json?export=spells&at_position=99", "at_position"},
	} {
		r := a.do(http.MethodGet, tc.path, nil)
		if p := wantProblem(t, r, http.StatusBadRequest, "urn:samspill:problem:validation"); !p.hasField(tc.field, false) {
			t.Errorf("%s: problem %+v does not name %s", tc.path, p, tc.field)
		}
	}
	for _, path := range []string{"/api/v1/research/people.csv", "/api/v1/research/spells.xlsx", "/api/v1/research/spells", "/api/v1/research/events.csv"} {
		r := a.do(http.MethodGet, path, nil)
		p := wantProblem(t, r, http.StatusNotFound, "urn:samspill:problem:not-found")
		if !strings.Contains(p.Detail, "one of") {
			t.Errorf("%s: %q lists no valid choice", path, p.Detail)
		}
	}
	// Until research projects are merged no project exists.
	r := a.do(http.MethodGet, "/api/v1/research/spells.csv?project=offri", nil)
	wantProblem(t, r, http.StatusNotFound, "urn:samspill:problem:not-found")

	// known_at in the past is taken and named.
	past := a.export("/api/v1/research/spells.csv?known_at=" + url.QueryEscape("2024-06-01T09:00:00Z"))
	past.checked(t)
	if past.header.Get("X-Samspill-Known-At") != "2024-06-01T09:00:00Z" || !strings.Contains(past.header.Get("Content-Disposition"), "-known-20240601T090000Z.csv") {
		t.Fatalf("known_at: headers %v", past.header)
	}

	for _, who := range []string{"viewer", "arendal"} {
		for _, path := range []string{"/api/v1/research/spells.csv", "/api/v1/research/spells.dta", "/api/v1/research/manifest.json?export=spells", "/api/v1/research/datapackage.json?export=spells", "/api/v1/research/events.ndjson"} {
			r := a.do(http.MethodGet, path, nil, "Authorization", bearer(who))
			wantProblem(t, r, http.StatusForbidden, "urn:samspill:problem:forbidden")
		}
	}
	r = a.do(http.MethodGet, "/api/v1/research/spells.csv", nil, "Authorization", bearer("researcher"))
	wantStatus(t, r, http.StatusOK)
}
