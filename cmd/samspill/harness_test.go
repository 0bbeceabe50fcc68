package main

// The harness of the process-level tests: the crash harness (crash_test.go,
// make crash) and the several-instances test (instances_test.go) drive the
// same workload against real serve processes and verify the same promises
// (harness_workload_test.go, harness_verify_test.go). One run has one or
// more nodes, serve processes sharing their data; the writers and the
// checks spread their requests over the nodes that are up.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/samspill/samspill/internal/serveproc"
)

// Settings of a run's workload.
const (
	crashWriters  = 16
	crashMinWrite = 100 * time.Millisecond
	crashMaxWrite = 1500 * time.Millisecond
	// crashStartTimeout bounds a server's start.
	crashStartTimeout = 60 * time.Second
	// crashEveryKindAfter is how many acknowledged writes must include
	// every kind of command.
	crashEveryKindAfter = 1000
)

// crashHarness is the state of one run: the server process, the client,
// the writers' shared view of the partnerships, and every request sent.
type crashHarness struct {
	t     *testing.T
	seed  uint64
	kills int
	rng   *rand.Rand // the kill moments: from the seed alone
	iter  int        // the current kill cycle, 1-based

	bin    string
	nodes  []*crashNode
	token  string
	client *crashClient
	pool   *crashPool

	// sent is every logical request by idempotency key (first sends only,
	// not resends): an event whose key is not here is a phantom.
	sent map[string]*crashRequest
	// acked are the acknowledged requests by key, with where their event
	// must be.
	acked map[string]*crashAck
	// refused are the keys of requests answered with a 4xx: no event may
	// ever carry them.
	refused map[string]*crashRequest
	// inflight are this cycle's requests that had no answer at the kill.
	inflight []*crashRequest
	// inflightResends are this cycle's resends of acknowledged requests
	// that had no answer at the kill.
	inflightResends []*crashRequest
	// ackedList are the acknowledged requests in the order they were
	// acknowledged; writers resend some of theirs.
	ackedList []*crashRequest
	// posting is the number of commands on the wire (first sends).
	posting atomic.Int64
	// seq numbers the requests (and makes the idempotency keys unique).
	seq atomic.Int64

	// failures collects problems of one phase; fatalIfProblems reports
	// them all. mu guards it while checks run in parallel.
	mu       sync.Mutex
	failures []string

	counts crashCounts
}

// crashNode is one serve process of a run: its command line and, while it
// runs, the process.
type crashNode struct {
	name string
	args []string
	proc *serveproc.Process
}

// crashAck is where an acknowledged write's event must be.
type crashAck struct {
	req         *crashRequest
	partnership string
	position    uint64
}

// crashCounts are the numbers of the summary line.
type crashCounts struct {
	kills          int
	requests       int
	acked          int
	byKind         map[string]int // acknowledged, by command kind
	status         map[int]int    // every answer during load, by status
	refusedLoose   int            // 409 on requests without If-Match
	refusedInvalid int            // 400/409 on requests invalid on purpose
	precondition   int            // 412 during load
	resends        int            // resends of acknowledged requests answered during load
	reads          int            // the writers' reads (states after a refusal, histories for corrections)
	inflight       int
	inflightLanded int
	retries        map[string]int // outcome → count
	warnings       map[string]int // the servers' warnings, by message
	rebuilds       int
	events         uint64
	partnerships   int
	writeTime      time.Duration
	restartTime    time.Duration
	verifyTime     time.Duration
}

// newCrashHarness builds the server (or takes SAMSPILL_CRASH_BIN) and
// prepares a run whose nodes serve with nodeArgs(i, dir): the arguments of
// node i after "serve --addr 127.0.0.1:0 --log-level warn", given a fresh
// folder of its own.
func newCrashHarness(t *testing.T, seed uint64, kills, nodes int, nodeArgs func(i int, dir string) []string) *crashHarness {
	h := &crashHarness{
		t: t, seed: seed, kills: kills,
		rng:     rand.New(rand.NewPCG(seed, 0x6b696c6c)),
		sent:    map[string]*crashRequest{},
		acked:   map[string]*crashAck{},
		refused: map[string]*crashRequest{},
		pool:    newCrashPool(),
	}
	h.counts.byKind = map[string]int{}
	h.counts.status = map[int]int{}
	h.counts.retries = map[string]int{}
	h.counts.warnings = map[string]int{}

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if bin := os.Getenv("SAMSPILL_CRASH_BIN"); bin != "" {
		h.bin = bin // a server built elsewhere, e.g. with a fault put in on purpose
		t.Logf("using the server %s (SAMSPILL_CRASH_BIN)", bin)
	} else {
		built := time.Now()
		var flags []string
		if crashRace {
			flags = append(flags, "-race") // the server's races show in its output
		}
		h.bin = serveBinary(ctx, t, flags...)
		t.Logf("the server %s, built once per test process, ready in %v", strings.TrimSpace(strings.Join(append(flags, h.bin), " ")), time.Since(built).Round(time.Millisecond))
	}
	for i := range nodes {
		dir, err := os.MkdirTemp("", "samspill-crash-")
		if err != nil {
			t.Fatal(err)
		}
		n := &crashNode{name: fmt.Sprint("node-", i), args: append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}, nodeArgs(i, dir)...)}
		h.nodes = append(h.nodes, n)
		t.Cleanup(func() {
			if n.proc != nil {
				_ = n.proc.Kill()
			}
			if t.Failed() {
				t.Logf("data folder of %s kept for inspection: %s", n.name, dir)
				return
			}
			_ = os.RemoveAll(dir)
		})
	}
	return h
}

// start starts every node, one after the other; the first start of the
// first must print the admin token.
func (h *crashHarness) start() {
	for _, n := range h.nodes {
		h.startNode(n)
	}
}

// startNode runs serve for n, and points the client at the nodes that run.
func (h *crashHarness) startNode(n *crashNode) {
	p, err := serveproc.Start(context.Background(), h.bin, n.args, nil, crashStartTimeout)
	if err != nil {
		h.fatalf("start %s (cycle %d): %v", n.name, h.iter, err)
	}
	n.proc = p
	if h.token == "" {
		if p.Token == "" {
			h.fatalf("the first start printed no admin token:\n%s", p.Output())
		}
		h.token = p.Token
		h.client = newCrashClient(h.token)
	} else if p.Token != "" {
		h.problemf("%s printed a new admin token: the token store lost the first one", n.name)
	}
	h.aim()
}

// aim points the client at the nodes that run.
func (h *crashHarness) aim() {
	var bases []string
	for _, n := range h.nodes {
		if n.proc != nil {
			bases = append(bases, n.proc.URL)
		}
	}
	h.client.aim(bases)
}

// kill kills n with SIGKILL and checks what it printed.
func (h *crashHarness) kill(n *crashNode) {
	if err := n.proc.Kill(); err != nil {
		h.fatalf("%v", err)
	}
	h.counts.kills++
	h.checkOutput(n.proc)
	n.proc = nil
	h.client.closeIdle()
	h.aim()
}

// restart starts a killed node again.
func (h *crashHarness) restart(n *crashNode) {
	begin := time.Now()
	h.startNode(n)
	h.fatalIfProblems("restart")
	h.counts.restartTime += time.Since(begin)
}

// stop stops every node cleanly and checks what they printed.
func (h *crashHarness) stop() {
	for _, n := range h.nodes {
		if n.proc == nil {
			continue
		}
		if err := n.proc.Stop(30 * time.Second); err != nil {
			h.fatalf("clean stop of %s after the last kill: %v", n.name, err)
		}
		h.checkOutput(n.proc)
		n.proc = nil
	}
	h.fatalIfProblems("stop")
}

// checkOutput fails on a panic, a data race or an error logged by a
// server process, and counts its warnings.
func (h *crashHarness) checkOutput(p *serveproc.Process) {
	for _, line := range strings.Split(p.Output(), "\n") {
		switch {
		case strings.Contains(line, "panic:") || strings.Contains(line, "DATA RACE") || strings.Contains(line, "level=ERROR"):
			h.problemf("the server (cycle %d) printed: %s", h.iter, line)
		case strings.Contains(line, "level=WARN"):
			msg := line
			if _, m, ok := strings.Cut(line, " msg="); ok {
				msg = m
				if strings.HasPrefix(m, `"`) {
					if end := strings.Index(m[1:], `"`); end >= 0 {
						msg = m[:end+2]
					}
				} else if sp := strings.IndexByte(m, ' '); sp >= 0 {
					msg = m[:sp]
				}
			}
			h.counts.warnings[msg]++
		}
	}
}

// problemf records a failure of the current phase. It is safe for
// concurrent use.
func (h *crashHarness) problemf(format string, args ...any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures = append(h.failures, fmt.Sprintf(format, args...))
}

// fatalIfProblems stops the test with every problem recorded so far.
func (h *crashHarness) fatalIfProblems(phase string) {
	h.t.Helper()
	if len(h.failures) == 0 {
		return
	}
	shown := h.failures
	more := ""
	if len(shown) > 40 {
		more = fmt.Sprintf("\n... and %d more", len(shown)-40)
		shown = shown[:40]
	}
	h.logServerErrors()
	h.t.Fatalf("kill %d/%d, %s: %d problem(s):\n- %s%s\nseed %d: replay with SAMSPILL_CRASH_SEED=%d SAMSPILL_CRASH_KILLS=%d",
		h.iter, h.kills, phase, len(h.failures), strings.Join(shown, "\n- "), more, h.seed, h.seed, h.kills)
}

// logServerErrors logs the first errors each running server printed, the
// other half of a failure's story.
func (h *crashHarness) logServerErrors() {
	for _, n := range h.nodes {
		if n.proc == nil {
			continue
		}
		var errs []string
		for _, line := range strings.Split(n.proc.Output(), "\n") {
			if strings.Contains(line, "level=ERROR") || strings.Contains(line, "panic:") {
				errs = append(errs, line)
			}
		}
		if len(errs) > 10 {
			errs = errs[:10]
		}
		if len(errs) > 0 {
			h.t.Logf("%s printed:\n%s", n.name, strings.Join(errs, "\n"))
		}
	}
}

// fatalf stops the test at once.
func (h *crashHarness) fatalf(format string, args ...any) {
	h.t.Helper()
	h.problemf(format, args...)
	h.fatalIfProblems("fatal")
}

// summary logs the numbers of the run.
func (h *crashHarness) summary(d time.Duration) {
	c := &h.counts
	kinds := make([]string, 0, len(c.byKind))
	for _, k := range crashCommandKinds {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, c.byKind[k]))
		// A short run (a few kills, or under -race) may miss the rarest
		// kinds; a thousand writes reach every one of them.
		if c.byKind[k] == 0 && c.acked >= crashEveryKindAfter {
			h.problemf("no %s was acknowledged in %d writes: the workload does not exercise it", k, c.acked)
		}
	}
	retries := fmt.Sprintf("%d replayed, %d appended fresh, %d refused 412, %d refused 409",
		c.retries["replayed"], c.retries["fresh"], c.retries["412"], c.retries["409"])
	h.t.Logf("crash summary: seed %d; %d kills; %d requests, %d acknowledged writes, %d refused 412, %d refused 409 without If-Match, %d invalid refused as meant, %d resends replayed; in flight at kill %d (%d had landed, %d had not); retries: %s; %d rebuild checks; %d events in %d partnerships; %s writing, %s restarting, %s verifying, %s in all",
		h.seed, c.kills, c.requests, c.acked, c.precondition, c.refusedLoose, c.refusedInvalid, c.resends,
		c.inflight, c.inflightLanded, c.inflight-c.inflightLanded, retries, c.rebuilds, c.events, c.partnerships,
		c.writeTime.Round(time.Millisecond), c.restartTime.Round(time.Millisecond), c.verifyTime.Round(time.Millisecond), d.Round(time.Millisecond))
	h.t.Logf("crash summary: acknowledged by kind: %s", strings.Join(kinds, ", "))
	statuses := make([]int, 0, len(c.status))
	for st := range c.status {
		statuses = append(statuses, st)
	}
	sort.Ints(statuses)
	var answers []string
	for _, st := range statuses {
		answers = append(answers, fmt.Sprintf("%d: %d", st, c.status[st]))
	}
	h.t.Logf("crash summary: answers during the writes by status: %s; %d reads by the writers", strings.Join(answers, ", "), c.reads)
	if len(c.warnings) > 0 {
		var warnings []string
		for msg, n := range c.warnings {
			warnings = append(warnings, fmt.Sprintf("%dx %s", n, msg))
		}
		sort.Strings(warnings)
		h.t.Logf("crash summary: the servers warned: %s", strings.Join(warnings, "; "))
	}

	h.fatalIfProblems("summary")
}
