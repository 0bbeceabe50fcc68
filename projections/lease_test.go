package projections

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/internal/pgtest"
)

// TestReleasedLeaseIsFreeAtOnce: a lease given up is free the moment
// release returns, for a session that is already open (another instance's,
// which asks without first connecting), not only once PostgreSQL has
// reaped the old session. Each handoff is a fresh chance for that race.
func TestReleasedLeaseIsFreeAtOnce(t *testing.T) {
	pgtest.ServerURL(t)
	url := pgtest.URL(t)
	leases := pgLeaser{connString: url}
	ctx := context.Background()
	other, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close(ctx)
	key := Postgres.bind(advisoryKey)
	for i := range 50 {
		l, err := leases.tryAcquire(ctx, "municipality_timeline")
		if err != nil || l == nil {
			t.Fatalf("handoff %d: take the lease: %v, %v", i, l, err)
		}
		if again, err := leases.tryAcquire(ctx, "municipality_timeline"); err != nil || again != nil {
			t.Fatalf("handoff %d: a second holder while the first holds: %v, %v", i, again, err)
		}
		l.release()
		var free bool
		if err := other.QueryRow(ctx, `SELECT pg_try_advisory_lock(`+key+`)`, "projection/"+"municipality_timeline").Scan(&free); err != nil {
			t.Fatal(err)
		}
		if !free {
			t.Fatalf("handoff %d: the lease released just before is still held", i)
		}
		if _, err := other.Exec(ctx, `SELECT pg_advisory_unlock(`+key+`)`, "projection/"+"municipality_timeline"); err != nil {
			t.Fatal(err)
		}
	}
}
