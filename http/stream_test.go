package http

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
)

// liveWait bounds every wait for a streamed frame or the end of a stream.
const liveWait = 5 * time.Second

// sseFrame is one dispatched server-sent event, or one comment line.
type sseFrame struct {
	ID, Event, Data string
	DataLines       int
	Comment         string
	IsComment       bool
}

// sseClient reads a text/event-stream response, parsing it as the WHATWG
// HTML standard says, in its own goroutine.
type sseClient struct {
	t      *testing.T
	res    *http.Response
	cancel context.CancelFunc
	frames chan sseFrame
}

// openStream connects to the event stream at path and requires a 200 with
// the stream's headers. The connection is closed when t ends (before the
// server), or by close.
func (a *testAPI) openStream(path string, headers ...string) *sseClient {
	a.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", a.srv.URL+path, nil)
	if err != nil {
		cancel()
		a.t.Fatal(err)
	}
	authorize(req)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		a.t.Fatalf("GET %s: %v", path, err)
	}
	c := &sseClient{t: a.t, res: res, cancel: cancel, frames: make(chan sseFrame, 4096)}
	a.t.Cleanup(c.close)
	if res.StatusCode != http.StatusOK {
		a.t.Fatalf("GET %s: status %d, want 200", path, res.StatusCode)
	}
	for h, want := range map[string]string{"Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no"} {
		if got := res.Header.Get(h); got != want {
			a.t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	go c.read()
	return c
}

// close disconnects the client.
func (c *sseClient) close() {
	c.cancel()
	_ = c.res.Body.Close()
}

// read parses the body into frames until it ends, then closes frames.
func (c *sseClient) read() {
	defer close(c.frames)
	sc := bufio.NewScanner(c.res.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	var f sseFrame
	var data []string
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			if len(data) > 0 {
				f.Data, f.DataLines = strings.Join(data, "\n"), len(data)
				c.frames <- f
			}
			f, data = sseFrame{}, nil
			continue
		}
		if comment, ok := strings.CutPrefix(line, ":"); ok {
			c.frames <- sseFrame{Comment: strings.TrimPrefix(comment, " "), IsComment: true}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			f.ID = value
		case "event":
			f.Event = value
		case "data":
			data = append(data, value)
		}
	}
}

// next returns the next frame that is not a comment, failing the test if
// none comes within liveWait or the stream ends.
func (c *sseClient) next() sseFrame {
	c.t.Helper()
	for {
		f := c.nextFrame()
		if !f.IsComment {
			return f
		}
	}
}

// nextFrame returns the next frame, comments included.
func (c *sseClient) nextFrame() sseFrame {
	c.t.Helper()
	timer := time.NewTimer(liveWait)
	defer timer.Stop()
	select {
	case f, ok := <-c.frames:
		if !ok {
			c.t.Fatal("the stream ended, want another frame")
		}
		return f
	case <-timer.C:
		c.t.Fatalf("no frame within %s", liveWait)
	}
	panic("unreachable")
}

// wantEnd requires the server to end the stream within liveWait; frames
// still in flight before the end are ignored.
func (c *sseClient) wantEnd() {
	c.t.Helper()
	timer := time.NewTimer(liveWait)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-c.frames:
			if !ok {
				return
			}
		case <-timer.C:
			c.t.Fatalf("the stream did not end within %s", liveWait)
		}
	}
}

// wantEvents reads the next frames and requires them to be exactly the
// stored events at positions, in order: id, event type and a data line
// equal to the stored envelope.
func (c *sseClient) wantEvents(store eventstore.Store, positions ...uint64) {
	c.t.Helper()
	if len(positions) == 0 {
		return
	}
	stored := map[uint64]eventstore.RecordedEvent{}
	page, err := store.ReadAll(context.Background(), positions[0]-1, int(positions[len(positions)-1]-positions[0]+1))
	if err != nil {
		c.t.Fatalf("read all: %v", err)
	}
	for _, e := range page {
		stored[e.Position] = e
	}
	for _, p := range positions {
		f := c.next()
		e, ok := stored[p]
		if !ok {
			c.t.Fatalf("position %d is not stored", p)
		}
		if f.ID != strconv.FormatUint(p, 10) || f.Event != e.Type {
			c.t.Fatalf("frame id %q event %q, want id %d event %s", f.ID, f.Event, p, e.Type)
		}
		if f.DataLines != 1 {
			c.t.Errorf("frame %s has %d data lines, want the envelope on one", f.ID, f.DataLines)
		}
		want, err := json.Marshal(e)
		if err != nil {
			c.t.Fatal(err)
		}
		if !sameJSON(c.t, []byte(f.Data), want) {
			c.t.Errorf("frame %s data = %s, want the envelope %s", f.ID, f.Data, want)
		}
	}
}

// seq returns the positions from..to.
func seq(from, to uint64) []uint64 {
	var out []uint64
	for p := from; p <= to; p++ {
		out = append(out, p)
	}
	return out
}

// TestStreamExistingThenLive: a client gets the stored events, then the
// ones written after it connected, from the API and from the store.
func TestStreamExistingThenLive(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Oppstart", "occurred_at": "2024-03-02"}, http.StatusOK)
	appendTestEvents(t, a.store, 1)

	c := a.openStream("/api/v1/events/stream")
	c.wantEvents(a.store, 1, 2, 3)

	r := a.post(p, "/goals", obj{"goals": []any{"Flere frivillige"}, "reason": "Evaluering", "occurred_at": "2024-04-01"}, http.StatusOK)
	if pos := positionOf(t, r); pos != 4 {
		t.Fatalf("X-Samspill-Position = %d, want 4", pos)
	}
	c.wantEvents(a.store, 4)
	appendTestEvents(t, a.store, 3)
	c.wantEvents(a.store, 5, 6, 7)
}

// TestStreamCatchUpAcrossPages reads more stored events than one page.
func TestStreamCatchUpAcrossPages(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	n := uint64(2*streamPage + 7)
	appendTestEvents(t, a.store, int(n))
	c := a.openStream("/api/v1/events/stream")
	c.wantEvents(a.store, seq(1, n)...)
	appendTestEvents(t, a.store, 1)
	c.wantEvents(a.store, n+1)
}

// TestStreamConcurrentWriters: while several writers append, the stream
// delivers every position exactly once, in order.
func TestStreamConcurrentWriters(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	appendTestEvents(t, a.store, 5)
	c := a.openStream("/api/v1/events/stream?after=2")
	c.wantEvents(a.store, 3, 4, 5)
	const writers, appends = 4, 40
	var wg sync.WaitGroup
	for range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range appends {
				if _, err := appendEvents(a.store, 1); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	c.wantEvents(a.store, seq(6, 5+writers*appends)...)
}

// TestStreamResume disconnects and reconnects with Last-Event-ID: the
// stream continues right after that position, nothing doubled or missing,
// and Last-Event-ID wins over after.
func TestStreamResume(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	appendTestEvents(t, a.store, 5)
	c := a.openStream("/api/v1/events/stream")
	c.wantEvents(a.store, 1, 2, 3)
	c.close()
	appendTestEvents(t, a.store, 3) // 6..8 while disconnected

	c = a.openStream("/api/v1/events/stream?after=1", "Last-Event-ID", "3")
	c.wantEvents(a.store, 4, 5, 6, 7, 8)
	appendTestEvents(t, a.store, 1)
	c.wantEvents(a.store, 9)
	c.close()

	// Resuming at the head waits for the next event.
	c = a.openStream("/api/v1/events/stream", "Last-Event-ID", "9")
	appendTestEvents(t, a.store, 1)
	c.wantEvents(a.store, 10)
}

func TestStreamAfter(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	appendTestEvents(t, a.store, 4)
	c := a.openStream("/api/v1/events/stream?after=2")
	c.wantEvents(a.store, 3, 4)
	// Beyond the head: nothing until the store gets there.
	c = a.openStream("/api/v1/events/stream?after=5")
	appendTestEvents(t, a.store, 2)
	c.wantEvents(a.store, 6)
}

func TestStreamBadStart(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	for _, c := range []struct {
		query, lastEventID string
		fields             []string
	}{
		{"", "abc", []string{"Last-Event-ID"}},
		{"", "-1", []string{"Last-Event-ID"}},
		{"", "1.5", []string{"Last-Event-ID"}},
		{"", "18446744073709551616", []string{"Last-Event-ID"}},
		{"?after=abc", "", []string{"after"}},
		{"?after=-3", "", []string{"after"}},
		{"?after=", "", []string{"after"}},
		{"?after=x", "x", []string{"after", "Last-Event-ID"}},
	} {
		t.Run(c.query+" "+c.lastEventID, func(t *testing.T) {
			var headers []string
			if c.lastEventID != "" {
				headers = []string{"Last-Event-ID", c.lastEventID}
			}
			r := doRequest(t, a.srv.URL, "GET", "/api/v1/events/stream"+c.query, nil, headers...)
			p := wantProblem(t, r, http.StatusBadRequest, typeValidation)
			if strings.Join(p.fields(), ",") != strings.Join(c.fields, ",") {
				t.Errorf("errors name %q, want %q", p.fields(), c.fields)
			}
		})
	}
}

func TestStreamKeepalive(t *testing.T) {
	t.Parallel()
	a := startTestAPI(t, func(c *Config) { c.StreamKeepalive = 20 * time.Millisecond }, nil)
	appendTestEvents(t, a.store, 1)
	c := a.openStream("/api/v1/events/stream")
	c.wantEvents(a.store, 1)
	for range 2 {
		if f := c.nextFrame(); !f.IsComment || f.Comment != "keepalive" {
			t.Fatalf("frame %+v, want the comment keepalive", f)
		}
	}
	appendTestEvents(t, a.store, 1)
	c.wantEvents(a.store, 2) // next skips keepalives
}

// TestStreamsDone: closing Config.StreamsDone ends open streams, and
// streams opened after it end at once.
func TestStreamsDone(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	a := startTestAPI(t, func(c *Config) { c.StreamsDone = done }, nil)
	appendTestEvents(t, a.store, 1)
	c1 := a.openStream("/api/v1/events/stream")
	c2 := a.openStream("/api/v1/events/stream?after=1")
	c1.wantEvents(a.store, 1)
	close(done)
	c1.wantEnd()
	c2.wantEnd()
	a.openStream("/api/v1/events/stream").wantEnd()
}

// TestStreamStoreClosed: closing the store ends open streams.
func TestStreamStoreClosed(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	appendTestEvents(t, a.store, 1)
	c := a.openStream("/api/v1/events/stream")
	c.wantEvents(a.store, 1)
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	c.wantEnd()
}

// TestStreamOutlivesServerTimeouts runs a server whose ReadTimeout and
// WriteTimeout are short (cmd sets 30 s and 60 s): a stream must outlive
// both, because the handler moves the write deadline before every write.
func TestStreamOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	const timeout = 150 * time.Millisecond
	a := startTestAPI(t, func(c *Config) { c.StreamKeepalive = 30 * time.Millisecond }, func(s *http.Server) {
		s.ReadTimeout = timeout
		s.WriteTimeout = timeout
	})
	appendTestEvents(t, a.store, 1)
	start := time.Now()
	c := a.openStream("/api/v1/events/stream")
	c.wantEvents(a.store, 1)
	for time.Since(start) < 4*timeout {
		c.nextFrame()
	}
	time.Sleep(2 * timeout) // idle past both deadlines (keepalives continue)
	appendTestEvents(t, a.store, 1)
	c.wantEvents(a.store, 2)
}

// TestStreamClientGone: a client that disconnects frees its handler, so
// the server can close (httptest.Server.Close waits for handlers).
func TestStreamClientGone(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	c := a.openStream("/api/v1/events/stream")
	c.close()
	done := make(chan struct{})
	go func() {
		a.srv.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(liveWait):
		t.Fatalf("the server did not close within %s: the stream handler still runs", liveWait)
	}
}
