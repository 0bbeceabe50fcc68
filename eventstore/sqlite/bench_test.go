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
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

// Each benchmark reports samspill's rate (events/s) and, measured in the
// same run on its own temporary file with the same pragmas, the rate of raw
// SQLite one-row-insert-and-commit transactions (raw_events/s), and the
// ratio (x_raw). The disk's speed drifts (the machine is shared), so the raw
// baseline is measured interleaved with samspill's work, not once before or
// after it.
//
//	go test -run='^$' -bench=. -benchtime=20000x -count=5 ./eventstore/sqlite/

var benchIDs = flag.String("bench.eventids", "v7", "event ids of the benchmarks: v7 (time-ordered, as a server makes them) or v4 (random)")

// newEventID returns an event id of the kind -bench.eventids asks for.
func newEventID() string {
	if *benchIDs == "v4" {
		return uuid.NewString()
	}
	return uuid.Must(uuid.NewV7()).String()
}

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

// rawTable is the baseline: a fresh file with the writer's pragmas and a
// plain table of a position, a stream id and the payload.
type rawTable struct {
	db  *sql.DB
	ins *sql.Stmt
}

func openRawTable(b *testing.B) *rawTable {
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
	ins, err := db.Prepare(`INSERT INTO raw (stream_id, data) VALUES (?, ?)`)
	if err != nil {
		b.Fatalf("prepare: %v", err)
	}
	b.Cleanup(func() { _ = ins.Close() })
	return &rawTable{db: db, ins: ins}
}

// insert writes n rows, perCommit per transaction, and returns the time it
// took.
func (r *rawTable) insert(b *testing.B, n, perCommit int) time.Duration {
	b.Helper()
	data := string(payload)
	start := time.Now()
	for done := 0; done < n; {
		tx, err := r.db.Begin()
		if err != nil {
			b.Fatalf("begin: %v", err)
		}
		st := tx.Stmt(r.ins)
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
	return time.Since(start)
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
	data, meta, at := string(payload), `{"actor":{"subject":"bench","role":"coordinator"},"correlation_id":"c"}`, sqlrow.FormatTime(time.Now())
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

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

// BenchmarkAppendSingleWriter: one writer, one event per append, against
// raw one-insert-per-commit. The two alternate in chunks of 250.
func BenchmarkAppendSingleWriter(b *testing.B) {
	const chunk = 250
	s := openBench(b)
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

// BenchmarkAppendConcurrent64: 64 writers on distinct streams, one event per
// append. x_raw compares with raw one-insert-per-commit (the fsync-bound
// rate), measured just before and just after. Two more baselines:
// raw_batch64_events/s is raw SQLite with 64 inserts per commit into a plain
// table, raw_schema64_events/s the same into samspill's schema across 64
// streams (the practical ceiling for this workload).
func BenchmarkAppendConcurrent64(b *testing.B) {
	const writers = 64
	s := openBench(b)
	raw := openRawTable(b)
	events := benchEvents(b.N)
	ctx := context.Background()
	rawN := min(max(b.N/8, 250), 5000)

	b.StopTimer()
	baseline := raw.insert(b, rawN, 1)
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
	baseline += raw.insert(b, rawN, 1)

	b.ReportMetric(rate(b.N, ours), "events/s")
	b.ReportMetric(rate(2*rawN, baseline), "raw_events/s")
	b.ReportMetric(rate(b.N, ours)/rate(2*rawN, baseline), "x_raw")
	n64 := max(b.N, 64*50)
	b.ReportMetric(rate(n64, raw.insert(b, n64, 64)), "raw_batch64_events/s")
	b.ReportMetric(rawSchemaRate(b, n64), "raw_schema64_events/s")
	b.ReportMetric(float64(s.stats.Requests.Load())/float64(max(s.stats.Batches.Load(), 1)), "appends/commit")
}

// fillReads appends streams × perStream events (perStream events per
// append, one append per stream) and returns the stream ids.
func fillReads(b *testing.B, s *Store, streams, perStream int) []string {
	b.Helper()
	ctx := context.Background()
	ids := make([]string, streams)
	for i := range ids {
		ids[i] = "partnership-" + uuid.NewString()
		req := eventstore.AppendRequest{StreamID: ids[i], Expected: eventstore.NoStream(), Events: benchEvents(perStream)}
		if _, err := s.Append(ctx, req); err != nil {
			b.Fatalf("fill: %v", err)
		}
	}
	return ids
}

// rawScan reads every row of the events table in position order into Go
// values, decoding nothing: the baseline of the read benchmarks.
func rawScan(b *testing.B, db *sql.DB, query string, args ...any) int {
	b.Helper()
	rows, err := db.Query(query, args...)
	if err != nil {
		b.Fatalf("raw scan: %v", err)
	}
	defer rows.Close()
	var (
		n                                                      int
		position, version, schema                              int64
		eventID, streamID, typ, occurred, recorded, meta, data string
	)
	for rows.Next() {
		if err := rows.Scan(&position, &eventID, &streamID, &version, &typ, &schema, &occurred, &recorded, &meta, &data); err != nil {
			b.Fatalf("raw scan: %v", err)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		b.Fatalf("raw scan: %v", err)
	}
	return n
}

// BenchmarkReadAll reads pages of 2,000 events through ReadAll, one page
// per iteration, in order through a log of 200,000 events (2,000 streams
// of 100) and round again, against the raw query of the same page
// (position > after, LIMIT 2,000) in the same iteration (raw_events/s).
//
//	go test -run '^$' -bench ReadAll -benchtime 200x ./eventstore/sqlite/
func BenchmarkReadAll(b *testing.B) {
	const page = 2000
	s := openBench(b)
	fillReads(b, s, 2000, 100)
	ctx := context.Background()
	var ours, baseline time.Duration
	var n, rawN int
	var after uint64
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		events, err := s.ReadAll(ctx, after, page)
		if err != nil {
			b.Fatal(err)
		}
		ours += time.Since(start)
		b.StopTimer()
		n += len(events)
		start = time.Now()
		rawN += rawScan(b, s.r, `SELECT `+sqlrow.EventColumns+` FROM events WHERE position > ? ORDER BY position LIMIT ?`, int64(after), page)
		baseline += time.Since(start)
		if len(events) < page {
			after = 0 // round again
		} else {
			after = events[len(events)-1].Position
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(rate(n, ours), "events/s")
	b.ReportMetric(rate(rawN, baseline), "raw_events/s")
	b.ReportMetric(rate(n, ours)/rate(rawN, baseline), "x_raw")
}

// BenchmarkReadStream loads a stream of 100 events (ReadStream) per
// iteration, against the raw query of another stream's rows in the same
// iteration (not the same one, whose pages the first read has just
// cached).
func BenchmarkReadStream(b *testing.B) {
	s := openBench(b)
	ids := fillReads(b, s, 200, 100)
	ctx := context.Background()
	var ours, baseline time.Duration
	var n, rawN int
	b.ResetTimer()
	for i := range b.N {
		id := ids[i%len(ids)]
		start := time.Now()
		events, err := s.ReadStream(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		n += len(events)
		ours += time.Since(start)
		b.StopTimer()
		start = time.Now()
		rawN += rawScan(b, s.r, `SELECT `+sqlrow.EventColumns+` FROM events WHERE stream_id = ? ORDER BY version`, ids[(i+len(ids)/2)%len(ids)])
		baseline += time.Since(start)
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(rate(n, ours), "events/s")
	b.ReportMetric(rate(rawN, baseline), "raw_events/s")
	b.ReportMetric(rate(n, ours)/rate(rawN, baseline), "x_raw")
}
