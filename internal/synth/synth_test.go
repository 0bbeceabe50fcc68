package synth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
)

// TestFillWritesValidInterleavedHistories checks that every generated
// stream passes the domain's rules event by event, that the focus
// municipality gets its partnerships (old codes included) and that
// streams interleave in the global log.
func TestFillWritesValidInterleavedHistories(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cfg := Config{Partnerships: 60, Events: 40, Seed: 7, Focus: "4203", FocusPartnerships: 30}
	sum, err := Fill(ctx, store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Partnerships != 60 || len(sum.FocusIDs) != 30 || sum.Events < 60*30 {
		t.Fatalf("summary %+v", sum)
	}
	types := map[string]int{}
	oldCodes := 0
	for i := range cfg.Partnerships {
		id := newHistory(cfg, i).id
		recorded, err := store.ReadStream(ctx, history.StreamID(id))
		if err != nil {
			t.Fatal(err)
		}
		entries, err := history.Entries(recorded)
		if err != nil {
			t.Fatal(err)
		}
		for j, e := range entries {
			h, err := partnership.NewHistory(entries[:j])
			if err != nil {
				t.Fatal(err)
			}
			_, err = partnership.Decide(h, partnership.Command{Event: e.Event, OccurredAt: &e.OccurredAt},
				partnership.Env{Now: time.Now(), NewID: func() string { return "x" }})
			if err != nil {
				t.Fatalf("%s event %d (%s) breaks a rule: %v", id, j+1, e.Event.EventType(), err)
			}
			types[e.Event.EventType()]++
		}
		s, err := partnership.Replay(entries, partnership.View{})
		if err != nil {
			t.Fatal(err)
		}
		if i < cfg.FocusPartnerships {
			if s.CurrentMunicipality != "4203" {
				t.Fatalf("focus partnership in %s", s.CurrentMunicipality)
			}
			if s.Municipality == "0906" {
				oldCodes++
			}
		} else if !kommune.Code(s.Municipality).ValidOn(s.StartedAt) {
			t.Fatalf("%s not valid on %s", s.Municipality, s.StartedAt)
		}
	}
	for _, typ := range partnership.EventTypes() {
		if types[typ] == 0 {
			t.Errorf("no %s generated (%v)", typ, types)
		}
	}
	if oldCodes == 0 {
		t.Error("no focus partnership under the old code 0906")
	}
	all, err := store.ReadAll(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	streams := map[string]bool{}
	for _, e := range all {
		streams[e.StreamID] = true
	}
	if len(streams) < 5 {
		t.Fatalf("the first 100 events come from %d streams; not interleaved", len(streams))
	}
}
