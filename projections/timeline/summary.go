package timeline

import (
	"fmt"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
)

// entrySummary is the one line a timeline shows for an event. It never
// holds personal data: a contact person is shown by the partner only.
func entrySummary(ev partnership.Event, names map[string]string) string {
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	switch e := ev.(type) {
	case partnership.PartnershipInitiated:
		return "Initiated: " + e.Title
	case partnership.PartnerJoined:
		return e.Partner.Name + " joined"
	case partnership.PartnerLeft:
		return withReason(name(e.PartnerID)+" left", e.Reason)
	case partnership.RolesAgreed:
		roles := make([]string, len(e.Roles))
		for i, r := range e.Roles {
			roles[i] = name(r.PartnerID) + " (" + r.Role + ")"
		}
		return "Roles agreed: " + strings.Join(roles, ", ")
	case partnership.GoalChanged:
		return withReason(fmt.Sprintf("Goals changed (%d goals)", len(e.Goals)), e.Reason)
	case partnership.AgreementSigned:
		return withReason("Agreement signed: "+e.AgreementType, e.Reference)
	case partnership.FundingRecorded:
		return fmt.Sprintf("Funding: NOK %d from %s", e.AmountNOK, e.Source)
	case partnership.AnchoringChanged:
		return "Anchoring: " + e.Level
	case partnership.CollaborationModelChanged:
		return withReason("Collaboration model: "+e.CollaborationModel, e.Reason)
	case partnership.MilestoneLogged:
		return e.Kind + ": " + e.Title
	case partnership.ContactPersonAssigned:
		return "Contact person assigned for " + name(e.PartnerID)
	case partnership.PartnershipPaused:
		return withReason("Paused", e.Reason)
	case partnership.PartnershipResumed:
		return withReason("Resumed", e.Reason)
	case partnership.PartnershipEnded:
		return "Ended: " + e.Reason
	}
	return ev.EventType()
}

func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + ": " + reason
}
