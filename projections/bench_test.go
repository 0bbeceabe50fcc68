package projections_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/internal/synth"
	"github.com/samspill/samspill/projections"
)

// benchEvents is the size of the generated log (SAMSPILL_BENCH_EVENTS,
// default 1,000,000): 50 events per partnership, 2,000 of the partnerships
// in Arendal (4203).
func benchEvents(b *testing.B) int {
	n, err := synth.EventsFromEnv(1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkRebuildAll rebuilds both projections at once, as an online
// rebuild of everything would, over a generated log, and compares the rate
// with a raw sequential scan of the events table measured in the same run
// (the floor no rebuild can beat). Run it with -benchtime=1x.
func BenchmarkRebuildAll(b *testing.B) {
	ctx := context.Background()
	dir := b.TempDir()
	path := filepath.Join(dir, "events.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	n := benchEvents(b)
	genStart := time.Now()
	sum, err := fillBench(ctx, store, n)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d events of %d partnerships in %s", sum.Events, sum.Partnerships, time.Since(genStart).Round(time.Millisecond))

	var scan, rebuild time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		start := time.Now()
		rows := rawScan(b, path)
		scan += time.Since(start)
		if rows != sum.Events {
			b.Fatalf("raw scan read %d rows, want %d", rows, sum.Events)
		}
		b.StartTimer()
		rebuild += rebuildAll(b, store, filepath.Join(dir, "readmodels-"+strconv.Itoa(i)+".db"))
	}
	events := float64(sum.Events * b.N)
	rate := events / rebuild.Seconds()
	raw := events / scan.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(raw, "raw_scan_events/s")
	b.ReportMetric(rate/raw, "x_raw")
}

// fillBench appends the benchmarks' generated log of about n events: 50
// per partnership, up to 2,000 of the partnerships in Arendal (4203).
func fillBench(ctx context.Context, store eventstore.Store, n int) (synth.Summary, error) {
	return synth.Fill(ctx, store, synth.Config{Partnerships: n / 50, Events: 50, Seed: 1, Focus: "4203", FocusPartnerships: min(2000, n/50)})
}

// rebuildAll rebuilds both projections at once from store into a new
// read-model file at path, with one RebuildOffline of both as the CLI
// does (one run: the log read and folded once for both), and returns how
// long that took (the timer runs only then).
func rebuildAll(b *testing.B, store eventstore.Store, path string) time.Duration {
	b.StopTimer()
	ctx := context.Background()
	db, err := projections.OpenSQLite(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	r := projections.New(db, store, definitions())
	stopProfile := startRebuildProfile(b)
	b.StartTimer()
	start := time.Now()
	err = r.RebuildOffline(ctx, r.Names(), time.Second, nil)
	took := time.Since(start)
	b.StopTimer()
	stopProfile()
	if err != nil {
		b.Fatal(err)
	}
	r.Close()
	db.Close()
	b.StartTimer()
	return took
}

// startRebuildProfile writes a CPU profile of the rebuild alone (not of
// generating the log) to the file SAMSPILL_BENCH_CPUPROFILE names, if set;
// the returned function stops it. Use it instead of -cpuprofile.
func startRebuildProfile(b *testing.B) func() {
	path := os.Getenv("SAMSPILL_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// rawScan reads every column of every event in position order through
// database/sql, the way the store's ReadAll does, but without decoding
// anything: the cost of reading the log at all.
func rawScan(b *testing.B, path string) int {
	n, err := synth.RawScan(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// BenchmarkRebuildLayers measures what a rebuild costs before any read
// model is written, layer by layer over the same generated log: reading
// it through the store port (ReadAll), delivering it through the
// store-backed subscriber and a Watermill router to a handler that does
// nothing, one message per event and one message per page (as the
// projections read it), and the same handlers decoding each payload. They
// bound what any Watermill projection can reach on this machine. Run it
// with -benchtime=1x.
func BenchmarkRebuildLayers(b *testing.B) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	n := min(benchEvents(b), 200_000)
	if _, err := synth.Fill(ctx, store, synth.Config{Partnerships: n / 50, Events: 50, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	head, err := store.Head(ctx)
	if err != nil {
		b.Fatal(err)
	}
	layers := []struct {
		metric string
		run    func() error
	}{
		{"readall_events/s", func() error { _, err := readAll(ctx, store, 2000); return err }},
		{"router_noop_events/s", func() error { return routeAll(ctx, store, head, pubsub.DeliverEvents, false) }},
		{"router_decode_events/s", func() error { return routeAll(ctx, store, head, pubsub.DeliverEvents, true) }},
		{"router_pages_noop_events/s", func() error { return routeAll(ctx, store, head, pubsub.DeliverPages, false) }},
		{"router_pages_decode_events/s", func() error { return routeAll(ctx, store, head, pubsub.DeliverPages, true) }},
	}
	elapsed := make([]time.Duration, len(layers))
	b.ResetTimer()
	for range b.N {
		for i, l := range layers {
			start := time.Now()
			if err := l.run(); err != nil {
				b.Fatal(err)
			}
			elapsed[i] += time.Since(start)
		}
	}
	for i, l := range layers {
		b.ReportMetric(float64(head)*float64(b.N)/elapsed[i].Seconds(), l.metric)
	}
}

// readAll reads the whole log through the store port in pages of
// pageSize and returns how many events it read.
func readAll(ctx context.Context, store eventstore.Store, pageSize int) (int, error) {
	n := 0
	for after := uint64(0); ; {
		page, err := store.ReadAll(ctx, after, pageSize)
		if err != nil {
			return n, err
		}
		if len(page) == 0 {
			return n, nil
		}
		n += len(page)
		after = page[len(page)-1].Position
	}
}

// routeAll delivers the whole log through the subscriber (in the given
// delivery mode) and a router to a handler that only (optionally) decodes
// each event, and returns once the event at head was handled.
func routeAll(ctx context.Context, store eventstore.Store, head uint64, delivery pubsub.Delivery, decode bool) error {
	sub, err := pubsub.NewSubscriber(store, pubsub.SubscriberConfig{PageSize: 2000, Delivery: delivery})
	if err != nil {
		return err
	}
	router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	router.AddConsumerHandler("layers", history.Topic, sub, func(msg *message.Message) error {
		events, err := pubsub.PageFrom(msg)
		if err != nil {
			done <- err
			return nil
		}
		for _, e := range events {
			if decode {
				_, err = partnership.Decode(e.Type, e.SchemaVersion, e.Data)
			}
			if err != nil || e.Position == head {
				done <- err
				return nil
			}
		}
		return nil
	})
	go func() { _ = router.Run(ctx) }()
	err = <-done
	return errors.Join(err, router.Close(), sub.Close())
}
