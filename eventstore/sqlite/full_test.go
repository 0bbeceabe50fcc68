package sqlite

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/samspill/samspill/eventstore"
)

// limitPages sets PRAGMA max_page_count on the writer's connection: the
// database cannot grow past n pages, and SQLite refuses a write that
// would need more with SQLITE_FULL, exactly as when the disk is full. It
// returns the limit in force (SQLite never sets it below the file's
// current size). Only while the writer goroutine is idle.
func limitPages(t *testing.T, s *Store, n int64) int64 {
	t.Helper()
	var got int64
	if err := s.wr.conn.QueryRowContext(t.Context(), `PRAGMA max_page_count = `+strconv.FormatInt(n, 10)).Scan(&got); err != nil {
		t.Fatalf("PRAGMA max_page_count: %v", err)
	}
	return got
}

// bigEvent is an event of a few kilobytes: each needs new pages.
func bigEvent(typ string) eventstore.NewEvent {
	e := event(typ)
	e.Data = json.RawMessage(`{"note":"` + strings.Repeat("x", 6000) + `"}`)
	return e
}

func TestFullDiskFailsEveryAppendOfTheBatchAndWritesNothingUntilSpaceIsBack(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t)
	ctx := t.Context()
	stream := streamID()
	if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.NoStream(),
		Events: []eventstore.NewEvent{event("PartnershipInitiated")}}); err != nil {
		t.Fatal(err)
	}
	if err := s.ProbeStorage(ctx); err != nil {
		t.Fatalf("ProbeStorage on a store with space = %v; want nil", err)
	}

	limitPages(t, s, 1) // the file as it is: any growth is SQLITE_FULL
	var batch []*request
	for i := range 4 {
		req := eventstore.AppendRequest{StreamID: streamID(), Expected: eventstore.NoStream(),
			Events: []eventstore.NewEvent{bigEvent("PartnershipInitiated"), bigEvent("PartnerJoined")}}
		if i == 2 {
			req.Idempotency = &eventstore.Idempotency{Key: "full-" + stream, RequestHash: "h"}
		}
		batch = append(batch, queued(t, ctx, req))
	}
	retries := s.stats.Retries.Load()
	s.queue.Commit(batch)
	for i, r := range batch {
		<-r.Done()
		if !errors.Is(r.Err, eventstore.ErrStorageFull) || !strings.Contains(r.Err.Error(), "full") {
			t.Fatalf("request %d of a batch on a full disk: %v; want ErrStorageFull with SQLite's cause", i, r.Err)
		}
	}
	if got := s.stats.Retries.Load() - retries; got != 0 {
		t.Fatalf("%d one-by-one retries of the batch; want none: lack of space fails the batch at once", got)
	}
	if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(1),
		Events: []eventstore.NewEvent{bigEvent("MilestoneLogged")}}); !errors.Is(err, eventstore.ErrStorageFull) {
		t.Fatalf("Append on a full disk = %v; want ErrStorageFull", err)
	}
	for range 2 {
		if err := s.ProbeStorage(ctx); !errors.Is(err, eventstore.ErrStorageFull) {
			t.Fatalf("ProbeStorage on a full disk = %v; want ErrStorageFull", err)
		}
	}
	// Reads go on.
	if head, err := s.Head(ctx); err != nil || head != 1 {
		t.Fatalf("Head on a full disk = %d, %v; want 1", head, err)
	}
	if _, ok, err := s.LookupIdempotency(ctx, "full-"+stream); ok || err != nil {
		t.Fatalf("LookupIdempotency of a failed append = %v, %v; want nothing stored", ok, err)
	}

	limitPages(t, s, 1<<30) // space is back
	if err := s.ProbeStorage(ctx); err != nil {
		t.Fatalf("ProbeStorage once space is back = %v; want nil", err)
	}
	// The failed requests, retried with the same event ids, are written
	// once: nothing of them was left behind.
	for i, r := range batch {
		res, err := s.Append(ctx, r.req)
		if err != nil || res.Deduplicated {
			t.Fatalf("retry of request %d once space is back = %+v, %v; want a fresh append", i, res, err)
		}
	}
	if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(1),
		Events: []eventstore.NewEvent{bigEvent("MilestoneLogged")}}); err != nil {
		t.Fatalf("Append once space is back = %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	reopened := openAt(t, path)
	all, err := reopened.ReadAll(ctx, 0, 100)
	if err != nil || len(all) != 1+4*2+1 {
		t.Fatalf("after reopening: %d events, %v; want 10", len(all), err)
	}
	seen := map[string]bool{}
	for _, e := range all {
		if seen[e.EventID] {
			t.Fatalf("event %s stored twice", e.EventID)
		}
		seen[e.EventID] = true
	}
}

func TestStorageProbeWritesNoEvent(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	limitPages(t, s, 1)
	if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{bigEvent("PartnershipInitiated")}}); !errors.Is(err, eventstore.ErrStorageFull) {
		t.Fatalf("Append on a full disk = %v; want ErrStorageFull", err)
	}
	limitPages(t, s, 1<<30)
	moved := s.HeadMoved()
	if err := s.ProbeStorage(ctx); err != nil {
		t.Fatalf("ProbeStorage = %v", err)
	}
	var probedAt string
	if err := s.r.QueryRowContext(ctx, `SELECT probed_at FROM storage_probe WHERE id = 1`).Scan(&probedAt); err != nil || probedAt == "" {
		t.Fatalf("storage_probe after a probe: %q, %v; want its row", probedAt, err)
	}
	if head, err := s.Head(ctx); err != nil || head != 0 {
		t.Fatalf("Head after a probe = %d, %v; want 0", head, err)
	}
	select {
	case <-moved:
		t.Fatal("HeadMoved fired for a probe")
	default:
	}
}
