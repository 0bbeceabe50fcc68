package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

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

// keepLead runs until Close: while this instance holds the slot's lease it
// hands on rebuilds asked of other instances; when the lease is lost it
// stops the runs and follows; while following it tries to take the lead.
func (r *Runner) keepLead(s *slot) {
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
			g, err := r.lead(r.ctx, s, l)
			if err != nil {
				l.release()
				if r.ctx.Err() == nil {
					r.log.Warn("take the lead of projection", "projection", s.def.Name(), "err", err)
				}
				continue
			}
			r.launch(g)
			r.log.Info("projection lead taken", "projection", s.def.Name(), "instance", r.instance)
			return true
		}
	}
}

// lead makes this instance the leader of the slot, holding l: it prepares
// the generation to serve and records itself as the leader. The caller
// launches the generation's run.
func (r *Runner) lead(ctx context.Context, s *slot, l lease) (*generation, error) {
	g, err := r.prepare(ctx, s.def)
	if err != nil {
		return nil, err
	}
	if _, err := r.db.w.ExecContext(ctx, r.db.q(`INSERT INTO projection_leaders (name, instance, since) VALUES (?, ?, ?)
ON CONFLICT (name) DO UPDATE SET instance = excluded.instance, since = excluded.since`),
		s.def.Name(), r.instance, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		return nil, fmt.Errorf("record the leader of %s: %w", s.def.Name(), err)
	}
	s.mu.Lock()
	s.lease, s.leader, s.shadow = l, r.instance, nil
	s.setActiveLocked(g)
	s.mu.Unlock()
	return g, nil
}

// stepDown stops the slot's generations and gives its lease up; the slot's
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
		if g != nil {
			g.halt()
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
