package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

const scrape = `# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
# TYPE process_cpu_seconds_total counter
process_cpu_seconds_total 12.5
# TYPE go_memstats_sys_bytes gauge
go_memstats_sys_bytes 7.0e+07
# TYPE go_memstats_heap_released_bytes gauge
go_memstats_heap_released_bytes 1.0e+07
# TYPE go_memstats_heap_inuse_bytes gauge
go_memstats_heap_inuse_bytes 3.0e+07
# TYPE go_memstats_alloc_bytes_total counter
go_memstats_alloc_bytes_total 1.5e+09
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0.5"} 0.0001
go_gc_duration_seconds_sum 0.5
go_gc_duration_seconds_count 420
# HELP samspill_http_request_duration_seconds Time to answer HTTP requests.
# TYPE samspill_http_request_duration_seconds histogram
samspill_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.001"} 90
samspill_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="0.005"} 100
samspill_http_request_duration_seconds_bucket{method="GET",route="/healthz",le="+Inf"} 100
samspill_http_request_duration_seconds_sum{method="GET",route="/healthz"} 0.05
samspill_http_request_duration_seconds_count{method="GET",route="/healthz"} 100
`

func TestParseMetrics(t *testing.T) {
	s, err := parseMetrics(strings.NewReader(scrape))
	if err != nil {
		t.Fatal(err)
	}
	if s.allocated != 1.5e9 || s.gcs != 420 {
		t.Errorf("allocated %v, GCs %d; want 1.5e9, 420", s.allocated, s.gcs)
	}
	if s.cpuSeconds != 12.5 || s.goRuntime != 60_000_000 || s.goHeapInUse != 30_000_000 {
		t.Errorf("cpu = %v, Go runtime %d, heap in use %d; want 12.5, 60,000,000, 30,000,000", s.cpuSeconds, s.goRuntime, s.goHeapInUse)
	}
	h, ok := s.durations[healthzRoute]
	if !ok {
		t.Fatalf("no histogram for %v in %v", healthzRoute, s.durations)
	}
	want := histogram{count: 100, sum: 0.05, buckets: []bucket{{0.001, 90}, {0.005, 100}}}
	if h.count != want.count || h.sum != want.sum || len(h.buckets) != 2 || h.buckets[0] != want.buckets[0] || h.buckets[1] != want.buckets[1] {
		t.Errorf("histogram = %+v, want %+v", h, want)
	}
}

func TestHistogramQuantile(t *testing.T) {
	h := histogram{count: 100, buckets: []bucket{{0.001, 50}, {0.005, 90}, {0.01, 98}}}
	for _, c := range []struct {
		q, want float64
		beyond  bool
	}{
		{0.5, 0.001, false},   // the top of the first bucket
		{0.25, 0.0005, false}, // halfway into the first bucket, from 0
		{0.7, 0.003, false},   // halfway into the second
		{0.99, 0.01, true},    // in +Inf: at least the largest finite bound
	} {
		got, beyond, ok := h.quantile(c.q)
		if !ok || beyond != c.beyond || math.Abs(got-c.want) > 1e-12 {
			t.Errorf("quantile(%v) = %v, %v, %v; want %v, %v", c.q, got, beyond, ok, c.want, c.beyond)
		}
	}
	if _, _, ok := (histogram{}).quantile(0.5); ok {
		t.Error("quantile of an empty histogram reported ok")
	}
}

func TestViewOf(t *testing.T) {
	r := route{"GET", "/x"}
	before := metricsSnapshot{cpuSeconds: 10, allocated: 1e9, gcs: 100, durations: map[route]histogram{r: {count: 10, sum: 1, buckets: []bucket{{0.001, 5}, {0.01, 10}}}}}
	after := metricsSnapshot{cpuSeconds: 12, allocated: 1.1e9, gcs: 140, durations: map[route]histogram{r: {count: 1010, sum: 3, buckets: []bucket{{0.001, 905}, {0.01, 1010}}}}}
	v := viewOf(before, after, r, 4*time.Second)
	if v.Requests != 1000 || v.Mean != 2*time.Millisecond || v.CPUPerRequest != 2*time.Millisecond || v.CPUShare != 0.5 || v.AllocPerRequest != 1e5 || v.GCsPerSecond != 10 {
		t.Errorf("viewOf = %+v", v)
	}
	// p99: rank 990 lies in the second bucket (900 < 990 ≤ 1000): 1 ms + 9 ms × 90/100.
	if want := 9100 * time.Microsecond; v.P99 < want-time.Microsecond || v.P99 > want+time.Microsecond {
		t.Errorf("p99 = %v, want %v", v.P99, want)
	}
	if empty := viewOf(before, before, route{"GET", "/none"}, time.Second); empty.Requests != 0 || empty.P99 != 0 {
		t.Errorf("view of an absent route = %+v", empty)
	}
}
