package research

import (
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"strings"
)

// The codebook of an export is a Frictionless Data Package
// (datapackage.json, https://datapackage.org): one resource per file of
// the manifest, each with the Table Schema of its Table, so tools that
// read data packages (frictionless-py, R's frictionless, DuckDB users by
// hand) load each column with its type, and people read what each column
// and code means. It follows version 1 of the specifications and uses
// version 2's categories for coded columns. What the specifications do
// not name is in properties starting with "x-": the labels in bokmål and
// nynorsk (x-labels), units (x-unit), why a column can identify a person
// (x-personal), and the export's position, rules version and citation.
// The package holds no wall-clock time: the same manifest and tables
// give the same bytes.

// dataPackage is datapackage.json; structs keep the keys' order.
type dataPackage struct {
	Profile         string       `json:"profile"`
	Name            string       `json:"name"`
	Title           string       `json:"title"`
	Description     string       `json:"description"`
	Sources         []dpSource   `json:"sources"`
	Resources       []dpResource `json:"resources"`
	Export          string       `json:"x-export"`
	Position        uint64       `json:"x-position"`
	AsOf            string       `json:"x-as-of,omitempty"`
	KnownAt         string       `json:"x-known-at,omitempty"`
	Project         string       `json:"x-project,omitempty"`
	KeyGeneration   int          `json:"x-key-generation,omitempty"`
	Wave            string       `json:"x-wave,omitempty"`
	WithoutFreeText bool         `json:"x-without-free-text,omitempty"`
	RulesVersion    string       `json:"x-rules-version"`
	SamspillVersion string       `json:"x-samspill-version"`
	Citation        string       `json:"x-citation,omitempty"`
	Rules           string       `json:"x-rules"`
}

type dpSource struct {
	Title string `json:"title"`
}

type dpResource struct {
	Profile     string            `json:"profile"`
	Name        string            `json:"name"`
	Path        string            `json:"path"`
	Title       string            `json:"title,omitempty"`
	Description string            `json:"description,omitempty"`
	Format      string            `json:"format"`
	MediaType   string            `json:"mediatype"`
	Encoding    string            `json:"encoding,omitempty"`
	Bytes       int64             `json:"bytes"`
	Hash        string            `json:"hash"`
	Dialect     *dpDialect        `json:"dialect,omitempty"`
	Schema      *dpSchema         `json:"schema,omitempty"`
	Rows        int               `json:"x-rows"`
	Labels      map[string]string `json:"x-labels,omitempty"`
}

// dpDialect is the CSV dialect writeCSV writes (encoding/csv's).
type dpDialect struct {
	Delimiter      string `json:"delimiter"`
	LineTerminator string `json:"lineTerminator"`
	QuoteChar      string `json:"quoteChar"`
	DoubleQuote    bool   `json:"doubleQuote"`
	Header         bool   `json:"header"`
}

type dpSchema struct {
	Fields        []dpField `json:"fields"`
	PrimaryKey    []string  `json:"primaryKey,omitempty"`
	MissingValues []string  `json:"missingValues"`
}

type dpField struct {
	Name         string            `json:"name"`
	Type         string            `json:"type"`
	Title        string            `json:"title,omitempty"`
	Description  string            `json:"description,omitempty"`
	Constraints  *dpConstraints    `json:"constraints,omitempty"`
	Categories   []dpCategory      `json:"categories,omitempty"`
	TrueValues   []string          `json:"trueValues,omitempty"`
	FalseValues  []string          `json:"falseValues,omitempty"`
	Labels       map[string]string `json:"x-labels,omitempty"`
	Descriptions map[string]string `json:"x-descriptions,omitempty"`
	Unit         string            `json:"x-unit,omitempty"`
	Personal     string            `json:"x-personal,omitempty"`
	StataLabels  string            `json:"x-stata-value-labels,omitempty"`
}

type dpConstraints struct {
	Required bool  `json:"required,omitempty"`
	Enum     []any `json:"enum,omitempty"`
}

// dpCategory is a code and its label; in a Stata file the value is the
// number 1..k and Code says which code it stands for.
type dpCategory struct {
	Value  any               `json:"value"`
	Label  string            `json:"label"`
	Code   string            `json:"x-code,omitempty"`
	Labels map[string]string `json:"x-labels"`
}

// dpName is what the specification allows as a package or resource
// name.
var dpName = regexp.MustCompile(`^[a-z0-9._-]+$`)

// DataPackage returns datapackage.json for an export: a resource for each
// of m.Files, described by the table whose Name the file's name starts
// with, before its extension or a "-" ("spells.dta" and
// "spells-2026-11-26.csv" → "spells"). A file of no table
// (such as an events export) is a resource without a schema. It fails
// when a file's name is not a plain file name (letters, digits, '.', '-',
// '_'), or is used twice.
func DataPackage(m ExportManifest, tables []Table) ([]byte, error) {
	name := "samspill-" + strings.ToLower(m.Export)
	if !dpName.MatchString(name) {
		return nil, fmt.Errorf("datapackage: export %q makes no package name", m.Export)
	}
	p := dataPackage{
		Profile:     "data-package",
		Name:        name,
		Title:       "Samspill research export: " + m.Export,
		Description: packageDescription(m),
		Sources: []dpSource{{Title: fmt.Sprintf("Samspill event log of municipal–voluntary partnerships, up to position %d (rules version %s, samspill %s)",
			m.Position, m.RulesVersion, m.SamspillVersion)}},
		Export: m.Export, Position: m.Position, AsOf: m.AsOf, KnownAt: m.KnownAt,
		Project: m.Project, KeyGeneration: m.KeyGeneration, Wave: m.Wave, WithoutFreeText: m.WithoutFreeText,
		RulesVersion: m.RulesVersion, SamspillVersion: m.SamspillVersion, Citation: m.Citation,
		Rules:     "docs/research.md",
		Resources: make([]dpResource, 0, len(m.Files)),
	}
	seen := map[string]bool{}
	for _, f := range m.Files {
		// The path is the file's own name (known_at makes upper-case
		// letters in it); the resource's name is the same in lower case,
		// as the specification wants names.
		name := strings.ToLower(f.Name)
		if f.Name != path.Base(f.Name) || f.Name == "." || !dpName.MatchString(name) || seen[name] {
			return nil, fmt.Errorf("datapackage: file name %q is not a plain file name used once", f.Name)
		}
		seen[name] = true
		r := dpResource{
			Profile: "data-resource", Name: name, Path: f.Name, Format: f.Format,
			MediaType: f.MediaType, Bytes: f.Bytes, Hash: "sha256:" + f.SHA256, Rows: f.Rows,
		}
		if r.MediaType == "" {
			r.MediaType = MediaType(f.Format)
		}
		if f.Format == FormatCSV {
			r.Profile, r.Encoding = "tabular-data-resource", "utf-8"
			r.Dialect = &dpDialect{Delimiter: ",", LineTerminator: "\n", QuoteChar: `"`, DoubleQuote: true, Header: true}
		}
		if t, ok := tableOf(f.Name, tables); ok {
			r.Title, r.Description = t.Title, t.Description
			r.Labels = langs(t.Title, t.TitleNB, "")
			r.Schema = schemaOf(t, f.Format)
		}
		p.Resources = append(p.Resources, r)
	}
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("datapackage: %w", err)
	}
	return append(b, '\n'), nil
}

// tableOf finds the table of a file name: the one with the longest Name
// that is the name without its extension, or its part before a "-".
func tableOf(file string, tables []Table) (Table, bool) {
	base := strings.TrimSuffix(file, path.Ext(file))
	var found Table
	for _, t := range tables {
		if (base == t.Name || strings.HasPrefix(base, t.Name+"-")) && len(t.Name) > len(found.Name) {
			found = t
		}
	}
	return found, found.Name != ""
}

// packageDescription says in a sentence what the export holds and how to
// reproduce it.
func packageDescription(m ExportManifest) string {
	var b strings.Builder
	fmt.Fprintf(&b, "The %s export of samspill", m.Export)
	if m.Wave != "" {
		fmt.Fprintf(&b, " of survey wave %s", m.Wave)
		if m.WithoutFreeText {
			b.WriteString(" (free-text items left out)")
		}
	}
	fmt.Fprintf(&b, ", read from the event log up to position %d", m.Position)
	if m.AsOf != "" {
		fmt.Fprintf(&b, ", censored at the end of %s (Europe/Oslo)", m.AsOf)
	}
	if m.KnownAt != "" {
		fmt.Fprintf(&b, ", as known at %s", m.KnownAt)
	}
	if m.Project != "" {
		fmt.Fprintf(&b, ", with the pseudonyms of research project %s (key generation %d)", m.Project, m.KeyGeneration)
	} else {
		b.WriteString(", with pseudonyms that hold for this export only")
	}
	fmt.Fprintf(&b, ". The same position, parameters and rules version %s give the same files.", m.RulesVersion)
	return b.String()
}

// schemaOf is a table's Table Schema as a file of the format holds it: a
// Stata file stores a coded column as the numbers 1..k of its codes.
func schemaOf(t Table, format string) *dpSchema {
	s := &dpSchema{PrimaryKey: t.PrimaryKey, MissingValues: []string{""}, Fields: make([]dpField, len(t.Columns))}
	for i, c := range t.Columns {
		f := dpField{
			Name: c.Name, Type: c.Type, Title: c.Label, Description: c.Description,
			Labels: langs(c.Label, c.LabelNB, c.LabelNN), Descriptions: langs(c.Description, c.DescriptionNB, c.DescriptionNN),
			Unit: c.Unit, Personal: c.Personal,
		}
		if c.Required {
			f.Constraints = &dpConstraints{Required: true}
		}
		if c.Type == TypeBoolean {
			f.TrueValues, f.FalseValues = []string{"1"}, []string{"0"}
		}
		if len(c.Values) > 0 {
			stata := format == FormatStata
			if stata {
				f.Type, f.StataLabels = TypeInteger, c.Name
			}
			if f.Constraints == nil {
				f.Constraints = &dpConstraints{}
			}
			for k, v := range c.Values {
				cat := dpCategory{Value: v.Code, Label: v.Label, Labels: langs(v.Label, v.LabelNB, v.LabelNN)}
				if c.Type == TypeInteger {
					cat.Value = k + 1 // a labelled scale: its codes are "1".."k"
				}
				if stata {
					cat.Value, cat.Code = k+1, v.Code
				}
				f.Constraints.Enum = append(f.Constraints.Enum, cat.Value)
				f.Categories = append(f.Categories, cat)
			}
		}
		s.Fields[i] = f
	}
	return s
}

// langs are a text's versions by language, without the empty ones (nil
// when all are).
func langs(en, nb, nn string) map[string]string {
	m := map[string]string{}
	for _, l := range [][2]string{{"en", en}, {"nb", nb}, {"nn", nn}} {
		if l[1] != "" {
			m[l[0]] = l[1]
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}
