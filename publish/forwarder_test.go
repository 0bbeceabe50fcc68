package publish_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/natstest"
	"github.com/samspill/samspill/personal"
	"github.com/samspill/samspill/publish"
)

func TestForwarderPublishesTheLogInOrderWithoutPersonalData(t *testing.T) {
	t.Parallel()
	s := natstest.New(t)
	store := demoStore(t)
	var log logBuffer
	f := start(t, store, config(s, &log))
	events := readLog(t, store)
	s.WaitForCount(t, uint64(len(events)), time.Minute)
	checkStream(t, s, events)
	checkNoPersonalData(t, s, events)

	// Live: what is appended later follows.
	mustAppendMilestones(t, store, 5)
	events = readLog(t, store)
	s.WaitForCount(t, uint64(len(events)), time.Minute)
	checkStream(t, s, events)

	info, err := s.JS.StreamInfo(s.Name)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Config.Subjects; len(got) != 1 || got[0] != s.Prefix+".>" || info.Config.Duplicates != publish.DefaultDuplicates {
		t.Fatalf("the stream made has subjects %v and duplicate window %s", got, info.Config.Duplicates)
	}
	last := events[len(events)-1].Position
	waitFor(t, "the forwarder's position", func() bool { return f.Position() == last })
	metrics := gather(t, f)
	for name, want := range map[string]float64{
		"samspill_publish_position":        float64(last),
		"samspill_publish_lag":             0,
		"samspill_publish_connected":       1,
		"samspill_publish_published_total": float64(len(events)),
		"samspill_publish_failures_total":  0,
	} {
		if got, ok := metrics[name]; !ok || got != want {
			t.Errorf("metric %s = %v (present %v), want %v", name, got, ok, want)
		}
	}
	if strings.Contains(log.String(), "level=WARN") || strings.Contains(log.String(), "level=ERROR") {
		t.Errorf("the forwarder logged warnings or errors:\n%s", log.String())
	}
}

func TestForwarderResumesAfterStopWithNothingMissingOrTwice(t *testing.T) {
	t.Parallel()
	s := natstest.New(t)
	store := demoStore(t)
	var log logBuffer
	cfg := config(s, &log)
	first := start(t, store, cfg)
	before := readLog(t, store)
	s.WaitForCount(t, uint64(len(before)), time.Minute)

	// Stop it while events are being appended and published: it stops
	// mid-way, perhaps with a publish under way.
	appended := make(chan error, 1)
	go func() { appended <- appendMilestones(store, 200) }()
	s.WaitForCount(t, uint64(len(before)+20), time.Minute)
	_ = first.Close()
	stoppedAt := s.Count(t)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	events := readLog(t, store)
	t.Logf("stopped with %d of %d events in the stream", stoppedAt, len(events))

	second := start(t, store, cfg)
	s.WaitForCount(t, uint64(len(events)), time.Minute)
	checkStream(t, s, events)
	waitFor(t, "the second forwarder's position", func() bool { return second.Position() == events[len(events)-1].Position })
	if !strings.Contains(log.String(), "resuming after the stream's last event") {
		t.Fatalf("no resume in the log:\n%s", log.String())
	}
}

// A message the forwarder would send for e, published by the test as
// another instance (or a publish whose acknowledgement was lost) does.
func publishAsForwarder(t *testing.T, s *natstest.Stream, e eventstore.RecordedEvent, msgID string) {
	t.Helper()
	redacted, err := personal.Redact(e)
	if err != nil {
		t.Fatal(err)
	}
	redacted.Metadata = personal.NewPseudonyms(secret).Metadata(redacted.Metadata)
	body, _ := json.Marshal(redacted)
	m := nats.NewMsg(s.Prefix + ".partnership." + e.Type)
	m.Data = body
	m.Header.Set(nats.MsgIdHdr, msgID)
	m.Header.Set("_watermill_message_uuid", e.EventID)
	m.Header.Set(publish.HeaderEventID, e.EventID)
	m.Header.Set(publish.HeaderType, e.Type)
	m.Header.Set(publish.HeaderSchemaVersion, strconv.Itoa(e.SchemaVersion))
	m.Header.Set(publish.HeaderStreamID, e.StreamID)
	m.Header.Set(publish.HeaderPosition, strconv.FormatUint(e.Position, 10))
	if _, err := s.JS.PublishMsg(m); err != nil {
		t.Fatal(err)
	}
}

// The stream moves on under a forwarder (another instance published the
// next event, or a publish was stored but its acknowledgement lost): the
// forwarder stores nothing twice and goes on after it, whether JetStream
// recognises the message id (within the duplicate window) or refuses the
// expected sequence (another message id, or after the window). The
// forwarder reaches NATS through a proxy, taken down while the event is
// appended and stored by the test, so the forwarder cannot see the stream
// move until it publishes.
func TestForwarderGoesOnAfterAnEventStoredByAnother(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		sameID      bool
		afterWindow bool // published again after the duplicate window
	}{
		{"same message id", true, false},
		{"same message id after the duplicate window", true, true},
		{"another message id", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := natstest.New(t)
			proxy := s.NewProxy(t, true)
			store := openStore(t)
			addPartnership(t, store)
			var log logBuffer
			cfg := config(s, &log)
			cfg.URL = proxy.URL
			if tc.afterWindow {
				cfg.Duplicates = 500 * time.Millisecond
			}
			f := start(t, store, cfg)
			events := readLog(t, store)
			s.WaitForCount(t, uint64(len(events)), time.Minute)
			waitFor(t, "the forwarder's position", func() bool { return f.Position() == events[len(events)-1].Position })

			proxy.Down()
			mustAppendMilestones(t, store, 3)
			events = readLog(t, store)
			next := events[len(events)-3]
			id := next.EventID
			if !tc.sameID {
				id = "another-" + id
			}
			publishAsForwarder(t, s, next, id)
			if tc.afterWindow {
				time.Sleep(time.Second)
			}
			proxy.Up()
			s.WaitForCount(t, uint64(len(events)), time.Minute)
			waitFor(t, "the forwarder's position", func() bool { return f.Position() == events[len(events)-1].Position })
			msgs := s.Messages(t)
			if len(msgs) != len(events) {
				t.Fatalf("%d messages for %d events:\n%s", len(msgs), len(events), log.String())
			}
			for i, m := range msgs {
				if got, want := m.Header.Get(publish.HeaderPosition), strconv.FormatUint(events[i].Position, 10); got != want {
					t.Fatalf("message %d has position %s, want %s", i, got, want)
				}
			}
			// Within the window JetStream answers either with the stored
			// copy or (newer servers check the sequence first) refuses the
			// sequence; otherwise it refuses the sequence, and the
			// forwarder reads the stream's end again.
			moved := strings.Contains(log.String(), "the stream moved on")
			if (!tc.sameID || tc.afterWindow) && !moved {
				t.Fatalf("the log does not say the stream moved on:\n%s", log.String())
			}
		})
	}
}

// A stream emptied while samspill is stopped (nats stream purge) is
// filled again from the first event when it starts, even within the
// duplicate window, which still holds the ids of the purged copies.
func TestForwarderRefillsAPurgedStream(t *testing.T) {
	t.Parallel()
	s := natstest.New(t)
	store := openStore(t)
	addPartnership(t, store)
	mustAppendMilestones(t, store, 10)
	var log logBuffer
	cfg := config(s, &log)
	cfg.Duplicates = time.Second
	first := start(t, store, cfg)
	events := readLog(t, store)
	s.WaitForCount(t, uint64(len(events)), time.Minute)
	_ = first.Close()
	if err := s.JS.PurgeStream(s.Name); err != nil {
		t.Fatal(err)
	}
	start(t, store, cfg)
	t.Cleanup(func() {
		if t.Failed() {
			t.Log(log.String())
		}
	})
	s.WaitForCount(t, uint64(len(events)), time.Minute)
	time.Sleep(200 * time.Millisecond) // nothing more may come
	checkStream(t, s, events)
	if msgs := s.Messages(t); msgs[0].Sequence != uint64(len(events)+1) {
		t.Fatalf("the refill starts at sequence %d", msgs[0].Sequence)
	}
}

func TestForwarderWaitsForNATSAndLosesNothing(t *testing.T) {
	t.Parallel()
	s := natstest.New(t)
	proxy := s.NewProxy(t, false)
	store := demoStore(t)
	var log logBuffer
	cfg := config(s, &log)
	cfg.URL = proxy.URL
	began := time.Now()
	f := start(t, store, cfg)
	if took := time.Since(began); took > time.Second {
		t.Fatalf("Start took %s with NATS down; it must not wait for NATS", took)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := s.Count(t); n != 0 {
		t.Fatalf("the stream holds %d messages while NATS is unreachable", n)
	}
	metrics := gather(t, f)
	if metrics["samspill_publish_connected"] != 0 || metrics["samspill_publish_lag"] == 0 {
		t.Fatalf("metrics while NATS is down: %v", metrics)
	}

	proxy.Up()
	events := readLog(t, store)
	s.WaitForCount(t, uint64(len(events)), time.Minute)
	checkStream(t, s, events)

	// NATS goes away while events are appended, and comes back.
	proxy.Down()
	mustAppendMilestones(t, store, 30)
	time.Sleep(500 * time.Millisecond)
	proxy.Up()
	events = readLog(t, store)
	s.WaitForCount(t, uint64(len(events)), time.Minute)
	checkStream(t, s, events)
	for _, want := range []string{"disconnected from NATS", "publish to NATS failed; retrying", "publishing to NATS again"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("the log does not say %q:\n%s", want, log.String())
		}
	}
	if gather(t, f)["samspill_publish_failures_total"] == 0 {
		t.Error("no failure counted while NATS was down")
	}
}

func TestSeveralForwardersStoreEachEventOnce(t *testing.T) {
	t.Parallel()
	s := natstest.New(t)
	store := openStore(t)
	addPartnership(t, store)
	var logs [3]logBuffer
	var forwarders []*publish.Forwarder
	for i := range logs {
		forwarders = append(forwarders, start(t, store, config(s, &logs[i])))
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			if err := appendMilestones(store, 40); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	events := readLog(t, store)
	s.WaitForCount(t, uint64(len(events)), time.Minute)
	for i, f := range forwarders {
		waitFor(t, "forwarder "+strconv.Itoa(i)+"'s position", func() bool { return f.Position() == events[len(events)-1].Position })
	}
	checkStream(t, s, events)
	total := 0.0
	for _, f := range forwarders {
		total += gather(t, f)["samspill_publish_published_total"]
	}
	if total < float64(len(events)) {
		t.Fatalf("the forwarders published %v events together, the stream holds %d", total, len(events))
	}
}

// waitFor polls cond for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not reached within a minute", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// gather returns the forwarder's metrics by name.
func gather(t *testing.T, f *publish.Forwarder) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(f); err != nil {
		t.Fatal(err)
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, fam := range families {
		m := fam.GetMetric()[0]
		switch fam.GetType() {
		case dto.MetricType_GAUGE:
			out[fam.GetName()] = m.GetGauge().GetValue()
		case dto.MetricType_COUNTER:
			out[fam.GetName()] = m.GetCounter().GetValue()
		}
	}
	return out
}

// TestDocumentedSubscriber checks that docs/publishing.md shows the
// subscriber of example_test.go, and that it receives every event once, in
// order, also when its handler fails once and it is started again.
func TestDocumentedSubscriber(t *testing.T) {
	t.Parallel()
	code, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(code), "// --- begin subscriber ---\n")
	subscriber, _, _ := strings.Cut(rest, "// --- end subscriber ---")
	doc, err := os.ReadFile("../docs/publishing.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, _ := strings.Cut(string(doc), "```go\n")
	block, _, _ = strings.Cut(block, "```")
	if !strings.Contains(block, strings.TrimSpace(subscriber)) {
		t.Fatalf("docs/publishing.md's first Go block does not hold the subscriber of example_test.go:\n%s", block)
	}

	s := natstest.New(t)
	store := openStore(t)
	addPartnership(t, store)
	mustAppendMilestones(t, store, 20)
	var log logBuffer
	start(t, store, config(s, &log))
	events := readLog(t, store)
	s.WaitForCount(t, uint64(len(events)), time.Minute)

	var handled []Event
	failed := false
	errOnce := errors.New("the handler fails once")
	follow := func(done uint64) error {
		// The failed message comes back once JetStream's ack wait (30 s)
		// has passed: allow for that on a loaded machine.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		return Follow(ctx, s.URL, s.Name, "test", s.Prefix+".partnership.>", done, func(e Event) error {
			if len(handled) == 10 && !failed {
				failed = true
				return errOnce
			}
			handled = append(handled, e)
			if len(handled) == len(events) {
				cancel()
			}
			return nil
		})
	}
	if err := follow(0); !errors.Is(err, errOnce) {
		t.Fatalf("Follow: %v, want the handler's error", err)
	}
	if err := follow(handled[len(handled)-1].Position); !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow: %v", err)
	}
	if len(handled) != len(events) {
		t.Fatalf("handled %d events of %d", len(handled), len(events))
	}
	for i, e := range handled {
		if e.EventID != events[i].EventID || e.Position != events[i].Position {
			t.Fatalf("event %d: handled %s at %d, want %s at %d", i, e.EventID, e.Position, events[i].EventID, events[i].Position)
		}
	}
}
