package main

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/doccheck"
)

// The project's reference pages, docs/api.md and docs/events.md, and the
// OpenAPI document describe what the server does. These tests fail when
// the server that serve builds has a route, or the API a problem type, or
// the envelope a field, that they do not describe.

const (
	apiDocPath    = "../../docs/api.md"
	eventsDocPath = "../../docs/events.md"
	repoRoot      = "../.."
)

func readDoc(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return string(b)
}

// routeParam matches gin's path parameters (:id) and wildcards (*file).
var routeParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)

// openAPIPath writes a gin route path as OpenAPI does: /p/:id → /p/{id}.
func openAPIPath(ginPath string) string { return routeParam.ReplaceAllString(ginPath, "{$1}") }

// documentedRoute matches a route named in a heading: `GET /api/v1/stats`.
var documentedRoute = regexp.MustCompile("`(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS) (/[^`]*)`")

// TestDocsDescribeEveryRoute checks every route of the engine serve builds
// (the API and the pages): docs/api.md has a heading naming it
// ("### `GET /api/v1/partnerships/{id}`"), no heading names a route the
// engine lacks, and every /api/v1 route is a path and method of the OpenAPI
// document the server serves.
func TestDocsDescribeEveryRoute(t *testing.T) {
	t.Parallel()
	site := newTestSite(t)
	doc := readDoc(t, apiDocPath)

	routes := map[string]bool{}
	for _, r := range site.engine.Routes() {
		routes[r.Method+" "+openAPIPath(r.Path)] = true
	}
	if len(routes) < 40 {
		t.Fatalf("the engine registers %d routes; expected the API and the pages", len(routes))
	}
	headed := map[string]bool{}
	for _, h := range doccheck.Headings(doc) {
		for _, m := range documentedRoute.FindAllStringSubmatch(h.Text, -1) {
			r := m[1] + " " + m[2]
			headed[r] = true
			if !routes[r] {
				t.Errorf("%s: heading %q names %s, which the server does not register", apiDocPath, h.Text, r)
			}
		}
	}

	status, body := site.call(t, noToken, http.MethodGet, "/api/v1/openapi.json", "", "")
	if status != http.StatusOK {
		t.Fatalf("GET /api/v1/openapi.json: %d %s", status, body)
	}
	var openAPI struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal([]byte(body), &openAPI); err != nil {
		t.Fatalf("the OpenAPI document is not JSON: %v", err)
	}

	for _, r := range slices.Sorted(maps.Keys(routes)) {
		if !headed[r] {
			t.Errorf("%s: route %s has no heading `%s`", apiDocPath, r, r)
		}
		method, path, _ := strings.Cut(r, " ")
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		if _, ok := openAPI.Paths[path][strings.ToLower(method)]; !ok {
			t.Errorf("the OpenAPI document has no operation %s", r)
		}
	}
}

// problemTypes returns the problem type URN of every kind of failure
// declared in package edge (the constants of type Kind, outside tests):
// the API answers urn:samspill:problem:<kind>.
func problemTypes(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(repoRoot, "edge", "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatalf("parse %s: %v", name, err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			spec, ok := n.(*ast.ValueSpec)
			if !ok {
				return true
			}
			if typ, ok := spec.Type.(*ast.Ident); !ok || typ.Name != "Kind" {
				return true
			}
			for _, v := range spec.Values {
				if lit, ok := v.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if kind, err := strconv.Unquote(lit.Value); err == nil {
						out = append(out, "urn:samspill:problem:"+kind)
					}
				}
			}
			return true
		})
	}
	slices.Sort(out)
	return out
}

// TestDocsDescribeEveryProblemType checks that docs/api.md's Errors
// section and the OpenAPI document name every problem type the API
// answers with.
func TestDocsDescribeEveryProblemType(t *testing.T) {
	t.Parallel()
	errorsSection, ok := doccheck.Section(readDoc(t, apiDocPath), "Errors")
	if !ok {
		t.Fatalf("%s has no section Errors", apiDocPath)
	}
	openAPI := readDoc(t, filepath.Join(repoRoot, "http", "openapi.json"))
	types := problemTypes(t)
	if len(types) < 10 {
		t.Fatalf("found %d problem types in http/*.go: %q", len(types), types)
	}
	for _, urn := range types {
		if !doccheck.Names(errorsSection, urn) {
			t.Errorf("%s: Errors does not describe the problem type `%s`", apiDocPath, urn)
		}
		if !strings.Contains(openAPI, urn) {
			t.Errorf("http/openapi.json does not name the problem type %s", urn)
		}
	}
}

// TestDocsDescribeTheEnvelope checks that docs/events.md's section on the
// envelope names every field of a stored event, metadata.actor.subject
// included.
func TestDocsDescribeTheEnvelope(t *testing.T) {
	t.Parallel()
	section, ok := doccheck.Section(readDoc(t, eventsDocPath), "The envelope")
	if !ok {
		t.Fatalf("%s has no section The envelope", eventsDocPath)
	}
	for _, p := range doccheck.JSONPaths(reflect.TypeFor[eventstore.RecordedEvent]()) {
		if !doccheck.Names(section, p) {
			t.Errorf("%s: The envelope does not describe the field `%s`", eventsDocPath, p)
		}
	}
}

// outsideContract matches a citation of the product's outside contract
// (the API, event and command-line specifications it was built to), which
// is not part of the repository: the reference pages in docs/ and the
// README replace it.
var outsideContract = regexp.MustCompile(`\b(?:API|EVENTS|CLI)\.md\b`)

// TestNoCitationOfFilesOutsideTheRepository checks that no source,
// document, template or OpenAPI text cites the outside contract's files.
func TestNoCitationOfFilesOutsideTheRepository(t *testing.T) {
	t.Parallel()
	err := filepath.WalkDir(repoRoot, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || d.Name() == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		switch filepath.Ext(path) {
		case ".go", ".md", ".json", ".html", ".js", ".css", ".sh", ".yml", ".yaml", ".tmpl":
		default:
			if d.Name() != "Makefile" && d.Name() != "Dockerfile" {
				return nil
			}
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if m := outsideContract.FindString(line); m != "" {
				t.Errorf("%s:%d cites %s, which is not in the repository (cite docs/api.md, docs/events.md or the README)", path, i+1, m)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
