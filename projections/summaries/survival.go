package summaries

import (
	"context"
	"database/sql"
	"math"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/research/survival"
)

// Duration is one partnership's observed lifetime for survival analysis:
// whole calendar days (Europe/Oslo) from its start to its end, or to
// today when it is still going (censored), at least 1.
type Duration struct {
	// Municipality is today's code.
	Municipality string
	// CollaborationModel is the current one (a changed model counts under
	// the model it has now).
	CollaborationModel string
	Days               int
	Ended              bool
}

// durationOf is a summary row's Duration as of today.
func durationOf(started string, ended sql.NullString, today time.Time) (days int, isEnded bool, err error) {
	from, to, err := projections.ParseSpan(started, ended)
	if err != nil {
		return 0, false, err
	}
	if to == nil {
		return max(1, calendar.Days(from, today)), false, nil
	}
	return max(1, calendar.Days(from, *to)), true, nil
}

// Durations returns every partnership's Duration as of now, in one
// municipality (today's code) or, when municipality is "", everywhere, in
// the order of their ids.
func (q *Queries) Durations(ctx context.Context, municipality string, now time.Time) ([]Duration, error) {
	query := `SELECT current_municipality, collaboration_model, started_at, ended_at FROM {p}summaries`
	var args []any
	if municipality != "" {
		query += ` WHERE current_municipality = ?`
		args = append(args, municipality)
	}
	query += ` ORDER BY id`
	var out []Duration
	err := q.r.Read(ctx, Name, func(t projections.Tables, db projections.Querier) error {
		rows, err := db.QueryContext(ctx, t.SQL(query), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var d Duration
			var started string
			var ended sql.NullString
			if err := rows.Scan(&d.Municipality, &d.CollaborationModel, &started, &ended); err != nil {
				return err
			}
			if d.Days, d.Ended, err = durationOf(started, ended, now); err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

// Survival is the Kaplan–Meier summary of GET /stats: the median lifetime
// of partnerships in days with its 95 % confidence interval (R's survfit,
// conf.type "log"), counting the ongoing ones as censored instead of
// leaving them out. Null values are not reached (too few ended).
type Survival struct {
	MedianDays   *float64 `json:"median_days"`
	CILowerDays  *float64 `json:"ci_lower_days"`
	CIUpperDays  *float64 `json:"ci_upper_days"`
	Partnerships int      `json:"partnerships"`
	Ended        int      `json:"ended"`
	Censored     int      `json:"censored"`
	ConfType     string   `json:"conf_type"`
}

// Curve is the Kaplan–Meier curve of the durations.
func Curve(ds []Duration) survival.Curve {
	times := make([]float64, len(ds))
	events := make([]bool, len(ds))
	for i, d := range ds {
		times[i], events[i] = float64(d.Days), d.Ended
	}
	return survival.KaplanMeier(times, events)
}

// SurvivalOf summarises the durations' Kaplan–Meier curve.
func SurvivalOf(ds []Duration) Survival {
	c := Curve(ds)
	m, lo, hi, _ := survival.Median(c)
	return Survival{
		MedianDays: finite(m), CILowerDays: finite(lo), CIUpperDays: finite(hi),
		Partnerships: c.Subjects, Ended: c.Events, Censored: c.Subjects - c.Events, ConfType: "log",
	}
}

// finite is a value for JSON: nil for NaN (not reached).
func finite(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}
