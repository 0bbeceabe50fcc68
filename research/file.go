package research

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/eventstore"
)

// FormatNDJSON is the events export's format: one JSON object per line.
const FormatNDJSON = "ndjson"

// Errors of naming a research file.
var (
	// ErrUnknownExport means an export samspill does not write.
	ErrUnknownExport = errors.New("unknown research export")
	// ErrKnownAtAhead means a file was asked as known at a time still to
	// come: what will be recorded by then is not known yet, so the bytes
	// could change, and it is refused.
	ErrKnownAtAhead = errors.New("known_at is after now")
)

// A File names one research file and everything its bytes depend on: the
// export, the format, the position, the censoring date, the time of
// knowledge, the pseudonym keys and a project's municipalities. The API,
// the CLI and the research page name, write and cite files through it, so
// that a download, its manifest and the page's links always agree.
type File struct {
	// Export is KindEvents or the name of one of Exports().
	Export string
	// Format is FormatNDJSON for events, one of Formats otherwise.
	Format string
	// Position is the last event read (resolved by Position).
	Position uint64
	// AsOf is the censoring date of a tabular export (YYYY-MM-DD); "" for
	// events.
	AsOf string
	// KnownAt, if set, keeps only what had been recorded by then.
	KnownAt *time.Time
	// Keys make the pseudonyms: a project's, or OneOffKeys of the file.
	Keys Keys
	// Municipalities, if any, restrict the file to a project's.
	Municipalities []kommune.Code
	// Wave is the survey wave of a responses export (KindResponses);
	// "" for every other export.
	Wave string
	// WithoutFreeText leaves a responses export's free-text items out
	// (free text can identify a person).
	WithoutFreeText bool
}

// ExportNames lists every export a File may name: events and the tabular
// exports, in the order pages and docs list them.
func ExportNames() []string {
	names := []string{KindEvents}
	for _, e := range Exports() {
		names = append(names, e.Table.Name)
	}
	return append(names, KindResponses)
}

// FormatsOf lists the formats an export is written in (nil for an
// unknown export).
func FormatsOf(export string) []string {
	if export == KindEvents {
		return []string{FormatNDJSON}
	}
	if _, ok := Lookup(export); ok || export == KindResponses {
		return Formats
	}
	return nil
}

// Check refuses an export samspill does not write (ErrUnknownExport) and a
// format it does not write the export in (ErrFormat), naming the valid
// ones.
func (f File) Check() error {
	formats := FormatsOf(f.Export)
	if formats == nil {
		return fmt.Errorf("%w %q (one of %s)", ErrUnknownExport, f.Export, strings.Join(ExportNames(), ", "))
	}
	if !slices.Contains(formats, f.Format) {
		return fmt.Errorf("%w %q for %s (one of %s)", ErrFormat, f.Format, f.Export, strings.Join(formats, ", "))
	}
	return nil
}

// CheckKnownAt refuses a time of knowledge after now with ErrKnownAtAhead.
func CheckKnownAt(knownAt, now time.Time) error {
	if knownAt.After(now) {
		return fmt.Errorf("%w: %s is after %s", ErrKnownAtAhead, knownAt.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return nil
}

// Path is the file's path under the research routes: "spells.dta",
// "events.ndjson".
func (f File) Path() string { return f.Export + "." + f.Format }

// Name is the file's download name: the export, the project if any, the
// position, the censoring date and the time of knowledge if any, so that
// files of different parameters never share a name:
// spells-offri-p1234-2026-12-07.dta, events-p1234.ndjson,
// spells-p1234-2026-12-07-known-20261205T230000Z.csv.
func (f File) Name() string {
	parts := []string{f.Export}
	if f.Keys.Project != "" {
		parts = append(parts, f.Keys.Project)
	}
	if f.Wave != "" {
		parts = append(parts, f.Wave)
	}
	parts = append(parts, "p"+strconv.FormatUint(f.Position, 10))
	if f.AsOf != "" {
		parts = append(parts, f.AsOf)
	}
	if f.KnownAt != nil {
		parts = append(parts, "known-"+f.KnownAt.UTC().Format("20060102T150405Z"))
	}
	if f.WithoutFreeText {
		parts = append(parts, "no-free-text")
	}
	return strings.Join(parts, "-") + "." + f.Format
}

// Query is the query string that asks for the same file again: always the
// position, so that it is reproducible, and as_of, known_at and project
// when set.
func (f File) Query() url.Values {
	q := url.Values{"at_position": {strconv.FormatUint(f.Position, 10)}}
	if f.AsOf != "" {
		q.Set("as_of", f.AsOf)
	}
	if f.KnownAt != nil {
		q.Set("known_at", f.KnownAt.UTC().Format(time.RFC3339Nano))
	}
	if f.Keys.Project != "" {
		q.Set("project", f.Keys.Project)
	}
	if f.Wave != "" {
		q.Set("wave", f.Wave)
	}
	if f.WithoutFreeText {
		q.Set("free_text", "0")
	}
	return q
}

// OneOffKeys returns the one-off keys of the file under the
// installation's secret: derived from the export and its parameters
// (position, as_of, known_at), not from the format, so that the CSV and
// the Stata file of one export join while two exports with other
// parameters cannot be linked.
func (f File) OneOffKeys(secret []byte) Keys {
	params := "export=" + f.Export + "\x00position=" + strconv.FormatUint(f.Position, 10) + "\x00as_of=" + f.AsOf
	if f.KnownAt != nil {
		params += "\x00known_at=" + f.KnownAt.UTC().Format(time.RFC3339Nano)
	}
	return OneOffKeys(secret, params)
}

// MediaType is the content type of a format.
func MediaType(format string) string {
	switch format {
	case FormatCSV:
		return "text/csv; charset=utf-8"
	case FormatStata:
		return "application/x-stata-dta"
	case FormatParquet:
		return "application/vnd.apache.parquet"
	case FormatNDJSON:
		return "application/x-ndjson"
	}
	return "application/octet-stream"
}

// Tables are the tables that describe the file, for its data package:
// the export's Table, or a responses export's table of its wave (read
// from the store up to the position); none for events.
func (f File) Tables(ctx context.Context, store eventstore.Store) ([]Table, error) {
	if f.Export == KindResponses {
		w, q, err := ReadWave(ctx, store, f.Keys.Project, f.Wave, f.Position)
		if err != nil {
			return nil, err
		}
		t, err := f.ResponsesTable(w, q)
		if err != nil {
			return nil, err
		}
		return []Table{t}, nil
	}
	if e, ok := Lookup(f.Export); ok {
		return []Table{e.Table}, nil
	}
	return nil, nil
}

// Write writes the file to w and returns what was written. eventsSecret
// is the installation's key for the events export's pseudonyms of actors.
// The bytes depend only on the store up to the position and the File.
func (f File) Write(ctx context.Context, store eventstore.Store, w io.Writer, eventsSecret []byte) (Summary, error) {
	if err := f.Check(); err != nil {
		return Summary{}, err
	}
	if f.Export == KindResponses {
		return f.writeResponses(ctx, store, w)
	}
	if f.Export == KindEvents {
		return WriteEvents(ctx, store, w, EventsOptions{Position: f.Position, Secret: eventsSecret, Keys: f.Keys, KnownAt: f.KnownAt, Municipalities: f.Municipalities})
	}
	e, _ := Lookup(f.Export)
	o := Options{Position: f.Position, AsOf: f.AsOf, KnownAt: f.KnownAt, Keys: f.Keys, Municipalities: f.Municipalities}
	sum, err := WriteTable(ctx, w, f.Format, e.Table, e.Rows(ctx, store, o))
	if err != nil {
		return Summary{}, err
	}
	sum.Position, sum.AsOf = f.Position, f.AsOf
	return sum, nil
}

// Citing is who takes an export and where it is served, for the citation.
type Citing struct {
	// Institution and ProjectName of the research project, if any.
	Institution, ProjectName string
	// BaseURL is the server's address (https://samspill.example.no), ""
	// when the file was written by the CLI.
	BaseURL string
}

// Manifest describes the file that sum summarises: how to reproduce it
// and how to cite it.
func (f File) Manifest(sum Summary, samspillVersion string, by Citing) ExportManifest {
	m := ExportManifest{
		Export:          f.Export,
		Position:        f.Position,
		AsOf:            f.AsOf,
		Project:         f.Keys.Project,
		KeyGeneration:   f.Keys.Generation,
		Wave:            f.Wave,
		WithoutFreeText: f.WithoutFreeText,
		RulesVersion:    RulesVersion,
		SamspillVersion: samspillVersion,
		Files: []FileSum{{
			Name: f.Name(), Format: f.Format, MediaType: MediaType(f.Format),
			Rows: sum.Rows, Bytes: sum.Bytes, SHA256: sum.SHA256,
		}},
	}
	if f.KnownAt != nil {
		m.KnownAt = f.KnownAt.UTC().Format(time.RFC3339Nano)
	}
	m.Citation = f.Citation(samspillVersion, by)
	return m
}

// Citation is how a publication cites the file: who took it, what it is,
// the parameters it is reproducible from and where to take it again.
//
//	Universitetet i Oslo, Offri (offri). samspill research export spells,
//	position 1234, as of 2026-12-07, rules version 2, samspill 1.4.0.
//	https://samspill.example.no/api/v1/research/spells.dta?as_of=2026-12-07&at_position=1234&project=offri
func (f File) Citation(samspillVersion string, by Citing) string {
	var b strings.Builder
	who := strings.Join(slices.DeleteFunc([]string{by.Institution, by.ProjectName}, func(s string) bool { return s == "" }), ", ")
	if f.Keys.Project != "" {
		who = strings.TrimSpace(who + " (" + f.Keys.Project + ")")
	}
	if who != "" {
		b.WriteString(who + ". ")
	}
	fmt.Fprintf(&b, "samspill research export %s", f.Export)
	if f.Wave != "" {
		fmt.Fprintf(&b, " of survey wave %s", f.Wave)
		if f.WithoutFreeText {
			b.WriteString(" without free text")
		}
	}
	fmt.Fprintf(&b, ", position %d", f.Position)
	if f.AsOf != "" {
		fmt.Fprintf(&b, ", as of %s", f.AsOf)
	}
	if f.KnownAt != nil {
		fmt.Fprintf(&b, ", known at %s", f.KnownAt.UTC().Format(time.RFC3339))
	}
	fmt.Fprintf(&b, ", rules version %s, samspill %s. ", RulesVersion, samspillVersion)
	if by.BaseURL != "" {
		b.WriteString(strings.TrimSuffix(by.BaseURL, "/") + "/api/v1/research/" + f.Path() + "?" + f.Query().Encode())
	} else {
		b.WriteString(f.Name())
	}
	return b.String()
}
