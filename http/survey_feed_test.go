package http

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
)

// appendSurveyEvents appends n events of a survey response's stream and
// returns their positions: events of the same log that are not the
// partnerships'.
func appendSurveyEvents(t *testing.T, store eventstore.Store, n int) []uint64 {
	t.Helper()
	events := make([]eventstore.NewEvent, n)
	for i := range events {
		events[i] = eventstore.NewEvent{EventID: uuid.NewString(), Type: survey.TypeSurveyAnswersSaved, SchemaVersion: 1,
			OccurredAt: testNow, Metadata: eventstore.Metadata{Actor: eventstore.Actor{Subject: "respondent", Role: "respondent"}},
			Data: json.RawMessage(`{"answers":{"q1":["3"]}}`)}
	}
	res, err := store.Append(context.Background(), eventstore.AppendRequest{
		StreamID: survey.ResponseStream(strings.ReplaceAll(uuid.NewString(), "-", "")), Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return res.Positions
}

// TestFeedLeavesOutSurveyEvents: the feed holds the partnerships' events
// only; a page of survey events alone is empty and its next_after moves
// past them; a coordinator's feed (whose events are shown by
// municipality) reads past them too.
func TestFeedLeavesOutSurveyEvents(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()                                                                                           // 1
	surveyed := appendSurveyEvents(t, a.store, 3)                                                                     // 2..4
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Oppstart", "occurred_at": "2024-03-02"}, http.StatusOK) // 5
	if surveyed[0] != 2 || surveyed[2] != 4 {
		t.Fatalf("survey events at %v", surveyed)
	}
	f := a.feed("")
	if got := f.positions(t); len(got) != 2 || got[0] != 1 || got[1] != 5 || *f.NextAfter != 5 {
		t.Errorf("feed positions %v next_after %d; want [1 5] and 5", got, *f.NextAfter)
	}
	f = a.feed("?after=1&limit=3")
	if len(f.Items) != 0 || *f.NextAfter != 4 {
		t.Errorf("a page of survey events: %d items, next_after %d; want 0 and 4", len(f.Items), *f.NextAfter)
	}
	f = a.feed("?after=4")
	if got := f.positions(t); len(got) != 1 || got[0] != 5 {
		t.Errorf("after the survey events: %v", got)
	}
	r := a.do("GET", "/api/v1/events", nil, "Authorization", bearer("steinkjer"))
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), survey.TypeSurveyAnswersSaved) || !strings.Contains(string(r.Body), `"next_after":5`) {
		t.Errorf("a coordinator's feed: %s", r.Body)
	}
}

// TestStreamLeavesOutSurveyEvents: the event stream sends the
// partnerships' events only, live and caught up, and after survey events
// alone sends their last position as an id without an event, so that a
// client reconnecting with Last-Event-ID starts after them.
func TestStreamLeavesOutSurveyEvents(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	appendTestEvents(t, a.store, 1)   // 1
	appendSurveyEvents(t, a.store, 2) // 2, 3
	appendTestEvents(t, a.store, 1)   // 4
	c := a.openStream("/api/v1/events/stream")
	c.wantEvents(a.store, 1)
	c.wantEvents(a.store, 4)
	appendSurveyEvents(t, a.store, 2) // 5, 6
	appendTestEvents(t, a.store, 1)   // 7
	c.wantEvents(a.store, 7)
	c.close()

	// The raw stream after survey events alone: an id line with no data.
	appendSurveyEvents(t, a.store, 2) // 8, 9
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", a.srv.URL+"/api/v1/events/stream?after=7", nil)
	if err != nil {
		t.Fatal(err)
	}
	authorize(req)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = res.Body.Close() }()
	sc := bufio.NewScanner(res.Body)
	var lines []string
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, ":") {
			continue
		}
		lines = append(lines, line)
		if len(lines) == 2 {
			break
		}
	}
	if len(lines) != 2 || lines[0] != "id: "+strconv.Itoa(9) || lines[1] != "" {
		t.Errorf("after survey events alone the stream sent %q; want an id of 9 and no event", lines)
	}
	cancel()

	c = a.openStream("/api/v1/events/stream", "Last-Event-ID", "9")
	appendTestEvents(t, a.store, 1) // 10
	c.wantEvents(a.store, 10)
}
