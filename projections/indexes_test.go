package projections_test

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/projections"
)

// indexes lists the indexes of every projection's active tables, by
// projection, names without the generation's prefix, sorted.
func indexes(t *testing.T, r *projections.Runner) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, name := range r.Names() {
		def, err := r.Definition(name)
		if err != nil {
			t.Fatal(err)
		}
		err = r.Read(context.Background(), name, func(tb projections.Tables, db projections.Querier) error {
			for _, base := range def.Tables() {
				query := `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?`
				if tb.Dialect() == projections.Postgres {
					query = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = $1`
				}
				rows, err := db.QueryContext(context.Background(), query, tb.Name(base))
				if err != nil {
					return err
				}
				for rows.Next() {
					var index string
					if err := rows.Scan(&index); err != nil {
						rows.Close()
						return err
					}
					out[name] = append(out[name], base+": "+strings.ReplaceAll(index, tb.Prefix(), "{p}"))
				}
				rows.Close()
				if err := rows.Err(); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("indexes of %s: %v", name, err)
		}
		slices.Sort(out[name])
	}
	return out
}

// TestRebuiltGenerationsHaveEveryIndex: a rebuild fills its shadow
// generation without the indexes only queries need and creates them before
// the shadow takes over, online and offline; a generation that serves from
// its creation has them from the start. Either way the serving tables end
// with the same indexes.
func TestRebuiltGenerationsHaveEveryIndex(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ctx := context.Background()
		e, _ := newDemoEnv(t, backend)
		loadWorkload(t, e, 6, 40)
		live := e.runner(t, "live.db")
		e.catchUp(t, live)
		want := indexes(t, live)
		for _, name := range live.Names() {
			def, _ := live.Definition(name)
			dialect := projections.SQLite
			if backend == onPostgres {
				dialect = projections.Postgres
			}
			for _, ddl := range strings.Split(def.Indexes(dialect), ";") {
				if _, index, ok := strings.Cut(ddl, "IF NOT EXISTS {p}"); ok {
					index, _, _ = strings.Cut(index, " ")
					if !slices.ContainsFunc(want[name], func(got string) bool { return strings.HasSuffix(got, ": {p}"+index) }) {
						t.Fatalf("%s: a serving generation lacks index %s: %v", name, index, want[name])
					}
				}
			}
		}

		for _, name := range live.Names() {
			if err := live.Rebuild(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
		waitRebuilt(t, live, 2)
		if got := indexes(t, live); !reflect.DeepEqual(got, want) {
			t.Fatalf("online rebuild: indexes\n got %v\nwant %v", got, want)
		}

		db := e.openDB(t, "offline.db")
		offline := projections.New(db, e.store, definitions())
		for _, name := range offline.Names() {
			if err := offline.RebuildOffline(ctx, []string{name}, time.Second, nil); err != nil {
				t.Fatal(err)
			}
		}
		offline.Close()
		started := projections.New(db, e.store, definitions())
		if err := started.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer started.Close()
		if got := indexes(t, started); !reflect.DeepEqual(got, want) {
			t.Fatalf("offline rebuild: indexes\n got %v\nwant %v", got, want)
		}
		sameDumps(t, live, started)
	})
}
