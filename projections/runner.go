package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
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

// Statuses of a projection.
const (
	StatusCatchingUp = "catching_up"
	StatusLive       = "live"
	StatusFailed     = "failed"
	StatusStopped    = "stopped"
	StatusRebuilding = "rebuilding"
)

// maxAttempts is how often a run restarts from its checkpoint without
// progress before the projection is declared failed.
const maxAttempts = 4

// maxStorageWait bounds the pause between the retries of a batch that
// failed for lack of space: the projection goes on within about this long
// once space has been freed.
const maxStorageWait = 5 * time.Second

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
// default. Pages are full only while a projection catches up (a rebuild);
// there a page of 10,000 events measured ~10 % faster than one of 2,000
// (fewer commits, each hot page written once per batch), and costs a few
// MB per projection (a page in the handler, one read ahead).
const defaultPageSize = 5_000

// WithPageSize sets how many events a subscriber reads at once, which is
// also the largest batch committed in one transaction (default 10,000).
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

// Intervals of an instance that shares the read models with others.
const (
	// followEvery is how often an instance that does not lead a
	// projection reads its progress from the catalog: the most a
	// min_position wait on it lags the leader's commit.
	followEvery = 50 * time.Millisecond
	// leaseRetry is how often it tries to take the lead over; with
	// leaseCheck it bounds how long a projection goes unrun after its
	// leader died.
	leaseRetry = time.Second
	// requestPoll is how often a leader looks for a rebuild asked of
	// another instance.
	requestPoll = time.Second
)

// Runner runs samspill's projections as Watermill handlers over the event
// store, each in its own router, and answers which generation of each to
// read and how far it has come. All methods are safe for concurrent use.
//
// Several Runners, in several processes, may share one read-model
// database (PostgreSQL): for each projection the one holding its lease
// runs it, the others follow its progress through the catalog, answer the
// same queries from the same tables, hand rebuilds on to the leader and
// take the lead over when its lease ends.
type Runner struct {
	// timelines keeps the last timeline answers (see answers).
	timelines answers[Timeline]

	db       *DB
	store    eventstore.Store
	log      *slog.Logger
	instance string
	metrics  *metrics.PrometheusMetricsBuilder
	pageSize int
	// failpoint is given to every generation (tests only).
	failpoint func(projection string) error
	// restartDelay is the first pause before a failed run restarts; it
	// doubles with each attempt.
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
	def definition

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

// New returns a Runner of every projection over db and store. Nothing runs
// until Start.
func New(db *DB, store eventstore.Store, opts ...Option) *Runner {
	host, _ := os.Hostname()
	r := &Runner{db: db, store: store, log: slog.New(slog.DiscardHandler), pageSize: defaultPageSize, restartDelay: 100 * time.Millisecond,
		instance: fmt.Sprintf("%s/%d", host, os.Getpid())}
	for _, o := range opts {
		o(r)
	}
	for _, d := range definitions() {
		r.slots = append(r.slots, &slot{def: d, swapped: make(chan struct{})})
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r
}

// definitions are every projection, in the order they are reported.
func definitions() []definition { return []definition{summaries{}, timeline{}} }

// Names lists the projections.
func Names() []string {
	defs := definitions()
	names := make([]string, len(defs))
	for i, d := range defs {
		names[i] = d.Name()
	}
	return names
}

// Names lists the Runner's projections (all of Names).
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
// the run, which catches up from its checkpoint in the background and then
// follows the log until Close. Of a projection another instance leads it
// reads the catalog, follows it, and takes the lead over when that
// instance's lease ends. With the embedded read models this instance leads
// every projection.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("projections already started")
	}
	for _, s := range r.slots {
		l, err := r.db.leases.tryAcquire(ctx, s.def.Name())
		if err == nil && l != nil {
			if err = r.takeOver(ctx, s, l); err != nil {
				l.release()
			}
		} else if err == nil {
			err = r.refresh(ctx, s)
		}
		if err != nil {
			r.cancel()
			r.wg.Wait()
			for _, s := range r.slots {
				r.stepDown(s)
			}
			return err
		}
	}
	r.started = true
	for _, s := range r.slots {
		r.wg.Go(func() { r.lead(s) })
	}
	return nil
}

// lead runs until Close: while this instance holds the slot's lease it
// hands on rebuilds asked of other instances; when the lease is lost it
// stops the runs and follows; while following it tries to take the lead.
func (r *Runner) lead(s *slot) {
	for {
		s.mu.Lock()
		l := s.lease
		s.mu.Unlock()
		if l == nil {
			if !r.follow(s) {
				return
			}
			continue
		}
		tick := time.NewTicker(requestPoll)
		lost := false
		for !lost {
			select {
			case <-r.ctx.Done():
				tick.Stop()
				r.stepDown(s)
				return
			case <-l.lost():
				lost = true
			case <-tick.C:
				r.serveRebuildRequest(r.ctx, s)
			}
		}
		tick.Stop()
		r.log.Warn("projection lease lost; following the catalog", "projection", s.def.Name(), "instance", r.instance)
		r.stepDown(s)
	}
}

// follow reads the slot's progress from the catalog every followEvery and
// tries to take the lead every leaseRetry. It returns true once this
// instance leads the projection, false when the Runner closes.
func (r *Runner) follow(s *slot) bool {
	refresh := time.NewTicker(followEvery)
	defer refresh.Stop()
	retry := time.NewTicker(leaseRetry)
	defer retry.Stop()
	for {
		select {
		case <-r.ctx.Done():
			return false
		case <-refresh.C:
			if err := r.refresh(r.ctx, s); err != nil && r.ctx.Err() == nil {
				r.log.Warn("read projection catalog", "projection", s.def.Name(), "err", err)
			}
		case <-retry.C:
			l, err := r.db.leases.tryAcquire(r.ctx, s.def.Name())
			if err != nil || l == nil {
				if err != nil && r.ctx.Err() == nil {
					r.log.Warn("try to lead projection", "projection", s.def.Name(), "err", err)
				}
				continue
			}
			if err := r.takeOver(r.ctx, s, l); err != nil {
				l.release()
				if r.ctx.Err() == nil {
					r.log.Warn("take the lead of projection", "projection", s.def.Name(), "err", err)
				}
				continue
			}
			r.log.Info("projection lead taken", "projection", s.def.Name(), "instance", r.instance)
			return true
		}
	}
}

// takeOver makes this instance the leader of the slot, holding l: it
// prepares the generation to serve, records itself as the leader and
// starts the run.
func (r *Runner) takeOver(ctx context.Context, s *slot, l lease) error {
	g, err := r.prepare(ctx, s.def)
	if err != nil {
		return err
	}
	if _, err := r.db.w.ExecContext(ctx, r.db.q(`INSERT INTO projection_leaders (name, instance, since) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, since = excluded.since`),
		s.def.Name(), r.instance, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("record the leader of %s: %w", s.def.Name(), err)
	}
	s.mu.Lock()
	s.lease, s.leader, s.shadow = l, r.instance, nil
	s.setActiveLocked(g)
	s.mu.Unlock()
	r.launch(g)
	return nil
}

// stepDown stops the slot's runs and gives its lease up; the slot's
// generations then show the catalog's view until another instance leads.
func (r *Runner) stepDown(s *slot) {
	s.mu.Lock()
	l, active, shadow := s.lease, s.active, s.shadow
	s.lease = nil
	s.mu.Unlock()
	if l == nil {
		return
	}
	for _, g := range []*generation{shadow, active} {
		if g != nil && g.cancel != nil {
			g.cancel()
			<-g.done
		}
	}
	l.release()
}

// refresh updates a slot this instance does not lead from the catalog:
// the active generation and its position, a rebuild under way, failures
// and the leader.
func (r *Runner) refresh(ctx context.Context, s *slot) error {
	rows, err := r.db.r.QueryContext(ctx, r.db.q(`SELECT g.generation, g.position, g.active, coalesce(f.error, ''), coalesce(l.instance, '')
FROM projection_generations g
LEFT JOIN projection_failures f ON f.name = g.name AND f.generation = g.generation
LEFT JOIN projection_leaders l ON l.name = g.name
WHERE g.name = ? ORDER BY g.generation`), s.def.Name())
	if err != nil {
		return fmt.Errorf("read catalog of %s: %w", s.def.Name(), err)
	}
	type row struct {
		number   int
		position uint64
		failure  error
	}
	var active, shadow *row
	var leader string
	for rows.Next() {
		var (
			x        row
			isActive bool
			failure  string
		)
		if err := rows.Scan(&x.number, &x.position, &isActive, &failure, &leader); err != nil {
			rows.Close()
			return fmt.Errorf("read catalog of %s: %w", s.def.Name(), err)
		}
		if failure != "" {
			x.failure = fmt.Errorf("%w: %s", ErrFailed, failure)
		}
		if isActive {
			active = &x
		} else {
			shadow = &x
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read catalog of %s: %w", s.def.Name(), err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease != nil {
		return nil // this instance leads: it knows better than the catalog
	}
	s.leader = leader
	view := func(g *generation, x *row) *generation {
		if x == nil {
			return nil
		}
		if g == nil || g.number != x.number {
			g = r.handle(s.def, x.number, x.position)
		}
		g.observe(x.position, x.failure)
		return g
	}
	if active != nil && (s.active == nil || s.active.number != active.number) {
		s.setActiveLocked(view(nil, active))
	} else if active != nil {
		view(s.active, active)
	}
	if shadow != nil && active != nil && shadow.number < active.number {
		shadow = nil // dropped soon by the leader
	}
	s.shadow = view(s.shadow, shadow)
	return nil
}

// requestRebuild asks the instance that leads the slot to rebuild it.
func (r *Runner) requestRebuild(ctx context.Context, s *slot) error {
	_, err := r.db.w.ExecContext(ctx, r.db.q(`INSERT INTO projection_rebuild_requests (name, requested_by, requested_at) VALUES (?, ?, ?)
ON CONFLICT (name) DO NOTHING`), s.def.Name(), r.instance, time.Now().UTC().Format(time.RFC3339Nano))
	if err != nil {
		return fmt.Errorf("ask the leader of %s to rebuild it: %w", s.def.Name(), err)
	}
	return nil
}

// serveRebuildRequest starts a rebuild another instance asked for.
func (r *Runner) serveRebuildRequest(ctx context.Context, s *slot) {
	var by string
	err := r.db.r.QueryRowContext(ctx, r.db.q(`SELECT requested_by FROM projection_rebuild_requests WHERE name = ?`), s.def.Name()).Scan(&by)
	if errors.Is(err, sql.ErrNoRows) || ctx.Err() != nil {
		return
	}
	if err == nil {
		_, err = r.db.w.ExecContext(ctx, r.db.q(`DELETE FROM projection_rebuild_requests WHERE name = ?`), s.def.Name())
	}
	if err == nil {
		r.log.Info("projection rebuild asked by another instance", "projection", s.def.Name(), "by", by)
		if err = r.Rebuild(ctx, s.def.Name()); errors.Is(err, ErrRebuildRunning) {
			err = nil
		}
	}
	if err != nil {
		r.log.Warn("serve a rebuild request", "projection", s.def.Name(), "err", err)
	}
}

// prepare returns the generation to serve, creating an empty one if needed,
// and drops every other generation of the projection.
func (r *Runner) prepare(ctx context.Context, def definition) (*generation, error) {
	rows, err := r.db.w.QueryContext(ctx, r.db.q(`SELECT generation, schema, position, active FROM projection_generations WHERE name = ? ORDER BY generation`), def.Name())
	if err != nil {
		return nil, fmt.Errorf("read catalog of %s: %w", def.Name(), err)
	}
	var keep *generation
	var stale []int
	for rows.Next() {
		var number, schema int
		var position uint64
		var active bool
		if err := rows.Scan(&number, &schema, &position, &active); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read catalog of %s: %w", def.Name(), err)
		}
		if active && schema == def.SchemaVersion() {
			keep = r.handle(def, number, position)
			continue
		}
		stale = append(stale, number)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read catalog of %s: %w", def.Name(), err)
	}
	for _, n := range stale {
		if err := r.drop(ctx, r.handle(def, n, 0)); err != nil {
			return nil, err
		}
	}
	if keep != nil {
		return keep, nil
	}
	return r.create(ctx, def, true)
}

func (r *Runner) handle(def definition, number int, position uint64) *generation {
	g := newGenerationHandle(r.db, def, number, position)
	g.failpoint = r.failpoint
	return g
}

// create makes a new, empty generation of def: with the indexes queries
// need when it is active at once, without them when it is a rebuild's
// shadow (see index).
func (r *Runner) create(ctx context.Context, def definition, active bool) (*generation, error) {
	tx, err := r.db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	defer tx.Rollback()
	var number int
	if err := tx.QueryRowContext(ctx, r.db.q(`SELECT coalesce(max(generation), 0) + 1 FROM projection_generations WHERE name = ?`), def.Name()).Scan(&number); err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	t := tablesOf(def.Name(), number, r.db.dialect)
	ddl := def.Schema(r.db.dialect)
	if active {
		ddl += def.Indexes(r.db.dialect)
	}
	if _, err := tx.ExecContext(ctx, t.SQL(ddl)); err != nil {
		return nil, fmt.Errorf("create tables of %s generation %d: %w", def.Name(), number, err)
	}
	if _, err := tx.ExecContext(ctx, r.db.q(`INSERT INTO projection_generations (name, generation, schema, position, active, created_at) VALUES (?, ?, ?, 0, ?, ?)`),
		def.Name(), number, def.SchemaVersion(), active, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	return r.handle(def, number, 0), nil
}

// index creates the indexes queries need on g's tables (definition.Indexes),
// if they do not exist yet. A rebuild calls it once its shadow generation
// has caught up and before the shadow takes over: building an index from
// the finished table is one sort, where maintaining it during the replay
// costs an index insert per row. Rows the run commits afterwards update it
// as usual.
func (r *Runner) index(ctx context.Context, g *generation) error {
	if _, err := r.db.w.ExecContext(ctx, g.tables.SQL(g.def.Indexes(r.db.dialect))); err != nil {
		return fmt.Errorf("index %s generation %d: %w", g.def.Name(), g.number, err)
	}
	return nil
}

// drop removes a generation's tables and catalog row once no query reads
// them.
func (r *Runner) drop(ctx context.Context, g *generation) error {
	g.inUse.Lock()
	defer g.inUse.Unlock()
	tx, err := r.db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("drop %s generation %d: %w", g.def.Name(), g.number, err)
	}
	defer tx.Rollback()
	for _, t := range g.def.Tables() {
		if _, err := tx.ExecContext(ctx, `DROP TABLE IF EXISTS "`+g.tables.Name(t)+`"`); err != nil {
			return fmt.Errorf("drop %s: %w", g.tables.Name(t), err)
		}
	}
	for _, table := range []string{"projection_generations", "projection_failures"} {
		if _, err := tx.ExecContext(ctx, r.db.q(`DELETE FROM `+table+` WHERE name = ? AND generation = ?`), g.def.Name(), g.number); err != nil {
			return fmt.Errorf("drop %s generation %d: %w", g.def.Name(), g.number, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("drop %s generation %d: %w", g.def.Name(), g.number, err)
	}
	return nil
}

// launch starts the generation's supervised run.
func (r *Runner) launch(g *generation) {
	if _, err := r.db.w.ExecContext(r.ctx, r.db.q(`DELETE FROM projection_failures WHERE name = ? AND generation = ?`), g.def.Name(), g.number); err != nil {
		r.log.Warn("clear the failure record of a projection", "projection", g.def.Name(), "generation", g.number, "err", err)
	}
	ctx, cancel := context.WithCancel(r.ctx)
	g.cancel = cancel
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.supervise(ctx, g)
	}()
}

// supervise runs the generation until ctx ends, restarting it from its
// checkpoint after a failed batch; after maxAttempts failures without
// progress it marks the generation failed and stops. A batch that failed
// for lack of space is no failure of the projection: it is retried, with
// a growing pause of at most maxStorageWait, until space has been freed,
// and Status shows why the projection lags meanwhile.
func (r *Runner) supervise(ctx context.Context, g *generation) {
	defer close(g.done)
	attempts, full := 0, 0
	for {
		from := g.position.Load()
		err := r.runOnce(ctx, g)
		if ctx.Err() != nil {
			g.markStopped(nil)
			return
		}
		if g.position.Load() > from {
			attempts, full = 0, 0
		}
		var delay time.Duration
		if r.db.dialect.diskFull(err) {
			full++
			delay = min(r.restartDelay<<min(full, 16), maxStorageWait)
			g.waitForStorage(err)
			level := slog.LevelDebug
			if full == 1 {
				level = slog.LevelWarn
			}
			r.log.Log(ctx, level, "projection cannot write: no space left; retrying from its checkpoint until space is freed",
				"projection", g.def.Name(), "generation", g.number, "position", g.position.Load(), "retry_in", delay, "err", err)
		} else {
			attempts++
			if attempts >= maxAttempts {
				r.log.Error("projection failed", "projection", g.def.Name(), "generation", g.number, "position", g.position.Load(), "err", err)
				g.markStopped(fmt.Errorf("%w: %w", ErrFailed, err))
				r.recordFailure(g, err)
				return
			}
			delay = r.restartDelay << attempts
			r.log.Warn("projection batch failed; restarting from its checkpoint", "projection", g.def.Name(), "generation", g.number,
				"position", g.position.Load(), "attempt", attempts, "retry_in", delay, "err", err)
		}
		select {
		case <-ctx.Done():
			g.markStopped(nil)
			return
		case <-time.After(delay):
		}
	}
}

// recordFailure tells the other instances why the generation stopped.
func (r *Runner) recordFailure(g *generation, cause error) {
	if _, err := r.db.w.ExecContext(context.Background(), r.db.q(`INSERT INTO projection_failures (name, generation, error, at) VALUES (?, ?, ?, ?)
ON CONFLICT (name, generation) DO UPDATE SET error = excluded.error, at = excluded.at`),
		g.def.Name(), g.number, cause.Error(), time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		r.log.Warn("record a projection's failure", "projection", g.def.Name(), "generation", g.number, "err", err)
	}
}

// runOnce subscribes from the committed position and handles events until
// ctx ends (nil) or a batch fails (its error).
func (r *Runner) runOnce(ctx context.Context, g *generation) error {
	w, err := g.def.NewWriter(ctx, r.db, g.tables, r.store)
	if err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	defer w.Close()
	g.run.Lock()
	g.w, g.batch = w, g.batch[:0]
	g.run.Unlock()
	g.mu.Lock()
	g.broken = nil
	select {
	case <-g.failed: // a failure of the previous run's last moments
	default:
	}
	g.mu.Unlock()

	wlog := watermill.NewSlogLoggerWithLevelMapping(r.log.With("projection", g.def.Name(), "generation", g.number),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	sub, err := pubsub.NewSubscriber(r.store, pubsub.SubscriberConfig{
		ConsumerGroup: g.def.Name(),
		Checkpoints:   checkpoints{g},
		Delivery:      pubsub.DeliverPages,
		PageSize:      r.pageSize,
		Logger:        wlog,
	})
	if err != nil {
		return fmt.Errorf("subscriber: %w", err)
	}
	defer sub.Close()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: 30 * time.Second}, wlog)
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	router.AddConsumerHandler(g.def.Name(), history.Topic, sub, g.handle)
	if r.metrics != nil {
		r.metrics.AddPrometheusRouterMetrics(router)
	}
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	ended := make(chan error, 1)
	go func() { ended <- router.Run(runCtx) }()

	var failure error
	select {
	case <-ctx.Done():
	case failure = <-g.failed:
	case err := <-ended:
		ended <- err
		if ctx.Err() == nil {
			failure = fmt.Errorf("router stopped: %w", err)
		}
	}
	stop()
	_ = router.Close()
	<-ended
	if err := g.finish(); err != nil && failure == nil {
		failure = err
	}
	return failure
}

// Close stops every run, committing the batches they hold, and waits for
// them. It does not close the database.
func (r *Runner) Close() error {
	r.cancel()
	r.wg.Wait()
	return nil
}

// acquire returns the active generation of name for reading; release must
// be called when the query is done.
func (r *Runner) acquire(name string) (Tables, func(), error) {
	s, err := r.slot(name)
	if err != nil {
		return Tables{}, nil, err
	}
	s.mu.Lock()
	g := s.active
	if g == nil {
		s.mu.Unlock()
		return Tables{}, nil, fmt.Errorf("%s has no generation yet (not started, or its leader has not created one): %w", name, ErrNotCaughtUp)
	}
	g.inUse.RLock()
	s.mu.Unlock()
	return g.tables, g.inUse.RUnlock, nil
}

// reader is the query pool.
func (r *Runner) reader() *sql.DB { return r.db.r }

// WaitFor returns once every named projection (all when none are named) has
// committed position, or ErrNotCaughtUp when ctx ends first, or ErrFailed
// when one has stopped on an event it cannot apply.
func (r *Runner) WaitFor(ctx context.Context, position uint64, names ...string) error {
	if len(names) == 0 {
		names = r.Names()
	}
	for _, name := range names {
		s, err := r.slot(name)
		if err != nil {
			return err
		}
		for {
			g, swapped := s.current()
			if g == nil {
				return fmt.Errorf("%s: projections not started", name)
			}
			moved := g.changed()
			if g.position.Load() >= position {
				break
			}
			if stopped, err := g.state(); stopped && err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s at %d, not %d: %w", name, g.position.Load(), position, ErrNotCaughtUp)
			case <-moved:
			case <-swapped:
			}
		}
	}
	return nil
}

// Status is what /admin/projections shows of one projection.
type Status struct {
	Name       string `json:"name"`
	Position   uint64 `json:"position"`
	Lag        uint64 `json:"lag"`
	Status     string `json:"status"`
	Generation int    `json:"generation"`
	// Leader is the instance that runs the projection.
	Leader string `json:"leader"`
	// Error says why the projection failed, or why it lags while it
	// cannot write for lack of space (it retries by itself then).
	Error string `json:"error,omitempty"`
	// Rebuild is the shadow generation of a rebuild under way.
	Rebuild *RebuildStatus `json:"rebuild,omitempty"`
	// LastRebuildError says why the last rebuild failed, if it did.
	LastRebuildError string `json:"last_rebuild_error,omitempty"`
}

// RebuildStatus describes a rebuild under way.
type RebuildStatus struct {
	Generation int    `json:"generation"`
	Position   uint64 `json:"position"`
	Lag        uint64 `json:"lag"`
	Status     string `json:"status"`
}

// Status reports every projection, lag measured against the store's head.
func (r *Runner) Status(ctx context.Context) ([]Status, error) {
	head, err := r.store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("read head: %w", err)
	}
	out := make([]Status, 0, len(r.slots))
	for _, s := range r.slots {
		s.mu.Lock()
		active, shadow, lastErr, leader := s.active, s.shadow, s.lastErr, s.leader
		s.mu.Unlock()
		st := Status{Name: s.def.Name(), Status: StatusStopped, Leader: leader}
		if active != nil {
			st.Generation = active.number
			st.Position, st.Lag, st.Status, st.Error = describe(active, head)
		}
		if shadow != nil {
			rb := &RebuildStatus{Generation: shadow.number}
			rb.Position, rb.Lag, rb.Status, _ = describe(shadow, head)
			if rb.Status != StatusFailed {
				rb.Status = StatusRebuilding
			}
			st.Rebuild = rb
		}
		if lastErr != nil {
			st.LastRebuildError = lastErr.Error()
		}
		out = append(out, st)
	}
	return out, nil
}

func describe(g *generation, head uint64) (position, lag uint64, status, errText string) {
	position = g.position.Load()
	if head > position {
		lag = head - position
	}
	stopped, err := g.state()
	switch {
	case err != nil:
		return position, lag, StatusFailed, err.Error()
	case stopped:
		return position, lag, StatusStopped, ""
	case lag > 0:
		if waiting := g.waiting(); waiting != nil {
			return position, lag, StatusCatchingUp, "waiting for storage space (retried until space is freed): " + waiting.Error()
		}
		return position, lag, StatusCatchingUp, ""
	}
	return position, 0, StatusLive, ""
}

// Rebuild starts a rebuild of name from position 0 into a new generation,
// while the current one keeps answering; once the new one has caught up
// with it, it takes over atomically and the old one is dropped. It returns
// at once; Status shows the progress. On an instance that does not lead
// the projection it asks the leader, which starts the rebuild within
// about a second.
func (r *Runner) Rebuild(ctx context.Context, name string) error {
	s, err := r.slot(name)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active == nil {
		return fmt.Errorf("rebuild %s: projections not started", name)
	}
	if s.shadow != nil {
		return fmt.Errorf("%s: %w", name, ErrRebuildRunning)
	}
	if s.lease == nil {
		return r.requestRebuild(ctx, s)
	}
	g, target, err := r.startShadow(ctx, s.def)
	if err != nil {
		return err
	}
	s.shadow, s.lastErr = g, nil
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.promote(s, g, target)
	}()
	return nil
}

// startShadow creates a new, inactive generation of def and starts filling
// it from position 0; target is the store's head at that moment.
func (r *Runner) startShadow(ctx context.Context, def definition) (g *generation, target uint64, err error) {
	if target, err = r.store.Head(ctx); err != nil {
		return nil, 0, fmt.Errorf("read head: %w", err)
	}
	if g, err = r.create(ctx, def, false); err != nil {
		return nil, 0, err
	}
	r.launch(g)
	return g, target, nil
}

// promote waits until shadow has reached target and the active
// generation's position, then makes it the active one.
func (r *Runner) promote(s *slot, shadow *generation, target uint64) {
	abandon := func(err error) {
		if r.ctx.Err() != nil {
			r.log.Info("projection rebuild interrupted by shutdown", "projection", s.def.Name(), "generation", shadow.number)
		} else {
			r.log.Error("projection rebuild failed", "projection", s.def.Name(), "generation", shadow.number, "err", err)
		}
		shadow.cancel()
		<-shadow.done
		if !s.leading() {
			// The next leader drops it.
		} else if dropErr := r.drop(context.Background(), shadow); dropErr != nil {
			r.log.Error("drop abandoned generation", "projection", s.def.Name(), "generation", shadow.number, "err", dropErr)
		}
		s.mu.Lock()
		s.shadow, s.lastErr = nil, err
		s.mu.Unlock()
	}
	if err := r.await(shadow, target); err != nil {
		abandon(err)
		return
	}
	if err := r.index(r.ctx, shadow); err != nil {
		abandon(err)
		return
	}
	// Freeze the old generation, so that the new one can be brought to
	// exactly its position: readers never see positions go backwards.
	old, _ := s.current()
	old.cancel()
	<-old.done
	if err := r.await(shadow, old.position.Load()); err != nil {
		abandon(err)
		return
	}
	if err := r.swap(s, shadow); err != nil {
		abandon(err)
		return
	}
	if err := r.drop(context.Background(), old); err != nil {
		r.log.Error("drop replaced generation", "projection", s.def.Name(), "generation", old.number, "err", err)
	}
	r.log.Info("projection rebuilt", "projection", s.def.Name(), "generation", shadow.number, "position", shadow.position.Load())
}

// await waits until g has committed target, or fails.
func (r *Runner) await(g *generation, target uint64) error {
	for {
		moved := g.changed()
		if g.position.Load() >= target {
			return nil
		}
		if stopped, err := g.state(); stopped {
			if err == nil {
				err = errors.New("stopped")
			}
			return err
		}
		<-moved
	}
}

// swap makes g the active generation, in the catalog and for queries.
func (r *Runner) swap(s *slot, g *generation) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lease == nil {
		return fmt.Errorf("activate %s generation %d: the lease was lost", s.def.Name(), g.number)
	}
	if _, err := r.db.w.ExecContext(context.Background(), r.db.q(`UPDATE projection_generations SET active = (generation = ?) WHERE name = ?`), g.number, s.def.Name()); err != nil {
		return fmt.Errorf("activate %s generation %d: %w", s.def.Name(), g.number, err)
	}
	s.shadow = nil
	s.setActiveLocked(g)
	return nil
}

// Describe implements prometheus.Collector.
func (r *Runner) Describe(ch chan<- *prometheus.Desc) {
	ch <- positionDesc
	ch <- lagDesc
	ch <- failedDesc
}

var (
	positionDesc = prometheus.NewDesc("samspill_projection_position", "Last event position the projection has committed.", []string{"projection"}, nil)
	lagDesc      = prometheus.NewDesc("samspill_projection_lag", "Positions between the event store's head and the projection.", []string{"projection"}, nil)
	failedDesc   = prometheus.NewDesc("samspill_projection_failed", "1 when the projection stopped on an event it cannot apply.", []string{"projection"}, nil)
)

// Collect implements prometheus.Collector.
func (r *Runner) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	statuses, err := r.Status(ctx)
	if err != nil {
		r.log.Warn("collect projection metrics", "err", err)
		return
	}
	for _, st := range statuses {
		failed := 0.0
		if st.Status == StatusFailed {
			failed = 1
		}
		ch <- prometheus.MustNewConstMetric(positionDesc, prometheus.GaugeValue, float64(st.Position), st.Name)
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(st.Lag), st.Name)
		ch <- prometheus.MustNewConstMetric(failedDesc, prometheus.GaugeValue, failed, st.Name)
	}
}

// withFailpoint makes every generation call f before writing a checkpoint,
// and restarts failed runs at once (tests only).
func withFailpoint(f func(projection string) error) Option {
	return func(r *Runner) { r.failpoint, r.restartDelay = f, time.Millisecond }
}

// Progress reports how far an offline rebuild has come.
type Progress struct {
	Name string
	// Done is the position committed so far; Total the store's head when
	// the rebuild began.
	Done, Total uint64
}

// RebuildOffline rebuilds name from position 0 into a new generation up to
// the store's head at the call, then makes it the active one and drops
// every other generation. It is for a Runner that was not started (the
// CLI); it takes the projection's lease for the time, and returns
// ErrLedElsewhere when a running server holds it. progress, if not nil,
// is called at least every interval and once at the end.
func (r *Runner) RebuildOffline(ctx context.Context, name string, interval time.Duration, progress func(Progress)) error {
	s, err := r.slot(name)
	if err != nil {
		return err
	}
	r.mu.Lock()
	started := r.started
	r.mu.Unlock()
	if started {
		return fmt.Errorf("rebuild %s offline: the projections are running; use Rebuild", name)
	}
	l, err := r.db.leases.tryAcquire(ctx, name)
	if err != nil {
		return fmt.Errorf("rebuild %s offline: %w", name, err)
	}
	if l == nil {
		return fmt.Errorf("rebuild %s offline: %w; ask it with POST /api/v1/admin/projections/%s/rebuild", name, ErrLedElsewhere, name)
	}
	s.mu.Lock()
	s.lease = l
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.lease = nil
		s.mu.Unlock()
		l.release()
	}()
	g, target, err := r.startShadow(ctx, s.def)
	if err != nil {
		return err
	}
	report := func() {
		if progress != nil {
			progress(Progress{Name: name, Done: min(g.position.Load(), target), Total: target})
		}
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var failure error
	for failure == nil {
		// Take the channel before reading the position: a commit in
		// between closes it, so the last one is never missed.
		moved := g.changed()
		if g.position.Load() >= target {
			break
		}
		if stopped, err := g.state(); stopped {
			failure = cmp.Or(err, ctx.Err(), errors.New("stopped"))
			break
		}
		select {
		case <-ctx.Done():
			failure = ctx.Err()
		case <-moved:
		case <-tick.C:
			report()
		}
	}
	g.cancel()
	<-g.done
	if failure != nil {
		return errors.Join(fmt.Errorf("rebuild %s: %w", name, failure), r.drop(context.Background(), g))
	}
	report()
	if err := r.index(ctx, g); err != nil {
		return errors.Join(fmt.Errorf("rebuild %s: %w", name, err), r.drop(context.Background(), g))
	}
	if err := r.swap(s, g); err != nil {
		return err
	}
	// The new generation is the active one; prepare drops the others.
	if _, err := r.prepare(ctx, s.def); err != nil {
		return err
	}
	return nil
}
