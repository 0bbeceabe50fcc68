package synth

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"

	_ "modernc.org/sqlite" // the driver RawScan reads with
)

// EventsFromEnv is the size of the generated log a benchmark replays:
// SAMSPILL_BENCH_EVENTS, else def.
func EventsFromEnv(def int) (int, error) {
	v := os.Getenv("SAMSPILL_BENCH_EVENTS")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 50 {
		return 0, fmt.Errorf("SAMSPILL_BENCH_EVENTS=%q: want an integer ≥ 50", v)
	}
	return n, nil
}

// RawScan reads every row of the SQLite event store file at path in
// position order, every column, and returns how many there are: the floor
// under anything that reads the whole log, which benchmarks measure in the
// same run as their baseline.
func RawScan(ctx context.Context, path string) (int, error) {
	db, err := sql.Open("sqlite", "file:"+path+"?_query_only=1")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT position, event_id, stream_id, version, type, schema_version, occurred_at, recorded_at, metadata, data FROM events ORDER BY position`)
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
