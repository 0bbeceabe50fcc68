package locale

import (
	"fmt"
	"time"

	"golang.org/x/text/number"

	"github.com/samspill/samspill/domain/calendar"
)

// Dates and times are written in Europe/Oslo, whatever instant is given,
// by the patterns of the catalogues (format.*.toml): the order of day,
// month and year, the month's name and the word before a time of day are
// the language's.

// Date writes the calendar day of t in Europe/Oslo in full: 7. desember
// 2026 (bokmål, nynorsk), 7 December 2026 (English).
func (l *Localizer) Date(t time.Time) string {
	d := t.In(calendar.Oslo)
	return l.T("format.date_long", "Day", d.Day(), "Month", l.T(fmt.Sprintf("format.month_%d", int(d.Month()))), "Year", d.Year())
}

// ShortDate writes the calendar day of t in Europe/Oslo with digits:
// 07.12.2026 (bokmål, nynorsk), 07/12/2026 (English).
func (l *Localizer) ShortDate(t time.Time) string {
	d := t.In(calendar.Oslo)
	return l.T("format.date_short", "Day", fmt.Sprintf("%02d", d.Day()), "Month", fmt.Sprintf("%02d", int(d.Month())), "Year", d.Year())
}

// Time writes the time of day of t in Europe/Oslo: kl. 14.00 (bokmål,
// nynorsk), 14:00 (English).
func (l *Localizer) Time(t time.Time) string {
	d := t.In(calendar.Oslo)
	return l.T("format.time", "Hour", fmt.Sprintf("%02d", d.Hour()), "Minute", fmt.Sprintf("%02d", d.Minute()))
}

// DateTime writes t in Europe/Oslo with its day in full and its time of
// day: 7. desember 2026 kl. 14.00.
func (l *Localizer) DateTime(t time.Time) string {
	return l.T("format.date_time", "Date", l.Date(t), "Time", l.Time(t))
}

// Number writes a whole number grouped the language's way: 290 000
// (with a no-break space) in bokmål and nynorsk, 290,000 in English.
func (l *Localizer) Number(n int64) string {
	return l.numbers.Sprint(number.Decimal(n))
}

// Kroner writes an amount of whole kroner: 290 000 kr (bokmål, nynorsk),
// NOK 290,000 (English).
func (l *Localizer) Kroner(n int64) string {
	return l.T("format.kroner", "Amount", l.Number(n))
}
