package timeline

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/samspill/samspill/projections"
)

// ErrBadGrouping is a LaneQuery.GroupBy that names no lane column.
var ErrBadGrouping = errors.New("timeline: lanes can be grouped by service_area or collaboration_model only")

// LaneQuery asks for one page of a municipality's lanes.
type LaneQuery struct {
	// Filter chooses the lanes and bounds their entries as for Timeline;
	// its Limit and Cursor are not used.
	Filter Filter
	// GroupBy orders the lanes by service_area or collaboration_model
	// first ("": by start alone) and counts each group.
	GroupBy string
	// Offset skips that many lanes; Limit is the most a page holds (at
	// least 1).
	Offset, Limit int
}

// LanePage is one page of a municipality's lanes with every entry of
// theirs in range, what a page that draws them needs: the cost of a page
// is its lanes', not the municipality's.
type LanePage struct {
	Municipality projections.Municipality
	// Partnerships are the page's lanes: by GroupBy's column, then start,
	// then id.
	Partnerships []Partnership
	// Entries are the lanes' entries in range, by occurred_at, then
	// partnership and version, each with Event and Names.
	Entries []Entry
	// Total counts the lanes the filter chooses, on every page.
	Total int
	// Groups counts them by GroupBy's value; nil without GroupBy.
	Groups map[string]int
	// Earliest is when the first of them started, on every page (zero
	// when there are none): pages of one timeline can share an axis.
	Earliest time.Time
}

// LanePage returns one page of the lanes of the municipality with today's
// code, and their entries. It reads afresh: a page is a few dozen lanes.
// An unknown GroupBy is ErrBadGrouping.
func (q *Queries) LanePage(ctx context.Context, code string, lq LaneQuery) (LanePage, error) {
	out := LanePage{Municipality: projections.MunicipalityOf(code), Partnerships: []Partnership{}, Entries: []Entry{}}
	order := "p.started_at, p.id"
	switch lq.GroupBy {
	case "":
	case "service_area", "collaboration_model":
		order = "p." + lq.GroupBy + ", " + order
		out.Groups = map[string]int{}
	default:
		return out, ErrBadGrouping
	}
	f := lq.Filter
	lanes, args := laneWhere(code, f)
	lanes, args = spanWhere(lanes, args, f)
	where := strings.Join(lanes, " AND ")
	err := q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		// One row per group, or one for all.
		counts := `SELECT '', count(*), min(p.started_at) FROM {p}partnerships p WHERE ` + where
		if lq.GroupBy != "" {
			counts = `SELECT p.` + lq.GroupBy + `, count(*), min(p.started_at) FROM {p}partnerships p WHERE ` + where + ` GROUP BY p.` + lq.GroupBy
		}
		rows, err := db.QueryContext(ctx, t.SQL(counts), args...)
		if err != nil {
			return err
		}
		earliest := ""
		for rows.Next() {
			var key string
			var n int
			var first sql.NullString
			if err := rows.Scan(&key, &n, &first); err != nil {
				rows.Close()
				return err
			}
			if out.Groups != nil {
				out.Groups[key] = n
			}
			out.Total += n
			if first.Valid && (earliest == "" || first.String < earliest) {
				earliest = first.String
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if earliest != "" {
			if out.Earliest, err = time.Parse(projections.SortableTime, earliest); err != nil {
				return err
			}
		}
		if out.Partnerships, err = scanLanes(ctx, db, t.SQL(`SELECT `+laneColumns+` FROM {p}partnerships p WHERE `+where+` ORDER BY `+order+` LIMIT ? OFFSET ?`),
			append(args, max(lq.Limit, 1), max(lq.Offset, 0))...); err != nil {
			return err
		}
		if len(out.Partnerships) == 0 {
			return nil
		}
		// By the lanes' ids alone (entries_by_partnership): with the
		// municipality in the condition the planner may walk the
		// municipality's index in the answer's order through every entry
		// of the municipality, 40 times the rows of a page.
		entries := []string{"e.partnership_id IN (" + projections.InList(len(out.Partnerships)) + ")"}
		var entryArgs []any
		for _, p := range out.Partnerships {
			entryArgs = append(entryArgs, p.ID)
		}
		if f.From != nil {
			entries, entryArgs = append(entries, "e.occurred_at >= ?"), append(entryArgs, projections.Sortable(*f.From))
		}
		if f.To != nil {
			entries, entryArgs = append(entries, "e.occurred_at <= ?"), append(entryArgs, projections.Sortable(*f.To))
		}
		rows, err = db.QueryContext(ctx, t.SQL(`SELECT e.partnership_id, e.event_id, e.type, e.occurred_at, e.summary, e.data, e.names
FROM {p}entries e WHERE `+strings.Join(entries, " AND ")+` ORDER BY e.occurred_at, e.partnership_id, e.version`), entryArgs...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e Entry
			var occurred, names string
			var data []byte
			if err := rows.Scan(&e.PartnershipID, &e.EventID, &e.Type, &occurred, &e.Summary, &data, &names); err != nil {
				return err
			}
			if e.OccurredAt, err = time.Parse(projections.SortableTime, occurred); err != nil {
				return err
			}
			if err := e.describable(data, names); err != nil {
				return err
			}
			out.Entries = append(out.Entries, e)
		}
		return rows.Err()
	})
	return out, err
}
