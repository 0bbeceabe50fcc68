package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/groupcommit"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

// Group commit.
//
// Append queues a request and waits (groupcommit.Queue). One writer
// goroutine takes everything queued and handles it in ONE transaction
// (attempt): it takes the counter
// lock and looks up what the batch touches, decides every request in
// memory (decide), writes the accepted ones and commits; then every caller
// gets its own result. See the package comment for why the lookups are
// exact and what a failure does.

// request is one queued append. Everything that needs no database
// (validation, JSON encoding, time formatting) is done on the caller's
// goroutine.
type request struct {
	// Call holds the caller's context and the outcome: Res and Err are
	// set by decide, and final once Finish is called.
	groupcommit.Call
	req        eventstore.AppendRequest
	occurredAt []string
	metadata   []string

	// accepted is set by decide: the request's events are in the batch's
	// writes.
	accepted bool
}

// newRequest validates req (eventstore.ValidateAppend, and text PostgreSQL
// can store) and encodes its events; errors wrap eventstore.ErrInvalidAppend.
func newRequest(ctx context.Context, req eventstore.AppendRequest) (*request, error) {
	if err := eventstore.ValidateAppend(req); err != nil {
		return nil, err
	}
	if err := storable(req); err != nil {
		return nil, err
	}
	r := &request{
		Call:       groupcommit.NewCall(ctx),
		req:        req,
		occurredAt: make([]string, len(req.Events)),
		metadata:   make([]string, len(req.Events)),
	}
	for i, e := range req.Events {
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return nil, fmt.Errorf("%w: event %s: metadata: %w", eventstore.ErrInvalidAppend, e.EventID, err)
		}
		r.occurredAt[i] = sqlrow.FormatTime(e.OccurredAt)
		r.metadata[i] = string(meta)
	}
	return r, nil
}

// storable refuses text a PostgreSQL TEXT column cannot hold: NUL bytes,
// and bytes that are not UTF-8 (the server would refuse them in a UTF-8
// database, and a JSON document with them is not portable anyway). The
// metadata needs no check: encoding/json writes valid UTF-8 and escapes
// NUL.
func storable(req eventstore.AppendRequest) error {
	check := func(what, s string) error {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return fmt.Errorf("%w: %s is not UTF-8 text without NUL bytes", eventstore.ErrInvalidAppend, what)
		}
		return nil
	}
	errs := []error{check("stream id", req.StreamID)}
	if req.Idempotency != nil {
		errs = append(errs, check("idempotency key", req.Idempotency.Key), check("request hash", req.Idempotency.RequestHash))
	}
	for i, e := range req.Events {
		errs = append(errs, check(fmt.Sprintf("event %d's id", i), e.EventID), check("event "+e.EventID+"'s type", e.Type))
		if !utf8.Valid(e.Data) {
			errs = append(errs, fmt.Errorf("%w: event %s: data is not UTF-8", eventstore.ErrInvalidAppend, e.EventID))
		}
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// Append writes the events atomically at the end of the stream; see
// eventstore.Store. It returns once the transaction holding the events has
// committed (acknowledged = durable, as the package comment says). A ctx
// that is done before the request reaches the writer makes Append return
// its error without writing; once the writer has begun the batch, Append
// waits for the outcome, so the caller never has to guess.
func (s *Store) Append(ctx context.Context, req eventstore.AppendRequest) (eventstore.AppendResult, error) {
	if s.closed.Load() {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", req.StreamID, eventstore.ErrClosed)
	}
	r, err := newRequest(ctx, req)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", req.StreamID, err)
	}
	res, err := s.queue.Submit(r)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", req.StreamID, err)
	}
	return res, nil
}

// commit writes one batch in one transaction and answers every request in
// it. Only the writer goroutine calls it, through the queue (which has
// dropped the requests whose caller gave up).
//
// When the server or the connection was unavailable, nothing was written
// and the batch is tried once more, on another connection; if that fails
// too, every request fails with the error (wrapping ErrUnavailable). An
// outcome that stays unknown fails every request with an error saying so.
// A lack of space (eventstore.ErrStorageFull) is no request's fault:
// every request fails with it at once, nothing written. Any other failure
// (a statement the server refused) retries the requests one transaction
// each, so that only the request that breaks the database fails.
func (s *Store) commit(live []*request) {
	// The batch runs to completion whatever the callers' contexts do: one
	// caller's cancellation must not abort the others' transaction.
	recordedAt := sqlrow.FormatTime(s.now())
	err := s.attempt(live, recordedAt)
	var unknown *outcomeUnknownError
	if err != nil && errors.Is(err, ErrUnavailable) && !errors.As(err, &unknown) {
		s.stats.Retries.Add(1)
		s.log.Warn("event store batch failed, nothing written; trying it again on another connection",
			"requests", len(live), "err", oneLine(err))
		err = s.attempt(live, recordedAt)
	}
	switch {
	case err == nil:
		s.acknowledge(live)
	case errors.Is(err, eventstore.ErrStorageFull):
		s.log.Warn("event store has no space left: the batch's appends fail, nothing of them is written",
			"requests", len(live), "err", oneLine(err))
		for _, r := range live {
			r.Finish(err)
		}
	case errors.Is(err, ErrUnavailable) || len(live) == 1:
		for _, r := range live {
			r.Finish(err)
		}
	default:
		s.retryOneByOne(live, recordedAt, err)
	}
}

// ProbeStorage implements eventstore.StorageProber: while appends fail
// for lack of space, each call empties storage_probe with TRUNCATE (which
// gives the table a new, empty file) and inserts rows that must extend
// that file by 64 KiB (see its migration), in one transaction. The insert
// fails with disk_full while the tablespace cannot grow, like the appends
// did. Probes run on the writer goroutine, between batches.
func (s *Store) ProbeStorage(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("probe storage: %w", eventstore.ErrClosed)
	}
	if err := s.queue.ProbeStorage(ctx, s.probe); err != nil {
		return fmt.Errorf("probe storage: %w", err)
	}
	return nil
}

// probe is the probe write.
func (s *Store) probe(ctx context.Context) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(`TRUNCATE storage_probe`)
		b.Queue(`INSERT INTO storage_probe (probed_at, pad) SELECT $1, repeat('x', 7000) FROM generate_series(1, 8)`,
			sqlrow.FormatTime(s.now()))
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return translate(s.host, err)
	}
	s.log.Info("event store storage probe written: there is space for appends again")
	return nil
}

// retryOneByOne gives every request of a failed batch its own transaction,
// so a request that breaks the database fails alone.
func (s *Store) retryOneByOne(live []*request, recordedAt string, cause error) {
	s.stats.Retries.Add(1)
	s.log.Warn("event store batch failed, nothing written; retrying its appends one by one",
		"requests", len(live), "err", oneLine(cause))
	for _, r := range live {
		if err := s.attempt([]*request{r}, recordedAt); err != nil {
			r.Finish(err)
			continue
		}
		s.acknowledge([]*request{r})
	}
}

// acknowledge answers the requests of a committed transaction.
func (s *Store) acknowledge(reqs []*request) {
	var head uint64
	for _, r := range reqs {
		if r.accepted {
			head = max(head, r.Res.LastPosition())
		}
	}
	s.moved.Notify(head)
	s.stats.Committed(len(reqs))
	for _, r := range reqs {
		r.Finish(r.Err)
	}
}

// attempt runs batch in one transaction: lock and look up (round trip
// one), decide, write and commit (round trip two). It returns nil when the
// transaction committed or had nothing to write (every request's Res and
// Err are then set), an *outcomeUnknownError when that cannot be known,
// and any other error when nothing of the batch is stored.
func (s *Store) attempt(batch []*request, recordedAt string) error {
	if done, err := s.attemptOneTrip(batch, recordedAt); done {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return s.writeError(ctx, "connect", err)
	}
	v, err := s.lockAndLook(ctx, conn.Conn(), batch)
	if err != nil {
		s.release(conn)
		return s.writeError(ctx, "look up", err)
	}
	w := s.decide(batch, v, recordedAt)
	if len(w.positions) == 0 {
		// Every request was rejected or deduplicated: nothing to commit.
		s.release(conn)
		return nil
	}
	err = s.write(ctx, conn.Conn(), w)
	if err == nil {
		conn.Release()
		return nil
	}
	if refused(err) || pgconn.SafeToRetry(err) {
		// The server refused a statement (so COMMIT was skipped or failed),
		// or nothing was sent: not committed.
		s.release(conn)
		return s.writeError(ctx, "write", err)
	}
	// The connection broke, or the server ended the session, with COMMIT
	// sent or about to be: the outcome is unknown. The connection is of no
	// more use.
	_ = conn.Conn().Close(context.Background())
	conn.Release()
	return s.verify(s.writeError(ctx, "commit", err), func(ctx context.Context, tx pgx.Tx) (bool, error) {
		var found bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events WHERE event_id = $1 AND position = $2)`,
			w.ids[0], w.positions[0]).Scan(&found)
		return found, err
	})
}

// refused reports whether err is the server refusing a statement of the
// transaction (severity ERROR): the transaction is then aborted, and a
// COMMIT after it is skipped or rolls back. A FATAL error ends the session
// instead, possibly after COMMIT took effect.
func refused(err error) bool {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	severity := pgErr.SeverityUnlocalized
	if severity == "" {
		severity = pgErr.Severity
	}
	return severity == "ERROR"
}

// writeError translates err of a write step, counting the writer's own
// timeout as the server being unavailable.
func (s *Store) writeError(ctx context.Context, step string, err error) error {
	if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: no answer within %s: %w", step, ErrUnavailable, writeTimeout, err)
	}
	return fmt.Errorf("%s: %w", step, translate(s.host, err))
}

// release rolls back what the connection's transaction did (if anything)
// and gives it back to the pool; the pool drops a connection that is
// still in a transaction or broken.
func (s *Store) release(conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() != 'I' && !conn.Conn().IsClosed() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, _ = conn.Exec(ctx, "ROLLBACK")
		cancel()
	}
	conn.Release()
}

// view is what the writer transaction found, under the counter lock, of
// the part of the log a batch touches; decide adds the batch's own writes.
type view struct {
	last     int64   // the counter: the last position handed out
	fresh    []int64 // unlockedSequence only: positions to hand out
	versions map[string]uint64
	stored   map[string]eventstore.StoredEvent
	keys     map[string]bool
}

// Statements of the writer. The lookups probe an index once per element
// of the array (a correlated subquery, a LATERAL join with LIMIT 1) rather
// than `WHERE column = ANY($1)`: PostgreSQL caches a generic plan for a
// prepared statement after a few executions, and for `= ANY` on a small,
// young table that plan is a sequential scan, which it keeps while the
// table grows until autovacuum next analyzes it. These forms get index
// plans at any size.
const (
	versionsSQL = `SELECT s.id, COALESCE((SELECT max(e.version) FROM events e WHERE e.stream_id = s.id), 0)
		FROM unnest($1::text[]) AS s(id)`
	storedSQL = `SELECT e.event_id, e.stream_id, e.version, e.position FROM unnest($1::text[]) AS i(id)
		CROSS JOIN LATERAL (SELECT event_id, stream_id, version, position FROM events WHERE event_id = i.id LIMIT 1) AS e`
	keysSQL = `SELECT k.key FROM unnest($1::text[]) AS i(key)
		CROSS JOIN LATERAL (SELECT key FROM idempotency_keys WHERE key = i.key LIMIT 1) AS k`
	insertEventsSQL = `INSERT INTO events (position, event_id, stream_id, version, type, schema_version,
			occurred_at, recorded_at, metadata, data)
		SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::bigint[],
			$7::text[], $8::text[], $9::text[], $10::text[])`
	insertKeysSQL = `INSERT INTO idempotency_keys (key, request_hash, stream_id, first_version, last_version,
			position, recorded_at)
		SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[], $7::text[])`
	advanceSQL = `UPDATE positions SET last = $1`
	// planLocalSQL makes the server plan the writer's statements once per
	// connection (a generic plan) rather than at every execution: under
	// the default plan_cache_mode it kept choosing custom plans for the
	// lookups above, whose parameters are arrays, and planned them afresh
	// every time (EXPLAIN ANALYZE EXECUTE: 0.05-0.3 ms of planning each,
	// 0.004 ms with a generic plan). Their forms make index plans whatever
	// the table's size, so a generic plan is as good as a custom one.
	planLocalSQL = `SET LOCAL plan_cache_mode = force_generic_plan`
	notifySQL    = `SELECT pg_notify($1, $2)`
)

// lockAndLook begins the transaction, takes the counter lock and reads the
// current version of every stream of the batch, where its event ids are
// stored and which of its idempotency keys are used: one pipelined round
// trip. The lookups run after the lock is granted, each with a snapshot
// of its own (READ COMMITTED), so they see every commit before the lock.
func (s *Store) lockAndLook(ctx context.Context, conn *pgx.Conn, batch []*request) (*view, error) {
	var streams, ids, keys []string
	seenStream := map[string]bool{}
	events := 0
	for _, r := range batch {
		if !seenStream[r.req.StreamID] {
			seenStream[r.req.StreamID] = true
			streams = append(streams, r.req.StreamID)
		}
		for _, e := range r.req.Events {
			ids = append(ids, e.EventID)
		}
		events += len(r.req.Events)
		if r.req.Idempotency != nil {
			keys = append(keys, r.req.Idempotency.Key)
		}
	}
	v := &view{
		versions: make(map[string]uint64, len(streams)),
		stored:   make(map[string]eventstore.StoredEvent),
		keys:     make(map[string]bool),
	}
	b := &pgx.Batch{}
	b.Queue("BEGIN")
	b.Queue(planLocalSQL)
	if s.unlocked {
		b.Queue(s.lockSQL, events).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var p int64
				if err := rows.Scan(&p); err != nil {
					return err
				}
				v.fresh = append(v.fresh, p)
			}
			return rows.Err()
		})
	} else {
		b.Queue(s.lockSQL).QueryRow(func(row pgx.Row) error { return row.Scan(&v.last) })
	}
	queueVersions(b, streams, v.versions)
	queueStored(b, ids, v.stored)
	if len(keys) > 0 {
		b.Queue(keysSQL, keys).Query(func(rows pgx.Rows) error {
			for rows.Next() {
				var key string
				if err := rows.Scan(&key); err != nil {
					return err
				}
				v.keys[key] = true
			}
			return rows.Err()
		})
	}
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return v, nil
}

// queueVersions queues the lookup of the current version of each stream
// of streams into versions.
func queueVersions(b *pgx.Batch, streams []string, versions map[string]uint64) {
	b.Queue(versionsSQL, streams).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id string
			var version int64
			if err := rows.Scan(&id, &version); err != nil {
				return err
			}
			versions[id] = uint64(version)
		}
		return rows.Err()
	})
}

// queueStored queues the lookup of where the event ids of ids are stored
// into stored; ids that are not stored are left out.
func queueStored(b *pgx.Batch, ids []string, stored map[string]eventstore.StoredEvent) {
	b.Queue(storedSQL, ids).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id, stream string
			var version, position int64
			if err := rows.Scan(&id, &stream, &version, &position); err != nil {
				return err
			}
			stored[id] = eventstore.StoredEvent{StreamID: stream, Version: uint64(version), Position: uint64(position)}
		}
		return rows.Err()
	})
}

// writes is what a batch inserts: the columns of its accepted events (in
// position order) and of their idempotency keys.
type writes struct {
	positions, versions, schemas []int64
	ids, streams, types          []string
	occurred, recorded           []string
	metadata, data               []string

	keys, hashes, keyStreams    []string
	firsts, lasts, keyPositions []int64
	keyRecorded                 []string

	// last is the counter after the batch: its last position.
	last int64
}

// decide decides every request of batch against v, in queue order, as
// Store.Append promises, and returns what to write. Each request sees what
// earlier requests of the batch wrote: v grows with every accepted one. An
// idempotency key already used refuses the request first; then any event
// id already stored makes it a retry or a duplicate (eventstore.Dedupe);
// then the expected version is checked.
func (s *Store) decide(batch []*request, v *view, recordedAt string) *writes {
	w := &writes{last: v.last}
	fresh := v.fresh
	for _, r := range batch {
		req := r.req
		r.accepted, r.Res, r.Err = false, eventstore.AppendResult{}, nil
		if req.Idempotency != nil && v.keys[req.Idempotency.Key] {
			r.Err = fmt.Errorf("%w: key %q", eventstore.ErrIdempotencyKeyUsed, req.Idempotency.Key)
			continue
		}
		var found []eventstore.StoredEvent
		for i, e := range req.Events {
			if at, ok := v.stored[e.EventID]; ok {
				if found == nil {
					found = make([]eventstore.StoredEvent, len(req.Events))
				}
				found[i] = at
			}
		}
		if found != nil {
			r.Res, r.Err = eventstore.Dedupe(req, found)
			continue
		}
		current := v.versions[req.StreamID]
		if !req.Expected.Allows(current) {
			r.Err = fmt.Errorf("%w: stream is at version %d, expected %s", eventstore.ErrVersionConflict, current, req.Expected)
			continue
		}

		n := uint64(len(req.Events))
		r.accepted = true
		r.Res = eventstore.AppendResult{FirstVersion: current + 1, LastVersion: current + n, Positions: make([]uint64, n)}
		for i, e := range req.Events {
			var pos int64
			if s.unlocked {
				pos, fresh = fresh[0], fresh[1:]
				w.last = max(w.last, pos)
			} else {
				w.last++
				pos = w.last
			}
			version := current + 1 + uint64(i)
			r.Res.Positions[i] = uint64(pos)
			v.stored[e.EventID] = eventstore.StoredEvent{StreamID: req.StreamID, Version: version, Position: uint64(pos)}
			w.positions = append(w.positions, pos)
			w.ids = append(w.ids, e.EventID)
			w.streams = append(w.streams, req.StreamID)
			w.versions = append(w.versions, int64(version))
			w.types = append(w.types, e.Type)
			w.schemas = append(w.schemas, int64(e.SchemaVersion))
			w.occurred = append(w.occurred, r.occurredAt[i])
			w.recorded = append(w.recorded, recordedAt)
			w.metadata = append(w.metadata, r.metadata[i])
			w.data = append(w.data, string(e.Data))
		}
		v.versions[req.StreamID] = current + n
		if idem := req.Idempotency; idem != nil {
			v.keys[idem.Key] = true
			w.keys = append(w.keys, idem.Key)
			w.hashes = append(w.hashes, idem.RequestHash)
			w.keyStreams = append(w.keyStreams, req.StreamID)
			w.firsts = append(w.firsts, int64(r.Res.FirstVersion))
			w.lasts = append(w.lasts, int64(r.Res.LastVersion))
			w.keyPositions = append(w.keyPositions, int64(r.Res.LastPosition()))
			w.keyRecorded = append(w.keyRecorded, recordedAt)
		}
	}
	return w
}

// write inserts w, advances the counter, sends the notification and
// commits: one pipelined round trip. An error that is a *pgconn.PgError
// means the server refused a statement and nothing was committed.
func (s *Store) write(ctx context.Context, conn *pgx.Conn, w *writes) error {
	b := &pgx.Batch{}
	queueEvents(b, w)
	if len(w.keys) > 0 {
		b.Queue(insertKeysSQL, w.keys, w.hashes, w.keyStreams, w.firsts, w.lasts, w.keyPositions, w.keyRecorded)
	}
	if !s.unlocked {
		b.Queue(advanceSQL, w.last)
	}
	b.Queue(notifySQL, s.channel, strconv.FormatInt(w.last, 10))
	var tag pgconn.CommandTag
	b.Queue("COMMIT").Exec(func(ct pgconn.CommandTag) error {
		tag = ct
		return nil
	})
	if err := conn.SendBatch(ctx, b).Close(); err != nil {
		return err
	}
	if tag.String() != "COMMIT" {
		return errCommitAnswered(tag)
	}
	return nil
}

// errCommitAnswered is the error of a COMMIT that the server answered
// with tag instead: PostgreSQL answers ROLLBACK to the COMMIT of a failed
// transaction, and every failure should have surfaced before. It is a
// refusal (nothing was committed).
func errCommitAnswered(tag pgconn.CommandTag) error {
	return &pgconn.PgError{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: "XX000", Message: "COMMIT answered " + tag.String()}
}

// queueEvents queues the insert of w's events.
func queueEvents(b *pgx.Batch, w *writes) {
	b.Queue(insertEventsSQL, w.positions, w.ids, w.streams, w.versions, w.types, w.schemas,
		w.occurred, w.recorded, w.metadata, w.data)
}

// verify decides a batch whose COMMIT's outcome is unknown (cause). It
// takes the counter lock on a new connection: the lost transaction held
// that lock from its first statement on, so the lock is granted only once
// that transaction has ended, committed or rolled back. Then stored tells
// whether the batch's first event is stored at its place (committed: nil)
// or not (cause is returned: nothing was written). If the check itself
// fails the outcome stays unknown: *outcomeUnknownError.
func (s *Store) verify(cause error, stored func(ctx context.Context, tx pgx.Tx) (bool, error)) error {
	s.stats.verified.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), verifyTimeout)
	defer cancel()
	var found bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if !s.unlocked {
			if _, err := tx.Exec(ctx, `SELECT last FROM positions FOR UPDATE`); err != nil {
				return err
			}
		}
		var err error
		found, err = stored(ctx, tx)
		return err
	})
	if err != nil {
		err = &outcomeUnknownError{commit: cause, check: translate(s.host, err)}
		s.log.Warn("event store batch: outcome of COMMIT unknown", "err", oneLine(err))
		return err
	}
	s.log.Warn("event store batch: connection lost during COMMIT; checked under the lock",
		"committed", found, "err", oneLine(cause))
	if found {
		return nil
	}
	return cause
}
