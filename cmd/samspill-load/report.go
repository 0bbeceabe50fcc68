package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// row is one scenario's line in the report.
type row struct {
	Scenario string        `json:"scenario"`
	Rate     int           `json:"rate_per_s"`
	Duration time.Duration `json:"duration_ns"`
	// AchievedRate is the rate vegeta sent at.
	AchievedRate float64 `json:"achieved_rate_per_s"`
	Requests     uint64  `json:"requests"`
	Errors       uint64  `json:"errors"`
	// Latencies as the client saw them (for SSE: delivery latency from
	// the write's acknowledgement).
	P50    time.Duration `json:"p50_ns"`
	P90    time.Duration `json:"p90_ns"`
	P99    time.Duration `json:"p99_ns"`
	Max    time.Duration `json:"max_ns"`
	Target string        `json:"target"`
	Met    *bool         `json:"met"`
	// Baseline is GET /healthz at the same rate, just before; Ratio is
	// P99 over its p99.
	Baseline *baselineRow `json:"baseline,omitempty"`
	Ratio    float64      `json:"ratio_p99,omitempty"`
	// Server is the scenario as the server's /metrics saw it.
	Server serverView `json:"server"`
	// LoadCPUPerRequest is the harness's own CPU per request.
	LoadCPUPerRequest time.Duration `json:"load_cpu_per_request_ns"`
	LoadAverage       float64       `json:"load_average"`
	ErrorSamples      []string      `json:"error_samples,omitempty"`
	Notes             []string      `json:"notes,omitempty"`
	// SSE only: the deliveries, and the writes' own p99 and errors.
	SSE         *deliveryStats `json:"sse,omitempty"`
	WriteP99    time.Duration  `json:"write_p99_ns,omitempty"`
	WriteErrors uint64         `json:"write_errors,omitempty"`
}

type baselineRow struct {
	Requests uint64        `json:"requests"`
	Errors   uint64        `json:"errors"`
	P50      time.Duration `json:"p50_ns"`
	P99      time.Duration `json:"p99_ns"`
}

// report is everything one run measured.
type report struct {
	Started time.Time `json:"started"`
	CPUs    int       `json:"cpus"`
	Command string    `json:"command"`
	Dataset dataset   `json:"dataset"`
	Serve   string    `json:"serve"`
	// ReadModels says where serve kept its read models: "sqlite" (the data
	// folder) or "postgres".
	ReadModels string        `json:"read_models"`
	CatchUp    time.Duration `json:"catch_up_ns"`
	// Memory of the serve process once the projections had caught up, and
	// at the end of the run.
	MemoryCaughtUp memory `json:"memory_caught_up"`
	MemoryEnd      memory `json:"memory_end"`
	RSSTarget      int64  `json:"rss_target_bytes"`
	Rows           []row  `json:"rows"`
}

// readModelsIn names where cfg has serve keep its read models.
func readModelsIn(cfg config) string {
	if cfg.readModelPostgres != "" {
		return "postgres"
	}
	return "sqlite"
}

// readModelsName describes a report's ReadModels for people.
func readModelsName(where string) string {
	if where == "postgres" {
		return "PostgreSQL"
	}
	return "the data folder (SQLite)"
}

// rssTarget is the peak resident set serve must stay under at 1,000,000
// events.
const (
	rssTarget       = 200 << 20
	rssTargetEvents = 1_000_000
)

// writeJSON writes r as indented JSON.
func (r report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeMarkdown writes the report's tables.
func (r report) writeMarkdown(w io.Writer) error {
	var b strings.Builder
	focus := thousands(int64(r.Dataset.Focus)) + " in Arendal 4203"
	if r.Dataset.From != "" {
		focus = "copied from " + r.Dataset.From
	}
	fmt.Fprintf(&b, "samspill-load, %s, %d CPUs: %s events (%s partnerships, %s), read models in %s, projections caught up in %s\n\n",
		r.Started.Format(time.RFC3339), r.CPUs, thousands(int64(r.Dataset.Events)), thousands(int64(r.Dataset.Partnerships)), focus, readModelsName(r.ReadModels), r.CatchUp.Round(100*time.Millisecond))
	b.WriteString("| scenario | rate | duration | requests | errors | p50 | p90 | p99 | max | target | met? | baseline p99 (`GET /healthz`, same rate) | ratio p99/baseline |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- | ---: | ---: |\n")
	for _, x := range r.Rows {
		base, ratio := "—", "—"
		if x.Baseline != nil {
			base = formatLatency(x.Baseline.P99)
			if x.Baseline.Errors > 0 {
				base += fmt.Sprintf(" (%d errors)", x.Baseline.Errors)
			}
			ratio = fmt.Sprintf("%.1f×", x.Ratio)
		}
		fmt.Fprintf(&b, "| %s | %d/s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			x.Scenario, x.Rate, x.Duration, thousands(int64(x.Requests)), thousands(int64(x.Errors)),
			formatLatency(x.P50), formatLatency(x.P90), formatLatency(x.P99), formatLatency(x.Max),
			x.Target, yesNo(x.Met), base, ratio)
	}
	b.WriteString("\nThe server's view (its /metrics around each scenario; CPU of the whole serve process over the scenario's requests):\n\n")
	b.WriteString("| scenario | sent at | server: requests | server: mean | server: p99 (histogram) | serve CPU per request | serve CPU (cores) | Go heap allocated per request | GCs per second | load tool CPU per request | load average |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, x := range r.Rows {
		fmt.Fprintf(&b, "| %s | %.0f/s | %s | %s | %s | %s | %.2f | %s | %.1f | %s | %.1f |\n",
			x.Scenario, x.AchievedRate, thousands(int64(x.Server.Requests)), formatLatency(x.Server.Mean), x.Server.formatP99(),
			formatCPU(x.Server.CPUPerRequest), x.Server.CPUShare, formatBytes(x.Server.AllocPerRequest), x.Server.GCsPerSecond,
			formatCPU(x.LoadCPUPerRequest), x.LoadAverage)
	}
	for _, x := range r.Rows {
		if s := x.SSE; s != nil {
			fmt.Fprintf(&b, "\nSSE: %d clients × %s acknowledged writes = %s deliveries expected; %s seen, %s missing, %s later than %s, %s before the write's own answer (counted as 0), %s duplicates, %s out of order; writes: p99 %s, %d errors.\n",
				s.Clients, thousands(int64(s.Writes)), thousands(int64(s.Expected)), thousands(int64(s.Delivered)), thousands(int64(s.Missing)),
				thousands(int64(s.Late)), s.Deadline, thousands(int64(s.BeforeAck)), thousands(int64(s.Duplicates)), thousands(int64(s.OutOfOrder)),
				formatLatency(x.WriteP99), x.WriteErrors)
		}
		for _, n := range x.Notes {
			fmt.Fprintf(&b, "\nNote (%s): %s\n", x.Scenario, n)
		}
		for _, e := range x.ErrorSamples {
			fmt.Fprintf(&b, "\nError (%s): %s\n", x.Scenario, e)
		}
	}
	verdict := "not judged below 1,000,000 events"
	if r.Dataset.Events >= rssTargetEvents {
		met := r.MemoryCaughtUp.HWM < r.RSSTarget
		verdict = yesNo(&met)
	}
	fmt.Fprintf(&b, "\nserve peak RSS (VmHWM) with the projections caught up: %s; target < %s at 1,000,000 events: %s. After the scenarios: %s.\n",
		mib(r.MemoryCaughtUp.HWM), mib(r.RSSTarget), verdict, mib(r.MemoryEnd.HWM))
	for _, m := range []struct {
		when string
		m    memory
	}{{"caught up", r.MemoryCaughtUp}, {"at the end", r.MemoryEnd}} {
		fmt.Fprintf(&b, "- %s: VmRSS %s = anonymous %s + files %s; of the anonymous memory the Go runtime holds %s (heap in use %s), the rest, %s, lies outside the Go heap (SQLite's page caches through modernc.org/libc)\n",
			m.when, mib(m.m.RSS), mib(m.m.RSSAnon), mib(m.m.RSSFile), mib(m.m.GoRuntime), mib(m.m.GoHeapInUse), mib(max(0, m.m.RSSAnon-m.m.GoRuntime)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// formatP99 prints the server's p99, "≥" when it lies beyond the
// histogram's largest bucket.
func (v serverView) formatP99() string {
	if v.P99Beyond {
		return "≥ " + formatLatency(v.P99)
	}
	return formatLatency(v.P99)
}

// formatLatency prints a duration in milliseconds with two or three
// significant digits.
func formatLatency(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case d == 0:
		return "0"
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	case ms < 10_000:
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f s", ms/1000)
}

// formatCPU prints a CPU time per request in microseconds.
func formatCPU(d time.Duration) string {
	if d >= time.Millisecond {
		return formatLatency(d)
	}
	return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
}

func yesNo(b *bool) string {
	switch {
	case b == nil:
		return "—"
	case *b:
		return "yes"
	}
	return "**no**"
}

// formatBytes prints a byte count in KiB or MiB.
func formatBytes(n float64) string {
	if n >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", n/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", n/(1<<10))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// thousands writes n with commas between groups of three digits.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
