package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// The server's own metrics the harness reads around each scenario: the
// request duration histogram per route (time inside the handler chain,
// without the network and the client) and the process's CPU time.
const (
	durationMetric = "samspill_http_request_duration_seconds"
	cpuMetric      = "process_cpu_seconds_total"
	goSysMetric    = "go_memstats_sys_bytes"
	goFreedMetric  = "go_memstats_heap_released_bytes"
	goInUseMetric  = "go_memstats_heap_inuse_bytes"
	allocMetric    = "go_memstats_alloc_bytes_total"
	gcMetric       = "go_gc_duration_seconds"
)

// route names a histogram series: method and Gin route template.
type route struct{ method, path string }

// histogram is one cumulative Prometheus histogram series.
type histogram struct {
	count   uint64
	sum     float64
	buckets []bucket // by upper bound, cumulative, without +Inf
}

type bucket struct {
	le    float64
	count uint64
}

// metricsSnapshot is what one scrape of /metrics holds of interest.
type metricsSnapshot struct {
	cpuSeconds float64
	durations  map[route]histogram
	// goRuntime is what the Go runtime holds from the OS, less what it
	// has released; goHeapInUse its heap's in-use spans.
	goRuntime, goHeapInUse int64
	// allocated is every byte the Go heap has allocated so far; gcs the
	// garbage collections so far.
	allocated float64
	gcs       uint64
}

// scrapeMetrics reads /metrics from the server.
func scrapeMetrics(ctx context.Context, api *apiClient) (metricsSnapshot, error) {
	body, err := api.get(ctx, "/metrics")
	if err != nil {
		return metricsSnapshot{}, err
	}
	return parseMetrics(bytes.NewReader(body))
}

// parseMetrics reads the Prometheus text format.
func parseMetrics(r io.Reader) (metricsSnapshot, error) {
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(r)
	if err != nil {
		return metricsSnapshot{}, fmt.Errorf("parse /metrics: %w", err)
	}
	s := metricsSnapshot{durations: map[route]histogram{}}
	value := func(name string) float64 {
		f := families[name]
		if f == nil || len(f.GetMetric()) == 0 {
			return 0
		}
		m := f.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	s.cpuSeconds = value(cpuMetric)
	s.goRuntime = int64(value(goSysMetric) - value(goFreedMetric))
	s.goHeapInUse = int64(value(goInUseMetric))
	s.allocated = value(allocMetric)
	if f := families[gcMetric]; f != nil && len(f.GetMetric()) > 0 {
		s.gcs = f.GetMetric()[0].GetSummary().GetSampleCount()
	}
	if f := families[durationMetric]; f != nil {
		for _, m := range f.GetMetric() {
			s.durations[routeOf(m)] = histogramOf(m.GetHistogram())
		}
	}
	return s, nil
}

func routeOf(m *dto.Metric) route {
	var r route
	for _, l := range m.GetLabel() {
		switch l.GetName() {
		case "method":
			r.method = l.GetValue()
		case "route":
			r.path = l.GetValue()
		}
	}
	return r
}

func histogramOf(h *dto.Histogram) histogram {
	out := histogram{count: h.GetSampleCount(), sum: h.GetSampleSum()}
	for _, b := range h.GetBucket() {
		if math.IsInf(b.GetUpperBound(), +1) {
			continue
		}
		out.buckets = append(out.buckets, bucket{le: b.GetUpperBound(), count: b.GetCumulativeCount()})
	}
	sort.Slice(out.buckets, func(i, j int) bool { return out.buckets[i].le < out.buckets[j].le })
	return out
}

// since is h minus an earlier scrape of the same series (zero if absent).
func (h histogram) since(earlier histogram) histogram {
	out := histogram{count: h.count - earlier.count, sum: h.sum - earlier.sum}
	for i, b := range h.buckets {
		var before uint64
		if i < len(earlier.buckets) && earlier.buckets[i].le == b.le {
			before = earlier.buckets[i].count
		}
		out.buckets = append(out.buckets, bucket{le: b.le, count: b.count - before})
	}
	return out
}

// quantile estimates the q-quantile as Prometheus's histogram_quantile
// does: linear interpolation within the bucket that holds it. In the +Inf
// bucket it is the largest finite bound and beyond is true: the value is
// at least that. ok is false without observations.
func (h histogram) quantile(q float64) (v float64, beyond, ok bool) {
	if h.count == 0 {
		return 0, false, false
	}
	rank := q * float64(h.count)
	lower, below := 0.0, uint64(0)
	for _, b := range h.buckets {
		if float64(b.count) >= rank {
			inBucket := b.count - below
			if inBucket == 0 {
				return b.le, false, true
			}
			return lower + (b.le-lower)*(rank-float64(below))/float64(inBucket), false, true
		}
		lower, below = b.le, b.count
	}
	return lower, true, true
}

// serverView is one scenario as the server measured it.
type serverView struct {
	// Requests the histogram counted on the scenario's route.
	Requests uint64 `json:"requests"`
	// Mean and P99 of the time inside the server's handler chain; P99 is
	// interpolated within the histogram's buckets.
	Mean time.Duration `json:"mean_ns"`
	P99  time.Duration `json:"p99_ns"`
	// P99Beyond: the p99 lies beyond the largest bucket, P99.
	P99Beyond bool `json:"p99_beyond,omitempty"`
	// CPUPerRequest is the serve process's CPU time (all of it: handlers,
	// projections, the store, GC) during the scenario over the requests.
	CPUPerRequest time.Duration `json:"cpu_per_request_ns"`
	// CPUShare is the serve process's CPU time over the wall time: 2.0
	// means both cores of this machine.
	CPUShare float64 `json:"cpu_share"`
	// AllocPerRequest is what the Go heap allocated during the scenario
	// over the requests; GCsPerSecond how often it collected.
	AllocPerRequest float64 `json:"alloc_bytes_per_request"`
	GCsPerSecond    float64 `json:"gcs_per_second"`
}

// viewOf compares two scrapes around a scenario on route r that took wall.
func viewOf(before, after metricsSnapshot, r route, wall time.Duration) serverView {
	h := after.durations[r].since(before.durations[r])
	v := serverView{Requests: h.count}
	cpu := after.cpuSeconds - before.cpuSeconds
	if wall > 0 {
		v.CPUShare = cpu / wall.Seconds()
		v.GCsPerSecond = float64(after.gcs-before.gcs) / wall.Seconds()
	}
	if h.count == 0 {
		return v
	}
	v.AllocPerRequest = (after.allocated - before.allocated) / float64(h.count)
	v.Mean = seconds(h.sum / float64(h.count))
	if p99, beyond, ok := h.quantile(0.99); ok {
		v.P99, v.P99Beyond = seconds(p99), beyond
	}
	v.CPUPerRequest = seconds(cpu / float64(h.count))
	return v
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
