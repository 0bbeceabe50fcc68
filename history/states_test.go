package history_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
)

// TestCurrentStatesFollowTheStream: a Store that keeps current states
// answers exactly as full replays do, while a Service of another Store
// (another instance, say) writes to the same event store: events in order, one logged
// late, a goal change, corrections that retract and replace, the end.
func TestCurrentStatesFollowTheStream(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	reader, writer := history.New(store), app.New(store)
	res, err := writer.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
		Municipality: "5006", Title: "Turløyper i Byparken", ServiceArea: "sport_and_outdoor", CollaborationModel: "network",
		Partners: []partnership.Partner{{Name: "Steinkjer idrettslag", Kind: "voluntary_organisation"}},
		Goals:    []string{"Flere går tur"},
	}, OccurredAt: new(time.Now().Add(-48 * time.Hour))}, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	id := res.State.ID
	start := time.Now().Add(-47 * time.Hour)

	var milestones []string
	steps := []partnership.Command{
		{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "Oppstart"}, OccurredAt: new(start.Add(2 * time.Hour))},
		{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "Oppfølging"}, OccurredAt: new(start.Add(20 * time.Hour))},
		{Event: partnership.MilestoneLogged{Kind: "evaluation", Title: "Logget sent"}, OccurredAt: new(start.Add(1 * time.Hour))},
		{Event: partnership.GoalChanged{Goals: []string{"Flere går tur", "Nye løyper"}, Reason: "utvidet"}, OccurredAt: new(start.Add(21 * time.Hour))},
		{Event: partnership.MilestoneLogged{Kind: "meeting", Title: "Siste møte"}, OccurredAt: new(start.Add(22 * time.Hour))},
	}
	check := func(step string) {
		t.Helper()
		got, gotVersion, err := reader.State(ctx, id, partnership.View{})
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		recorded, err := store.ReadStream(ctx, history.StreamID(id))
		if err != nil {
			t.Fatal(err)
		}
		entries, err := history.Entries(recorded)
		if err != nil {
			t.Fatal(err)
		}
		want, err := partnership.Replay(entries, partnership.View{})
		if err != nil {
			t.Fatal(err)
		}
		wantVersion := uint64(len(recorded))
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) || gotVersion != wantVersion {
			t.Fatalf("%s: the kept state (version %d)\n%s\ndiffers from the replay (version %d)\n%s", step, gotVersion, g, wantVersion, w)
		}
	}
	check("after the initiation")
	check("read twice")
	for i, cmd := range steps {
		if _, err := writer.Execute(ctx, id, cmd, app.Meta{}); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		check(cmd.Event.EventType())
	}
	recorded, err := store.ReadStream(ctx, history.StreamID(id))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recorded {
		if r.Type == partnership.TypeMilestoneLogged {
			milestones = append(milestones, r.EventID)
		}
	}
	for i, c := range []partnership.EntryCorrected{
		{CorrectedEventID: milestones[0], Reason: "feil dato"},
		{CorrectedEventID: milestones[1], Reason: "feil tittel", Replacement: json.RawMessage(`{"kind":"evaluation","title":"Rettet","note":""}`)},
	} {
		if _, err := writer.Execute(ctx, id, partnership.Command{Event: c}, app.Meta{}); err != nil {
			t.Fatalf("correction %d: %v", i, err)
		}
		check("a correction")
	}
	if _, err := writer.Execute(ctx, id, partnership.Command{Event: partnership.PartnershipEnded{Reason: "completed", Outcome: "Løypene er merket"}, OccurredAt: new(start.Add(30 * time.Hour))}, app.Meta{}); err != nil {
		t.Fatal(err)
	}
	check("the end")
}
