package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/samspill/samspill/eventstore"
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
		s.headMoved()
	}
	return wrote, nil
}

// importer checks and inserts the events of one Import transaction.
type importer struct {
	tx       *sql.Tx
	head     int64            // highest position stored so far
	versions map[string]int64 // current version of the streams touched
}

// add writes e, or reports that it is already stored at its place.
func (im *importer) add(ctx context.Context, e eventstore.RecordedEvent) (written bool, err error) {
	var stream string
	var version, position int64
	err = im.tx.QueryRowContext(ctx, `SELECT stream_id, version, position FROM events WHERE event_id = ?`, e.EventID).
		Scan(&stream, &version, &position)
	switch {
	case err == nil:
		if stream != e.StreamID || uint64(version) != e.Version || uint64(position) != e.Position {
			return false, fmt.Errorf("%w: the id is stored as %s version %d at position %d", eventstore.ErrImportConflict, stream, version, position)
		}
		return false, nil
	case !errors.Is(err, sql.ErrNoRows):
		return false, err
	}
	if e.Position > uint64(math.MaxInt64) || int64(e.Position) <= im.head {
		return false, fmt.Errorf("%w: position %d is not above the store's head %d (import needs an empty store, or one holding only this file's events)",
			eventstore.ErrImportConflict, e.Position, im.head)
	}
	current, ok := im.versions[e.StreamID]
	if !ok {
		if err := im.tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?`, e.StreamID).Scan(&current); err != nil {
			return false, err
		}
	}
	if e.Version != uint64(current)+1 {
		return false, fmt.Errorf("%w: stream %s is at version %d, the event has version %d", eventstore.ErrImportConflict, e.StreamID, current, e.Version)
	}
	metadata, err := json.Marshal(e.Metadata)
	if err != nil {
		return false, err
	}
	if _, err := im.tx.ExecContext(ctx, `INSERT INTO events (position, event_id, stream_id, version, type, schema_version,
		occurred_at, recorded_at, metadata, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		int64(e.Position), e.EventID, e.StreamID, int64(e.Version), e.Type, e.SchemaVersion,
		formatTime(e.OccurredAt), formatTime(e.RecordedAt), string(metadata), string(e.Data)); err != nil {
		return false, err
	}
	im.head = int64(e.Position)
	im.versions[e.StreamID] = int64(e.Version)
	return true, nil
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
