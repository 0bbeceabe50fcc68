package projections_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/projections"
)

// loadWorkload adds random commands to e's store, which holds the demo
// data set (newDemoEnv), and returns the workload to go on with.
func loadWorkload(t *testing.T, e *env, seed uint64, steps int) *workload {
	t.Helper()
	w := &workload{t: t, r: rand.New(rand.NewPCG(seed, 3)), e: e, accepted: map[string]int{}}
	for range 8 {
		w.initiate()
	}
	for range steps {
		w.step()
	}
	return w
}

// TestInjectedFailureBetweenWriteAndCheckpoint fails batches at random just
// before their checkpoint is written, after the read-model rows were: each
// failed batch rolls back and its run restarts from the checkpoint. The
// result must equal a clean rebuild: nothing doubled, nothing missing.
func TestInjectedFailureBetweenWriteAndCheckpoint(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e, _ := newDemoEnv(t, backend)
		loadWorkload(t, e, 1, 200)

		var mu sync.Mutex
		calls := map[string]int{}
		var injected atomic.Int64
		flaky := e.runner(t, "flaky.db", projections.WithPageSize(13), projections.WithFailpoint(func(projection string) error {
			// Fail every third batch of each projection: often, but never so
			// often in a row that the run gives up.
			mu.Lock()
			calls[projection]++
			n := calls[projection]
			mu.Unlock()
			if n%3 == 0 {
				injected.Add(1)
				return errors.New("injected failure between write and checkpoint")
			}
			return nil
		}))
		e.catchUp(t, flaky)
		if injected.Load() < 5 {
			t.Fatalf("only %d failures injected; the test proves nothing", injected.Load())
		}
		clean := e.runner(t, "clean.db")
		e.catchUp(t, clean)
		sameDumps(t, flaky, clean)
	})
}

// TestPoisonEventFailsProjection: an event a projection cannot apply stops
// it with status failed and the error visible; it is never skipped.
func TestPoisonEventFailsProjection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e, _ := newDemoEnv(t, backend)
		loadWorkload(t, e, 2, 20)
		r := e.runner(t, "poison.db", projections.WithFailpoint(func(string) error { return errors.New("cannot apply") }))
		waitStatus(t, r, func(s projections.Status) bool { return s.Status == projections.StatusFailed })
		st, err := r.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range st {
			if s.Error == "" || s.Position != 0 {
				t.Fatalf("failed projection %+v: want its error and position 0 (nothing skipped)", s)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := r.WaitFor(ctx, 1); !errors.Is(err, projections.ErrFailed) {
			t.Fatalf("WaitFor on a failed projection: %v, want ErrFailed", err)
		}
	})
}

// crashChildEnv tells a re-executed test binary to act as the process that
// gets killed: its value is the data folder, the read models' backend and
// location, and the commit to die at, separated by newlines.
const crashChildEnv = "SAMSPILL_PROJECTION_CRASH_CHILD"

// TestProcessKilledMidBatch runs the projections in a child process that
// kills itself with SIGKILL in the middle of a batch (rows written, the
// checkpoint not yet), several times over the same read models. After
// each kill a restarted runner catches up, and at the end the read models
// equal a clean rebuild.
func TestProcessKilledMidBatch(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e, _ := newDemoEnv(t, backend)
		loadWorkload(t, e, 3, 300)
		readModels := e.location(t, "crashed.db")
		for i, killAt := range []int{3, 17, 40, 2, 90} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.v")
			cmd.Env = append(os.Environ(), crashChildEnv+"="+strings.Join([]string{e.dir, backend, readModels, strconv.Itoa(killAt)}, "\n"))
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
				t.Fatalf("run %d: child was not killed: %v\n%s", i, err, out)
			}
		}
		crashed := e.runner(t, "crashed.db")
		e.catchUp(t, crashed)
		clean := e.runner(t, "clean.db")
		e.catchUp(t, clean)
		sameDumps(t, crashed, clean)
	})
}

// TestCrashChild is the child of TestProcessKilledMidBatch; it does nothing
// in a normal run.
func TestCrashChild(t *testing.T) {
	spec := os.Getenv(crashChildEnv)
	if spec == "" {
		t.Skip("runs only as the child process of TestProcessKilledMidBatch")
	}
	parts := strings.Split(spec, "\n")
	if len(parts) != 4 {
		t.Fatalf("bad %s=%q", crashChildEnv, spec)
	}
	dir, backend, location := parts[0], parts[1], parts[2]
	killAt, err := strconv.Atoi(parts[3])
	if err != nil {
		t.Fatalf("bad %s=%q: %v", crashChildEnv, spec, err)
	}
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "events.db"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := openReadModels(context.Background(), backend, location)
	if err != nil {
		t.Fatal(err)
	}
	var commits atomic.Int64
	r := projections.New(db, store, definitions(), projections.WithPageSize(11), projections.WithFailpoint(func(string) error {
		if commits.Add(1) == int64(killAt) {
			_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // the signal arrives before the checkpoint is written
		}
		return nil
	}))
	if err := r.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Second)
	t.Fatal("not killed: fewer batches than the kill point")
}

// TestRebuildReplacesFailedProjection: once the cause is gone, a rebuild
// brings a failed projection back, equal to a clean run.
func TestRebuildReplacesFailedProjection(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		e, _ := newDemoEnv(t, backend)
		loadWorkload(t, e, 6, 30)
		var broken atomic.Bool
		broken.Store(true)
		r := e.runner(t, "recover.db", projections.WithFailpoint(func(string) error {
			if broken.Load() {
				return errors.New("disk full, say")
			}
			return nil
		}))
		waitStatus(t, r, func(s projections.Status) bool { return s.Status == projections.StatusFailed })
		broken.Store(false)
		for _, name := range r.Names() {
			if err := r.Rebuild(context.Background(), name); err != nil {
				t.Fatal(err)
			}
		}
		waitRebuilt(t, r, 2)
		e.catchUp(t, r)
		clean := e.runner(t, "clean.db")
		e.catchUp(t, clean)
		sameDumps(t, r, clean)
	})
}
