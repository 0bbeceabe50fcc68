package research

import (
	"context"
	"slices"
	"sync"

	"github.com/samspill/samspill/eventstore"
)

// RulesVersion names the version of the documented rules (docs/research.md)
// by which the exports derive their rows from the events. Manifests carry
// it: a file is reproducible from its position, its parameters, the rules
// version and nothing else.
const RulesVersion = "2"

// An Export is one kind of research file about partnerships, written in
// any of the Formats and described by its Table in the codebook.
type Export struct {
	Table Table
	// Rows reads the store for the export's rows under o.
	Rows func(ctx context.Context, store eventstore.Store, o Options) Rows
}

// Exports lists the tabular exports, in the order pages and docs list them.
func Exports() []Export { return slices.Clone(exports()) }

// exports describes the tables once: their labels come from the
// catalogues, and every research request and page looks them up.
var exports = sync.OnceValue(func() []Export {
	return []Export{spellsExport(), panelExport(), affiliationsExport()}
})

// Lookup returns the export of the table name ("spells", ...).
func Lookup(name string) (Export, bool) {
	for _, e := range exports() {
		if e.Table.Name == name {
			return e, true
		}
	}
	return Export{}, false
}

// FileSum is one file of an export as its manifest names it.
type FileSum struct {
	Name      string `json:"name"`
	Format    string `json:"format"`
	MediaType string `json:"media_type"`
	Rows      int    `json:"rows"`
	Bytes     int64  `json:"bytes"`
	SHA256    string `json:"sha256"`
}

// ExportManifest says what an export is and how to reproduce and cite it:
// served beside every download (GET /api/v1/research/manifest.json) and
// written by the CLI next to the files.
type ExportManifest struct {
	Export   string `json:"export"`
	Position uint64 `json:"position"`
	AsOf     string `json:"as_of,omitempty"`
	// KnownAt is RFC 3339 when the export was taken as known at a time.
	KnownAt string `json:"known_at,omitempty"`
	// Project and KeyGeneration name the research project whose
	// pseudonyms the files use; empty for one-off pseudonyms.
	Project       string `json:"project,omitempty"`
	KeyGeneration int    `json:"key_generation,omitempty"`
	// Wave is the survey wave of a responses export; WithoutFreeText
	// says its free-text items were left out.
	Wave            string    `json:"wave,omitempty"`
	WithoutFreeText bool      `json:"without_free_text,omitempty"`
	RulesVersion    string    `json:"rules_version"`
	SamspillVersion string    `json:"samspill_version"`
	Files           []FileSum `json:"files"`
	Citation        string    `json:"citation"`
}
