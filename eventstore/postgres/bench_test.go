package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/internal/pgtest"
)

// Each benchmark reports samspill's rate (events/s) and, measured in the
// same run on the same server in a schema of its own, the rate of raw
// autocommit INSERTs into a plain table (position bigserial, stream id,
// the same ~400-byte payload) by as many writers (raw_events/s), and the
// ratio (x_raw). The machine is shared and its disk's speed drifts, so the
// baseline is measured interleaved with samspill's work, not once before
// or after it.
//
//	SAMSPILL_TEST_POSTGRES_URL=postgres://... go test -run='^$' -bench=. -benchtime=5000x -count=3 ./eventstore/postgres/

// payload is a ~400-byte JSON event body.
var payload = func() json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"partner":{"partner_id":"7f1d2c3e-9a4b-4c1d-8e2f-0a1b2c3d4e5f","name":"Frivilligsentralen i Ålesund",`)
	b.WriteString(`"kind":"voluntary_organisation","org_no":"974760673"},"note":"`)
	for b.Len() < 390 {
		b.WriteString("x")
	}
	b.WriteString(`"}`)
	return json.RawMessage(b.String())
}()

func benchEvents(n int) []eventstore.NewEvent {
	events := make([]eventstore.NewEvent, n)
	now := time.Now()
	for i := range events {
		events[i] = eventstore.NewEvent{
			EventID:       uuid.Must(uuid.NewV7()).String(),
			Type:          "PartnerJoined",
			SchemaVersion: 1,
			OccurredAt:    now,
			Metadata:      eventstore.Metadata{Actor: eventstore.Actor{Subject: "bench", Role: "coordinator"}, CorrelationID: "c"},
			Data:          payload,
		}
	}
	return events
}

// rawTable is the baseline: a plain table in a schema of its own, written
// through a pool of up to 64 connections.
type rawTable struct {
	pool *pgxpool.Pool
}

func openRawTable(b *testing.B) *rawTable {
	b.Helper()
	cfg, err := pgxpool.ParseConfig(pgtest.URL(b))
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = 64
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(pool.Close)
	if _, err := pool.Exec(context.Background(), `CREATE TABLE raw (
		position  BIGSERIAL PRIMARY KEY,
		stream_id TEXT NOT NULL,
		data      TEXT NOT NULL
	)`); err != nil {
		b.Fatalf("create raw: %v", err)
	}
	return &rawTable{pool: pool}
}

// insert writes n rows by writers concurrent writers, one autocommit
// INSERT each, and returns the time it took.
func (r *rawTable) insert(b *testing.B, n, writers int) time.Duration {
	b.Helper()
	ctx := context.Background()
	data := string(payload)
	var next atomic.Int64
	var failed atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	for w := range writers {
		wg.Go(func() {
			stream := fmt.Sprintf("partnership-raw-%d", w)
			for int(next.Add(1)) <= n {
				if _, err := r.pool.Exec(ctx, `INSERT INTO raw (stream_id, data) VALUES ($1, $2)`, stream, data); err != nil {
					failed.Store(err)
					return
				}
			}
		})
	}
	wg.Wait()
	d := time.Since(start)
	if err, ok := failed.Load().(error); ok {
		b.Fatalf("raw insert: %v", err)
	}
	return d
}

// insertBatched writes n rows, perCommit rows in each transaction (one
// multi-row INSERT), through one connection: what group commit could at
// best reach on this server.
func (r *rawTable) insertBatched(b *testing.B, n, perCommit int) time.Duration {
	b.Helper()
	ctx := context.Background()
	streams := make([]string, perCommit)
	datas := make([]string, perCommit)
	for i := range streams {
		streams[i] = fmt.Sprintf("partnership-raw-%d", i)
		datas[i] = string(payload)
	}
	start := time.Now()
	for done := 0; done < n; done += perCommit {
		k := min(perCommit, n-done)
		if _, err := r.pool.Exec(ctx, `INSERT INTO raw (stream_id, data) SELECT * FROM unnest($1::text[], $2::text[])`,
			streams[:k], datas[:k]); err != nil {
			b.Fatalf("raw batched insert: %v", err)
		}
	}
	return time.Since(start)
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// BenchmarkAppendSingleWriter: one writer, one event per append, against
// one raw writer of one INSERT per commit. The two alternate in chunks of
// 250.
func BenchmarkAppendSingleWriter(b *testing.B) {
	const chunk = 250
	s := openAt(b, pgtest.URL(b))
	raw := openRawTable(b)
	events := benchEvents(b.N)
	stream := "partnership-" + uuid.NewString()
	ctx := context.Background()
	var ours, baseline time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; {
		n := min(chunk, b.N-done)
		start := time.Now()
		for i := done; i < done+n; i++ {
			req := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(uint64(i)), Events: events[i : i+1]}
			if _, err := s.Append(ctx, req); err != nil {
				b.Fatalf("Append %d: %v", i, err)
			}
		}
		ours += time.Since(start)
		b.StopTimer()
		baseline += raw.insert(b, n, 1)
		b.StartTimer()
		done += n
	}
	b.StopTimer()
	b.ReportMetric(rate(b.N, ours), "events/s")
	b.ReportMetric(rate(b.N, baseline), "raw_events/s")
	b.ReportMetric(rate(b.N, ours)/rate(b.N, baseline), "x_raw")
}

// BenchmarkAppendConcurrent64: 64 writers on distinct streams, one event
// per append, against 64 raw writers of one INSERT per commit (which
// PostgreSQL's own WAL flushing groups too), measured just before and just
// after. raw_batch64_events/s is one connection inserting 64 rows per
// commit: the ceiling of group commit here. appends/commit is how many
// appends the writer put in one transaction on average.
func BenchmarkAppendConcurrent64(b *testing.B) {
	const writers = 64
	s := openAt(b, pgtest.URL(b))
	raw := openRawTable(b)
	events := benchEvents(b.N)
	ctx := context.Background()
	rawN := min(max(b.N/2, 500), 10000)

	b.StopTimer()
	baseline := raw.insert(b, rawN, writers)
	b.StartTimer()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for range writers {
		wg.Go(func() {
			stream := "partnership-" + uuid.NewString()
			var version uint64
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				req := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(version), Events: events[i : i+1]}
				if _, err := s.Append(ctx, req); err != nil {
					failed.Store(fmt.Errorf("append %d: %w", i, err))
					return
				}
				version++
			}
		})
	}
	wg.Wait()
	ours := time.Since(start)
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	baseline += raw.insert(b, rawN, writers)

	b.ReportMetric(rate(b.N, ours), "events/s")
	b.ReportMetric(rate(2*rawN, baseline), "raw_events/s")
	b.ReportMetric(rate(b.N, ours)/rate(2*rawN, baseline), "x_raw")
	n64 := max(b.N, 64*50)
	b.ReportMetric(rate(n64, raw.insertBatched(b, n64, 64)), "raw_batch64_events/s")
	b.ReportMetric(float64(s.stats.Requests.Load())/float64(max(s.stats.Batches.Load(), 1)), "appends/commit")
}
