package research

import "github.com/samspill/samspill/domain/partnership"

// AffiliationsTable describes affiliations.csv for the codebook and every
// format.
func AffiliationsTable() Table {
	return Table{
		Name:          "affiliations",
		Title:         "Organisations' spells in partnerships",
		TitleNB:       "Organisasjoners perioder i samarbeid",
		Description:   "One row per partnership and organisation spell (a role change starts a new spell), for network analysis of which organisations work together. No names of organisations or persons.",
		DescriptionNB: "Én rad per samarbeid og periode for en organisasjon (en rolleendring starter en ny periode), for nettverksanalyse av hvilke organisasjoner som samarbeider. Ingen navn på organisasjoner eller personer.",
		PrimaryKey:    []string{"partnership_key", "partner_key", "joined_day"},
		Columns: []Column{
			{Name: "partnership_key", Type: TypeString, Required: true, Label: "Partnership (pseudonym)", LabelNB: "Samarbeid (pseudonym)",
				Description: "Pseudonymous key of the partnership, the same as in spells.csv and panel.csv of the same export.", DescriptionNB: "Pseudonym nøkkel for samarbeidet, den samme som i spells.csv og panel.csv i samme uttrekk."},
			{Name: "partner_key", Type: TypeString, Required: true, Label: "Partner (pseudonym)", LabelNB: "Partner (pseudonym)",
				Description: "Pseudonymous key of the partner within its partnership (the same organisation in two partnerships has two keys; join on org_no across partnerships).", DescriptionNB: "Pseudonym nøkkel for partneren i samarbeidet (samme organisasjon i to samarbeid har to nøkler; koble på org_no på tvers av samarbeid)."},
			{Name: "org_no", Type: TypeString, Label: "Organisation number", LabelNB: "Organisasjonsnummer",
				Description: "Organisasjonsnummer in the Central Coordinating Register for Legal Entities, nine digits; missing when none was recorded.", DescriptionNB: "Organisasjonsnummer i Enhetsregisteret, ni siffer; mangler når det ikke er registrert.",
				Personal: "A public register id, but a sole proprietorship's (enkeltpersonforetak) organisation number identifies a person: treat the column as personal data."},
			{Name: "kind", Type: TypeString, Required: true, Label: "Kind of partner", LabelNB: "Type partner", Values: codes(partnership.PartnerKinds)},
			{Name: "role", Type: TypeString, Label: "Roles in the spell", LabelNB: "Roller i perioden",
				Description: "The partner's roles under the roles agreed during the spell (lead, coordinator, host, provider, funder, participant), several joined by + in that order; missing when none is agreed.", DescriptionNB: "Partnerens roller etter rollene som var avtalt i perioden (lead, coordinator, host, provider, funder, participant), flere skilt med + i den rekkefølgen; mangler når ingen er avtalt."},
			{Name: "municipality", Type: TypeString, Required: true, Label: "Municipality (today's code)", LabelNB: "Kommune (dagens nummer)",
				Description: "Kommunenummer of the partnership, four digits, harmonised to today's code.", DescriptionNB: "Samarbeidets kommunenummer med fire siffer, harmonisert til dagens nummer."},
			{Name: "collaboration_model", Type: TypeString, Required: true, Label: "Collaboration model at spell start", LabelNB: "Samarbeidsmodell ved periodens start", Values: codes(partnership.CollaborationModels)},
			{Name: "joined", Type: TypeDate, Required: true, Label: "Spell start", LabelNB: "Periodestart",
				Description: "The day the spell began (Europe/Oslo): the initiation for partners named then.", DescriptionNB: "Dagen perioden begynte (norsk tid): startdagen for partnere som var med fra start."},
			{Name: "left", Type: TypeDate, Label: "Spell end", LabelNB: "Periodeslutt",
				Description: "The day the spell ended; missing while it was ongoing at as_of.", DescriptionNB: "Dagen perioden sluttet; mangler når den pågikk ved as_of."},
			{Name: "joined_day", Type: TypeInteger, Required: true, Unit: "days", Label: "Spell start (days since initiation)", LabelNB: "Periodestart (dager siden start)"},
			{Name: "left_day", Type: TypeInteger, Unit: "days", Label: "Spell end (days since initiation)", LabelNB: "Periodeslutt (dager siden start)"},
			{Name: "left_reason", Type: TypeString, Label: "Why the spell ended", LabelNB: "Hvorfor perioden sluttet", Values: []Value{
				{Code: leftPartnerLeft, Label: "The partner left", LabelNB: "Partneren gikk ut", LabelNN: "Partnaren gjekk ut"},
				{Code: leftPartnershipEnded, Label: "The partnership ended", LabelNB: "Samarbeidet ble avsluttet", LabelNN: "Samarbeidet vart avslutta"},
				{Code: leftRoleChanged, Label: "The partner's roles changed", LabelNB: "Partnerens roller ble endret", LabelNN: "Rollene til partnaren vart endra"},
			}, Description: "Missing while the spell was ongoing at as_of.", DescriptionNB: "Mangler når perioden pågikk ved as_of."},
		},
	}
}
