package projections

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
)

// ErrBadCursor means a list cursor was not made by this server.
var ErrBadCursor = errors.New("malformed cursor")

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

// encodeCursor makes an opaque cursor of a position in a list.
func encodeCursor(c any) string {
	raw, _ := json.Marshal(c) // cursors are structs of strings and numbers
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor reads a cursor made by encodeCursor into c; anything else is
// ErrBadCursor.
func decodeCursor(s string, c any) error {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(raw, c)
	}
	if err != nil {
		return ErrBadCursor
	}
	return nil
}

// isSortable reports whether s is a time as the read models store it.
func isSortable(s string) bool {
	_, err := time.Parse(sortableTime, s)
	return err == nil
}

func decodeListCursor(s string) (listCursor, error) {
	var c listCursor
	if decodeCursor(s, &c) != nil || c.ID == "" || !isSortable(c.StartedAt) {
		return listCursor{}, ErrBadCursor
	}
	return c, nil
}

// Partnerships lists partnership summaries (their derived state), newest
// first.
func (r *Runner) Partnerships(ctx context.Context, f ListFilter) (Page[partnership.State], error) {
	page := Page[partnership.State]{Items: []partnership.State{}}
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		args = append(args, arg)
	}
	if f.Cursor != "" {
		c, err := decodeListCursor(f.Cursor)
		if err != nil {
			return page, err
		}
		where = append(where, "(started_at, id) < (?, ?)")
		args = append(args, c.StartedAt, c.ID)
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
	if q := strings.TrimSpace(f.Query); q != "" {
		add(r.db.dialect.substring+"(search, ?) > 0", strings.ToLower(q))
	}
	query := `SELECT id, started_at, state FROM {p}summaries`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY started_at DESC, id DESC LIMIT ?"
	args = append(args, f.Limit+1)

	err := r.read(ctx, SummariesName, func(t Tables, db querier) error {
		rows, err := db.QueryContext(ctx, t.SQL(query), args...)
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
				next := encodeCursor(last)
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

// querier is what a query reads through: the read pool, or a read
// transaction on it.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// read runs fn against the active generation of the projection. Where
// several instances share the read models (PostgreSQL), fn runs in one
// read-only transaction: its statements see one commit of the leader, and
// the tables they touch cannot be dropped under them. A generation that
// the leader replaced and dropped since this instance last read the
// catalog is found again and fn runs once more (its first statement
// failed, so it has gathered nothing).
func (r *Runner) read(ctx context.Context, name string, fn func(Tables, querier) error) error {
	for attempt := 0; ; attempt++ {
		t, release, err := r.acquire(name)
		if err != nil {
			return err
		}
		err = r.readIn(ctx, t, fn)
		release()
		if err == nil {
			return nil
		}
		if attempt == 0 && r.db.dialect.undefinedTable(err) {
			if s, serr := r.slot(name); serr == nil && !s.leading() && r.refresh(ctx, s) == nil {
				continue
			}
		}
		return fmt.Errorf("query %s: %w", name, err)
	}
}

func (r *Runner) readIn(ctx context.Context, t Tables, fn func(Tables, querier) error) error {
	if !r.db.dialect.numbered {
		return fn(t, r.reader()) // one writer, one process: no drop can race a query
	}
	tx, err := r.reader().BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(t, tx); err != nil {
		return err
	}
	return tx.Commit()
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
func (r *Runner) Municipalities(ctx context.Context) ([]MunicipalityCount, error) {
	counts := map[string]*MunicipalityCount{}
	list := kommune.CurrentList()
	out := make([]MunicipalityCount, len(list))
	for i, m := range list {
		out[i] = MunicipalityCount{Code: string(m.Code), Name: m.Name}
		counts[string(m.Code)] = &out[i]
	}
	err := r.read(ctx, SummariesName, func(t Tables, db querier) error {
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
	Municipality         *Municipality  `json:"municipality"`
	Partnerships         int            `json:"partnerships"`
	ByStatus             map[string]int `json:"by_status"`
	ByServiceArea        map[string]int `json:"by_service_area"`
	ByCollaborationModel map[string]int `json:"by_collaboration_model"`
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

// Municipality names a municipality by today's code.
type Municipality struct {
	Code string `json:"code"`
	Name string `json:"name"`
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
func (r *Runner) Stats(ctx context.Context, municipality string) (Stats, error) {
	st := Stats{
		ByStatus:                  zeroCounts(partnership.Statuses),
		ByServiceArea:             zeroCounts(partnership.ServiceAreas),
		ByCollaborationModel:      zeroCounts(partnership.CollaborationModels),
		GoalChangesPerPartnership: GoalChanges{Distribution: map[string]int{}},
	}
	query := `SELECT status, service_area, collaboration_model, started_at, ended_at, goal_changes FROM {p}summaries`
	var args []any
	if municipality != "" {
		st.Municipality = &Municipality{Code: municipality, Name: kommune.Code(municipality).Name()}
		query += ` WHERE current_municipality = ?`
		args = append(args, municipality)
	}
	var durations []float64
	goalChanges := 0
	err := r.read(ctx, SummariesName, func(t Tables, db querier) error {
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
				from, to, err := parseSpan(started, ended)
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
