package partnership

import "slices"

// The closed vocabularies of docs/events.md. A value outside its list is invalid
// input; the lists are ordered as the catalogue orders them.
var (
	// PartnerKinds are the kinds of partner.
	PartnerKinds = []string{"municipal_unit", "voluntary_organisation", "social_entrepreneur", "private_business", "public_agency", "other"}
	// ServiceAreas are the municipal service areas a partnership serves.
	ServiceAreas = []string{"health_and_care", "childhood_and_youth", "culture", "sport_and_outdoor", "integration", "public_health", "emergency_preparedness", "education", "environment", "other"}
	// CollaborationModels are the forms of public–voluntary collaboration.
	CollaborationModels = []string{"co_governance", "service_contract", "grant", "network", "informal"}
	// RoleNames are the roles a partner can take.
	RoleNames = []string{"lead", "coordinator", "host", "provider", "funder", "participant"}
	// AgreementTypes are the kinds of signed agreement.
	AgreementTypes = []string{"cooperation_agreement", "letter_of_intent", "grant_agreement", "operating_agreement", "other"}
	// AnchoringLevels are the levels at which a partnership is anchored in the
	// municipal administration.
	AnchoringLevels = []string{"political", "administrative_leadership", "service_unit", "none"}
	// MilestoneKinds are the kinds of logged milestone.
	MilestoneKinds = []string{"meeting", "activity_started", "evaluation", "report_delivered", "conflict", "media", "other"}
	// EndReasons are the reasons a partnership ends.
	EndReasons = []string{"completed", "funding_ended", "dissolved", "merged", "taken_over_by_municipality", "taken_over_by_voluntary_sector", "other"}
	// Statuses are the states a partnership can be in.
	Statuses = []string{StatusActive, StatusPaused, StatusEnded}
)

// Partnership statuses.
const (
	StatusActive = "active"
	StatusPaused = "paused"
	StatusEnded  = "ended"
)

// KindMunicipalUnit is the partner kind of the municipality's own units.
const KindMunicipalUnit = "municipal_unit"

// AnchoringNone is the anchoring level of a partnership that has recorded none.
const AnchoringNone = "none"

// inVocabulary reports whether v is one of list.
func inVocabulary(list []string, v string) bool { return slices.Contains(list, v) }
