package kurrent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/samspill/samspill/eventstore"
)

// Event types of the bookkeeping streams.
const (
	typeClaimed  = "SamspillEventIDClaimed"
	typeReserved = "SamspillIdempotencyKeyReserved"
	typeReleased = "SamspillLockReleased"
)

// lockAttempts bounds how often a claim or reservation is retried when
// other appends keep changing its stream.
const lockAttempts = 8

// releaseTimeout bounds the release of an append's claims, which runs even
// when the caller's context has ended.
const releaseTimeout = 10 * time.Second

// lockRecord is the data of a bookkeeping record: an event-id claim, an
// idempotency-key reservation, or the release of either.
type lockRecord struct {
	// Stream is the KurrentDB name of the stream the append targets.
	Stream      string    `json:"stream,omitempty"`
	Attempt     string    `json:"attempt"`
	Key         string    `json:"key,omitempty"`
	RequestHash string    `json:"request_hash,omitempty"`
	At          time.Time `json:"at"`
}

// held is a claim or reservation an append made: the record at revision of
// stream name.
type held struct {
	name     string
	revision uint64
}

// Append writes the events atomically at the end of the stream; see
// eventstore.Store.
//
// Before writing, it reserves the idempotency key (if any) and claims every
// event id (see the package comment); an id already stored decides the
// append as a retry (Deduplicated) or a duplicate. Then it appends with
// the expected version mapped to KurrentDB's stream state, and reads the
// events back for their positions. A rejected append releases its claims;
// an append whose outcome is unknown (connection lost) keeps them, so that
// its retry to the same stream goes ahead and is deduplicated by KurrentDB.
func (s *Store) Append(ctx context.Context, req eventstore.AppendRequest) (eventstore.AppendResult, error) {
	op := "append to " + req.StreamID
	c, err := s.current()
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := eventstore.ValidateAppend(req); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w", op, err)
	}
	if !s.covered(req.StreamID) {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w: stream id is outside the store's stream prefixes %q", op, eventstore.ErrInvalidAppend, s.prefixes)
	}
	recordedAt := s.now().UTC()
	data, ids, err := encodeEvents(req, recordedAt)
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("%s: %w", op, err)
	}
	name := s.name(req.StreamID)
	attempt := uuid.NewString()
	var locks []held
	rejected := func(err error) (eventstore.AppendResult, error) {
		s.release(c, locks, attempt)
		s.recover(c, err)
		return eventstore.AppendResult{}, fail(ctx, op, err)
	}

	if req.Idempotency != nil {
		h, err := s.reserveKey(ctx, c, *req.Idempotency, name, attempt, recordedAt)
		if err != nil {
			return rejected(err)
		}
		locks = append(locks, h)
	}
	claims, stored, err := s.claimAll(ctx, c, ids, name, attempt, recordedAt)
	locks = append(locks, claims...)
	if err != nil {
		return rejected(err)
	}
	if len(claims) < len(ids) {
		// Some ids are stored: a retry, or a duplicate. Nothing is
		// written either way.
		res, err := eventstore.Dedupe(req, stored)
		s.release(c, locks, attempt)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("%s: %w", op, err)
		}
		return res, nil
	}
	if err := ctx.Err(); err != nil {
		return rejected(err)
	}

	wr, err := c.AppendToStream(ctx, name, kurrentdb.AppendToStreamOptions{StreamState: streamState(req.Expected)}, data...)
	if err != nil {
		if errors.Is(translate(err), eventstore.ErrVersionConflict) {
			return rejected(err)
		}
		// The append may have been written: keep the claims.
		s.recover(c, err)
		return eventstore.AppendResult{}, fail(ctx, op, err)
	}

	// KurrentDB answers with the last revision only; the positions of the
	// events come from reading them back. The events are written, so the
	// caller's cancellation no longer applies.
	n := uint64(len(ids))
	last := wr.NextExpectedVersion
	if last+1 < n {
		return eventstore.AppendResult{}, fmt.Errorf("%s: server acknowledged revision %d for %d events", op, last, n)
	}
	first := last + 1 - n
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	back, err := readN(rctx, func() (*kurrentdb.ReadStream, error) {
		return c.ReadStream(rctx, name, kurrentdb.ReadStreamOptions{From: kurrentdb.Revision(first)}, n)
	})
	if err != nil {
		s.recover(c, err)
		return eventstore.AppendResult{}, fmt.Errorf("%s: written, but reading the events back failed (a retry is deduplicated): %w", op, translate(err))
	}
	if len(back) != len(ids) {
		return eventstore.AppendResult{}, fmt.Errorf("%s: written, but %d of %d events read back", op, len(back), len(ids))
	}
	res := eventstore.AppendResult{FirstVersion: first + 1, LastVersion: last + 1, Positions: make([]uint64, n)}
	for i, e := range back {
		if e.EventID != ids[i] {
			return eventstore.AppendResult{}, fmt.Errorf("%s: revision %d holds event %s, not the appended %s", op, e.EventNumber, e.EventID, ids[i])
		}
		res.Positions[i] = e.Position.Commit
	}
	s.sawEvent(res.LastPosition())
	s.moved.Notify(res.LastPosition())
	return res, nil
}

// streamState maps the port's expectation to KurrentDB's.
func streamState(e eventstore.ExpectedVersion) kurrentdb.StreamState {
	v, ok := e.Exact()
	switch {
	case !ok:
		return kurrentdb.Any{}
	case v == 0:
		return kurrentdb.NoStream{}
	default:
		return kurrentdb.StreamRevision{Value: v - 1}
	}
}

// claimAll claims every id for an append to stream name, concurrently. It
// returns the claims it holds and, per id, where the id is stored already
// (the zero eventstore.StoredEvent if it is not; the id is then claimed).
func (s *Store) claimAll(ctx context.Context, c *kurrentdb.Client, ids []uuid.UUID, name, attempt string, at time.Time) ([]held, []eventstore.StoredEvent, error) {
	claims := make([]*held, len(ids))
	stored := make([]eventstore.StoredEvent, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, id := range ids {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var where *eventstore.StoredEvent
			claims[i], where, errs[i] = s.claim(ctx, c, id, name, attempt, at)
			if where != nil {
				stored[i] = *where
			}
		})
	}
	wg.Wait()
	var out []held
	for _, h := range claims {
		if h != nil {
			out = append(out, *h)
		}
	}
	return out, stored, errors.Join(errs...)
}

// claim claims event id for an append to stream target. A claim of the id
// by an earlier append is decided by whether that append's event landed:
// then the id is stored there; if not, and that append went to the same
// stream, it was this append's earlier try (or a twin of it), and the claim
// is taken over; another stream's unfinished claim makes the id a
// duplicate.
func (s *Store) claim(ctx context.Context, c *kurrentdb.Client, id uuid.UUID, target, attempt string, at time.Time) (*held, *eventstore.StoredEvent, error) {
	name := s.ns + claimStreamPrefix + id.String()
	rec := lockRecord{Stream: target, Attempt: attempt, At: at}
	var expect kurrentdb.StreamState = kurrentdb.NoStream{}
	for range lockAttempts {
		rev, taken, err := s.writeLock(ctx, c, name, typeClaimed, rec, expect)
		if err != nil || !taken {
			if err != nil {
				return nil, nil, fmt.Errorf("claim event id %s: %w", id, err)
			}
			return &held{name: name, revision: rev}, nil, nil
		}
		last, typ, lrev, err := s.lastLock(ctx, c, name)
		if err != nil {
			return nil, nil, fmt.Errorf("claim event id %s: %w", id, err)
		}
		expect = kurrentdb.StreamRevision{Value: lrev}
		if typ == typeReleased {
			continue
		}
		where, err := s.findEvent(ctx, c, last.Stream, id)
		if err != nil {
			return nil, nil, fmt.Errorf("claim event id %s: %w", id, err)
		}
		if where != nil {
			return nil, where, nil
		}
		if last.Stream != target {
			return nil, nil, fmt.Errorf("%w: event %s is claimed by an unfinished append to stream %s",
				eventstore.ErrDuplicateEventID, id, last.Stream[min(len(s.ns), len(last.Stream)):])
		}
	}
	return nil, nil, fmt.Errorf("claim event id %s: %w: %d attempts lost to concurrent appends", id, ErrUnavailable, lockAttempts)
}

// reserveKey reserves an idempotency key for an append to stream target.
// A key whose append landed is used; a reservation that did not land (its
// append is running, or crashed) lets the same request (same hash) go
// ahead and refuses any other.
func (s *Store) reserveKey(ctx context.Context, c *kurrentdb.Client, idem eventstore.Idempotency, target, attempt string, at time.Time) (held, error) {
	name := s.keyStream(idem.Key)
	rec := lockRecord{Stream: target, Attempt: attempt, Key: idem.Key, RequestHash: idem.RequestHash, At: at}
	var expect kurrentdb.StreamState = kurrentdb.NoStream{}
	for range lockAttempts {
		rev, taken, err := s.writeLock(ctx, c, name, typeReserved, rec, expect)
		if err != nil {
			return held{}, fmt.Errorf("reserve idempotency key: %w", err)
		}
		if !taken {
			return held{name: name, revision: rev}, nil
		}
		last, typ, lrev, err := s.lastLock(ctx, c, name)
		if err != nil {
			return held{}, fmt.Errorf("reserve idempotency key: %w", err)
		}
		expect = kurrentdb.StreamRevision{Value: lrev}
		if typ == typeReleased {
			continue
		}
		_, used, err := s.keyRecord(ctx, c, idem.Key, name)
		if err != nil {
			return held{}, fmt.Errorf("reserve idempotency key: %w", err)
		}
		if used {
			return held{}, fmt.Errorf("%w: key %q", eventstore.ErrIdempotencyKeyUsed, idem.Key)
		}
		if last.RequestHash != idem.RequestHash {
			return held{}, fmt.Errorf("%w: key %q is reserved by an unfinished request with another hash", eventstore.ErrIdempotencyKeyUsed, idem.Key)
		}
	}
	return held{}, fmt.Errorf("reserve idempotency key: %w: %d attempts lost to concurrent appends", ErrUnavailable, lockAttempts)
}

func (s *Store) keyStream(key string) string {
	sum := sha256.Sum256([]byte(key))
	return s.ns + keyStreamPrefix + hex.EncodeToString(sum[:])
}

// writeLock appends a bookkeeping record; taken reports that the stream
// was not in the expected state.
func (s *Store) writeLock(ctx context.Context, c *kurrentdb.Client, name, typ string, rec lockRecord, expect kurrentdb.StreamState) (revision uint64, taken bool, err error) {
	data, err := json.Marshal(rec)
	if err != nil {
		return 0, false, err
	}
	wr, err := c.AppendToStream(ctx, name, kurrentdb.AppendToStreamOptions{StreamState: expect}, kurrentdb.EventData{
		EventID: uuid.New(), EventType: typ, ContentType: kurrentdb.ContentTypeJson, Data: data,
	})
	if err != nil {
		if errors.Is(translate(err), eventstore.ErrVersionConflict) {
			return 0, true, nil
		}
		return 0, false, err
	}
	return wr.NextExpectedVersion, false, nil
}

// lastLock returns the newest record of a bookkeeping stream that exists.
func (s *Store) lastLock(ctx context.Context, c *kurrentdb.Client, name string) (lockRecord, string, uint64, error) {
	page, err := readN(ctx, func() (*kurrentdb.ReadStream, error) {
		return c.ReadStream(ctx, name, kurrentdb.ReadStreamOptions{Direction: kurrentdb.Backwards, From: kurrentdb.End{}}, 1)
	})
	if err != nil {
		return lockRecord{}, "", 0, err
	}
	if len(page) == 0 {
		return lockRecord{}, "", 0, fmt.Errorf("bookkeeping stream %s is empty", name)
	}
	var rec lockRecord
	if err := json.Unmarshal(page[0].Data, &rec); err != nil {
		return lockRecord{}, "", 0, fmt.Errorf("bookkeeping stream %s: %w", name, err)
	}
	return rec, page[0].EventType, page[0].EventNumber, nil
}

// release releases an append's claims and reservation after the append was
// rejected; a record that another append took over meanwhile is left
// alone. Failures are logged: an unreleased claim only makes a later use
// of the id in another stream look like a duplicate.
func (s *Store) release(c *kurrentdb.Client, locks []held, attempt string) {
	if len(locks) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, h := range locks {
		wg.Go(func() {
			_, _, err := s.writeLock(ctx, c, h.name, typeReleased, lockRecord{Attempt: attempt, At: s.now().UTC()},
				kurrentdb.StreamRevision{Value: h.revision})
			if err != nil {
				s.log.Warn("releasing a claim failed", "stream", h.name, "err", oneLine(err))
			}
		})
	}
	wg.Wait()
}

// findEvent looks for event id in KurrentDB stream name, newest first.
func (s *Store) findEvent(ctx context.Context, c *kurrentdb.Client, name string, id uuid.UUID) (*eventstore.StoredEvent, error) {
	var from kurrentdb.StreamPosition = kurrentdb.End{}
	const page = 256
	for {
		events, err := readN(ctx, func() (*kurrentdb.ReadStream, error) {
			return c.ReadStream(ctx, name, kurrentdb.ReadStreamOptions{Direction: kurrentdb.Backwards, From: from}, page)
		})
		if errors.Is(translate(err), eventstore.ErrStreamNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if e.EventID == id {
				return &eventstore.StoredEvent{StreamID: name[min(len(s.ns), len(name)):], Version: e.EventNumber + 1, Position: e.Position.Commit}, nil
			}
		}
		if len(events) < page || events[len(events)-1].EventNumber == 0 {
			return nil, nil
		}
		from = kurrentdb.Revision(events[len(events)-1].EventNumber - 1)
	}
}

// LookupIdempotency returns the record of the append made under key, and
// false when no append under it was written. It reads the key's
// reservations, then the streams they name, for events stamped with key.
func (s *Store) LookupIdempotency(ctx context.Context, key string) (eventstore.IdempotencyRecord, bool, error) {
	op := fmt.Sprintf("look up idempotency key %q", key)
	c, err := s.current()
	if err != nil {
		return eventstore.IdempotencyRecord{}, false, fmt.Errorf("%s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return eventstore.IdempotencyRecord{}, false, fmt.Errorf("%s: %w", op, err)
	}
	rec, ok, err := s.keyRecord(ctx, c, key, s.keyStream(key))
	if err != nil {
		s.recover(c, err)
		return eventstore.IdempotencyRecord{}, false, fail(ctx, op, err)
	}
	return rec, ok, nil
}

// keyRecord finds the append made under key through the reservations in
// stream name.
func (s *Store) keyRecord(ctx context.Context, c *kurrentdb.Client, key, name string) (eventstore.IdempotencyRecord, bool, error) {
	reservations, err := s.readStream(ctx, c, name)
	if errors.Is(translate(err), eventstore.ErrStreamNotFound) {
		return eventstore.IdempotencyRecord{}, false, nil
	}
	if err != nil {
		return eventstore.IdempotencyRecord{}, false, err
	}
	seen := map[string]bool{}
	for i := len(reservations) - 1; i >= 0; i-- {
		var r lockRecord
		if reservations[i].EventType != typeReserved || json.Unmarshal(reservations[i].Data, &r) != nil || r.Key != key || seen[r.Stream] {
			continue
		}
		seen[r.Stream] = true
		events, err := s.readStream(ctx, c, r.Stream)
		if errors.Is(translate(err), eventstore.ErrStreamNotFound) {
			continue
		}
		if err != nil {
			return eventstore.IdempotencyRecord{}, false, err
		}
		if rec, ok := s.keyedAppend(key, events); ok {
			return rec, true, nil
		}
	}
	return eventstore.IdempotencyRecord{}, false, nil
}

// keyedAppend finds the first run of events stamped with key.
func (s *Store) keyedAppend(key string, events []kurrentdb.RecordedEvent) (eventstore.IdempotencyRecord, bool) {
	var rec eventstore.IdempotencyRecord
	found := false
	for i := range events {
		env := decodeEnvelope(&events[i])
		stamped := env.Idempotency != nil && env.Idempotency.Key == key
		switch {
		case stamped && !found:
			found = true
			e := s.toRecorded(&events[i])
			rec = eventstore.IdempotencyRecord{
				Key: key, RequestHash: env.Idempotency.RequestHash, StreamID: e.StreamID,
				FirstVersion: e.Version, LastVersion: e.Version, Position: e.Position, RecordedAt: env.RecordedAt,
			}
		case stamped && env.RecordedAt.Equal(rec.RecordedAt) && events[i].EventNumber+1 == rec.LastVersion+1:
			rec.LastVersion = events[i].EventNumber + 1
			rec.Position = events[i].Position.Commit
		case found:
			return rec, true
		}
	}
	return rec, found
}
