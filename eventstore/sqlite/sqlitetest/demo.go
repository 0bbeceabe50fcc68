// Package sqlitetest prepares SQLite event store files for the tests of
// the packages that read them (http, web, projections, research, ...).
//
// Loading the demo data set costs thousands of fsynced appends and the
// checks demo.Load makes on the way; dozens of tests need exactly that
// store, so it is loaded once per process and each test gets its own copy
// of the file, as if it had loaded the set itself.
package sqlitetest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/eventstore/sqlite"
)

// demoFile is the demo data set loaded up to one day, as the bytes of a
// closed event store file.
type demoFile struct {
	once sync.Once
	data []byte
	sum  demo.Summary
	err  error
}

var demoFiles sync.Map // time.Time (UTC) → *demoFile

// WriteDemo writes at path (a file that must not exist yet) an event store
// holding the demo data set loaded up to now, and returns what demo.Load
// reported. The store is the same, event for event, as one opened at path
// and handed to demo.Load(ctx, store, now): demo.Load imports into SQLite
// with the recording times of its own plan (TestWriteDemoEqualsLoad). The
// caller opens the file with the options it needs.
func WriteDemo(t testing.TB, path string, now time.Time) demo.Summary {
	t.Helper()
	v, _ := demoFiles.LoadOrStore(now.UTC(), &demoFile{})
	f := v.(*demoFile)
	f.once.Do(func() { f.data, f.sum, f.err = loadDemo(now) })
	if f.err != nil {
		t.Fatalf("demo data set: %v", f.err)
	}
	// O_EXCL: a test that meant to open an existing store must not have it
	// replaced.
	file, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatalf("demo data set: %v", err)
	}
	if _, err := file.Write(f.data); err != nil {
		_ = file.Close()
		t.Fatalf("demo data set: write %s: %v", path, err)
	}
	if err := file.Close(); err != nil {
		t.Fatalf("demo data set: close %s: %v", path, err)
	}
	return f.sum
}

// loadDemo loads the demo data set into a store in a folder of its own,
// closes it (which folds the write-ahead log into the file) and returns
// the file's bytes.
func loadDemo(now time.Time) (data []byte, sum demo.Summary, err error) {
	dir, err := os.MkdirTemp("", "samspill-demo-")
	if err != nil {
		return nil, sum, err
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	path := filepath.Join(dir, "events.db")
	store, err := sqlite.Open(ctx, path, sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		return nil, sum, err
	}
	sum, err = demo.Load(ctx, store, now)
	if cerr := store.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close: %w", cerr)
	}
	if err != nil {
		return nil, sum, err
	}
	// A write-ahead log left beside the file would hold committed events
	// the copy lacks.
	for _, suffix := range []string{"-wal", "-journal"} {
		if st, err := os.Stat(path + suffix); err == nil && st.Size() > 0 {
			return nil, sum, fmt.Errorf("%s%s is not empty after close (%d bytes)", path, suffix, st.Size())
		}
	}
	data, err = os.ReadFile(path)
	return data, sum, err
}
