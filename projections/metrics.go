package projections

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	positionDesc = prometheus.NewDesc("samspill_projection_position", "Last event position the projection has committed.", []string{"projection"}, nil)
	lagDesc      = prometheus.NewDesc("samspill_projection_lag", "Positions between the event store's head and the projection.", []string{"projection"}, nil)
	failedDesc   = prometheus.NewDesc("samspill_projection_failed", "1 when the projection stopped on an event it cannot apply.", []string{"projection"}, nil)
)

// Describe implements prometheus.Collector: a Runner reports each
// projection's position, lag and failure (Watermill's router metrics come
// through WithMetrics).
func (r *Runner) Describe(ch chan<- *prometheus.Desc) {
	ch <- positionDesc
	ch <- lagDesc
	ch <- failedDesc
}

// Collect implements prometheus.Collector.
func (r *Runner) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	statuses, err := r.Status(ctx)
	if err != nil {
		r.log.Warn("collect projection metrics", "err", err)
		return
	}
	for _, st := range statuses {
		failed := 0.0
		if st.Status == StatusFailed {
			failed = 1
		}
		ch <- prometheus.MustNewConstMetric(positionDesc, prometheus.GaugeValue, float64(st.Position), st.Name)
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(st.Lag), st.Name)
		ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.GaugeValue, failed, st.Name)
	}
}
