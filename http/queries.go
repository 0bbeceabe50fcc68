package http

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
)

// view reads the bitemporal query parameters as_of and known_at: a date
// covers its whole day in Europe/Oslo, a timestamp is exact.
func view(c *gin.Context) (partnership.View, error) {
	q := queryParams{c: c}
	v := partnership.View{
		AsOf:    q.instant("as_of", calendar.ParseCutoff),
		KnownAt: q.instant("known_at", calendar.ParseCutoff),
	}
	return v, q.err()
}

// getPartnership answers the derived state, live from the stream.
func (s *Server) getPartnership(c *gin.Context) {
	v, err := view(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	state, version, err := s.hist.State(c.Request.Context(), c.Param("id"), v)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("ETag", etag(version))
	c.JSON(http.StatusOK, state)
}

// historyResponse is the body of GET /partnerships/{id}/history.
type historyResponse struct {
	Items []history.HistoryEntry `json:"items"`
}

func (s *Server) getHistory(c *gin.Context) {
	v, err := view(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	items, version, err := s.hist.Events(ctx, c.Param("id"), v)
	if err != nil {
		s.fail(c, err)
		return
	}
	shower := s.hist.ShowTo(principal(c))
	for i := range items {
		if items[i].RecordedEvent, err = shower.Show(ctx, items[i].RecordedEvent); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.Header("ETag", etag(version))
	c.JSON(http.StatusOK, historyResponse{Items: items})
}
