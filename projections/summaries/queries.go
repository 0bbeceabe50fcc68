package summaries

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

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

// ListFilter selects partnership summaries. Empty fields do not filter.
type ListFilter struct {
	// Municipality is today's code; callers map older codes first.
	Municipality       string
	Status             string
	ServiceArea        string
	CollaborationModel string
	// Query matches title and partner names, case-insensitively.
	Query string
	// Limit is the page size (callers bound it); Cursor continues a list.
	Limit  int
	Cursor string
}

// Page is one page of a list; NextCursor is nil on the last page.
type Page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// listCursor is where a page of summaries ends: newest first, by start
// time, then id.
type listCursor struct {
	StartedAt string `json:"s"`
	ID        string `json:"i"`
}

func decodeListCursor(s string) (listCursor, error) {
	var c listCursor
	if projections.DecodeCursor(s, &c) != nil || c.ID == "" || !projections.IsSortable(c.StartedAt) {
		return listCursor{}, projections.ErrBadCursor
	}
	return c, nil
}

// Partnerships lists partnership summaries (their derived state), newest
// first. A cursor not made by Partnerships is projections.ErrBadCursor.
func (q *Queries) Partnerships(ctx context.Context, f ListFilter) (Page[partnership.State], error) {
	page := Page[partnership.State]{Items: []partnership.State{}}
	var cursor *listCursor
	if f.Cursor != "" {
		c, err := decodeListCursor(f.Cursor)
		if err != nil {
			return page, err
		}
		cursor = &c
	}
	err := q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		var where []string
		var args []any
		add := func(cond string, arg ...any) {
			where = append(where, cond)
			args = append(args, arg...)
		}
		if cursor != nil {
			add("(started_at, id) < (?, ?)", cursor.StartedAt, cursor.ID)
		}
		if f.Municipality != "" {
			add("current_municipality = ?", f.Municipality)
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
		if needle := strings.TrimSpace(f.Query); needle != "" {
			add(t.Dialect().Contains("search", "?"), strings.ToLower(needle))
		}
		query := `SELECT id, started_at, state FROM {p}summaries`
		if len(where) > 0 {
			query += " WHERE " + strings.Join(where, " AND ")
		}
		query += " ORDER BY started_at DESC, id DESC LIMIT ?"
		rows, err := db.QueryContext(ctx, t.SQL(query), append(args, f.Limit+1)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var last listCursor
		for rows.Next() {
			var c listCursor
			var raw []byte
			if err := rows.Scan(&c.ID, &c.StartedAt, &raw); err != nil {
				return err
			}
			if len(page.Items) == f.Limit {
				next := projections.EncodeCursor(last)
				page.NextCursor = &next
				break
			}
			var s partnership.State
			if err := json.Unmarshal(raw, &s); err != nil {
				return fmt.Errorf("decode summary %s: %w", c.ID, err)
			}
			page.Items = append(page.Items, s)
			last = c
		}
		return rows.Err()
	})
	return page, err
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
	// ended.
	MedianDurationDays *float64 `json:"median_duration_days"`
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
// municipality is "", everywhere.
func (q *Queries) Stats(ctx context.Context, municipality string) (Stats, error) {
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
	return st, nil
}
