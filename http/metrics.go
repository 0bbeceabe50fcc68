package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/samspill/samspill/eventstore"
)

// headGaugeTimeout bounds the store probe behind samspill_eventstore_head_position
// during a scrape.
const headGaugeTimeout = time.Second

// unmatchedRoute is the route label of requests that match no route (404
// and 405 answers), so that probed paths cannot make new series.
const unmatchedRoute = "unmatched"

// durationBuckets suit a fast API: 0.5 ms to 5 s. Server-sent event streams
// last as long as the client stays and land in +Inf, under their own route.
var durationBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}

// knownMethods are the method label values; any other method is "other", so
// that clients cannot make new series with made-up methods.
var knownMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// httpMetrics are the request metrics the middleware records.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// newMetrics registers samspill's HTTP and event store metrics and the Go
// and process collectors on reg. A collector that reg already holds (a
// second server on the same registry, or collectors cmd registered) is
// reused; any other registration error is logged and the metric left out,
// so that metrics can never stop the API from starting. The head gauge is
// left out when store is nil.
func newMetrics(reg *prometheus.Registry, store eventstore.Store, log *slog.Logger) *httpMetrics {
	m := &httpMetrics{
		requests: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "samspill_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status.",
		}, []string{"method", "route", "status"})),
		duration: register(reg, log, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "samspill_http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by method and route template (streams: their whole life).",
			Buckets: durationBuckets,
		}, []string{"method", "route"})),
	}
	register(reg, log, collectors.NewGoCollector())
	register(reg, log, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if store != nil {
		h := &headGauge{store: store, log: log}
		register(reg, log, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "samspill_eventstore_head_position",
			Help: "Position of the newest event in the event store (the last value read if the store does not answer).",
		}, h.read))
	}
	return m
}

// register registers c on reg and returns it, or the equal collector reg
// already holds. Other errors are logged and c, unregistered, returned: it
// still works, it is just not exported.
func register[C prometheus.Collector](reg *prometheus.Registry, log *slog.Logger, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var already prometheus.AlreadyRegisteredError
	if errors.As(err, &already) {
		if existing, ok := already.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Error("register metric collector", "err", fmt.Errorf("register collector: %w", err))
	return c
}

// instrument records every request in m: the route label is Gin's route
// template (c.FullPath), never the raw path, so ids in paths do not make
// new series.
func (m *httpMetrics) instrument(c *gin.Context) {
	start := time.Now()
	c.Next()
	route, method := routeLabel(c), methodLabel(c)
	m.requests.WithLabelValues(method, route, strconv.Itoa(c.Writer.Status())).Inc()
	m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
}

// headGauge reads the store's head for a scrape. When the store does not
// answer it reports the last head it read (0 before the first) and logs the
// failure once, until a read succeeds again. It is safe for concurrent
// scrapes.
type headGauge struct {
	store eventstore.Store
	log   *slog.Logger

	mu      sync.Mutex
	last    uint64
	failing bool
}

func (h *headGauge) read() float64 {
	ctx, cancel := context.WithTimeout(context.Background(), headGaugeTimeout)
	defer cancel()
	head, err := h.store.Head(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		if !h.failing {
			h.failing = true
			h.log.Warn("metrics: event store head unreadable; reporting the last value", "last", h.last, "err", err)
		}
		return float64(h.last)
	}
	if h.failing {
		h.failing = false
		h.log.Info("metrics: event store head readable again", "head", head)
	}
	h.last = head
	return float64(head)
}

// metricsHandler serves reg in the Prometheus text format (OpenMetrics
// when a scraper asks for it is not enabled). A collector that fails is
// logged and the others still served.
func metricsHandler(reg *prometheus.Registry, log *slog.Logger) gin.HandlerFunc {
	h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		ErrorLog:      promLogger{log},
		ErrorHandling: promhttp.ContinueOnError,
	})
	return gin.WrapH(h)
}

// promLogger adapts slog to promhttp.Logger.
type promLogger struct{ log *slog.Logger }

func (l promLogger) Println(v ...any) {
	l.log.Error("metrics: serving /metrics", "err", fmt.Sprint(v...))
}
