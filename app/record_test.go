package app_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
)

// TestRecordDecidesEachCommandAtItsEntry: Record decides a history with the
// clock at each command's entry (a correction occurs when it is entered),
// returns the events above from with their recording times, ready for an
// import that keeps them, and refuses what the domain refuses.
func TestRecordDecidesEachCommandAtItsEntry(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	n := 0
	svc := app.New(nil, app.WithIDs(func() string { n++; return fmt.Sprintf("0190a5c4-0000-7000-8000-%012d", n) }))
	day := func(d int) time.Time { return time.Date(2021, time.March, d, 10, 0, 0, 0, time.UTC) }
	at := func(d int) *time.Time { t := day(d); return &t }
	id := "0190a5c4-0000-7000-8000-999999999999"
	entered := []app.Entered{
		{Command: partnership.Command{Event: partnership.PartnershipInitiated{PartnershipID: id, Municipality: "4203", Title: "Leksehjelp", ServiceArea: "education", CollaborationModel: "grant",
			Partners: []partnership.Partner{{PartnerID: "lag", Name: "Røde Kors", Kind: "voluntary_organisation"}}, Goals: []string{"Leksehjelp hver uke"}}, OccurredAt: at(1)}, RecordedAt: day(20)},
		{Command: partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "Møte"}, OccurredAt: at(2)}, RecordedAt: day(20)},
		{Command: partnership.Command{Event: partnership.CollaborationModelChanged{CollaborationModel: "co_governance", Reason: "Styrer sammen"}, OccurredAt: at(21)}, RecordedAt: day(22)},
		{Command: partnership.Command{Event: partnership.EntryCorrected{CorrectedEventID: "0190a5c4-0000-7000-8000-000000000002", Reason: "Feil samarbeid"}}, RecordedAt: day(25)},
	}
	events, err := svc.Record(ctx, entered, 1, app.Meta{Actor: eventstore.Actor{Subject: "demo", Role: "system"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 3 || events[0].Version != 2 || events[0].EventID != "0190a5c4-0000-7000-8000-000000000002" {
		t.Fatalf("events %+v, want versions 2 to 4 with the ids in sequence", events)
	}
	for i, e := range events {
		if !e.RecordedAt.Equal(entered[i+1].RecordedAt) || e.StreamID != "partnership-"+id {
			t.Errorf("version %d: recorded %s in %s, want %s", e.Version, e.RecordedAt, e.StreamID, entered[i+1].RecordedAt)
		}
	}
	if c := events[2]; c.Type != partnership.TypeEntryCorrected || !c.OccurredAt.Equal(day(25)) {
		t.Errorf("the correction %s occurred %s, want when it was entered (%s)", c.Type, c.OccurredAt, day(25))
	}

	// The same model again is refused; so is an entry before the one before it.
	same := append(entered[:3:3], app.Entered{Command: partnership.Command{Event: partnership.CollaborationModelChanged{CollaborationModel: "co_governance", Reason: "Igjen"}, OccurredAt: at(23)}, RecordedAt: day(23)})
	if _, err := svc.Record(ctx, same, 0, app.Meta{}); !errors.Is(err, partnership.ErrCollaborationModelUnchanged) {
		t.Errorf("the same model again: %v", err)
	}
	backwards := append(entered[:2:2], app.Entered{Command: partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "Møte"}, OccurredAt: at(3)}, RecordedAt: day(19)})
	if _, err := svc.Record(ctx, backwards, 0, app.Meta{}); err == nil {
		t.Error("an entry before the one before it was accepted")
	}

	// What Record returns, a store imports as it is.
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	n = 0
	all, err := svc.Record(ctx, entered, 0, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range all {
		all[i].Position = uint64(i + 1)
	}
	if wrote, err := store.Import(ctx, all); err != nil || wrote != 4 {
		t.Fatalf("import: %d, %v", wrote, err)
	}
	stored, err := store.ReadStream(ctx, "partnership-"+id)
	if err != nil || len(stored) != 4 || !stored[0].RecordedAt.Equal(day(20)) || !stored[0].OccurredAt.Equal(day(1)) {
		t.Fatalf("stored %+v (%v)", stored, err)
	}
}
