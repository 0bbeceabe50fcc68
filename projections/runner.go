package projections

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/components/metrics"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
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

// WithPageSize sets how many events a subscriber reads at once, which is
// also the largest batch committed in one transaction (default 2000).
func WithPageSize(n int) Option {
	return func(r *Runner) {
		if n > 0 {
			r.pageSize = n
		}
	}
}

// Runner runs samspill's projections as Watermill handlers over the event
// store, each in its own router, and answers which generation of each to
// read and how far it has come. All methods are safe for concurrent use.
type Runner struct {
	db       *DB
	store    eventstore.Store
	log      *slog.Logger
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
}

func (s *slot) current() (*generation, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active, s.swapped
}

// New returns a Runner of every projection over db and store. Nothing runs
// until Start.
func New(db *DB, store eventstore.Store, opts ...Option) *Runner {
	r := &Runner{db: db, store: store, log: slog.New(slog.DiscardHandler), pageSize: 2000, restartDelay: 100 * time.Millisecond}
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

// Start opens each projection's active generation (creating it, empty, if
// there is none or its schema is outdated), drops generations left by
// interrupted rebuilds, and starts the runs. They catch up from their
// checkpoints in the background and then follow the log until Close.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started {
		return errors.New("projections already started")
	}
	for _, s := range r.slots {
		g, err := r.prepare(ctx, s.def)
		if err != nil {
			return err
		}
		s.active = g
	}
	r.started = true
	for _, s := range r.slots {
		r.launch(s.active)
	}
	return nil
}

// prepare returns the generation to serve, creating an empty one if needed,
// and drops every other generation of the projection.
func (r *Runner) prepare(ctx context.Context, def definition) (*generation, error) {
	rows, err := r.db.w.QueryContext(ctx, `SELECT generation, schema, position, active FROM projection_generations WHERE name = ? ORDER BY generation`, def.Name())
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

// create makes a new, empty generation of def.
func (r *Runner) create(ctx context.Context, def definition, active bool) (*generation, error) {
	tx, err := r.db.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	defer tx.Rollback()
	var number int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(generation), 0) + 1 FROM projection_generations WHERE name = ?`, def.Name()).Scan(&number); err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	t := tablesOf(def.Name(), number)
	if _, err := tx.ExecContext(ctx, t.SQL(def.Schema())); err != nil {
		return nil, fmt.Errorf("create tables of %s generation %d: %w", def.Name(), number, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO projection_generations (name, generation, schema, position, active, created_at) VALUES (?, ?, ?, 0, ?, ?)`,
		def.Name(), number, def.SchemaVersion(), active, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	return r.handle(def, number, 0), nil
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
	if _, err := tx.ExecContext(ctx, `DELETE FROM projection_generations WHERE name = ? AND generation = ?`, g.def.Name(), g.number); err != nil {
		return fmt.Errorf("drop %s generation %d: %w", g.def.Name(), g.number, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("drop %s generation %d: %w", g.def.Name(), g.number, err)
	}
	return nil
}

// launch starts the generation's supervised run.
func (r *Runner) launch(g *generation) {
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
// progress it marks the generation failed and stops.
func (r *Runner) supervise(ctx context.Context, g *generation) {
	defer close(g.done)
	attempts := 0
	for {
		from := g.position.Load()
		err := r.runOnce(ctx, g)
		if ctx.Err() != nil {
			g.markStopped(nil)
			return
		}
		if g.position.Load() > from {
			attempts = 0
		}
		attempts++
		if attempts >= maxAttempts {
			r.log.Error("projection failed", "projection", g.def.Name(), "generation", g.number, "position", g.position.Load(), "err", err)
			g.markStopped(fmt.Errorf("%w: %w", ErrFailed, err))
			return
		}
		delay := r.restartDelay << attempts
		r.log.Warn("projection batch failed; restarting from its checkpoint", "projection", g.def.Name(), "generation", g.number,
			"position", g.position.Load(), "attempt", attempts, "retry_in", delay, "err", err)
		select {
		case <-ctx.Done():
			g.markStopped(nil)
			return
		case <-time.After(delay):
		}
	}
}

// runOnce subscribes from the committed position and handles events until
// ctx ends (nil) or a batch fails (its error).
func (r *Runner) runOnce(ctx context.Context, g *generation) error {
	w, err := g.def.NewWriter(ctx, r.db.w, g.tables, r.store)
	if err != nil {
		return fmt.Errorf("writer: %w", err)
	}
	defer w.Close()
	g.mu.Lock()
	g.broken, g.w = nil, w
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
	router.AddConsumerHandler(g.def.Name(), Topic, sub, g.handle)
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
		return Tables{}, nil, fmt.Errorf("%s: %w", name, errors.New("projections not started"))
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
	Error      string `json:"error,omitempty"`
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
		active, shadow, lastErr := s.active, s.shadow, s.lastErr
		s.mu.Unlock()
		st := Status{Name: s.def.Name(), Status: StatusStopped}
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
		return position, lag, StatusCatchingUp, ""
	}
	return position, 0, StatusLive, ""
}

// Rebuild starts a rebuild of name from position 0 into a new generation,
// while the current one keeps answering; once the new one has caught up
// with it, it takes over atomically and the old one is dropped. It returns
// at once; Status shows the progress.
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
		if dropErr := r.drop(context.Background(), shadow); dropErr != nil {
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
	if _, err := r.db.w.ExecContext(context.Background(), `UPDATE projection_generations SET active = (generation = ?) WHERE name = ?`, g.number, s.def.Name()); err != nil {
		return fmt.Errorf("activate %s generation %d: %w", s.def.Name(), g.number, err)
	}
	s.active, s.shadow = g, nil
	close(s.swapped)
	s.swapped = make(chan struct{})
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
// CLI), while no server uses the same read models. progress, if not nil,
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
	for failure == nil && g.position.Load() < target {
		moved := g.changed()
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
	if err := r.swap(s, g); err != nil {
		return err
	}
	// The new generation is the active one; prepare drops the others.
	if _, err := r.prepare(ctx, s.def); err != nil {
		return err
	}
	return nil
}
