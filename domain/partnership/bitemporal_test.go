package partnership

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
)

// randomCorrection proposes a correction of a random earlier event: a
// retraction, or a replacement of the same type with other data.
func randomCorrection(r *rand.Rand, history []Entry) EntryCorrected {
	target := history[r.IntN(len(history))]
	c := EntryCorrected{CorrectedEventID: target.EventID, Reason: "retting"}
	if r.IntN(3) == 0 {
		return c // retraction
	}
	var replacement Event
	switch ev := target.Event.(type) {
	case MilestoneLogged:
		ev.Title = "Rettet tittel"
		replacement = ev
	case GoalChanged:
		ev.Goals = []string{"Rettet mål", "Mål " + string(rune('A'+r.IntN(3)))}
		replacement = ev
	case AnchoringChanged:
		ev.Level = AnchoringLevels[r.IntN(len(AnchoringLevels))]
		replacement = ev
	case CollaborationModelChanged:
		ev.CollaborationModel = CollaborationModels[r.IntN(len(CollaborationModels))]
		replacement = ev
	case FundingRecorded:
		ev.AmountNOK = 1 + r.Int64N(50000)
		replacement = ev
	case PartnerJoined:
		ev.Partner.Name = "Rettet navn"
		replacement = ev
	case PartnershipEnded:
		ev.Reason = EndReasons[r.IntN(len(EndReasons))]
		replacement = ev
	case PartnershipInitiated:
		ev.Title = "Rettet tittel"
		ev.ServiceArea = ServiceAreas[r.IntN(len(ServiceAreas))]
		replacement = ev
	default:
		return c
	}
	c.Replacement, _ = json.Marshal(replacement)
	return c
}

// bound is the view's bound for the oracle's instant; zero is none.
func bound(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// oracle is the state under (asOf, knownAt) computed the plain way: keep
// what was recorded by knownAt, resolve the corrections recorded by then
// (the latest wins), keep what occurred by asOf, order by occurrence, fold.
func oracle(t *testing.T, history []Entry, asOf, knownAt time.Time) (State, error) {
	t.Helper()
	known := func(e Entry) bool { return knownAt.IsZero() || !e.RecordedAt.After(knownAt) }
	occurred := func(e Entry) bool { return asOf.IsZero() || !e.OccurredAt.After(asOf) }
	latest := map[string]EntryCorrected{}
	var version uint64
	for _, e := range history {
		if !known(e) {
			continue
		}
		if occurred(e) {
			version = e.Version
		}
		if c, ok := e.Event.(EntryCorrected); ok {
			latest[c.CorrectedEventID] = c
		}
	}
	var kept []Entry
	for _, e := range history {
		if _, ok := e.Event.(EntryCorrected); ok || !known(e) || !occurred(e) {
			continue
		}
		if c, ok := latest[e.EventID]; ok {
			if len(c.Replacement) == 0 {
				continue
			}
			ev, err := Decode(e.Event.EventType(), SchemaVersion, c.Replacement)
			if err != nil {
				t.Fatal(err)
			}
			e.Event = ev
		}
		kept = append(kept, e)
	}
	slices.SortStableFunc(kept, func(a, b Entry) int {
		if c := a.OccurredAt.Compare(b.OccurredAt); c != 0 {
			return c
		}
		return int(a.Version) - int(b.Version)
	})
	var s State
	for len(kept) > 0 {
		n := 1
		for n < len(kept) && calendar.Day(kept[n].OccurredAt) == calendar.Day(kept[0].OccurredAt) {
			n++
		}
		day := kept[:n]
		if !oracleHolds(s, day) {
			// "That day": the day as recorded, each dated entry right
			// after the timed ones recorded before it.
			var ordered []Entry
			for _, e := range day {
				if !calendar.DateOnly(e.OccurredAt) {
					ordered = append(ordered, e)
				}
			}
			dated := slices.DeleteFunc(slices.Clone(day), func(e Entry) bool { return !calendar.DateOnly(e.OccurredAt) })
			slices.SortFunc(dated, func(a, b Entry) int { return int(a.Version) - int(b.Version) })
			for _, d := range dated {
				at := 0
				for i, e := range ordered {
					if !calendar.DateOnly(e.OccurredAt) && e.Version < d.Version || calendar.DateOnly(e.OccurredAt) {
						at = i + 1
					}
				}
				ordered = slices.Insert(ordered, at, d)
			}
			if oracleHolds(s, ordered) {
				day = ordered
			}
		}
		for _, e := range day {
			s.apply(e)
		}
		kept = kept[n:]
	}
	if !s.initiated() {
		return State{}, ErrNotFound
	}
	s.normalize()
	s.Version = version
	return s, nil
}

// oracleHolds reports whether the rules hold for day's entries in order
// from state s.
func oracleHolds(s State, day []Entry) bool {
	s = s.clone()
	for _, e := range day {
		if s.check(e) != nil {
			return false
		}
		s.apply(e)
	}
	return true
}

// TestPropertyBitemporalViewsReplayExactlyTheEventsValidThen drives random
// histories with many corrections (retractions and replacements of every
// correctable kind, accepted only when the corrected history stays valid)
// and checks, for random (as_of, known_at) pairs, that the state equals the
// fold of exactly the events valid under those two times.
func TestPropertyBitemporalViewsReplayExactlyTheEventsValidThen(t *testing.T) {
	corrections, views, missing := 0, 0, 0
	for seed := range uint64(30) {
		r := rand.New(rand.NewPCG(seed, 11))
		f := newFixture(t)
		f.now = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
		f.must(initiation(), "2021-03-01")
		for range 50 {
			if r.IntN(3) == 0 {
				if f.try(randomCorrection(r, f.history), "") == nil {
					corrections++
				}
				continue
			}
			ev, when := randomCommand(r, f)
			_ = f.try(ev, formatOrEmpty(when))
		}
		start, end := f.history[0].OccurredAt.Add(-48*time.Hour), f.now.Add(48*time.Hour)
		first, last := f.history[0].RecordedAt.Add(-time.Hour), f.now
		instant := func(from, to time.Time) time.Time {
			if r.IntN(6) == 0 {
				return time.Time{} // unbounded
			}
			return from.Add(time.Duration(r.Int64N(int64(to.Sub(from)))))
		}
		for range 200 {
			asOf, knownAt := instant(start, end), instant(first, last)
			if r.IntN(4) == 0 && len(f.history) > 1 { // exactly at a recording
				knownAt = f.history[r.IntN(len(f.history))].RecordedAt
			}
			got, err := Replay(f.history, View{AsOf: bound(asOf), KnownAt: bound(knownAt)})
			want, wantErr := oracle(t, f.history, asOf, knownAt)
			if !errors.Is(err, wantErr) {
				t.Fatalf("seed %d as_of %s known_at %s: error %v, want %v", seed, asOf, knownAt, err, wantErr)
			}
			if wantErr != nil {
				missing++
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("seed %d as_of %s known_at %s:\n got %+v\nwant %+v", seed, asOf, knownAt, got, want)
			}
			views++
		}
	}
	if corrections < 100 || views < 3000 || missing == 0 {
		t.Errorf("weak run: %d corrections accepted, %d views compared, %d before initiation", corrections, views, missing)
	}
	t.Logf("%d corrections accepted, %d views compared, %d before initiation", corrections, views, missing)
}
