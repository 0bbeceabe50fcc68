package http

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/internal/synth"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// benchServer is a handler over a generated log with 2,000 partnerships in
// Arendal (4203) and 500 elsewhere, its projections caught up.
func benchServer(b *testing.B) (http.Handler, *projections.Runner) {
	b.Helper()
	ctx := context.Background()
	dir := b.TempDir()
	store, err := sqlite.Open(ctx, filepath.Join(dir, "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { store.Close() })
	if _, err := synth.Fill(ctx, store, synth.Config{Partnerships: 2500, Events: 20, Seed: 2, Focus: "4203", FocusPartnerships: 2000}); err != nil {
		b.Fatal(err)
	}
	db, err := projections.OpenSQLite(ctx, filepath.Join(dir, "readmodels.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	runner := projections.New(db, store, projectionstest.Definitions())
	if err := runner.Start(ctx); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { runner.Close() })
	head, err := store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	wait, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	if err := runner.WaitFor(wait, head); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	h, err := NewHandler(Config{Service: app.New(store), Store: store, Projections: runner, Logger: log, Tokens: testTokens().store})
	if err != nil {
		b.Fatal(err)
	}
	return h, runner
}

// latencies runs f b.N times and returns the sorted durations.
func latencies(b *testing.B, f func()) []time.Duration {
	out := make([]time.Duration, b.N)
	for i := range b.N {
		start := time.Now()
		f()
		out[i] = time.Since(start)
	}
	slices.Sort(out)
	return out
}

func quantile(d []time.Duration, q float64) time.Duration {
	return d[min(len(d)-1, int(q*float64(len(d))))]
}

// benchQuery measures GET path through the whole HTTP handler (routing,
// validation, query, JSON) against direct, the same query on the Runner,
// measured in the same run; it reports p50 and p99 in ms and the ratio of
// the p99s.
func benchQuery(b *testing.B, h http.Handler, path string, direct func() error) {
	get := func() {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Header.Set("Authorization", bearer("viewer"))
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET %s: %d %s", path, rec.Code, rec.Body.String())
		}
	}
	get() // warm the caches once
	b.ResetTimer()
	viaHTTP := latencies(b, get)
	b.StopTimer()
	baseline := latencies(b, func() {
		if err := direct(); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(quantile(viaHTTP, 0.50).Microseconds())/1000, "p50_ms")
	b.ReportMetric(float64(quantile(viaHTTP, 0.99).Microseconds())/1000, "p99_ms")
	b.ReportMetric(float64(quantile(baseline, 0.99).Microseconds())/1000, "direct_p99_ms")
	b.ReportMetric(float64(quantile(viaHTTP, 0.99))/float64(quantile(baseline, 0.99)), "x_direct")
}

// BenchmarkListLargeMunicipality: the first page (50) of Arendal's 2,000
// partnerships.
func BenchmarkListLargeMunicipality(b *testing.B) {
	h, r := benchServer(b)
	sums := summaries.NewQueries(r)
	benchQuery(b, h, "/api/v1/partnerships?municipality=4203", func() error {
		_, err := sums.Partnerships(context.Background(), summaries.ListFilter{Municipalities: []string{"4203"}, Limit: 50})
		return err
	})
}

// BenchmarkTimelineLargeMunicipality: Arendal's timeline, all 2,000 lanes
// and the first page (500) of entries. Between two commits of the
// projection the handler answers from the answer the timeline keeps; the
// baseline is the same query read afresh from the tables (a Queries that
// keeps nothing yet, as after every commit), encoded to JSON once.
func BenchmarkTimelineLargeMunicipality(b *testing.B) {
	h, r := benchServer(b)
	benchQuery(b, h, "/api/v1/municipalities/4203/timeline", func() error {
		tl, err := timeline.NewQueries(r).Timeline(context.Background(), "4203", timeline.Filter{Limit: 500})
		if err == nil {
			_, err = json.Marshal(tl)
		}
		return err
	})
}

// discardFlusher is a ResponseWriter that flushes into nothing: what a
// stream's writes cost without a network.
type discardFlusher struct{ h http.Header }

func (d *discardFlusher) Header() http.Header         { return d.h }
func (d *discardFlusher) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardFlusher) WriteHeader(int)             {}
func (d *discardFlusher) Flush()                      {}

// benchEvent is a stored event of usual size, as a stream sends it.
func benchEvent() eventstore.RecordedEvent {
	return eventstore.RecordedEvent{
		EventID: "0b5c1a52-3f7e-4a39-9c39-5a0f1de2c001", Type: "MilestoneLogged", SchemaVersion: 1,
		StreamID: "partnership-5f0c2a2e-1b7e-4f3c-8f5e-2d1c0b9a8e7f", Version: 7, Position: 123456,
		OccurredAt: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC), RecordedAt: time.Date(2026, 3, 4, 10, 0, 1, 0, time.UTC),
		Metadata: eventstore.Metadata{Actor: eventstore.Actor{Subject: "arendal-koordinator", Role: "coordinator"}, CorrelationID: "req-1"},
		Data:     json.RawMessage(`{"kind":"meeting","title":"Oppstartsmøte med frivilligsentralen","note":"Avtalte fordeling av oppgaver for høsten"}`),
	}
}

// BenchmarkStreamEvent is the cost of framing and writing one event of a
// stream (sseWriter.event): encoding the envelope, the id, event and data
// lines, the write and the flush.
func BenchmarkStreamEvent(b *testing.B) {
	gin.SetMode(gin.ReleaseMode)
	c, _ := gin.CreateTestContext(&discardFlusher{h: http.Header{}})
	w, err := startEventStream(c)
	if err != nil {
		b.Fatal(err)
	}
	e := benchEvent()
	b.ReportAllocs()
	for b.Loop() {
		if err := w.event(e); err != nil {
			b.Fatal(err)
		}
	}
}
