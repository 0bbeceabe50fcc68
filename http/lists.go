package http

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// The reads of this file are answered from projections (package
// projections) and may lag behind writes; their routes pass through
// readModel first, which honours ?min_position.

// Page sizes of the partnership list (docs/api.md, Lists and cursors) and of
// a timeline's
// entries.
const (
	defaultListLimit     = 50
	maxListLimit         = 500
	defaultTimelineLimit = 500
	maxTimelineLimit     = 5000
)

// listPartnerships answers GET /partnerships: partnership summaries (their
// derived state), filtered by municipality (any code the municipality ever
// had), status, service_area, collaboration_model, started_from and
// started_to (bounds of started_at: a date's start, a date's end, or
// instants) and q (title and partner names, case-insensitive, and
// organisation numbers with or without spaces), in sort (newest start
// first by default), one page of limit at a time. Invalid parameters are
// one 400 naming each.
func (s *Server) listPartnerships(c *gin.Context) {
	q := queryParams{c: c}
	var municipalities []string
	if m := q.municipality("municipality"); m != "" {
		municipalities = []string{m}
	}
	f := summaries.ListFilter{
		Municipalities:     municipalities,
		Status:             q.oneOf("status", partnership.Statuses),
		ServiceArea:        q.oneOf("service_area", partnership.ServiceAreas),
		CollaborationModel: q.oneOf("collaboration_model", partnership.CollaborationModels),
		StartedFrom:        q.instant("started_from", calendar.ParseTime),
		StartedTo:          q.instant("started_to", calendar.ParseCutoff),
		Query:              c.Query("q"),
		Sort:               q.oneOf("sort", summaries.Sorts),
		Limit:              q.limit("limit", defaultListLimit, maxListLimit),
		Cursor:             c.Query("cursor"),
	}
	if f.StartedFrom != nil && f.StartedTo != nil && f.StartedFrom.After(*f.StartedTo) {
		q.invalid("started_from", "must not be after started_to")
	}
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}
	page, err := s.summaries.Partnerships(c.Request.Context(), f)
	if err != nil {
		s.fail(c, fmt.Errorf("list partnerships: %w", err))
		return
	}
	c.JSON(http.StatusOK, page)
}

// municipalitiesResponse is the body of GET /municipalities.
type municipalitiesResponse struct {
	// Items are the municipalities of the current SSB list, by code.
	Items []summaries.MunicipalityCount `json:"items"`
}

// listMunicipalities answers GET /municipalities: every municipality of
// the current SSB list with its number of partnerships and of active ones
// (partnerships recorded under a former code count under today's).
func (s *Server) listMunicipalities(c *gin.Context) {
	items, err := s.summaries.Municipalities(c.Request.Context())
	if err != nil {
		s.fail(c, fmt.Errorf("list municipalities: %w", err))
		return
	}
	c.JSON(http.StatusOK, municipalitiesResponse{Items: items})
}

// getTimeline answers GET /municipalities/{code}/timeline: the
// municipality's partnerships and their entries by occurred_at. A former
// code answers with the timeline of the municipality that succeeds it
// today. A code that is not four digits is a 400, one that names no
// municipality a 404. from (a date: its start in Europe/Oslo, or an
// instant) and to (a date: its end, or an instant) bound the entries and
// select the partnerships active in between; from after to is a 400.
func (s *Server) getTimeline(c *gin.Context) {
	q := queryParams{c: c}
	code, err := kommune.Parse(c.Param("code"))
	switch {
	case errors.Is(err, kommune.ErrMalformed):
		q.invalid("code", err.Error())
	case err != nil:
		s.fail(c, fmt.Errorf("timeline: %w", err))
		return
	}
	f := timeline.Filter{
		From:               q.instant("from", calendar.ParseTime),
		To:                 q.instant("to", calendar.ParseCutoff),
		ServiceArea:        q.oneOf("service_area", partnership.ServiceAreas),
		CollaborationModel: q.oneOf("collaboration_model", partnership.CollaborationModels),
		Status:             q.oneOf("status", partnership.Statuses),
		Limit:              q.limit("limit", defaultTimelineLimit, maxTimelineLimit),
		Cursor:             c.Query("cursor"),
	}
	if f.From != nil && f.To != nil && f.From.After(*f.To) {
		q.invalid("from", "must not be after to")
	}
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}
	tl, err := s.timeline.Timeline(c.Request.Context(), string(code.Current()), f)
	if err == nil {
		// A kept answer's JSON was encoded once (timeline.Queries): sent
		// as it is, not copied and checked again by c.JSON.
		var raw []byte
		if raw, err = tl.MarshalJSON(); err == nil {
			c.Data(http.StatusOK, "application/json; charset=utf-8", raw)
			return
		}
	}
	s.fail(c, fmt.Errorf("timeline of %s: %w", code, err))
}

// getStats answers GET /stats: counts by status, service area and
// collaboration model, the median duration of ended partnerships, the
// Kaplan–Meier median lifetime (ongoing ones censored at today) and goal
// changes per partnership, everywhere or in one municipality (any code it
// ever had).
func (s *Server) getStats(c *gin.Context) {
	q := queryParams{c: c}
	municipality := q.municipality("municipality")
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}
	st, err := s.summaries.Stats(c.Request.Context(), municipality, s.now())
	if err != nil {
		s.fail(c, fmt.Errorf("stats: %w", err))
		return
	}
	c.JSON(http.StatusOK, st)
}

// municipality reads an optional kommunenummer and returns the code that
// succeeds it today, so that a former code (0906) selects what is recorded
// under its successor (4203). Absent or empty is "" (no filter); a code
// that is malformed or names no municipality is invalid.
func (q *queryParams) municipality(name string) string {
	v := q.c.Query(name)
	if v == "" {
		return ""
	}
	code, err := kommune.Parse(v)
	if err != nil {
		q.invalid(name, err.Error())
		return ""
	}
	return string(code.Current())
}

// oneOf reads an optional value of a closed vocabulary. Absent or empty is
// "" (no filter); anything outside vocabulary is invalid.
func (q *queryParams) oneOf(name string, vocabulary []string) string {
	v := q.c.Query(name)
	if v != "" && !slices.Contains(vocabulary, v) {
		q.invalid(name, "must be one of "+strings.Join(vocabulary, ", "))
		return ""
	}
	return v
}

// instant reads an optional date or RFC 3339 timestamp with parse
// (calendar.ParseTime for a lower bound, calendar.ParseCutoff for an upper
// one, so that a date includes its whole day). Absent is nil; every
// instant given, the zero time included, is a bound like any other.
func (q *queryParams) instant(name string, parse func(string) (time.Time, error)) *time.Time {
	v, ok := q.c.GetQuery(name)
	if !ok {
		return nil
	}
	t, err := parse(v)
	if err != nil {
		q.invalid(name, err.Error())
		return nil
	}
	return &t
}
