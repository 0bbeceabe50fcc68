package research_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/research"
)

// FuzzImportLines feeds arbitrary files to Import's checks: they must be
// refused with a LineError or accepted, never panic, and an accepted file
// must be written whole.
func FuzzImportLines(f *testing.F) {
	f.Add([]byte(`{"event_id":"e1","type":"MilestoneLogged","schema_version":1,"stream_id":"partnership-0190a9c2-7b1e-7000-8000-000000000001","version":1,"position":1,"occurred_at":"2024-01-01T00:00:00Z","recorded_at":"2024-01-01T00:00:00Z","metadata":{"actor":{"subject":"a","role":"admin"}},"data":{"kind":"meeting","title":"x","note":""}}` + "\n"))
	f.Add([]byte("{}\n\n{\"type\":1}"))
	f.Add([]byte(`{"event_id":"e1","type":"PartnershipInitiated","schema_version":9,"data":null}`))
	f.Fuzz(func(t *testing.T, file []byte) {
		var store recorder
		res, err := research.Import(t.Context(), &store, bytes.NewReader(file), nil)
		var le *research.LineError
		switch {
		case err == nil:
			if store.events != res.Events {
				t.Fatalf("accepted %d events, handed %d to the store", res.Events, store.events)
			}
		case errors.As(err, &le):
			if store.events != 0 {
				t.Fatal("a malformed file reached the store")
			}
		default:
			t.Fatalf("neither accepted nor a line error: %v", err)
		}
	})
}

// recorder is an eventstore.Importer that counts what it is given; the
// fuzz target exercises the checks, which run before any store is touched.
type recorder struct{ events int }

func (r *recorder) Import(_ context.Context, events []eventstore.RecordedEvent) (int, error) {
	r.events += len(events)
	return len(events), nil
}
