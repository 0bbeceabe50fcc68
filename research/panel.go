package research

import (
	"context"
	"strconv"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// panelCounted lists the event types the panel counts per year, in the
// order of their n_ columns.
var panelCounted = []struct{ column, eventType string }{
	{"n_goal_changed", partnership.TypeGoalChanged},
	{"n_roles_agreed", partnership.TypeRolesAgreed},
	{"n_partner_joined", partnership.TypePartnerJoined},
	{"n_partner_left", partnership.TypePartnerLeft},
	{"n_agreement_signed", partnership.TypeAgreementSigned},
	{"n_funding_recorded", partnership.TypeFundingRecorded},
	{"n_anchoring_changed", partnership.TypeAnchoringChanged},
	{"n_milestone_logged", partnership.TypeMilestoneLogged},
	{"n_paused", partnership.TypePartnershipPaused},
	{"n_resumed", partnership.TypePartnershipResumed},
	{"n_model_changed", partnership.TypeCollaborationModelChanged},
}

// panelYear is one row of panel.csv before it is written.
type panelYear struct {
	municipality               string // today's code
	year                       int
	status                     string
	model, area, anchoring     string
	lead                       string
	partners                   int
	byKind                     []int
	agreement                  bool
	fundingYear, fundingCum    int64
	counts                     []int
	daysActive, daysPaused     int
	startedInYear, endedInYear bool
	endReason                  string
}

// panelSnapshot is the state at the end of a day with events.
type panelSnapshot struct {
	day        int
	state      partnership.State
	fundingCum int64
}

// panelYears derives a partnership's panel rows under the view, as of the
// end of asOf (YYYY-MM-DD): one per calendar year (Europe/Oslo) from the
// year it was initiated to the year it ended, or asOf's year. Covariates
// and status are those at the end of the year, or at the end of asOf (of
// the end day) in the last year. Counts and funding_nok_year take the
// events in force under the view that occurred in the year: a corrected
// event counts once, with its corrected data; a retracted one not at all;
// the corrections themselves are not counted. days_active and days_paused
// count the observed days of the year (from the initiation day, up to the
// day before the end or through asOf) under the status at the end of each
// day. nil when the partnership did not exist by asOf.
func panelYears(h []partnership.Entry, v partnership.View, asOf string) ([]panelYear, error) {
	asOfDay, err := dayNumberOf(asOf)
	if err != nil {
		return nil, err
	}
	var (
		snaps   []panelSnapshot
		day0    = -1
		endDay  = -1
		reason  string
		funding = map[int]int64{} // by year
		counts  = map[int][]int{} // by year
		cum     int64
	)
	err = partnership.Steps(h, v, func(e partnership.Entry, s partnership.State) {
		d := dayNumber(e.OccurredAt)
		y := yearOfDay(d)
		switch ev := e.Event.(type) {
		case partnership.PartnershipInitiated:
			day0 = d
		case partnership.PartnershipEnded:
			endDay, reason = d, ev.Reason
		case partnership.FundingRecorded:
			funding[y] += ev.AmountNOK
			cum += ev.AmountNOK
		}
		for i, c := range panelCounted {
			if c.eventType == e.Event.EventType() {
				if counts[y] == nil {
					counts[y] = make([]int, len(panelCounted))
				}
				counts[y][i]++
			}
		}
		snap := panelSnapshot{day: d, state: cloneState(s), fundingCum: cum}
		if n := len(snaps); n > 0 && snaps[n-1].day == d {
			snaps[n-1] = snap // the state after all of the day's events
		} else {
			snaps = append(snaps, snap)
		}
	})
	if err != nil || day0 < 0 {
		return nil, err
	}
	lastDay, observedTo := asOfDay, asOfDay
	if endDay >= 0 {
		lastDay, observedTo = endDay, endDay-1
	}
	var rows []panelYear
	for y := yearOfDay(day0); y <= yearOfDay(lastDay); y++ {
		first, last := dayOfDate(y, time.January, 1), dayOfDate(y, time.December, 31)
		at := min(last, lastDay)
		snap := snaps[0]
		for _, sn := range snaps {
			if sn.day > at {
				break
			}
			snap = sn
		}
		s := snap.state
		_, inForce := agreementInForce(s, dateOfDay(at))
		row := panelYear{
			municipality: s.CurrentMunicipality, year: y, status: s.Status, model: s.CollaborationModel, area: s.ServiceArea,
			anchoring: s.AnchoringLevel, lead: leadKind(s), partners: len(s.Partners), byKind: partnersByKind(s),
			agreement: inForce, fundingYear: funding[y], fundingCum: snap.fundingCum, counts: counts[y],
			startedInYear: y == yearOfDay(day0), endedInYear: endDay >= 0 && y == yearOfDay(endDay),
		}
		if row.anchoring == "" {
			row.anchoring = partnership.AnchoringNone
		}
		if row.counts == nil {
			row.counts = make([]int, len(panelCounted))
		}
		if row.endedInYear {
			row.endReason = reason
		}
		row.daysActive, row.daysPaused = statusDays(snaps, max(first, day0), min(last, observedTo))
		rows = append(rows, row)
	}
	return rows, nil
}

// statusDays counts the days from..to (inclusive) on which the status at
// the end of the day was active and paused.
func statusDays(snaps []panelSnapshot, from, to int) (active, paused int) {
	for i, sn := range snaps {
		until := to + 1 // the day the next change takes over
		if i+1 < len(snaps) {
			until = min(until, snaps[i+1].day)
		}
		n := until - max(from, sn.day)
		if n <= 0 {
			continue
		}
		switch sn.state.Status {
		case partnership.StatusActive:
			active += n
		case partnership.StatusPaused:
			paused += n
		}
	}
	return active, paused
}

// cloneState copies what the panel reads from a state that Steps will
// change afterwards.
func cloneState(s partnership.State) partnership.State {
	c := s
	c.Partners = append([]partnership.Partner(nil), s.Partners...)
	c.Roles = append([]partnership.Role(nil), s.Roles...)
	c.Agreements = append([]partnership.Agreement(nil), s.Agreements...)
	c.Goals = nil
	return c
}

// yearOfDay, dayOfDate and dateOfDay convert between dayNumber's day
// numbers and calendar dates.
func yearOfDay(d int) int { return time.Unix(int64(d)*86400, 0).UTC().Year() }

func dayOfDate(y int, m time.Month, d int) int {
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

func dateOfDay(d int) string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }

// appendTo appends the row's cells to record in PanelTable's column
// order.
func (r panelYear) appendTo(record []string, key string) []string {
	record = append(record, key, r.municipality, strconv.Itoa(r.year), r.status, r.model, r.area, r.anchoring, r.lead, strconv.Itoa(r.partners))
	for _, n := range r.byKind {
		record = append(record, strconv.Itoa(n))
	}
	record = append(record, flag(r.agreement), strconv.FormatInt(r.fundingYear, 10), strconv.FormatInt(r.fundingCum, 10))
	for _, n := range r.counts {
		record = append(record, strconv.Itoa(n))
	}
	return append(record, strconv.Itoa(r.daysActive), strconv.Itoa(r.daysPaused), flag(r.startedInYear), flag(r.endedInYear), r.endReason)
}

// panelExport is panel.csv as an Export.
func panelExport() Export {
	return Export{Table: PanelTable(), Rows: func(ctx context.Context, store eventstore.Store, o Options) Rows {
		return func(ctx context.Context, emit func([]string) error) error {
			v, err := o.view()
			if err != nil {
				return err
			}
			record := make([]string, 0, len(PanelTable().Columns))
			return eachHistory(ctx, store, o, func(_ string, h []partnership.Entry) ([]panelYear, error) {
				return panelYears(h, v, o.AsOf)
			}, func(stream string, rows []panelYear) error {
				key := o.Keys.Partnership(stream)
				for _, r := range rows {
					if err := emit(r.appendTo(record[:0], key)); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}}
}
