package demo_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// streamEvents groups the store's events by stream, in version order.
func streamEvents(t *testing.T, all []eventstore.RecordedEvent) map[string][]eventstore.RecordedEvent {
	t.Helper()
	out := map[string][]eventstore.RecordedEvent{}
	for _, e := range all {
		out[e.StreamID] = append(out[e.StreamID], e)
	}
	return out
}

// TestDemoExercisesResearchCovariates checks that the data set gives every
// covariate of the research exports something to vary: changes of
// collaboration model, leads of every kind and none, agreements of several
// kinds in force and expired, funding from several sources per
// partnership, and a partnership in a municipality that was split.
func TestDemoExercisesResearchCovariates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	load(t, store, now)
	streams := streamEvents(t, readAll(t, store))

	var (
		modelChanges  int
		modelPairs    = map[[2]string]bool{}
		leadKinds     = map[string]int{}
		withoutLead   int
		agreementKind = map[string]bool{}
		inForce       int
		expired       int
		sources       = map[string]bool{}
		manySources   int
		split         []string
	)
	today := calendar.Day(now)
	for stream, events := range streams {
		kinds := map[string]string{} // partner id → kind
		model := ""
		var lastRoles *partnership.RolesAgreed
		funders := map[string]bool{}
		fundings := 0
		for _, e := range events {
			switch ev := decode(t, e).(type) {
			case partnership.PartnershipInitiated:
				model = ev.CollaborationModel
				for _, p := range ev.Partners {
					kinds[p.PartnerID] = p.Kind
				}
				if ev.Municipality == "1507" {
					split = append(split, stream)
				}
			case partnership.PartnerJoined:
				kinds[ev.Partner.PartnerID] = ev.Partner.Kind
			case partnership.RolesAgreed:
				lastRoles = &ev
				for _, r := range ev.Roles {
					if r.Role == "lead" {
						leadKinds[kinds[r.PartnerID]]++
					}
				}
			case partnership.CollaborationModelChanged:
				modelChanges++
				modelPairs[[2]string{model, ev.CollaborationModel}] = true
				if !norwegian(ev.Reason) {
					t.Errorf("%s: the reason %q does not read as Norwegian prose", stream, ev.Reason)
				}
				model = ev.CollaborationModel
			case partnership.AgreementSigned:
				agreementKind[ev.AgreementType] = true
				switch {
				case ev.ValidUntil != "" && ev.ValidUntil < today:
					expired++
				case ev.ValidFrom <= today:
					inForce++
				}
			case partnership.FundingRecorded:
				sources[ev.Source] = true
				funders[ev.Source] = true
				fundings++
			}
		}
		if lastRoles != nil && !hasRole(*lastRoles, "lead") {
			withoutLead++
		}
		if len(funders) >= 2 && fundings >= 3 {
			manySources++
		}
	}
	t.Logf("model changes %d %v; lead kinds %v, %d partnerships without a lead; agreements %v, %d in force, %d expired; %d sources, %d partnerships with several; split %d",
		modelChanges, modelPairs, leadKinds, withoutLead, agreementKind, inForce, expired, len(sources), manySources, len(split))

	if modelChanges < 5 || len(modelPairs) < 3 {
		t.Errorf("%d changes of collaboration model over %d pairs of models; want at least 5 over 3", modelChanges, len(modelPairs))
	}
	for _, kind := range []string{"municipal_unit", "voluntary_organisation", "social_entrepreneur", "private_business"} {
		if leadKinds[kind] == 0 {
			t.Errorf("no partnership led by a %s (leads: %v)", kind, leadKinds)
		}
	}
	if withoutLead < 2 {
		t.Errorf("%d partnerships without a lead, want at least 2", withoutLead)
	}
	if len(agreementKind) < 4 || inForce < 10 || expired < 10 {
		t.Errorf("agreements of %d kinds, %d in force, %d expired on %s; want 4 kinds, at least 10 of each", len(agreementKind), inForce, expired, today)
	}
	if len(sources) < 6 || manySources < 15 {
		t.Errorf("%d funding sources, %d partnerships funded three times or more from several sources; want 6 and 15", len(sources), manySources)
	}

	// A partnership begun in the Ålesund that split on 2024-01-01 (1507)
	// is today Ålesund's (1508), and its code is valid only before the split.
	if len(split) == 0 {
		t.Fatal("no partnership initiated in 1507, the Ålesund that was split in 2024")
	}
	if kommune.Code("1507").ValidOn(time.Date(2024, time.January, 1, 12, 0, 0, 0, oslo)) {
		t.Error("1507 is valid after the split")
	}
	svc := app.New(store)
	for _, stream := range split {
		id, _ := history.ID(stream)
		s, _, err := svc.History().State(ctx, id, partnership.View{})
		if err != nil || s.Municipality != "1507" || s.CurrentMunicipality != "1508" {
			t.Errorf("%s: municipality %s → %s (%v), want 1507 → 1508", stream, s.Municipality, s.CurrentMunicipality, err)
		}
	}
}

// norwegian reports whether s reads as a Norwegian sentence: a capital
// first, and one of the small words no English sentence has.
func norwegian(s string) bool {
	if s == "" || !unicode.IsUpper([]rune(s)[0]) {
		return false
	}
	for _, w := range strings.Fields(strings.ToLower(s)) {
		switch strings.Trim(w, ",.") {
		case "og", "er", "ikke", "nå", "som", "til", "med":
			return true
		}
	}
	return false
}

func hasRole(r partnership.RolesAgreed, role string) bool {
	for _, x := range r.Roles {
		if x.Role == role {
			return true
		}
	}
	return false
}

// TestDemoRecordingTimes checks that each event is recorded when it was
// entered: never after now nor before it occurred, in the order of
// positions; most on their day or a few days later; and a group of
// partnerships entered after the fact on a municipality's go-live day,
// which known_at shows.
func TestDemoRecordingTimes(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	load(t, store, now)
	all := readAll(t, store)

	var last time.Time
	prompt, late := 0, 0
	for _, e := range all {
		if e.RecordedAt.After(now) || e.RecordedAt.Before(e.OccurredAt) {
			t.Errorf("%s %s occurred %s, recorded %s (now %s)", e.Type, e.EventID, e.OccurredAt, e.RecordedAt, now)
		}
		if e.RecordedAt.Before(last) {
			t.Errorf("position %d recorded %s, before position %d's %s", e.Position, e.RecordedAt, e.Position-1, last)
		}
		last = e.RecordedAt
		if e.Type == partnership.TypeEntryCorrected && !e.OccurredAt.Equal(e.RecordedAt) {
			t.Errorf("correction %s occurred %s, recorded %s: a correction occurs when it is recorded", e.EventID, e.OccurredAt, e.RecordedAt)
		}
		if e.RecordedAt.Sub(e.OccurredAt) <= 4*24*time.Hour {
			prompt++
		} else {
			late++
		}
	}
	if prompt < 3*late || late == 0 {
		t.Errorf("%d events recorded within four days, %d later; want most prompt and some entered after the fact", prompt, late)
	}

	goLive := map[string]bool{"2016-01-11": true, "2017-01-09": true, "2023-01-09": true}
	retroactive := map[string]time.Time{} // stream → when its initiation was entered
	for stream, events := range streamEvents(t, all) {
		first := events[0]
		if first.RecordedAt.Sub(first.OccurredAt) > 30*24*time.Hour {
			if !goLive[calendar.Day(first.RecordedAt)] {
				t.Errorf("%s begun %s was entered on %s, not a go-live day", stream, first.OccurredAt, first.RecordedAt)
			}
			retroactive[stream] = first.RecordedAt
		}
	}
	if len(retroactive) < 8 {
		t.Fatalf("%d partnerships entered after the fact, want a visible group of at least 8", len(retroactive))
	}
	svc := app.New(store)
	for stream, entered := range retroactive {
		id, _ := history.ID(stream)
		before := entered.Add(-time.Hour)
		if _, _, err := svc.History().State(ctx, id, partnership.View{KnownAt: &before}); !errors.Is(err, partnership.ErrNotFound) {
			t.Errorf("%s as known before it was entered (%s): %v, want not found", stream, entered, err)
		}
	}
	t.Logf("%d events recorded within four days, %d later; %d partnerships entered after the fact", prompt, late, len(retroactive))
}

// TestLoadBesideOtherEvents loads the data set into a store that already
// holds another partnership: it cannot be imported at the positions of
// its order of entry, so it is appended, recorded now, and a second Load
// appends nothing.
func TestLoadBesideOtherEvents(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	svc := app.New(store, app.WithClock(func() time.Time { return now }))
	if _, err := svc.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
		Municipality: "4203", Title: "Et samarbeid fra før", ServiceArea: "culture", CollaborationModel: "network",
		Partners: []partnership.Partner{{Name: "Arendal kulturforening", Kind: "voluntary_organisation"}}, Goals: []string{"Flere konserter"},
	}}, app.Meta{Actor: eventstore.Actor{Subject: "kari", Role: "coordinator"}}); err != nil {
		t.Fatal(err)
	}
	first, err := demo.Load(ctx, store, now)
	if err != nil {
		t.Fatalf("Load beside another partnership: %v", err)
	}
	all := readAll(t, store)
	if first.Appended != first.Events || len(all) != first.Events+1 {
		t.Errorf("summary %+v; the store holds %d events", first, len(all))
	}
	for _, e := range all[1:] {
		if e.RecordedAt.Before(e.OccurredAt) || e.RecordedAt.Sub(all[1].RecordedAt) > time.Hour {
			t.Fatalf("%s recorded %s: appended events are recorded when they are appended", e.EventID, e.RecordedAt)
		}
	}
	if again, err := demo.Load(ctx, store, now); err != nil || again.Appended != 0 {
		t.Errorf("second Load: %+v, %v; want nothing appended", again, err)
	}
}
