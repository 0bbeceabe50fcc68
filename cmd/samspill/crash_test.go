//go:build crash

// The crash harness (make crash) proves the promise users choose an event
// store for: an acknowledged write is never lost, and a crash leaves
// nothing half done. It treats samspill as users do, as a separate process
// spoken to over HTTP, and kills it with SIGKILL while it is busy.
//
// How: the test builds the binary once (internal/serveproc; with -race
// when the test runs under the race detector), serves a fresh data folder
// on the embedded store (serve --addr 127.0.0.1:0 --data DIR --log-level
// warn), takes the admin token printed on the first start, and then,
// SAMSPILL_CRASH_KILLS times (default 20):
//
//   - 16 writers send commands of every kind in docs/api.md's Commands
//     (initiate, partners join and leave, roles, goals, agreements,
//     funding, anchoring, milestones, contacts, pause and resume, end,
//     corrections), each built to be valid on the last state the writers
//     saw of the partnership and sent with that state's version as
//     If-Match (so concurrent writers get 412s), and each with an
//     Idempotency-Key of its own. About one in nine is sent without
//     If-Match (the server decides it on the newest state and may refuse
//     it, 409), one in forty breaks a rule on purpose (it must be refused),
//     and one in fifty resends an acknowledged request (it must get the
//     first answer, byte for byte the same state, and write nothing);
//   - at a random moment, 100 ms to 1.5 s after the writes start, drawn
//     from the seed (logged; SAMSPILL_CRASH_SEED sets it), the server gets
//     SIGKILL; every request without an answer then is "in flight";
//   - the server is restarted on the same folder and verified; the next
//     cycle's writers use the restarted server.
//
// What is verified after every restart (harness_verify_test.go), over
// everything written since the start of the run, not only in the last
// cycle:
//
//  1. Every acknowledged write (2xx) is present exactly once: the global
//     feed /events?after= holds every event id once, positions strictly
//     increasing, and the write's idempotency key (metadata.idempotency_key)
//     on exactly one event, at the X-Samspill-Position it was acknowledged
//     with, in its partnership's stream (with If-Match N, at version N+1);
//     each partnership's /history holds the same events as the feed, the
//     acknowledged ones at their positions. Every event carries the key of
//     a request the harness sent: nothing appears that nobody asked for. A
//     request answered 4xx left no event, then or later.
//  2. Nothing is half applied: each request in flight at the kill left its
//     whole event or none (0 or 1 events with its key, of the type and in
//     the stream it asked for), and each partnership's state (GET
//     /partnerships/{id}) agrees with its history: version = number of
//     events = both ETags, versions 1..n, and replaying the history with
//     the domain gives the served state. An acknowledged contact person
//     can still be read (the personal-data key, kept in keys.db apart from
//     the event, survived too).
//  3. Retrying every in-flight request with the same key, body and
//     If-Match gives exactly the outcomes the API allows (the key is looked
//     up before the version is compared): if its event landed, the stored
//     first answer (2xx, Idempotent-Replayed, that event's position) and
//     no new event; if it did not and the partnership has moved past its
//     If-Match, 412 and still no event; if it did not and the version
//     still matches (or it pinned none), a fresh append, exactly one event
//     with the key at If-Match+1, or a 409 only for a request without
//     If-Match (decided on a newer state) or one invalid on purpose. The
//     retries are the only writes then, so the partnership's version just
//     before each retry decides which case applies.
//  4. The projections converge to what a full rebuild gives: waiting with
//     ?min_position=<head>, the read models (every page of /partnerships,
//     /municipalities, each timeline of a municipality with partnerships,
//     /stats overall and per municipality) hold exactly the partnerships
//     of the log, each summary equals GET /partnerships/{id}, each
//     timeline holds exactly the partnership's events in force in the
//     order they occurred, and the counts add up. After every fifth kill
//     and the last, every projection is rebuilt online (POST
//     /admin/projections/{name}/rebuild); once /admin/projections shows a
//     new generation of each live at the head, the read models must equal
//     what they were before the rebuild.
//
// A 5xx, a request that fails or times out while no kill is under way, a
// panic, a data race or an error in the server's log fails the test; so
// does a valid command refused at the version it was made for. Failure
// messages name the request (kind, path, idempotency key, If-Match,
// partnership, cycle), the positions involved, and the seed to replay the
// kill moments with (SAMSPILL_CRASH_SEED, SAMSPILL_CRASH_KILLS). The
// writers' interleaving depends on scheduling, so a replay repeats the
// kill moments and each writer's random choices, not the exact history.
// On failure the data folder is kept and its path logged.
// SAMSPILL_CRASH_BIN runs the harness against a server built elsewhere
// (e.g. one with a fault put in on purpose, to see the harness catch it).
package main

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// Defaults of the crash harness; SAMSPILL_CRASH_KILLS and
// SAMSPILL_CRASH_SEED override the first and the seed.
const (
	crashDefaultKills = 20
	// crashRebuildEvery is how often (in kills) the projections are
	// rebuilt online and compared; the last kill always is.
	crashRebuildEvery = 5
)

// TestCrashAcknowledgedWritesSurviveKill9 is the harness; see the file
// comment.
func TestCrashAcknowledgedWritesSurviveKill9(t *testing.T) {
	kills := crashEnvInt(t, "SAMSPILL_CRASH_KILLS", crashDefaultKills)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SAMSPILL_CRASH_SEED"); v != "" {
		s, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SAMSPILL_CRASH_SEED=%q: want an unsigned integer", v)
		}
		seed = s
	}
	t.Logf("crash harness: seed %d, %d kills, %d writers (replay the kill moments with SAMSPILL_CRASH_SEED=%d)", seed, kills, crashWriters, seed)

	begin := time.Now()
	h := newCrashHarness(t, seed, kills, 1, func(_ int, dir string) []string { return []string{"--data", dir} })
	h.start()
	server := h.nodes[0]
	for kill := 1; kill <= kills; kill++ {
		h.iter = kill
		h.load(h.window(), server)
		h.restart(server)
		full := kill%crashRebuildEvery == 0 || kill == kills
		h.verify(full)
	}
	h.stop()
	h.summary(time.Since(begin))
}

// crashEnvInt reads a positive integer from the environment.
func crashEnvInt(t *testing.T, name string, def int) int {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
