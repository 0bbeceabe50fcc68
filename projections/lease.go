package projections

import "context"

// leaser hands out the right to run a projection: at any moment at most
// one holder among all the instances that share the read models. The
// holder (the leader) runs the projection's generations and writes its
// tables and checkpoints; the other instances follow its progress through
// the catalog and answer queries from the same tables.
type leaser interface {
	// tryAcquire returns a lease on the projection name, or nil when
	// another instance holds it.
	tryAcquire(ctx context.Context, name string) (lease, error)
}

// lease is the right to run one projection, held until released or lost.
type lease interface {
	// lost is closed when the lease ends without release, e.g. because
	// its connection to the database died; the holder must stop writing.
	lost() <-chan struct{}
	// release gives the lease up.
	release()
}

// soleLeaser is the leaser of a read-model database that one process owns
// (the embedded SQLite file, behind the data folder's lock): every lease
// is granted and never lost.
type soleLeaser struct{}

func (soleLeaser) tryAcquire(context.Context, string) (lease, error) { return soleLease{}, nil }

type soleLease struct{}

func (soleLease) lost() <-chan struct{} { return nil } // never
func (soleLease) release()              {}
