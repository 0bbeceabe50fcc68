package http

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/projections"
)

// projectionsLocation is where a rebuild's progress shows.
const projectionsLocation = "/api/v1/admin/projections"

// projectionsResponse is the body of GET /admin/projections.
type projectionsResponse struct {
	// Items are the projections in the order the runner lists them.
	Items []projections.Status `json:"items"`
}

// listProjections answers GET /admin/projections: each projection's
// position, lag behind the event store's head, status and generation, and
// a rebuild under way.
func (s *Server) listProjections(c *gin.Context) {
	if s.proj == nil {
		s.fail(c, errNoProjections)
		return
	}
	statuses, err := s.proj.Status(c.Request.Context())
	if err != nil {
		s.fail(c, fmt.Errorf("projection status: %w", err))
		return
	}
	c.JSON(http.StatusOK, projectionsResponse{Items: statuses})
}

// rebuildProjection answers POST /admin/projections/{name}/rebuild: it
// starts a rebuild from position 0 into a new generation while the current
// one keeps answering, and returns at once with 202, the projection's
// status and Location: /api/v1/admin/projections, where the progress shows.
// An unknown name is a 404, a rebuild already under way a 409.
func (s *Server) rebuildProjection(c *gin.Context) {
	if s.proj == nil {
		s.fail(c, errNoProjections)
		return
	}
	name := c.Param("name")
	if err := s.proj.Rebuild(c.Request.Context(), name); err != nil {
		s.fail(c, fmt.Errorf("rebuild: %w", err))
		return
	}
	statuses, err := s.proj.Status(c.Request.Context())
	if err != nil {
		s.fail(c, fmt.Errorf("projection status: %w", err))
		return
	}
	for _, st := range statuses {
		if st.Name == name {
			c.Header("Location", projectionsLocation)
			c.JSON(http.StatusAccepted, st)
			return
		}
	}
	s.fail(c, fmt.Errorf("projection %q has no status: %w", name, projections.ErrUnknownProjection))
}

// eraseContact destroys a contact person's key (crypto-shredding): from
// then on no read path can show the person's name, email or phone, and
// every other fact stays replayable.
func (s *Server) eraseContact(c *gin.Context) {
	keys := s.hist.Keys()
	if keys == nil {
		s.fail(c, errors.New("erase contact: the server keeps no personal-data keys"))
		return
	}
	id := c.Param("contact_id")
	if err := keys.Erase(c.Request.Context(), id); err != nil {
		s.fail(c, err)
		return
	}
	s.log.InfoContext(c.Request.Context(), "contact erased", "contact_id", id, "by", principal(c).Subject)
	c.Status(http.StatusNoContent)
}
