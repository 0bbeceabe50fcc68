package research_test

import (
	"bytes"
	"context"
	"io"
	"path/filepath"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/eventstore/sqlite/sqlitetest"
	"github.com/samspill/samspill/research"
)

// now pins the demo data set and the stores' clocks.
var now = time.Date(2026, time.November, 26, 12, 0, 0, 0, time.UTC)

var secret = []byte("installation secret of the tests")

// openStore opens an empty SQLite event store in a temporary folder.
func openStore(t *testing.T) *sqlite.Store {
	t.Helper()
	return openStoreAt(t, filepath.Join(t.TempDir(), "events.db"))
}

// openStoreAt opens the SQLite event store at path.
func openStoreAt(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), path, sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// demoStore is a store holding the demo data set (sqlitetest.WriteDemo:
// loaded once per process, the same events demo.Load would append here).
func demoStore(t *testing.T) *sqlite.Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "events.db")
	sqlitetest.WriteDemo(t, path, now)
	return openStoreAt(t, path)
}

func head(t *testing.T, s eventstore.Store) uint64 {
	t.Helper()
	h, err := s.Head(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func exportEvents(t *testing.T, s eventstore.Store, at uint64) ([]byte, research.Summary) {
	t.Helper()
	pos, err := research.Position(context.Background(), s, at)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sum, err := research.WriteEvents(context.Background(), s, &buf, research.EventsOptions{Position: pos, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

func exportSpells(t *testing.T, s eventstore.Store, at uint64, asOf string) ([]byte, research.Summary) {
	t.Helper()
	pos, err := research.Position(context.Background(), s, at)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	sum, err := writeSpells(context.Background(), s, &buf, pos, asOf)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

// writeSpells writes spells.csv as the API and the CLI do, with the
// file's one-off keys under the test secret.
func writeSpells(ctx context.Context, s eventstore.Store, w io.Writer, position uint64, asOf string) (research.Summary, error) {
	f := research.File{Export: research.KindSpells, Format: research.FormatCSV, Position: position, AsOf: asOf}
	f.Keys = f.OneOffKeys(secret)
	return f.Write(ctx, s, w, secret)
}
