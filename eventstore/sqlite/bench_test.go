package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
)

// Each benchmark reports samspill's rate (events/s) and, measured in the
// same run on its own temporary file with the same pragmas, the rate of raw
// SQLite one-row-insert-and-commit transactions (raw_events/s), and the
// ratio (x_raw).
//
//	go test -run='^$' -bench=. -benchtime=5s ./eventstore/sqlite/

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

var benchIDs = flag.String("bench.eventids", "v7", "event ids of the benchmarks: v7 (time-ordered, as a server makes them) or v4 (random)")

// newEventID returns an event id of the kind -bench.eventids asks for.
func newEventID() string {
	if *benchIDs == "v4" {
		return uuid.NewString()
	}
	return uuid.Must(uuid.NewV7()).String()
}

func benchEvents(n int) []eventstore.NewEvent {
	events := make([]eventstore.NewEvent, n)
	now := time.Now()
	for i := range events {
		events[i] = eventstore.NewEvent{
			EventID:       newEventID(),
			Type:          "PartnerJoined",
			SchemaVersion: 1,
			OccurredAt:    now,
			Metadata:      eventstore.Metadata{Actor: eventstore.Actor{Subject: "bench", Role: "coordinator"}, CorrelationID: "c"},
			Data:          payload,
		}
	}
	return events
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "events.db"))
	if err != nil {
		b.Fatalf("Open: %v", err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// rawDBForBench opens a fresh file with the writer's pragmas and a table of
// a position, a stream id and the payload.
func rawDBForBench(b *testing.B) *sql.DB {
	b.Helper()
	db, err := sql.Open(driverName, dsn(filepath.Join(b.TempDir(), "raw.db"), writerParams()))
	if err != nil {
		b.Fatalf("open raw: %v", err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { _ = db.Close() })
	if _, err := db.Exec(`CREATE TABLE raw (id INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, data TEXT NOT NULL)`); err != nil {
		b.Fatalf("create raw: %v", err)
	}
	return db
}

// rawRate inserts n rows, perCommit rows per transaction, and returns rows
// per second.
func rawRate(b *testing.B, n, perCommit int) float64 {
	b.Helper()
	db := rawDBForBench(b)
	ins, err := db.Prepare(`INSERT INTO raw (stream_id, data) VALUES (?, ?)`)
	if err != nil {
		b.Fatalf("prepare: %v", err)
	}
	defer ins.Close()
	data := string(payload)
	start := time.Now()
	for done := 0; done < n; {
		tx, err := db.Begin()
		if err != nil {
			b.Fatalf("begin: %v", err)
		}
		st := tx.Stmt(ins)
		for j := 0; j < perCommit && done < n; j++ {
			if _, err := st.Exec("partnership-raw", data); err != nil {
				b.Fatalf("insert: %v", err)
			}
			done++
		}
		if err := tx.Commit(); err != nil {
			b.Fatalf("commit: %v", err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

// rawSchemaRate inserts n events straight into a fresh database with
// samspill's own schema (the embedded migrations), 64 per commit, one per
// stream of 64: the ceiling for group commit with this schema, where every
// distinct stream in a commit dirties its own page of the (stream_id,
// version) index.
func rawSchemaRate(b *testing.B, n int) float64 {
	b.Helper()
	db, err := sql.Open(driverName, dsn(filepath.Join(b.TempDir(), "schema.db"), writerParams()))
	if err != nil {
		b.Fatalf("open raw: %v", err)
	}
	db.SetMaxOpenConns(1)
	defer db.Close()
	if _, err := migrate(context.Background(), db, time.Now); err != nil {
		b.Fatalf("migrate: %v", err)
	}
	ins, err := db.Prepare(`INSERT INTO events (event_id, stream_id, version, type, schema_version,
		occurred_at, recorded_at, metadata, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatalf("prepare: %v", err)
	}
	defer ins.Close()
	streams := make([]string, 64)
	for i := range streams {
		streams[i] = "partnership-" + uuid.NewString()
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i] = newEventID()
	}
	versions := make([]int, len(streams))
	data, meta, at := string(payload), `{"actor":{"subject":"bench","role":"coordinator"},"correlation_id":"c"}`, formatTime(time.Now())
	start := time.Now()
	for done := 0; done < n; {
		tx, err := db.Begin()
		if err != nil {
			b.Fatalf("begin: %v", err)
		}
		st := tx.Stmt(ins)
		for j := 0; j < len(streams) && done < n; j++ {
			versions[j]++
			if _, err := st.Exec(ids[done], streams[j], versions[j], "PartnerJoined", 1, at, at, meta, data); err != nil {
				b.Fatalf("insert: %v", err)
			}
			done++
		}
		if err := tx.Commit(); err != nil {
			b.Fatalf("commit: %v", err)
		}
	}
	return float64(n) / time.Since(start).Seconds()
}

func report(b *testing.B, events int, elapsed time.Duration, raw float64) {
	rate := float64(events) / elapsed.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(raw, "raw_events/s")
	b.ReportMetric(rate/raw, "x_raw")
}

// BenchmarkAppendSingleWriter: one writer, one event per append, against
// raw one-insert-per-commit.
func BenchmarkAppendSingleWriter(b *testing.B) {
	s := openBench(b)
	events := benchEvents(b.N)
	stream := "partnership-" + uuid.NewString()
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for i := range b.N {
		req := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(uint64(i)), Events: events[i : i+1]}
		if _, err := s.Append(ctx, req); err != nil {
			b.Fatalf("Append %d: %v", i, err)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	report(b, b.N, elapsed, rawRate(b, b.N, 1))
}

// BenchmarkAppendConcurrent64: 64 writers on distinct streams, one event per
// append. x_raw compares with raw one-insert-per-commit (the fsync-bound
// rate). Two more baselines: raw_batch64_events/s is raw SQLite with 64
// inserts per commit into a plain table, raw_schema64_events/s the same
// into samspill's schema across 64 streams (the practical ceiling).
func BenchmarkAppendConcurrent64(b *testing.B) {
	const writers = 64
	s := openBench(b)
	events := benchEvents(b.N)
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	var failed atomic.Value
	b.ResetTimer()
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
	elapsed := time.Since(start)
	b.StopTimer()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
	n := min(max(b.N/4, 500), 20000)
	report(b, b.N, elapsed, rawRate(b, n, 1))
	b.ReportMetric(rawRate(b, max(b.N, 64*50), 64), "raw_batch64_events/s")
	b.ReportMetric(rawSchemaRate(b, max(b.N, 64*50)), "raw_schema64_events/s")
	b.ReportMetric(float64(s.stats.requests.Load())/float64(max(s.stats.batches.Load(), 1)), "appends/commit")
}
