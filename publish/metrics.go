package publish

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/eventstore/pubsub"
)

var (
	positionDesc  = prometheus.NewDesc("samspill_publish_position", "Position of the last event the JetStream stream holds, as the NATS forwarder last saw it.", nil, nil)
	lagDesc       = prometheus.NewDesc("samspill_publish_lag", "Positions between the event store's head and samspill_publish_position; 0 when every event past it is of another topic (never published).", nil, nil)
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
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(f.lag(ctx, head, position)))
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

// lagPage is how many events lag reads at a time past what it has seen.
const lagPage = 2000

// lag is how far the stream is behind the store: head minus the published
// position, except that events of other topics (the surveys', which are
// never published) that end the log put it behind nothing. Without that a
// log ending in survey answers would report a lag until the next
// partnership event, and an alert on the lag would never clear. What it
// has read is remembered (lagSeen) while the position stays, so each
// scrape reads only the events recorded since the last.
func (f *Forwarder) lag(ctx context.Context, head, position uint64) uint64 {
	if head <= position {
		return 0
	}
	f.lagMu.Lock()
	defer f.lagMu.Unlock()
	if f.lagSeen.position != position {
		f.lagSeen = lagSeen{position: position, clearTo: position}
	}
	for f.lagSeen.clearTo < head {
		events, err := f.store.ReadAll(ctx, f.lagSeen.clearTo, lagPage)
		if err != nil || len(events) == 0 {
			return head - position
		}
		for _, e := range events {
			if pubsub.InTopic(e.StreamID, f.cfg.Topic) {
				return head - position
			}
			f.lagSeen.clearTo = e.Position
		}
	}
	return 0
}

// lagSeen is what lag has read: no event of the topic lies after position
// up to clearTo.
type lagSeen struct{ position, clearTo uint64 }
