package sqlite

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/eventstoretest"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

// openAt opens the store at path and closes it when the test ends.
func openAt(t *testing.T, path string, opts ...Option) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close(%s): %v", path, err)
		}
	})
	return s
}

func openTemp(t *testing.T, opts ...Option) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	return openAt(t, path, opts...), path
}

func TestContract(t *testing.T) {
	eventstoretest.Run(t,
		func(t *testing.T) eventstore.Store {
			s, _ := openTemp(t)
			return s
		},
		eventstoretest.Capabilities{
			IdempotencyKeys:     true,
			DurableAcrossReopen: true,
			Reopen: func(t *testing.T) eventstoretest.Constructor {
				path := filepath.Join(t.TempDir(), "events.db")
				return func(t *testing.T) eventstore.Store { return openAt(t, path) }
			},
		})
}

func event(typ string) eventstore.NewEvent {
	return eventstore.NewEvent{
		EventID:       uuid.NewString(),
		Type:          typ,
		SchemaVersion: 1,
		OccurredAt:    time.Now(),
		Metadata:      eventstore.Metadata{Actor: eventstore.Actor{Subject: "test", Role: "admin"}},
		Data:          json.RawMessage(`{"n":1}`),
	}
}

func streamID() string { return "partnership-" + uuid.NewString() }

// rawDB opens the database file directly, bypassing the store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open(driverName, dsn(path, map[string][]string{"_busy_timeout": {"10000"}}))
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

type migrationRow struct {
	version   int
	appliedAt string
}

func migrationRows(t *testing.T, path string) []migrationRow {
	t.Helper()
	rows, err := rawDB(t, path).QueryContext(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	defer rows.Close()
	var out []migrationRow
	for rows.Next() {
		var r migrationRow
		if err := rows.Scan(&r.version, &r.appliedAt); err != nil {
			t.Fatalf("scan schema_migrations: %v", err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("read schema_migrations: %v", err)
	}
	return out
}

func TestReopenRunsNoMigrationTwice(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	firstClock := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	s := openAt(t, path, WithClock(func() time.Time { return firstClock }))
	if _, err := s.Append(t.Context(), eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}}); err != nil {
		t.Fatalf("Append: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want := migrationRows(t, path)
	ms, err := loadMigrations()
	if err != nil {
		t.Fatalf("loadMigrations: %v", err)
	}
	if len(want) != len(ms) {
		t.Fatalf("schema_migrations has %d rows, %d migrations are embedded", len(want), len(ms))
	}
	for i := range 2 {
		later := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		s := openAt(t, path, WithClock(func() time.Time { return later }))
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		got := migrationRows(t, path)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("reopen %d: schema_migrations = %v, want %v (unchanged)", i, got, want)
		}
	}
	if want[0].appliedAt != sqlrow.FormatTime(firstClock) {
		t.Fatalf("applied_at = %s, want the store clock's %s", want[0].appliedAt, sqlrow.FormatTime(firstClock))
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := openAt(t, path)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := rawDB(t, path).ExecContext(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'future')`); err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	s2, err := Open(t.Context(), path)
	if err == nil {
		_ = s2.Close()
		t.Fatal("Open of a database with schema version 999 succeeded")
	}
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Found != 999 || tooNew.Known < 1 {
		t.Fatalf("Open error = %v (%T); want *SchemaTooNewError with Found 999", err, err)
	}
	if !strings.Contains(err.Error(), "999") {
		t.Fatalf("error %q does not name the schema version", err)
	}
}

func TestDurableAcrossReopen(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	s := openAt(t, path)
	stream := streamID()
	var want []string
	for i := range 5 {
		e := event("MilestoneLogged")
		want = append(want, e.EventID)
		if _, err := s.Append(t.Context(), eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(uint64(i)), Events: []eventstore.NewEvent{e}}); err != nil {
			t.Fatalf("Append %d: %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s = openAt(t, path)
	got, err := s.ReadStream(t.Context(), stream)
	if err != nil {
		t.Fatalf("ReadStream after reopen: %v", err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d events after reopen, want %d", len(got), len(want))
	}
	for i, e := range got {
		if e.EventID != want[i] || e.Version != uint64(i+1) {
			t.Fatalf("event %d after reopen is %s v%d, want %s v%d", i, e.EventID, e.Version, want[i], i+1)
		}
	}
}

func TestDataMustBeJSON(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	for _, data := range []string{"", "{", "not json"} {
		e := event("MilestoneLogged")
		e.Data = json.RawMessage(data)
		_, err := s.Append(t.Context(), eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{e}})
		if !errors.Is(err, eventstore.ErrInvalidAppend) {
			t.Fatalf("Append with data %q: %v; want ErrInvalidAppend", data, err)
		}
	}
	e := event("MilestoneLogged")
	_, err := s.Append(t.Context(), eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{e, e}})
	if !errors.Is(err, eventstore.ErrInvalidAppend) {
		t.Fatalf("Append with one event id twice: %v; want ErrInvalidAppend", err)
	}
}

func TestErrorsNameTheStream(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	stream := streamID()
	req := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(3), Events: []eventstore.NewEvent{event("PartnerJoined")}}
	_, err := s.Append(t.Context(), req)
	if !errors.Is(err, eventstore.ErrVersionConflict) || !strings.HasPrefix(err.Error(), "append to "+stream+": ") {
		t.Fatalf("Append error = %q; want ErrVersionConflict prefixed with %q", err, "append to "+stream+": ")
	}
}

// TestGroupCommitBatches runs 64 concurrent writers and checks that the
// writer goroutine committed several appends per transaction.
func TestGroupCommitBatches(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	const writers, each = 64, 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			<-start
			stream := streamID()
			for i := range each {
				req := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(uint64(i)), Events: []eventstore.NewEvent{event("MilestoneLogged")}}
				if _, err := s.Append(t.Context(), req); err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, i, err)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	appends, batches := s.stats.Requests.Load(), s.stats.Batches.Load()
	if appends != writers*each {
		t.Fatalf("writer acknowledged %d appends, want %d", appends, writers*each)
	}
	if batches >= appends || s.stats.MaxBatch.Load() < 2 {
		t.Fatalf("%d appends took %d transactions (largest %d appends): no group commit", appends, batches, s.stats.MaxBatch.Load())
	}
	t.Logf("%d appends in %d transactions, largest %d", appends, batches, s.stats.MaxBatch.Load())
	head, err := s.Head(t.Context())
	if err != nil || head != writers*each {
		t.Fatalf("Head = %d, %v; want %d", head, err, writers*each)
	}
}

// queued builds a request as Append would, for tests that drive the writer
// directly.
func queued(t *testing.T, ctx context.Context, req eventstore.AppendRequest) *request {
	t.Helper()
	r, err := newRequest(ctx, req)
	if err != nil {
		t.Fatalf("newRequest: %v", err)
	}
	return r
}

func TestBatchRejectionsStayAlone(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	a, b := streamID(), streamID()
	ea := event("PartnershipInitiated")
	r1 := queued(t, ctx, eventstore.AppendRequest{StreamID: a, Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{ea}})
	r2 := queued(t, ctx, eventstore.AppendRequest{StreamID: a, Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	r3 := queued(t, ctx, eventstore.AppendRequest{StreamID: b, Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	r4 := queued(t, ctx, eventstore.AppendRequest{StreamID: a, Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{ea}})
	r5 := queued(t, ctx, eventstore.AppendRequest{StreamID: a, Expected: eventstore.Exactly(1), Events: []eventstore.NewEvent{event("PartnerJoined")},
		Idempotency: &eventstore.Idempotency{Key: "k", RequestHash: "h"}})
	r6 := queued(t, ctx, eventstore.AppendRequest{StreamID: b, Expected: eventstore.Any(), Events: []eventstore.NewEvent{event("PartnerJoined")},
		Idempotency: &eventstore.Idempotency{Key: "k", RequestHash: "h"}})
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	r7 := queued(t, cancelled, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}})

	batchesBefore := s.stats.Batches.Load()
	s.queue.Commit([]*request{r1, r2, r3, r4, r5, r6, r7})
	if got := s.stats.Batches.Load() - batchesBefore; got != 1 || s.stats.Retries.Load() != 0 {
		t.Fatalf("batch took %d transactions and %d retries; want one transaction", got, s.stats.Retries.Load())
	}
	for i, c := range []struct {
		r    *request
		want error
	}{{r1, nil}, {r2, eventstore.ErrVersionConflict}, {r3, nil}, {r4, nil}, {r5, nil}, {r6, eventstore.ErrIdempotencyKeyUsed}, {r7, context.Canceled}} {
		<-c.r.Done()
		if !errors.Is(c.r.Err, c.want) || (c.want == nil && c.r.Err != nil) {
			t.Fatalf("request %d: %v; want %v", i+1, c.r.Err, c.want)
		}
	}
	if !r4.Res.Deduplicated || r4.Res.Positions[0] != r1.Res.Positions[0] {
		t.Fatalf("same events twice in one batch: %+v then %+v; want the second deduplicated", r1.Res, r4.Res)
	}
	if r5.Res.FirstVersion != 2 {
		t.Fatalf("request 5 landed at version %d, want 2 (after request 1 of the same batch)", r5.Res.FirstVersion)
	}
	head, err := s.Head(ctx)
	if err != nil || head != 3 {
		t.Fatalf("Head = %d, %v; want 3 (requests 1, 3, 5)", head, err)
	}
}

func TestBatchFailureRetriesOneByOne(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t)
	ctx := t.Context()
	// A trigger makes one type fail inside SQLite: an unexpected database
	// error in the middle of a batch.
	if _, err := rawDB(t, path).ExecContext(ctx, `CREATE TRIGGER poison BEFORE INSERT ON events
		WHEN NEW.type = 'Poison' BEGIN SELECT RAISE(ABORT, 'poisoned event'); END`); err != nil {
		t.Fatalf("create trigger: %v", err)
	}
	good1 := queued(t, ctx, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined"), event("PartnerJoined")}})
	bad := queued(t, ctx, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined"), event("Poison")}})
	good2 := queued(t, ctx, eventstore.AppendRequest{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}})
	s.queue.Commit([]*request{good1, bad, good2})
	for _, r := range []*request{good1, bad, good2} {
		<-r.Done()
	}
	if good1.Err != nil || good2.Err != nil {
		t.Fatalf("good requests failed with the bad one: %v, %v", good1.Err, good2.Err)
	}
	if bad.Err == nil || !strings.Contains(bad.Err.Error(), "poisoned event") {
		t.Fatalf("bad request: %v; want the trigger's error", bad.Err)
	}
	if s.stats.Retries.Load() != 1 {
		t.Fatalf("%d retries, want 1", s.stats.Retries.Load())
	}
	if _, err := s.ReadStream(ctx, bad.streamID); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("the failed request's stream: %v; want ErrStreamNotFound (its first event rolled back)", err)
	}
	all, err := s.ReadAll(ctx, 0, 100)
	if err != nil || len(all) != 3 {
		t.Fatalf("ReadAll = %d events, %v; want 3", len(all), err)
	}
}

func TestCloseWhileAppending(t *testing.T) {
	t.Parallel()
	before := runtime.NumGoroutine()
	path := filepath.Join(t.TempDir(), "events.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]bool{}
	for range 16 {
		wg.Go(func() {
			stream := streamID()
			for {
				e := event("MilestoneLogged")
				_, err := s.Append(context.Background(), eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{e}})
				if errors.Is(err, eventstore.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				acked[e.EventID] = true
				mu.Unlock()
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}

	// Every acknowledged append is in the file.
	s2 := openAt(t, path)
	seen := map[string]bool{}
	for after := uint64(0); ; {
		page, err := s2.ReadAll(t.Context(), after, 500)
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			seen[e.EventID] = true
		}
		after = page[len(page)-1].Position
	}
	for id := range acked {
		if !seen[id] {
			t.Fatalf("acknowledged event %s is missing after Close", id)
		}
	}
	if len(seen) != len(acked) {
		t.Fatalf("%d events stored, %d acknowledged", len(seen), len(acked))
	}
	if err := s2.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// No goroutine of the store outlives Close (database/sql's connection
	// openers included).
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Logf("goroutines:\n%s", buf[:runtime.Stack(buf, true)])
		t.Fatalf("%d goroutines after Close, %d before Open", n, before)
	}
}

// Kill test: a child process appends and reports each acknowledgement;
// the parent kills it with SIGKILL and checks every acknowledged event is
// in the file.

const killChildEnv = "SAMSPILL_SQLITE_KILL_CHILD"

func TestKillChild(t *testing.T) {
	path := os.Getenv(killChildEnv)
	if path == "" {
		t.Skip("child of TestAcknowledgedAppendsSurviveKill")
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		fmt.Println("open failed:", err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			stream := streamID()
			for {
				e := event("MilestoneLogged")
				res, err := s.Append(context.Background(), eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{e}})
				mu.Lock()
				if err != nil {
					fmt.Fprintln(out, "error", err)
				} else {
					fmt.Fprintln(out, "ack", e.EventID, res.Positions[0])
				}
				_ = out.Flush()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
}

func TestAcknowledgedAppendsSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns a process")
	}
	t.Parallel()
	path := filepath.Join(t.TempDir(), "events.db")
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), killChildEnv+"="+path)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start child: %v", err)
	}
	acked := map[string]uint64{}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() && len(acked) < 300 {
		f := strings.Fields(sc.Text())
		if len(f) == 3 && f[0] == "ack" {
			pos, _ := strconv.ParseUint(f[2], 10, 64)
			acked[f[1]] = pos
		} else if len(f) > 0 && f[0] != "ack" {
			t.Logf("child: %s", sc.Text())
		}
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatalf("kill child: %v", err)
	}
	_ = cmd.Wait()
	if len(acked) < 300 {
		t.Fatalf("child acknowledged only %d appends before it stopped", len(acked))
	}

	s := openAt(t, path)
	found := map[string]uint64{}
	for after := uint64(0); ; {
		page, err := s.ReadAll(t.Context(), after, 500)
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			found[e.EventID] = e.Position
		}
		after = page[len(page)-1].Position
	}
	for id, pos := range acked {
		if got, ok := found[id]; !ok || got != pos {
			t.Fatalf("acknowledged event %s at position %d: after kill -9 found=%v at %d", id, pos, ok, got)
		}
	}
	t.Logf("%d acknowledged, %d in the file after kill -9", len(acked), len(found))
}

// TestStaleVersionCache writes behind the store's back (another connection,
// as another process would) and checks that the writer's cache of stream
// versions never gives a wrong answer.
func TestStaleVersionCache(t *testing.T) {
	t.Parallel()
	s, path := openTemp(t)
	ctx := t.Context()
	raw := rawDB(t, path)
	stream := streamID()
	sneak := func(version int) {
		t.Helper()
		_, err := raw.ExecContext(ctx, `INSERT INTO events (event_id, stream_id, version, type, schema_version,
			occurred_at, recorded_at, metadata, data) VALUES (?, ?, ?, 'PartnerJoined', 1, ?, ?, '{}', '{}')`,
			uuid.NewString(), stream, version, sqlrow.FormatTime(time.Now()), sqlrow.FormatTime(time.Now()))
		if err != nil {
			t.Fatalf("insert behind the store's back: %v", err)
		}
	}
	appendAt := func(exp eventstore.ExpectedVersion) (eventstore.AppendResult, error) {
		return s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: exp, Events: []eventstore.NewEvent{event("PartnerJoined")}})
	}
	if _, err := appendAt(eventstore.NoStream()); err != nil {
		t.Fatalf("first append: %v", err)
	}
	sneak(2)
	if res, err := appendAt(eventstore.Exactly(2)); err != nil || res.FirstVersion != 3 {
		t.Fatalf("Exactly(2) after a foreign write = %+v, %v; want version 3", res, err)
	}
	sneak(4)
	if res, err := appendAt(eventstore.Any()); err != nil || res.FirstVersion != 5 {
		t.Fatalf("Any after a foreign write = %+v, %v; want version 5", res, err)
	}
	sneak(6)
	if _, err := appendAt(eventstore.Exactly(5)); !errors.Is(err, eventstore.ErrVersionConflict) {
		t.Fatalf("Exactly(5) with the stream at 6: %v; want ErrVersionConflict", err)
	}
	events, err := s.ReadStream(ctx, stream)
	if err != nil || len(events) != 6 {
		t.Fatalf("ReadStream = %d events, %v; want 6", len(events), err)
	}
	if s.stats.Retries.Load() != 0 {
		t.Fatalf("%d batch retries; stale versions should be handled inside the batch", s.stats.Retries.Load())
	}
}

// TestLoneAppendFastPath covers the autocommit path of a lone single-event
// append: written, retried (deduplicated), refused as a duplicate elsewhere.
func TestLoneAppendFastPath(t *testing.T) {
	t.Parallel()
	s, _ := openTemp(t)
	ctx := t.Context()
	stream := streamID()
	first := event("PartnershipInitiated")
	if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{first}}); err != nil {
		t.Fatalf("first append: %v", err)
	}
	e := event("PartnerJoined")
	req := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(1), Events: []eventstore.NewEvent{e}}
	res, err := s.Append(ctx, req)
	if err != nil || res.FirstVersion != 2 {
		t.Fatalf("append = %+v, %v; want version 2", res, err)
	}
	again, err := s.Append(ctx, req)
	if err != nil || !again.Deduplicated || again.Positions[0] != res.Positions[0] {
		t.Fatalf("retry = %+v, %v; want deduplicated at %d", again, err, res.Positions[0])
	}
	req.Expected = eventstore.Any()
	if again, err := s.Append(ctx, req); err != nil || !again.Deduplicated {
		t.Fatalf("retry with Any = %+v, %v; want deduplicated", again, err)
	}
	if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(2), Events: []eventstore.NewEvent{first}}); !errors.Is(err, eventstore.ErrDuplicateEventID) {
		t.Fatalf("first event again at version 3: %v; want ErrDuplicateEventID", err)
	}
	if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(2), Events: []eventstore.NewEvent{event("PartnerLeft")}}); err != nil {
		t.Fatalf("append after the refusals: %v", err)
	}
	if events, err := s.ReadStream(ctx, stream); err != nil || len(events) != 3 {
		t.Fatalf("ReadStream = %d events, %v; want 3", len(events), err)
	}
}

// TestReadAllSizesItsResult: a page is made as large as the events it can
// hold (the head's distance, up to the limit), also on a store opened over
// an existing log, so reading a page neither grows its slice row by row
// nor allocates one at the head.
func TestReadAllSizesItsResult(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	events := make([]eventstore.NewEvent, 100)
	for i := range events {
		events[i] = event("MilestoneLogged")
	}
	if _, err := s.Append(ctx, eventstore.AppendRequest{StreamID: streamID(), Events: events}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openAt(t, path)
	for _, c := range []struct {
		after          uint64
		limit, len, cp int
	}{
		{0, 1000, 100, 100},
		{0, 30, 30, 30},
		{90, 1000, 10, 10},
		{100, 1000, 0, 0},
	} {
		page, err := s.ReadAll(ctx, c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != c.len || cap(page) != c.cp {
			t.Errorf("ReadAll(after %d, limit %d): len %d, cap %d; want len %d, cap %d",
				c.after, c.limit, len(page), cap(page), c.len, c.cp)
		}
	}
}
