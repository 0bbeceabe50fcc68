package projections_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/internal/synth"
)

// growthSizes are the log sizes BenchmarkGrowth measures, each a
// sub-benchmark named events=<label>.
var growthSizes = []struct {
	label  string
	events int
}{
	{"10k", 10_000},
	{"100k", 100_000},
	{"1M", 1_000_000},
}

// growthMax is the largest size BenchmarkGrowth runs: SAMSPILL_GROWTH_MAX
// (events, e.g. 100000 for a quick run), default every size.
func growthMax(b *testing.B) int {
	v := os.Getenv("SAMSPILL_GROWTH_MAX")
	if v == "" {
		return growthSizes[len(growthSizes)-1].events
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("SAMSPILL_GROWTH_MAX=%q: want a number of events", v)
	}
	return n
}

// growthCosts are one size's costs per event, in nanoseconds.
type growthCosts struct {
	appendNs, readAllNs, rebuildNs, rawScanNs float64
}

// growthBase holds the 10k size's costs of this process, the reference of
// the larger sizes' ratios.
var growthBase struct {
	sync.Mutex
	costs *growthCosts
}

// BenchmarkGrowth measures how the cost of an event grows with the log, at
// 10,000, 100,000 and 1,000,000 events of internal/synth's generated log
// (as BenchmarkRebuildAll's: 50 events per partnership). For each size, in
// a fresh SQLite store: appending the log (synth.Fill: 16 writers, ten
// events of one partnership per append), reading it whole through the
// store port (ReadAll, pages of 2,000), rebuilding both projections at
// once into a new read-model file, and the raw scan of the events table,
// the baseline of the same run. It reports each as events/s and ns/event,
// and, for the larger sizes, each cost per event as a multiple of the 10k
// size's (run events=10k in the same process for those; 1.0 is flat).
//
// Select sizes with -bench 'Growth/events=100k'; SAMSPILL_GROWTH_MAX caps
// the largest. Run it with -benchtime=1x.
func BenchmarkGrowth(b *testing.B) {
	maxEvents := growthMax(b)
	if maxEvents < growthSizes[0].events {
		b.Skipf("SAMSPILL_GROWTH_MAX=%d is below the smallest size, %d events", maxEvents, growthSizes[0].events)
	}
	for _, size := range growthSizes {
		if size.events > maxEvents {
			break
		}
		b.Run("events="+size.label, func(b *testing.B) {
			costs := growthRun(b, size.events)
			growthBase.Lock()
			defer growthBase.Unlock()
			if size.events == growthSizes[0].events {
				growthBase.costs = &costs
				return
			}
			base := growthBase.costs
			if base == nil {
				b.Logf("no %s figure in this run: ratios left out", growthSizes[0].label)
				return
			}
			b.ReportMetric(costs.appendNs/base.appendNs, "append_x10k")
			b.ReportMetric(costs.readAllNs/base.readAllNs, "readall_x10k")
			b.ReportMetric(costs.rebuildNs/base.rebuildNs, "rebuild_x10k")
			b.ReportMetric(costs.rawScanNs/base.rawScanNs, "raw_scan_x10k")
		})
	}
}

// growthRun measures one size b.N times and reports the metrics.
func growthRun(b *testing.B, n int) growthCosts {
	ctx := context.Background()
	var fill, read, rebuild, scan time.Duration
	events := 0
	b.ResetTimer()
	for i := range b.N {
		dir := b.TempDir()
		path := filepath.Join(dir, "events.db")
		store, err := sqlite.Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		sum, err := fillBench(ctx, store, n)
		if err != nil {
			b.Fatal(err)
		}
		fill += time.Since(start)
		events += sum.Events

		start = time.Now()
		rows, err := synth.RawScan(ctx, path)
		if err != nil || rows != sum.Events {
			b.Fatalf("raw scan read %d rows, want %d: %v", rows, sum.Events, err)
		}
		scan += time.Since(start)

		start = time.Now()
		got, err := readAll(ctx, store, 2000)
		if err != nil || got != sum.Events {
			b.Fatalf("ReadAll read %d events, want %d: %v", got, sum.Events, err)
		}
		read += time.Since(start)

		rebuild += rebuildAll(b, store, filepath.Join(dir, fmt.Sprintf("readmodels-%d.db", i)))
		if err := store.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	perEvent := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(events) }
	rate := func(d time.Duration) float64 { return float64(events) / d.Seconds() }
	c := growthCosts{appendNs: perEvent(fill), readAllNs: perEvent(read), rebuildNs: perEvent(rebuild), rawScanNs: perEvent(scan)}
	b.ReportMetric(rate(fill), "append_events/s")
	b.ReportMetric(rate(read), "readall_events/s")
	b.ReportMetric(rate(rebuild), "rebuild_events/s")
	b.ReportMetric(rate(scan), "raw_scan_events/s")
	b.ReportMetric(scan.Seconds()/rebuild.Seconds(), "rebuild_x_raw")
	b.ReportMetric(c.appendNs, "append_ns/event")
	b.ReportMetric(c.readAllNs, "readall_ns/event")
	b.ReportMetric(c.rebuildNs, "rebuild_ns/event")
	b.ReportMetric(c.rawScanNs, "raw_scan_ns/event")
	return c
}
