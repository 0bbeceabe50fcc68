package sqlitetest_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/eventstore/sqlite/sqlitetest"
)

func open(t *testing.T, path string, now time.Time) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func readAll(t *testing.T, store eventstore.Store) []eventstore.RecordedEvent {
	t.Helper()
	var all []eventstore.RecordedEvent
	for after := uint64(0); ; {
		page, err := store.ReadAll(context.Background(), after, 500)
		if err != nil {
			t.Fatalf("ReadAll: %v", err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		after = page[len(page)-1].Position
	}
}

// TestWriteDemoEqualsLoad: a copy of the prepared file holds what a test
// loading the demo data set itself would hold, event for event (ids,
// positions, versions, payloads, metadata, recording times), with the same
// summary; two copies are independent; a second WriteDemo for the same
// day uses the same load; and a later demo.Load on the copy appends
// nothing (it is the demo's data, complete).
func TestWriteDemoEqualsLoad(t *testing.T) {
	now := time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC)
	direct := open(t, filepath.Join(t.TempDir(), "events.db"), now)
	want, err := demo.Load(context.Background(), direct, now)
	if err != nil {
		t.Fatal(err)
	}
	if want.Events == 0 {
		t.Fatalf("demo.Load loaded nothing: %+v", want)
	}

	path := filepath.Join(t.TempDir(), "events.db")
	sum := sqlitetest.WriteDemo(t, path, now)
	if sum != want {
		t.Errorf("summary %+v, want %+v", sum, want)
	}
	copied := open(t, path, now)
	got, wantEvents := readAll(t, copied), readAll(t, direct)
	if len(got) != len(wantEvents) {
		t.Fatalf("copy holds %d events, a direct load %d", len(got), len(wantEvents))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], wantEvents[i]) {
			t.Fatalf("event %d differs:\ncopy   %+v\ndirect %+v", i, got[i], wantEvents[i])
		}
	}
	again, err := demo.Load(context.Background(), copied, now)
	if err != nil || again.Appended != 0 {
		t.Errorf("demo.Load on the copy: %+v, %v; want nothing appended", again, err)
	}

	// A second copy is a file of its own: writing to the first leaves it
	// as it was.
	other := filepath.Join(t.TempDir(), "events.db")
	if sqlitetest.WriteDemo(t, other, now) != want {
		t.Error("the second copy's summary differs")
	}
	if _, err := demo.Load(context.Background(), copied, now.AddDate(0, 6, 0)); err != nil {
		t.Fatal(err)
	}
	if n := len(readAll(t, open(t, other, now))); n != len(wantEvents) {
		t.Errorf("the second copy holds %d events, want %d", n, len(wantEvents))
	}
}

// TestWriteDemoRefusesAnExistingFile: a test that already has a store at
// the path keeps it.
func TestWriteDemoRefusesAnExistingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.db")
	open(t, path, time.Now())
	ft := &fatalRecorder{TB: t}
	func() {
		defer func() { _ = recover() }()
		sqlitetest.WriteDemo(ft, path, time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC))
	}()
	if !ft.failed {
		t.Error("WriteDemo overwrote an existing store")
	}
}

// fatalRecorder records a Fatalf instead of ending the test.
type fatalRecorder struct {
	testing.TB
	failed bool
}

func (f *fatalRecorder) Helper() {}

func (f *fatalRecorder) Fatalf(format string, args ...any) {
	f.failed = true
	panic("fatal")
}

// BenchmarkDemo compares what a test paid for the demo data set before
// (demo.Load into its own store) with what it pays now (a copy of the file
// loaded once per process), both up to opening the store.
func BenchmarkDemo(b *testing.B) {
	now := time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC)
	b.Run("Load", func(b *testing.B) {
		for b.Loop() {
			s, err := sqlite.Open(context.Background(), filepath.Join(b.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return now }))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := demo.Load(context.Background(), s, now); err != nil {
				b.Fatal(err)
			}
			_ = s.Close()
		}
	})
	b.Run("WriteDemo", func(b *testing.B) {
		for b.Loop() {
			path := filepath.Join(b.TempDir(), "events.db")
			sqlitetest.WriteDemo(b, path, now)
			s, err := sqlite.Open(context.Background(), path, sqlite.WithClock(func() time.Time { return now }))
			if err != nil {
				b.Fatal(err)
			}
			_ = s.Close()
		}
	})
}
