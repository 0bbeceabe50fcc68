package kommune

import (
	"fmt"
	"math"
	"time"

	"github.com/samspill/samspill/domain/calendar"
)

// oslo is the zone in which calendar dates are taken.
var oslo = calendar.Oslo

// day is a calendar date encoded as year*10000 + month*100 + day, so that
// integer order is calendar order (also for years before year 1).
type day int64

const (
	// beginning stands for "valid since before the change table starts".
	beginning day = math.MinInt64
	// forever stands for "still valid".
	forever day = math.MaxInt64
)

// dayOf returns the calendar date of t in Europe/Oslo.
func dayOf(t time.Time) day {
	y, m, d := t.In(oslo).Date()
	return day(int64(y)*10000 + int64(m)*100 + int64(d))
}

// midnight returns the start of t's calendar date in Europe/Oslo.
func midnight(t time.Time) time.Time {
	y, m, d := t.In(oslo).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, oslo)
}

// parseDay parses a YYYY-MM-DD table date.
func parseDay(s string) (day, time.Time, error) {
	t, err := time.ParseInLocation(time.DateOnly, s, oslo)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("date %q: %w", s, err)
	}
	return dayOf(t), t, nil
}

// time returns midnight in Europe/Oslo of a table date, or the zero time for
// beginning and forever. Only valid for years 1 to 9999.
func (d day) time() time.Time {
	if d == beginning || d == forever {
		return time.Time{}
	}
	return time.Date(int(d/10000), time.Month(d/100%100), int(d%100), 0, 0, 0, 0, oslo)
}

// String formats a table date as YYYY-MM-DD.
func (d day) String() string {
	switch d {
	case beginning:
		return "beginning"
	case forever:
		return "forever"
	}
	return d.time().Format(time.DateOnly)
}

// interval is the half-open span [from, until) of days on which a code is valid.
type interval struct{ from, until day }

func (iv interval) contains(d day) bool { return iv.from <= d && d < iv.until }
