package demo_test

import (
	"context"
	"testing"
	"time"

	"github.com/samspill/samspill/eventstore/postgres"
	"github.com/samspill/samspill/internal/pgtest"
)

// TestLoadOnPostgres loads the data set into PostgreSQL, which imports it
// with its recording times as the embedded store does: first as it stood
// in 2019, then today, which imports only the rest; a third Load writes
// nothing, and the events are those of the embedded store, position for
// position.
func TestLoadOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store, err := postgres.Open(ctx, pgtest.URL(t))
	if err != nil {
		t.Fatalf("open PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = store.Close() })
	early := load(t, store, time.Date(2019, time.June, 1, 12, 0, 0, 0, time.UTC))
	today := load(t, store, now)
	if early.Appended == 0 || today.Appended != today.Events-early.Events {
		t.Errorf("2019: %+v, then today: %+v", early, today)
	}
	if again := load(t, store, now); again.Appended != 0 {
		t.Errorf("a third Load appended %d events", again.Appended)
	}
	embedded := openStore(t)
	load(t, embedded, now)
	got, want := readAll(t, store), readAll(t, embedded)
	if len(got) != len(want) {
		t.Fatalf("PostgreSQL holds %d events, the embedded store %d", len(got), len(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.EventID != w.EventID || g.Position != w.Position || g.Version != w.Version || !g.RecordedAt.Equal(w.RecordedAt) || !g.OccurredAt.Equal(w.OccurredAt) {
			t.Fatalf("position %d: PostgreSQL has %s v%d recorded %s, the embedded store %s v%d recorded %s",
				w.Position, g.EventID, g.Version, g.RecordedAt, w.EventID, w.Version, w.RecordedAt)
		}
	}
}
