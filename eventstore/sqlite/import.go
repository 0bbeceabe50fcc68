package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

var (
	_ eventstore.Importer     = (*Store)(nil)
	_ eventstore.StreamLister = (*Store)(nil)
)

// Import writes events exactly as another store recorded them, in one
// transaction (eventstore.Importer). It runs on a connection of its own,
// beside the writer goroutine's: SQLite serialises the two, and the
// writer's cache of stream versions is only a hint that UNIQUE(stream_id,
// version) backs up, so appends made after an import stay correct.
func (s *Store) Import(ctx context.Context, events []eventstore.RecordedEvent) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("import: %w", eventstore.ErrClosed)
	}
	if len(events) == 0 {
		return 0, nil
	}
	db, err := sql.Open(driverName, dsn(s.path, writerParams()))
	if err != nil {
		return 0, fmt.Errorf("import: %w", err)
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("import: begin: %w", s.translate(err))
	}
	defer func() { _ = tx.Rollback() }()

	im := importer{tx: tx, versions: map[string]int64{}}
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(position), 0) FROM events`).Scan(&im.head); err != nil {
		return 0, fmt.Errorf("import: head: %w", s.translate(err))
	}
	wrote := 0
	for _, e := range events {
		written, err := im.add(ctx, e)
		if err != nil {
			return 0, fmt.Errorf("import event %s (position %d): %w", e.EventID, e.Position, s.translate(err))
		}
		if written {
			wrote++
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("import: commit: %w", s.translate(err))
	}
	if wrote > 0 {
		s.moved.Notify(uint64(im.head))
	}
	return wrote, nil
}

// importer checks and inserts the events of one Import transaction.
type importer struct {
	tx       *sql.Tx
	head     int64            // highest position stored so far
	versions map[string]int64 // current version of the streams looked up
}

// add writes e, or reports that it is already stored at its place
// (eventstore.CheckImport decides).
func (im *importer) add(ctx context.Context, e eventstore.RecordedEvent) (written bool, err error) {
	stored, err := im.stored(ctx, e.EventID)
	if err != nil {
		return false, err
	}
	current, err := im.version(ctx, e.StreamID)
	if err != nil {
		return false, err
	}
	if write, err := eventstore.CheckImport(e, stored, uint64(im.head), uint64(current)); !write || err != nil {
		return false, err
	}
	if e.Position > math.MaxInt64 {
		// position is the rowid, a signed 64-bit integer.
		return false, fmt.Errorf("%w: position %d is beyond what the store can hold", eventstore.ErrImportConflict, e.Position)
	}
	metadata, err := json.Marshal(e.Metadata)
	if err != nil {
		return false, err
	}
	if _, err := im.tx.ExecContext(ctx, `INSERT INTO events (position, event_id, stream_id, version, type, schema_version,
		occurred_at, recorded_at, metadata, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(e.Position), e.EventID, e.StreamID, int64(e.Version), e.Type, e.SchemaVersion,
		sqlrow.FormatTime(e.OccurredAt), sqlrow.FormatTime(e.RecordedAt), string(metadata), string(e.Data)); err != nil {
		return false, err
	}
	im.head = int64(e.Position)
	im.versions[e.StreamID] = int64(e.Version)
	return true, nil
}

// stored returns where the event id is stored, the zero
// eventstore.StoredEvent if it is not.
func (im *importer) stored(ctx context.Context, eventID string) (eventstore.StoredEvent, error) {
	var stream string
	var version, position int64
	err := im.tx.QueryRowContext(ctx, `SELECT stream_id, version, position FROM events WHERE event_id = ?`, eventID).
		Scan(&stream, &version, &position)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return eventstore.StoredEvent{}, nil
	case err != nil:
		return eventstore.StoredEvent{}, err
	}
	return eventstore.StoredEvent{StreamID: stream, Version: uint64(version), Position: uint64(position)}, nil
}

// version returns the stream's current version. The import transaction
// holds the write lock, so what it looked up or wrote stays true.
func (im *importer) version(ctx context.Context, streamID string) (int64, error) {
	if v, ok := im.versions[streamID]; ok {
		return v, nil
	}
	var v int64
	if err := im.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?`, streamID).Scan(&v); err != nil {
		return 0, err
	}
	im.versions[streamID] = v
	return v, nil
}

// StreamsUpTo lists streams by their first event (eventstore.StreamLister)
// without reading any payload.
func (s *Store) StreamsUpTo(ctx context.Context, prefix string, upTo uint64) ([]string, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list streams: %w", eventstore.ErrClosed)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT stream_id FROM events
		WHERE version = 1 AND position <= ? AND substr(stream_id, 1, ?) = ? ORDER BY position`,
		int64(min(upTo, uint64(math.MaxInt64))), len(prefix), prefix)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", s.translate(err))
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("list streams: %w", s.translate(err))
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list streams: %w", s.translate(err))
	}
	return ids, nil
}
