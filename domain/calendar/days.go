package calendar

import "time"

// Days returns the number of calendar days in Europe/Oslo from the date
// of from to the date of to (negative when to's date is earlier): what
// "how many days did it last" means whatever the times of day and
// daylight saving in between.
func Days(from, to time.Time) int {
	return dayNumber(to) - dayNumber(from)
}

// dayNumber numbers the Oslo calendar date of t (days since 1970-01-01).
func dayNumber(t time.Time) int {
	y, m, d := t.In(Oslo).Date()
	return int(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}
