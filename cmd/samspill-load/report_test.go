package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestFormatLatency(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                        "0",
		250 * time.Microsecond:   "0.25 ms",
		3456 * time.Microsecond:  "3.46 ms",
		19600 * time.Microsecond: "19.6 ms",
		244 * time.Millisecond:   "244 ms",
		12340 * time.Millisecond: "12.3 s",
	} {
		if got := formatLatency(d); got != want {
			t.Errorf("formatLatency(%v) = %q, want %q", d, got, want)
		}
	}
	if got := formatCPU(410 * time.Microsecond); got != "410 µs" {
		t.Errorf("formatCPU = %q", got)
	}
	if got := formatBytes(112 << 10); got != "112 KiB" {
		t.Errorf("formatBytes = %q", got)
	}
	if got := formatBytes(3.5 * (1 << 20)); got != "3.5 MiB" {
		t.Errorf("formatBytes = %q", got)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -20000: "-20,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestTargetMet(t *testing.T) {
	tg := target{p99: 20 * time.Millisecond, noErrors: true}
	if got := tg.String(); got != "p99 < 20 ms, no errors" {
		t.Errorf("String = %q", got)
	}
	if m := tg.met(19*time.Millisecond, 0); m == nil || !*m {
		t.Error("19 ms without errors should meet p99 < 20 ms")
	}
	if m := tg.met(19*time.Millisecond, 1); m == nil || *m {
		t.Error("an error should miss a no-errors target")
	}
	if m := tg.met(20*time.Millisecond, 0); m == nil || *m {
		t.Error("20 ms should miss p99 < 20 ms")
	}
	if m := (target{}).met(time.Hour, 9); m != nil {
		t.Error("no target should judge nothing")
	}
}

func TestReportMarkdown(t *testing.T) {
	yes := true
	rep := report{
		CPUs: 2, Dataset: dataset{Events: 1_000_000, Partnerships: 50_000, Focus: 2_000}, RSSTarget: rssTarget, ReadModels: "postgres",
		MemoryCaughtUp: memory{HWM: 150 << 20},
		MemoryEnd:      memory{HWM: 250 << 20, RSS: 120 << 20, RSSAnon: 110 << 20, RSSFile: 10 << 20, GoRuntime: 60 << 20},
		Rows: []row{{
			Scenario: "`GET /x`", Rate: 2000, Duration: 10 * time.Second, Requests: 20_000,
			P50: time.Millisecond, P90: 2 * time.Millisecond, P99: 4 * time.Millisecond, Max: 9 * time.Millisecond,
			Target: "p99 < 5 ms, no errors", Met: &yes,
			Baseline: &baselineRow{P99: 2 * time.Millisecond}, Ratio: 2,
		}},
	}
	var b bytes.Buffer
	if err := rep.writeMarkdown(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| `GET /x` | 2000/s | 10s | 20,000 | 0 | 1.00 ms | 2.00 ms | 4.00 ms | 9.00 ms | p99 < 5 ms, no errors | yes | 2.00 ms | 2.0× |",
		"serve peak RSS (VmHWM) with the projections caught up: 150.0 MiB; target < 200.0 MiB at 1,000,000 events: yes. After the scenarios: 250.0 MiB.",
		"the rest, 50.0 MiB, lies outside the Go heap",
		"read models in PostgreSQL, projections caught up in",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	var j bytes.Buffer
	if err := rep.writeJSON(&j); err != nil {
		t.Fatal(err)
	}
	var back report
	if err := json.Unmarshal(j.Bytes(), &back); err != nil || len(back.Rows) != 1 || back.Rows[0].P99 != 4*time.Millisecond {
		t.Errorf("JSON round trip: %v, %+v", err, back.Rows)
	}
}
