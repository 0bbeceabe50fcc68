package sqlite

import (
	"time"
	"sync/atomic"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/samspill/samspill/eventstore"
)

// Group commit.
//
// Append queues a request and waits. One writer goroutine takes everything
// queued, checks and writes each request inside ONE transaction and commits
// it with one fsync; then every caller gets its own result. Each request is
// checked against the database as the transaction sees it, which includes
// what earlier requests of the same batch wrote, so a rejected request (a
// version conflict, a duplicate, a used key) writes nothing and does not
// disturb the others. A database failure rolls the whole batch back and the
// writer retries its requests one transaction each, so one bad request
// cannot fail its neighbours.

// request is one queued append. Everything that needs no database (JSON
// encoding, time formatting, validation) is done on the caller's goroutine.
type request struct {
	ctx      context.Context
	streamID string
	expected eventstore.ExpectedVersion
	events   []encodedEvent
	idem     *eventstore.Idempotency

	// Set by the writer before done is closed.
	res  eventstore.AppendResult
	err  error
	done chan struct{}
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

func (r *request) finish(err error) {
	r.err = err
	close(r.done)
}

// newRequest validates req and encodes its events; errors wrap
// eventstore.ErrInvalidAppend.
func newRequest(ctx context.Context, req eventstore.AppendRequest) (*request, error) {
	if req.StreamID == "" {
		return nil, fmt.Errorf("%w: empty stream id", eventstore.ErrInvalidAppend)
	}
	if len(req.Events) == 0 {
		return nil, fmt.Errorf("%w: no events", eventstore.ErrInvalidAppend)
	}
	if req.Idempotency != nil && req.Idempotency.Key == "" {
		return nil, fmt.Errorf("%w: empty idempotency key", eventstore.ErrInvalidAppend)
	}
	r := &request{
		ctx:      ctx,
		streamID: req.StreamID,
		expected: req.Expected,
		events:   make([]encodedEvent, len(req.Events)),
		done:     make(chan struct{}),
	}
	if req.Idempotency != nil {
		idem := *req.Idempotency
		r.idem = &idem
	}
	for i, e := range req.Events {
		switch {
		case e.EventID == "":
			return nil, fmt.Errorf("%w: event %d has no event id", eventstore.ErrInvalidAppend, i)
		case e.Type == "":
			return nil, fmt.Errorf("%w: event %s has no type", eventstore.ErrInvalidAppend, e.EventID)
		case !json.Valid(e.Data):
			return nil, fmt.Errorf("%w: event %s: data is not valid JSON", eventstore.ErrInvalidAppend, e.EventID)
		}
		for _, prev := range req.Events[:i] {
			if prev.EventID == e.EventID {
				return nil, fmt.Errorf("%w: event id %s appears twice", eventstore.ErrInvalidAppend, e.EventID)
			}
		}
		meta, err := json.Marshal(e.Metadata)
		if err != nil {
			return nil, fmt.Errorf("%w: event %s: metadata: %w", eventstore.ErrInvalidAppend, e.EventID, err)
		}
		r.events[i] = encodedEvent{
			id:            e.EventID,
			typ:           e.Type,
			schemaVersion: e.SchemaVersion,
			occurredAt:    formatTime(e.OccurredAt),
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
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", req.StreamID, err)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", req.StreamID, eventstore.ErrClosed)
	}
	s.pending = append(s.pending, r)
	s.mu.Unlock()
	s.signal()

	// No select on ctx here: once queued, the writer decides, and the
	// caller must learn whether its events were written.
	<-r.done
	if r.err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("append to %s: %w", req.StreamID, r.err)
	}
	return r.res, nil
}

// signal tells the writer goroutine that the queue may be non-empty.
func (s *Store) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// run is the writer goroutine.
func (s *Store) run() {
	defer close(s.stopped)
	var spare []*request
	for range s.wake {
		s.mu.Lock()
		batch := s.pending
		s.pending = spare
		closing := s.closing
		s.mu.Unlock()

		if closing {
			for _, r := range batch {
				r.finish(eventstore.ErrClosed)
			}
			return
		}
		for rest := batch; len(rest) > 0; {
			n := min(len(rest), s.maxBatch)
			s.commit(rest[:n])
			rest = rest[n:]
		}
		clear(batch)
		spare = batch[:0]
	}
}

// commit writes one batch in one transaction and answers every request in
// it.
func (s *Store) commit(batch []*request) {
	// Requests whose caller gave up before the batch started are dropped.
	live := make([]*request, 0, len(batch))
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.finish(err)
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	// The batch runs to completion whatever the callers' contexts do: one
	// caller's cancellation must not abort the others' transaction.
	ctx := context.Background()
	recordedAt := formatTime(s.now())

	t0 := time.Now()
	st, err := s.begin(ctx)
	if err != nil {
		for _, r := range live {
			r.finish(err)
		}
		return
	}
	for _, r := range live {
		res, verdict, err := st.apply(ctx, r, recordedAt)
		if err != nil {
			st.rollback()
			s.retryOneByOne(live, recordedAt, err)
			return
		}
		r.res, r.err = res, verdict
	}
	t1 := time.Now()
	if err := st.tx.Commit(); err != nil {
		s.abandon()
		s.retryOneByOne(live, recordedAt, err)
		return
	}
	t2 := time.Now()
	DebugApply.Add(int64(t1.Sub(t0)))
	DebugCommit.Add(int64(t2.Sub(t1)))

	wrote := false
	for _, r := range live {
		if r.err == nil && !r.res.Deduplicated {
			wrote = true
		}
	}
	if wrote {
		s.headMoved()
	}
	s.stats.batches.Add(1)
	s.stats.requests.Add(uint64(len(live)))
	for {
		m := s.stats.maxBatch.Load()
		if uint64(len(live)) <= m || s.stats.maxBatch.CompareAndSwap(m, uint64(len(live))) {
			break
		}
	}
	for _, r := range live {
		r.finish(r.err)
	}
}

// retryOneByOne gives every request of a failed batch its own transaction,
// so a request that breaks the database fails alone.
func (s *Store) retryOneByOne(live []*request, recordedAt string, cause error) {
	s.stats.retries.Add(1)
	s.log.Warn("event store batch failed; retrying its appends one by one",
		"requests", len(live), "err", cause)
	ctx := context.Background()
	for _, r := range live {
		res, err := s.commitOne(ctx, r, recordedAt)
		if err != nil {
			r.finish(err)
			continue
		}
		if !res.Deduplicated {
			s.headMoved()
		}
		s.stats.batches.Add(1)
		s.stats.requests.Add(1)
		r.res = res
		r.finish(nil)
	}
}

// commitOne writes a single request in its own transaction.
func (s *Store) commitOne(ctx context.Context, r *request, recordedAt string) (eventstore.AppendResult, error) {
	st, err := s.begin(ctx)
	if err != nil {
		return eventstore.AppendResult{}, err
	}
	res, verdict, err := st.apply(ctx, r, recordedAt)
	if err == nil {
		err = verdict
	}
	if err != nil {
		st.rollback()
		return eventstore.AppendResult{}, s.translate(err)
	}
	if err := st.tx.Commit(); err != nil {
		s.abandon()
		return eventstore.AppendResult{}, fmt.Errorf("commit: %w", s.translate(err))
	}
	return res, nil
}

// abandon rolls back a transaction whose COMMIT failed: SQLite can keep it
// open (SQLITE_BUSY), while database/sql has already released it.
func (s *Store) abandon() {
	_, _ = s.w.ExecContext(context.Background(), `ROLLBACK`)
	s.cache.reset()
}

// writeStmts are prepared once on the write connection.
type writeStmts struct {
	dataVersion, version, event, insertEvent, key, insertKey *sql.Stmt
}

func (p *writeStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, q := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&p.dataVersion, `PRAGMA data_version`},
		{&p.version, `SELECT COALESCE(MAX(version), 0) FROM events WHERE stream_id = ?`},
		{&p.event, `SELECT stream_id, version, position FROM events WHERE event_id = ?`},
		{&p.insertEvent, `INSERT INTO events (event_id, stream_id, version, type, schema_version,
			occurred_at, recorded_at, metadata, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&p.key, `SELECT 1 FROM idempotency_keys WHERE key = ?`},
		{&p.insertKey, `INSERT INTO idempotency_keys (key, request_hash, stream_id, first_version,
			last_version, position, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)`},
	} {
		st, err := db.PrepareContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q.sql, err)
		}
		*q.dst = st
	}
	return nil
}

func (p *writeStmts) close() {
	for _, st := range []*sql.Stmt{p.dataVersion, p.version, p.event, p.insertEvent, p.key, p.insertKey} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// versionCache remembers the current version of recently written streams,
// so the hot path of an append is one INSERT. Only the writer goroutine
// touches it. It is valid only while this connection is the database's
// only writer: every write transaction first reads PRAGMA data_version,
// which changes when another connection has committed, and then drops the
// cache; a rolled-back transaction drops it too.
type versionCache struct {
	versions    map[string]int64
	dataVersion int64
}

// maxCachedStreams bounds the cache; past it the cache starts over.
const maxCachedStreams = 1 << 16

func (c *versionCache) reset() { c.versions = nil }

// txStmts are the write statements bound to one transaction.
type txStmts struct {
	p     *writeStmts
	tx    *sql.Tx
	cache *versionCache
	// bound on first use: most appends need only insertEvent.
	version, event, insertEvent, key, insertKey *sql.Stmt
}

// begin starts a write transaction and validates the version cache.
func (s *Store) begin(ctx context.Context) (*txStmts, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", s.translate(err))
	}
	var dv int64
	if err := tx.StmtContext(ctx, s.wr.dataVersion).QueryRowContext(ctx).Scan(&dv); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("read data_version: %w", s.translate(err))
	}
	if dv != s.cache.dataVersion || len(s.cache.versions) > maxCachedStreams {
		s.cache.reset()
		s.cache.dataVersion = dv
	}
	if s.cache.versions == nil {
		s.cache.versions = make(map[string]int64)
	}
	return &txStmts{p: &s.wr, tx: tx, cache: &s.cache, insertEvent: tx.StmtContext(ctx, s.wr.insertEvent)}, nil
}

// rollback abandons the transaction and the versions it cached.
func (t *txStmts) rollback() {
	_ = t.tx.Rollback()
	t.cache.reset()
}

func (t *txStmts) stmt(ctx context.Context, dst **sql.Stmt, src *sql.Stmt) *sql.Stmt {
	if *dst == nil {
		*dst = t.tx.StmtContext(ctx, src)
	}
	return *dst
}

// streamVersion returns the stream's current version as the transaction
// sees it.
func (t *txStmts) streamVersion(ctx context.Context, streamID string) (int64, error) {
	if v, ok := t.cache.versions[streamID]; ok {
		return v, nil
	}
	var v int64
	if err := t.stmt(ctx, &t.version, t.p.version).QueryRowContext(ctx, streamID).Scan(&v); err != nil {
		return 0, err
	}
	t.cache.versions[streamID] = v
	return v, nil
}

// storedEvent is where an event id already lives.
type storedEvent struct {
	streamID string
	version  int64
	position int64
}

// apply checks r against the transaction's view of the database and writes
// it. verdict is the request's rejection (nothing of it was written); err is
// a database failure, after which the transaction must be rolled back.
//
// The common case costs one INSERT per event: the stream version comes
// from the cache, and event ids are checked by the UNIQUE constraint. Only
// when the expectation fails or an id is taken does apply look the ids up,
// to tell a retried append (deduplicated) from a duplicate.
func (t *txStmts) apply(ctx context.Context, r *request, recordedAt string) (res eventstore.AppendResult, verdict, err error) {
	if r.idem != nil {
		used, err := t.keyUsed(ctx, r.idem.Key)
		if err != nil {
			return res, nil, err
		}
		if used {
			return res, fmt.Errorf("%w: key %q", eventstore.ErrIdempotencyKeyUsed, r.idem.Key), nil
		}
	}

	current, err := t.streamVersion(ctx, r.streamID)
	if err != nil {
		return res, nil, err
	}
	if !r.expected.Allows(uint64(current)) {
		// A retry of an append that went through lands here too.
		found, err := t.lookupStored(ctx, r)
		if err != nil || found != nil {
			res, verdict = dedupe(r, found)
			return res, verdict, err
		}
		return res, fmt.Errorf("%w: stream is at version %d, expected %s", eventstore.ErrVersionConflict, current, r.expected), nil
	}

	positions := make([]uint64, len(r.events))
	for i, e := range r.events {
		out, err := t.insertEvent.ExecContext(ctx, e.id, r.streamID, current+1+int64(i), e.typ, e.schemaVersion,
			e.occurredAt, recordedAt, e.metadata, e.data)
		if err != nil {
			if !isUniqueViolation(err, "events.event_id") {
				return res, nil, err
			}
			return t.undoAndDedupe(ctx, r, positions[:i], err)
		}
		pos, err := out.LastInsertId()
		if err != nil {
			return res, nil, err
		}
		positions[i] = uint64(pos)
	}
	res = eventstore.AppendResult{
		FirstVersion: uint64(current) + 1,
		LastVersion:  uint64(current) + uint64(len(r.events)),
		Positions:    positions,
	}
	if r.idem != nil {
		if err := t.storeKey(ctx, r.idem, r.streamID, res, recordedAt); err != nil {
			return eventstore.AppendResult{}, nil, err
		}
	}
	t.cache.versions[r.streamID] = current + int64(len(r.events))
	return res, nil, nil
}

// undoAndDedupe handles an insert that hit a stored event id: it deletes
// the events of r inserted so far (the newest rows of the transaction, never
// seen by anyone) and decides r as a retry or a duplicate.
func (t *txStmts) undoAndDedupe(ctx context.Context, r *request, inserted []uint64, cause error) (eventstore.AppendResult, error, error) {
	if len(inserted) > 0 {
		if _, err := t.tx.ExecContext(ctx, `DELETE FROM events WHERE position >= ?`, int64(inserted[0])); err != nil {
			return eventstore.AppendResult{}, nil, err
		}
	}
	found, err := t.lookupStored(ctx, r)
	if err != nil {
		return eventstore.AppendResult{}, nil, err
	}
	if found == nil {
		return eventstore.AppendResult{}, nil, fmt.Errorf("event id conflict, but no event id of the append is stored: %w", cause)
	}
	res, verdict := dedupe(r, found)
	return res, verdict, nil
}

// lookupStored returns where r's event ids are stored (found[i].streamID is
// empty for an id that is not), or nil when none is.
func (t *txStmts) lookupStored(ctx context.Context, r *request) ([]storedEvent, error) {
	var found []storedEvent
	for i, e := range r.events {
		var se storedEvent
		err := t.stmt(ctx, &t.event, t.p.event).QueryRowContext(ctx, e.id).Scan(&se.streamID, &se.version, &se.position)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			continue
		case err != nil:
			return nil, err
		}
		if found == nil {
			found = make([]storedEvent, len(r.events))
		}
		found[i] = se
	}
	return found, nil
}

// dedupe decides an append some of whose event ids are already stored
// (found[i].streamID is empty for those that are not). It is a retry, and
// succeeds with Deduplicated, only if every event is stored in this
// stream, in this order, at consecutive versions, and where the
// expectation would have put them.
func dedupe(r *request, found []storedEvent) (eventstore.AppendResult, error) {
	first := found[0]
	for i, f := range found {
		e := r.events[i]
		switch {
		case f.streamID == "":
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %s is new but others of the append are stored already",
				eventstore.ErrDuplicateEventID, e.id)
		case f.streamID != r.streamID:
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %s is stored in stream %s",
				eventstore.ErrDuplicateEventID, e.id, f.streamID)
		case f.version != first.version+int64(i):
			return eventstore.AppendResult{}, fmt.Errorf("%w: event %s is stored at version %d, out of the append's order",
				eventstore.ErrDuplicateEventID, e.id, f.version)
		}
	}
	if v, ok := r.expected.Exact(); ok && uint64(first.version) != v+1 {
		return eventstore.AppendResult{}, fmt.Errorf("%w: event %s is stored at version %d, the append expects version %d",
			eventstore.ErrDuplicateEventID, r.events[0].id, first.version, v+1)
	}
	positions := make([]uint64, len(found))
	for i, f := range found {
		positions[i] = uint64(f.position)
	}
	return eventstore.AppendResult{
		FirstVersion: uint64(first.version),
		LastVersion:  uint64(first.version) + uint64(len(found)) - 1,
		Positions:    positions,
		Deduplicated: true,
	}, nil
}

var DebugApply, DebugCommit, DebugIdle atomic.Int64
