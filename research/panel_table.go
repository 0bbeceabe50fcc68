package research

import "github.com/samspill/samspill/domain/partnership"

// PanelTable describes panel.csv for the codebook and every format.
func PanelTable() Table {
	cols := []Column{
		{Name: "partnership_key", Type: TypeString, Required: true, Label: "Partnership (pseudonym)", LabelNB: "Samarbeid (pseudonym)",
			Description: "Pseudonymous key of the partnership, the same as in spells.csv and affiliations.csv of the same export.", DescriptionNB: "Pseudonym nøkkel for samarbeidet, den samme som i spells.csv og affiliations.csv i samme uttrekk."},
		{Name: "municipality", Type: TypeString, Required: true, Label: "Municipality (today's code)", LabelNB: "Kommune (dagens nummer)",
			Description: "Kommunenummer, four digits, harmonised to today's code.", DescriptionNB: "Kommunenummer med fire siffer, harmonisert til dagens nummer."},
		{Name: "year", Type: TypeInteger, Required: true, Label: "Calendar year", LabelNB: "Kalenderår",
			Description: "The calendar year (Europe/Oslo) the row describes, from the year of initiation to the year the partnership ended or the year of as_of.", DescriptionNB: "Kalenderåret (norsk tid) raden gjelder, fra året samarbeidet startet til året det ble avsluttet eller året for as_of."},
		{Name: "status", Type: TypeString, Required: true, Label: "Status at year end", LabelNB: "Status ved årsslutt", Values: codes(partnership.Statuses),
			Description: "Status at the end of the year; in the last year at the end of as_of or of the day it ended.", DescriptionNB: "Status ved utgangen av året; det siste året ved utgangen av as_of eller av dagen det ble avsluttet."},
		{Name: "collaboration_model", Type: TypeString, Required: true, Label: "Collaboration model at year end", LabelNB: "Samarbeidsmodell ved årsslutt", Values: codes(partnership.CollaborationModels)},
		{Name: "service_area", Type: TypeString, Required: true, Label: "Service area", LabelNB: "Tjenesteområde", Values: codes(partnership.ServiceAreas)},
		{Name: "anchoring_level", Type: TypeString, Required: true, Label: "Anchoring at year end", LabelNB: "Forankring ved årsslutt", Values: codes(partnership.AnchoringLevels)},
		{Name: "lead_kind", Type: TypeString, Required: true, Label: "Kind of the lead partner", LabelNB: "Type ledende partner", Values: leadKindValues(),
			Description: "Kind of the partner holding the role lead under the roles agreed at year end; none when no lead is agreed.", DescriptionNB: "Typen til partneren med rollen leder etter rollene som gjaldt ved årsslutt; none når ingen leder er avtalt."},
		{Name: "n_partners", Type: TypeInteger, Required: true, Label: "Active partners at year end", LabelNB: "Aktive partnere ved årsslutt"},
	}
	cols = append(cols, kindCounts("at year end", "ved årsslutt")...)
	cols = append(cols,
		Column{Name: "agreement_in_force", Type: TypeBoolean, Required: true, Label: "Agreement in force at year end", LabelNB: "Avtale i kraft ved årsslutt",
			Description: "1 when a signed agreement is valid on the last observed day of the year (valid_from ≤ day ≤ valid_until, or no valid_until).", DescriptionNB: "1 når en signert avtale gjelder den siste observerte dagen i året (valid_from ≤ dag ≤ valid_until, eller uten valid_until)."},
		Column{Name: "funding_nok_year", Type: TypeInteger, Required: true, Unit: "NOK", Label: "Funding recorded in the year", LabelNB: "Finansiering registrert i året",
			Description: "Sum of the funding entries that occurred in the year, whole kroner.", DescriptionNB: "Sum av finansieringsoppføringer som skjedde i året, hele kroner."},
		Column{Name: "funding_nok_cum", Type: TypeInteger, Required: true, Unit: "NOK", Label: "Funding recorded so far", LabelNB: "Finansiering hittil",
			Description: "Sum of the funding entries up to the end of the year, whole kroner.", DescriptionNB: "Sum av finansieringsoppføringer fram til utgangen av året, hele kroner."},
	)
	for _, c := range panelCounted {
		cols = append(cols, Column{Name: c.column, Type: TypeInteger, Required: true, Unit: "events",
			Label: c.eventType + " events in the year", LabelNB: c.eventType + "-hendelser i året",
			Description:   "Number of " + c.eventType + " events in force (corrections applied, retracted events left out) that occurred in the year.",
			DescriptionNB: "Antall " + c.eventType + "-hendelser som gjelder (rettelser tatt med, tilbaketrukne utelatt) og som skjedde i året."})
	}
	cols = append(cols,
		Column{Name: "days_active", Type: TypeInteger, Required: true, Unit: "days", Label: "Days active in the year", LabelNB: "Dager aktiv i året",
			Description: "Observed days of the year (from the initiation day, until the day before it ended or through as_of) whose status at the end of the day was active.", DescriptionNB: "Observerte dager i året (fra startdagen, til dagen før avslutning eller til og med as_of) med status aktiv ved dagens slutt."},
		Column{Name: "days_paused", Type: TypeInteger, Required: true, Unit: "days", Label: "Days paused in the year", LabelNB: "Dager på pause i året",
			Description: "Observed days of the year whose status at the end of the day was paused.", DescriptionNB: "Observerte dager i året med status på pause ved dagens slutt."},
		Column{Name: "started_in_year", Type: TypeBoolean, Required: true, Label: "Initiated in the year", LabelNB: "Startet i året"},
		Column{Name: "ended_in_year", Type: TypeBoolean, Required: true, Label: "Ended in the year", LabelNB: "Avsluttet i året"},
		Column{Name: "end_reason", Type: TypeString, Label: "End reason", LabelNB: "Årsak til avslutning", Values: codes(partnership.EndReasons),
			Description: "Why it ended, in the year it ended; missing in other years.", DescriptionNB: "Hvorfor det ble avsluttet, i året det ble avsluttet; mangler ellers."},
	)
	return Table{
		Name:          "panel",
		Title:         "Partnership-years",
		TitleNB:       "Samarbeidsår",
		Description:   "One row per partnership per calendar year it was alive up to as_of, for panel models (fixed or random effects by partnership or municipality). " + panelCorrections,
		DescriptionNB: "Én rad per samarbeid per kalenderår det var i live fram til as_of, for panelmodeller (faste eller tilfeldige effekter per samarbeid eller kommune). " + panelCorrectionsNB,
		PrimaryKey:    []string{"partnership_key", "year"},
		Columns:       cols,
	}
}

// The panel counts history as it stands under the export's view.
const (
	panelCorrections   = "Corrections change history: every value and count is taken from the events in force under the export's view (corrected data replace the original, retracted events are left out); corrections are not counted themselves."
	panelCorrectionsNB = "Rettelser endrer historikken: alle verdier og antall er hentet fra hendelsene som gjelder i uttrekkets utsnitt (rettede data erstatter de opprinnelige, tilbaketrukne hendelser er utelatt); selve rettelsene telles ikke."
)
