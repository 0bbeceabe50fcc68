package research

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/eventstore"
)

// SpellsOptions are the parameters of a one-off spells export (the API's
// and the CLI's spells.csv today).
type SpellsOptions struct {
	// Position is the last event read (resolved by Position).
	Position uint64
	// AsOf is the censoring date, YYYY-MM-DD.
	AsOf string
	// KnownAt, if set, takes the history as it was known then.
	KnownAt *time.Time
	// Municipalities, if any, keep only these municipalities'
	// partnerships (by today's code).
	Municipalities []kommune.Code
	// Secret is the installation's key for partnership_key.
	Secret []byte
}

// WriteSpells writes spells.csv (SpellsTable, the rules of Spells) for
// every partnership initiated up to the position, one partnership after
// the other in the order they were recorded. partnership_key is a one-off
// pseudonym (OneOffKeys) under the installation's secret and the export's
// parameters (position, as_of, known_at, municipalities): the same in
// every row of a partnership and in a repeated export, unrelated between
// exports with other parameters, and never the id itself.
func WriteSpells(ctx context.Context, store eventstore.Store, w io.Writer, o SpellsOptions) (Summary, error) {
	if _, err := dayNumberOf(o.AsOf); err != nil {
		return Summary{}, fmt.Errorf("export spells: %w", err)
	}
	if len(o.Secret) < 16 {
		return Summary{}, fmt.Errorf("export spells: the installation secret is missing or shorter than 16 bytes")
	}
	params := fmt.Sprintf("spells.csv\x00position=%d\x00as_of=%s", o.Position, o.AsOf)
	if o.KnownAt != nil {
		params += "\x00known_at=" + o.KnownAt.UTC().Format(time.RFC3339Nano)
	}
	for _, c := range o.Municipalities {
		params += "\x00municipality=" + string(c)
	}
	opts := Options{Position: o.Position, AsOf: o.AsOf, KnownAt: o.KnownAt, Keys: OneOffKeys(o.Secret, params), Municipalities: o.Municipalities}
	export := spellsExport()
	sum, err := WriteTable(ctx, w, FormatCSV, export.Table, export.Rows(ctx, store, opts))
	if err != nil {
		return Summary{}, fmt.Errorf("export spells: %w", err)
	}
	sum.Kind, sum.Position, sum.AsOf = KindSpells, o.Position, o.AsOf
	return sum, nil
}
