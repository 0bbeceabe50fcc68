package projections_test

import (
	"context"
	"strings"
	"testing"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections/timeline"
)

// TestTimelineAnswersFollowCommits checks the timeline answer cache: a
// repeated question gets the same answer, a caller appending to an answer
// does not change the next one, and a commit of the projection makes the
// next answer show the new event.
func TestTimelineAnswersFollowCommits(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		e := newEnv(t, backend)
		if _, err := demo.Load(ctx, e.store, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		r := e.runner(t, "readmodels.db")
		e.catchUp(t, r)
		const code = "4203"
		f := timeline.Filter{Limit: 100000}
		first, err := timeline.NewQueries(r).Timeline(ctx, code, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(first.Partnerships) == 0 || len(first.Entries) == 0 {
			t.Fatalf("the demo's %s timeline is empty: %+v", code, first)
		}
		n := len(first.Entries)
		_ = append(first.Entries, timeline.Entry{EventID: "scribbled"})
		again, err := timeline.NewQueries(r).Timeline(ctx, code, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(again.Entries) != n || len(again.Partnerships) != len(first.Partnerships) {
			t.Fatalf("asked again: %d entries, %d lanes; want %d, %d", len(again.Entries), len(again.Partnerships), n, len(first.Partnerships))
		}
		if full := again.Entries[:cap(again.Entries)]; len(full) != n {
			t.Fatalf("an answer has room for %d entries past its end: appends would share it", len(full)-n)
		}

		id := first.Partnerships[0].ID
		if _, err := e.svc.Execute(ctx, id, partnership.Command{Event: partnership.MilestoneLogged{Kind: "other", Title: "Etter mellomlagring"}, OccurredAt: new(e.clock.Now())}, app.Meta{}); err != nil {
			t.Fatal(err)
		}
		e.catchUp(t, r)
		after, err := timeline.NewQueries(r).Timeline(ctx, code, f)
		if err != nil {
			t.Fatal(err)
		}
		if len(after.Entries) != n+1 {
			t.Fatalf("after a milestone: %d entries, want %d", len(after.Entries), n+1)
		}
		found := false
		for _, en := range after.Entries {
			found = found || strings.Contains(en.Summary, "Etter mellomlagring")
		}
		if !found {
			t.Fatal("the new milestone is not on the timeline")
		}
	})
}
