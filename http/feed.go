package http

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// Page sizes of the global feed (docs/api.md: default 50, max 500).
const (
	defaultFeedLimit = 50
	maxFeedLimit     = 500
)

// feedResponse is the body of GET /events.
type feedResponse struct {
	// Items are the events after the requested position, in position order.
	Items []eventstore.RecordedEvent `json:"items"`
	// NextAfter is the position to ask for next: the last event's the
	// page read (an item's, or a survey event's the feed leaves out), or
	// the request's after when there were none.
	NextAfter uint64 `json:"next_after"`
}

// getEvents answers the global feed straight from the event store (no
// projection, so it never lags): the partnerships' events among the limit
// events with a position above after, in position order. The survey
// streams share the log but are not the partnerships': they are left out,
// and next_after still moves past them (a page of survey events alone is
// empty but moves on).
func (s *Server) getEvents(c *gin.Context) {
	q := queryParams{c: c}
	after := q.position("after")
	limit := q.limit("limit", defaultFeedLimit, maxFeedLimit)
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	events, err := s.store.ReadAll(ctx, after, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	shower := s.hist.ShowTo(principal(c))
	res := feedResponse{Items: make([]eventstore.RecordedEvent, 0, len(events)), NextAfter: after}
	for _, e := range events {
		res.NextAfter = e.Position
		if _, ok := history.ID(e.StreamID); !ok {
			continue
		}
		if e, err = shower.Show(ctx, e); err != nil {
			s.fail(c, err)
			return
		}
		res.Items = append(res.Items, e)
	}
	c.JSON(http.StatusOK, res)
}

// queryParams reads query parameters and collects every invalid one, so
// that a 400 names all of them at once.
type queryParams struct {
	c      *gin.Context
	fields []partnership.FieldError
}

// invalid records that field (a query parameter or header) is invalid.
func (q *queryParams) invalid(field, message string) {
	q.fields = append(q.fields, partnership.FieldError{Field: field, Message: message})
}

// position reads an optional event position; absent is 0.
func (q *queryParams) position(name string) uint64 {
	v, ok := q.c.GetQuery(name)
	if !ok {
		return 0
	}
	n, ok := parsePosition(v)
	if !ok {
		q.invalid(name, positionMessage)
	}
	return n
}

// limit reads an optional page size in 1..max; absent is def.
func (q *queryParams) limit(name string, def, max int) int {
	v, ok := q.c.GetQuery(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > max {
		q.invalid(name, "must be an integer from 1 to "+strconv.Itoa(max))
		return def
	}
	return n
}

// err returns a 400 input error naming every invalid parameter, or nil.
func (q *queryParams) err() error {
	if len(q.fields) == 0 {
		return nil
	}
	return edge.BadRequest("the request has invalid parameters", q.fields...)
}

// positionMessage explains a bad event position.
const positionMessage = "must be an event position: a non-negative integer"

// parsePosition reads an event position: a non-negative decimal integer.
func parsePosition(v string) (uint64, bool) {
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}
