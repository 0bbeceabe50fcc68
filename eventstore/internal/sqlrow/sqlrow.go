// Package sqlrow is the row layout the SQL event stores (eventstore/sqlite,
// eventstore/postgres) share: the columns an event and an idempotency
// record are read from, times kept as text in one fixed layout, metadata
// as JSON text. Both schemas store the same columns the same way; what
// differs between the databases (placeholders, column types, constraint
// names, how statements are sent) stays in the adapters.
package sqlrow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/samspill/samspill/eventstore"
)

// timeLayout stores times as UTC RFC 3339 with exactly nine fractional
// digits: exact to the nanosecond, and text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// FormatTime is t as a time column holds it.
func FormatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

// ParseTime reads a time column, in UTC.
func ParseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, err
	}
	return t.UTC(), nil
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

// ScanEvents reads all of rows, rows of EventColumns, as events. sizeHint
// is how many rows there may be (0 if unknown). The caller closes rows.
func ScanEvents(rows Rows, sizeHint int) ([]eventstore.RecordedEvent, error) {
	// The slice starts small and grows with the rows: most reads of a live
	// log find a few events or none (subscribers read after every commit),
	// and a page-sized slice made up front (224 bytes an event) was most of
	// what a busy server allocated (docs/PERFORMANCE.md, Load).
	events := make([]eventstore.RecordedEvent, 0, min(sizeHint, 16))
	for rows.Next() {
		var (
			e                         eventstore.RecordedEvent
			position, version, schema int64
			occurred, recorded        string
			metadata, data            []byte
		)
		if err := rows.Scan(&position, &e.EventID, &e.StreamID, &version, &e.Type, &schema,
			&occurred, &recorded, &metadata, &data); err != nil {
			return nil, err
		}
		e.Position, e.Version, e.SchemaVersion = uint64(position), uint64(version), int(schema)
		var err error
		if e.OccurredAt, err = ParseTime(occurred); err != nil {
			return nil, fmt.Errorf("event %s: occurred_at: %w", e.EventID, err)
		}
		if e.RecordedAt, err = ParseTime(recorded); err != nil {
			return nil, fmt.Errorf("event %s: recorded_at: %w", e.EventID, err)
		}
		if err := json.Unmarshal(metadata, &e.Metadata); err != nil {
			return nil, fmt.Errorf("event %s: metadata: %w", e.EventID, err)
		}
		e.Data = json.RawMessage(data)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return events, nil
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
