package projections

import (
	"context"
	"database/sql"
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

	// run serialises the handler and finish: it guards w, batch and
	// committing, which only they use. A commit in flight takes mu only,
	// so a handler waiting for it while holding run cannot deadlock.
	run sync.Mutex
	w   writer
	// batch holds the events of the page being handled (or, with one
	// message per event, those acked since the last commit). They are
	// folded and handed to a commit of their own, which writes their rows
	// and the checkpoint in one transaction.
	batch []eventstore.RecordedEvent
	// committing receives the result of the commit in flight; nil when
	// none is.
	committing chan error

	mu      sync.Mutex
	broken  error // set when a batch failed; the run must restart
	failed  chan error
	moved   chan struct{} // closed at every commit and when the run ends
	err     error         // why the generation stopped for good
	stopped bool
	// noSpace is why the last batch failed when it failed for lack of
	// space, until a batch commits: the run is retried, not failed.
	noSpace error

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

// handle is the Watermill handler. The subscriber delivers a page of
// events per message (pubsub.DeliverPages). handle folds the page, waits
// for the previous page's commit, hands this one's to a commit of its own
// and acks: the next page is read and folded while this one is written.
// Messages of one event each (pubsub.DeliverEvents) are collected until
// the last one of their page and handled then.
//
// Acking before the commit is safe: a run always restarts from the
// committed checkpoint, so a batch whose commit fails is read again, never
// lost, and once a batch failed handle refuses every later message until
// the run restarts. Commits run one at a time, in position order. The
// subscriber waits for each ack before sending the next message, so handle
// never runs concurrently with itself.
func (g *generation) handle(msg *message.Message) error {
	g.run.Lock()
	defer g.run.Unlock()
	if err := g.brokenErr(); err != nil {
		// Never go past a failed batch: the run restarts from the
		// checkpoint.
		return err
	}
	events, err := pubsub.PageFrom(msg)
	if err == nil {
		g.batch = append(g.batch, events...)
		if msg.Metadata.Get(pubsub.MetaPageEnd) == "true" {
			// The batch must not be cut short by the subscription ending
			// between two statements; cancellation ends the run between
			// batches.
			err = g.foldAndCommit(context.WithoutCancel(msg.Context()))
		}
	}
	if err != nil {
		g.batch = g.batch[:0]
		g.w.Reset()
		g.breakRun(err)
		return err
	}
	return nil
}

// foldAndCommit folds the batch and starts its commit once the previous
// one has succeeded. The caller holds g.run.
func (g *generation) foldAndCommit(ctx context.Context) error {
	if len(g.batch) == 0 {
		return nil
	}
	// Fold outside any transaction: with SQLite's single writer, other
	// projections and this one's previous batch commit meanwhile.
	write, err := g.w.Fold(ctx, g.db, g.batch)
	if err != nil {
		return err
	}
	last := g.batch[len(g.batch)-1].Position
	g.batch = g.batch[:0]
	if err := g.awaitCommit(); err != nil {
		return err
	}
	done := make(chan error, 1)
	g.committing = done
	go func() { done <- g.commit(ctx, write, last) }()
	return nil
}

// awaitCommit waits for the commit in flight, if any, and returns its
// error. The caller holds g.run.
func (g *generation) awaitCommit() error {
	if g.committing == nil {
		return nil
	}
	err := <-g.committing
	g.committing = nil
	return err
}

// commit writes a folded batch, whose last event is at position last, and
// the checkpoint in one transaction. A failure breaks the run at once, so
// that it restarts from the checkpoint even if no message follows.
func (g *generation) commit(ctx context.Context, write func(context.Context, *sql.Tx) error, last uint64) error {
	err := g.commitTx(ctx, write, last)
	if err != nil {
		g.breakRun(err)
		return err
	}
	g.position.Store(last)
	g.mu.Lock()
	g.noSpace = nil
	g.notifyLocked()
	g.mu.Unlock()
	return nil
}

func (g *generation) commitTx(ctx context.Context, write func(context.Context, *sql.Tx) error, last uint64) error {
	tx, err := g.db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin batch: %w", err)
	}
	defer tx.Rollback()
	if err := write(ctx, tx); err != nil {
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
	return nil
}

// brokenErr returns why the run must restart, nil while it need not.
func (g *generation) brokenErr() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.broken
}

// breakRun records the first failure of the run and tells the run to
// restart from the checkpoint.
func (g *generation) breakRun(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.broken != nil {
		return
	}
	g.broken = err
	select {
	case g.failed <- err:
	default:
	}
}

// finish ends a run: it waits for the commit in flight and commits an
// intact batch left over (a clean shutdown keeps its work). It returns the
// run's failure, if a commit failed.
func (g *generation) finish() error {
	g.run.Lock()
	defer g.run.Unlock()
	if err := g.awaitCommit(); err != nil {
		return err
	}
	if g.brokenErr() != nil {
		return nil // reported through failed
	}
	if err := g.foldAndCommit(context.Background()); err != nil {
		g.breakRun(err)
		return err
	}
	return g.awaitCommit()
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

// waitForStorage records that the run's last batch failed for lack of
// space (cause); the next commit clears it.
func (g *generation) waitForStorage(cause error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.noSpace = cause
}

// waiting returns why the generation lags for lack of space, nil unless
// its last batch failed for that.
func (g *generation) waiting() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.noSpace
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
