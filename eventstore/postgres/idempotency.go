package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/samspill/samspill/eventstore"
)

// LookupIdempotency returns the record stored under key, and false when
// there is none. The record is written in the same transaction as the
// events of the append that used the key.
func (s *Store) LookupIdempotency(ctx context.Context, key string) (eventstore.IdempotencyRecord, bool, error) {
	if s.closed.Load() {
		return eventstore.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key %q: %w", key, eventstore.ErrClosed)
	}
	var (
		rec                   = eventstore.IdempotencyRecord{Key: key}
		first, last, position int64
		recordedAt            string
	)
	err := s.pool.QueryRow(ctx, `SELECT request_hash, stream_id, first_version, last_version, position, recorded_at
		FROM idempotency_keys WHERE key = $1`, key).Scan(&rec.RequestHash, &rec.StreamID, &first, &last, &position, &recordedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return eventstore.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return eventstore.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key %q: %w", key, translate(s.host, err))
	}
	rec.FirstVersion, rec.LastVersion, rec.Position = uint64(first), uint64(last), uint64(position)
	if rec.RecordedAt, err = parseTime(recordedAt); err != nil {
		return eventstore.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key %q: recorded_at: %w", key, err)
	}
	return rec, true, nil
}
