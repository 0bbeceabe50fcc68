// Package sqlrow is the row layout the SQL event stores (eventstore/sqlite,
// eventstore/postgres) share: the columns an event and an idempotency
// record are read from, times kept as text in one fixed layout, metadata
// as JSON text. Both schemas store the same columns the same way; what
// differs between the databases (placeholders, column types, constraint
// names, how statements are sent) stays in the adapters.
package sqlrow

import (
	"fmt"
	"time"

	"github.com/samspill/samspill/eventstore"
)

// timeLayout stores times as UTC RFC 3339 with exactly nine fractional
// digits: exact to the nanosecond, and text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime is t as a time column holds it.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParseTime reads a time column, in UTC. A column in the layout FormatTime
// writes is read by hand (a scan of the log parses two per event, and
// time.Parse was a tenth of its CPU); anything else, such as a time
// written with another offset or precision, goes through time.Parse, so
// both read every value alike.
func ParseTime(s string) (time.Time, error) {
	if t, ok := parseFixed(s); ok {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
}

// parseFixed reads s if it is exactly in timeLayout with a Z offset and
// every field in range, and reports whether it was.
func parseFixed(s string) (time.Time, bool) {
	if len(s) != len(timeLayout)-len("Z07:00")+1 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
		s[13] != ':' || s[16] != ':' || s[19] != '.' || s[29] != 'Z' {
		return time.Time{}, false
	}
	num := func(from, to int) (int, bool) {
		n := 0
		for i := from; i < to; i++ {
			c := s[i] - '0'
			if c > 9 {
				return 0, false
			}
			n = n*10 + int(c)
		}
		return n, true
	}
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	sec, ok6 := num(17, 19)
	nsec, ok7 := num(20, 29)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if t.Day() != day { // the 31st of a 30-day month, or 29 February of a common year
		return time.Time{}, false
	}
	return t, true
}

// Row is one row to scan; *sql.Row and pgx.Row are.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result to read row by row; *sql.Rows and pgx.Rows are.
type Rows interface {
	Row
	Next() bool
	Err() error
}

// EventColumns is the column list ScanEvents expects.
const EventColumns = `position, event_id, stream_id, version, type, schema_version,
	occurred_at, recorded_at, metadata, data`

// StreamCapacity is the capacity to scan a stream with: streams are short
// (tens of events), and a slice that starts there and grows costs less
// than guessing high.
const StreamCapacity = 16

// ScanEvents reads all of rows, rows of EventColumns, as events. The
// result starts with room for capacity events and grows past it: pass the
// most events the query can return where it is known (a page at the head,
// where subscribers read after every commit, then allocates nothing; a
// page-sized slice made up front, 224 bytes an event, was most of what a
// busy server allocated: docs/PERFORMANCE.md, Load). The caller closes
// rows.
func ScanEvents(rows Rows, capacity int) ([]eventstore.RecordedEvent, error) {
	events := make([]eventstore.RecordedEvent, 0, max(capacity, 0))
	var (
		position, version, schema    int64
		occurred, recorded, metadata string
		data                         []byte
	)
	for rows.Next() {
		events = append(events, eventstore.RecordedEvent{})
		e := &events[len(events)-1]
		// Text columns are scanned into strings, which take the driver's
		// own copy without another; data is the one column copied, into
		// the []byte the envelope holds.
		if err := rows.Scan(&position, &e.EventID, &e.StreamID, &version, &e.Type, &schema,
			&occurred, &recorded, &metadata, &data); err != nil {
			return nil, err
		}
		e.Position, e.Version, e.SchemaVersion = uint64(position), uint64(version), int(schema)
		e.Data, data = data, nil
		if err := DecodeText(e, occurred, recorded, metadata); err != nil {
			return nil, err
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return events, nil
}

// DecodeText sets e's times and metadata from the text of their columns;
// an error names e.EventID.
func DecodeText(e *eventstore.RecordedEvent, occurred, recorded, metadata string) error {
	var err error
	if e.OccurredAt, err = ParseTime(occurred); err != nil {
		return fmt.Errorf("event %s: occurred_at: %w", e.EventID, err)
	}
	if e.RecordedAt, err = ParseTime(recorded); err != nil {
		return fmt.Errorf("event %s: recorded_at: %w", e.EventID, err)
	}
	if e.Metadata, err = decodeMetadata(metadata); err != nil {
		return fmt.Errorf("event %s: metadata: %w", e.EventID, err)
	}
	return nil
}

// IdempotencyColumns is the column list ScanIdempotency expects.
const IdempotencyColumns = `request_hash, stream_id, first_version, last_version, position, recorded_at`

// ScanIdempotency reads row, a row of IdempotencyColumns, as the record
// stored under key. An error of row.Scan comes back as it is, so the
// caller can tell "no such row" (sql.ErrNoRows, pgx.ErrNoRows) apart; a
// recorded_at that does not parse is an error saying so.
func ScanIdempotency(row Row, key string) (eventstore.IdempotencyRecord, error) {
	var (
		rec                   = eventstore.IdempotencyRecord{Key: key}
		first, last, position int64
		recordedAt            string
	)
	if err := row.Scan(&rec.RequestHash, &rec.StreamID, &first, &last, &position, &recordedAt); err != nil {
		return eventstore.IdempotencyRecord{}, err
	}
	rec.FirstVersion, rec.LastVersion, rec.Position = uint64(first), uint64(last), uint64(position)
	var err error
	if rec.RecordedAt, err = ParseTime(recordedAt); err != nil {
		return eventstore.IdempotencyRecord{}, fmt.Errorf("recorded_at: %w", err)
	}
	return rec, nil
}
