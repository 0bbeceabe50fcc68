package main

import (
	"math"
	"slices"
	"time"
)

// delivery is one event an event stream client received: its position
// and when the client had read it whole (the blank line that ends an SSE
// event).
type delivery struct {
	pos uint64
	at  time.Time
}

// deliveryStats sums up how the event streams delivered the acknowledged
// writes.
type deliveryStats struct {
	Clients int `json:"clients"`
	// Writes are the acknowledged writes; Expected = Clients × Writes
	// deliveries.
	Writes   int `json:"writes"`
	Expected int `json:"expected"`
	// Delivered counts distinct (client, write) pairs received.
	Delivered int `json:"delivered"`
	Missing   int `json:"missing"`
	// Late are deliveries later than Deadline after the acknowledgement.
	Late     int           `json:"late"`
	Deadline time.Duration `json:"deadline_ns"`
	// BeforeAck are deliveries that reached the client before the write's
	// own answer did; their latency counts as 0.
	BeforeAck int `json:"before_ack"`
	// Duplicates are events a client received more than once, OutOfOrder
	// those received after a later position (streams promise neither).
	Duplicates int `json:"duplicates"`
	OutOfOrder int `json:"out_of_order"`
	// Latency percentiles of the deliveries, from the acknowledgement.
	P50 time.Duration `json:"p50_ns"`
	P90 time.Duration `json:"p90_ns"`
	P99 time.Duration `json:"p99_ns"`
	Max time.Duration `json:"max_ns"`
}

// ok reports whether every client saw every acknowledged write once, in
// order, within the deadline.
func (s deliveryStats) ok() bool {
	return s.Writes > 0 && s.Missing == 0 && s.Late == 0 && s.Duplicates == 0 && s.OutOfOrder == 0
}

// tally compares what each client received with the acknowledged writes
// (position → when its answer arrived). Events at positions that are not
// in acks (written by someone else) are ignored.
func tally(acks map[uint64]time.Time, clients [][]delivery, deadline time.Duration) deliveryStats {
	s := deliveryStats{Clients: len(clients), Writes: len(acks), Expected: len(clients) * len(acks), Deadline: deadline}
	var lat []time.Duration
	for _, got := range clients {
		seen := make(map[uint64]bool, len(got))
		var last uint64
		for _, d := range got {
			if seen[d.pos] {
				s.Duplicates++
				continue
			}
			seen[d.pos] = true
			if d.pos < last {
				s.OutOfOrder++
			}
			last = max(last, d.pos)
			ack, ok := acks[d.pos]
			if !ok {
				continue
			}
			s.Delivered++
			l := d.at.Sub(ack)
			if l < 0 {
				s.BeforeAck++
				l = 0
			}
			if l > deadline {
				s.Late++
			}
			lat = append(lat, l)
		}
	}
	s.Missing = s.Expected - s.Delivered
	slices.Sort(lat)
	s.P50, s.P90, s.P99 = nearestRank(lat, 0.50), nearestRank(lat, 0.90), nearestRank(lat, 0.99)
	if len(lat) > 0 {
		s.Max = lat[len(lat)-1]
	}
	return s
}

// nearestRank is the q-quantile of sorted by the nearest-rank method, 0
// for no values.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
