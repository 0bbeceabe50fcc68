package partnership

import (
	"errors"
	"fmt"
	"reflect"
	"testing"

	"github.com/samspill/samspill/domain/calendar"
)

// sameDayEvents are the event types whose rules depend on order, each with
// a payload that interacts with the others: a partner "p-new" that joins,
// leaves, gets a role and a contact. Initiation and corrections are not
// here: an initiation comes first (TestSameDayInitiation), a correction
// occurs when it is recorded.
func sameDayEvents() map[string]Event {
	return map[string]Event{
		TypePartnerJoined:             PartnerJoined{Partner: Partner{PartnerID: "p-new", Name: "Turlaget", Kind: "voluntary_organisation"}},
		TypePartnerLeft:               PartnerLeft{PartnerID: "p-new", Reason: "flyttet"},
		TypeRolesAgreed:               RolesAgreed{Roles: []Role{{PartnerID: "p-new", Role: "lead"}}},
		TypeGoalChanged:               GoalChanged{Goals: []string{"Et nytt mål"}, Reason: "revisjon"},
		TypeAgreementSigned:           AgreementSigned{AgreementType: "letter_of_intent", ValidFrom: "2024-05-10"},
		TypeFundingRecorded:           FundingRecorded{AmountNOK: 1000, Source: "tilskudd", PeriodFrom: "2024-01-01", PeriodUntil: "2024-12-31"},
		TypeAnchoringChanged:          AnchoringChanged{Level: "political"},
		TypeCollaborationModelChanged: CollaborationModelChanged{CollaborationModel: "grant", Reason: "nytt tilskudd"},
		TypeMilestoneLogged:           MilestoneLogged{Kind: "meeting", Title: "Møte"},
		TypeContactPersonAssigned:     ContactPersonAssigned{PartnerID: "p-new", Name: "Kari", Email: "kari@example.no"},
		TypePartnershipPaused:         PartnershipPaused{Reason: "pause"},
		TypePartnershipResumed:        PartnershipResumed{Reason: "videre"},
		TypePartnershipEnded:          PartnershipEnded{Reason: "completed"},
	}
}

const (
	sameDay  = "2024-05-10"                // a date: 00:00 Europe/Oslo, "that day"
	sameTime = "2024-05-10T14:00:00+02:00" // 14:00 the same day
)

// sameDayBase starts a partnership on an earlier day, active or paused.
func sameDayBase(t *testing.T, paused bool) *fixture {
	t.Helper()
	f := started(t)
	if paused {
		f.must(PartnershipPaused{Reason: "sommer"}, "2024-05-01")
	}
	return f
}

// dated is an event and when it occurred, for the oracle.
type dated struct {
	ev Event
	at string
}

// fold applies events in order to a copy of s, and reports whether every
// one passes the rules there: the oracle of what "that day" allows.
func fold(t *testing.T, s State, events ...dated) (State, bool) {
	t.Helper()
	s = s.clone()
	for i, d := range events {
		at, err := calendar.ParseTime(d.at)
		if err != nil {
			t.Fatal(err)
		}
		e := Entry{EventID: fmt.Sprintf("o-%d", i), Version: s.Version + 1, OccurredAt: at, Event: d.ev}
		if s.check(e) != nil {
			return State{}, false
		}
		s.apply(e)
	}
	s.normalize()
	return s, true
}

// TestSameDayCombinations records every pair of order-dependent event types
// on one day, one with a time of day and one with a date only, in both
// recording orders, on an active and a paused partnership. A date means
// "that day": the pair is accepted exactly when the rules hold in the order
// of their instants (the date first) or, for a date recorded after the
// timed entry, in the order they were recorded; and the state is that of
// the order that holds (the instants' order where both do). Nothing is
// accepted after the end is recorded.
func TestSameDayCombinations(t *testing.T) {
	events := sameDayEvents()
	for _, paused := range []bool{false, true} {
		for xType, x := range events {
			for yType, y := range events {
				for _, timedFirst := range []bool{true, false} {
					xAt, yAt := sameTime, sameDay
					if !timedFirst {
						xAt, yAt = sameDay, sameTime
					}
					name := fmt.Sprintf("paused=%v/%s at %s, then %s at %s", paused, xType, xAt, yType, yAt)
					t.Run(name, func(t *testing.T) {
						f := sameDayBase(t, paused)
						base := f.state(View{})
						if _, ok := fold(t, base, dated{x, xAt}); !ok {
							if err := f.try(x, xAt); err == nil {
								t.Fatalf("%s was accepted where its rules do not hold", xType)
							}
							return
						}
						f.must(x, xAt)
						xy, xyOK := fold(t, base, dated{x, xAt}, dated{y, yAt})
						yx, yxOK := fold(t, base, dated{y, yAt}, dated{x, xAt})
						if !timedFirst {
							yxOK = false // a timed entry recorded later never moves before a date
						}
						want, wantOK := xy, xyOK
						if yxOK {
							want, wantOK = yx, true // the instants' order: the date first
						}
						if xType == TypePartnershipEnded {
							wantOK = false // after the end is recorded, only corrections
						}
						err := f.try(y, yAt)
						if wantOK != (err == nil) {
							t.Fatalf("accepted = %v, want %v (%v)", err == nil, wantOK, err)
						}
						if err != nil {
							var rule *RuleError
							if !errors.As(err, &rule) {
								t.Fatalf("refused with %v, want a rule error", err)
							}
							return
						}
						got := f.state(View{})
						want.ID, want.Version, want.LastOccurredAt = got.ID, got.Version, got.LastOccurredAt
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("state\n got  %+v\n want %+v", got, want)
						}
					})
				}
			}
		}
	}
}

// TestEndOnTheDayOfATimedEntry is the coordinator's case: a meeting logged
// today at 14:00, then the partnership ended "today" (a date). The end
// counts as that day, after the meeting, and a later entry is refused as
// after the end.
func TestEndOnTheDayOfATimedEntry(t *testing.T) {
	f := started(t)
	f.must(MilestoneLogged{Kind: "meeting", Title: "Avslutningsmøte"}, sameTime)
	f.must(PartnershipEnded{Reason: "completed", Outcome: "Vel gjennomført"}, sameDay)
	s := f.state(View{})
	if s.Status != StatusEnded || s.EndedAt == nil || *s.EndedAt != f.history[2].OccurredAt {
		t.Fatalf("state after the end: %+v", s)
	}
	// As of the day both count; as of 13:00 only what was dated.
	asOf := func(s string) View {
		c, err := calendar.ParseCutoff(s)
		if err != nil {
			t.Fatal(err)
		}
		return View{AsOf: &c}
	}
	if s := f.state(asOf(sameDay)); s.Status != StatusEnded || s.LastOccurredAt != f.history[1].OccurredAt {
		t.Fatalf("as of the day: %+v", s)
	}
	if s := f.state(asOf("2024-05-10T13:00:00+02:00")); s.Status != StatusEnded || s.LastOccurredAt != f.history[2].OccurredAt {
		t.Fatalf("as of 13:00: %+v", s)
	}
	wantRule(t, f.try(MilestoneLogged{Kind: "meeting", Title: "Etterpå"}, "2024-05-10T16:00:00+02:00"), ErrEnded)
}

// TestSameDayInitiation dates entries on the day of an initiation that has
// a time of day: they count as that day, after it.
func TestSameDayInitiation(t *testing.T) {
	f := newFixture(t)
	f.must(initiation(), sameTime)
	f.must(MilestoneLogged{Kind: "meeting", Title: "Oppstart"}, sameDay)
	f.must(PartnershipPaused{Reason: "sommer"}, sameDay)
	if s := f.state(View{}); s.Status != StatusPaused || s.StartedAt != f.history[0].OccurredAt {
		t.Fatalf("state: %+v", s)
	}
	wantFields(t, f.try(MilestoneLogged{Kind: "meeting", Title: "Før"}, "2024-05-10T09:00:00+02:00"), "occurred_at")
	wantFields(t, f.try(MilestoneLogged{Kind: "meeting", Title: "Dagen før"}, "2024-05-09"), "occurred_at")
}
