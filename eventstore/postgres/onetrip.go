package postgres

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/samspill/samspill/eventstore"
)

// A batch in one round trip.
//
// The general path (attempt) spends two round trips on a batch, the
// lookups and then the writes, and holds the counter lock across both and
// across the decisions in between. When every request of the batch pins
// its stream's version, carries no idempotency key and appends to a
// stream no other request of the batch appends to, what the lookups would
// tell can be checked where it is used instead: the writer sends the
// whole transaction at once, BEGIN, the counter lock, one INSERT that
// numbers the events from the locked counter in queue order and writes
// them only if every stream is at its expected version and none of the
// event ids is stored, the counter's advance and NOTIFY only if that
// INSERT wrote, and COMMIT. The INSERT starts after the lock is granted,
// so, like the general path's lookups, it sees every commit before the
// lock; positions are handed out under the lock exactly as there, and the
// events get the positions and versions decide would give them. If a
// check fails (a version conflict, a retried or duplicate id) the
// transaction commits having written nothing, and the batch goes the
// general path, which decides each request and says why.

// Statements of the batch in one round trip; they run with generic plans,
// as every statement of the writer does (planLocalSQL). The checks are
// uncorrelated subqueries: the server evaluates them once, so the INSERT
// writes every row or none.
const (
	insertOneTripSQL = `INSERT INTO events (position, event_id, stream_id, version, type, schema_version,
			occurred_at, recorded_at, metadata, data)
		SELECT p.last + i.n, i.id, i.stream, i.version, i.type, i.schema, i.occurred, $1, i.metadata, i.data
		FROM (SELECT last FROM positions) AS p,
			unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[])
				WITH ORDINALITY AS i(id, stream, version, type, schema, occurred, metadata, data, n)
		WHERE NOT EXISTS (SELECT 1 FROM unnest($10::text[], $11::bigint[]) AS s(id, expected)
				WHERE COALESCE((SELECT max(version) FROM events WHERE stream_id = s.id), 0) <> s.expected)
			AND NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS x(id)
				CROSS JOIN LATERAL (SELECT 1 FROM events WHERE event_id = x.id LIMIT 1) AS e)
		RETURNING position`
	advanceOneTripSQL = `WITH moved AS (
			UPDATE positions SET last = last + $1
			WHERE EXISTS (SELECT 1 FROM events WHERE event_id = $2 AND position = positions.last + 1)
			RETURNING last)
		SELECT pg_notify($3, last::text) FROM moved`
)

// oneTrip is what a batch in one round trip sends: its events' columns in
// queue order, and each stream's expected version.
type oneTrip struct {
	ids, streams, types, occurred, metadata, data []string
	versions, schemas                             []int64
	checkStreams                                  []string
	expected                                      []int64
}

// newOneTrip returns what batch sends in one round trip, or false when a
// request of it does not qualify (see above).
func newOneTrip(batch []*request) (*oneTrip, bool) {
	events := 0
	for _, r := range batch {
		events += len(r.req.Events)
	}
	t := &oneTrip{
		ids: make([]string, 0, events), streams: make([]string, 0, events), types: make([]string, 0, events),
		occurred: make([]string, 0, events), metadata: make([]string, 0, events), data: make([]string, 0, events),
		versions: make([]int64, 0, events), schemas: make([]int64, 0, events),
		checkStreams: make([]string, 0, len(batch)), expected: make([]int64, 0, len(batch)),
	}
	seen := make(map[string]bool, len(batch))
	for _, r := range batch {
		req := r.req
		current, pinned := req.Expected.Exact()
		if !pinned || req.Idempotency != nil || seen[req.StreamID] {
			return nil, false
		}
		seen[req.StreamID] = true
		t.checkStreams = append(t.checkStreams, req.StreamID)
		t.expected = append(t.expected, int64(current))
		for i, e := range req.Events {
			t.ids = append(t.ids, e.EventID)
			t.streams = append(t.streams, req.StreamID)
			t.versions = append(t.versions, int64(current)+1+int64(i))
			t.types = append(t.types, e.Type)
			t.schemas = append(t.schemas, int64(e.SchemaVersion))
			t.occurred = append(t.occurred, r.occurredAt[i])
			t.metadata = append(t.metadata, r.metadata[i])
			t.data = append(t.data, string(e.Data))
		}
	}
	return t, true
}

// attemptOneTrip tries batch in one round trip (see above). done reports
// that the batch is decided, and err is then what attempt returns; with
// done false nothing of it was written and the general path must decide
// it.
func (s *Store) attemptOneTrip(batch []*request, recordedAt string) (done bool, err error) {
	if s.unlocked {
		return false, nil
	}
	t, ok := newOneTrip(batch)
	if !ok {
		return false, nil
	}
	n := len(t.ids)
	// The INSERT numbers the events last+1, last+2, ... in queue order:
	// the lowest position it returns is the first event's.
	var written int
	var first int64

	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return true, s.writeError(ctx, "connect", err)
	}
	var tag pgconn.CommandTag
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(planLocalSQL)
	b.Queue(s.lockSQL)
	b.Queue(insertOneTripSQL, recordedAt, t.ids, t.streams, t.versions, t.types, t.schemas, t.occurred, t.metadata, t.data,
		t.checkStreams, t.expected).
		Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var position int64
				if err := rows.Scan(&position); err != nil {
					return err
				}
				if written == 0 || position < first {
					first = position
				}
				written++
			}
			return rows.Err()
		})
	b.Queue(advanceOneTripSQL, n, t.ids[0], s.channel)
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
		s.acceptOneTrip(batch, first)
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
		err := tx.QueryRow(ctx, `SELECT position FROM events WHERE event_id = $1 AND stream_id = $2 AND version = $3 AND recorded_at = $4`,
			t.ids[0], t.streams[0], t.versions[0], recordedAt).Scan(&first)
		if errors.Is(err, pgx.ErrNoRows) {
			return false, nil
		}
		return err == nil, err
	})
	if err == nil {
		s.acceptOneTrip(batch, first)
	}
	return true, err
}

// acceptOneTrip sets the results of batch, written in one round trip
// from position first on.
func (s *Store) acceptOneTrip(batch []*request, first int64) {
	position := uint64(first)
	for _, r := range batch {
		current, _ := r.req.Expected.Exact()
		n := len(r.req.Events)
		res := eventstore.AppendResult{FirstVersion: current + 1, LastVersion: current + uint64(n), Positions: make([]uint64, n)}
		for i := range res.Positions {
			res.Positions[i] = position
			position++
		}
		r.accepted = true
		r.Res, r.Err = res, nil
	}
	s.stats.oneTrip.Add(uint64(len(batch)))
}
