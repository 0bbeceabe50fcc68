package postgres

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/eventstore"
)

// testLogger discards, unless SAMSPILL_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("SAMSPILL_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// openAt opens a store on url and closes it when the test ends.
func openAt(t testing.TB, url string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(context.Background(), url, append([]Option{WithLogger(testLogger())}, opts...)...)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// rawConn connects to url bypassing the store, for looking behind its back.
func rawConn(t testing.TB, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func event(typ string) eventstore.NewEvent {
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

func mustAppend(t testing.TB, s eventstore.Store, req eventstore.AppendRequest) eventstore.AppendResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.Append(ctx, req)
	if err != nil {
		t.Fatalf("Append(%s): %v", req.StreamID, err)
	}
	return res
}

// readAll reads the whole log, page by page.
func readAll(t testing.TB, s eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	for after := uint64(0); ; {
		page, err := s.ReadAll(context.Background(), after, 500)
		if err != nil {
			t.Fatalf("ReadAll(after %d): %v", after, err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}

// closedWithin reports whether ch is closed within wait.
func closedWithin(ch <-chan struct{}, wait time.Duration) bool {
	select {
	case <-ch:
		return true
	default:
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ch:
		return true
	case <-timer.C:
		return false
	}
}

// eventually polls cond until it holds or the wait ends.
func eventually(t testing.TB, wait time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", wait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func queued(t *testing.T, ctx context.Context, req eventstore.AppendRequest) *request {
	t.Helper()
	r, err := newRequest(ctx, req)
	if err != nil {
		t.Fatalf("newRequest: %v", err)
	}
	return r
}
