package projections_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// places are municipalities with the dates their codes were valid: old
// codes exercise the mapping to today's.
var places = []struct {
	code  string
	start time.Time
}{
	{"0906", time.Date(2018, 3, 1, 9, 0, 0, 0, time.UTC)}, // Arendal before 2020 → 4203
	{"1702", time.Date(2017, 5, 1, 9, 0, 0, 0, time.UTC)}, // Steinkjer before 2018 → 5006
	{"4203", time.Date(2021, 2, 1, 9, 0, 0, 0, time.UTC)},
	{"5006", time.Date(2020, 9, 1, 9, 0, 0, 0, time.UTC)},
	{"0301", time.Date(2019, 1, 1, 9, 0, 0, 0, time.UTC)},
}

// workload drives random commands, valid and invalid, through the
// application service: initiations in several municipalities, every event
// type, late-logged events and corrections.
type workload struct {
	t   *testing.T
	r   *rand.Rand
	e   *env
	ids []string
	// accepted counts accepted commands by event type.
	accepted map[string]int
}

func (w *workload) pick(list []string) string { return list[w.r.IntN(len(list))] }

func (w *workload) initiate() {
	p := places[w.r.IntN(len(places))]
	ev := partnership.PartnershipInitiated{
		Municipality:       p.code,
		Title:              fmt.Sprintf("Samarbeid %d om %s", len(w.ids), w.pick([]string{"leksehjelp", "turlag", "Ærlig språkkafé", "besøksvenn"})),
		Description:        "Tilfeldig generert",
		ServiceArea:        w.pick(partnership.ServiceAreas),
		CollaborationModel: w.pick(partnership.CollaborationModels),
		Partners: []partnership.Partner{
			{Name: fmt.Sprintf("Frivillig lag %d", w.r.IntN(50)), Kind: "voluntary_organisation"},
			{Name: "Kommunens tjeneste", Kind: partnership.KindMunicipalUnit},
		},
		Goals: []string{"Mål A"},
	}
	res, err := w.e.svc.Initiate(context.Background(), partnership.Command{Event: ev, OccurredAt: new(p.start.Add(time.Duration(w.r.IntN(200)) * 24 * time.Hour))}, app.Meta{})
	if err != nil {
		w.t.Fatalf("initiate: %v", err)
	}
	w.ids = append(w.ids, res.State.ID)
	w.accepted[partnership.TypePartnershipInitiated]++
}

// step sends one random command to a random partnership.
func (w *workload) step() {
	ctx := context.Background()
	id := w.ids[w.r.IntN(len(w.ids))]
	s, _, err := w.e.svc.History().State(ctx, id, partnership.View{})
	if err != nil {
		w.t.Fatalf("state: %v", err)
	}
	now := w.e.clock.Now()
	// Mostly in order, sometimes logged late.
	when := s.LastOccurredAt.Add(time.Duration(1+w.r.IntN(90)) * 24 * time.Hour)
	if w.r.IntN(5) == 0 {
		when = s.StartedAt.Add(time.Duration(w.r.Int64N(int64(max(s.LastOccurredAt.Sub(s.StartedAt), time.Hour)))))
	}
	if when.After(now) {
		when = now
	}
	partnerID := func() string {
		if len(s.Partners) == 0 || w.r.IntN(10) == 0 {
			return "nobody"
		}
		return s.Partners[w.r.IntN(len(s.Partners))].PartnerID
	}
	var ev partnership.Event
	switch w.r.IntN(15) {
	case 0:
		ev = partnership.PartnerJoined{Partner: partnership.Partner{Name: fmt.Sprint("Lag ", w.r.IntN(1000)), Kind: w.pick(partnership.PartnerKinds)}}
	case 1:
		ev = partnership.PartnerLeft{PartnerID: partnerID(), Reason: "flytter"}
	case 2:
		ev = partnership.RolesAgreed{Roles: []partnership.Role{{PartnerID: partnerID(), Role: w.pick(partnership.RoleNames)}}}
	case 3:
		ev = partnership.GoalChanged{Goals: []string{fmt.Sprint("Mål ", w.r.IntN(4))}, Reason: "revisjon"}
	case 4:
		ev = partnership.AgreementSigned{AgreementType: w.pick(partnership.AgreementTypes), ValidFrom: "2021-01-01", Reference: "sak"}
	case 5:
		ev = partnership.FundingRecorded{AmountNOK: 1 + w.r.Int64N(100000), Source: "Tilskudd", PeriodFrom: "2021-01-01", PeriodUntil: "2021-12-31"}
	case 6:
		ev = partnership.AnchoringChanged{Level: w.pick(partnership.AnchoringLevels)}
	case 7, 8:
		ev = partnership.MilestoneLogged{Kind: w.pick(partnership.MilestoneKinds), Title: "Møte"}
	case 9:
		ev = partnership.ContactPersonAssigned{PartnerID: partnerID(), Name: "Kari Testkvinne", Email: "kari@example.org"}
	case 10:
		ev = partnership.PartnershipPaused{Reason: "pause"}
	case 11:
		ev = partnership.PartnershipResumed{Reason: "videre"}
	case 12:
		if w.r.IntN(3) == 0 {
			ev = partnership.PartnershipEnded{Reason: w.pick(partnership.EndReasons)}
		} else {
			ev = partnership.MilestoneLogged{Kind: "other", Title: "Notat"}
		}
	case 13:
		ev = partnership.CollaborationModelChanged{CollaborationModel: w.pick(partnership.CollaborationModels), Reason: "ny modell"}
	default:
		ev = w.correction(ctx, id)
		if ev == nil {
			return
		}
	}
	if _, err := w.e.svc.Execute(ctx, id, partnership.Command{Event: ev, OccurredAt: &when}, app.Meta{}); err == nil {
		w.accepted[ev.EventType()]++
	}
	w.e.clock.Advance(time.Minute)
}

// correction retracts or rewrites a random earlier event of the stream.
func (w *workload) correction(ctx context.Context, id string) partnership.Event {
	recorded, err := w.e.store.ReadStream(ctx, history.StreamID(id))
	if err != nil {
		w.t.Fatalf("read stream: %v", err)
	}
	target := recorded[w.r.IntN(len(recorded))]
	c := partnership.EntryCorrected{CorrectedEventID: target.EventID, Reason: "retting"}
	switch target.Type {
	case partnership.TypeMilestoneLogged:
		if w.r.IntN(2) == 0 {
			c.Replacement = json.RawMessage(`{"kind":"evaluation","title":"Rettet tittel","note":""}`)
		}
	case partnership.TypePartnershipInitiated:
		// Rewrite the title (and so the search text); the rest stays.
		var in partnership.PartnershipInitiated
		if err := json.Unmarshal(target.Data, &in); err != nil {
			w.t.Fatal(err)
		}
		in.Title += " (rettet)"
		c.Replacement, _ = json.Marshal(in)
	}
	return c
}

// TestPropertyIncrementalEqualsRebuild drives random command sequences over
// many partnerships while the projections follow live, and checks, table by
// table, that the incrementally maintained read models equal those of a
// from-scratch rebuild (a second runner over a new read-model file, and an
// online rebuild in the first), and that every summary equals the
// partnership's state replayed live from its stream.
func TestPropertyIncrementalEqualsRebuild(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		seeds := 3
		if testing.Short() {
			seeds = 1
		}
		total := map[string]int{}
		for seed := range uint64(seeds) {
			t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
				e := newEnv(t, backend)
				live := e.runner(t, "live.db", projections.WithPageSize(7))
				w := &workload{t: t, r: rand.New(rand.NewPCG(seed, 11)), e: e, accepted: total}
				for range 12 {
					w.initiate()
				}
				for range 400 {
					w.step()
				}
				e.catchUp(t, live)

				fresh := e.runner(t, "fresh.db")
				e.catchUp(t, fresh)
				sameDumps(t, live, fresh)

				for _, name := range live.Names() {
					if err := live.Rebuild(context.Background(), name); err != nil {
						t.Fatalf("rebuild %s: %v", name, err)
					}
				}
				waitRebuilt(t, live, 2)
				sameDumps(t, live, fresh)

				page, err := summaries.NewQueries(live).Partnerships(context.Background(), summaries.ListFilter{Limit: 500})
				if err != nil {
					t.Fatal(err)
				}
				if len(page.Items) != len(w.ids) {
					t.Fatalf("%d summaries for %d partnerships", len(page.Items), len(w.ids))
				}
				for _, got := range page.Items {
					want, _, err := e.svc.History().State(context.Background(), got.ID, partnership.View{})
					if err != nil {
						t.Fatal(err)
					}
					if !sameJSON(t, got, want) {
						t.Fatalf("summary of %s differs from the replayed state:\n got %+v\nwant %+v", got.ID, got, want)
					}
				}
				checkTimelineEntries(t, e, live, w.ids)
			})
		}
		for _, typ := range partnership.EventTypes() {
			if total[typ] == 0 {
				t.Errorf("no %s was accepted; the workload does not exercise it (%v)", typ, total)
			}
		}
	})
}

// waitRebuilt waits until every projection serves generation gen.
func waitRebuilt(t *testing.T, r *projections.Runner, gen int) {
	t.Helper()
	waitStatus(t, r, func(s projections.Status) bool {
		if s.LastRebuildError != "" {
			t.Fatalf("rebuild of %s failed: %s", s.Name, s.LastRebuildError)
		}
		return s.Generation >= gen && s.Rebuild == nil
	})
}

// sameJSON compares two states by their JSON encoding, times in UTC: the
// read model stores instants, the stream keeps the zone they were given in.
func sameJSON(t *testing.T, a, b partnership.State) bool {
	t.Helper()
	norm := func(s partnership.State) string {
		s.StartedAt = s.StartedAt.UTC()
		s.LastOccurredAt = s.LastOccurredAt.UTC()
		if s.EndedAt != nil {
			u := s.EndedAt.UTC()
			s.EndedAt = &u
		}
		raw, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

// checkTimelineEntries checks that each partnership's timeline entries are
// exactly the events in force in its stream, corrections resolved, under
// today's municipality code.
func checkTimelineEntries(t *testing.T, e *env, r *projections.Runner, ids []string) {
	t.Helper()
	ctx := context.Background()
	got := map[string][]string{}
	for _, code := range []string{"4203", "5006", "0301"} {
		tl, err := timeline.NewQueries(r).Timeline(ctx, code, timeline.Filter{Limit: 100000})
		if err != nil {
			t.Fatal(err)
		}
		for _, en := range tl.Entries {
			got[en.PartnershipID] = append(got[en.PartnershipID], code+" "+en.EventID)
		}
	}
	for _, id := range ids {
		recorded, err := e.store.ReadStream(ctx, history.StreamID(id))
		if err != nil {
			t.Fatal(err)
		}
		history, err := history.Entries(recorded)
		if err != nil {
			t.Fatal(err)
		}
		effective, err := partnership.Effective(history, partnership.View{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := partnership.Replay(history, partnership.View{})
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, h := range effective {
			want = append(want, s.CurrentMunicipality+" "+h.EventID)
		}
		if !reflect.DeepEqual(got[id], want) {
			t.Fatalf("timeline entries of %s:\n got %v\nwant %v", id, got[id], want)
		}
	}
}
