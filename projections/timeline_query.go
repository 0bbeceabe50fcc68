package projections

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/kommune"
)

// TimelineFilter narrows a municipality's timeline. Zero fields do not
// filter.
type TimelineFilter struct {
	// From and To bound the entries' occurred_at (inclusive); partnerships
	// are those active at some time between them. Nil: no bound.
	From, To           *time.Time
	ServiceArea        string
	CollaborationModel string
	Status             string
	// Limit bounds the entries of one answer; Cursor continues them.
	Limit  int
	Cursor string
}

// Timeline is a municipality's partnerships and their dated entries.
type Timeline struct {
	Municipality Municipality          `json:"municipality"`
	Partnerships []TimelinePartnership `json:"partnerships"`
	Entries      []TimelineEntry       `json:"entries"`
	// NextCursor continues the entries; nil when there are no more.
	NextCursor *string `json:"next_cursor"`
}

// TimelinePartnership is one lane of a timeline.
type TimelinePartnership struct {
	ID                 string     `json:"id"`
	Title              string     `json:"title"`
	ServiceArea        string     `json:"service_area"`
	CollaborationModel string     `json:"collaboration_model"`
	Status             string     `json:"status"`
	StartedAt          time.Time  `json:"started_at"`
	EndedAt            *time.Time `json:"ended_at"`
}

// TimelineEntry is one event in force on a timeline.
type TimelineEntry struct {
	PartnershipID string    `json:"partnership_id"`
	EventID       string    `json:"event_id"`
	Type          string    `json:"type"`
	OccurredAt    time.Time `json:"occurred_at"`
	Summary       string    `json:"summary"`
}

type entryCursor struct {
	OccurredAt    string `json:"o"`
	PartnershipID string `json:"p"`
	Version       uint64 `json:"v"`
}

func decodeEntryCursor(s string) (entryCursor, error) {
	var c entryCursor
	if decodeCursor(s, &c) != nil || c.PartnershipID == "" || c.Version == 0 || !isSortable(c.OccurredAt) {
		return entryCursor{}, ErrBadCursor
	}
	return c, nil
}

// Timeline returns the timeline of the municipality with today's code
// code: partnerships by start, entries by occurred_at (then partnership and
// version).
//
// A large municipality's timeline is thousands of rows; between two
// commits of the projection it is the same, so answers are kept by their
// parameters for the position they were read at (see answers).
func (r *Runner) Timeline(ctx context.Context, code string, f TimelineFilter) (Timeline, error) {
	key := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%d|%s", code, boundKey(f.From), boundKey(f.To), f.ServiceArea, f.CollaborationModel, f.Status, f.Limit, f.Cursor)
	tl, err := cachedRead(r, &r.timelines, TimelineName, key, func() (Timeline, error) { return r.timeline(ctx, code, f) })
	tl.Partnerships, tl.Entries = slices.Clip(tl.Partnerships), slices.Clip(tl.Entries)
	return tl, err
}

// boundKey is a bound's part of an answer's cache key.
func boundKey(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (r *Runner) timeline(ctx context.Context, code string, f TimelineFilter) (Timeline, error) {
	tl := Timeline{
		Municipality: Municipality{Code: code, Name: kommune.Code(code).Name()},
		Partnerships: []TimelinePartnership{},
		Entries:      []TimelineEntry{},
	}
	var cursor *entryCursor
	if f.Cursor != "" {
		c, err := decodeEntryCursor(f.Cursor)
		if err != nil {
			return tl, err
		}
		cursor = &c
	}
	lanes := []string{"p.current_municipality = ?"}
	laneArgs := []any{code}
	if f.ServiceArea != "" {
		lanes, laneArgs = append(lanes, "p.service_area = ?"), append(laneArgs, f.ServiceArea)
	}
	if f.CollaborationModel != "" {
		lanes, laneArgs = append(lanes, "p.collaboration_model = ?"), append(laneArgs, f.CollaborationModel)
	}
	if f.Status != "" {
		lanes, laneArgs = append(lanes, "p.status = ?"), append(laneArgs, f.Status)
	}
	partnerships := slices.Clone(lanes)
	partnershipArgs := slices.Clone(laneArgs)
	if f.To != nil {
		partnerships, partnershipArgs = append(partnerships, "p.started_at <= ?"), append(partnershipArgs, sortable(*f.To))
	}
	if f.From != nil {
		partnerships, partnershipArgs = append(partnerships, "(p.ended_at IS NULL OR p.ended_at >= ?)"), append(partnershipArgs, sortable(*f.From))
	}

	// Entries carry their municipality; the lanes' table is joined only
	// to filter by the lanes' other columns. The join keeps entries in the
	// outer loop (in SQLite a CROSS JOIN is that rule), so the
	// municipality index yields them in order and LIMIT stops early
	// instead of sorting every entry of the municipality.
	entrySource := "{p}entries e"
	entries := []string{"e.current_municipality = ?"}
	entryArgs := []any{code}
	if len(lanes) > 1 {
		entrySource += " " + r.db.dialect.entriesFirst + " {p}partnerships p ON p.id = e.partnership_id"
		entries, entryArgs = append(entries, lanes[1:]...), append(entryArgs, laneArgs[1:]...)
	}
	if f.From != nil {
		entries, entryArgs = append(entries, "e.occurred_at >= ?"), append(entryArgs, sortable(*f.From))
	}
	if f.To != nil {
		entries, entryArgs = append(entries, "e.occurred_at <= ?"), append(entryArgs, sortable(*f.To))
	}
	if cursor != nil {
		entries = append(entries, "(e.occurred_at, e.partnership_id, e.version) > (?, ?, ?)")
		entryArgs = append(entryArgs, cursor.OccurredAt, cursor.PartnershipID, cursor.Version)
	}
	entryArgs = append(entryArgs, f.Limit+1)

	err := r.read(ctx, TimelineName, func(t Tables, db querier) error {
		rows, err := db.QueryContext(ctx, t.SQL(`SELECT p.id, p.title, p.service_area, p.collaboration_model, p.status, p.started_at, p.ended_at
FROM {p}partnerships p WHERE `+strings.Join(partnerships, " AND ")+` ORDER BY p.started_at, p.id`), partnershipArgs...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var p TimelinePartnership
			var started string
			var ended sql.NullString
			if err := rows.Scan(&p.ID, &p.Title, &p.ServiceArea, &p.CollaborationModel, &p.Status, &started, &ended); err != nil {
				rows.Close()
				return err
			}
			if p.StartedAt, p.EndedAt, err = parseSpan(started, ended); err != nil {
				rows.Close()
				return err
			}
			tl.Partnerships = append(tl.Partnerships, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}

		rows, err = db.QueryContext(ctx, t.SQL(`SELECT e.partnership_id, e.event_id, e.type, e.occurred_at, e.version, e.summary
FROM `+entrySource+`
WHERE `+strings.Join(entries, " AND ")+` ORDER BY e.occurred_at, e.partnership_id, e.version LIMIT ?`), entryArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last entryCursor
		for rows.Next() {
			var e TimelineEntry
			var c entryCursor
			if err := rows.Scan(&e.PartnershipID, &e.EventID, &e.Type, &c.OccurredAt, &c.Version, &e.Summary); err != nil {
				return err
			}
			if len(tl.Entries) == f.Limit {
				next := encodeCursor(last)
				tl.NextCursor = &next
				break
			}
			if e.OccurredAt, err = time.Parse(sortableTime, c.OccurredAt); err != nil {
				return err
			}
			c.PartnershipID = e.PartnershipID
			tl.Entries = append(tl.Entries, e)
			last = c
		}
		return rows.Err()
	})
	return tl, err
}

func parseSpan(started string, ended sql.NullString) (time.Time, *time.Time, error) {
	from, err := time.Parse(sortableTime, started)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("stored started_at %q: %w", started, err)
	}
	if !ended.Valid {
		return from, nil, nil
	}
	to, err := time.Parse(sortableTime, ended.String)
	if err != nil {
		return time.Time{}, nil, fmt.Errorf("stored ended_at %q: %w", ended.String, err)
	}
	return from, &to, nil
}
