package kurrent

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/eventstoretest"
	"github.com/samspill/samspill/eventstore/kurrent/kurrenttest"
)

// realURL, when set, makes every suite of this package run against that
// KurrentDB instead of the in-process test server (docs/operations.md).
// Fault injection needs the test server and is skipped then.
var realURL = os.Getenv("SAMSPILL_TEST_KURRENTDB_URL")

// shared is the test server most tests share; each store on it has its own
// namespace, so tests do not see each other's events.
var shared struct {
	once sync.Once
	srv  *kurrenttest.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.srv != nil {
		shared.srv.Stop()
	}
	os.Exit(code)
}

// sharedURL is the URL of the database most tests use.
func sharedURL(t *testing.T) string {
	t.Helper()
	if realURL != "" {
		return realURL
	}
	shared.once.Do(func() { shared.srv, shared.err = kurrenttest.Start() })
	if shared.err != nil {
		t.Fatalf("start test server: %v", shared.err)
	}
	return shared.srv.URL()
}

// startServer starts a test server of the test's own, for fault injection.
func startServer(t *testing.T) *kurrenttest.Server {
	t.Helper()
	srv, err := kurrenttest.Start()
	if err != nil {
		t.Fatalf("start test server: %v", err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// newNamespace returns a namespace no other test uses.
func newNamespace() string { return "t" + strings.ReplaceAll(uuid.NewString(), "-", "")[:12] + "-" }

// testLogger discards, unless SAMSPILL_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SAMSPILL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// openStore opens a store on url in a fresh namespace (unless opts set one)
// and closes it when the test ends.
func openStore(t *testing.T, url string, opts ...Option) *Store {
	t.Helper()
	all := append([]Option{WithNamespace(newNamespace()), WithLogger(testLogger()), WithStreamPrefixes(eventstoretest.StreamPrefix)}, opts...)
	s, err := Open(t.Context(), url, all...)
	if err != nil {
		t.Fatalf("Open(%s): %v", url, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func newEvent(typ string) eventstore.NewEvent {
	return eventstore.NewEvent{
		EventID:       uuid.NewString(),
		Type:          typ,
		SchemaVersion: 1,
		OccurredAt:    time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC),
		Metadata:      eventstore.Metadata{Actor: eventstore.Actor{Subject: "test", Role: "admin"}},
		Data:          json.RawMessage(`{"n":1}`),
	}
}

func streamID() string { return "partnership-" + uuid.NewString() }

func mustAppend(t *testing.T, s eventstore.Store, stream string, exp eventstore.ExpectedVersion, events ...eventstore.NewEvent) eventstore.AppendResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: exp, Events: events})
	if err != nil {
		t.Fatalf("Append(%s): %v", stream, err)
	}
	return res
}

// eventually polls cond until it holds or the wait ends.
func eventually(t *testing.T, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", wait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// closedWithin reports whether ch is closed within wait.
func closedWithin(ch <-chan struct{}, wait time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(wait):
		return false
	}
}

// ownGoroutines lists the goroutines running code of this package (not of
// its tests): after Close there must be none.
func ownGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "samspill/eventstore/kurrent.(*Store)") {
			out = append(out, g)
		}
	}
	return out
}

func expectNoOwnGoroutines(t *testing.T) {
	t.Helper()
	var left []string
	deadline := time.Now().Add(5 * time.Second)
	for {
		if left = ownGoroutines(); len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%d goroutines of the store still running after Close:\n%s", len(left), fmt.Sprint(left))
}

func uuidsOf(events ...eventstore.NewEvent) ([]uuid.UUID, error) {
	out := make([]uuid.UUID, len(events))
	for i, e := range events {
		id, err := uuid.Parse(e.EventID)
		if err != nil {
			return nil, err
		}
		out[i] = id
	}
	return out, nil
}
