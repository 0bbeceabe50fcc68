// Package describe is the one place that says what an event or a
// vocabulary value is, in words for people: the pages' history lines and
// labels, and the short summaries the timeline read model gives the API.
// It never shows personal data a reader may not see: a contact person is
// described from the payload as shown (history.Shower), which holds the
// fields only for readers who may see them.
package describe

import (
	"fmt"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
)

// labels are the plain-English names of the vocabularies (docs/events.md) and
// event types, with the Norwegian term where coordinators use it.
var labels = map[string]string{
	// event types
	partnership.TypePartnershipInitiated:  "Initiated",
	partnership.TypePartnerJoined:         "Partner joined",
	partnership.TypePartnerLeft:           "Partner left",
	partnership.TypeRolesAgreed:           "Roles agreed",
	partnership.TypeGoalChanged:           "Goals changed",
	partnership.TypeAgreementSigned:       "Agreement signed",
	partnership.TypeFundingRecorded:       "Funding recorded",
	partnership.TypeAnchoringChanged:      "Anchoring changed",
	partnership.TypeMilestoneLogged:       "Milestone",
	partnership.TypeContactPersonAssigned: "Contact person assigned",
	partnership.TypePartnershipPaused:     "Paused",
	partnership.TypePartnershipResumed:    "Resumed",
	partnership.TypePartnershipEnded:      "Ended",
	partnership.TypeEntryCorrected:        "Correction",
	// statuses
	"active": "Active", "paused": "Paused", "ended": "Ended",
	// service areas
	"health_and_care": "Health and care (helse og omsorg)", "childhood_and_youth": "Childhood and youth (oppvekst)",
	"culture": "Culture (kultur)", "sport_and_outdoor": "Sport and outdoor life (idrett og friluftsliv)",
	"integration": "Integration (integrering)", "public_health": "Public health (folkehelse)",
	"emergency_preparedness": "Emergency preparedness (beredskap)", "education": "Education (opplæring)",
	"environment": "Environment (miljø)", "other": "Other",
	// collaboration models
	"co_governance": "Co-governance (samstyring)", "service_contract": "Service contract", "grant": "Grant (tilskudd)",
	"network": "Network", "informal": "Informal",
	// partner kinds
	"municipal_unit": "Municipal unit", "voluntary_organisation": "Voluntary organisation (frivillig organisasjon)",
	"social_entrepreneur": "Social entrepreneur", "private_business": "Private business", "public_agency": "Public agency",
	// roles
	"lead": "Lead", "coordinator": "Coordinator", "host": "Host", "provider": "Provider", "funder": "Funder", "participant": "Participant",
	// agreement types
	"cooperation_agreement": "Cooperation agreement (samarbeidsavtale)", "letter_of_intent": "Letter of intent (intensjonsavtale)",
	"grant_agreement": "Grant agreement", "operating_agreement": "Operating agreement (driftsavtale)",
	// anchoring levels
	"political": "Political", "administrative_leadership": "Administrative leadership", "service_unit": "Service unit", "none": "None",
	// milestone kinds
	"meeting": "Meeting", "activity_started": "Activity started", "evaluation": "Evaluation", "report_delivered": "Report delivered",
	"conflict": "Conflict", "media": "Media",
	// end reasons
	"completed": "Completed", "funding_ended": "Funding ended", "dissolved": "Dissolved", "merged": "Merged",
	"taken_over_by_municipality": "Taken over by the municipality", "taken_over_by_voluntary_sector": "Taken over by the voluntary sector",
}

// Label is the display name of a vocabulary value or event type; unknown
// values are shown as they are.
func Label(v string) string {
	if l, ok := labels[v]; ok {
		return l
	}
	return v
}

// ShortLabel is Label without the Norwegian term, for tight spaces.
func ShortLabel(v string) string {
	l := Label(v)
	if i := strings.Index(l, " ("); i > 0 {
		return l[:i]
	}
	return l
}

// Known reports whether v is an event type or vocabulary value with a
// label.
func Known(v string) bool {
	_, ok := labels[v]
	return ok
}

// Event is the one line the history shows for an event; names are the
// partners' names by id (partnership.PartnerNames). A contact person's
// fields appear only when the payload holds them, that is when the reader
// may see them.
func Event(ev partnership.Event, names map[string]string) string {
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return "partner " + id
	}
	switch e := ev.(type) {
	case partnership.PartnershipInitiated:
		ps := make([]string, len(e.Partners))
		for i, p := range e.Partners {
			ps[i] = p.Name
		}
		return fmt.Sprintf("Initiated %q in %s (%s, %s) with %s; %d goals", e.Title, e.Municipality, ShortLabel(e.ServiceArea), ShortLabel(e.CollaborationModel), strings.Join(ps, ", "), len(e.Goals))
	case partnership.PartnerJoined:
		s := e.Partner.Name + " joined (" + ShortLabel(e.Partner.Kind)
		if e.Partner.OrgNo != "" {
			s += ", org. no. " + e.Partner.OrgNo
		}
		return s + ")"
	case partnership.PartnerLeft:
		return name(e.PartnerID) + " left: " + e.Reason
	case partnership.RolesAgreed:
		rs := make([]string, len(e.Roles))
		for i, r := range e.Roles {
			rs[i] = name(r.PartnerID) + " – " + ShortLabel(r.Role)
		}
		return "Roles agreed: " + strings.Join(rs, "; ")
	case partnership.GoalChanged:
		return fmt.Sprintf("Goals changed to %q: %s", strings.Join(e.Goals, "; "), e.Reason)
	case partnership.AgreementSigned:
		s := ShortLabel(e.AgreementType) + " signed, valid from " + e.ValidFrom
		if e.ValidUntil != "" {
			s += " until " + e.ValidUntil
		}
		if e.Reference != "" {
			s += " (" + e.Reference + ")"
		}
		return s
	case partnership.FundingRecorded:
		return fmt.Sprintf("Funding NOK %s from %s for %s – %s", kroner(e.AmountNOK), e.Source, e.PeriodFrom, e.PeriodUntil)
	case partnership.AnchoringChanged:
		s := "Anchoring: " + ShortLabel(e.Level)
		if e.Note != "" {
			s += " – " + e.Note
		}
		return s
	case partnership.MilestoneLogged:
		s := ShortLabel(e.Kind) + ": " + e.Title
		if e.Note != "" {
			s += " – " + e.Note
		}
		return s
	case partnership.ContactPersonAssigned:
		s := "A contact person was assigned for " + name(e.PartnerID)
		// The fields are there only for readers who may see them
		// (history.Shower); everyone else sees that a contact exists.
		if e.Name != "" {
			s += ": " + strings.Join(nonEmpty(e.Name, e.Email, e.Phone), ", ")
		}
		return s
	case partnership.PartnershipPaused:
		return "Paused: " + e.Reason
	case partnership.PartnershipResumed:
		return "Resumed: " + e.Reason
	case partnership.PartnershipEnded:
		s := "Ended: " + ShortLabel(e.Reason)
		if e.Outcome != "" {
			s += " – " + e.Outcome
		}
		return s
	case partnership.EntryCorrected:
		if len(e.Replacement) == 0 {
			return "Retracted an earlier entry: " + e.Reason
		}
		return "Replaced the data of an earlier entry: " + e.Reason
	}
	return ev.EventType()
}

// kroner formats whole kroner with thin spaces between thousands.
func kroner(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteRune('\u00a0')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// nonEmpty drops the empty strings.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
