package projections_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/eventstore/sqlite/sqlitetest"
	"github.com/samspill/samspill/internal/pgtest"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/projectionstest"
)

// clock is a settable clock shared by the service and the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Read-model databases the tests run on.
const (
	onSQLite   = "sqlite"
	onPostgres = "postgres"
)

// forEachBackend runs test once with the read models in SQLite files and
// once in PostgreSQL schemas (skipped with pgtest's message where no
// server is configured): the projections are the same code on both, and
// so are their tests.
func forEachBackend(t *testing.T, test func(t *testing.T, backend string)) {
	for _, backend := range []string{onSQLite, onPostgres} {
		t.Run(backend, func(t *testing.T) {
			if backend == onPostgres {
				pgtest.ServerURL(t)
			}
			test(t, backend)
		})
	}
}

// env is a real SQLite event store, an application service writing to it,
// and read models on one backend, opened by name.
type env struct {
	dir     string
	backend string
	clock   *clock
	store   *sqlite.Store
	svc     *app.Service
	// schemas maps a read-model name to its PostgreSQL connection
	// string, so that a name opens the same schema again.
	schemas map[string]string
}

func newEnv(t *testing.T, backend string) *env {
	t.Helper()
	return openEnv(t, backend, t.TempDir())
}

// newDemoEnv is newEnv with the demo data set in the store, loaded up to
// the env's clock (sqlitetest.WriteDemo: loaded once per process, the
// same events demo.Load on the env's store would append).
func newDemoEnv(t *testing.T, backend string) (*env, demo.Summary) {
	t.Helper()
	dir := t.TempDir()
	sum := sqlitetest.WriteDemo(t, filepath.Join(dir, "events.db"), envStart)
	return openEnv(t, backend, dir), sum
}

// envStart is where an env's clock starts.
var envStart = time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)

// openEnv opens an env with its event store in dir.
func openEnv(t *testing.T, backend, dir string) *env {
	t.Helper()
	c := &clock{now: envStart}
	store, err := sqlite.Open(context.Background(), filepath.Join(dir, "events.db"), sqlite.WithClock(c.Now))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	return &env{dir: dir, backend: backend, clock: c, store: store, svc: app.New(store, app.WithClock(c.Now)), schemas: map[string]string{}}
}

// location is where the read models called name live: a file in the env's
// folder, or a schema of their own (made on first use).
func (e *env) location(t *testing.T, name string) string {
	t.Helper()
	if e.backend == onSQLite {
		return filepath.Join(e.dir, name)
	}
	if _, ok := e.schemas[name]; !ok {
		e.schemas[name] = pgtest.URL(t)
	}
	return e.schemas[name]
}

// openDB opens the read models called name; they are closed when t ends.
func (e *env) openDB(t *testing.T, name string) *projections.DB {
	t.Helper()
	db, err := openReadModels(context.Background(), e.backend, e.location(t, name))
	if err != nil {
		t.Fatalf("open read models: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openReadModels opens the read models of backend at location (a file or
// a connection string).
func openReadModels(ctx context.Context, backend, location string) (*projections.DB, error) {
	if backend == onPostgres {
		return projections.OpenPostgres(ctx, location)
	}
	return projections.OpenSQLite(ctx, location)
}

// runner opens the read models called name and starts the projections
// over them; both are closed when t ends.
func (e *env) runner(t *testing.T, name string, opts ...projections.Option) *projections.Runner {
	t.Helper()
	db := e.openDB(t, name)
	opts = append([]projections.Option{projections.WithLogger(testLogger(t))}, opts...)
	r := projections.New(db, e.store, definitions(), opts...)
	if err := r.Start(context.Background()); err != nil {
		t.Fatalf("start projections: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// catchUp waits until every projection of r has reached the store's head.
func (e *env) catchUp(t *testing.T, r *projections.Runner) {
	t.Helper()
	head, err := e.store.Head(context.Background())
	if err != nil {
		t.Fatalf("head: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.WaitFor(ctx, head); err != nil {
		t.Fatalf("projections did not reach head %d: %v", head, err)
	}
}

// dump returns every row of the projection's active tables as text, by
// base table name, sorted: two generations or two runners with equal
// dumps hold equal read models.
func dump(t *testing.T, r *projections.Runner, name string) map[string][]string {
	t.Helper()
	def, err := r.Definition(name)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	err = r.Read(context.Background(), name, func(tb projections.Tables, db projections.Querier) error {
		for _, base := range def.Tables() {
			rows, err := db.QueryContext(context.Background(), `SELECT * FROM "`+tb.Name(base)+`"`)
			if err != nil {
				return err
			}
			cols, _ := rows.Columns()
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				if err := rows.Scan(ptrs...); err != nil {
					rows.Close()
					return err
				}
				cells := make([]string, len(vals))
				for i, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					cells[i] = fmt.Sprint(v)
				}
				out[base] = append(out[base], strings.Join(cells, "|"))
			}
			rows.Close()
			slices.Sort(out[base])
		}
		return nil
	})
	if err != nil {
		t.Fatalf("dump %s: %v", name, err)
	}
	return out
}

// sameDumps fails t unless every projection holds the same rows in a and b.
func sameDumps(t *testing.T, a, b *projections.Runner) {
	t.Helper()
	for _, name := range a.Names() {
		da, db := dump(t, a, name), dump(t, b, name)
		if len(da) == 0 {
			t.Fatalf("%s: empty dump; nothing compared", name)
		}
		for table, rows := range da {
			if !reflect.DeepEqual(rows, db[table]) {
				t.Fatalf("%s.%s differs: %d rows vs %d\n%s", name, table, len(rows), len(db[table]), firstDiff(rows, db[table]))
			}
		}
	}
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf("row %d:\n  %s\n  %s", i, a[i], b[i])
		}
	}
	return "one is a prefix of the other"
}

type testLogWriter struct{ t *testing.T }

func (w testLogWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testLogWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// waitStatus waits until every projection's status satisfies ok.
func waitStatus(t *testing.T, r *projections.Runner, ok func(projections.Status) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := r.Status(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		all := true
		for _, s := range st {
			all = all && ok(s)
		}
		if all {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("projections never reached the status: %+v", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// definitions are the read models the engine's tests run: samspill's own.
func definitions() []projections.Definition { return projectionstest.Definitions() }
