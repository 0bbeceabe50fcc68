package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

// LookupIdempotency returns the record stored under key, and false when
// there is none. The record is written in the same transaction as the
// events of the append that used the key.
func (s *Store) LookupIdempotency(ctx context.Context, key string) (eventstore.IdempotencyRecord, bool, error) {
	if s.closed.Load() {
		return eventstore.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key %q: %w", key, eventstore.ErrClosed)
	}
	rec, err := sqlrow.ScanIdempotency(s.rd.idempotency.QueryRowContext(ctx, key), key)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return eventstore.IdempotencyRecord{}, false, nil
	case err != nil:
		return eventstore.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key %q: %w", key, s.translate(err))
	}
	return rec, true, nil
}

// keyUsed reports whether key is stored, as the writer transaction sees it.
func (w *writer) keyUsed(ctx context.Context, key string) (bool, error) {
	var one int
	err := w.key.QueryRowContext(ctx, key).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// storeKey records the append res made under idem, in the writer
// transaction that wrote its events.
func (w *writer) storeKey(ctx context.Context, idem *eventstore.Idempotency, streamID string, res eventstore.AppendResult, recordedAt string) error {
	_, err := w.insertKey.ExecContext(ctx, idem.Key, idem.RequestHash, streamID,
		int64(res.FirstVersion), int64(res.LastVersion), int64(res.LastPosition()), recordedAt)
	return err
}
