package http

import (
	"maps"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// sample is one line of the Prometheus text format.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

var (
	sampleLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$`)
	labelPair  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)
)

// parseMetrics parses a /metrics body in the text exposition format.
func parseMetrics(t *testing.T, body []byte) []sample {
	t.Helper()
	var out []sample
	for line := range strings.Lines(string(body)) {
		line = strings.TrimRight(line, "\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := sampleLine.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("not a sample line: %q", line)
		}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			t.Fatalf("sample %q: %v", line, err)
		}
		labels := map[string]string{}
		for _, p := range labelPair.FindAllStringSubmatch(m[2], -1) {
			labels[p[1]] = p[2]
		}
		out = append(out, sample{name: m[1], labels: labels, value: v})
	}
	return out
}

// find returns the value of the sample with this name and these labels
// (exactly), and whether there is one.
func find(samples []sample, name string, labels map[string]string) (float64, bool) {
	for _, s := range samples {
		if s.name == name && maps.Equal(s.labels, labels) {
			return s.value, true
		}
	}
	return 0, false
}

// scrape GETs /metrics and parses it.
func (a *testAPI) scrape() []sample {
	a.t.Helper()
	r := a.do("GET", "/metrics", nil)
	wantStatus(a.t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		a.t.Errorf("Content-Type = %q, want the text format", ct)
	}
	return parseMetrics(a.t, r.Body)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	a.state(p, "")
	a.state(p, "?as_of=2024-03-01")
	a.history(p, "")
	appendTestEvents(t, a.store, 3)
	wantStatus(t, a.do("GET", "/api/v1/partnerships/"+strings.Repeat("9", 8), nil), http.StatusNotFound)
	wantStatus(t, a.do("GET", "/api/v1/no/such/"+p.ID, nil), http.StatusNotFound)
	wantStatus(t, a.do("BREW", "/healthz", nil), http.StatusMethodNotAllowed)
	wantStatus(t, a.do("GET", "/api/v1/events?limit=0", nil), http.StatusBadRequest)

	r := a.do("GET", "/metrics", nil)
	wantStatus(t, r, http.StatusOK)
	if strings.Contains(string(r.Body), p.ID) {
		t.Errorf("/metrics holds the raw partnership id %s: routes must be templates", p.ID)
	}
	samples := parseMetrics(t, r.Body)
	for _, c := range []struct {
		method, route, status string
		want                  float64
	}{
		{"POST", "/api/v1/partnerships", "201", 1},
		{"GET", "/api/v1/partnerships/:id", "200", 2},
		{"GET", "/api/v1/partnerships/:id", "404", 1},
		{"GET", "/api/v1/partnerships/:id/history", "200", 1},
		{"GET", unmatchedRoute, "404", 1},
		{"other", unmatchedRoute, "405", 1},
		{"GET", "/api/v1/events", "400", 1},
	} {
		labels := map[string]string{"method": c.method, "route": c.route, "status": c.status}
		if got, ok := find(samples, "samspill_http_requests_total", labels); !ok || got != c.want {
			t.Errorf("samspill_http_requests_total%v = %v (found %v), want %v", labels, got, ok, c.want)
		}
	}
	route := map[string]string{"method": "GET", "route": "/api/v1/partnerships/:id"}
	if n, ok := find(samples, "samspill_http_request_duration_seconds_count", route); !ok || n != 3 {
		t.Errorf("samspill_http_request_duration_seconds_count%v = %v (found %v), want 3", route, n, ok)
	}
	for _, le := range []string{"0.0005", "5", "+Inf"} {
		if _, ok := find(samples, "samspill_http_request_duration_seconds_bucket", map[string]string{"method": "GET", "route": "/api/v1/partnerships/:id", "le": le}); !ok {
			t.Errorf("no duration bucket le=%s", le)
		}
	}
	if head, ok := find(samples, "samspill_eventstore_head_position", map[string]string{}); !ok || head != float64(a.head()) || head != 4 {
		t.Errorf("samspill_eventstore_head_position = %v (found %v), want the store head %d", head, ok, a.head())
	}
	if n, ok := find(samples, "go_goroutines", map[string]string{}); !ok || n < 1 {
		t.Errorf("go_goroutines = %v (found %v), want the Go collector", n, ok)
	}
	if runtime.GOOS == "linux" {
		if _, ok := find(samples, "process_start_time_seconds", map[string]string{}); !ok {
			t.Errorf("no process_start_time_seconds: the process collector is missing")
		}
	}

	// The gauge follows the store, and keeps its last value once the
	// store no longer answers.
	appendTestEvents(t, a.store, 2)
	if head, _ := find(a.scrape(), "samspill_eventstore_head_position", map[string]string{}); head != 6 {
		t.Errorf("head gauge after two more events = %v, want 6", head)
	}
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	if head, ok := find(a.scrape(), "samspill_eventstore_head_position", map[string]string{}); !ok || head != 6 {
		t.Errorf("head gauge with the store closed = %v (found %v), want the last value 6", head, ok)
	}
}

// TestMetricsRegistry: the handler registers on Config.Registry (never on
// the global default), and a second handler on the same registry shares
// the collectors instead of failing.
func TestMetricsRegistry(t *testing.T) {
	t.Parallel()
	reg := prometheus.NewRegistry()
	a := startTestAPI(t, func(c *Config) { c.Registry = reg }, nil)
	b := startTestAPI(t, func(c *Config) { c.Registry = reg }, nil)
	wantStatus(t, a.do("GET", "/healthz", nil), http.StatusOK)
	wantStatus(t, b.do("GET", "/healthz", nil), http.StatusOK)

	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var names []string
	for _, f := range families {
		names = append(names, f.GetName())
		if f.GetName() != "samspill_http_requests_total" {
			continue
		}
		for _, m := range f.GetMetric() {
			if m.GetCounter().GetValue() != 2 {
				t.Errorf("requests counter %v = %v, want 2 (both servers)", m.GetLabel(), m.GetCounter().GetValue())
			}
		}
	}
	for _, want := range []string{"samspill_http_requests_total", "samspill_http_request_duration_seconds", "samspill_eventstore_head_position", "go_goroutines"} {
		if !slices.Contains(names, want) {
			t.Errorf("Config.Registry lacks %s; it has %v", want, names)
		}
	}
	if _, ok := find(a.scrape(), "samspill_http_requests_total", map[string]string{"method": "GET", "route": "/healthz", "status": "200"}); !ok {
		t.Errorf("/metrics does not serve Config.Registry")
	}

	global, err := prometheus.DefaultGatherer.Gather()
	if err != nil {
		t.Fatalf("gather the default registry: %v", err)
	}
	for _, f := range global {
		if strings.HasPrefix(f.GetName(), "samspill_") {
			t.Errorf("the global default registry holds %s", f.GetName())
		}
	}
}
