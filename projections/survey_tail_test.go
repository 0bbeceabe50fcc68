package projections_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/projections"
)

// appendSurveyTail appends n events of a survey's stream: the log's tail
// is then not the projections' topic.
func appendSurveyTail(t *testing.T, e *env, n int) {
	t.Helper()
	events := make([]eventstore.NewEvent, n)
	for i := range events {
		events[i] = eventstore.NewEvent{EventID: uuid.NewString(), Type: survey.TypeSurveyAnswersSaved, SchemaVersion: 1,
			OccurredAt: e.clock.Now(), Data: json.RawMessage(`{"answers":{}}`)}
	}
	if _, err := e.store.Append(context.Background(), eventstore.AppendRequest{
		StreamID: survey.ResponseStream(uuid.NewString()[:8] + "000000000000000000000000"), Events: events}); err != nil {
		t.Fatal(err)
	}
}

// TestProjectionsReachAHeadOfSurveyEvents: when the log ends with survey
// events (another topic), live projections still reach the head (WaitFor,
// no lag in Status, so /readyz stays ready under a survey's load), also
// for survey events appended while they run, and an offline rebuild
// finishes instead of waiting for a partnership event that never comes.
func TestProjectionsReachAHeadOfSurveyEvents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e := newEnv(t, backend)
		loadWorkload(t, e, 2, 10)
		appendSurveyTail(t, e, 7)
		live := e.runner(t, "live.db")
		e.catchUp(t, live)
		appendSurveyTail(t, e, 3) // while running
		e.catchUp(t, live)
		st, err := live.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Lag != 0 || s.Status != projections.StatusLive {
				t.Errorf("status %+v", s)
			}
		}
		offline := projections.New(e.openDB(t, "offline.db"), e.store, definitions())
		defer offline.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := offline.RebuildOffline(ctx, offline.Names(), time.Millisecond, nil); err != nil {
			t.Fatalf("offline rebuild with survey events at the head: %v", err)
		}
	})
}
