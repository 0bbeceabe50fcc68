package partnership

import (
	"math"
	"slices"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
)

// Entry is a stored event as the aggregate sees it.
type Entry struct {
	EventID    string
	Version    uint64
	OccurredAt time.Time
	RecordedAt time.Time
	Event      Event
}

// Agreement is a signed agreement in the derived state.
type Agreement struct {
	AgreementType string `json:"agreement_type"`
	ValidFrom     string `json:"valid_from"`
	ValidUntil    string `json:"valid_until,omitempty"`
	Reference     string `json:"reference"`
}

// State is the derived state of a partnership (docs/events.md).
type State struct {
	ID                  string      `json:"id"`
	Status              string      `json:"status"`
	Municipality        string      `json:"municipality"`
	CurrentMunicipality string      `json:"current_municipality"`
	Title               string      `json:"title"`
	Description         string      `json:"description"`
	ServiceArea         string      `json:"service_area"`
	CollaborationModel  string      `json:"collaboration_model"`
	Partners            []Partner   `json:"partners"`
	Roles               []Role      `json:"roles"`
	Goals               []string    `json:"goals"`
	GoalChanges         int         `json:"goal_changes"`
	AnchoringLevel      string      `json:"anchoring_level"`
	Agreements          []Agreement `json:"agreements"`
	FundingTotalNOK     int64       `json:"funding_total_nok"`
	StartedAt           time.Time   `json:"started_at"`
	EndedAt             *time.Time  `json:"ended_at"`
	EndReason           *string     `json:"end_reason"`
	Version             uint64      `json:"version"`
	LastOccurredAt      time.Time   `json:"last_occurred_at"`

	// datedOn is the latest day (00:00 Europe/Oslo) with an entry dated
	// with a day only, which Next needs to know.
	datedOn time.Time
}

// Stored is a State as a read model keeps it between folds: the state's
// fields, and what State.Next needs beside them that the state's JSON does
// not carry (the latest day with an entry dated with a day only).
type Stored struct {
	State
	DatedOn *time.Time `json:"dated_on,omitempty"`
}

// Stored returns the state in the form a read model keeps.
func (s State) Stored() Stored {
	st := Stored{State: s}
	if !s.datedOn.IsZero() {
		st.DatedOn = &s.datedOn
	}
	return st
}

// Restore returns the state kept as st.
func (st Stored) Restore() State {
	s := st.State
	if st.DatedOn != nil {
		s.datedOn = *st.DatedOn
	}
	return s
}

// normalize makes empty lists encode as [] rather than null.
func (s *State) normalize() {
	s.Partners = nonNil(s.Partners)
	s.Roles = nonNil(s.Roles)
	s.Goals = nonNil(s.Goals)
	s.Agreements = nonNil(s.Agreements)
	for i := range s.Roles {
		s.Roles[i].Responsibilities = nonNil(s.Roles[i].Responsibilities)
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// initiated reports whether the state has seen its initiation.
func (s *State) initiated() bool { return s.ID != "" }

// partner returns the active partner with this id.
func (s *State) partner(id string) (Partner, bool) {
	i := slices.IndexFunc(s.Partners, func(p Partner) bool { return p.PartnerID == id })
	if i < 0 {
		return Partner{}, false
	}
	return s.Partners[i], true
}

// apply folds one event into the state. It never fails: rules are checked
// before events are stored (check), so stored history is applied as it is.
func (s *State) apply(e Entry) {
	switch ev := e.Event.(type) {
	case PartnershipInitiated:
		s.ID = ev.PartnershipID
		s.Status = StatusActive
		s.Municipality = ev.Municipality
		s.CurrentMunicipality = string(kommune.Code(ev.Municipality).Current())
		s.Title = ev.Title
		s.Description = ev.Description
		s.ServiceArea = ev.ServiceArea
		s.CollaborationModel = ev.CollaborationModel
		s.Partners = slices.Clone(ev.Partners)
		s.Goals = slices.Clone(ev.Goals)
		s.AnchoringLevel = AnchoringNone
		s.StartedAt = e.OccurredAt
	case PartnerJoined:
		s.Partners = append(s.Partners, ev.Partner)
	case PartnerLeft:
		s.Partners = slices.DeleteFunc(s.Partners, func(p Partner) bool { return p.PartnerID == ev.PartnerID })
		s.Roles = slices.DeleteFunc(s.Roles, func(r Role) bool { return r.PartnerID == ev.PartnerID })
	case RolesAgreed:
		s.Roles = slices.Clone(ev.Roles)
	case GoalChanged:
		s.Goals = slices.Clone(ev.Goals)
		s.GoalChanges++
	case AgreementSigned:
		s.Agreements = append(s.Agreements, Agreement(ev))
	case FundingRecorded:
		s.FundingTotalNOK = addKroner(s.FundingTotalNOK, ev.AmountNOK)
	case AnchoringChanged:
		s.AnchoringLevel = ev.Level
	case CollaborationModelChanged:
		s.CollaborationModel = ev.CollaborationModel
	case PartnershipPaused:
		s.Status = StatusPaused
	case PartnershipResumed:
		s.Status = StatusActive
	case PartnershipEnded:
		s.Status = StatusEnded
		at, reason := e.OccurredAt, ev.Reason
		s.EndedAt, s.EndReason = &at, &reason
	case MilestoneLogged, ContactPersonAssigned, EntryCorrected:
		// No derived field; they count in version and last_occurred_at.
	}
	s.Version = max(s.Version, e.Version)
	if e.OccurredAt.After(s.datedOn) && calendar.DateOnly(e.OccurredAt) {
		s.datedOn = e.OccurredAt
	}
	if e.OccurredAt.After(s.LastOccurredAt) {
		s.LastOccurredAt = e.OccurredAt
	}
}

// addKroner adds two amounts, saturating at the bounds of int64 instead of
// wrapping: history stored before amounts were bounded may hold any int64.
func addKroner(a, b int64) int64 {
	sum := a + b
	switch {
	case a > 0 && b > 0 && sum < 0:
		return math.MaxInt64
	case a < 0 && b < 0 && sum >= 0:
		return math.MinInt64
	}
	return sum
}

// check reports whether the state, as it is just before e occurred, allows e.
func (s *State) check(e Entry) error {
	if _, ok := e.Event.(PartnershipInitiated); ok {
		if s.initiated() {
			return refuse(ErrAlreadyInitiated, RuleError{Code: RuleAlreadyInitiated}, "a partnership is initiated once")
		}
		return nil
	}
	if !s.initiated() {
		return refuse(ErrInvalidHistory, RuleError{Code: RuleBeforeInitiation, Value: e.Event.EventType(), Date: e.OccurredAt}, "%s on %s would come before the initiation", e.Event.EventType(), calendar.Day(e.OccurredAt))
	}
	if s.Status == StatusEnded {
		return refuse(ErrEnded, RuleError{Code: RuleEnded, Date: *s.EndedAt}, "it ended on %s; only corrections are possible", calendar.Day(*s.EndedAt))
	}
	switch ev := e.Event.(type) {
	case PartnerJoined:
		for _, p := range s.Partners {
			if p.PartnerID == ev.Partner.PartnerID || (ev.Partner.OrgNo != "" && p.OrgNo == ev.Partner.OrgNo) {
				return refuse(ErrPartnerAlreadyActive, RuleError{Code: RulePartnerAlreadyActive, Name: p.Name}, "%s is already a partner", p.Name)
			}
		}
	case PartnerLeft:
		leaving, ok := s.partner(ev.PartnerID)
		if !ok {
			return refuse(ErrPartnerNotActive, RuleError{Code: RulePartnerNotActive, Value: ev.PartnerID}, "no active partner has id %s", ev.PartnerID)
		}
		if leaving.Kind != KindMunicipalUnit && s.externalPartners() == 1 {
			return refuse(ErrLastExternalPartner, RuleError{Code: RuleLastExternalPartner, Name: leaving.Name}, "%s is the last partner outside the municipality; end the partnership instead", leaving.Name)
		}
	case RolesAgreed:
		for _, r := range ev.Roles {
			if _, ok := s.partner(r.PartnerID); !ok {
				return refuse(ErrPartnerNotActive, RuleError{Code: RuleRolePartnerNotActive, Name: r.Role, Value: r.PartnerID}, "role %s names partner %s, who is not active", r.Role, r.PartnerID)
			}
		}
	case GoalChanged:
		if slices.Equal(s.Goals, ev.Goals) {
			return refuse(ErrGoalsUnchanged, RuleError{Code: RuleGoalsUnchanged}, "the new goals equal the current ones")
		}
	case AnchoringChanged:
		if s.AnchoringLevel == ev.Level {
			return refuse(ErrAnchoringUnchanged, RuleError{Code: RuleAnchoringUnchanged, Name: ev.Level}, "the anchoring level is already %s", ev.Level)
		}
	case CollaborationModelChanged:
		if s.CollaborationModel == ev.CollaborationModel {
			return refuse(ErrCollaborationModelUnchanged, RuleError{Code: RuleCollaborationModelUnchanged, Name: ev.CollaborationModel}, "the collaboration model is already %s", ev.CollaborationModel)
		}
	case ContactPersonAssigned:
		if _, ok := s.partner(ev.PartnerID); !ok {
			return refuse(ErrPartnerNotActive, RuleError{Code: RulePartnerNotActive, Value: ev.PartnerID}, "no active partner has id %s", ev.PartnerID)
		}
	case PartnershipPaused:
		if s.Status != StatusActive {
			return refuse(ErrNotActive, RuleError{Code: RuleNotActive, Name: s.Status, Date: e.OccurredAt}, "it is %s on %s", s.Status, calendar.Day(e.OccurredAt))
		}
	case PartnershipResumed:
		if s.Status != StatusPaused {
			return refuse(ErrNotPaused, RuleError{Code: RuleNotPaused, Name: s.Status, Date: e.OccurredAt}, "it is %s on %s", s.Status, calendar.Day(e.OccurredAt))
		}
	}
	return nil
}

func (s *State) externalPartners() int {
	n := 0
	for _, p := range s.Partners {
		if p.Kind != KindMunicipalUnit {
			n++
		}
	}
	return n
}

// PartnerNames returns the name of every partner that ever took part in the
// events (active or since left), by partner id: what summaries of roles,
// departures and contacts print instead of ids.
func PartnerNames(events []Entry) map[string]string {
	names := map[string]string{}
	for _, e := range events {
		switch ev := e.Event.(type) {
		case PartnershipInitiated:
			for _, p := range ev.Partners {
				names[p.PartnerID] = p.Name
			}
		case PartnerJoined:
			names[ev.Partner.PartnerID] = ev.Partner.Name
		}
	}
	return names
}
