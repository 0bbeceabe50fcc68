package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// target is what a scenario must reach; the zero value is no target.
type target struct {
	p99      time.Duration
	noErrors bool
}

func (t target) String() string {
	switch {
	case t.p99 == 0:
		return "—"
	case t.noErrors:
		return fmt.Sprintf("p99 < %g ms, no errors", float64(t.p99)/float64(time.Millisecond))
	}
	return fmt.Sprintf("p99 < %g ms", float64(t.p99)/float64(time.Millisecond))
}

// met reports whether a result reached the target; nil without one.
func (t target) met(p99 time.Duration, errors uint64) *bool {
	if t.p99 == 0 {
		return nil
	}
	ok := p99 < t.p99 && (!t.noErrors || errors == 0)
	return &ok
}

// sseDeadline is how soon after a write's acknowledgement every stream
// client must have it.
const sseDeadline = time.Second

// httpScenario is a fixed-rate attack on one route.
type httpScenario struct {
	name   string // as the table shows it
	rate   int
	route  route // the server's histogram series
	target target
	tr     vegeta.Targeter
}

// harness is what the scenarios of one run share.
type harness struct {
	cfg    config
	api    *apiClient
	client *http.Client // the measured requests'
	ids    []string     // partnerships that accept milestones
	run    string       // unique per run, for idempotency keys
	stderr io.Writer
}

var (
	healthzRoute     = route{http.MethodGet, "/healthz"}
	milestoneRoute   = route{http.MethodPost, "/api/v1/partnerships/:id/milestones"}
	partnershipRoute = route{http.MethodGet, "/api/v1/partnerships/:id"}
	timelineRoute    = route{http.MethodGet, "/api/v1/municipalities/:code/timeline"}
)

// scenario runs one named scenario and returns its row.
func (h *harness) scenario(ctx context.Context, name string) (row, error) {
	base, auth := h.api.base, authorized(h.api.token)
	switch name {
	case scenarioMilestones:
		return h.httpRow(ctx, httpScenario{
			name: "`POST /api/v1/partnerships/{id}/milestones`", rate: h.cfg.milestoneRate, route: milestoneRoute,
			target: target{p99: 20 * time.Millisecond, noErrors: true},
			tr:     milestoneWrites(base, h.api.token, h.run+"-m", h.ids),
		})
	case scenarioPartnership:
		return h.httpRow(ctx, httpScenario{
			name: "`GET /api/v1/partnerships/{id}`", rate: h.cfg.readRate, route: partnershipRoute,
			target: target{p99: 5 * time.Millisecond, noErrors: true},
			tr:     partnershipReads(base, auth, h.ids),
		})
	case scenarioTimeline:
		return h.httpRow(ctx, httpScenario{
			name: "`GET /api/v1/municipalities/4203/timeline` (2,000 partnerships)", rate: h.cfg.timelineRate, route: timelineRoute,
			tr: fixedGET(base+"/api/v1/municipalities/"+focusMunicipality+"/timeline", auth),
		})
	case scenarioSSE:
		return h.sseRow(ctx)
	}
	return row{}, fmt.Errorf("unknown scenario %q", name)
}

// httpRow measures GET /healthz at the scenario's rate (the baseline),
// then the scenario itself, each after a warm-up, scraping the server's
// metrics around the scenario.
func (h *harness) httpRow(ctx context.Context, s httpScenario) (row, error) {
	fmt.Fprintf(h.stderr, "%s at %d/s: baseline\n", s.name, s.rate)
	health := fixedGET(h.api.base+"/healthz", nil)
	if _, err := h.attack(ctx, health, s.rate, h.cfg.warmup, "warmup"); err != nil {
		return row{}, err
	}
	base, err := h.attack(ctx, health, s.rate, h.cfg.duration, "baseline")
	if err != nil {
		return row{}, err
	}
	fmt.Fprintf(h.stderr, "%s at %d/s: scenario\n", s.name, s.rate)
	if _, err := h.attack(ctx, s.tr, s.rate, h.cfg.warmup, "warmup"); err != nil {
		return row{}, err
	}
	before, err := scrapeMetrics(ctx, h.api)
	if err != nil {
		return row{}, err
	}
	load := loadAverage()
	res, err := h.attack(ctx, s.tr, s.rate, h.cfg.duration, "scenario")
	if err != nil {
		return row{}, err
	}
	after, err := scrapeMetrics(ctx, h.api)
	if err != nil {
		return row{}, err
	}
	r := rowOf(s.name, s.rate, h.cfg.duration, res)
	r.Target, r.Met = s.target.String(), s.target.met(r.P99, r.Errors)
	r.Baseline = &baselineRow{Requests: base.metrics.Requests, Errors: base.errors, P50: base.metrics.Latencies.P50, P99: base.metrics.Latencies.P99}
	if r.Baseline.P99 > 0 {
		r.Ratio = float64(r.P99) / float64(r.Baseline.P99)
	}
	r.Server = viewOf(before, after, s.route, res.wall)
	r.LoadAverage = (load + loadAverage()) / 2
	return r, nil
}

func (h *harness) attack(ctx context.Context, tr vegeta.Targeter, rate int, d time.Duration, name string) (attackResult, error) {
	if d <= 0 {
		return attackResult{}, nil
	}
	return attack(ctx, h.client, tr, rate, d, name, nil)
}

// rowOf turns an attack into a table row without a target.
func rowOf(name string, rate int, d time.Duration, res attackResult) row {
	m := res.metrics
	r := row{
		Scenario: name, Rate: rate, Duration: d, Requests: m.Requests, Errors: res.errors,
		P50: m.Latencies.P50, P90: m.Latencies.P90, P99: m.Latencies.P99, Max: m.Latencies.Max,
		AchievedRate: m.Rate, ErrorSamples: res.samples, Target: target{}.String(),
	}
	if m.Requests > 0 {
		r.LoadCPUPerRequest = res.loadCPU / time.Duration(m.Requests)
	}
	return r
}
