package projections

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// generation is one copy of a projection's tables, their committed
// position and what the run that fills them reports. The active
// generation answers queries; a rebuild fills a new one beside it and then
// takes its place. A generation this instance runs belongs to one run
// (run.go) from launch until halt.
type generation struct {
	def    Definition
	number int
	tables Tables
	db     *DB
	// failpoint, when set by tests, runs before each checkpoint write; an
	// error there acts as a crash between the read-model write and the
	// checkpoint.
	failpoint func(projection string) error

	// position is the last committed position: what queries see.
	position atomic.Uint64

	mu      sync.Mutex
	moved   chan struct{} // closed at every commit and when the run ends
	err     error         // why the generation stopped for good
	stopped bool
	// noSpace is why the last batch failed when it failed for lack of
	// space, until a batch commits: the batch is retried, not failed.
	noSpace error
	// x is the run writing the generation, nil before launch.
	x *run

	// inUse is held for reading by queries and for writing by drop.
	inUse sync.RWMutex

	// done is closed once no run writes the generation any more.
	done chan struct{}
}

func newGenerationHandle(db *DB, def Definition, number int, position uint64) *generation {
	g := &generation{
		def:    def,
		number: number,
		tables: tablesOf(def.Name(), number, db.dialect),
		db:     db,
		moved:  make(chan struct{}),
		done:   make(chan struct{}),
	}
	g.position.Store(position)
	return g
}

func (r *Runner) handle(def Definition, number int, position uint64) *generation {
	g := newGenerationHandle(r.db, def, number, position)
	g.failpoint = r.failpoint
	return g
}

// halt stops the generation's part in its run, letting the batch being
// written commit, and returns once no run writes it. The generation keeps
// its committed position; a generation never launched is left alone.
func (g *generation) halt() { haltAll(g) }

// haltAll halts gens at once.
func haltAll(gens ...*generation) {
	var waits []*generation
	for _, g := range gens {
		g.mu.Lock()
		x := g.x
		g.mu.Unlock()
		if x != nil {
			x.release(g)
			waits = append(waits, g)
		}
	}
	for _, g := range waits {
		<-g.done
	}
}

// committed records that a batch up to position committed.
func (g *generation) committed(position uint64) {
	g.position.Store(position)
	g.mu.Lock()
	g.noSpace = nil
	g.notifyLocked()
	g.mu.Unlock()
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

// waitForStorage records that the last batch failed for lack of space
// (cause); the next commit clears it.
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

// prepare returns the generation to serve, creating an empty one if needed,
// and drops every other generation of the projection.
func (r *Runner) prepare(ctx context.Context, def Definition) (*generation, error) {
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
	return r.create(ctx, def, serving)
}

// use says what a new generation is for.
type use int

const (
	// serving generations answer queries from their creation, so they
	// get the query indexes with their tables.
	serving use = iota
	// shadow generations are filled by a rebuild beside the serving one
	// and get the query indexes once they have caught up (see index).
	shadow
)

// create makes a new, empty generation of def for u.
func (r *Runner) create(ctx context.Context, def Definition, u use) (*generation, error) {
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
	if u == serving {
		ddl += def.Indexes(r.db.dialect)
	}
	if _, err := tx.ExecContext(ctx, t.SQL(ddl)); err != nil {
		return nil, fmt.Errorf("create tables of %s generation %d: %w", def.Name(), number, err)
	}
	if _, err := tx.ExecContext(ctx, r.db.q(`INSERT INTO projection_generations (name, generation, schema, position, active, created_at) VALUES (?, ?, ?, 0, ?, ?)`),
		def.Name(), number, def.SchemaVersion(), u == serving, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create generation of %s: %w", def.Name(), err)
	}
	return r.handle(def, number, 0), nil
}

// index creates the indexes queries need on g's tables (Definition.Indexes),
// if they do not exist yet. A rebuild calls it once its shadow generation
// has caught up and before the shadow takes over: building an index from
// the finished table is one sort, where maintaining it during the replay
// costs an index insert per row. Rows committed afterwards update it as
// usual.
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

// recordFailure tells the other instances why the generation stopped.
func (r *Runner) recordFailure(g *generation, cause error) {
	if _, err := r.db.w.ExecContext(context.Background(), r.db.q(`INSERT INTO projection_failures (name, generation, error, at) VALUES (?, ?, ?, ?)
ON CONFLICT (name, generation) DO UPDATE SET error = excluded.error, at = excluded.at`),
		g.def.Name(), g.number, cause.Error(), time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		r.log.Warn("record a projection's failure", "projection", g.def.Name(), "generation", g.number, "err", err)
	}
}
