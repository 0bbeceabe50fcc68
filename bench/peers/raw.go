package main

import (
	"context"
	"database/sql"
)

// eventColumns are the columns of samspill's events table, in its order.
const eventColumns = `position, event_id, stream_id, version, type, schema_version, occurred_at, recorded_at, metadata, data`

// rawReader is the read baseline on SQLite: plain SELECTs of samspill's own events
// table (the log the samspill side wrote), every column scanned into a Go
// value, nothing decoded.
type rawReader struct {
	db *sql.DB
}

func (r *rawReader) scan(ctx context.Context) (int, error) {
	return r.query(ctx, `SELECT `+eventColumns+` FROM events ORDER BY position`)
}

func (r *rawReader) load(ctx context.Context, stream string) (int, error) {
	return r.query(ctx, `SELECT `+eventColumns+` FROM events WHERE stream_id = ? ORDER BY version`, stream)
}

func (r *rawReader) query(ctx context.Context, query string, args ...any) (int, error) {
	rows, err := r.db.QueryContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var (
		n                                                      int
		position, version, schema                              int64
		eventID, streamID, typ, occurred, recorded, meta, data string
	)
	for rows.Next() {
		if err := rows.Scan(&position, &eventID, &streamID, &version, &typ, &schema, &occurred, &recorded, &meta, &data); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func (r *rawReader) close() error { return r.db.Close() }
