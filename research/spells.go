package research

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
)

// What closed an interval when no event did (Spell.ClosedBy).
const (
	ClosedByCensored         = "censored"           // the last row of an ongoing partnership, at as_of
	ClosedByAgreementInForce = "agreement_in_force" // an agreement took effect on tstop (its valid_from)
	ClosedByAgreementExpired = "agreement_expired"  // an agreement expired the day before tstop (its valid_until)
)

// Values of Spell.LeadKind and Spell.AgreementKind besides the partner
// kinds and agreement types.
const (
	LeadShared    = "shared" // leads of different kinds
	LeadNone      = "none"   // no lead role in force
	AgreementNone = "none"   // no agreement in force
)

// KindCounts counts the active partners of each kind
// (partnership.PartnerKinds).
type KindCounts struct {
	MunicipalUnit, VoluntaryOrganisation, SocialEntrepreneur, PrivateBusiness, PublicAgency, Other int
}

// Spell is one row of spells.csv: an interval (TStart, TStop] in whole days
// since the partnership's initiation in which its covariates are constant.
// The rules are Spells'.
type Spell struct {
	Municipality       string // today's code
	ServiceArea        string
	CollaborationModel string // in force over the interval
	StartDate          string // YYYY-MM-DD, Europe/Oslo
	TStart, TStop      int
	Ended              bool
	EndReason          string
	Partners           int
	GoalChanges        int
	AnchoringLevel     string // "none" until one is recorded
	Paused             bool

	// LeadKind is the kind of the partner(s) holding the role "lead",
	// LeadShared for leads of different kinds, LeadNone for none.
	LeadKind       string
	PartnersByKind KindCounts
	// AgreementInForce: an agreement signed by TStart is valid on TStart;
	// AgreementKind is the type of the one in force with the latest
	// valid_from, AgreementNone when none is.
	AgreementInForce bool
	AgreementKind    string
	// FundingNOK is the funding recorded so far (kroner); FundingSources
	// counts its distinct sources, compared without case and extra space.
	FundingNOK     int64
	FundingSources int
	// EntryDay is the day from which the row is observed under left
	// truncation, -1 (missing) for a row wholly before the partnership
	// was first recorded; FirstRecorded is that day, YYYY-MM-DD.
	EntryDay      int
	FirstRecorded string
	// ClosedBy is what ended the interval: the event type that started
	// the next one, partnership.TypePartnershipEnded, ClosedByCensored,
	// ClosedByAgreementInForce or ClosedByAgreementExpired.
	ClosedBy string
	// MunicipalitySplit: the municipality was split on its way to today's
	// code; SplitCodes names the splits, "1507>1508+1580" ("" when none).
	MunicipalitySplit bool
	SplitCodes        string
}

// Funded reports whether any funding was recorded by the interval.
func (sp Spell) Funded() bool { return sp.FundingNOK > 0 }

// startsSpell lists the events that begin a new interval: the spec's
// (docs/api.md, Research exports), and those that change the covariates
// added since (agreements, funding, the collaboration model).
var startsSpell = map[string]bool{
	partnership.TypeGoalChanged:               true,
	partnership.TypeRolesAgreed:               true,
	partnership.TypeAnchoringChanged:          true,
	partnership.TypePartnerJoined:             true,
	partnership.TypePartnerLeft:               true,
	partnership.TypePartnershipPaused:         true,
	partnership.TypePartnershipResumed:        true,
	partnership.TypeAgreementSigned:           true,
	partnership.TypeFundingRecorded:           true,
	partnership.TypeCollaborationModelChanged: true,
}

// Spells turns one partnership's history (in version order) into its
// counting-process rows as of the end of the day asOf (YYYY-MM-DD,
// Europe/Oslo), with only what had been recorded by knownAt when it is
// set (corrections recorded later are not applied). Days are calendar
// days in Europe/Oslo, numbered from the initiation's day (day 0).
//
// Intervals:
//   - a new interval starts on the day of every event in force (after
//     corrections) of these types: PartnerJoined, PartnerLeft, RolesAgreed,
//     GoalChanged, AnchoringChanged, PartnershipPaused, PartnershipResumed,
//     AgreementSigned, FundingRecorded, CollaborationModelChanged;
//   - and on the calendar: on the valid_from of an agreement when it comes
//     after the day it was signed (it takes effect), and on the day after
//     its valid_until when it was in force on some day (it expired);
//   - an interval's covariates are those after all events of its first
//     day (changes on one day merge into one row), with the agreements as
//     they stand on that day; milestones and contacts start nothing;
//   - day 0 never starts a second interval; tstart < tstop always;
//   - an ended partnership's last row ends on the day it ended, with Ended
//     set and only there; a change or calendar split on that day or later
//     starts no row;
//   - an ongoing one is right-censored at asOf; a split on that day starts
//     no row;
//   - a partnership observed for less than a day gets TStop = 1.
//
// Covariates: see the Spell fields. An agreement is in force on day d when
// it was signed by d and valid_from ≤ d ≤ valid_until (no valid_until:
// open-ended). The lead is read from the roles in force; a lead partner
// who leaves takes the role along (LeadNone unless another lead remains).
//
// ClosedBy: the first in the day's order of what started the next
// interval, calendar splits (which happen at midnight; an expiry before a
// taking effect) before events, events in the order they occurred;
// PartnershipEnded on the last row of an ended partnership; censored on
// the last row of an ongoing one.
//
// Left truncation: r is the number of days from the initiation to the day
// the initiation was recorded (its recorded_at), never below 0. A row with
// TStop > r has EntryDay = max(TStart, r); a row with TStop ≤ r has none
// (-1), so Surv(entry_day, tstop, ended) drops it and is the left-truncated
// counting process, while Surv(tstart, tstop, ended) still uses every row.
//
// It returns nil when the partnership did not exist (or was not known)
// by then.
func Spells(history []partnership.Entry, asOf string, knownAt *time.Time) ([]Spell, error) {
	v, err := Options{AsOf: asOf, KnownAt: knownAt}.view()
	if err != nil {
		return nil, err
	}
	censor, err := dayNumberOf(asOf)
	if err != nil {
		return nil, err
	}
	return spells(history, v, censor)
}

// dayEnd is what one day with events leaves in force.
type dayEnd struct {
	day int    // since day 0
	cut string // the first event type of the day that starts an interval
	cov Spell  // the covariates after the day's events
}

// agreementTerm is an agreement in force under the view, in days since
// day 0 (until is the last day in force).
type agreementTerm struct {
	signed, from, until int
	kind                string
}

func (a agreementTerm) inForce(d int) bool { return a.signed <= d && a.from <= d && d <= a.until }

// spells derives the rows under the view; censor is the day number of
// as_of.
func spells(history []partnership.Entry, v partnership.View, censor int) ([]Spell, error) {
	var (
		days         []dayEnd
		agreements   []agreementTerm
		sources      = map[string]bool{}
		municipality string
		first        Spell // what every row shares
		day0, r      int
		initiated    bool
		ended        bool
		stop         int
		endReason    string
		failed       error
	)
	err := partnership.Steps(history, v, func(e partnership.Entry, s partnership.State) {
		d := dayNumber(e.OccurredAt)
		switch ev := e.Event.(type) {
		case partnership.PartnershipInitiated:
			initiated, day0 = true, d
			r = max(0, dayNumber(e.RecordedAt)-day0)
			municipality = ev.Municipality
			first = Spell{StartDate: calendar.Day(e.OccurredAt), FirstRecorded: calendar.Day(e.RecordedAt)}
		case partnership.PartnershipEnded:
			ended, stop, endReason = true, d-day0, ev.Reason
			return // the end changes no covariate of the rows before it
		case partnership.AgreementSigned:
			a, err := agreementOf(ev, d-day0, day0)
			if err != nil && failed == nil {
				failed = fmt.Errorf("agreement of event %s: %w", e.EventID, err)
			}
			agreements = append(agreements, a)
		case partnership.FundingRecorded:
			sources[fundingSource(ev.Source)] = true
		}
		if !initiated {
			return
		}
		t := d - day0
		cov := covariates(s, len(sources))
		cut := ""
		if startsSpell[e.Event.EventType()] {
			cut = e.Event.EventType()
		}
		if n := len(days); n > 0 && days[n-1].day == t {
			days[n-1].cov = cov
			if days[n-1].cut == "" {
				days[n-1].cut = cut
			}
			return
		}
		days = append(days, dayEnd{day: t, cut: cut, cov: cov})
	})
	if err == nil {
		err = failed
	}
	if err != nil || !initiated {
		return nil, err
	}
	if !ended {
		stop = censor - day0
	}

	// cuts: the day each later interval starts, with what closed the one
	// before it. Calendar splits come first in a day's order, so they are
	// written last and win.
	cuts := map[int]string{}
	within := func(d int) bool { return d > 0 && d < stop }
	for _, de := range days {
		if de.cut != "" && within(de.day) {
			if _, ok := cuts[de.day]; !ok {
				cuts[de.day] = de.cut
			}
		}
	}
	for _, a := range agreements {
		if a.from > a.signed && a.from <= a.until && within(a.from) {
			cuts[a.from] = ClosedByAgreementInForce
		}
	}
	for _, a := range agreements {
		if a.until != math.MaxInt && a.until >= max(a.signed, a.from) && within(a.until+1) {
			cuts[a.until+1] = ClosedByAgreementExpired
		}
	}
	bounds := make([]int, 0, len(cuts)+1)
	bounds = append(bounds, 0)
	for d := range cuts {
		bounds = append(bounds, d)
	}
	slices.Sort(bounds)

	split := splitCodes(kommune.Code(municipality))
	rows := make([]Spell, 0, len(bounds))
	j := 0 // days[j] is the last day with events up to the row's start
	for i, b := range bounds {
		for j+1 < len(days) && days[j+1].day <= b {
			j++
		}
		sp := days[j].cov
		sp.StartDate, sp.FirstRecorded = first.StartDate, first.FirstRecorded
		sp.MunicipalitySplit, sp.SplitCodes = split != "", split
		sp.AgreementKind = AgreementNone
		latest := math.MinInt
		for _, a := range agreements {
			if a.inForce(b) && a.from >= latest {
				sp.AgreementInForce, sp.AgreementKind, latest = true, a.kind, a.from
			}
		}
		sp.TStart, sp.TStop = b, stop
		switch {
		case i+1 < len(bounds):
			sp.TStop, sp.ClosedBy = bounds[i+1], cuts[bounds[i+1]]
		case ended:
			sp.Ended, sp.EndReason, sp.ClosedBy = true, endReason, partnership.TypePartnershipEnded
		default:
			sp.ClosedBy = ClosedByCensored
		}
		if sp.TStop <= 0 {
			sp.TStop = 1 // observed for less than a day
		}
		sp.EntryDay = -1
		if sp.TStop > r {
			sp.EntryDay = max(sp.TStart, r)
		}
		rows = append(rows, sp)
	}
	return rows, nil
}

// covariates reads a row's covariates from the state after its first day.
func covariates(s partnership.State, sources int) Spell {
	sp := Spell{
		Municipality:       s.CurrentMunicipality,
		ServiceArea:        s.ServiceArea,
		CollaborationModel: s.CollaborationModel,
		Partners:           len(s.Partners),
		GoalChanges:        s.GoalChanges,
		AnchoringLevel:     s.AnchoringLevel,
		Paused:             s.Status == partnership.StatusPaused,
		LeadKind:           leadKind(s),
		FundingNOK:         s.FundingTotalNOK,
		FundingSources:     sources,
	}
	if sp.AnchoringLevel == "" {
		sp.AnchoringLevel = partnership.AnchoringNone
	}
	n := partnersByKind(s)
	sp.PartnersByKind = KindCounts{MunicipalUnit: n[0], VoluntaryOrganisation: n[1], SocialEntrepreneur: n[2], PrivateBusiness: n[3], PublicAgency: n[4], Other: n[5]}
	return sp
}

// agreementOf places an agreement signed on day signed (since day 0) on
// the day numbers since day 0.
func agreementOf(ev partnership.AgreementSigned, signed, day0 int) (agreementTerm, error) {
	a := agreementTerm{signed: signed, until: math.MaxInt, kind: ev.AgreementType}
	from, err := dateNumber(ev.ValidFrom)
	if err != nil {
		return a, fmt.Errorf("valid_from: %w", err)
	}
	a.from = from - day0
	if ev.ValidUntil != "" {
		until, err := dateNumber(ev.ValidUntil)
		if err != nil {
			return a, fmt.Errorf("valid_until: %w", err)
		}
		a.until = until - day0
	}
	return a, nil
}

// fundingSource normalises a funding source for counting: lower case,
// runs of space as one, none at the ends ("Sparebank1  Stiftelsen" and
// "sparebank1 stiftelsen" are one source).
func fundingSource(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// splitCodes names the splits on the way from c to today's code as
// "1507>1508+1580", several joined by ";"; "" when none.
func splitCodes(c kommune.Code) string {
	var b strings.Builder
	var from kommune.Code
	var on time.Time
	for _, ch := range kommune.SplitsOf(c) {
		switch {
		case ch.From == from && ch.ValidFrom.Equal(on):
			b.WriteByte('+')
		default:
			if b.Len() > 0 {
				b.WriteByte(';')
			}
			b.WriteString(string(ch.From) + ">")
			from, on = ch.From, ch.ValidFrom
		}
		b.WriteString(string(ch.To))
	}
	return b.String()
}

// dayNumber numbers the calendar day of t in Europe/Oslo.
func dayNumber(t time.Time) int {
	y, m, d := t.In(calendar.Oslo).Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// dateNumber numbers a date YYYY-MM-DD as dayNumber does.
func dateNumber(date string) (int, error) {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return 0, fmt.Errorf("%q is not a date YYYY-MM-DD", date)
	}
	return int(d.Unix() / 86400), nil
}

func dayNumberOf(asOf string) (int, error) {
	n, err := dateNumber(asOf)
	if err != nil {
		return 0, fmt.Errorf("as_of %q is not a date YYYY-MM-DD", asOf)
	}
	return n, nil
}
