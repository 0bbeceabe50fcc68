package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/samspill/samspill/eventstore/pubsub"
	"github.com/samspill/samspill/history"
)

// maxAttempts is how often a batch is tried, or a run set up, before the
// generations it writes are declared failed.
const maxAttempts = 4

// maxStorageWait bounds the pause between the tries of a batch that
// failed for lack of space: the projection goes on within about this long
// once space has been freed.
const maxStorageWait = 5 * time.Second

// run folds the log into generations that stand at the same committed
// position, usually every projection this instance leads: one Watermill
// router with one handler, fed by the store-backed subscriber of
// eventstore/pubsub a page of events per message (the page is the
// message's payload). The handler decodes the page, folds it once
// (fold.go: each event decoded once, the partnerships' states before and
// after it) and has every member's writer write its rows, then commits
// them with every member's checkpoint in one transaction, and only then
// acks: the read models and their checkpoints move together, exactly
// once.
//
// Watermill's middleware does the rest: Recoverer turns a panic into a
// failed batch, Retry retries a failed batch in place, with backoff, which
// holds the ordered stream until it succeeds (a batch that failed for lack
// of space is retried until space is freed); after maxAttempts failures
// that are not for lack of space the generation the failure names (or,
// when it names none, every member) is marked failed and leaves the run,
// and the others go on. No event is ever skipped: there is no
// PoisonQueue.
//
// A member that halts (a rebuild freezing the generation it replaces, a
// lost lease, Close) leaves once the batch being written has committed;
// the others go on from their checkpoint in a new router.
type run struct {
	r *Runner

	mu      sync.Mutex
	members []*generation
	leaving []*generation
	// wake is closed when a member asks to leave.
	wake chan struct{}
}

// launch starts the run of g alone.
func (r *Runner) launch(g *generation) { r.launchTogether([]*generation{g}) }

// launchTogether starts runs for gens: one per committed position, so
// that generations that stand at the same position share the reading and
// the folding of the log.
func (r *Runner) launchTogether(gens []*generation) {
	var groups [][]*generation
	for _, g := range gens {
		i := slices.IndexFunc(groups, func(group []*generation) bool { return group[0].position.Load() == g.position.Load() })
		if i < 0 {
			groups = append(groups, nil)
			i = len(groups) - 1
		}
		groups[i] = append(groups[i], g)
	}
	for _, members := range groups {
		x := &run{r: r, members: members, wake: make(chan struct{})}
		for _, g := range members {
			if _, err := r.db.w.ExecContext(r.ctx, r.db.q(`DELETE FROM projection_failures WHERE name = ? AND generation = ?`), g.def.Name(), g.number); err != nil {
				r.log.Warn("clear the failure record of a projection", "projection", g.def.Name(), "generation", g.number, "err", err)
			}
			g.mu.Lock()
			g.x = x
			g.mu.Unlock()
		}
		r.wg.Go(x.supervise)
	}
}

// release asks the run to let g go (see generation.halt).
func (x *run) release(g *generation) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if !slices.Contains(x.members, g) || slices.Contains(x.leaving, g) {
		return
	}
	x.leaving = append(x.leaving, g)
	close(x.wake)
	x.wake = make(chan struct{})
}

// remaining lets the members that asked to leave, and those in gone, go
// (stopped with err) and returns the others with the channel their next
// leaving closes.
func (x *run) remaining(err error, gone ...*generation) ([]*generation, <-chan struct{}) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var kept []*generation
	for _, g := range x.members {
		if slices.Contains(x.leaving, g) || slices.Contains(gone, g) {
			if slices.Contains(gone, g) {
				g.markStopped(err)
			} else {
				g.markStopped(nil)
			}
			close(g.done)
			continue
		}
		kept = append(kept, g)
	}
	x.members, x.leaving = kept, nil
	return slices.Clone(kept), x.wake
}

// supervise runs the members until they have all left or the Runner
// closes. A run that cannot be set up (statements, subscriber, router) is
// tried again with backoff; after maxAttempts the members are failed.
func (x *run) supervise() {
	r := x.r
	attempts := 0
	for {
		members, wake := x.remaining(nil)
		if len(members) == 0 {
			return
		}
		if r.ctx.Err() != nil {
			x.remaining(nil, members...)
			return
		}
		err := x.once(r.ctx, members, wake)
		var gaveUp *batchFailure
		switch {
		case err == nil:
			attempts = 0
			continue
		case errors.As(err, &gaveUp):
			attempts = 0
			x.fail(gaveUp.failing(members), err)
			continue
		}
		attempts++
		if attempts >= maxAttempts {
			x.fail(members, err)
			continue
		}
		delay := r.restartDelay << attempts
		r.log.Warn("projection run failed; starting it again", "projections", names(members), "attempt", attempts, "retry_in", delay, "err", err)
		select {
		case <-r.ctx.Done():
		case <-time.After(delay):
		}
	}
}

// fail marks gens failed with err, records it for the other instances and
// lets them leave the run.
func (x *run) fail(gens []*generation, err error) {
	var named *memberError
	if errors.As(err, &named) {
		err = named.err
	}
	for _, g := range gens {
		x.r.log.Error("projection failed", "projection", g.def.Name(), "generation", g.number, "position", g.position.Load(), "err", err)
		x.r.recordFailure(g, err)
	}
	x.remaining(fmt.Errorf("%w: %w", ErrFailed, err), gens...)
}

// names joins the members' names: the run's consumer group.
func names(members []*generation) string {
	out := make([]string, len(members))
	for i, g := range members {
		out[i] = g.def.Name()
	}
	return strings.Join(out, "+")
}

// memberError is a failure of one member's write or checkpoint.
type memberError struct {
	g   *generation
	err error
}

func (e *memberError) Error() string { return e.err.Error() }
func (e *memberError) Unwrap() error { return e.err }

// batchFailure is a batch that failed maxAttempts times: the members it
// names fail.
type batchFailure struct{ err error }

func (e *batchFailure) Error() string { return e.err.Error() }
func (e *batchFailure) Unwrap() error { return e.err }

// failing returns the members the failure names: the one whose write or
// checkpoint failed, or all of them.
func (e *batchFailure) failing(members []*generation) []*generation {
	var m *memberError
	if errors.As(e.err, &m) && slices.Contains(members, m.g) {
		return []*generation{m.g}
	}
	return members
}

// errGaveUp refuses every message after a batch failed for good, until
// the run has stopped.
var errGaveUp = errors.New("the run gave up on a batch")

// once runs members in one router until ctx ends or wake is closed (nil),
// or a batch fails for good (a *batchFailure), or the router cannot run.
func (x *run) once(ctx context.Context, members []*generation, wake <-chan struct{}) error {
	r := x.r
	writers := make([]Writer, 0, len(members))
	defer func() {
		for _, w := range writers {
			_ = w.Close()
		}
	}()
	for _, g := range members {
		w, err := g.def.NewWriter(ctx, r.db.w, g.tables)
		if err != nil {
			return fmt.Errorf("writer of %s: %w", g.def.Name(), err)
		}
		writers = append(writers, w)
	}
	group := names(members)
	wlog := watermill.NewSlogLoggerWithLevelMapping(r.log.With("projections", group),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	sub, err := pubsub.NewSubscriber(r.store, pubsub.SubscriberConfig{
		ConsumerGroup: group,
		Checkpoints:   checkpoints{members},
		Delivery:      pubsub.DeliverPages,
		PageSize:      r.pageSize,
		// The checkpoint must reach the head also when the log ends
		// with the surveys' events, which are not the projections'.
		MarkRead: true,
		Logger:   wlog,
	})
	if err != nil {
		return fmt.Errorf("subscriber: %w", err)
	}
	defer sub.Close()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, wlog)
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	b := &batches{r: r, members: members, writers: writers, fold: newFolder(r.store, r.states, members), stopping: runCtx, failed: make(chan error, 1)}
	h := router.AddConsumerHandler(group, history.Topic, sub, b.handle)
	// Outermost first: a failure that outlived Retry ends the run;
	// Retry tries a failed batch again in place; Recoverer makes a panic
	// a failed batch.
	h.AddMiddleware(b.giveUp, middleware.Retry{
		MaxRetries:      math.MaxInt32,  // b.retry decides
		InitialInterval: r.restartDelay, // Retry advances its backoff twice per try: 2, 8, 32 times this
		Multiplier:      2,
		MaxInterval:     maxStorageWait,
		ShouldRetry:     b.retry,
	}.Middleware, middleware.Recoverer)
	if r.metrics != nil {
		r.metrics.AddPrometheusRouterMetrics(router)
	}
	ended := make(chan error, 1)
	go func() { ended <- router.Run(runCtx) }()
	// A router closed while Run is still starting waits out its
	// CloseTimeout for handlers that never start (Watermill 1.5): a
	// member halting at once would take 30 s.
	select {
	case <-router.Running():
	case err := <-ended:
		ended <- err
	}

	var failure error
	select {
	case <-ctx.Done():
	case <-wake:
	case failure = <-b.failed:
	case err := <-ended:
		ended <- err
		if ctx.Err() == nil {
			failure = fmt.Errorf("router stopped: %w", err)
		}
	}
	stop()
	_ = router.Close()
	<-ended
	return failure
}

// batches is the handler of one router: it folds and commits the pages.
// The subscriber waits for each ack before sending the next message, so
// handle never runs concurrently with itself.
type batches struct {
	r       *Runner
	members []*generation
	writers []Writer
	fold    *folder
	// stopping ends when the run is asked to stop: failures then are no
	// failures of the batch.
	stopping context.Context
	failed   chan error
	broken   atomic.Bool
	// attempts counts the batch's failures other than for lack of space.
	attempts int
}

// handle decodes the page the message carries, folds it once for every
// member, and writes every member's rows and checkpoint in one
// transaction, a chunk of the page at a time while the next chunk is
// folded. The transaction is not cut short by the subscription ending
// (shutdown waits for it); the fold is.
func (b *batches) handle(msg *message.Message) error {
	if b.broken.Load() {
		return errGaveUp
	}
	events, err := pubsub.PageFrom(msg)
	if err != nil {
		return err
	}
	last, marked := pubsub.PageRead(msg)
	if len(events) > 0 {
		last = max(last, events[len(events)-1].Position)
	}
	if len(events) == 0 {
		if !marked || last <= b.members[0].position.Load() {
			return nil
		}
		// Only other topics' events were read: move the checkpoint
		// past them, writing no rows.
		b.fold.begin()
		chunks, folded := make(chan *Page), make(chan error, 1)
		close(chunks)
		folded <- nil
		return b.commit(context.WithoutCancel(msg.Context()), chunks, folded, last)
	}
	ctx := msg.Context()
	b.fold.begin()
	foldCtx, stop := context.WithCancel(ctx)
	defer stop()
	chunks := make(chan *Page, 1)
	folded := make(chan error, 1)
	go func() {
		defer close(chunks)
		folded <- b.fold.fold(foldCtx, b.r.db, events, func(p *Page) bool {
			select {
			case chunks <- p:
				return true
			case <-foldCtx.Done():
				return false
			}
		})
	}()
	err = b.commit(context.WithoutCancel(ctx), chunks, folded, last)
	stop()
	for range chunks { // a commit that failed early leaves chunks behind
	}
	return err
}

// commit writes the chunks of a page, whose last event is at position
// last, into every member, then the members' checkpoints, in one
// transaction; folded reports the end of the fold.
func (b *batches) commit(ctx context.Context, chunks <-chan *Page, folded <-chan error, last uint64) error {
	tx, err := b.r.db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin batch: %w", err)
	}
	defer tx.Rollback()
	for page := range chunks {
		for i, g := range b.members {
			if err := b.writers[i].Write(ctx, tx, page); err != nil {
				return &memberError{g: g, err: err}
			}
		}
	}
	if err := <-folded; err != nil {
		return err
	}
	for _, g := range b.members {
		if g.failpoint != nil {
			if err := g.failpoint(g.def.Name()); err != nil {
				return &memberError{g: g, err: err}
			}
		}
		// The checkpoint moves only from the position this run committed
		// last: should a second instance ever run the generation (a leader
		// that lost its lease and does not know it yet), the one that is
		// behind fails its batch instead of writing events twice.
		moved, err := tx.ExecContext(ctx, b.r.db.q(`UPDATE projection_generations SET position = ? WHERE name = ? AND generation = ? AND position = ?`),
			last, g.def.Name(), g.number, g.position.Load())
		if err != nil {
			return &memberError{g: g, err: fmt.Errorf("write checkpoint: %w", err)}
		}
		if n, err := moved.RowsAffected(); err != nil || n != 1 {
			return &memberError{g: g, err: fmt.Errorf("write checkpoint at %d: %w", last, errors.Join(errCheckpointMoved, err))}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	b.attempts = 0
	for _, g := range b.members {
		g.committed(last)
	}
	b.fold.committed()
	return nil
}

// retry tells Watermill's Retry whether to try a failed batch again: for
// lack of space always (the members say why they lag meanwhile), for
// anything else until maxAttempts, and never once the run stops.
func (b *batches) retry(p middleware.RetryParams) bool {
	if b.stopping.Err() != nil || errors.Is(p.Err, errGaveUp) {
		return false
	}
	log, group := b.r.log, names(b.members)
	if b.r.db.dialect.diskFull(p.Err) {
		for _, g := range b.members {
			g.waitForStorage(p.Err)
		}
		level := slog.LevelDebug
		if p.RetryNum == 0 {
			level = slog.LevelWarn
		}
		log.Log(b.stopping, level, "projection cannot write: no space left; retrying the batch until space is freed",
			"projections", group, "retry_in", p.Delay, "err", p.Err)
		return true
	}
	b.attempts++
	if b.attempts >= maxAttempts {
		return false
	}
	log.Warn("projection batch failed; retrying it from the checkpoint", "projections", group, "attempt", b.attempts, "retry_in", p.Delay, "err", p.Err)
	return true
}

// giveUp is the outermost middleware: a batch that failed for good ends
// the run (its members then fail), unless the run is stopping anyway.
func (b *batches) giveUp(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		out, err := h(msg)
		if err != nil && b.stopping.Err() == nil && !b.broken.Swap(true) {
			b.failed <- &batchFailure{err: err}
		}
		return out, err
	}
}

// checkpoints adapts the members to the subscriber: a subscription starts
// from their committed position. Save has nothing to do: the handler
// commits each member's checkpoint in the transaction that writes its
// rows (exactly-once effect), before the ack that leads to Save.
type checkpoints struct{ members []*generation }

func (c checkpoints) Load(context.Context, string) (uint64, error) {
	p := c.members[0].position.Load()
	for _, g := range c.members[1:] {
		if g.position.Load() != p {
			return 0, fmt.Errorf("the run's generations stand at %d and %d", p, g.position.Load())
		}
	}
	return p, nil
}

func (c checkpoints) Save(context.Context, string, uint64) error { return nil }

var _ pubsub.Checkpoints = checkpoints{}
