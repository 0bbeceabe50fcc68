package main

import (
	"testing"
	"time"
)

func TestTally(t *testing.T) {
	t0 := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	acks := map[uint64]time.Time{10: ms(0), 11: ms(100), 12: ms(200)}
	clients := [][]delivery{
		// All three, the first one before its own acknowledgement, plus
		// an event nobody here wrote (position 9), which is ignored.
		{{9, ms(0)}, {10, ms(-5)}, {11, ms(110)}, {12, ms(230)}},
		// 12 is missing, 11 is late and comes twice.
		{{10, ms(20)}, {11, ms(1_200)}, {11, ms(1_300)}},
		// Out of order.
		{{11, ms(150)}, {10, ms(160)}, {12, ms(260)}},
	}
	got := tally(acks, clients, time.Second)
	want := deliveryStats{
		Clients: 3, Writes: 3, Expected: 9, Delivered: 8, Missing: 1, Late: 1, Deadline: time.Second,
		BeforeAck: 1, Duplicates: 1, OutOfOrder: 1,
		// Latencies sorted: 0, 10, 20, 30, 50, 60, 160, 1100 ms.
		P50: 30 * time.Millisecond, P90: 1_100 * time.Millisecond, P99: 1_100 * time.Millisecond, Max: 1_100 * time.Millisecond,
	}
	if got != want {
		t.Errorf("tally:\n got %+v\nwant %+v", got, want)
	}
	if got.ok() {
		t.Error("ok() with a missing, a late, a duplicate and an out-of-order delivery")
	}
}

func TestTallyAllDelivered(t *testing.T) {
	t0 := time.Now()
	acks := map[uint64]time.Time{1: t0, 2: t0}
	got := tally(acks, [][]delivery{{{1, t0.Add(time.Millisecond)}, {2, t0.Add(2 * time.Millisecond)}}}, time.Second)
	if !got.ok() || got.Missing != 0 || got.Max != 2*time.Millisecond {
		t.Errorf("tally = %+v, want everything delivered within 2 ms", got)
	}
	if none := tally(map[uint64]time.Time{}, nil, time.Second); none.ok() {
		t.Error("ok() without any write")
	}
}

func TestNearestRank(t *testing.T) {
	d := []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 5}, {0.9, 9}, {0.99, 10}, {0.01, 1}, {1, 10}} {
		if got := nearestRank(d, c.q); got != c.want {
			t.Errorf("nearestRank(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := nearestRank(nil, 0.5); got != 0 {
		t.Errorf("nearestRank(nil) = %v, want 0", got)
	}
}
