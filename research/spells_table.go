package research

import (
	"context"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/locale"
)

// SpellsTable describes spells.csv for the codebook and every format.
func SpellsTable() Table {
	return Table{
		Name:          "spells",
		Title:         "Counting-process episodes of partnerships",
		TitleNB:       "Episoder for forløpsanalyse av samarbeid",
		Description:   "One row per partnership per interval (tstart, tstop] in which its covariates are constant, for Cox regression and other event-history models.",
		DescriptionNB: "Én rad per samarbeid per intervall (tstart, tstop] der forklaringsvariablene er konstante, for Cox-regresjon og andre forløpsmodeller.",
		PrimaryKey:    []string{"partnership_key", "tstart"},
		Columns: []Column{
			{Name: "partnership_key", Type: TypeString, Required: true, Label: "Partnership (pseudonym)", LabelNB: "Samarbeid (pseudonym)",
				Description: "Pseudonymous key of the partnership: stable in every export of a research project, never the partnership's id.", DescriptionNB: "Pseudonym nøkkel for samarbeidet: lik i alle uttrekk i et forskningsprosjekt, aldri samarbeidets id."},
			{Name: "municipality", Type: TypeString, Required: true, Label: "Municipality (today's code)", LabelNB: "Kommune (dagens nummer)",
				Description: "Kommunenummer, four digits, harmonised to today's code.", DescriptionNB: "Kommunenummer med fire siffer, harmonisert til dagens nummer."},
			{Name: "service_area", Type: TypeString, Required: true, Label: "Service area", LabelNB: "Tjenesteområde", Values: codes(partnership.ServiceAreas)},
			{Name: "collaboration_model", Type: TypeString, Required: true, Label: "Collaboration model", LabelNB: "Samarbeidsmodell", Values: codes(partnership.CollaborationModels)},
			{Name: "start_date", Type: TypeDate, Required: true, Label: "Initiated on", LabelNB: "Startet",
				Description: "The day the partnership was initiated (day 0), Europe/Oslo.", DescriptionNB: "Dagen samarbeidet startet (dag 0), norsk tid."},
			{Name: "tstart", Type: TypeInteger, Required: true, Unit: "days", Label: "Interval start", LabelNB: "Intervallstart"},
			{Name: "tstop", Type: TypeInteger, Required: true, Unit: "days", Label: "Interval end", LabelNB: "Intervallslutt"},
			{Name: "ended", Type: TypeBoolean, Required: true, Label: "Ended at tstop", LabelNB: "Avsluttet ved tstop"},
			{Name: "end_reason", Type: TypeString, Label: "End reason", LabelNB: "Årsak til avslutning", Values: codes(partnership.EndReasons)},
			{Name: "n_partners", Type: TypeInteger, Required: true, Label: "Active partners", LabelNB: "Aktive partnere"},
			{Name: "n_goal_changes", Type: TypeInteger, Required: true, Label: "Goal changes so far", LabelNB: "Målendringer hittil"},
			{Name: "anchoring_level", Type: TypeString, Required: true, Label: "Anchoring", LabelNB: "Forankring", Values: codes(partnership.AnchoringLevels)},
			{Name: "paused", Type: TypeBoolean, Required: true, Label: "Paused", LabelNB: "Satt på pause"},
		},
	}
}

// codes makes the Values of a closed vocabulary, labelled in English,
// bokmål and nynorsk from the catalogues' describe.<code> messages, the
// words the pages use for the same codes.
func codes(vocabulary []string) []Value {
	en, nb, nn := locale.For(locale.English), locale.For(locale.Bokmal), locale.For(locale.Nynorsk)
	v := make([]Value, len(vocabulary))
	for i, c := range vocabulary {
		id := "describe." + c
		v[i] = Value{Code: c, Label: en.T(id), LabelNB: nb.T(id), LabelNN: nn.T(id)}
	}
	return v
}

// spellsExport is spells.csv as an Export.
func spellsExport() Export {
	return Export{Table: SpellsTable(), Rows: func(ctx context.Context, store eventstore.Store, o Options) Rows {
		return func(ctx context.Context, emit func([]string) error) error {
			record := make([]string, len(SpellsHeader))
			return eachHistory(ctx, store, o, func(_ string, h []partnership.Entry) ([]Spell, error) {
				return Spells(h, o.AsOf)
			}, func(stream string, spells []Spell) error {
				key := o.Keys.Partnership(stream)
				for _, sp := range spells {
					sp.fill(record, key)
					if err := emit(record); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}}
}
