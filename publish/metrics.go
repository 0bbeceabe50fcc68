package publish

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	positionDesc  = prometheus.NewDesc("samspill_publish_position", "Position of the last event the JetStream stream holds, as the NATS forwarder last saw it.", nil, nil)
	lagDesc       = prometheus.NewDesc("samspill_publish_lag", "Positions between the event store's head and samspill_publish_position.", nil, nil)
	connectedDesc = prometheus.NewDesc("samspill_publish_connected", "1 while the NATS forwarder is connected to NATS.", nil, nil)
	publishedDesc = prometheus.NewDesc("samspill_publish_published_total", "Events this instance published to JetStream (acknowledged by it).", nil, nil)
	failuresDesc  = prometheus.NewDesc("samspill_publish_failures_total", "Publishes to JetStream that failed and were tried again.", nil, nil)
)

var _ prometheus.Collector = (*Forwarder)(nil)

// Describe implements prometheus.Collector.
func (f *Forwarder) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{positionDesc, lagDesc, connectedDesc, publishedDesc, failuresDesc} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. The lag is left out when the
// store's head cannot be read within 2 seconds.
func (f *Forwarder) Collect(ch chan<- prometheus.Metric) {
	position := f.position.Load()
	ch <- prometheus.MustNewConstMetric(positionDesc, prometheus.GaugeValue, float64(position))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if head, err := f.store.Head(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(head)-float64(position))
	}
	connected := 0.0
	f.mu.Lock()
	if f.conn != nil && f.conn.IsConnected() {
		connected = 1
	}
	f.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(connectedDesc, prometheus.GaugeValue, connected)
	ch <- prometheus.MustNewConstMetric(publishedDesc, prometheus.CounterValue, float64(f.published.Load()))
	ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.CounterValue, float64(f.failures.Load()))
}
