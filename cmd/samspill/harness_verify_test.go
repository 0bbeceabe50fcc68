package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// verify checks the restarted server: the log, the requests in flight and
// their retries, every partnership, and the projections (rebuilt and
// compared when full).
func (h *crashHarness) verify(full bool) {
	begin := time.Now()
	defer func() { h.counts.verifyTime += time.Since(begin) }()

	h.waitReady()
	h.fatalIfProblems("readiness after the restart")
	feed := h.readFeed(nil)
	h.fatalIfProblems("reading the global feed after the restart")
	h.checkLog(feed)
	h.fatalIfProblems("the log after the restart")
	logged := time.Now()
	h.retry(feed)
	h.fatalIfProblems("retries of the requests in flight at the kill")
	h.checkLog(feed)
	h.fatalIfProblems("the log after the retries")
	retried := time.Now()
	live := h.checkPartnerships(feed, feed.partnerships())
	h.fatalIfProblems("partnerships (state against history)")
	deep := time.Now()
	h.checkProjections(feed, live, full)
	h.fatalIfProblems("projections")

	h.counts.events = uint64(len(feed.events))
	h.counts.partnerships = len(feed.byStream)
	rebuilt := ""
	if full {
		rebuilt = ", rebuilt and equal"
	}
	h.t.Logf("kill %d/%d verified in %v: head %d, %d partnerships (%d read live); log %v, retries %v, partnerships %v, projections%s %v",
		h.iter, h.kills, time.Since(begin).Round(time.Millisecond), feed.head, len(feed.byStream), len(live),
		logged.Sub(begin).Round(time.Millisecond), retried.Sub(logged).Round(time.Millisecond), deep.Sub(retried).Round(time.Millisecond),
		rebuilt, time.Since(deep).Round(time.Millisecond))
}

// waitReady waits until every server that runs reports ready (/readyz:
// the store answers and the projections are within reach of the head).
func (h *crashHarness) waitReady() {
	deadline := time.Now().Add(60 * time.Second)
	for _, base := range h.client.each() {
		for {
			resp, err := h.client.doAt(base, http.MethodGet, "/readyz", nil)
			if err == nil && resp.status == http.StatusOK {
				break
			}
			if err == nil && resp.status == http.StatusServiceUnavailable && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			h.problemf("GET %s/readyz after the restart: %v %d %s", base, err, resp.status, resp.body)
			return
		}
	}
}

// crashFeed is the global feed as read after a restart, indexed.
type crashFeed struct {
	events   []crashHistoryItem // without data
	byKey    map[string][]int
	byStream map[string][]int
	ids      map[string]int
	head     uint64
}

// readFeed reads the global feed after f's head (all of it when f is
// nil) and indexes it, checking that event ids are unique and positions
// strictly increase.
func (h *crashHarness) readFeed(f *crashFeed) *crashFeed {
	if f == nil {
		f = &crashFeed{byKey: map[string][]int{}, byStream: map[string][]int{}, ids: map[string]int{}}
	}
	after := f.head
	for {
		resp, err := h.client.do(http.MethodGet, fmt.Sprintf("/api/v1/events?after=%d&limit=500", after), nil)
		if err != nil || resp.status != http.StatusOK || resp.bodyErr != nil {
			h.problemf("GET /events?after=%d: %v %d %s", after, err, resp.status, resp.body)
			return f
		}
		var page struct {
			Items     []crashHistoryItem `json:"items"`
			NextAfter uint64             `json:"next_after"`
		}
		if err := json.Unmarshal(resp.body, &page); err != nil {
			h.problemf("GET /events?after=%d: %v", after, err)
			return f
		}
		if len(page.Items) == 0 {
			return f
		}
		for _, e := range page.Items {
			e.Data = nil
			if e.Position <= f.head {
				h.problemf("the feed's positions do not strictly increase: event %s at position %d after position %d", e.EventID, e.Position, f.head)
			}
			if i, dup := f.ids[e.EventID]; dup {
				h.problemf("event id %s is in the feed twice: positions %d and %d", e.EventID, f.events[i].Position, e.Position)
			}
			i := len(f.events)
			f.ids[e.EventID] = i
			f.head = max(f.head, e.Position)
			f.events = append(f.events, e)
			if k := e.Metadata.IdempotencyKey; k != "" {
				f.byKey[k] = append(f.byKey[k], i)
			}
			f.byStream[e.StreamID] = append(f.byStream[e.StreamID], i)
		}
		after = page.NextAfter
	}
}

// where describes the events with a key, for messages.
func (f *crashFeed) where(key string) string {
	var parts []string
	for _, i := range f.byKey[key] {
		e := f.events[i]
		parts = append(parts, fmt.Sprintf("%s %s v%d at position %d", e.Type, e.StreamID, e.Version, e.Position))
	}
	return strings.Join(parts, "; ")
}

// checkLog checks the feed against every request sent: each event belongs
// to a request, at the place it asked for; each acknowledged write is
// there exactly once, at its position; refused requests left nothing; each
// request in flight at the kill left its event or nothing.
func (h *crashHarness) checkLog(f *crashFeed) {
	for _, e := range f.events {
		k := e.Metadata.IdempotencyKey
		r := h.sent[k]
		switch {
		case k == "":
			h.problemf("event %s (%s, %s v%d, position %d) has no idempotency key, but every request of the harness has one: nobody asked for it", e.EventID, e.Type, e.StreamID, e.Version, e.Position)
		case r == nil:
			h.problemf("event %s (%s, %s v%d, position %d) has key %s, which no request of the harness had", e.EventID, e.Type, e.StreamID, e.Version, e.Position, k)
		case e.Type != r.eventType:
			h.problemf("event %s at position %d is a %s, but its key belongs to %s", e.EventID, e.Position, e.Type, r)
		case r.target != "" && e.StreamID != history.StreamID(r.target):
			h.problemf("event %s at position %d is in %s, but its key belongs to %s", e.EventID, e.Position, e.StreamID, r)
		case r.target == "" && e.Version != 1:
			h.problemf("initiation %s at position %d is at version %d of %s (%s)", e.EventID, e.Position, e.Version, e.StreamID, r)
		case r.ifMatch != nil && e.Version != *r.ifMatch+1:
			h.problemf("event %s at position %d is at version %d of %s, but %s pinned If-Match %d", e.EventID, e.Position, e.Version, e.StreamID, r, *r.ifMatch)
		case r.class == crashInvalid:
			h.problemf("%s, invalid on purpose, left event %s at position %d", r, e.EventID, e.Position)
		}
	}
	for k, idx := range f.byKey {
		if len(idx) > 1 {
			h.problemf("DUPLICATE: %d events carry the key of %s: %s", len(idx), h.sent[k], f.where(k))
		}
	}
	for k, a := range h.acked {
		idx := f.byKey[k]
		if len(idx) == 0 {
			h.problemf("LOST: acknowledged %s (answered %d at position %d, partnership %s) has no event in the log", a.req, a.req.status, a.position, a.partnership)
			continue
		}
		e := f.events[idx[0]]
		if e.Position != a.position || e.StreamID != history.StreamID(a.partnership) {
			h.problemf("MOVED: acknowledged %s was answered with position %d in partnership %s, but its event is %s", a.req, a.position, a.partnership, f.where(k))
		}
	}
	for k, r := range h.refused {
		if len(f.byKey[k]) > 0 {
			h.problemf("HALF-APPLIED: %s was refused (%d: %s) but left %s", r, r.status, r.problem, f.where(k))
		}
	}
}

// retry sends every request that was in flight at the kill again, with
// the same key, body and If-Match, and checks that the answer is one the
// API allows given whether its event landed.
func (h *crashHarness) retry(f *crashFeed) {
	before := len(f.events)
	var fresh []*crashRequest
	for _, r := range h.inflight {
		landed := len(f.byKey[r.key])
		h.counts.inflight++
		if landed > 0 {
			h.counts.inflightLanded++
		}
		var current uint64
		if r.target != "" {
			current = h.version(r.target)
		}
		again := *r
		again.err, again.duringKill, again.status, again.problem, again.position, again.positionOK = nil, false, 0, "", 0, false
		again.etag, again.created, again.replayed, again.state = 0, "", false, nil
		h.client.send(&again, nil)
		if again.err != nil {
			h.problemf("retry of %s failed: %v", r, again.err)
			continue
		}
		outcome := h.judgeRetry(r, &again, f, landed, current)
		h.counts.retries[outcome]++
		if outcome == "fresh" {
			fresh = append(fresh, &again)
		}
		if again.state != nil {
			h.pool.update(*again.state, again.etag)
		}
	}
	for _, r := range h.inflightResends {
		again := *r
		again.err, again.status, again.problem, again.position, again.positionOK = nil, 0, "", 0, false
		again.etag, again.created, again.replayed, again.state = 0, "", false, nil
		h.client.send(&again, nil)
		switch {
		case again.err != nil:
			h.problemf("retry of a resend of %s failed: %v", r.resendOf, again.err)
		case h.checkReplay(&again, r.resendOf, "retry of a resend in flight at the kill"):
			h.counts.retries["replayed"]++
		}
	}
	h.readFeed(f)
	freshKeys := map[string]*crashRequest{}
	for _, r := range fresh {
		freshKeys[r.key] = r
	}
	for _, e := range f.events[before:] {
		if freshKeys[e.Metadata.IdempotencyKey] == nil {
			h.problemf("during the retries event %s (%s, %s v%d, position %d, key %q) was appended, which no fresh retry was answered with", e.EventID, e.Type, e.StreamID, e.Version, e.Position, e.Metadata.IdempotencyKey)
		}
	}
}

// judgeRetry checks the answer to a retry of r, whose key had landed
// events before it, on a partnership then at version current. The
// outcomes allowed:
//   - its event had landed: the stored first answer (2xx, marked
//     Idempotent-Replayed, that event's position), nothing new;
//   - it had not, and r pinned an If-Match the partnership has moved past:
//     412 (the key is looked up first, then the version), nothing new;
//   - it had not, and the version still matches (or r pinned none): a
//     fresh append; or, only for r invalid on purpose, a 409/400; or, only
//     for r without If-Match (decided on a newer state), a 409.
//
// A fresh append is recorded as acknowledged; any refusal as refused, so
// that later checks find no event with the key.
func (h *crashHarness) judgeRetry(r, again *crashRequest, f *crashFeed, landed int, current uint64) string {
	ok2xx := again.status/100 == 2 && again.positionOK
	switch {
	case again.status/100 == 5:
		h.problemf("retry of %s answered %d: %s", r, again.status, again.problem)
		return "5xx"
	case landed == 1:
		e := f.events[f.byKey[r.key][0]]
		wantStatus := http.StatusOK
		if r.kind == "initiate" {
			wantStatus = http.StatusCreated
		}
		switch {
		case again.status != wantStatus || !again.replayed || !again.positionOK || again.position != e.Position:
			h.problemf("retry of %s, whose event landed (%s), answered %d (replayed %t, position %d), not the stored answer %d at position %d: %s",
				r, f.where(r.key), again.status, again.replayed, again.position, wantStatus, e.Position, again.problem)
		default:
			again.created = strings.TrimPrefix(e.StreamID, "partnership-")
			h.acked[r.key] = &crashAck{req: again, partnership: again.partnershipID(), position: e.Position}
		}
		return "replayed"
	case r.ifMatch != nil && current != *r.ifMatch:
		if again.status != http.StatusPreconditionFailed {
			h.problemf("retry of %s, whose event had not landed, on partnership %s now at version %d, answered %d (position %d), not 412: %s",
				r, r.target, current, again.status, again.position, again.problem)
		}
		h.refused[r.key] = again
		return "412"
	case ok2xx:
		if again.replayed {
			h.problemf("retry of %s was answered as a replay (position %d), but no event carries its key: the key was stored without its event", r, again.position)
		}
		h.acknowledge(again, "retried and")
		h.counts.acked-- // counted under retries, not as answered during the writes
		return "fresh"
	case (again.status == http.StatusConflict || again.status == http.StatusBadRequest) && r.class == crashInvalid,
		again.status == http.StatusConflict && r.class == crashLoose:
		h.refused[r.key] = again
		return "409"
	default:
		h.problemf("retry of %s, whose event had not landed, on partnership %s at version %d, answered %d: %s", r, r.target, current, again.status, again.problem)
		h.refused[r.key] = again
		return fmt.Sprint(again.status)
	}
}

// version reads a partnership's current version (its ETag).
func (h *crashHarness) version(id string) uint64 {
	resp, err := h.client.do(http.MethodGet, "/api/v1/partnerships/"+id, nil)
	v, ok := crashETag(resp.header)
	if err != nil || resp.status != http.StatusOK || !ok {
		h.problemf("GET /partnerships/%s: %v %d %s", id, err, resp.status, resp.body)
	}
	return v
}

// partnerships is every partnership of the log, sorted.
func (f *crashFeed) partnerships() []string {
	ids := make([]string, 0, len(f.byStream))
	for stream := range f.byStream {
		ids = append(ids, strings.TrimPrefix(stream, "partnership-"))
	}
	sort.Strings(ids)
	return ids
}

// crashLive is a partnership as read live from its stream.
type crashLive struct {
	state   partnership.State
	entries []partnership.Entry
}

// checkPartnerships reads each partnership's state and history and checks
// that they agree with each other, with the feed and with the domain's
// replay; that the acknowledged writes are in the history at their
// positions; and that acknowledged contacts can still be read.
func (h *crashHarness) checkPartnerships(f *crashFeed, ids []string) map[string]*crashLive {
	live := make(map[string]*crashLive, len(ids))
	var mu sync.Mutex
	crashParallel(len(ids), 4, func(i int) {
		if l := h.checkPartnership(f, ids[i]); l != nil {
			mu.Lock()
			live[ids[i]] = l
			mu.Unlock()
		}
	})
	return live
}

func (h *crashHarness) checkPartnership(f *crashFeed, id string) *crashLive {
	hr, err := h.client.do(http.MethodGet, "/api/v1/partnerships/"+id+"/history", nil)
	if err != nil || hr.status != http.StatusOK {
		h.problemf("GET /partnerships/%s/history: %v %d %s", id, err, hr.status, hr.body)
		return nil
	}
	sr, err := h.client.do(http.MethodGet, "/api/v1/partnerships/"+id, nil)
	if err != nil || sr.status != http.StatusOK {
		h.problemf("GET /partnerships/%s: %v %d %s", id, err, sr.status, sr.body)
		return nil
	}
	var hist struct {
		Items []eventstore.RecordedEvent `json:"items"`
	}
	var served partnership.State
	if err := json.Unmarshal(hr.body, &hist); err != nil {
		h.problemf("history of %s: %v", id, err)
		return nil
	}
	if err := json.Unmarshal(sr.body, &served); err != nil {
		h.problemf("state of %s: %v", id, err)
		return nil
	}
	hv, hok := crashETag(hr.header)
	sv, sok := crashETag(sr.header)
	n := uint64(len(hist.Items))
	if !hok || !sok || hv != n || sv != n || served.Version != n {
		h.problemf("partnership %s: history ETag %d, state ETag %d and state version %d, but %d events in the history", id, hv, sv, served.Version, n)
	}
	stream := history.StreamID(id)
	want := f.byStream[stream]
	if len(want) != len(hist.Items) {
		h.problemf("partnership %s: %d events in its history, %d in the global feed", id, len(hist.Items), len(want))
	}
	for i, e := range hist.Items {
		if e.Version != uint64(i+1) {
			h.problemf("partnership %s: history item %d (%s) has version %d", id, i, e.EventID, e.Version)
		}
		if i > 0 && e.Position <= hist.Items[i-1].Position {
			h.problemf("partnership %s: history positions do not increase at version %d (%d after %d)", id, e.Version, e.Position, hist.Items[i-1].Position)
		}
		if i < len(want) {
			fe := f.events[want[i]]
			if fe.EventID != e.EventID || fe.Position != e.Position || fe.Version != e.Version || fe.Type != e.Type || fe.Metadata.IdempotencyKey != e.Metadata.IdempotencyKey || e.StreamID != stream {
				h.problemf("partnership %s: history has %s %s v%d at %d (key %s), the feed %s %s v%d at %d (key %s)",
					id, e.Type, e.EventID, e.Version, e.Position, e.Metadata.IdempotencyKey, fe.Type, fe.EventID, fe.Version, fe.Position, fe.Metadata.IdempotencyKey)
			}
		}
		if a := h.acked[e.Metadata.IdempotencyKey]; a != nil {
			if a.position != e.Position || a.partnership != id {
				h.problemf("partnership %s: acknowledged %s (position %d) is in the history at position %d", id, a.req, a.position, e.Position)
			}
			if a.req.contactName != "" {
				var c struct {
					Name   string `json:"name"`
					Erased bool   `json:"erased"`
				}
				if err := json.Unmarshal(e.Data, &c); err != nil || c.Name != a.req.contactName || c.Erased {
					h.problemf("partnership %s: the contact of acknowledged %s shows as %s (want name %q): its personal-data key did not survive", id, a.req, e.Data, a.req.contactName)
				}
			}
		}
	}
	entries, err := history.Entries(hist.Items)
	if err != nil {
		h.problemf("partnership %s: history does not decode: %v", id, err)
		return nil
	}
	replayed, err := partnership.Replay(entries, partnership.View{})
	if err != nil {
		h.problemf("partnership %s: history does not replay: %v", id, err)
		return nil
	}
	if got, want := crashNormState(served), crashNormState(replayed); got != want {
		h.problemf("partnership %s: the served state is not the replay of its history (served, then replayed): %s", id, crashJSONDiff([]byte(got), []byte(want)))
	}
	return &crashLive{state: served, entries: entries}
}

// crashParallel runs fn(0..n-1) on workers goroutines.
func crashParallel(n, workers int, fn func(i int)) {
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}

// crashSnapshot is the read models as the API shows them.
type crashSnapshot struct {
	summaries      []json.RawMessage
	municipalities json.RawMessage
	timelines      map[string]*crashTimeline
	stats          map[string]json.RawMessage // "" for all
}

type crashTimeline struct {
	partnerships json.RawMessage
	entries      []json.RawMessage
}

type crashMunicipality struct {
	Code         string `json:"code"`
	Partnerships int    `json:"partnerships"`
	Active       int    `json:"active"`
}

// checkProjections waits until the read models reflect the head, checks
// them against the partnerships, and when full rebuilds every projection
// online and requires the same read models again.
func (h *crashHarness) checkProjections(f *crashFeed, live map[string]*crashLive, full bool) {
	h.projectionStatus(false)
	snap := h.snapshot(f.head)
	if snap == nil {
		return
	}
	h.checkReadModels(f, live, snap)
	if !full || len(h.failures) > 0 {
		return
	}
	h.rebuild(f.head)
	if len(h.failures) > 0 {
		return
	}
	again := h.snapshot(f.head)
	if again == nil {
		return
	}
	h.compareSnapshots(snap, again)
	h.counts.rebuilds++
}

// crashProjection is a projection's status as /admin/projections shows it.
type crashProjection struct {
	Name       string `json:"name"`
	Position   uint64 `json:"position"`
	Status     string `json:"status"`
	Generation int    `json:"generation"`
	Leader     string `json:"leader"`
	Error      string `json:"error"`
	Rebuild    *struct {
		Generation int    `json:"generation"`
		Status     string `json:"status"`
	} `json:"rebuild"`
	LastRebuildError string `json:"last_rebuild_error"`
}

// projectionStatus reads /admin/projections and reports a failed one.
func (h *crashHarness) projectionStatus(quiet bool) []crashProjection {
	resp, err := h.client.do(http.MethodGet, "/api/v1/admin/projections", nil)
	var list struct {
		Items []crashProjection `json:"items"`
	}
	if err == nil && resp.status == http.StatusOK {
		err = json.Unmarshal(resp.body, &list)
	}
	if err != nil || resp.status != http.StatusOK || len(list.Items) == 0 {
		h.problemf("GET /admin/projections: %v %d %s", err, resp.status, resp.body)
		return nil
	}
	for _, p := range list.Items {
		if !quiet && (p.Status == "failed" || p.Error != "" || p.LastRebuildError != "") {
			h.problemf("projection %s: status %s, error %q, last rebuild error %q", p.Name, p.Status, p.Error, p.LastRebuildError)
		}
	}
	return list.Items
}

// read GETs a projection-backed path, retrying while the answer is 503
// (not caught up within min_position's 5 s).
func (h *crashHarness) read(path string) []byte {
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := h.client.do(http.MethodGet, path, nil)
		switch {
		case err == nil && resp.status == http.StatusOK && resp.bodyErr == nil:
			return resp.body
		case err == nil && resp.status == http.StatusServiceUnavailable && time.Now().Before(deadline):
			time.Sleep(100 * time.Millisecond)
			continue
		}
		h.problemf("GET %s: %v %d %s", path, err, resp.status, resp.body)
		return nil
	}
}

// snapshot reads every read model at (at least) position head.
func (h *crashHarness) snapshot(head uint64) *crashSnapshot {
	s := &crashSnapshot{timelines: map[string]*crashTimeline{}, stats: map[string]json.RawMessage{}}
	at := fmt.Sprintf("min_position=%d", head)
	cursor := ""
	for {
		body := h.read("/api/v1/partnerships?limit=500&" + at + cursor)
		if body == nil {
			return nil
		}
		var page struct {
			Items      []json.RawMessage `json:"items"`
			NextCursor *string           `json:"next_cursor"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			h.problemf("partnership list: %v", err)
			return nil
		}
		s.summaries = append(s.summaries, page.Items...)
		if page.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + url.QueryEscape(*page.NextCursor)
	}
	if s.municipalities = h.read("/api/v1/municipalities?" + at); s.municipalities == nil {
		return nil
	}
	if s.stats[""] = h.read("/api/v1/stats?" + at); s.stats[""] == nil {
		return nil
	}
	var munis struct{ Items []crashMunicipality }
	if err := json.Unmarshal(s.municipalities, &munis); err != nil {
		h.problemf("municipalities: %v", err)
		return nil
	}
	for _, m := range munis.Items {
		if m.Partnerships == 0 {
			continue
		}
		tl := &crashTimeline{}
		cursor := ""
		for {
			body := h.read("/api/v1/municipalities/" + m.Code + "/timeline?limit=5000&" + at + cursor)
			if body == nil {
				return nil
			}
			var page struct {
				Partnerships json.RawMessage   `json:"partnerships"`
				Entries      []json.RawMessage `json:"entries"`
				NextCursor   *string           `json:"next_cursor"`
			}
			if err := json.Unmarshal(body, &page); err != nil {
				h.problemf("timeline of %s: %v", m.Code, err)
				return nil
			}
			if tl.partnerships == nil {
				tl.partnerships = page.Partnerships
			}
			tl.entries = append(tl.entries, page.Entries...)
			if page.NextCursor == nil {
				break
			}
			cursor = "&cursor=" + url.QueryEscape(*page.NextCursor)
		}
		s.timelines[m.Code] = tl
		if s.stats[m.Code] = h.read("/api/v1/stats?municipality=" + m.Code + "&" + at); s.stats[m.Code] == nil {
			return nil
		}
	}
	return s
}

// checkReadModels checks a snapshot against the log and the partnerships
// read live: the list holds every partnership once, each summary checked
// equals the live state, each timeline holds the partnership and exactly
// its events in force, and the counts add up.
func (h *crashHarness) checkReadModels(f *crashFeed, live map[string]*crashLive, s *crashSnapshot) {
	summaries := map[string]partnership.State{}
	type count struct{ total, active int }
	counts := map[string]*count{}
	byStatus := map[string]int{}
	for _, raw := range s.summaries {
		var st partnership.State
		if err := json.Unmarshal(raw, &st); err != nil {
			h.problemf("summary %s: %v", raw, err)
			continue
		}
		if _, dup := summaries[st.ID]; dup {
			h.problemf("partnership %s is listed twice", st.ID)
		}
		summaries[st.ID] = st
		c := counts[st.CurrentMunicipality]
		if c == nil {
			c = &count{}
			counts[st.CurrentMunicipality] = c
		}
		c.total++
		if st.Status == partnership.StatusActive {
			c.active++
		}
		byStatus[st.Status]++
	}
	for stream := range f.byStream {
		if _, ok := summaries[strings.TrimPrefix(stream, "partnership-")]; !ok {
			h.problemf("partnership %s is in the log but not in the list at the head %d", stream, f.head)
		}
	}
	if len(summaries) != len(f.byStream) {
		h.problemf("the list has %d partnerships, the log %d", len(summaries), len(f.byStream))
	}
	for id, l := range live {
		sum, ok := summaries[id]
		if !ok {
			continue // reported above
		}
		if got, want := crashNormState(sum), crashNormState(l.state); got != want {
			h.problemf("the summary of %s at the head %d is not its live state (summary, then live): %s", id, f.head, crashJSONDiff([]byte(got), []byte(want)))
		}
	}

	var munis struct{ Items []crashMunicipality }
	_ = json.Unmarshal(s.municipalities, &munis)
	for _, m := range munis.Items {
		c := counts[m.Code]
		if c == nil {
			c = &count{}
		}
		if m.Partnerships != c.total || m.Active != c.active {
			h.problemf("municipality %s: /municipalities counts %d partnerships (%d active), the list %d (%d active)", m.Code, m.Partnerships, m.Active, c.total, c.active)
		}
		delete(counts, m.Code)
	}
	for code, c := range counts {
		h.problemf("%d listed partnerships have current municipality %s, which /municipalities does not list", c.total, code)
	}
	var stats struct {
		Partnerships int            `json:"partnerships"`
		ByStatus     map[string]int `json:"by_status"`
	}
	_ = json.Unmarshal(s.stats[""], &stats)
	for _, st := range partnership.Statuses {
		if stats.ByStatus[st] != byStatus[st] {
			h.problemf("/stats counts %d %s partnerships, the list %d", stats.ByStatus[st], st, byStatus[st])
		}
	}
	if stats.Partnerships != len(summaries) {
		h.problemf("/stats counts %d partnerships, the list %d", stats.Partnerships, len(summaries))
	}

	lanes := map[string]map[string]bool{} // municipality → partnerships on its timeline
	entries := map[string][]string{}      // partnership → event ids on its timeline
	for code, tl := range s.timelines {
		var ps []struct {
			ID     string `json:"id"`
			Title  string `json:"title"`
			Status string `json:"status"`
		}
		_ = json.Unmarshal(tl.partnerships, &ps)
		lanes[code] = map[string]bool{}
		for _, p := range ps {
			lanes[code][p.ID] = true
			if l := live[p.ID]; l != nil && (p.Title != l.state.Title || p.Status != l.state.Status) {
				h.problemf("the timeline of %s shows %s as %q (%s), live it is %q (%s)", code, p.ID, p.Title, p.Status, l.state.Title, l.state.Status)
			}
		}
		for _, raw := range tl.entries {
			var e struct {
				PartnershipID string `json:"partnership_id"`
				EventID       string `json:"event_id"`
			}
			_ = json.Unmarshal(raw, &e)
			if !lanes[code][e.PartnershipID] {
				h.problemf("the timeline of %s has entry %s of %s, which is not among its partnerships", code, e.EventID, e.PartnershipID)
			}
			entries[e.PartnershipID] = append(entries[e.PartnershipID], e.EventID)
		}
	}
	for id, sum := range summaries {
		if !lanes[sum.CurrentMunicipality][id] {
			h.problemf("partnership %s is not on the timeline of its municipality %s", id, sum.CurrentMunicipality)
		}
	}
	for id, l := range live {
		effective, err := partnership.Effective(l.entries, partnership.View{})
		if err != nil {
			h.problemf("partnership %s: %v", id, err)
			continue
		}
		want := make([]string, len(effective))
		for i, e := range effective {
			want[i] = e.EventID
		}
		if got := entries[id]; !slices.Equal(got, want) {
			h.problemf("the timeline entries of %s are not its events in force (in occurred order):\n got %v\nwant %v", id, got, want)
		}
	}
}

// rebuild rebuilds every projection online and waits until each serves a
// new generation, live at the head.
func (h *crashHarness) rebuild(head uint64) {
	before := h.projectionStatus(false)
	gen := map[string]int{}
	for _, p := range before {
		gen[p.Name] = p.Generation
		resp, err := h.client.do(http.MethodPost, "/api/v1/admin/projections/"+url.PathEscape(p.Name)+"/rebuild", nil)
		if err != nil || resp.status != http.StatusAccepted {
			h.problemf("POST /admin/projections/%s/rebuild: %v %d %s", p.Name, err, resp.status, resp.body)
			return
		}
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		list := h.projectionStatus(true)
		done := len(list) == len(before)
		for _, p := range list {
			if p.LastRebuildError != "" || p.Status == "failed" {
				h.problemf("rebuild of projection %s failed: status %s, error %q, rebuild error %q", p.Name, p.Status, p.Error, p.LastRebuildError)
				return
			}
			if p.Generation <= gen[p.Name] || p.Rebuild != nil || p.Status != "live" || p.Position < head {
				done = false
			}
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			h.problemf("the rebuilt projections did not become live at the head %d in time: %+v", head, list)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// compareSnapshots requires the read models after a rebuild to equal those
// before it.
func (h *crashHarness) compareSnapshots(before, after *crashSnapshot) {
	what := "after the rebuild, "
	if len(before.summaries) != len(after.summaries) {
		h.problemf("%sthe list has %d partnerships, before %d", what, len(after.summaries), len(before.summaries))
	}
	for i := range min(len(before.summaries), len(after.summaries)) {
		if d := crashJSONDiff(before.summaries[i], after.summaries[i]); d != "" {
			h.problemf("%sthe list differs at item %d (%s): %s", what, i, crashJSONID(before.summaries[i]), d)
			break
		}
	}
	if d := crashJSONDiff(before.municipalities, after.municipalities); d != "" {
		h.problemf("%s/municipalities differs: %s", what, d)
	}
	for code, b := range before.stats {
		if d := crashJSONDiff(b, after.stats[code]); d != "" {
			h.problemf("%s/stats?municipality=%s differs: %s", what, code, d)
		}
	}
	for code, b := range before.timelines {
		a := after.timelines[code]
		if a == nil {
			h.problemf("%sthere is no timeline of %s", what, code)
			continue
		}
		if d := crashJSONDiff(b.partnerships, a.partnerships); d != "" {
			h.problemf("%sthe timeline of %s has other partnerships: %s", what, code, d)
		}
		if len(b.entries) != len(a.entries) {
			h.problemf("%sthe timeline of %s has %d entries, before %d", what, code, len(a.entries), len(b.entries))
		}
		for i := range min(len(b.entries), len(a.entries)) {
			if d := crashJSONDiff(b.entries[i], a.entries[i]); d != "" {
				h.problemf("%sthe timeline of %s differs at entry %d: %s", what, code, i, d)
				break
			}
		}
	}
	if len(after.timelines) != len(before.timelines) {
		h.problemf("%s%d timelines, before %d", what, len(after.timelines), len(before.timelines))
	}
}

// crashJSONID is the "id" of a JSON object, for messages.
func crashJSONID(raw json.RawMessage) string {
	var v struct{ ID string }
	_ = json.Unmarshal(raw, &v)
	return v.ID
}

// crashJSONDiff describes the first difference between two JSON values,
// "" when they are equal.
func crashJSONDiff(a, b []byte) string {
	var x, y any
	for _, p := range []struct {
		raw []byte
		v   *any
	}{{a, &x}, {b, &y}} {
		dec := json.NewDecoder(bytes.NewReader(p.raw))
		dec.UseNumber()
		if err := dec.Decode(p.v); err != nil {
			return fmt.Sprintf("unreadable JSON %q: %v", p.raw, err)
		}
	}
	return crashDiff("$", x, y)
}

func crashDiff(path string, x, y any) string {
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok {
			break
		}
		keys := map[string]bool{}
		for k := range xv {
			keys[k] = true
		}
		for k := range yv {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if d := crashDiff(path+"."+k, xv[k], yv[k]); d != "" {
				return d
			}
		}
		return ""
	case []any:
		yv, ok := y.([]any)
		if !ok {
			break
		}
		for i := range max(len(xv), len(yv)) {
			if i >= len(xv) || i >= len(yv) {
				return fmt.Sprintf("%s: %d items, then %d", path, len(xv), len(yv))
			}
			if d := crashDiff(fmt.Sprintf("%s[%d]", path, i), xv[i], yv[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if reflect.DeepEqual(x, y) {
		return ""
	}
	short := func(v any) string {
		raw, _ := json.Marshal(v)
		if len(raw) > 200 {
			return string(raw[:200]) + "..."
		}
		return string(raw)
	}
	return fmt.Sprintf("%s: %s, then %s", path, short(x), short(y))
}
