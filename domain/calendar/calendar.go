// Package calendar holds samspill's one notion of civil time: calendar
// dates are days in Europe/Oslo, and a date alone means 00:00 there
// (docs/events.md).
package calendar

import (
	"fmt"
	"time"
	_ "time/tzdata" // Europe/Oslo must resolve on machines without zoneinfo.
)

// Oslo is the Europe/Oslo location, loaded from the embedded tz database.
var Oslo = mustLoadOslo()

func mustLoadOslo() *time.Location {
	loc, err := time.LoadLocation("Europe/Oslo")
	if err != nil {
		panic(fmt.Sprintf("calendar: load Europe/Oslo from embedded tzdata: %v", err))
	}
	return loc
}

// Day formats an instant as its calendar date in Europe/Oslo (YYYY-MM-DD).
func Day(t time.Time) string { return t.In(Oslo).Format(time.DateOnly) }

// DateOnly reports whether t is 00:00 in Europe/Oslo: the instant a date
// given without a time of day stands for. Such an instant means "that
// day", not its first moment (partnership's same-day ordering).
func DateOnly(t time.Time) bool {
	h, m, s := t.In(Oslo).Clock()
	return h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0
}

// SameDay reports whether a and b fall on the same calendar date in
// Europe/Oslo.
func SameDay(a, b time.Time) bool {
	ay, am, ad := a.In(Oslo).Date()
	by, bm, bd := b.In(Oslo).Date()
	return ay == by && am == bm && ad == bd
}

// ParseTime reads an RFC 3339 timestamp, or a YYYY-MM-DD date meaning 00:00
// Europe/Oslo on that day. The result is in UTC.
func ParseTime(s string) (time.Time, error) {
	if t, err := time.ParseInLocation(time.DateOnly, s, Oslo); err == nil {
		return t.UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 timestamp nor a date YYYY-MM-DD", s)
	}
	return t.UTC(), nil
}

// ParseCutoff reads the bound of an as-of or as-known-at query: a timestamp
// is exact, a date includes all of that day in Europe/Oslo. The result is
// the last instant included, in UTC.
func ParseCutoff(s string) (time.Time, error) {
	if d, err := time.ParseInLocation(time.DateOnly, s, Oslo); err == nil {
		return d.AddDate(0, 0, 1).Add(-time.Nanosecond).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither an RFC 3339 timestamp nor a date YYYY-MM-DD", s)
	}
	return t.UTC(), nil
}
