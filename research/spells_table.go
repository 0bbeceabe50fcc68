package research

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
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
		Columns: slices.Concat([]Column{
			{Name: "partnership_key", Type: TypeString, Required: true, Label: "Partnership (pseudonym)", LabelNB: "Samarbeid (pseudonym)",
				Description: "Pseudonymous key of the partnership: stable in every export of a research project, never the partnership's id.", DescriptionNB: "Pseudonym nøkkel for samarbeidet: lik i alle uttrekk i et forskningsprosjekt, aldri samarbeidets id."},
			{Name: "municipality", Type: TypeString, Required: true, Label: "Municipality (today's code)", LabelNB: "Kommune (dagens nummer)",
				Description: "Kommunenummer, four digits, harmonised to today's code.", DescriptionNB: "Kommunenummer med fire siffer, harmonisert til dagens nummer."},
			{Name: "service_area", Type: TypeString, Required: true, Label: "Service area", LabelNB: "Tjenesteområde", Values: codes(partnership.ServiceAreas)},
			{Name: "collaboration_model", Type: TypeString, Required: true, Label: "Collaboration model", LabelNB: "Samarbeidsmodell", Values: codes(partnership.CollaborationModels),
				Description: "The collaboration model in force over the interval: from the initiation, changed by CollaborationModelChanged.", DescriptionNB: "Samarbeidsmodellen som gjelder i intervallet: fra oppstarten, endret av CollaborationModelChanged."},
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
			{Name: "lead_kind", Type: TypeString, Required: true, Label: "Kind of lead partner", LabelNB: "Type leder",
				Description:   "The kind of the partner holding the role lead under the roles in force: shared when leads of different kinds, none when no lead role is agreed or the lead has left.",
				DescriptionNB: "Typen partner som har rollen leder etter rollene som gjelder: shared når ledere av ulike typer deler den, none når ingen lederrolle er avtalt eller lederen har gått ut.",
				Values:        leadKindValues()},
		}, kindCounts("during the interval", "i intervallet"), []Column{
			{Name: "agreement_in_force", Type: TypeBoolean, Required: true, Label: "Agreement in force", LabelNB: "Avtale gjelder",
				Description:   "1 when an agreement signed by tstart is valid on tstart (valid_from ≤ day ≤ valid_until, open-ended without valid_until), else 0. Intervals split on the day an agreement takes effect and the day after it expires.",
				DescriptionNB: "1 når en avtale signert innen tstart gjelder på tstart (valid_from ≤ dag ≤ valid_until, uten sluttdato når valid_until mangler), ellers 0. Intervallene deles dagen en avtale trer i kraft og dagen etter at den utløper."},
			{Name: "agreement_kind", Type: TypeString, Required: true, Label: "Kind of agreement in force", LabelNB: "Type avtale som gjelder",
				Description:   "The agreement_type of the agreement in force with the latest valid_from; none when none is in force.",
				DescriptionNB: "Avtaletypen til avtalen som gjelder med senest valid_from; none når ingen gjelder.",
				Values:        append(codes(partnership.AgreementTypes), Value{Code: AgreementNone, Label: "No agreement", LabelNB: "Ingen avtale", LabelNN: "Ingen avtale"})},
			{Name: "funding_nok", Type: TypeInteger, Required: true, Unit: "NOK", Label: "Funding so far (NOK)", LabelNB: "Finansiering hittil (kr)",
				Description: "Cumulative funding recorded by tstart, whole kroner.", DescriptionNB: "Samlet registrert finansiering innen tstart, hele kroner."},
			{Name: "n_funding_sources", Type: TypeInteger, Required: true, Label: "Funding sources so far", LabelNB: "Finansieringskilder hittil",
				Description: "Distinct funding sources recorded by tstart, compared without case and extra spaces.", DescriptionNB: "Ulike finansieringskilder registrert innen tstart, sammenlignet uten hensyn til store og små bokstaver og ekstra mellomrom."},
			{Name: "funded", Type: TypeBoolean, Required: true, Label: "Funded", LabelNB: "Finansiert",
				Description: "1 when funding_nok > 0, else 0.", DescriptionNB: "1 når funding_nok > 0, ellers 0."},
			{Name: "entry_day", Type: TypeInteger, Unit: "days", Label: "Entry (left truncation)", LabelNB: "Inngang (venstretrunkering)",
				Description:   "Delayed entry: with r the days from start_date to first_recorded, max(tstart, r) on a row with tstop > r; missing on a row wholly before the partnership was recorded. Surv(entry_day, tstop, ended) is the left-truncated model.",
				DescriptionNB: "Forsinket inngang: med r dager fra start_date til first_recorded, max(tstart, r) på en rad med tstop > r; mangler på en rad som ligger helt før samarbeidet ble registrert. Surv(entry_day, tstop, ended) er modellen med venstretrunkering."},
			{Name: "first_recorded", Type: TypeDate, Required: true, Label: "First recorded", LabelNB: "Først registrert",
				Description: "The day the partnership was first recorded in samspill (the initiation's recorded_at), Europe/Oslo.", DescriptionNB: "Dagen samarbeidet først ble registrert i samspill (registreringstidspunktet for oppstarten), norsk tid."},
			{Name: "closed_by", Type: TypeString, Required: true, Label: "What closed the interval", LabelNB: "Hva avsluttet intervallet",
				Description:   "The event type that started the next interval (the first in the day's order), PartnershipEnded on the last row of an ended partnership, censored on the last row of an ongoing one, agreement_in_force or agreement_expired for a split on the calendar.",
				DescriptionNB: "Hendelsestypen som startet neste intervall (den første i dagens rekkefølge), PartnershipEnded på siste rad for et avsluttet samarbeid, censored på siste rad for et pågående, agreement_in_force eller agreement_expired for en deling etter kalenderen.",
				Values:        closedByValues()},
			{Name: "municipality_split", Type: TypeBoolean, Required: true, Label: "Municipality split", LabelNB: "Kommunen delt",
				Description:   "1 when the municipality the partnership was initiated in went through a split on its way to today's code (1507 Ålesund became 1508 Ålesund and 1580 Haram on 2024-01-01), else 0.",
				DescriptionNB: "1 når kommunen samarbeidet startet i ble delt på veien til dagens kommunenummer (1507 Ålesund ble 1508 Ålesund og 1580 Haram 1. januar 2024), ellers 0."},
			{Name: "split_codes", Type: TypeString, Label: "Split codes", LabelNB: "Delte kommunenummer",
				Description:   "The codes of the split: old>new+new (1507>1508+1580), several joined by ';'; empty when none.",
				DescriptionNB: "Kommunenumrene i delingen: gammelt>nytt+nytt (1507>1508+1580), flere skilt med ';'; tom når ingen."},
		}),
	}
}

// codes makes the Values of a closed vocabulary with their labels
// (labels.go).
func codes(vocabulary []string) []Value { return labelled(vocabulary) }

// kindCounts are the columns counting the active partners of each kind,
// in the order of partnership.PartnerKinds (and of partnersByKind), with
// the same names in every export; when says when they are counted
// ("during the interval", "at year end").
func kindCounts(when, whenNB string) []Column {
	kinds := []struct{ name, en, nb string }{
		{"n_municipal_unit", "municipal units", "kommunale enheter"},
		{"n_voluntary_organisation", "voluntary organisations", "frivillige organisasjoner"},
		{"n_social_entrepreneur", "social entrepreneurs", "sosiale entreprenører"},
		{"n_private_business", "private businesses", "private virksomheter"},
		{"n_public_agency", "public agencies", "offentlige etater"},
		{"n_other_partner", "partners of another kind", "partnere av annen type"},
	}
	cols := make([]Column, len(kinds))
	for i, k := range kinds {
		cols[i] = Column{Name: k.name, Type: TypeInteger, Required: true, Label: "Active " + k.en, LabelNB: "Aktive " + k.nb,
			Description: "Active partners " + when + " that are " + k.en + ".", DescriptionNB: "Aktive partnere " + whenNB + " som er " + k.nb + "."}
	}
	return cols
}

// closedByValues are the codes of closed_by.
func closedByValues() []Value {
	v := codes(append(slices.Sorted(maps.Keys(startsSpell)), partnership.TypePartnershipEnded))
	return append(v,
		Value{Code: ClosedByCensored, Label: "Censored at the as-of date", LabelNB: "Sensurert på uttrekksdatoen", LabelNN: "Sensurert på uttrekksdatoen"},
		Value{Code: ClosedByAgreementInForce, Label: "An agreement took effect", LabelNB: "En avtale trådte i kraft", LabelNN: "Ein avtale tok til å gjelde"},
		Value{Code: ClosedByAgreementExpired, Label: "An agreement expired", LabelNB: "En avtale utløp", LabelNN: "Ein avtale gjekk ut"})
}

// SpellsHeader is the header row of spells.csv: the spec's 13 columns
// (docs/api.md, Research exports) in its order, then the covariates added
// since.
var SpellsHeader = columnNames(SpellsTable())

func columnNames(t Table) []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// spellsExport is spells.csv as an Export.
func spellsExport() Export {
	return Export{Table: SpellsTable(), Rows: func(ctx context.Context, store eventstore.Store, o Options) Rows {
		return func(ctx context.Context, emit func([]string) error) error {
			v, err := o.view()
			if err != nil {
				return err
			}
			censor, err := dayNumberOf(o.AsOf)
			if err != nil {
				return err
			}
			record := make([]string, len(SpellsHeader))
			return eachHistory(ctx, store, o, func(_ string, h []partnership.Entry) ([]Spell, error) {
				return spells(h, v, censor)
			}, func(stream string, rows []Spell) error {
				key := o.Keys.Partnership(stream)
				for _, sp := range rows {
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

// fill writes the spell into record in SpellsHeader's order.
func (sp Spell) fill(record []string, key string) {
	k := sp.PartnersByKind
	entry := ""
	if sp.EntryDay >= 0 {
		entry = strconv.Itoa(sp.EntryDay)
	}
	copy(record, []string{
		key, sp.Municipality, sp.ServiceArea, sp.CollaborationModel, sp.StartDate,
		strconv.Itoa(sp.TStart), strconv.Itoa(sp.TStop), flag(sp.Ended), sp.EndReason,
		strconv.Itoa(sp.Partners), strconv.Itoa(sp.GoalChanges), sp.AnchoringLevel, flag(sp.Paused),
		sp.LeadKind,
		strconv.Itoa(k.MunicipalUnit), strconv.Itoa(k.VoluntaryOrganisation), strconv.Itoa(k.SocialEntrepreneur),
		strconv.Itoa(k.PrivateBusiness), strconv.Itoa(k.PublicAgency), strconv.Itoa(k.Other),
		flag(sp.AgreementInForce), sp.AgreementKind,
		strconv.FormatInt(sp.FundingNOK, 10), strconv.Itoa(sp.FundingSources), flag(sp.Funded()),
		entry, sp.FirstRecorded, sp.ClosedBy, flag(sp.MunicipalitySplit), sp.SplitCodes,
	})
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}
