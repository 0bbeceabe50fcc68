package http

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/locale"
)

// auditResponse is the body of GET /partnerships/{id}/audit.
type auditResponse struct {
	Items []auditItem `json:"items"`
}

// auditItem is one entry of a partnership's audit view.
type auditItem struct {
	EventID    string    `json:"event_id"`
	Version    uint64    `json:"version"`
	Position   uint64    `json:"position"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	RecordedAt time.Time `json:"recorded_at"`
	// Description is the entry in the reader's language (Accept-Language).
	Description string `json:"description"`
	// Action is "recorded" or "corrected".
	Action   string         `json:"action"`
	Corrects *auditCorrects `json:"corrects,omitempty"`
	Actor    history.Author `json:"actor"`
}

// auditCorrects is the entry a correction corrects.
type auditCorrects struct {
	EventID string `json:"event_id"`
	Version uint64 `json:"version,omitempty"`
}

// getAudit answers a partnership's audit view: who recorded or corrected
// which entry when, in version order (under as_of and known_at as the
// history is), each entry described in the
// language of Accept-Language; people are named only to admins and
// coordinators of the partnership's municipality, everyone else sees
// pseudonyms (history.Shower.Author).
func (s *Server) getAudit(c *gin.Context) {
	v, err := view(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	ctx := c.Request.Context()
	state, events, version, err := s.hist.Read(ctx, c.Param("id"), v)
	if err != nil {
		s.fail(c, err)
		return
	}
	shower := s.hist.ShowTo(principal(c))
	shower.Known(history.StreamID(state.ID), state.CurrentMunicipality)
	rows, err := shower.Audit(ctx, s.users, events)
	if err != nil {
		s.fail(c, err)
		return
	}
	entries := make([]partnership.Entry, len(rows))
	for i, r := range rows {
		entries[i] = r.Entry
	}
	names := partnership.PartnerNames(entries)
	l := locale.For(locale.Negotiate(c.GetHeader("Accept-Language")))
	items := make([]auditItem, len(rows))
	for i, r := range rows {
		items[i] = auditItem{
			EventID: r.EventID, Version: r.Version, Position: r.Position, Type: r.Type,
			OccurredAt: r.OccurredAt, RecordedAt: r.RecordedAt,
			Description: describe.Event(l, r.Entry.Event, names),
			Action:      "recorded",
			Actor:       r.Author,
		}
		if r.Type == partnership.TypeEntryCorrected {
			items[i].Action = "corrected"
			items[i].Corrects = &auditCorrects{EventID: r.Corrects, Version: r.CorrectsVersion}
		}
	}
	c.Header("ETag", etag(version))
	c.Header("Content-Language", string(l.Lang()))
	c.Header("Vary", "Accept-Language")
	c.JSON(http.StatusOK, auditResponse{Items: items})
}
