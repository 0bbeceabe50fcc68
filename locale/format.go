package locale

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/text/number"

	"github.com/samspill/samspill/domain/calendar"
)

// Dates and times are written in Europe/Oslo, whatever instant is given,
// by the patterns of the catalogues (format.*.toml): the order of day,
// month and year, the month's name and the word before a time of day are
// the language's.

// The formats are filled from their Patterns, made once per Localizer: a
// page writes a date for every entry of a history.

// Date writes the calendar day of t in Europe/Oslo in full: 7. desember
// 2026 (bokmål, nynorsk), 7 December 2026 (English).
func (l *Localizer) Date(t time.Time) string {
	d := t.In(calendar.Oslo)
	return l.fill("format.date_long", []string{"Day", "Month", "Year"}, strconv.Itoa(d.Day()), l.T(monthIDs[d.Month()-1]), strconv.Itoa(d.Year()))
}

// monthIDs are the months' message ids.
var monthIDs = func() []string {
	out := make([]string, 12)
	for i := range out {
		out[i] = fmt.Sprintf("format.month_%d", i+1)
	}
	return out
}()

// fill writes the message id with the values of names, from its Pattern.
func (l *Localizer) fill(id string, names []string, values ...string) string {
	p, ok := l.patterns.Load(id)
	if !ok {
		p, _ = l.patterns.LoadOrStore(id, l.Pattern(id, names...))
	}
	return p.(Pattern).Fill(values...)
}

// ShortDate writes the calendar day of t in Europe/Oslo with digits:
// 07.12.2026 (bokmål, nynorsk), 07/12/2026 (English).
func (l *Localizer) ShortDate(t time.Time) string {
	return string(l.AppendShortDate(make([]byte, 0, 10), t))
}

// AppendShortDate appends ShortDate(t) to b, without running the
// catalogue's template (its Pattern is made once): a timeline writes
// thousands.
func (l *Localizer) AppendShortDate(b []byte, t time.Time) []byte {
	year, month, day := t.In(calendar.Oslo).Date()
	for _, p := range l.shortDate().Parts {
		switch p.Value {
		case 0:
			b = append2(b, day)
		case 1:
			b = append2(b, int(month))
		case 2:
			b = strconv.AppendInt(b, int64(year), 10)
		default:
			b = append(b, p.Text...)
		}
	}
	return b
}

// Pattern is a message cut at its values, for a caller that fills it many
// times (a timeline's thousands of titles) without running its template
// each time. Parts are in order: text (Value -1) or the index of a value.
type Pattern struct {
	Parts []PatternPart
}

// PatternPart is a piece of a Pattern.
type PatternPart struct {
	Text string
	// Value is the index, in the names given to Pattern, of the value
	// that goes here; -1 for text.
	Value int
}

// Pattern returns the message id cut at the values named (at most 9); a
// message that uses a value twice has it twice in its parts.
func (l *Localizer) Pattern(id string, names ...string) Pattern {
	pairs := make([]any, 0, 2*len(names))
	for i, n := range names {
		pairs = append(pairs, n, "\x00"+strconv.Itoa(i))
	}
	var p Pattern
	for i, piece := range strings.Split(l.T(id, pairs...), "\x00") {
		if i > 0 && piece != "" {
			p.Parts = append(p.Parts, PatternPart{Value: int(piece[0] - '0')})
			piece = piece[1:]
		}
		if piece != "" {
			p.Parts = append(p.Parts, PatternPart{Text: piece, Value: -1})
		}
	}
	return p
}

// Fill writes the pattern with its values.
func (p Pattern) Fill(values ...string) string {
	var b strings.Builder
	for _, part := range p.Parts {
		if part.Value < 0 {
			b.WriteString(part.Text)
		} else if part.Value < len(values) {
			b.WriteString(values[part.Value])
		}
	}
	return b.String()
}

// append2 appends n with at least two digits.
func append2(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// Time writes the time of day of t in Europe/Oslo: kl. 14.00 (bokmål,
// nynorsk), 14:00 (English).
func (l *Localizer) Time(t time.Time) string {
	d := t.In(calendar.Oslo)
	return l.fill("format.time", []string{"Hour", "Minute"}, fmt.Sprintf("%02d", d.Hour()), fmt.Sprintf("%02d", d.Minute()))
}

// DateTime writes t in Europe/Oslo with its day in full and its time of
// day: 7. desember 2026 kl. 14.00.
func (l *Localizer) DateTime(t time.Time) string {
	return l.fill("format.date_time", []string{"Date", "Time"}, l.Date(t), l.Time(t))
}

// Number writes a whole number grouped the language's way: 290 000
// (with a no-break space) in bokmål and nynorsk, 290,000 in English.
func (l *Localizer) Number(n int64) string {
	return l.numbers.Sprint(number.Decimal(n))
}

// Decimal writes v with exactly digits decimals the language's way:
// 0,833 (bokmål, nynorsk), 0.833 (English); groups as Number does.
func (l *Localizer) Decimal(v float64, digits int) string {
	return l.numbers.Sprint(number.Decimal(v, number.Scale(digits)))
}

// Kroner writes an amount of whole kroner: 290 000 kr (bokmål, nynorsk),
// NOK 290,000 (English).
func (l *Localizer) Kroner(n int64) string {
	return l.fill("format.kroner", []string{"Amount"}, l.Number(n))
}
