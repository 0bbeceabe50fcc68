package projections_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// sharedRunners starts n Runners, named instance-0…, over one PostgreSQL
// schema, as n samspill instances would; each is closed when t ends.
func sharedRunners(t *testing.T, e *env, n int) []*projections.Runner {
	t.Helper()
	runners := make([]*projections.Runner, n)
	for i := range runners {
		db, err := projections.OpenPostgres(context.Background(), e.location(t, "shared"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		runners[i] = projections.New(db, e.store, definitions(), projections.WithLogger(testLogger(t)), projections.WithInstance(fmt.Sprint("instance-", i)))
		if err := runners[i].Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { runners[i].Close() })
	}
	return runners
}

// leaders returns, per projection, the instance every runner names as its
// leader, or an error when they disagree (for a moment after a change of
// leader they may) or a runner does not lead what it claims.
func leaders(runners []*projections.Runner) (map[string]string, error) {
	out := map[string]string{}
	for _, r := range runners {
		st, err := r.Status(context.Background())
		if err != nil {
			return nil, err
		}
		for _, s := range st {
			if prev, ok := out[s.Name]; ok && prev != s.Leader {
				return nil, fmt.Errorf("%s: instances disagree on the leader: %q and %q", s.Name, prev, s.Leader)
			}
			out[s.Name] = s.Leader
			if r.Leading(s.Name) != (s.Leader == r.Instance()) {
				return nil, fmt.Errorf("%s: %s leads: %v, but the catalog names %q", s.Name, r.Instance(), r.Leading(s.Name), s.Leader)
			}
		}
	}
	return out, nil
}

// TestSharedReadModelsOneLeaderFollowersFailover runs three Runners on one
// PostgreSQL schema: each projection has exactly one leader, the others
// follow (min_position waits and queries work on every instance), a
// rebuild asked of a follower is run by the leader, and when the leader
// goes away another takes over within 10 s and the projections go on.
func TestSharedReadModelsOneLeaderFollowersFailover(t *testing.T) {
	e, _ := newDemoEnv(t, onPostgres)
	w := loadWorkload(t, e, 7, 60)
	runners := sharedRunners(t, e, 3)
	for _, r := range runners {
		e.catchUp(t, r)
	}
	first, err := leaders(runners)
	if err != nil {
		t.Fatal(err)
	}
	for name, leader := range first {
		if leader == "" {
			t.Fatalf("%s has no leader", name)
		}
	}

	// Every instance reads the same rows, and follows new writes.
	for range 30 {
		w.step()
	}
	for _, r := range runners {
		e.catchUp(t, r)
	}
	for _, r := range runners[1:] {
		sameDumps(t, runners[0], r)
	}

	// A rebuild asked of a follower is run by the leader.
	follower := runners[0]
	for _, r := range runners {
		if first[summaries.Name] != r.Instance() {
			follower = r
			break
		}
	}
	if err := follower.Rebuild(context.Background(), summaries.Name); err != nil {
		t.Fatalf("rebuild asked of a follower: %v", err)
	}
	for _, r := range runners {
		waitStatus(t, r, func(s projections.Status) bool {
			return s.Name != summaries.Name || (s.Generation >= 2 && s.Rebuild == nil)
		})
	}
	clean := e.runner(t, "clean")
	e.catchUp(t, clean)
	for _, r := range runners {
		e.catchUp(t, r)
		sameDumps(t, clean, r)
	}

	// The leader of the timeline goes away; another takes over.
	var gone *projections.Runner
	var rest []*projections.Runner
	for _, r := range runners {
		if r.Instance() == first[timeline.Name] {
			gone = r
		} else {
			rest = append(rest, r)
		}
	}
	start := time.Now()
	if err := gone.Close(); err != nil {
		t.Fatal(err)
	}
	for {
		now, err := leaders(rest)
		if l := now[timeline.Name]; err == nil && l != gone.Instance() && l != "" {
			t.Logf("%s took the lead of %s in %s", l, timeline.Name, time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("no instance took the lead of %s within 10 s: %v (%v)", timeline.Name, now, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for range 20 {
		w.step()
	}
	// clean follows the log itself: wait for it too before comparing (a
	// comparison with a runner nobody waited for is a race).
	e.catchUp(t, clean)
	for _, r := range rest {
		e.catchUp(t, r)
		sameDumps(t, clean, r)
	}
}

// TestCheckpointFencing: a run whose checkpoint was moved by someone else
// (a second leader, which the leases exclude but a leader that lost its
// lease unknowingly could be) writes nothing more and stops as failed,
// its error saying why.
func TestCheckpointFencing(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e, _ := newDemoEnv(t, backend)
		w := loadWorkload(t, e, 9, 20)
		r := e.runner(t, "fenced")
		e.catchUp(t, r)
		if _, err := r.ExecCatalog(context.Background(), `UPDATE projection_generations SET position = position + 1000000 WHERE name = ?`, timeline.Name); err != nil {
			t.Fatal(err)
		}
		for range 5 {
			w.step()
		}
		waitStatus(t, r, func(s projections.Status) bool {
			return s.Name != timeline.Name || s.Status == projections.StatusFailed
		})
		st, err := r.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Name == timeline.Name && !strings.Contains(s.Error, projections.ErrCheckpointMoved.Error()) {
				t.Fatalf("fenced projection's error: %q", s.Error)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		head, _ := e.store.Head(ctx)
		if err := r.WaitFor(ctx, head, timeline.Name); !errors.Is(err, projections.ErrFailed) {
			t.Fatalf("WaitFor on the fenced projection: %v", err)
		}
	})
}

// TestRebuildOfflineRefusedWhileAnInstanceLeads: the CLI's offline rebuild
// takes the projection's lease, so it is refused while a server runs the
// projection on the same read models, and works once none does.
func TestRebuildOfflineRefusedWhileAnInstanceLeads(t *testing.T) {
	e, _ := newDemoEnv(t, onPostgres)
	loadWorkload(t, e, 11, 10)
	serving := sharedRunners(t, e, 1)[0]
	e.catchUp(t, serving)
	db, err := projections.OpenPostgres(context.Background(), e.location(t, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	offline := projections.New(db, e.store, definitions())
	if err := offline.RebuildOffline(context.Background(), []string{timeline.Name}, time.Second, nil); !errors.Is(err, projections.ErrLedElsewhere) {
		t.Fatalf("offline rebuild while a server leads: %v, want ErrLedElsewhere", err)
	}
	if err := serving.Close(); err != nil {
		t.Fatal(err)
	}
	if err := offline.RebuildOffline(context.Background(), []string{timeline.Name}, time.Second, nil); err != nil {
		t.Fatalf("offline rebuild once no server runs: %v", err)
	}
}
