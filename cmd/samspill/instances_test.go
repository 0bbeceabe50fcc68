package main

import (
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/projections/timeline"
)

// Settings of the several-instances test.
const (
	instances     = 3
	instanceKills = 3
	// takeOverWithin is the longest a projection may go unrun after its
	// leader died.
	takeOverWithin = 10 * time.Second
)

// TestSeveralInstancesShareOnePostgreSQL runs three serve processes on
// loopback sharing one PostgreSQL schema (--store postgres --readmodel
// postgres), with the crash harness's workload (harness_workload_test.go)
// spread over all of them: every request goes to the next instance in
// turn. Three times, the instance that runs the timeline projection is
// killed with SIGKILL while the writers are busy; then:
//
//   - another instance takes the lead of every projection the dead one
//     ran, within 10 s, and /admin/projections on every instance agrees;
//   - the surviving instances pass the crash harness's checks
//     (harness_verify_test.go): every acknowledged write is present once,
//     nothing half applied, the requests in flight to the dead instance
//     retried on the others with their idempotency keys (shared through
//     the event store) without duplicates, every partnership's state equal
//     to its history, and the read models, read through every instance
//     with min_position, equal to the log and (after a rebuild asked of
//     whichever instance answers, handed to the leader) to a rebuild;
//   - the dead instance is started again and joins as a follower.
func TestSeveralInstancesShareOnePostgreSQL(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds the binary and runs three servers; skipped with -short")
	}
	url := pgtest.URL(t)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SAMSPILL_CRASH_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SAMSPILL_CRASH_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("several instances: seed %d (replay the kill moments with SAMSPILL_CRASH_SEED=%d)", seed, seed)
	begin := time.Now()
	h := newCrashHarness(t, seed, instanceKills, instances, func(i int, dir string) []string {
		return []string{"--data", dir, "--store", storePostgres, "--readmodel", readModelPostgres, "--postgres", url,
			"--instance", fmt.Sprint("node-", i)}
	})
	h.start()
	for kill := 1; kill <= instanceKills; kill++ {
		h.iter = kill
		led := h.leaders()
		victim := h.node(led[timeline.Name])
		if victim == nil {
			h.fatalf("no instance leads %s: %v", timeline.Name, led)
		}
		h.load(h.window(), victim)
		h.awaitTakeOver(victim, led)
		h.verify(kill == 1 || kill == instanceKills)
		h.restart(victim)
	}
	h.stop()
	h.summary(time.Since(begin))
}

// leaders reads, from every instance that runs, which instance leads each
// projection, and requires them to agree.
func (h *crashHarness) leaders() map[string]string {
	h.t.Helper()
	deadline := time.Now().Add(takeOverWithin)
	for {
		led, agreed := map[string]string{}, true
		for range h.client.each() { // the client takes each instance in turn
			for _, p := range h.projectionStatus(false) {
				if prev, ok := led[p.Name]; (ok && prev != p.Leader) || p.Leader == "" {
					agreed = false
				}
				led[p.Name] = p.Leader
			}
		}
		h.fatalIfProblems("projection status")
		if agreed {
			return led
		}
		if time.Now().After(deadline) {
			h.fatalf("the instances do not agree on the projections' leaders within %s: %v", takeOverWithin, led)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// node is the node called name, nil if none is.
func (h *crashHarness) node(name string) *crashNode {
	for _, n := range h.nodes {
		if n.name == name {
			return n
		}
	}
	return nil
}

// awaitTakeOver waits until no projection that dead led before its kill
// is led by it any more, within takeOverWithin of the kill.
func (h *crashHarness) awaitTakeOver(dead *crashNode, before map[string]string) {
	h.t.Helper()
	killed := time.Now()
	for {
		led := h.leaders()
		moved := true
		for name, leader := range before {
			if leader == dead.name && led[name] == dead.name {
				moved = false
			}
		}
		if moved {
			h.t.Logf("kill %d/%d: %s was killed; the projections it ran are now led by %v (%s after the kill)",
				h.iter, h.kills, dead.name, led, time.Since(killed).Round(time.Millisecond))
			return
		}
		if time.Since(killed) > takeOverWithin {
			h.fatalf("%s was killed, but %s later it still leads: %v", dead.name, takeOverWithin, led)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
