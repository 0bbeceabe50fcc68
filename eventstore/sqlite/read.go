package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

// Reading events through the driver.
//
// A scan of the log or a stream's load spends most of its time fetching
// columns: modernc.org/sqlite makes three calls into SQLite for each text
// column of each row, each taking the connection's mutex, and allocates a
// Go string for it; database/sql's Next and Scan come on top, and Scan
// copies data a second time into the envelope's []byte. So the reads that
// return events ask SQLite for five columns instead of ten (the integers;
// the six text columns joined by the unit separator U+001F into one; data
// as a BLOB) and read them on the driver connection itself (sql.Conn.Raw):
// data is the []byte the driver has just allocated for that row, and the
// six strings share the one string it made for the joined column.
// docs/PERFORMANCE.md ("Event stores beside a peer") has the measurements.
//
// The join can be split only while no joined column holds the separator,
// that is while the joined column holds exactly five. Nothing samspill
// writes holds one (its ids are UUIDs, its types names, times are written
// by sqlrow.FormatTime and metadata by json.Marshal, which escapes control
// characters), but the port lets a caller choose ids and types: a result
// with any row that has another count is read again, whole, through
// database/sql and sqlrow.ScanEvents, which read every column on its own.

// joinedColumns is the column list scanJoined expects. concat_ws builds
// the joined column in one buffer; a chain of || copied the growing text
// at every step (BenchmarkReadAll: 1.11-1.12x raw with ||, 1.17-1.31x with
// concat_ws, alternating). The columns are NOT NULL, so concat_ws, which
// skips NULLs, joins all six.
const joinedColumns = `position, version, schema_version,
	concat_ws(char(31), event_id, stream_id, type, occurred_at, recorded_at, metadata),
	CAST(data AS BLOB)`

// separator joins the text columns of joinedColumns.
const separator = '\x1f'

// errJoinAmbiguous reports a joined column that holds the separator.
var errJoinAmbiguous = errors.New("a joined text column holds the separator")

// eventQuery is one read of events, in both of its forms.
type eventQuery struct {
	joined string    // over joinedColumns, run on the driver connection
	plain  *sql.Stmt // over sqlrow.EventColumns, prepared on the read pool
}

// readEvents runs q with args and returns its events, in a slice with room
// for capacity of them.
func (s *Store) readEvents(ctx context.Context, q eventQuery, capacity int, args ...any) ([]eventstore.RecordedEvent, error) {
	events, err := s.readJoined(ctx, q.joined, capacity, args)
	if !errors.Is(err, errJoinAmbiguous) {
		return events, err
	}
	s.plainReads.Add(1)
	rows, err := q.plain.QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return sqlrow.ScanEvents(rows, capacity)
}

// readJoined runs query, a query over joinedColumns, on a connection of the
// read pool through the driver.
func (s *Store) readJoined(ctx context.Context, query string, capacity int, args []any) ([]eventstore.RecordedEvent, error) {
	named := make([]driver.NamedValue, len(args))
	for i, a := range args {
		named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
	}
	conn, err := s.r.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var events []eventstore.RecordedEvent
	err = conn.Raw(func(dc any) error {
		q, ok := dc.(driver.QueryerContext)
		if !ok {
			return fmt.Errorf("driver connection %T cannot run queries", dc)
		}
		rows, err := q.QueryContext(ctx, query, named)
		if err != nil {
			return err
		}
		events, err = scanJoined(rows, capacity)
		return errors.Join(err, rows.Close())
	})
	return events, err
}

// scanJoined reads all of rows, rows of joinedColumns, as events.
func scanJoined(rows driver.Rows, capacity int) ([]eventstore.RecordedEvent, error) {
	events := make([]eventstore.RecordedEvent, 0, max(capacity, 0))
	row := make([]driver.Value, 5)
	for {
		if err := rows.Next(row); errors.Is(err, io.EOF) {
			return events, nil
		} else if err != nil {
			return nil, err
		}
		events = append(events, eventstore.RecordedEvent{})
		if err := decodeJoined(&events[len(events)-1], row); err != nil {
			return nil, err
		}
	}
}

// decodeJoined sets e from row, a row of joinedColumns.
func decodeJoined(e *eventstore.RecordedEvent, row []driver.Value) error {
	position, ok1 := row[0].(int64)
	version, ok2 := row[1].(int64)
	schema, ok3 := row[2].(int64)
	joined, ok4 := row[3].(string)
	data, ok5 := row[4].([]byte)
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return fmt.Errorf("unexpected column types %T, %T, %T, %T, %T", row[0], row[1], row[2], row[3], row[4])
	}
	var text [6]string
	for i := range len(text) - 1 {
		var found bool
		if text[i], joined, found = strings.Cut(joined, string(separator)); !found {
			return errJoinAmbiguous
		}
	}
	if strings.IndexByte(joined, separator) >= 0 {
		return errJoinAmbiguous
	}
	text[5] = joined
	e.Position, e.Version, e.SchemaVersion = uint64(position), uint64(version), int(schema)
	e.EventID, e.StreamID, e.Type = text[0], text[1], text[2]
	e.Data = data
	return sqlrow.DecodeText(e, text[3], text[4], text[5])
}
