package eventstoretest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
)

// The suite is tested on itself: a few of its subtests run, in a child
// process, against deliberately broken stores (wrappers around the SQLite
// adapter) and must fail there, and pass against the unbroken store.

const brokenEnv = "EVENTSTORETEST_BROKEN"

func openSQLite(t *testing.T, opts ...sqlite.Option) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "events.db"), opts...)
	if err != nil {
		t.Fatalf("open sqlite store: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// anyVersion drops the expected-version check: every append is Any.
type anyVersion struct{ eventstore.Store }

func (s anyVersion) Append(ctx context.Context, req eventstore.AppendRequest) (eventstore.AppendResult, error) {
	req.Expected = eventstore.Any()
	return s.Store.Append(ctx, req)
}

// lateEvents makes every fifth event show up late in ReadAll: the first
// page that would contain it leaves it out (while showing later ones), as
// a store does that hands out positions before commit. A reader tailing
// the log passes it and never sees it.
type lateEvents struct {
	eventstore.Store
	mu      sync.Mutex
	delayed map[uint64]bool
}

func (s *lateEvents) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	page, err := s.Store.ReadAll(ctx, after, limit)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := page[:0:0]
	for i, e := range page {
		if e.Position%5 == 0 && i < len(page)-1 && !s.delayed[e.Position] {
			s.delayed[e.Position] = true
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

var brokenStores = map[string]struct {
	newStore Constructor
	subtests []string
}{
	"control": {
		newStore: func(t *testing.T) eventstore.Store { return openSQLite(t) },
		subtests: []string{"ExpectedVersion", "ConcurrentWriters", "RoundTrip", "ConcurrentVisibility"},
	},
	"version": {
		newStore: func(t *testing.T) eventstore.Store { return anyVersion{openSQLite(t)} },
		subtests: []string{"ExpectedVersion", "ConcurrentWriters"},
	},
	"clock": {
		newStore: func(t *testing.T) eventstore.Store {
			return openSQLite(t, sqlite.WithClock(func() time.Time { return time.Unix(0, 0) }))
		},
		subtests: []string{"RoundTrip"},
	},
	"late": {
		newStore: func(t *testing.T) eventstore.Store {
			return &lateEvents{Store: openSQLite(t), delayed: map[uint64]bool{}}
		},
		subtests: []string{"ConcurrentVisibility"},
	},
}

// TestBrokenStoreChild runs only as the child of TestSuiteCatchesBrokenStores.
func TestBrokenStoreChild(t *testing.T) {
	name := os.Getenv(brokenEnv)
	if name == "" {
		t.Skip("runs as the child of TestSuiteCatchesBrokenStores")
	}
	b, ok := brokenStores[name]
	if !ok {
		t.Fatalf("unknown broken store %q", name)
	}
	run(t, b.newStore, Capabilities{IdempotencyKeys: true}, func(n string) bool { return slices.Contains(b.subtests, n) })
}

func TestSuiteCatchesBrokenStores(t *testing.T) {
	if os.Getenv(brokenEnv) != "" {
		t.Skip("already the child")
	}
	for _, c := range []struct {
		store    string
		wantFail bool
		want     []string
	}{
		{"control", false, []string{
			"--- PASS: TestBrokenStoreChild/ExpectedVersion",
			"--- PASS: TestBrokenStoreChild/ConcurrentWriters",
			"--- PASS: TestBrokenStoreChild/RoundTrip",
			"--- PASS: TestBrokenStoreChild/ConcurrentVisibility",
		}},
		{"version", true, []string{
			"--- FAIL: TestBrokenStoreChild/ExpectedVersion/NoStreamOnExisting",
			"--- FAIL: TestBrokenStoreChild/ExpectedVersion/ExactlyWrong",
			"--- FAIL: TestBrokenStoreChild/ConcurrentWriters",
			"both appended at expected version",
		}},
		{"clock", true, []string{
			"--- FAIL: TestBrokenStoreChild/RoundTrip",
			"recorded_at 1970-01-01",
		}},
		{"late", true, []string{
			"--- FAIL: TestBrokenStoreChild/ConcurrentVisibility",
			"never became visible to it",
		}},
	} {
		t.Run(c.store, func(t *testing.T) {
			t.Parallel()
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestBrokenStoreChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+c.store)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			switch {
			case c.wantFail && !errors.As(err, &exit):
				t.Fatalf("suite against the %q store: %v; want it to fail\n%s", c.store, err, out)
			case !c.wantFail && err != nil:
				t.Fatalf("suite against the %q store failed: %v\n%s", c.store, err, out)
			}
			for _, w := range c.want {
				if !strings.Contains(string(out), w) {
					t.Fatalf("output of the suite against the %q store lacks %q:\n%s", c.store, w, out)
				}
			}
		})
	}
}
