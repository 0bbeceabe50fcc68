package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/groupcommit"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

// Group commit.
//
// Append queues a request and waits (groupcommit.Queue). One writer
// goroutine takes everything queued, checks and writes each request inside
// ONE transaction and commits it with one fsync (commit); then every
// caller gets its own result. Each request is
// checked against the database as the transaction sees it, which includes
// what earlier requests of the same batch wrote, so a rejected request (a
// version conflict, a duplicate, a used key) writes nothing and does not
// disturb the others. A database failure rolls the whole batch back and the
// writer retries its requests one transaction each, so one bad request
// cannot fail its neighbours; a lack of space is no request's fault, and
// fails them all with eventstore.ErrStorageFull instead (batchFailed).

// request is one queued append. Everything that needs no database (JSON
// encoding, time formatting, validation) is done on the caller's goroutine.
type request struct {
	// Call holds the caller's context and the outcome, set by the writer.
	groupcommit.Call
	// req is the request as the caller made it, for eventstore.Dedupe;
	// the fields below are what the writer works with.
	req      eventstore.AppendRequest
	streamID string
	expected eventstore.ExpectedVersion
	events   []encodedEvent
	idem     *eventstore.Idempotency
}

// encodedEvent holds a NewEvent's column values.
type encodedEvent struct {
	id            string
	typ           string
	schemaVersion int
	occurredAt    string
	metadata      string
	data          string
}

// newRequest validates req (eventstore.ValidateAppend) and encodes its
// events; errors wrap eventstore.ErrInvalidAppend.
func newRequest(ctx context.Context, req eventstore.AppendRequest) (*request, error) {
	if err := eventstore.ValidateAppend(req); err != nil {
		return nil, err
	}
	r := &request{
		Call:     groupcommit.NewCall(ctx),
		req:      req,
		streamID: req.StreamID,
		expected: req.Expected,
		events:   make([]encodedEvent, len(req.Events)),
	}
	if req.Idempotency != nil {
		idem := *req.Idempotency
		r.idem = &idem
	}
	for i, e := range req.Events {
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return nil, fmt.Errorf("%w: event %s: metadata: %w", eventstore.ErrInvalidAppend, e.EventID, err)
		}
		r.events[i] = encodedEvent{
			id:            e.EventID,
			typ:           e.Type,
			schemaVersion: e.SchemaVersion,
			occurredAt:    sqlrow.FormatTime(e.OccurredAt),
			metadata:      string(meta),
			data:          string(e.Data),
		}
	}
	return r, nil
}

// Append writes the events atomically at the end of the stream; see
// eventstore.Store. It returns once the transaction holding the events has
// committed (acknowledged = durable). A ctx that is done before the
// request's batch starts fails the append with ctx.Err() and writes
// nothing; once the batch has started the append completes regardless.
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
func (s *Store) commit(live []*request) {
	// The batch runs to completion whatever the callers' contexts do: one
	// caller's cancellation must not abort the others' transaction.
	ctx := context.Background()
	w := &s.wr
	recordedAt := sqlrow.FormatTime(s.now())

	if len(live) == 1 && s.commitAlone(ctx, live[0], recordedAt) {
		return
	}
	if err := w.begin(ctx); err != nil {
		err = fmt.Errorf("begin: %w", s.translate(err))
		for _, r := range live {
			r.Finish(err)
		}
		return
	}
	for _, r := range live {
		res, verdict, err := w.apply(ctx, r, recordedAt)
		if err != nil {
			w.rollback(ctx)
			s.batchFailed(live, recordedAt, fmt.Errorf("write: %w", err))
			return
		}
		r.Res, r.Err = res, verdict
	}
	if err := w.commit(ctx); err != nil {
		s.batchFailed(live, recordedAt, fmt.Errorf("commit: %w", err))
		return
	}

	var head uint64
	for _, r := range live {
		if r.Err == nil && !r.Res.Deduplicated {
			head = max(head, r.Res.LastPosition())
		}
	}
	s.moved.Notify(head)
	s.stats.Committed(len(live))
	for _, r := range live {
		r.Finish(r.Err)
	}
}

// commitAlone is the fast path of an uncontended writer: a batch of one
// request of one event, without an idempotency key, to a stream whose
// cached version the expectation allows, is written by one autocommit
// INSERT. The statement is its own transaction, exactly as atomic and
// durable as an explicit one, and saves the round trips of BEGIN and
// COMMIT. It answers the request and returns true, or returns false having
// written nothing, for the general path to decide.
func (s *Store) commitAlone(ctx context.Context, r *request, recordedAt string) bool {
	w := &s.wr
	if len(r.events) != 1 || r.idem != nil {
		return false
	}
	current, ok := w.versions[r.streamID]
	if !ok || !r.expected.Allows(uint64(current)) {
		return false
	}
	res, stale, verdict, err := w.insert(ctx, r, current, recordedAt)
	switch {
	case stale:
		delete(w.versions, r.streamID)
		return false
	case err != nil:
		return false
	case verdict != nil || res.Deduplicated:
		r.Res, r.Err = res, verdict
	default:
		w.versions[r.streamID] = current + 1
		r.Res = res
		s.moved.Notify(res.LastPosition())
	}
	s.stats.Committed(1)
	r.Finish(r.Err)
	return true
}

// batchFailed answers the requests of a batch that was rolled back for
// cause, nothing of it written. Lack of space fails them all with
// eventstore.ErrStorageFull: it is no single request's fault, and each
// alone would fail the same way. Any other failure retries them one
// transaction each (retryOneByOne).
func (s *Store) batchFailed(live []*request, recordedAt string, cause error) {
	err := s.translate(cause)
	if !errors.Is(err, eventstore.ErrStorageFull) {
		s.retryOneByOne(live, recordedAt, cause)
		return
	}
	s.log.Warn("event store has no space left: the batch's appends fail, nothing of them is written",
		"requests", len(live), "err", cause)
	for _, r := range live {
		r.Finish(err)
	}
}

// ProbeStorage implements eventstore.StorageProber: while appends fail
// for lack of space, each call rewrites the one row of storage_probe
// (64 KiB, more than an append of usual size; see its migration) in an
// autocommit statement on the writer's connection, between batches.
func (s *Store) ProbeStorage(ctx context.Context) error {
	if s.closed.Load() {
		return fmt.Errorf("probe storage: %w", eventstore.ErrClosed)
	}
	if err := s.queue.ProbeStorage(ctx, s.probe); err != nil {
		return fmt.Errorf("probe storage: %w", err)
	}
	return nil
}

// probe is the probe write; only the writer goroutine runs it.
func (s *Store) probe(ctx context.Context) error {
	if _, err := s.wr.probe.ExecContext(ctx, sqlrow.FormatTime(s.now())); err != nil {
		return s.translate(err)
	}
	s.log.Info("event store storage probe written: there is space for appends again")
	return nil
}

// retryOneByOne gives every request of a failed batch its own transaction,
// so a request that breaks the database fails alone.
func (s *Store) retryOneByOne(live []*request, recordedAt string, cause error) {
	s.stats.Retries.Add(1)
	s.log.Warn("event store batch failed; retrying its appends one by one",
		"requests", len(live), "err", cause)
	ctx := context.Background()
	for _, r := range live {
		res, err := s.commitOne(ctx, r, recordedAt)
		if err != nil {
			r.Finish(err)
			continue
		}
		if !res.Deduplicated {
			s.moved.Notify(res.LastPosition())
		}
		s.stats.Committed(1)
		r.Res = res
		r.Finish(nil)
	}
}

// commitOne writes a single request in its own transaction.
func (s *Store) commitOne(ctx context.Context, r *request, recordedAt string) (eventstore.AppendResult, error) {
	w := &s.wr
	if err := w.begin(ctx); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("begin: %w", s.translate(err))
	}
	res, verdict, err := w.apply(ctx, r, recordedAt)
	if err == nil {
		err = verdict
	}
	if err != nil {
		w.rollback(ctx)
		return eventstore.AppendResult{}, s.translate(err)
	}
	if err := w.commit(ctx); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("commit: %w", s.translate(err))
	}
	return res, nil
}

// writer is the write side: one connection held for the store's lifetime,
// its prepared statements, and a cache of stream versions. Only the writer
// goroutine uses it. Transactions are driven with prepared BEGIN IMMEDIATE
// and COMMIT statements rather than database/sql's Tx, which would prepare
// BEGIN anew for every batch.
type writer struct {
	conn                                        *sql.Conn
	stmtBegin, stmtCommit, stmtRollback         *sql.Stmt
	version, event, insertEvent, key, insertKey *sql.Stmt
	undo, probe                                 *sql.Stmt
	// versions caches the current version of recently written streams,
	// so that the common append is one INSERT. It is a hint, not the
	// authority: UNIQUE(stream_id, version) refuses an insert made on a
	// stale version (another process wrote the file), and a failed
	// expectation is checked again against the database, so a stale
	// entry costs a second look and never a wrong answer. A rolled-back
	// transaction drops the whole cache.
	versions map[string]int64
}

// maxCachedStreams bounds the version cache; past it the cache starts over.
const maxCachedStreams = 1 << 16

func (w *writer) open(ctx context.Context, db *sql.DB) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	w.conn = conn
	for _, q := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&w.stmtBegin, `BEGIN IMMEDIATE`},
		{&w.stmtCommit, `COMMIT`},
		{&w.stmtRollback, `ROLLBACK`},
		{&w.version, `SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?`},
		{&w.event, `SELECT stream_id, version, position FROM events WHERE event_id = ?`},
		{&w.insertEvent, `INSERT INTO events (event_id, stream_id, version, type, schema_version,
			occurred_at, recorded_at, metadata, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.undo, `DELETE FROM events WHERE position >= ?`},
		{&w.key, `SELECT 1 FROM idempotency_keys WHERE key = ?`},
		{&w.insertKey, `INSERT INTO idempotency_keys (key, request_hash, stream_id, first_version,
			last_version, position, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		{&w.probe, `INSERT INTO storage_probe (id, probed_at, pad) VALUES (1, ?, zeroblob(65536))
			ON CONFLICT (id) DO UPDATE SET probed_at = excluded.probed_at, pad = excluded.pad`},
	} {
		st, err := conn.PrepareContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q.sql, err)
		}
		*q.dst = st
	}
	return nil
}

func (w *writer) close() error {
	for _, st := range []*sql.Stmt{w.stmtBegin, w.stmtCommit, w.stmtRollback, w.version, w.event, w.insertEvent, w.undo, w.key, w.insertKey, w.probe} {
		if st != nil {
			_ = st.Close()
		}
	}
	if w.conn == nil {
		return nil
	}
	return w.conn.Close()
}

func (w *writer) begin(ctx context.Context) error {
	if w.versions == nil || len(w.versions) > maxCachedStreams {
		w.versions = make(map[string]int64)
	}
	_, err := w.stmtBegin.ExecContext(ctx)
	return err
}

// commit commits the transaction; if COMMIT fails, it rolls back (SQLite
// can leave the transaction open after a failed COMMIT).
func (w *writer) commit(ctx context.Context) error {
	if _, err := w.stmtCommit.ExecContext(ctx); err != nil {
		w.rollback(ctx)
		return err
	}
	return nil
}

// rollback abandons the transaction and the versions it cached.
func (w *writer) rollback(ctx context.Context) {
	_, _ = w.stmtRollback.ExecContext(ctx)
	w.versions = nil
}

// streamVersion returns the stream's current version and whether it came
// from the cache.
func (w *writer) streamVersion(ctx context.Context, streamID string) (v int64, cached bool, err error) {
	if v, ok := w.versions[streamID]; ok {
		return v, true, nil
	}
	if err := w.version.QueryRowContext(ctx, streamID).Scan(&v); err != nil {
		return 0, false, err
	}
	w.versions[streamID] = v
	return v, false, nil
}

// apply checks r against the transaction's view of the database and writes
// it. verdict is the request's rejection (nothing of it was written); err is
// a database failure, after which the transaction must be rolled back.
//
// The common case costs one INSERT per event: the stream version comes
// from the cache, and event ids are checked by the UNIQUE constraint. Only
// when the expectation fails or an id is taken does apply look the ids up,
// to tell a retried append (deduplicated) from a duplicate.
func (w *writer) apply(ctx context.Context, r *request, recordedAt string) (res eventstore.AppendResult, verdict, err error) {
	if r.idem != nil {
		used, err := w.keyUsed(ctx, r.idem.Key)
		if err != nil {
			return res, nil, err
		}
		if used {
			return res, fmt.Errorf("%w: key %q", eventstore.ErrIdempotencyKeyUsed, r.idem.Key), nil
		}
	}
	for attempt := 0; ; attempt++ {
		current, cached, err := w.streamVersion(ctx, r.streamID)
		if err != nil {
			return res, nil, err
		}
		if !r.expected.Allows(uint64(current)) {
			if cached {
				delete(w.versions, r.streamID) // ask the database
				continue
			}
			// A retry of an append that went through lands here too.
			found, err := w.lookupStored(ctx, r)
			if err != nil || found != nil {
				res, verdict = eventstore.Dedupe(r.req, found)
				return res, verdict, err
			}
			return res, fmt.Errorf("%w: stream is at version %d, expected %s", eventstore.ErrVersionConflict, current, r.expected), nil
		}

		res, stale, verdict, err := w.insert(ctx, r, current, recordedAt)
		if stale && cached && attempt == 0 {
			delete(w.versions, r.streamID)
			continue
		}
		if err != nil || verdict != nil {
			return res, verdict, err
		}
		if r.idem != nil {
			if err := w.storeKey(ctx, r.idem, r.streamID, res, recordedAt); err != nil {
				return eventstore.AppendResult{}, nil, err
			}
		}
		w.versions[r.streamID] = current + int64(len(r.events))
		return res, nil, nil
	}
}

// insert writes r's events after version current. stale reports that the
// stream already had an event at one of those versions (nothing of r is
// left written then); an event id already stored is decided as a retry or
// a duplicate.
func (w *writer) insert(ctx context.Context, r *request, current int64, recordedAt string) (res eventstore.AppendResult, stale bool, verdict, err error) {
	positions := make([]uint64, len(r.events))
	for i, e := range r.events {
		out, err := w.insertEvent.ExecContext(ctx, e.id, r.streamID, current+1+int64(i), e.typ, e.schemaVersion,
			e.occurredAt, recordedAt, e.metadata, e.data)
		if err == nil {
			var pos int64
			if pos, err = out.LastInsertId(); err == nil {
				positions[i] = uint64(pos)
				continue
			}
		}
		byID := isUniqueViolation(err, "events.event_id")
		stale = isUniqueViolation(err, "events.stream_id, events.version")
		if !byID && !stale {
			return res, false, nil, err
		}
		// Undo this request's rows: the newest of the transaction, seen by
		// no one.
		if i > 0 {
			if _, err := w.undo.ExecContext(ctx, int64(positions[0])); err != nil {
				return res, false, nil, err
			}
		}
		if stale {
			return res, true, nil, fmt.Errorf("%w: %w", eventstore.ErrVersionConflict, err)
		}
		found, lerr := w.lookupStored(ctx, r)
		if lerr != nil {
			return res, false, nil, lerr
		}
		if found == nil {
			return res, false, nil, fmt.Errorf("event id conflict, but no event id of the append is stored: %w", err)
		}
		res, verdict = eventstore.Dedupe(r.req, found)
		return res, false, verdict, nil
	}
	return eventstore.AppendResult{
		FirstVersion: uint64(current) + 1,
		LastVersion:  uint64(current) + uint64(len(r.events)),
		Positions:    positions,
	}, false, nil, nil
}

// lookupStored returns where r's event ids are stored (the zero
// eventstore.StoredEvent for an id that is not), or nil when none is.
func (w *writer) lookupStored(ctx context.Context, r *request) ([]eventstore.StoredEvent, error) {
	var found []eventstore.StoredEvent
	for i, e := range r.events {
		var (
			streamID          string
			version, position int64
		)
		err := w.event.QueryRowContext(ctx, e.id).Scan(&streamID, &version, &position)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return nil, err
		}
		if found == nil {
			found = make([]eventstore.StoredEvent, len(r.events))
		}
		found[i] = eventstore.StoredEvent{StreamID: streamID, Version: uint64(version), Position: uint64(position)}
	}
	return found, nil
}
