package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/eventstoretest"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
	"github.com/samspill/samspill/internal/pgtest"
)

func TestContract(t *testing.T) {
	pgtest.ServerURL(t)
	eventstoretest.Run(t,
		func(t *testing.T) eventstore.Store { return openAt(t, pgtest.URL(t)) },
		eventstoretest.Capabilities{
			IdempotencyKeys:     true,
			DurableAcrossReopen: true,
			// Reopening is opening a new Store (a new pool) on the same
			// schema.
			Reopen: func(t *testing.T) eventstoretest.Constructor {
				url := pgtest.URL(t)
				return func(t *testing.T) eventstore.Store { return openAt(t, url) }
			},
		})
}

// closedPort returns an address nobody listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := lis.Addr().String()
	_ = lis.Close()
	return addr
}

func TestOpenServerDown(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)
	start := time.Now()
	s, err := Open(t.Context(), "postgres://samspill:s3cret-pw@"+addr+"/samspill?sslmode=disable")
	if err == nil {
		_ = s.Close()
		t.Fatal("Open on a closed port succeeded")
	}
	msg := err.Error()
	t.Logf("Open error: %s", msg)
	want := "open event store: connect to PostgreSQL at " + addr + ": postgresql unavailable: "
	if !strings.HasPrefix(msg, want) || strings.Contains(msg, "\n") || !strings.Contains(msg, "connection refused") {
		t.Fatalf("Open error = %q, want one line starting with %q saying connection refused", msg, want)
	}
	if strings.Contains(msg, "s3cret-pw") {
		t.Fatalf("Open error %q shows the password", msg)
	}
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("Open error %v does not wrap ErrUnavailable", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open took %s to fail", d)
	}
}

func TestOpenRefusesBadConnectionStrings(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, url, want string }{
		{"bad port", "postgres://samspill:s3cret-pw@127.0.0.1:notaport/db", "invalid port"},
		{"bad URL", "postgres://samspill:s3cret-pw@[::1/db", "failed to parse as URL"},
		{"unknown setting", "host=127.0.0.1 password=s3cret-pw connect_timeout=soon", "invalid connect_timeout"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := Open(t.Context(), c.url)
			if err == nil {
				_ = s.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			if strings.Contains(msg, "s3cret-pw") || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") {
				t.Fatalf("Open error %q: want one line naming %q and no password", msg, c.want)
			}
		})
	}
}

func TestOpenRefusedByServer(t *testing.T) {
	t.Parallel()
	server := pgtest.ServerURL(t)
	// A database that does not exist: the server answers, so this is no
	// matter of retrying.
	url := strings.Replace(server, "/test?", "/samspill_no_such_database?", 1)
	if url == server {
		t.Skipf("cannot name another database in %s", pgtest.EnvURL)
	}
	_, err := Open(t.Context(), url)
	if err == nil || errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "does not exist") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("Open of a missing database: %v; want one line saying it does not exist, not ErrUnavailable", err)
	}

	// A search_path that names no existing schema.
	noSchema, err := pgtest.WithSearchPath(server, "samspill_no_such_schema")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), noSchema); err == nil || !strings.Contains(err.Error(), "search_path") {
		t.Fatalf("Open with a search_path of no schema: %v; want an error about search_path", err)
	}
}

type migrationRow struct {
	version   int
	appliedAt string
}

func migrationRows(t *testing.T, url string) []migrationRow {
	t.Helper()
	rows, err := rawConn(t, url).Query(t.Context(), `SELECT version, applied_at FROM schema_migrations ORDER BY version`)
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

func TestConcurrentOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	first := time.Date(2025, 1, 2, 3, 4, 5, 6, time.UTC)
	const instances = 6
	errs := make([]error, instances)
	stores := make([]*Store, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			stores[i], errs[i] = Open(t.Context(), url, WithClock(func() time.Time { return first }))
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("instance %d: Open: %v", i, err)
		}
		defer stores[i].Close()
	}
	ms, err := loadMigrations()
	if err != nil {
		t.Fatal(err)
	}
	rows := migrationRows(t, url)
	if len(rows) != len(ms) {
		t.Fatalf("schema_migrations has %d rows, %d migrations are embedded", len(rows), len(ms))
	}
	if rows[0].appliedAt != sqlrow.FormatTime(first) {
		t.Fatalf("applied_at = %s, want the store clock's %s", rows[0].appliedAt, sqlrow.FormatTime(first))
	}
	// Reopening applies nothing.
	openAt(t, url, WithClock(func() time.Time { return first.Add(time.Hour) }))
	if got := migrationRows(t, url); fmt.Sprint(got) != fmt.Sprint(rows) {
		t.Fatalf("after reopen schema_migrations = %v, want %v", got, rows)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	if err := openAt(t, url).Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := rawConn(t, url).Exec(t.Context(), `INSERT INTO schema_migrations (version, applied_at) VALUES (999, 'future')`); err != nil {
		t.Fatalf("insert future migration: %v", err)
	}
	s, err := Open(t.Context(), url)
	if err == nil {
		_ = s.Close()
		t.Fatal("Open of a schema at version 999 succeeded")
	}
	var tooNew *SchemaTooNewError
	if !errors.As(err, &tooNew) || tooNew.Found != 999 || tooNew.Known < 1 || !strings.HasPrefix(tooNew.Schema, "samspill_test_") {
		t.Fatalf("Open error = %v (%T); want *SchemaTooNewError with Found 999 and the schema", err, err)
	}
	if !strings.Contains(err.Error(), "999") {
		t.Fatalf("error %q does not name the schema version", err)
	}
}

func TestTextThePostgreSQLCannotHold(t *testing.T) {
	t.Parallel()
	s := openAt(t, pgtest.URL(t))
	bad := event("PartnerJoined")
	bad.Data = []byte("\"\xff\"") // valid JSON to encoding/json, not UTF-8
	nul := event("Partner\x00Joined")
	for _, req := range []eventstore.AppendRequest{
		{StreamID: streamID(), Events: []eventstore.NewEvent{bad}},
		{StreamID: streamID(), Events: []eventstore.NewEvent{nul}},
		{StreamID: "partnership-\x00", Events: []eventstore.NewEvent{event("PartnerJoined")}},
		{StreamID: streamID(), Events: []eventstore.NewEvent{event("PartnerJoined")}, Idempotency: &eventstore.Idempotency{Key: "k\xff", RequestHash: "h"}},
	} {
		if _, err := s.Append(t.Context(), req); !errors.Is(err, eventstore.ErrInvalidAppend) {
			t.Fatalf("Append(%q): %v; want ErrInvalidAppend", req.StreamID, err)
		}
	}
	if head, err := s.Head(t.Context()); err != nil || head != 0 {
		t.Fatalf("Head = %d, %v; want 0", head, err)
	}
}

// TestPayloadKeptByteForByte: data and metadata come back exactly as
// appended, whitespace, key order and escapes included (jsonb would not).
func TestPayloadKeptByteForByte(t *testing.T) {
	t.Parallel()
	s := openAt(t, pgtest.URL(t))
	e := event("PartnerJoined")
	e.Data = []byte("{ \"b\" : 1,\n\t\"a\" : [ 1.50, 1e3, \"\\u00e5\", \"å\" ], \"b\" : 2 }")
	e.OccurredAt = time.Date(2024, 5, 17, 14, 3, 9, 123456789, time.FixedZone("CEST", 2*3600))
	stream := streamID()
	mustAppend(t, s, eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{e}})
	got, err := s.ReadStream(t.Context(), stream)
	if err != nil {
		t.Fatal(err)
	}
	if string(got[0].Data) != string(e.Data) {
		t.Fatalf("data = %q, want %q", got[0].Data, e.Data)
	}
	if !got[0].OccurredAt.Equal(e.OccurredAt) || got[0].OccurredAt.Nanosecond() != 123456789 {
		t.Fatalf("occurred_at = %v, want %v", got[0].OccurredAt, e.OccurredAt)
	}
	var occurred string
	if err := s.pool.QueryRow(t.Context(), `SELECT occurred_at FROM events WHERE event_id = $1`, e.EventID).Scan(&occurred); err != nil {
		t.Fatal(err)
	}
	if occurred != "2024-05-17T12:03:09.123456789Z" {
		t.Fatalf("occurred_at stored as %q, want the nine-digit UTC layout", occurred)
	}
}

func TestBatchRejectionsStayAlone(t *testing.T) {
	t.Parallel()
	s := openAt(t, pgtest.URL(t))
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
	r8 := queued(t, ctx, eventstore.AppendRequest{StreamID: b, Expected: eventstore.Exactly(1), Events: []eventstore.NewEvent{event("PartnerJoined"), ea}})

	batchesBefore := s.stats.Batches.Load()
	s.queue.Commit([]*request{r1, r2, r3, r4, r5, r6, r7, r8})
	if got := s.stats.Batches.Load() - batchesBefore; got != 1 || s.stats.Retries.Load() != 0 {
		t.Fatalf("batch took %d transactions and %d retries; want one transaction", got, s.stats.Retries.Load())
	}
	for i, c := range []struct {
		r    *request
		want error
	}{{r1, nil}, {r2, eventstore.ErrVersionConflict}, {r3, nil}, {r4, nil}, {r5, nil}, {r6, eventstore.ErrIdempotencyKeyUsed},
		{r7, context.Canceled}, {r8, eventstore.ErrDuplicateEventID}} {
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
	if rec, ok, err := s.LookupIdempotency(ctx, "k"); err != nil || !ok || rec.StreamID != a || rec.Position != r5.Res.Positions[0] {
		t.Fatalf("LookupIdempotency(k) = %+v, %v, %v; want request 5's record", rec, ok, err)
	}
}

func TestBatchFailureRetriesOneByOne(t *testing.T) {
	t.Parallel()
	url := pgtest.URL(t)
	s := openAt(t, url)
	ctx := t.Context()
	// A trigger makes one type fail inside PostgreSQL: an unexpected
	// database error in the middle of a batch.
	if _, err := rawConn(t, url).Exec(ctx, `
		CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF NEW.type = 'Poison' THEN RAISE EXCEPTION 'poisoned event'; END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER poison BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION poison()`); err != nil {
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
	if _, err := s.ReadStream(ctx, bad.req.StreamID); !errors.Is(err, eventstore.ErrStreamNotFound) {
		t.Fatalf("the failed request's stream: %v; want ErrStreamNotFound (its first event rolled back)", err)
	}
	all := readAll(t, s)
	if len(all) != 3 || all[0].Position != 1 || all[2].Position != 3 {
		t.Fatalf("log = %d events ending at %d; want 3 at positions 1..3 (no gap left by the failed batch)", len(all), all[len(all)-1].Position)
	}
}

// TestCloseWhileAppending is not parallel: it checks that no goroutine of
// any store runs after Close.
func TestCloseWhileAppending(t *testing.T) {
	url := pgtest.URL(t)
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[string]uint64{}
	for range 16 {
		wg.Go(func() {
			stream := streamID()
			for {
				e := event("MilestoneLogged")
				res, err := s.Append(context.Background(), eventstore.AppendRequest{StreamID: stream, Events: []eventstore.NewEvent{e}})
				if errors.Is(err, eventstore.ErrClosed) {
					return
				}
				if err != nil {
					t.Errorf("Append: %v", err)
					return
				}
				mu.Lock()
				acked[e.EventID] = res.Positions[0]
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wg.Wait()
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := s.Head(t.Context()); !errors.Is(err, eventstore.ErrClosed) {
		t.Fatalf("Head after Close: %v; want ErrClosed", err)
	}
	// No goroutine of the store outlives Close (the writer, the listener).
	eventually(t, 5*time.Second, "goroutines of the store still run after Close", func() bool {
		buf := make([]byte, 1<<20)
		return !strings.Contains(string(buf[:runtime.Stack(buf, true)]), "eventstore/postgres.(*Store)")
	})
	all := readAll(t, openAt(t, url))
	if len(all) != len(acked) || len(acked) == 0 {
		t.Fatalf("%d events stored, %d acknowledged", len(all), len(acked))
	}
	for _, e := range all {
		if pos, ok := acked[e.EventID]; !ok || pos != e.Position {
			t.Fatalf("stored %s at %d; acknowledged %v at %d", e.EventID, e.Position, ok, pos)
		}
	}
}

func TestChannelName(t *testing.T) {
	t.Parallel()
	if got := channelName("tenant_a"); got != "samspill_events:tenant_a" {
		t.Fatalf("channelName = %q", got)
	}
	long := strings.Repeat("å", 40)
	a, b := channelName(long), channelName(long+"x")
	if len(a) > 63 || a == b || a != channelName(long) {
		t.Fatalf("channelName of long schemas: %q, %q", a, b)
	}
}

// TestReadAllSizesItsResult: a page is made as large as the events it can
// hold as far as the store knows the head, so a read at the head, which
// subscribers make after every commit, allocates no page.
func TestReadAllSizesItsResult(t *testing.T) {
	t.Parallel()
	s := openAt(t, pgtest.URL(t))
	events := make([]eventstore.NewEvent, 10)
	for i := range events {
		events[i] = event("MilestoneLogged")
	}
	mustAppend(t, s, eventstore.AppendRequest{StreamID: streamID(), Events: events})
	for _, c := range []struct {
		after          uint64
		limit, len, cp int
	}{
		{0, 1000, 10, 10},
		{0, 4, 4, 4},
		{10, 1000, 0, 0},
	} {
		page, err := s.ReadAll(t.Context(), c.after, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) != c.len || cap(page) != c.cp {
			t.Errorf("ReadAll(after %d, limit %d): len %d, cap %d; want len %d, cap %d",
				c.after, c.limit, len(page), cap(page), c.len, c.cp)
		}
	}
}
