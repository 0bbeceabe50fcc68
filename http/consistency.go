package http

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/projections"
)

// Lists, timelines and stats are answered from projections, which follow
// the event log asynchronously (docs/api.md, X-Samspill-Position and
// min_position). This file holds the
// two places where the API deals with that lag: min_position on reads, and
// the projections' part of /readyz.

// defaultMinPositionTimeout is how long a read with ?min_position waits for
// its projections (docs/api.md: up to 5 s).
const defaultMinPositionTimeout = 5 * time.Second

// maxReadyLag is how far (in positions) a projection may trail the event
// store's head while the server still reports ready (docs/api.md, GET
// /readyz).
const maxReadyLag = 1000

// errNoProjections is the error of a projection-backed route on a server
// built without Config.Projections: a wiring mistake, answered as a 500.
var errNoProjections = errors.New("the read models are not configured (Config.Projections is nil)")

// readModel returns the middleware of every route answered from the named
// projections. It refuses the request (500) when the server has no
// projections. With ?min_position=N it lets the request through only once
// every named projection has committed position N (the X-Samspill-Position
// of a write), waiting at most s.minPositionTimeout: if N is not reached in
// time the answer is a 503 with Retry-After (projections.ErrNotCaughtUp),
// and so it is at once when a projection has failed (projections.ErrFailed).
// min_position must be a non-negative integer, else 400; absent (or 0)
// means no wait. The handler runs after the wait, so it reads at least
// position N.
func (s *Server) readModel(names ...string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if s.proj == nil {
			s.fail(c, errNoProjections)
			return
		}
		q := queryParams{c: c}
		position := q.position("min_position")
		if err := q.err(); err != nil {
			s.fail(c, err)
			return
		}
		if position == 0 {
			return // every projection has reached position 0
		}
		ctx, cancel := context.WithTimeout(c.Request.Context(), s.minPositionTimeout)
		defer cancel()
		if err := s.proj.WaitFor(ctx, position, names...); err != nil {
			s.fail(c, fmt.Errorf("wait for position %d: %w", position, err))
		}
	}
}

// readyResponse is the body of a ready /readyz.
type readyResponse struct {
	Status      string                `json:"status"` // "ready"
	Store       readyStore            `json:"store"`
	Projections []projectionReadiness `json:"projections"`
}

// readyStore is the event store's part of /readyz.
type readyStore struct {
	// Head is the position of the newest event.
	Head uint64 `json:"head"`
}

// projectionReadiness is one projection as /readyz shows it: the active
// generation's committed position, its lag behind the head and its status
// (projections.Status without error texts, which /readyz, unauthenticated,
// does not show).
type projectionReadiness struct {
	Name     string `json:"name"`
	Position uint64 `json:"position"`
	Lag      uint64 `json:"lag"`
	Status   string `json:"status"`
}

// notReadyProblem is the 503 /readyz answers when a projection holds it
// back: the problem, extended (RFC 9457 extension member) with every
// projection's readiness.
type notReadyProblem struct {
	Problem
	Projections []projectionReadiness `json:"projections,omitempty"`
}

// projectionsReady reports every projection and, when one is not fit to
// serve, why: it has failed, or it trails the head by more than
// maxReadyLag positions. A projection that is catching up within that lag
// (or stopped while a rebuild takes over) is ready. reason is "" when all
// are ready; it never holds internal error texts.
func (s *Server) projectionsReady(ctx context.Context) (list []projectionReadiness, reason string) {
	if s.proj == nil {
		return nil, "the read models are not configured"
	}
	statuses, err := s.proj.Status(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "not ready: projection status unreadable", "err", err)
		return nil, "the projections' status could not be read"
	}
	list = make([]projectionReadiness, len(statuses))
	for i, st := range statuses {
		list[i] = projectionReadiness{Name: st.Name, Position: st.Position, Lag: st.Lag, Status: st.Status}
		switch {
		case reason != "":
		case st.Status == projections.StatusFailed:
			reason = "projection " + st.Name + " has failed"
		case st.Lag > maxReadyLag:
			reason = "projection " + st.Name + " is " + strconv.FormatUint(st.Lag, 10) + " positions behind the event store (at most " + strconv.Itoa(maxReadyLag) + " allowed)"
		}
	}
	if reason != "" {
		s.log.WarnContext(ctx, "not ready: "+reason)
	}
	return list, reason
}

// writeNotReady answers /readyz with 503 and Retry-After: 1.
func writeNotReady(c *gin.Context, detail string, list []projectionReadiness) {
	c.Header("Retry-After", "1")
	c.Header("Content-Type", problemContentType)
	c.AbortWithStatusJSON(http.StatusServiceUnavailable, notReadyProblem{
		Problem:     Problem{Type: typeUnavailable, Title: "Not ready", Status: http.StatusServiceUnavailable, Detail: detail},
		Projections: list,
	})
}
