package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

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
	row := s.pool.QueryRow(ctx, `SELECT `+sqlrow.IdempotencyColumns+` FROM idempotency_keys WHERE key = $1`, key)
	rec, err := sqlrow.ScanIdempotency(row, key)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return eventstore.IdempotencyRecord{}, false, nil
	case err != nil:
		return eventstore.IdempotencyRecord{}, false, fmt.Errorf("look up idempotency key %q: %w", key, translate(s.host, err))
	}
	return rec, true, nil
}
