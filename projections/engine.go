package projections

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// Errors returned by the Runner.
var (
	// ErrUnknownProjection names no projection.
	ErrUnknownProjection = errors.New("unknown projection")
	// ErrRebuildRunning means a rebuild of the projection is under way.
	ErrRebuildRunning = errors.New("a rebuild of this projection is already running")
	// ErrNotCaughtUp means a projection did not reach the asked position in
	// time.
	ErrNotCaughtUp = errors.New("projection has not reached the position yet")
	// ErrFailed means a projection stopped on an event it cannot apply.
	ErrFailed = errors.New("projection failed")
	// ErrLedElsewhere means another instance runs the projection, so this
	// one may not rebuild it offline.
	ErrLedElsewhere = errors.New("another instance runs this projection")
)

// Option configures a Runner.
type Option func(*Runner)

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(r *Runner) {
		if l != nil {
			r.log = l
		}
	}
}

// WithMetrics registers Watermill's router metrics on reg; register the
// Runner itself (a prometheus.Collector) for positions and lag.
func WithMetrics(reg prometheus.Registerer) Option {
	return func(r *Runner) {
		b := metrics.NewPrometheusMetricsBuilder(reg, "samspill", "projection")
		r.metrics = &b
	}
}

// defaultPageSize is how many events a subscriber reads at once by
// default, and so the largest batch committed in one transaction. Pages
// are full only while a projection catches up (a rebuild).
const defaultPageSize = 5_000

// WithPageSize sets how many events a subscriber reads at once, which is
// also the largest batch committed in one transaction (default
// defaultPageSize, 5,000).
func WithPageSize(n int) Option {
	return func(r *Runner) {
		if n > 0 {
			r.pageSize = n
		}
	}
}

// WithInstance names this instance in the catalog's record of who leads
// each projection (default: host name and process id).
func WithInstance(name string) Option {
	return func(r *Runner) {
		if name != "" {
			r.instance = name
		}
	}
}

// WithStates shares a cache of partnerships' current states with the
// command side (history.WithStates): the fold takes a partnership's state
// from it where it holds the version the fold needs, and keeps what it
// folds there. Default: a cache of the Runner's own.
func WithStates(states *history.States) Option {
	return func(r *Runner) {
		if states != nil {
			r.states = states
		}
	}
}

// Runner is the projection engine: it runs the read models it was given
// (Definitions) over the event store, answers which generation of each to
// read and how far it has come, and rebuilds them. All methods are safe
// for concurrent use.
//
// Its parts live in files of their own: leadership (leases, following
// another instance), generations (tables per copy of a read model), runs
// (the Watermill routers that fold the log into them), rebuilds, status,
// metrics and reads.
//
// Several Runners, in several processes, may share one read-model
// database (PostgreSQL): for each projection the one holding its lease
// runs it, the others follow its progress through the catalog, answer the
// same queries from the same tables, hand rebuilds on to the leader and
// take the lead over when its lease ends.
type Runner struct {
	db       *DB
	store    eventstore.Store
	states   *history.States
	log      *slog.Logger
	instance string
	metrics  *metrics.PrometheusMetricsBuilder
	pageSize int
	// failpoint is given to every generation (tests only).
	failpoint func(projection string) error
	// restartDelay is the first pause before a failed batch is retried;
	// it doubles with each attempt.
	restartDelay time.Duration

	slots []*slot

	mu      sync.Mutex
	ctx     context.Context // ends every run
	cancel  context.CancelFunc
	started bool
	wg      sync.WaitGroup
}

// slot holds one projection's generations.
type slot struct {
	def Definition

	mu      sync.Mutex
	active  *generation
	shadow  *generation
	lastErr error         // why the last rebuild failed
	swapped chan struct{} // closed when active changes
	// lease is held while this instance leads the projection: it runs
	// the generations. Without it the generations are the catalog's
	// view of another instance's runs.
	lease lease
	// leader is the instance that leads the projection, as far as known.
	leader string
}

// setActiveLocked makes g the generation queries read and wakes those
// waiting on the old one.
func (s *slot) setActiveLocked(g *generation) {
	s.active = g
	close(s.swapped)
	s.swapped = make(chan struct{})
}

func (s *slot) leading() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lease != nil
}

func (s *slot) current() (*generation, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active, s.swapped
}

// New returns a Runner of the projections defs, in the order they are
// reported, over db and store. Nothing runs until Start.
func New(db *DB, store eventstore.Store, defs []Definition, opts ...Option) *Runner {
	host, _ := os.Hostname()
	r := &Runner{db: db, store: store, log: slog.New(slog.DiscardHandler), pageSize: defaultPageSize, restartDelay: 100 * time.Millisecond,
		instance: fmt.Sprintf("%s/%d", host, os.Getpid())}
	for _, o := range opts {
		o(r)
	}
	if r.states == nil {
		r.states = history.NewStates(0)
	}
	for _, d := range defs {
		r.slots = append(r.slots, &slot{def: d, swapped: make(chan struct{})})
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// Names lists the Runner's projections.
func (r *Runner) Names() []string {
	names := make([]string, len(r.slots))
	for i, s := range r.slots {
		names[i] = s.def.Name()
	}
	return names
}

func (r *Runner) slot(name string) (*slot, error) {
	for _, s := range r.slots {
		if s.def.Name() == name {
			return s, nil
		}
	}
	return nil, fmt.Errorf("%q: %w", name, ErrUnknownProjection)
}

// Start takes the lead of every projection it can: it opens the active
// generation (creating it, empty, if there is none or its schema is
// outdated), drops generations left by interrupted rebuilds, and starts
// the runs, which catch up from their checkpoints in the background and
// then follow the log until Close. Generations at the same position share
// one run (see run). Of a projection another instance leads it reads the
// catalog, follows it, and takes the lead over when that instance's lease
// ends. With the embedded read models this instance leads every
// projection.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("projections already started")
	}
	var led []*generation
	fail := func(err error) error {
		r.cancel()
		r.wg.Wait()
		for _, s := range r.slots {
			r.stepDown(s)
		}
		return err
	}
	for _, s := range r.slots {
		l, err := r.db.leases.tryAcquire(ctx, s.def.Name())
		if err == nil && l != nil {
			var g *generation
			if g, err = r.lead(ctx, s, l); err != nil {
				l.release()
			} else {
				led = append(led, g)
			}
		} else if err == nil {
			err = r.refresh(ctx, s)
		}
		if err != nil {
			return fail(err)
		}
	}
	r.launchTogether(led)
	r.started = true
	for _, s := range r.slots {
		r.wg.Go(func() { r.keepLead(s) })
	}
	return nil
}

// Close stops every run, committing the batch each is writing, and waits
// for them. It does not close the database.
func (r *Runner) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}

// withFailpoint makes every generation call f before writing a checkpoint,
// and retries failed batches at once (tests only).
func withFailpoint(f func(projection string) error) Option {
	return func(r *Runner) { r.failpoint, r.restartDelay = f, time.Millisecond }
}
