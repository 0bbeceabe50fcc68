package projections

import (
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/internal/synth"
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
	sum, err := synth.Fill(ctx, store, synth.Config{Partnerships: n / 50, Events: 50, Seed: 1, Focus: "4203", FocusPartnerships: min(2000, n/50)})
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
		db, err := OpenSQLite(ctx, filepath.Join(dir, "readmodels-"+strconv.Itoa(i)+".db"))
		if err != nil {
			b.Fatal(err)
		}
		r := New(db, store)
		b.StartTimer()

		start = time.Now()
		var wg sync.WaitGroup
		errs := make([]error, len(r.Names()))
		for j, name := range r.Names() {
			wg.Go(func() { errs[j] = r.RebuildOffline(ctx, name, time.Second, nil) })
		}
		wg.Wait()
		rebuild += time.Since(start)

		b.StopTimer()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
		r.Close()
		db.Close()
		b.StartTimer()
	}
	events := float64(sum.Events * b.N)
	rate := events / rebuild.Seconds()
	raw := events / scan.Seconds()
	b.ReportMetric(rate, "events/s")
	b.ReportMetric(raw, "raw_scan_events/s")
	b.ReportMetric(rate/raw, "x_raw")
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
// nothing, and the same handler decoding each payload. They bound what any
// Watermill projection can reach on this machine. Run it with
// -benchtime=1x.
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
		{"readall_events/s", func() error {
			for after := uint64(0); after < head; {
				page, err := store.ReadAll(ctx, after, 2000)
				if err != nil {
					return err
				}
				after = page[len(page)-1].Position
			}
			return nil
		}},
		{"router_noop_events/s", func() error { return routeAll(ctx, store, head, false) }},
		{"router_decode_events/s", func() error { return routeAll(ctx, store, head, true) }},
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

// routeAll delivers the whole log through the subscriber and a router to a
// handler that only (optionally) decodes each event, and returns once the
// event at head was handled.
func routeAll(ctx context.Context, store eventstore.Store, head uint64, decode bool) error {
	sub, err := pubsub.NewSubscriber(store, pubsub.SubscriberConfig{PageSize: 2000})
	if err != nil {
		return err
	}
	router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	router.AddConsumerHandler("layers", Topic, sub, func(msg *message.Message) error {
		e, err := pubsub.EventFrom(msg)
		if err == nil && decode {
			_, err = partnership.Decode(e.Type, e.SchemaVersion, e.Data)
		}
		if err != nil || e.Position == head {
			done <- err
		}
		return nil
	})
	go func() { _ = router.Run(ctx) }()
	err = <-done
	return errors.Join(err, router.Close(), sub.Close())
}
