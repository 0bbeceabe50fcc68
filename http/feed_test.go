package http

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
)

// feedBody is GET /events as a client reads it.
type feedBody struct {
	Items     []json.RawMessage `json:"items"`
	NextAfter *uint64           `json:"next_after"`
}

// positions returns the position of each item.
func (f feedBody) positions(t *testing.T) []uint64 {
	t.Helper()
	out := make([]uint64, len(f.Items))
	for i, raw := range f.Items {
		var e struct{ Position uint64 }
		if err := json.Unmarshal(raw, &e); err != nil {
			t.Fatalf("item %d: %v", i, err)
		}
		out[i] = e.Position
	}
	return out
}

// feed requests GET /api/v1/events with query and requires a 200 with a
// well-formed body: items present (never null) and next_after set.
func (a *testAPI) feed(query string) feedBody {
	a.t.Helper()
	r := a.do("GET", "/api/v1/events"+query, nil)
	wantStatus(a.t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		a.t.Errorf("Content-Type = %q, want application/json", ct)
	}
	f := decodeBody[feedBody](a.t, r)
	if f.Items == nil || f.NextAfter == nil {
		a.t.Fatalf("feed body lacks items or next_after: %s", r.Body)
	}
	return f
}

// appendTestEvents appends n events to a new stream, in appends of at most
// 100, and returns their positions.
func appendTestEvents(t *testing.T, store eventstore.Store, n int) []uint64 {
	t.Helper()
	positions, err := appendEvents(store, n)
	if err != nil {
		t.Fatal(err)
	}
	return positions
}

// appendEvents is appendTestEvents for any goroutine.
func appendEvents(store eventstore.Store, n int) ([]uint64, error) {
	stream := "partnership-" + uuid.NewString()
	var positions []uint64
	for done := 0; done < n; {
		batch := min(n-done, 100)
		events := make([]eventstore.NewEvent, batch)
		for i := range events {
			events[i] = eventstore.NewEvent{
				EventID:       uuid.NewString(),
				Type:          "MilestoneLogged",
				SchemaVersion: 1,
				OccurredAt:    testNow,
				Metadata:      eventstore.Metadata{Actor: eventstore.Actor{Subject: "test", Role: "admin"}},
				// A line break inside the payload: the stream must still
				// send the envelope on one line.
				Data: json.RawMessage(fmt.Sprintf(`{"kind": "meeting",`+"\n"+`"title": "Møte %d"}`, done+i+1)),
			}
		}
		res, err := store.Append(context.Background(), eventstore.AppendRequest{StreamID: stream, Events: events})
		if err != nil {
			return positions, fmt.Errorf("append: %w", err)
		}
		positions = append(positions, res.Positions...)
		done += batch
	}
	return positions, nil
}

// storedEvents returns every stored event, in position order.
func storedEvents(t *testing.T, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var out []eventstore.RecordedEvent
	for after := uint64(0); ; {
		page, err := store.ReadAll(context.Background(), after, 1000)
		if err != nil {
			t.Fatalf("read all: %v", err)
		}
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].Position
	}
}

// sameJSON reports whether two JSON documents are equal as values.
func sameJSON(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("not JSON: %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("not JSON: %s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

func TestFeedEmptyStore(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	r := a.do("GET", "/api/v1/events", nil)
	wantStatus(t, r, http.StatusOK)
	if !sameJSON(t, r.Body, []byte(`{"items": [], "next_after": 0}`)) {
		t.Errorf("empty feed = %s, want items [] and next_after 0", r.Body)
	}
	if f := a.feed("?after=7&limit=3"); len(f.Items) != 0 || *f.NextAfter != 7 {
		t.Errorf("empty feed after 7 = %d items, next_after %d; want none and 7", len(f.Items), *f.NextAfter)
	}
}

// TestFeedPages pages through the whole log with next_after and checks
// every envelope against the store.
func TestFeedPages(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Oppstart", "occurred_at": "2024-03-02"}, http.StatusOK)
	appendTestEvents(t, a.store, 118)
	stored := storedEvents(t, a.store)
	if len(stored) != 120 {
		t.Fatalf("store holds %d events, want 120", len(stored))
	}

	var got []json.RawMessage
	var sizes []int
	after := uint64(0)
	for range 10 {
		f := a.feed("?limit=50&after=" + strconv.FormatUint(after, 10))
		sizes = append(sizes, len(f.Items))
		got = append(got, f.Items...)
		if len(f.Items) == 0 {
			if *f.NextAfter != after {
				t.Errorf("empty page: next_after = %d, want after (%d)", *f.NextAfter, after)
			}
			break
		}
		if ps := f.positions(t); *f.NextAfter != ps[len(ps)-1] {
			t.Errorf("next_after = %d, want the last item's position %d", *f.NextAfter, ps[len(ps)-1])
		}
		after = *f.NextAfter
	}
	if fmt.Sprint(sizes) != "[50 50 20 0]" {
		t.Errorf("page sizes = %v, want [50 50 20 0]", sizes)
	}
	if len(got) != len(stored) {
		t.Fatalf("the pages hold %d events, the store %d", len(got), len(stored))
	}
	for i, e := range stored {
		want, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		if !sameJSON(t, got[i], want) {
			t.Errorf("item %d = %s, want the stored envelope %s", i, got[i], want)
		}
	}
	// The API's own event is a full envelope.
	var first obj
	if err := json.Unmarshal(got[0], &first); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"event_id", "type", "schema_version", "stream_id", "version", "position", "occurred_at", "recorded_at", "metadata", "data"} {
		if _, ok := first[k]; !ok {
			t.Errorf("envelope lacks %s: %s", k, got[0])
		}
	}
	if first["type"] != "PartnershipInitiated" || first["stream_id"] != "partnership-"+p.ID {
		t.Errorf("first event = %s, want the initiation of %s", got[0], p.ID)
	}
}

func TestFeedLimitsAndAfter(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	positions := appendTestEvents(t, a.store, 520)
	head := positions[len(positions)-1]
	for _, c := range []struct {
		query     string
		items     int
		first     uint64
		nextAfter uint64
	}{
		{"", 50, 1, 50}, // defaults: after 0, limit 50
		{"?limit=1", 1, 1, 1},
		{"?limit=500", 500, 1, 500},
		{"?after=500&limit=500", 20, 501, 520},
		{"?after=519", 1, 520, 520},
		{"?after=0", 50, 1, 50},
		{"?after=007&limit=2", 2, 8, 9},
		{"?after=" + strconv.FormatUint(head, 10), 0, 0, head},
		{"?after=100000", 0, 0, 100000},
		{"?after=18446744073709551615", 0, 0, 18446744073709551615},
	} {
		t.Run(c.query, func(t *testing.T) {
			f := a.bind(t).feed(c.query)
			if len(f.Items) != c.items || *f.NextAfter != c.nextAfter {
				t.Fatalf("%d items, next_after %d; want %d, %d", len(f.Items), *f.NextAfter, c.items, c.nextAfter)
			}
			ps := f.positions(t)
			for i, p := range ps {
				if p != c.first+uint64(i) {
					t.Fatalf("positions %v…, want consecutive from %d", ps[:min(len(ps), 5)], c.first)
				}
			}
		})
	}
}

func TestFeedBadParameters(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	appendTestEvents(t, a.store, 3)
	for _, c := range []struct {
		query  string
		fields []string
	}{
		{"after=-1", []string{"after"}},
		{"after=abc", []string{"after"}},
		{"after=1.5", []string{"after"}},
		{"after=", []string{"after"}},
		{"after=%2B1", []string{"after"}},
		{"after=18446744073709551616", []string{"after"}},
		{"limit=0", []string{"limit"}},
		{"limit=501", []string{"limit"}},
		{"limit=-5", []string{"limit"}},
		{"limit=ten", []string{"limit"}},
		{"limit=", []string{"limit"}},
		{"limit=1e2", []string{"limit"}},
		{"after=-1&limit=0", []string{"after", "limit"}},
	} {
		t.Run(c.query, func(t *testing.T) {
			r := doRequest(t, a.srv.URL, "GET", "/api/v1/events?"+c.query, nil)
			p := wantProblem(t, r, http.StatusBadRequest, typeValidation)
			if fmt.Sprint(p.fields()) != fmt.Sprint(c.fields) {
				t.Errorf("errors name %q, want %q", p.fields(), c.fields)
			}
		})
	}
}

// TestFeedStoreClosed: a feed read on a closed store is a 503.
func TestFeedStoreClosed(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := a.do("GET", "/api/v1/events", nil)
	wantProblem(t, r, http.StatusServiceUnavailable, typeUnavailable)
}

// TestOpenAPIFeedSchema checks the documented feed body against the Go
// type the handler encodes.
func TestOpenAPIFeedSchema(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	d.matchSchema(t, "Feed", reflect.TypeFor[feedResponse](), map[string]any{"$ref": "#/components/schemas/Feed"}, false)
	get, ok := d.operation("GET", "/api/v1/events")
	if !ok {
		t.Fatal("GET /api/v1/events is not documented")
	}
	res := d.resolve(get["responses"].(map[string]any)["200"])
	content, _ := res["content"].(map[string]any)
	media, _ := content["application/json"].(map[string]any)
	if s, _ := media["schema"].(map[string]any); s["$ref"] != "#/components/schemas/Feed" {
		t.Errorf("GET /api/v1/events 200 is not the Feed schema")
	}
	for path, media := range map[string]string{"/api/v1/events/stream": "text/event-stream", "/metrics": "text/plain"} {
		op, ok := d.operation("GET", path)
		if !ok {
			t.Errorf("GET %s is not documented", path)
			continue
		}
		res := d.resolve(op["responses"].(map[string]any)["200"])
		if content, _ := res["content"].(map[string]any); content[media] == nil {
			t.Errorf("GET %s 200 is not %s", path, media)
		}
	}
}
