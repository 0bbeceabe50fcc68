package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
)

// generation is one copy of a projection's tables and the run that fills
// them. The active generation answers queries; a rebuild fills a new one
// beside it and then takes its place.
type generation struct {
	def    definition
	number int
	tables Tables
	db     *DB
	// failpoint, when set by tests, runs before each checkpoint write; an
	// error there acts as a crash between the read-model write and the
	// checkpoint.
	failpoint func(projection string) error

	// position is the last committed position: what queries see.
	position atomic.Uint64

	mu sync.Mutex
	w  writer
	// batch holds the events acked since the last commit. They are applied
	// and committed together with the checkpoint at the end of the page the
	// subscriber read: one transaction, and the deep SQLite call stacks run
	// once per batch rather than on each message's fresh goroutine.
	batch   []eventstore.RecordedEvent
	broken  error // set when a batch failed; the run must restart
	failed  chan error
	moved   chan struct{} // closed at every commit and when the run ends
	err     error         // why the generation stopped for good
	stopped bool

	// inUse is held for reading by queries and for writing by drop.
	inUse sync.RWMutex

	cancel context.CancelFunc
	done   chan struct{}
}

func newGenerationHandle(db *DB, def definition, number int, position uint64) *generation {
	g := &generation{
		def:    def,
		number: number,
		tables: tablesOf(def.Name(), number, db.dialect),
		db:     db,
		moved:  make(chan struct{}),
		failed: make(chan error, 1),
		done:   make(chan struct{}),
	}
	g.position.Store(position)
	return g
}

// handle is the Watermill handler. It collects events and, at the end of
// each page the subscriber read, applies the batch and commits it with the
// checkpoint in one transaction. Acking before the commit is safe: a run
// always restarts from the committed checkpoint, so an uncommitted batch is
// read again, never lost. The subscriber waits for each ack before sending
// the next message, so handle never runs concurrently with itself.
func (g *generation) handle(msg *message.Message) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken != nil {
		// Never go past a failed batch: the run restarts from the
		// checkpoint.
		return g.broken
	}
	e, err := pubsub.EventFrom(msg)
	if err == nil {
		g.batch = append(g.batch, e)
		if msg.Metadata.Get(pubsub.MetaPageEnd) == "true" {
			// The batch must not be cut short by the subscription ending
			// between two statements; cancellation ends the run between
			// batches.
			err = g.commitLocked(context.WithoutCancel(msg.Context()))
		}
	}
	if err != nil {
		g.breakLocked(err)
		return err
	}
	return nil
}

// commitLocked applies the batch and writes the checkpoint in one
// transaction.
func (g *generation) commitLocked(ctx context.Context) error {
	if len(g.batch) == 0 {
		return nil
	}
	tx, err := g.db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin batch: %w", err)
	}
	defer tx.Rollback()
	if err := g.w.Apply(ctx, tx, g.batch); err != nil {
		return err
	}
	if g.failpoint != nil {
		if err := g.failpoint(g.def.Name()); err != nil {
			return err
		}
	}
	// The checkpoint moves only from the position this run committed
	// last: should a second instance ever run the generation (a leader
	// that lost its lease and does not know it yet), the one that is
	// behind fails its batch instead of writing events twice.
	last := g.batch[len(g.batch)-1].Position
	moved, err := tx.ExecContext(ctx, g.db.q(`UPDATE projection_generations SET position = ? WHERE name = ? AND generation = ? AND position = ?`),
		last, g.def.Name(), g.number, g.position.Load())
	if err != nil {
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if n, err := moved.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("write checkpoint at %d: %w", last, errors.Join(errCheckpointMoved, err))
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	g.batch = g.batch[:0]
	g.position.Store(last)
	g.notifyLocked()
	return nil
}

// breakLocked drops the batch and the writer's cached state and tells the
// run to restart from the checkpoint.
func (g *generation) breakLocked(err error) {
	g.batch = g.batch[:0]
	g.w.Reset()
	g.broken = err
	select {
	case g.failed <- err:
	default:
	}
}

// finish ends a run: an intact batch is committed (a clean shutdown keeps
// its work).
func (g *generation) finish() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken != nil {
		return nil
	}
	if err := g.commitLocked(context.Background()); err != nil {
		g.breakLocked(err)
		return err
	}
	return nil
}

func (g *generation) notifyLocked() {
	close(g.moved)
	g.moved = make(chan struct{})
}

// errCheckpointMoved means a generation's checkpoint is not where this run
// left it: another instance runs the generation too, or dropped it.
var errCheckpointMoved = errors.New("the checkpoint moved: another instance runs this projection")

// observe records what the catalog says of a generation another instance
// runs: its committed position and, when it stopped on an event it cannot
// apply, the error (nil otherwise).
func (g *generation) observe(position uint64, failure error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	changed := position != g.position.Load() || (failure == nil) != (g.err == nil)
	g.position.Store(position)
	g.stopped, g.err = failure != nil, failure
	if changed {
		g.notifyLocked()
	}
}

// changed returns a channel closed at the next commit or when the
// generation stops.
func (g *generation) changed() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.moved
}

func (g *generation) state() (stopped bool, err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stopped, g.err
}

// markStopped records that the generation's run has ended for good, with
// the error that ended it (nil for a requested stop).
func (g *generation) markStopped(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.stopped, g.err = true, err
	g.notifyLocked()
}

// checkpoints adapts the generation to the subscriber: the subscriber starts
// from the committed position; acks need no saving, because the handler
// commits the checkpoint with the read model.
type checkpoints struct{ g *generation }

func (c checkpoints) Load(context.Context, string) (uint64, error) { return c.g.position.Load(), nil }
func (c checkpoints) Save(context.Context, string, uint64) error   { return nil }

var _ pubsub.Checkpoints = checkpoints{}
