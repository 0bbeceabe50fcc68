package research_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/internal/synth"
	"github.com/samspill/samspill/research"
)

// childEnv tells the test binary to run one export as benchChild and exit:
// "events|spells:PATH".
const childEnv = "SAMSPILL_EXPORT_CHILD"

// BenchmarkExports writes both exports of a generated log (SAMSPILL_BENCH_EVENTS
// events, default 100,000; make bench uses 1,000,000), each in a child
// process of its own so that its peak RSS is the export's alone, and
// compares each rate with a raw scan of the events table measured in the
// same run. Run it with -benchtime=1x.
func BenchmarkExports(b *testing.B) {
	n, err := synth.EventsFromEnv(100_000)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	path := filepath.Join(b.TempDir(), "events.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	sum, err := synth.Fill(ctx, store, synth.Config{Partnerships: n / 50, Events: 50, Seed: 1})
	store.Close()
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var scan time.Duration
	took := map[string]time.Duration{}
	rss := map[string]int64{}
	for range b.N {
		start := time.Now()
		rows, err := synth.RawScan(ctx, path)
		if err != nil || rows != sum.Events {
			b.Fatalf("raw scan: %d rows, %v", rows, err)
		}
		scan += time.Since(start)
		for _, kind := range []string{research.KindEvents, research.KindSpells} {
			d, maxRSS := runChild(b, kind, path)
			took[kind] += d
			rss[kind] = max(rss[kind], maxRSS)
		}
	}
	events := float64(sum.Events * b.N)
	raw := events / scan.Seconds()
	b.ReportMetric(raw, "raw_scan_events/s")
	for _, kind := range []string{research.KindEvents, research.KindSpells} {
		rate := events / took[kind].Seconds()
		b.ReportMetric(rate, kind+"_events/s")
		b.ReportMetric(rate/raw, kind+"_x_raw")
		b.ReportMetric(float64(rss[kind])/(1<<20), kind+"_peak_rss_MiB")
	}
}

// runChild runs one export in a child process and returns how long the
// export itself took and the child's peak RSS, both as the child measured
// them. (The rusage of wait4 will not do: Go starts children with
// CLONE_VM, and Linux counts the parent's resident set into the child's
// ru_maxrss at exec.)
func runChild(b *testing.B, kind, path string) (time.Duration, int64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+kind+":"+path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("child %s: %v\n%s", kind, err, out)
	}
	var nanos, peakKB int64
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(line, "took "); ok {
			nanos, _ = strconv.ParseInt(v, 10, 64)
		}
		if v, ok := strings.CutPrefix(line, "peak_rss_kb "); ok {
			peakKB, _ = strconv.ParseInt(v, 10, 64)
		}
	}
	if nanos == 0 {
		b.Fatalf("child %s said nothing of its time:\n%s", kind, out)
	}
	return time.Duration(nanos), peakKB * 1024
}

// TestBenchChild is BenchmarkExports' child: it does nothing unless the
// benchmark started it.
func TestBenchChild(t *testing.T) {
	spec, ok := os.LookupEnv(childEnv)
	if !ok {
		t.Skip("runs only as BenchmarkExports' child process")
	}
	kind, path, _ := strings.Cut(spec, ":")
	ctx := context.Background()
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	start := time.Now()
	position, err := research.Position(ctx, store, 0)
	if err == nil {
		if kind == research.KindEvents {
			_, err = research.WriteEvents(ctx, store, io.Discard, research.EventsOptions{Position: position, Secret: secret})
		} else {
			_, err = writeSpells(ctx, store, io.Discard, position, "2026-11-26")
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("took %d\npeak_rss_kb %d\n", time.Since(start).Nanoseconds(), peakRSSKB())
}

// peakRSSKB is the process's peak resident set (VmHWM) in KiB, 0 where
// /proc does not tell.
func peakRSSKB() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}

// BenchmarkSpells writes spells.csv of a generated log (SAMSPILL_BENCH_EVENTS
// events, default 100,000) in this process, one export per iteration, and
// reports the rate in events read per second and the rows written: the
// number to compare before and after a change to the spells rules.
func BenchmarkSpells(b *testing.B) {
	n, err := synth.EventsFromEnv(100_000)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "events.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	sum, err := synth.Fill(ctx, store, synth.Config{Partnerships: n / 50, Events: 50, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	position, err := research.Position(ctx, store, 0)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	rows := 0
	for range b.N {
		s, err := writeSpells(ctx, store, io.Discard, position, "2026-11-26")
		if err != nil {
			b.Fatal(err)
		}
		rows = s.Rows
	}
	b.ReportMetric(float64(sum.Events*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(rows), "rows")
}
