package partnership

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
)

// randomCommand proposes a plausible command; many are refused, which is
// the point: refused commands must leave no trace, accepted ones must keep
// the history valid.
func randomCommand(r *rand.Rand, f *fixture) (Event, time.Time) {
	s, _ := Replay(f.history, View{})
	start := s.StartedAt
	when := start.Add(time.Duration(r.Int64N(int64(f.now.Sub(start)) + 1)))
	// Coordinators often date entries with a day only, and log several on
	// one day: a third share a day with an earlier entry, and a third of
	// all are dated (00:00 Europe/Oslo), so that arrange is exercised.
	if r.IntN(3) == 0 {
		when = f.history[r.IntN(len(f.history))].OccurredAt
		y, m, d := when.In(calendar.Oslo).Date()
		when = time.Date(y, m, d, 8+r.IntN(12), r.IntN(60), 0, 0, calendar.Oslo).UTC()
	}
	if r.IntN(3) == 0 {
		y, m, d := when.In(calendar.Oslo).Date()
		when = time.Date(y, m, d, 0, 0, 0, 0, calendar.Oslo).UTC()
	}
	partnerID := func() string {
		if len(s.Partners) == 0 || r.IntN(8) == 0 {
			return "nobody"
		}
		return s.Partners[r.IntN(len(s.Partners))].PartnerID
	}
	pick := func(list []string) string { return list[r.IntN(len(list))] }
	switch r.IntN(14) {
	case 0:
		return PartnerJoined{Partner: Partner{Name: fmt.Sprint("Lag ", r.IntN(1000)), Kind: pick(PartnerKinds)}}, when
	case 1:
		return PartnerLeft{PartnerID: partnerID(), Reason: "flytter"}, when
	case 2:
		return RolesAgreed{Roles: []Role{{PartnerID: partnerID(), Role: pick(RoleNames)}}}, when
	case 3:
		return GoalChanged{Goals: []string{fmt.Sprint("Mål ", r.IntN(3))}, Reason: "revisjon"}, when
	case 4:
		return AgreementSigned{AgreementType: pick(AgreementTypes), ValidFrom: "2021-01-01", Reference: "sak"}, when
	case 5:
		return FundingRecorded{AmountNOK: 1 + r.Int64N(100000), Source: "Tilskudd", PeriodFrom: "2021-01-01", PeriodUntil: "2021-12-31"}, when
	case 6:
		return AnchoringChanged{Level: pick(AnchoringLevels)}, when
	case 7:
		return MilestoneLogged{Kind: pick(MilestoneKinds), Title: "Møte"}, when
	case 8:
		return ContactPersonAssigned{PartnerID: partnerID(), Name: "Ola Testmann", Phone: "+47 400 00 000"}, when
	case 9:
		return PartnershipPaused{Reason: "pause"}, when
	case 10:
		return PartnershipResumed{Reason: "videre"}, when
	case 11:
		if r.IntN(4) == 0 {
			return PartnershipEnded{Reason: pick(EndReasons)}, when
		}
		return MilestoneLogged{Kind: "other", Title: "Notat"}, when
	case 12:
		return CollaborationModelChanged{CollaborationModel: pick(CollaborationModels), Reason: "ny modell"}, when
	default:
		target := f.history[r.IntN(len(f.history))]
		c := EntryCorrected{CorrectedEventID: target.EventID, Reason: "retting"}
		if m, ok := target.Event.(MilestoneLogged); ok && r.IntN(2) == 0 {
			m.Title = "Rettet tittel"
			c.Replacement, _ = json.Marshal(m)
		}
		return c, time.Time{}
	}
}

// TestPropertyAcceptedHistoriesStayValidAndBitemporal drives random command
// sequences and checks, after every accepted command, that the history
// replays without violating a rule, that its version counts every event, and
// that the state as known at each earlier recording time equals the state
// that was current then.
func TestPropertyAcceptedHistoriesStayValidAndBitemporal(t *testing.T) {
	accepted := map[string]int{}
	folded := 0
	for seed := range uint64(40) {
		r := rand.New(rand.NewPCG(seed, 7))
		f := newFixture(t)
		f.now = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
		f.must(initiation(), "2021-03-01")
		snapshots := []State{f.state(View{})}
		fold := snapshots[0]
		for range 60 {
			ev, when := randomCommand(r, f)
			before := len(f.history)
			err := f.try(ev, formatOrEmpty(when))
			if err != nil {
				if len(f.history) != before {
					t.Fatalf("seed %d: refused command changed the history", seed)
				}
				continue
			}
			if bad, err := validate(f.history); err != nil {
				t.Fatalf("seed %d: accepted %s but history breaks at %s: %v", seed, ev.EventType(), bad.EventID, err)
			}
			s := f.state(View{})
			if s.Version != uint64(len(f.history)) {
				t.Fatalf("seed %d: version %d, history %d", seed, s.Version, len(f.history))
			}
			snapshots = append(snapshots, s)
			accepted[ev.EventType()]++
			// A projection's fold: Next where it may, Replay where it must,
			// on the state as a read model keeps it between folds (its
			// JSON, Stored).
			if next, ok := keptAsJSON(t, fold).Next(f.history[len(f.history)-1]); ok {
				fold = next
				folded++
			} else {
				fold = s
			}
			if !reflect.DeepEqual(fold, s) {
				t.Fatalf("seed %d: Next after %s:\n got %+v\nwant %+v", seed, ev.EventType(), fold, s)
			}
		}
		for i, e := range f.history {
			known := f.state(View{KnownAt: new(e.RecordedAt)})
			if !reflect.DeepEqual(known, snapshots[i]) {
				t.Fatalf("seed %d: as known at event %d:\n got %+v\nwant %+v", seed, i+1, known, snapshots[i])
			}
		}
	}
	// Guard against a vacuous run: every type must have been accepted, and
	// Next must have been used, not only refused.
	if folded < 100 {
		t.Errorf("Next applied only %d events; the generator hardly exercises it", folded)
	}
	for _, typ := range EventTypes()[1:] {
		if accepted[typ] == 0 {
			t.Errorf("no %s was ever accepted; the generator does not exercise it (%v)", typ, accepted)
		}
	}
}

func formatOrEmpty(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format(time.RFC3339Nano)
}

// keptAsJSON returns s after a round trip through the JSON a read model
// keeps it as (Stored).
func keptAsJSON(t *testing.T, s State) State {
	t.Helper()
	raw, err := json.Marshal(s.Stored())
	if err != nil {
		t.Fatal(err)
	}
	var st Stored
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	return st.Restore()
}
