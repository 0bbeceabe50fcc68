// Package describe is the one place that says what an event or a
// vocabulary value is, in words for people, in the reader's language: the
// pages' history lines and labels. Its words are the message catalogue's
// (locale/messages/describe.*.toml). It never shows personal data a reader
// may not see: a contact person is described from the payload as shown
// (history.Shower), which holds the fields only for readers who may see
// them. (The timeline read model keeps short English summaries of its own
// for the API.)
package describe

import (
	"strings"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
)

// known are the event types and vocabulary values with a label.
var known = func() map[string]bool {
	m := map[string]bool{}
	for _, list := range [][]string{
		partnership.EventTypes(), partnership.Statuses, partnership.ServiceAreas, partnership.CollaborationModels,
		partnership.PartnerKinds, partnership.RoleNames, partnership.AgreementTypes, partnership.AnchoringLevels,
		partnership.MilestoneKinds, partnership.EndReasons,
	} {
		for _, v := range list {
			m[v] = true
		}
	}
	return m
}()

// Label is the name of a vocabulary value or event type in the reader's
// language (describe.<value>); unknown values are shown as they are.
func Label(l *locale.Localizer, v string) string {
	if !known[v] {
		return v
	}
	return l.T("describe." + v)
}

// Municipality names a municipality with its code: "Arendal (4203)".
func Municipality(code string) string {
	if name := kommune.Code(code).Name(); name != "" {
		return name + " (" + code + ")"
	}
	return code
}

// Day writes a date given as YYYY-MM-DD (an agreement's or a funding
// period's) in full in the reader's language; anything else as it is.
func Day(l *locale.Localizer, s string) string {
	t, err := time.ParseInLocation(time.DateOnly, s, calendar.Oslo)
	if err != nil {
		return s
	}
	return l.Date(t)
}

// Event is the one line the history shows for an event; names are the
// partners' names by id (partnership.PartnerNames). A contact person's
// fields appear only when the payload holds them, that is when the reader
// may see them.
func Event(l *locale.Localizer, ev partnership.Event, names map[string]string) string {
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return l.T("describe.line.unknown_partner", "ID", id)
	}
	// suffix is a message's optional part, "" when its value is.
	suffix := func(id, value string) string {
		if value == "" {
			return ""
		}
		return l.T(id, "Value", value)
	}
	switch e := ev.(type) {
	case partnership.PartnershipInitiated:
		ps := make([]string, len(e.Partners))
		for i, p := range e.Partners {
			ps[i] = p.Name
		}
		return l.N("describe.line.PartnershipInitiated", len(e.Goals), "Title", e.Title, "Municipality", Municipality(e.Municipality),
			"ServiceArea", Label(l, e.ServiceArea), "Model", Label(l, e.CollaborationModel), "Partners", strings.Join(ps, ", "))
	case partnership.PartnerJoined:
		return l.T("describe.line.PartnerJoined", "Name", e.Partner.Name, "Kind", Label(l, e.Partner.Kind), "OrgNo", suffix("describe.part.org_no", e.Partner.OrgNo))
	case partnership.PartnerLeft:
		return l.T("describe.line.PartnerLeft", "Name", name(e.PartnerID), "Reason", e.Reason)
	case partnership.RolesAgreed:
		rs := make([]string, len(e.Roles))
		for i, r := range e.Roles {
			rs[i] = name(r.PartnerID) + " – " + Label(l, r.Role)
		}
		return l.T("describe.line.RolesAgreed", "Roles", strings.Join(rs, "; "))
	case partnership.GoalChanged:
		return l.T("describe.line.GoalChanged", "Goals", strings.Join(e.Goals, "; "), "Reason", e.Reason)
	case partnership.AgreementSigned:
		return l.T("describe.line.AgreementSigned", "Type", Label(l, e.AgreementType), "From", Day(l, e.ValidFrom),
			"Until", suffix("describe.part.until", Day(l, e.ValidUntil)), "Reference", suffix("describe.part.reference", e.Reference))
	case partnership.FundingRecorded:
		return l.T("describe.line.FundingRecorded", "Amount", l.Kroner(e.AmountNOK), "Source", e.Source, "From", Day(l, e.PeriodFrom), "Until", Day(l, e.PeriodUntil))
	case partnership.AnchoringChanged:
		return l.T("describe.line.AnchoringChanged", "Level", Label(l, e.Level), "Note", suffix("describe.part.note", e.Note))
	case partnership.CollaborationModelChanged:
		return l.T("describe.line.CollaborationModelChanged", "Model", Label(l, e.CollaborationModel), "Reason", e.Reason)
	case partnership.MilestoneLogged:
		return l.T("describe.line.MilestoneLogged", "Kind", Label(l, e.Kind), "Title", e.Title, "Note", suffix("describe.part.note", e.Note))
	case partnership.ContactPersonAssigned:
		// The fields are there only for readers who may see them
		// (history.Shower); everyone else sees that a contact exists.
		var who string
		if e.Name != "" {
			who = strings.Join(nonEmpty(e.Name, e.Email, e.Phone), ", ")
		}
		return l.T("describe.line.ContactPersonAssigned", "Partner", name(e.PartnerID), "Who", suffix("describe.part.who", who))
	case partnership.PartnershipPaused:
		return l.T("describe.line.PartnershipPaused", "Reason", e.Reason)
	case partnership.PartnershipResumed:
		return l.T("describe.line.PartnershipResumed", "Reason", e.Reason)
	case partnership.PartnershipEnded:
		return l.T("describe.line.PartnershipEnded", "Reason", Label(l, e.Reason), "Outcome", suffix("describe.part.note", e.Outcome))
	case partnership.EntryCorrected:
		if len(e.Replacement) == 0 {
			return l.T("describe.line.retracted", "Reason", e.Reason)
		}
		return l.T("describe.line.replaced", "Reason", e.Reason)
	}
	return ev.EventType()
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
