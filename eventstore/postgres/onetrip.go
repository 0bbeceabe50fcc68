package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/eventstore"
)

// A lone append.
//
// A batch of one request is what an uncontended writer commits, one after
// another, and the general path (attempt) spends two round trips on it:
// the lookups, then the writes. When the request pins its stream's version
// and carries no idempotency key, what the lookups would tell can be
// checked where it is used instead: the writer sends the whole transaction
// in one round trip, BEGIN, the counter lock, one INSERT that numbers the
// events from the locked counter and writes only if the stream is at the
// expected version and none of the event ids is stored, the counter's
// advance and NOTIFY only if that INSERT wrote, and COMMIT. The INSERT
// starts after the lock is granted, so, like the general path's lookups,
// it sees every commit before the lock; positions are handed out under
// the lock exactly as there. If a check fails (a version conflict, a
// retried or duplicate id) the transaction commits having written
// nothing, and the request goes the general path, which decides it and
// says why.

// Statements of the lone append; they run with generic plans, as every
// statement of the writer does (planLocalSQL).
const (
	insertAloneSQL = `INSERT INTO events (position, event_id, stream_id, version, type, schema_version,
			occurred_at, recorded_at, metadata, data)
		SELECT p.last + i.n, i.id, $1, $2 + i.n, i.type, i.schema, i.occurred, $3, i.metadata, i.data
		FROM (SELECT last FROM positions) AS p,
			unnest($4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[])
				WITH ORDINALITY AS i(id, type, schema, occurred, metadata, data, n)
		WHERE COALESCE((SELECT max(version) FROM events WHERE stream_id = $1), 0) = $2
			AND NOT EXISTS (SELECT 1 FROM unnest($4::text[]) AS x(id)
				CROSS JOIN LATERAL (SELECT 1 FROM events WHERE event_id = x.id LIMIT 1) AS e)
		RETURNING version, position`
	advanceAloneSQL = `WITH moved AS (
			UPDATE positions SET last = last + $1
			WHERE EXISTS (SELECT 1 FROM events WHERE event_id = $2 AND position = positions.last + 1)
			RETURNING last)
		SELECT pg_notify($3, last::text) FROM moved`
)

// attemptAlone tries batch as a lone append (see above). done reports
// that the batch is decided, and err is then what attempt returns; with
// done false nothing of it was written and the general path must decide
// it.
func (s *Store) attemptAlone(batch []*request, recordedAt string) (done bool, err error) {
	if len(batch) != 1 || s.unlocked {
		return false, nil
	}
	r := batch[0]
	req := r.req
	current, pinned := req.Expected.Exact()
	if !pinned || req.Idempotency != nil {
		return false, nil
	}
	n := len(req.Events)
	ids, types, data := make([]string, n), make([]string, n), make([]string, n)
	schemas := make([]int64, n)
	for i, e := range req.Events {
		ids[i], types[i], schemas[i], data[i] = e.EventID, e.Type, int64(e.SchemaVersion), string(e.Data)
	}
	positions := make([]uint64, n)

	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return true, s.writeError(ctx, "connect", err)
	}
	written := 0
	var tag pgconn.CommandTag
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(planLocalSQL)
	b.Queue(s.lockSQL)
	b.Queue(insertAloneSQL, req.StreamID, int64(current), recordedAt, ids, types, schemas, r.occurredAt, r.metadata, data).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var version, position int64
				if err := rows.Scan(&version, &position); err != nil {
					return err
				}
				i := version - int64(current) - 1
				if i < 0 || i >= int64(n) {
					return fmt.Errorf("lone append: version %d returned, outside the append", version)
				}
				positions[i] = uint64(position)
				written++
			}
			return rows.Err()
		})
	b.Queue(advanceAloneSQL, n, ids[0], s.channel)
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		tag = ct
		return nil
	})
	err = conn.Conn().SendBatch(ctx, b).Close()
	if err == nil && tag.String() != "COMMIT" {
		err = errCommitAnswered(tag)
	}
	switch {
	case err == nil && written == n:
		conn.Release()
		s.stats.lone.Add(1)
		r.accepted = true
		r.Res, r.Err = eventstore.AppendResult{FirstVersion: current + 1, LastVersion: current + uint64(n), Positions: positions}, nil
		return true, nil
	case err == nil:
		// A check failed; the transaction committed nothing.
		conn.Release()
		return false, nil
	case refused(err) || pgconn.SafeToRetry(err):
		// Not committed: the general path decides (and reports a server
		// that has gone away).
		s.release(conn)
		return false, nil
	}
	// The outcome is unknown; see verify. The first event is stored by
	// this transaction if it is at its place with this batch's recorded_at
	// (an earlier append of the same event has another).
	_ = conn.Conn().Close(context.Background())
	conn.Release()
	err = s.verify(s.writeError(ctx, "commit", err), func(ctx context.Context, tx pgx.Tx) (bool, error) {
		var first int64
		err := tx.QueryRow(ctx, `SELECT position FROM events WHERE event_id = $1 AND stream_id = $2 AND version = $3 AND recorded_at = $4`,
			ids[0], req.StreamID, int64(current)+1, recordedAt).Scan(&first)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		for i := range positions {
			positions[i] = uint64(first) + uint64(i)
		}
		return err == nil, err
	})
	if err == nil {
		s.stats.lone.Add(1)
		r.accepted = true
		r.Res, r.Err = eventstore.AppendResult{FirstVersion: current + 1, LastVersion: current + uint64(n), Positions: positions}, nil
	}
	return true, err
}
