package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

var (
	_ eventstore.Importer     = (*Store)(nil)
	_ eventstore.StreamLister = (*Store)(nil)
)

// Import writes events exactly as another store recorded them, in one
// transaction (eventstore.Importer). The transaction takes the counter
// lock first, as every append batch does, so it is serialised with the
// appends of every instance on the schema and its events become visible
// in position order like theirs; it leaves the counter at the last
// imported position, so appends go on above it. It wakes HeadMoved here
// and, through NOTIFY, in every other instance.
//
// If the connection breaks during COMMIT the error says that the outcome
// is unknown; repeating the import is safe either way.
func (s *Store) Import(ctx context.Context, events []eventstore.RecordedEvent) (int, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("import: %w", eventstore.ErrClosed)
	}
	if len(events) == 0 {
		return 0, nil
	}
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("import: begin: %w", translate(s.host, err))
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()

	im := importer{versions: map[string]uint64{}, stored: map[string]eventstore.StoredEvent{}}
	look := &pgx.Batch{}
	if !s.unlocked {
		im.queueLock(look)
	}
	im.queueLook(look, events)
	if err := tx.SendBatch(ctx, look).Close(); err != nil {
		return 0, fmt.Errorf("import: look up: %w", translate(s.host, err))
	}
	w := &writes{}
	for _, e := range events {
		if err := im.add(w, e); err != nil {
			return 0, fmt.Errorf("import event %s (position %d): %w", e.EventID, e.Position, err)
		}
	}
	if len(w.positions) == 0 {
		return 0, nil
	}
	b := &pgx.Batch{}
	queueEvents(b, w)
	if !s.unlocked {
		b.Queue(`UPDATE positions SET last = GREATEST(last, $1)`, im.head)
	}
	b.Queue(notifySQL, s.channel, strconv.FormatInt(im.head, 10))
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return 0, fmt.Errorf("import: write: %w", translate(s.host, err))
	}
	if err := tx.Commit(ctx); err != nil {
		if refused(err) || pgconn.SafeToRetry(err) || errors.Is(err, pgx.ErrTxCommitRollback) {
			return 0, fmt.Errorf("import: commit: %w", translate(s.host, err))
		}
		return 0, fmt.Errorf("import: commit: outcome unknown (repeating the import is safe): %w", translate(s.host, err))
	}
	s.moved.Notify(uint64(im.head))
	return len(w.positions), nil
}

// importer checks the events of one Import transaction.
type importer struct {
	head     int64 // highest position stored so far
	versions map[string]uint64
	stored   map[string]eventstore.StoredEvent
}

// queueLock queues taking the counter lock, reading the last position
// handed out.
func (im *importer) queueLock(b *pgx.Batch) {
	b.Queue(`SELECT last FROM positions FOR UPDATE`).QueryRow(func(row pgx.Row) error { return row.Scan(&im.head) })
}

// queueLook queues reading the head, the versions of the streams of
// events and where their ids are stored.
func (im *importer) queueLook(b *pgx.Batch, events []eventstore.RecordedEvent) {
	var streams, ids []string
	seen := map[string]bool{}
	for _, e := range events {
		ids = append(ids, e.EventID)
		if !seen[e.StreamID] {
			seen[e.StreamID] = true
			streams = append(streams, e.StreamID)
		}
	}
	b.Queue(headSQL).QueryRow(func(row pgx.Row) error {
		var head int64
		err := row.Scan(&head)
		im.head = max(im.head, head)
		return err
	})
	queueVersions(b, streams, im.versions)
	queueStored(b, ids, im.stored)
}

// add queues e into w, or skips it when it is already stored at its
// place (eventstore.CheckImport decides); anything else that does not fit
// is ErrImportConflict.
func (im *importer) add(w *writes, e eventstore.RecordedEvent) error {
	if write, err := eventstore.CheckImport(e, im.stored[e.EventID], uint64(im.head), im.versions[e.StreamID]); !write || err != nil {
		return err
	}
	if e.Position > math.MaxInt64 {
		// position is a BIGINT.
		return fmt.Errorf("%w: position %d is beyond what the store can hold", eventstore.ErrImportConflict, e.Position)
	}
	metadata, err := json.Marshal(e.Metadata)
	if err != nil {
		return err
	}
	w.positions = append(w.positions, int64(e.Position))
	w.ids = append(w.ids, e.EventID)
	w.streams = append(w.streams, e.StreamID)
	w.versions = append(w.versions, int64(e.Version))
	w.types = append(w.types, e.Type)
	w.schemas = append(w.schemas, int64(e.SchemaVersion))
	w.occurred = append(w.occurred, sqlrow.FormatTime(e.OccurredAt))
	w.recorded = append(w.recorded, sqlrow.FormatTime(e.RecordedAt))
	w.metadata = append(w.metadata, string(metadata))
	w.data = append(w.data, string(e.Data))
	im.head = int64(e.Position)
	im.versions[e.StreamID] = e.Version
	im.stored[e.EventID] = eventstore.StoredEvent{StreamID: e.StreamID, Version: e.Version, Position: e.Position}
	return nil
}

// StreamsUpTo lists streams by their first event (eventstore.StreamLister)
// without reading any payload.
func (s *Store) StreamsUpTo(ctx context.Context, prefix string, upTo uint64) ([]string, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("list streams: %w", eventstore.ErrClosed)
	}
	rows, err := s.pool.Query(ctx, `SELECT stream_id FROM events
		WHERE version = 1 AND position <= $1 AND starts_with(stream_id, $2) ORDER BY position`,
		int64(min(upTo, uint64(math.MaxInt64))), prefix)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", translate(s.host, err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", translate(s.host, err))
	}
	return ids, nil
}
