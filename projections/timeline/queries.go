package timeline

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections"
)

// Filter narrows a municipality's timeline. Zero fields do not
// filter.
type Filter struct {
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
	Municipality projections.Municipality `json:"municipality"`
	Partnerships []Partnership            `json:"partnerships"`
	Entries      []Entry                  `json:"entries"`
	// NextCursor continues the entries; nil when there are no more.
	NextCursor *string `json:"next_cursor"`

	// kept is the JSON of an answer Queries keeps, encoded once.
	kept *encoding
}

// encoding is a Timeline's JSON and what it was made of.
type encoding struct {
	json         []byte
	municipality projections.Municipality
	lanes        []Partnership
	entries      []Entry
	next         *string
}

// describes reports whether e is the encoding of tl: the same slices (by
// identity: answers are not modified in place), cursor and municipality.
func (e *encoding) describes(tl Timeline) bool {
	return e != nil && tl.Municipality == e.municipality && tl.NextCursor == e.next &&
		sameSlice(tl.Partnerships, e.lanes) && sameSlice(tl.Entries, e.entries)
}

// sameSlice reports whether a and b are the same slice: nil both, or the
// same length from the same first element.
func sameSlice[T any](a, b []T) bool {
	return (a == nil) == (b == nil) && len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// MarshalJSON encodes the timeline as its fields' tags say. An answer
// Queries keeps was encoded once when it was read: a large
// municipality's timeline is hundreds of kilobytes of JSON, which would
// otherwise be encoded anew for every request between two commits. A
// copy whose slices, cursor or municipality were replaced is encoded
// afresh.
func (tl Timeline) MarshalJSON() ([]byte, error) {
	if tl.kept.describes(tl) {
		return tl.kept.json, nil
	}
	return json.Marshal(plainTimeline(tl))
}

// plainTimeline is Timeline without its MarshalJSON.
type plainTimeline Timeline

// withEncoding returns tl carrying its JSON.
func withEncoding(tl Timeline) (Timeline, error) {
	raw, err := json.Marshal(plainTimeline(tl))
	if err != nil {
		return tl, fmt.Errorf("encode timeline: %w", err)
	}
	tl.kept = &encoding{json: raw, municipality: tl.Municipality, lanes: tl.Partnerships, entries: tl.Entries, next: tl.NextCursor}
	return tl, nil
}

// Partnership is one lane of a timeline.
type Partnership struct {
	ID                 string     `json:"id"`
	Title              string     `json:"title"`
	ServiceArea        string     `json:"service_area"`
	CollaborationModel string     `json:"collaboration_model"`
	Status             string     `json:"status"`
	StartedAt          time.Time  `json:"started_at"`
	EndedAt            *time.Time `json:"ended_at"`
	// Municipality is the code the partnership was recorded under (a
	// former code of today's); not part of the API's answer.
	Municipality string `json:"-"`
}

// Entry is one event in force on a timeline.
type Entry struct {
	PartnershipID string    `json:"partnership_id"`
	EventID       string    `json:"event_id"`
	Type          string    `json:"type"`
	OccurredAt    time.Time `json:"occurred_at"`
	// Summary is one line in English, the API's.
	Summary string `json:"summary"`
	// Event and Names are what describe.Event needs to describe the entry
	// in a reader's language: its event (a contact person's fields left
	// out) and the names of the partners it refers to, by id. Only
	// LanePage sets them; they are not part of the API's answer.
	Event partnership.Event `json:"-"`
	Names map[string]string `json:"-"`
}

type entryCursor struct {
	OccurredAt    string `json:"o"`
	PartnershipID string `json:"p"`
	Version       uint64 `json:"v"`
}

func decodeEntryCursor(s string) (entryCursor, error) {
	var c entryCursor
	if projections.DecodeCursor(s, &c) != nil || c.PartnershipID == "" || c.Version == 0 || !projections.IsSortable(c.OccurredAt) {
		return entryCursor{}, projections.ErrBadCursor
	}
	return c, nil
}

// answersKept bounds the answers Queries keeps.
const answersKept = 16

// Queries answers timelines from the active generation of the timeline
// projection, as the engine names it. Safe for concurrent use.
//
// A large municipality's timeline is thousands of rows; between two
// commits of the projection it is the same, so Queries keeps its last
// answers (least recently used first out), each with the
// projections.Version it was read at: a request finds one only while the
// projection stands at that version, and reads afresh once it has
// committed again.
type Queries struct {
	r       *projections.Runner
	answers *lru.Cache[string, answer]
}

// answer is a kept Timeline and the version it was read at.
type answer struct {
	version projections.Version
	value   Timeline
}

// NewQueries returns the queries over the timeline r runs (or follows).
func NewQueries(r *projections.Runner) *Queries {
	answers, _ := lru.New[string, answer](answersKept) // fails only for a size <= 0
	return &Queries{r: r, answers: answers}
}

// Timeline returns the timeline of the municipality with today's code
// code: partnerships by start, entries by occurred_at (then partnership and
// version). Answers are shared: callers must not modify them in place,
// and their slices are clipped so that an append copies. A kept answer
// carries its JSON (see MarshalJSON). A cursor not made by
// Timeline is projections.ErrBadCursor.
func (q *Queries) Timeline(ctx context.Context, code string, f Filter) (Timeline, error) {
	key := fmt.Sprintf("%s|%s|%s|%s|%s|%s|%d|%s", code, boundKey(f.From), boundKey(f.To), f.ServiceArea, f.CollaborationModel, f.Status, f.Limit, f.Cursor)
	before, err := q.r.Version(Name)
	if err != nil {
		return Timeline{}, err
	}
	if kept, ok := q.answers.Get(key); ok && kept.version == before && before != (projections.Version{}) {
		return kept.value, nil
	}
	tl, err := q.read(ctx, code, f)
	tl.Partnerships, tl.Entries = slices.Clip(tl.Partnerships), slices.Clip(tl.Entries)
	if after, verr := q.r.Version(Name); err == nil && verr == nil && after == before && before != (projections.Version{}) {
		if tl, err = withEncoding(tl); err == nil {
			q.answers.Add(key, answer{version: before, value: tl})
		}
	}
	return tl, err
}

// boundKey is a bound's part of an answer's cache key.
func boundKey(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339Nano)
}

func (q *Queries) read(ctx context.Context, code string, f Filter) (Timeline, error) {
	tl := Timeline{
		Municipality: projections.MunicipalityOf(code),
		Partnerships: []Partnership{},
		Entries:      []Entry{},
	}
	var cursor *entryCursor
	if f.Cursor != "" {
		c, err := decodeEntryCursor(f.Cursor)
		if err != nil {
			return tl, err
		}
		cursor = &c
	}
	lanes, laneArgs := laneWhere(code, f)
	partnerships, partnershipArgs := spanWhere(lanes, laneArgs, f)

	// Entries carry their municipality; the lanes' table is joined only
	// to filter by the lanes' other columns. The join keeps entries in the
	// outer loop (in SQLite a CROSS JOIN is that rule), so the
	// municipality index yields them in order and LIMIT stops early
	// instead of sorting every entry of the municipality.
	joined := len(lanes) > 1
	entries := []string{"e.current_municipality = ?"}
	entryArgs := []any{code}
	if joined {
		entries, entryArgs = append(entries, lanes[1:]...), append(entryArgs, laneArgs[1:]...)
	}
	if f.From != nil {
		entries, entryArgs = append(entries, "e.occurred_at >= ?"), append(entryArgs, projections.Sortable(*f.From))
	}
	if f.To != nil {
		entries, entryArgs = append(entries, "e.occurred_at <= ?"), append(entryArgs, projections.Sortable(*f.To))
	}
	if cursor != nil {
		entries = append(entries, "(e.occurred_at, e.partnership_id, e.version) > (?, ?, ?)")
		entryArgs = append(entryArgs, cursor.OccurredAt, cursor.PartnershipID, cursor.Version)
	}
	entryArgs = append(entryArgs, f.Limit+1)

	err := q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		entrySource := "{p}entries e"
		if joined {
			entrySource += " " + t.Dialect().OuterJoin() + " {p}partnerships p ON p.id = e.partnership_id"
		}
		var err error
		if tl.Partnerships, err = scanLanes(ctx, db, t.SQL(`SELECT `+laneColumns+`
FROM {p}partnerships p WHERE `+strings.Join(partnerships, " AND ")+` ORDER BY p.started_at, p.id`), partnershipArgs...); err != nil {
			return err
		}

		rows, err := db.QueryContext(ctx, t.SQL(`SELECT e.partnership_id, e.event_id, e.type, e.occurred_at, e.version, e.summary
FROM `+entrySource+`
WHERE `+strings.Join(entries, " AND ")+` ORDER BY e.occurred_at, e.partnership_id, e.version LIMIT ?`), entryArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last entryCursor
		for rows.Next() {
			var e Entry
			var c entryCursor
			if err := rows.Scan(&e.PartnershipID, &e.EventID, &e.Type, &c.OccurredAt, &c.Version, &e.Summary); err != nil {
				return err
			}
			if len(tl.Entries) == f.Limit {
				next := projections.EncodeCursor(last)
				tl.NextCursor = &next
				break
			}
			if e.OccurredAt, err = time.Parse(projections.SortableTime, c.OccurredAt); err != nil {
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

// laneWhere is the condition on a municipality's lanes (alias p) that f's
// service area, model and status make, with its arguments; the first
// clause is the municipality's.
func laneWhere(code string, f Filter) ([]string, []any) {
	lanes := []string{"p.current_municipality = ?"}
	args := []any{code}
	if f.ServiceArea != "" {
		lanes, args = append(lanes, "p.service_area = ?"), append(args, f.ServiceArea)
	}
	if f.CollaborationModel != "" {
		lanes, args = append(lanes, "p.collaboration_model = ?"), append(args, f.CollaborationModel)
	}
	if f.Status != "" {
		lanes, args = append(lanes, "p.status = ?"), append(args, f.Status)
	}
	return lanes, args
}

// spanWhere adds to a lane condition that the partnership was active at
// some time between f's bounds.
func spanWhere(lanes []string, args []any, f Filter) ([]string, []any) {
	lanes, args = slices.Clone(lanes), slices.Clone(args)
	if f.To != nil {
		lanes, args = append(lanes, "p.started_at <= ?"), append(args, projections.Sortable(*f.To))
	}
	if f.From != nil {
		lanes, args = append(lanes, "(p.ended_at IS NULL OR p.ended_at >= ?)"), append(args, projections.Sortable(*f.From))
	}
	return lanes, args
}

// laneColumns are the columns scanLanes reads, of the lanes' table as p.
const laneColumns = `p.id, p.title, p.service_area, p.collaboration_model, p.status, p.started_at, p.ended_at, p.municipality`

// scanLanes runs a query of laneColumns and returns its lanes.
func scanLanes(ctx context.Context, db projections.Querier, query string, args ...any) ([]Partnership, error) {
	rows, err := db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Partnership{}
	for rows.Next() {
		var p Partnership
		var started string
		var ended sql.NullString
		if err := rows.Scan(&p.ID, &p.Title, &p.ServiceArea, &p.CollaborationModel, &p.Status, &started, &ended, &p.Municipality); err != nil {
			return nil, err
		}
		if p.StartedAt, p.EndedAt, err = projections.ParseSpan(started, ended); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
