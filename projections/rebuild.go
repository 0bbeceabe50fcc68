package projections

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

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
	target, err := r.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	g, err := r.create(ctx, s.def, shadow)
	if err != nil {
		return err
	}
	r.launch(g)
	s.shadow, s.lastErr = g, nil
	r.wg.Go(func() { r.promote(s, g, target) })
	return nil
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
		shadow.halt()
		if !s.leading() {
			// The next leader drops it.
		} else if dropErr := r.drop(context.Background(), shadow); dropErr != nil {
			r.log.Error("drop abandoned generation", "projection", s.def.Name(), "generation", shadow.number, "err", dropErr)
		}
		s.mu.Lock()
		s.shadow, s.lastErr = nil, err
		s.mu.Unlock()
	}
	if err := await(shadow, target); err != nil {
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
	old.halt()
	if err := await(shadow, old.position.Load()); err != nil {
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
func await(g *generation, target uint64) error {
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

// Progress reports how far an offline rebuild has come.
type Progress struct {
	// Names are the projections rebuilt together.
	Names []string
	// Done is the position committed so far; Total the store's head when
	// the rebuild began.
	Done, Total uint64
}

// RebuildOffline rebuilds the named projections together from position 0,
// each into a new generation, up to the store's head at the call, then
// makes them the active ones and drops every other generation. The
// projections share one run: the log is read and folded once for all of
// them. It is for a Runner that was not started (the CLI); it takes the
// projections' leases for the time, and returns ErrLedElsewhere when a
// running server holds one. progress, if not nil, is called at least
// every interval and once at the end.
func (r *Runner) RebuildOffline(ctx context.Context, names []string, interval time.Duration, progress func(Progress)) error {
	r.mu.Lock()
	started := r.started
	r.mu.Unlock()
	label := strings.Join(names, ", ")
	if started {
		return fmt.Errorf("rebuild %s offline: the projections are running; use Rebuild", label)
	}
	var slots []*slot
	for _, name := range names {
		s, err := r.slot(name)
		if err != nil {
			return err
		}
		if !slices.Contains(slots, s) {
			slots = append(slots, s)
		}
	}
	for _, s := range slots {
		l, err := r.db.leases.tryAcquire(ctx, s.def.Name())
		if err != nil {
			return fmt.Errorf("rebuild %s offline: %w", s.def.Name(), err)
		}
		if l == nil {
			return fmt.Errorf("rebuild %s offline: %w; ask it with POST /api/v1/admin/projections/%s/rebuild", s.def.Name(), ErrLedElsewhere, s.def.Name())
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
	}
	target, err := r.store.Head(ctx)
	if err != nil {
		return fmt.Errorf("read head: %w", err)
	}
	gens := make([]*generation, 0, len(slots))
	dropAll := func(cause error) error {
		errs := []error{fmt.Errorf("rebuild %s: %w", label, cause)}
		haltAll(gens...)
		for _, g := range gens {
			errs = append(errs, r.drop(context.Background(), g))
		}
		return errors.Join(errs...)
	}
	for _, s := range slots {
		g, err := r.create(ctx, s.def, shadow)
		if err != nil {
			return dropAll(err)
		}
		gens = append(gens, g)
	}
	r.launchTogether(gens)
	done := func() uint64 {
		least := target
		for _, g := range gens {
			least = min(least, g.position.Load())
		}
		return least
	}
	report := func() {
		if progress != nil {
			progress(Progress{Names: names, Done: done(), Total: target})
		}
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for _, g := range gens {
		if err := awaitOffline(ctx, g, target, tick.C, report); err != nil {
			return dropAll(err)
		}
	}
	haltAll(gens...)
	report()
	for _, g := range gens {
		if err := r.index(ctx, g); err != nil {
			return dropAll(err)
		}
	}
	for i, s := range slots {
		if err := r.swap(s, gens[i]); err != nil {
			return err
		}
		// The new generation is the active one; prepare drops the others.
		if _, err := r.prepare(ctx, s.def); err != nil {
			return err
		}
	}
	return nil
}

// awaitOffline waits until g has committed target, calling report at
// every tick; an error when g stops first or ctx ends.
func awaitOffline(ctx context.Context, g *generation, target uint64, tick <-chan time.Time, report func()) error {
	for {
		// Take the channel before reading the position: a commit in
		// between closes it, so the last one is never missed.
		moved := g.changed()
		if g.position.Load() >= target {
			return nil
		}
		if stopped, err := g.state(); stopped {
			return cmp.Or(err, ctx.Err(), errors.New("stopped"))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-moved:
		case <-tick:
			report()
		}
	}
}
