package summaries

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections"
)

// Queries answers the partnership list, the municipality counts and the
// stats from the active generation of the summaries, as the engine names
// it. Safe for concurrent use.
type Queries struct {
	r *projections.Runner
}

// NewQueries returns the queries over the summaries r runs (or follows).
func NewQueries(r *projections.Runner) *Queries { return &Queries{r: r} }

// ListFilter selects partnership summaries and orders them. Empty fields
// do not filter.
type ListFilter struct {
	// Municipalities are today's codes (callers map older codes first):
	// partnerships in any of them.
	Municipalities     []string
	Status             string
	ServiceArea        string
	CollaborationModel string
	// StartedFrom and StartedTo bound started_at, inclusive.
	StartedFrom, StartedTo *time.Time
	// Query matches title and partner names, case-insensitively, and the
	// partners' organisation numbers, typed with or without spaces
	// (searchNeedle).
	Query string
	// Sort is one of Sorts; "" is DefaultSort.
	Sort string
	// Limit is the page size, at least 1 (callers bound it); Cursor
	// continues a list made in the same Sort, from a page's NextCursor or
	// PrevCursor.
	Limit  int
	Cursor string
}

// Page is one page of a list. NextCursor is nil on the last page,
// PrevCursor on the first.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
	PrevCursor *string `json:"prev_cursor"`
}

// ErrBadSort means ListFilter.Sort is none of Sorts.
var ErrBadSort = errors.New("unknown sort")

// searchNeedle is what q looks for in the search text (searchText): lower
// case, trimmed, and, when it is only digits and spaces (an organisation
// number typed 974 760 673), the digits alone.
func searchNeedle(q string) string {
	needle := strings.ToLower(strings.TrimSpace(q))
	digits := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, needle)
	if digits != "" && strings.Trim(digits, "0123456789") == "" {
		return digits
	}
	return needle
}

// selection is a ListFilter's WHERE clause (from "WHERE", or "") and its
// arguments, without the cursor's condition.
func selection(t projections.Tables, f ListFilter) (string, []any) {
	var where []string
	var args []any
	add := func(cond string, arg ...any) {
		where = append(where, cond)
		args = append(args, arg...)
	}
	switch len(f.Municipalities) {
	case 0:
	case 1:
		add("current_municipality = ?", f.Municipalities[0])
	default:
		codes := make([]any, len(f.Municipalities))
		for i, m := range f.Municipalities {
			codes[i] = m
		}
		add("current_municipality IN (?"+strings.Repeat(", ?", len(codes)-1)+")", codes...)
	}
	if f.Status != "" {
		add("status = ?", f.Status)
	}
	if f.ServiceArea != "" {
		add("service_area = ?", f.ServiceArea)
	}
	if f.CollaborationModel != "" {
		add("collaboration_model = ?", f.CollaborationModel)
	}
	if f.StartedFrom != nil {
		add("started_at >= ?", projections.Sortable(*f.StartedFrom))
	}
	if f.StartedTo != nil {
		add("started_at <= ?", projections.Sortable(*f.StartedTo))
	}
	if needle := searchNeedle(f.Query); needle != "" {
		add(t.Dialect().Contains("search", "?"), needle)
	}
	if len(where) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(where, " AND "), args
}

// listRow is a row of the list as scanned: its id, its sort column's value
// and its state's JSON.
type listRow struct {
	id    string
	key   []byte
	state []byte
}

// scan runs the list's query in order o from cursor c (nil: from the
// start; Before: backwards, the rows before it nearest first), at most
// limit rows when limit > 0, and hands each row to fn; the row's slices
// are fn's to keep.
func scan(ctx context.Context, t projections.Tables, db projections.Querier, f ListFilter, o order, c *listCursor, limit int, fn func(listRow) error) error {
	where, args := selection(t, f)
	descending := o.descending
	if c != nil {
		// Rows after the cursor in the list's direction, or, for the
		// page before it, rows before it read the other way.
		cmp := ">"
		if descending != c.Before {
			cmp = "<"
		}
		cond := "(" + o.column + ", id) " + cmp + " (?, ?)"
		if where == "" {
			where = " WHERE " + cond
		} else {
			where += " AND " + cond
		}
		args = append(args, c.key(), c.ID)
		descending = descending != c.Before
	}
	dir := " ASC"
	if descending {
		dir = " DESC"
	}
	query := `SELECT id, ` + o.column + `, state FROM {p}summaries` + where + ` ORDER BY ` + o.column + dir + `, id` + dir
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := db.QueryContext(ctx, t.SQL(query), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var r listRow
		if err := rows.Scan(&r.id, &r.key, &r.state); err != nil {
			return err
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return rows.Err()
}

// decodeState reads a row's state.
func decodeState(r listRow) (partnership.State, error) {
	var s partnership.State
	if err := json.Unmarshal(r.state, &s); err != nil {
		return s, fmt.Errorf("decode summary %s: %w", r.id, err)
	}
	return s, nil
}

// parseList checks f's sort and cursor.
func parseList(f ListFilter) (order, *listCursor, error) {
	o, ok := parseOrder(f.Sort)
	if !ok {
		return o, nil, ErrBadSort
	}
	if f.Cursor == "" {
		return o, nil, nil
	}
	c, err := decodeListCursor(f.Cursor, o)
	if err != nil {
		return o, nil, err
	}
	return o, &c, nil
}

// Partnerships lists partnership summaries (their derived state) in
// f.Sort, f.Limit at a time: from the start, after a page's NextCursor or
// before its PrevCursor. The page before one that is near the start is the
// first page, whole. ErrBadSort for a sort not in Sorts;
// projections.ErrBadCursor for a cursor not made by Partnerships in the
// same sort.
func (q *Queries) Partnerships(ctx context.Context, f ListFilter) (Page[partnership.State], error) {
	page := Page[partnership.State]{Items: []partnership.State{}}
	o, cursor, err := parseList(f)
	if err != nil {
		return page, err
	}
	f.Limit = max(f.Limit, 1)
	var rows []listRow
	err = q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		rows = rows[:0]
		return scan(ctx, t, db, f, o, cursor, f.Limit+1, func(r listRow) error {
			rows = append(rows, r)
			return nil
		})
	})
	if err != nil {
		return page, err
	}
	more := len(rows) > f.Limit
	rows = rows[:min(len(rows), f.Limit)]
	switch {
	case cursor != nil && cursor.Before && !more:
		// Back at the start: the first page, as a list without a cursor
		// shows it (as many rows as fit, not just those before).
		f.Cursor = ""
		return q.Partnerships(ctx, f)
	case cursor != nil && cursor.Before:
		slices.Reverse(rows)
		first, last := rows[0], rows[len(rows)-1]
		page.PrevCursor = new(cursorAt(o, first.key, first.id, true))
		page.NextCursor = new(cursorAt(o, last.key, last.id, false))
	default:
		if more {
			last := rows[len(rows)-1]
			page.NextCursor = new(cursorAt(o, last.key, last.id, false))
		}
		if cursor != nil {
			// There were rows before the cursor: the page before this one
			// ends at its first row (or, past the end, at the cursor).
			first := listRow{id: cursor.ID, key: []byte(cursor.Time)}
			if cursor.Title != nil {
				first.key = cursor.Title
			}
			if len(rows) > 0 {
				first = rows[0]
			}
			page.PrevCursor = new(cursorAt(o, first.key, first.id, true))
		}
	}
	for _, r := range rows {
		s, err := decodeState(r)
		if err != nil {
			return page, err
		}
		page.Items = append(page.Items, s)
	}
	return page, nil
}

// Count returns how many partnerships f selects (its cursor and limit
// aside).
func (q *Queries) Count(ctx context.Context, f ListFilter) (int, error) {
	n := 0
	err := q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		where, args := selection(t, f)
		return db.QueryRowContext(ctx, t.SQL(`SELECT count(*) FROM {p}summaries`+where), args...).Scan(&n)
	})
	return n, err
}

// Each hands fn every partnership f selects, in f.Sort from the first (the
// cursor aside), at most f.Limit when it is positive, from one query: one
// consistent view of the read model, read as fn goes (a download streams
// the list without holding it). fn's error stops Each and is returned,
// wrapped. ErrBadSort for a sort not in Sorts.
func (q *Queries) Each(ctx context.Context, f ListFilter, fn func(partnership.State) error) error {
	o, ok := parseOrder(f.Sort)
	if !ok {
		return ErrBadSort
	}
	return q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		return scan(ctx, t, db, f, o, nil, f.Limit, func(r listRow) error {
			s, err := decodeState(r)
			if err != nil {
				return err
			}
			return fn(s)
		})
	})
}

// MunicipalityCount is one municipality of the current list with its
// partnerships (old codes counted under today's).
type MunicipalityCount struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	Partnerships int    `json:"partnerships"`
	Active       int    `json:"active"`
}

// Municipalities returns every municipality of the current SSB list, by
// code, with its number of partnerships and of active ones.
func (q *Queries) Municipalities(ctx context.Context) ([]MunicipalityCount, error) {
	counts := map[string]*MunicipalityCount{}
	list := kommune.CurrentList()
	out := make([]MunicipalityCount, len(list))
	for i, m := range list {
		out[i] = MunicipalityCount{Code: string(m.Code), Name: m.Name}
		counts[string(m.Code)] = &out[i]
	}
	err := q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		rows, err := db.QueryContext(ctx, t.SQL(`SELECT current_municipality, count(*), count(*) FILTER (WHERE status = 'active') FROM {p}summaries GROUP BY current_municipality`))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var code string
			var total, active int
			if err := rows.Scan(&code, &total, &active); err != nil {
				return err
			}
			if c, ok := counts[code]; ok {
				c.Partnerships, c.Active = total, active
			}
		}
		return rows.Err()
	})
	return out, err
}

// Stats are the counts of GET /api/v1/stats (docs/api.md).
type Stats struct {
	Municipality         *projections.Municipality `json:"municipality"`
	Partnerships         int                       `json:"partnerships"`
	ByStatus             map[string]int            `json:"by_status"`
	ByServiceArea        map[string]int            `json:"by_service_area"`
	ByCollaborationModel map[string]int            `json:"by_collaboration_model"`
	// MedianDurationDays is the median of ended partnerships' durations,
	// from started_at to ended_at in days (fractional); nil when none
	// ended. It leaves the ongoing ones out, so it is biased towards
	// short lives: Survival counts them as censored and is the one to
	// use; this stays for clients that read it.
	MedianDurationDays *float64 `json:"median_duration_days"`
	// Survival is the Kaplan–Meier median lifetime of every partnership,
	// the ongoing ones censored at today.
	Survival Survival `json:"survival"`
	// GoalChangesPerPartnership is the mean number of goal changes, and
	// Distribution how many partnerships had each number.
	GoalChangesPerPartnership GoalChanges `json:"goal_changes_per_partnership"`
}

// GoalChanges summarises goal changes per partnership.
type GoalChanges struct {
	Mean         float64        `json:"mean"`
	Distribution map[string]int `json:"distribution"`
}

func zeroCounts(keys []string) map[string]int {
	m := make(map[string]int, len(keys))
	for _, k := range keys {
		m[k] = 0
	}
	return m
}

// Stats counts partnerships in one municipality (today's code) or, when
// municipality is "", everywhere; now dates the censoring of the ongoing
// ones in Survival.
func (q *Queries) Stats(ctx context.Context, municipality string, now time.Time) (Stats, error) {
	st := Stats{
		ByStatus:                  zeroCounts(partnership.Statuses),
		ByServiceArea:             zeroCounts(partnership.ServiceAreas),
		ByCollaborationModel:      zeroCounts(partnership.CollaborationModels),
		GoalChangesPerPartnership: GoalChanges{Distribution: map[string]int{}},
	}
	query := `SELECT status, service_area, collaboration_model, started_at, ended_at, goal_changes FROM {p}summaries`
	var args []any
	if municipality != "" {
		m := projections.MunicipalityOf(municipality)
		st.Municipality = &m
		query += ` WHERE current_municipality = ?`
		args = append(args, municipality)
	}
	var durations []float64
	var lifetimes []Duration
	goalChanges := 0
	err := q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		rows, err := db.QueryContext(ctx, t.SQL(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var status, area, model, started string
			var ended sql.NullString
			var changes int
			if err := rows.Scan(&status, &area, &model, &started, &ended, &changes); err != nil {
				return err
			}
			st.Partnerships++
			st.ByStatus[status]++
			st.ByServiceArea[area]++
			st.ByCollaborationModel[model]++
			st.GoalChangesPerPartnership.Distribution[fmt.Sprint(changes)]++
			goalChanges += changes
			days, isEnded, err := durationOf(started, ended, now)
			if err != nil {
				return err
			}
			lifetimes = append(lifetimes, Duration{Days: days, Ended: isEnded})
			if ended.Valid {
				from, to, err := projections.ParseSpan(started, ended)
				if err != nil {
					return err
				}
				durations = append(durations, to.Sub(from).Hours()/24)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return Stats{}, err
	}
	if st.Partnerships > 0 {
		st.GoalChangesPerPartnership.Mean = float64(goalChanges) / float64(st.Partnerships)
	}
	if n := len(durations); n > 0 {
		slices.Sort(durations)
		m := durations[n/2]
		if n%2 == 0 {
			m = (durations[n/2-1] + durations[n/2]) / 2
		}
		st.MedianDurationDays = &m
	}
	st.Survival = SurvivalOf(lifetimes)
	return st, nil
}
