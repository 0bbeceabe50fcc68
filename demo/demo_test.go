package demo_test

import (
	"context"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/orgnr"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
)

// now is a fixed clock after the data set's cutoff (2026-06-30).
var now = time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC)

func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	return store
}

func load(t *testing.T, store eventstore.Store, now time.Time) demo.Summary {
	t.Helper()
	sum, err := demo.Load(context.Background(), store, now)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return sum
}

func readAll(t *testing.T, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	for after := uint64(0); ; {
		page, err := store.ReadAll(context.Background(), after, 500)
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}

func decode(t *testing.T, e eventstore.RecordedEvent) partnership.Event {
	t.Helper()
	ev, err := partnership.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		t.Fatalf("decode %s %s: %v", e.Type, e.EventID, err)
	}
	return ev
}

func TestLoad(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	sum := load(t, store, now)
	all := readAll(t, store)

	if sum.Partnerships < 40 {
		t.Errorf("Partnerships = %d, want at least 40", sum.Partnerships)
	}
	if sum.Events != len(all) || sum.Appended != len(all) {
		t.Errorf("summary %+v, store holds %d events", sum, len(all))
	}

	types := map[string]int{}
	endReasons := map[string]bool{}
	areas := map[string]bool{}
	models := map[string]bool{}
	kinds := map[string]bool{}
	codes := map[string]int{}
	var retractions, replacements int
	streams := map[string]bool{}
	orgNames := map[string]string{}
	checkOrgNo := func(p partnership.Partner) {
		if p.OrgNo == "" {
			if p.Kind != "municipal_unit" {
				t.Errorf("%s (%s) has no org number", p.Name, p.Kind)
			}
			return
		}
		if n, err := orgnr.Parse(p.OrgNo); err != nil || string(n) != p.OrgNo {
			t.Errorf("%s: org number %q: %v", p.Name, p.OrgNo, err)
		}
		// Enhetsregisteret's numbers begin with 8 or 9; the demo's must not
		// be a real organisation's.
		if p.OrgNo[0] == '8' || p.OrgNo[0] == '9' {
			t.Errorf("%s: org number %s could be a real organisation's", p.Name, p.OrgNo)
		}
		if other, ok := orgNames[p.OrgNo]; ok && other != p.Name {
			t.Errorf("org number %s belongs to %s and %s", p.OrgNo, other, p.Name)
		}
		orgNames[p.OrgNo] = p.Name
	}
	for _, e := range all {
		types[e.Type]++
		streams[e.StreamID] = true
		if e.OccurredAt.After(now) {
			t.Errorf("%s %s occurred in the future: %s", e.Type, e.EventID, e.OccurredAt)
		}
		if e.Metadata.Actor != (eventstore.Actor{Subject: "demo", Role: "system"}) {
			t.Errorf("%s: actor %+v", e.EventID, e.Metadata.Actor)
		}
		if e.Type != partnership.TypeEntryCorrected {
			if local := e.OccurredAt.In(oslo); local.Hour() != 10 || local.Minute() != 0 {
				t.Errorf("%s %s occurred at %s, want 10:00 Oslo time", e.Type, e.EventID, local)
			}
		}
		switch ev := decode(t, e).(type) {
		case partnership.PartnershipInitiated:
			areas[ev.ServiceArea] = true
			models[ev.CollaborationModel] = true
			codes[ev.Municipality]++
			checkCode(t, ev, e.OccurredAt)
			for _, p := range ev.Partners {
				kinds[p.Kind] = true
				checkOrgNo(p)
			}
		case partnership.PartnerJoined:
			checkOrgNo(ev.Partner)
		case partnership.PartnershipEnded:
			endReasons[ev.Reason] = true
		case partnership.ContactPersonAssigned:
			if !strings.HasSuffix(ev.Email, "@example.no") {
				t.Errorf("contact e-mail %q is not at example.no", ev.Email)
			}
		case partnership.EntryCorrected:
			if len(ev.Replacement) == 0 {
				retractions++
			} else {
				replacements++
			}
		}
	}
	if len(streams) != sum.Partnerships {
		t.Errorf("%d streams, summary says %d partnerships", len(streams), sum.Partnerships)
	}
	for _, typ := range partnership.EventTypes() {
		if types[typ] == 0 {
			t.Errorf("no %s event", typ)
		}
	}
	if retractions == 0 || replacements == 0 {
		t.Errorf("corrections: %d retractions, %d replacements; want both", retractions, replacements)
	}
	if len(endReasons) < 4 {
		t.Errorf("end reasons %v, want at least 4", slices.Sorted(maps.Keys(endReasons)))
	}
	for _, list := range []struct {
		name string
		want []string
		got  map[string]bool
	}{
		{"service area", partnership.ServiceAreas, areas},
		{"collaboration model", partnership.CollaborationModels, models},
		{"partner kind", partnership.PartnerKinds, kinds},
	} {
		for _, v := range list.want {
			if !list.got[v] {
				t.Errorf("no partnership with %s %s", list.name, v)
			}
		}
	}
	for c, current := range map[string]kommune.Code{"0906": "4203", "4203": "4203", "1702": "5006", "5004": "5006", "5006": "5006", "1507": "1508", "1508": "1508"} {
		if codes[c] == 0 {
			t.Errorf("no partnership initiated with municipality %s (have %v)", c, codes)
		}
		if got := kommune.Code(c).Current(); got != current {
			t.Errorf("%s.Current() = %s, want %s", c, got, current)
		}
	}
	arendal, steinkjer, alesund := codes["0906"]+codes["4203"], codes["1702"]+codes["5004"]+codes["5006"], codes["1507"]+codes["1508"]
	if arendal+steinkjer+alesund != sum.Partnerships || arendal < sum.Partnerships*2/5 || steinkjer < sum.Partnerships*2/5 || alesund == 0 {
		t.Errorf("Arendal %d, Steinkjer %d, Ålesund %d partnerships of %d; want about half each in the first two, some in Ålesund", arendal, steinkjer, alesund, sum.Partnerships)
	}

	svc := app.New(store)
	for stream := range streams {
		id, ok := history.ID(stream)
		if !ok {
			t.Fatalf("stream %s is not a partnership", stream)
		}
		if _, _, err := svc.History().State(ctx, id, partnership.View{}); err != nil {
			t.Errorf("state of %s: %v", id, err)
		}
	}
	state, _, err := svc.History().State(ctx, sum.Example, partnership.View{})
	if err != nil {
		t.Fatalf("example %s: %v", sum.Example, err)
	}
	t.Logf("example %s: %q in %s, %d events", sum.Example, state.Title, state.Municipality, state.Version)
	t.Logf("%d partnerships (Arendal %d, Steinkjer %d, Ålesund %d), %d events; codes %v; end reasons %v",
		sum.Partnerships, arendal, steinkjer, alesund, sum.Events, codes, slices.Sorted(maps.Keys(endReasons)))
	for _, typ := range partnership.EventTypes() {
		t.Logf("%-22s %4d", typ, types[typ])
	}
}

var oslo = calendar.Oslo

// checkCode checks that an initiation carries the code its municipality had
// on the day, and that today's code is 4203, 5006 or 1508.
func checkCode(t *testing.T, ev partnership.PartnershipInitiated, at time.Time) {
	t.Helper()
	first2020 := time.Date(2020, time.January, 1, 0, 0, 0, 0, oslo)
	first2018 := time.Date(2018, time.January, 1, 0, 0, 0, 0, oslo)
	first2024 := time.Date(2024, time.January, 1, 0, 0, 0, 0, oslo)
	var want string
	switch current := kommune.Code(ev.Municipality).Current(); {
	case current == "4203" && at.Before(first2020):
		want = "0906"
	case current == "4203":
		want = "4203"
	case current == "5006" && at.Before(first2018):
		want = "1702"
	case current == "5006" && at.Before(first2020):
		want = "5004"
	case current == "5006":
		want = "5006"
	case current == "1508" && at.Before(first2020):
		want = "1504"
	case current == "1508" && at.Before(first2024):
		want = "1507" // the merged Ålesund that split in 2024
	case current == "1508":
		want = "1508"
	default:
		t.Errorf("%q: municipality %s is now %s, not Arendal, Steinkjer or Ålesund", ev.Title, ev.Municipality, current)
		return
	}
	if ev.Municipality != want {
		t.Errorf("%q initiated %s carries %s, want %s", ev.Title, at.In(oslo).Format(time.DateOnly), ev.Municipality, want)
	}
}

func TestLoadIsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := openStore(t)
	first := load(t, store, now)
	head, err := store.Head(ctx)
	if err != nil {
		t.Fatal(err)
	}
	second := load(t, store, now)
	if second.Appended != 0 {
		t.Errorf("second Load appended %d events", second.Appended)
	}
	if second.Partnerships != first.Partnerships || second.Events != first.Events || second.Example != first.Example {
		t.Errorf("second Load summary %+v, first %+v", second, first)
	}
	if again, err := store.Head(ctx); err != nil || again != head {
		t.Errorf("head moved from %d to %d (%v)", head, again, err)
	}
}

// TestLoadGrowsWithTime loads the data set as it stood on an earlier day,
// checks that nothing lies after that day, then loads it at today's clock:
// the store must end up with the same events, under the same ids, as a
// store loaded today directly.
func TestLoadGrowsWithTime(t *testing.T) {
	t.Parallel()
	early := time.Date(2019, time.June, 1, 12, 0, 0, 0, time.UTC)
	grown := openStore(t)
	before := load(t, grown, early)
	for _, e := range readAll(t, grown) {
		if e.OccurredAt.After(early) {
			t.Errorf("%s %s occurred %s, after the clock %s", e.Type, e.EventID, e.OccurredAt, early)
		}
	}
	after := load(t, grown, now)
	if before.Partnerships >= after.Partnerships || before.Events+after.Appended != after.Events {
		t.Errorf("early load %+v, then %+v", before, after)
	}

	direct := openStore(t)
	load(t, direct, now)
	type key struct {
		stream, id, typ, data string
		version, position     uint64
		occurred, recorded    string
	}
	set := func(events []eventstore.RecordedEvent) map[key]bool {
		out := map[key]bool{}
		for _, e := range events {
			out[key{e.StreamID, e.EventID, e.Type, string(e.Data), e.Version, e.Position,
				e.OccurredAt.UTC().Format(time.RFC3339Nano), e.RecordedAt.UTC().Format(time.RFC3339Nano)}] = true
		}
		return out
	}
	if a, b := set(readAll(t, grown)), set(readAll(t, direct)); !maps.Equal(a, b) {
		t.Errorf("grown store has %d events, direct load %d; they differ", len(a), len(b))
	}
}
