package projections

import (
	"context"
	"fmt"
)

// Statuses of a projection.
const (
	StatusCatchingUp = "catching_up"
	StatusLive       = "live"
	StatusFailed     = "failed"
	StatusStopped    = "stopped"
	StatusRebuilding = "rebuilding"
)

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
