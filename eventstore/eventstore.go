// Package eventstore defines the port through which samspill stores and reads
// events: streams with optimistic concurrency, a global log ordered by
// position, and a way to learn that the log has grown.
//
// The port speaks only in envelopes with opaque JSON payloads; it knows
// nothing about partnerships. Adapters live in sub-packages (sqlite, kurrent,
// postgres); eventstoretest holds the contract suite every adapter must
// pass, and ValidateAppend, Dedupe and CheckImport the decisions every
// adapter makes the same way.
package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Sentinel errors returned by every adapter. Callers test them with errors.Is;
// adapters wrap them with context.
var (
	// ErrVersionConflict means the stream was not at the expected version.
	ErrVersionConflict = errors.New("stream version conflict")
	// ErrStreamNotFound means the stream has no events.
	ErrStreamNotFound = errors.New("stream not found")
	// ErrDuplicateEventID means an event id already stored elsewhere (another
	// stream or another place in the same stream) was appended again.
	ErrDuplicateEventID = errors.New("event id already used elsewhere")
	// ErrIdempotencyKeyUsed means an append carried an idempotency key that a
	// previous append already stored.
	ErrIdempotencyKeyUsed = errors.New("idempotency key already used")
	// ErrInvalidAppend means the append request itself is malformed (no
	// events, empty stream id, missing event id or type, an event id twice
	// in one append, data that is not JSON).
	ErrInvalidAppend = errors.New("invalid append")
	// ErrClosed means the store has been closed.
	ErrClosed = errors.New("event store closed")
	// ErrStorageFull means the store cannot write now for lack of space:
	// the disk (or the database server's disk) is full. Nothing of the
	// failed write was stored, and an append is never acknowledged
	// without being durable; the same write can succeed once space has
	// been freed, so callers answer "try again later". Reads go on
	// working. Stores of an installation that share the event store's
	// storage (the personal-data keys) report the same condition with it
	// too, so that callers meet one error for one cause.
	ErrStorageFull = errors.New("storage full: no space left to write")
)

// ExpectedVersion states where an append must land. The zero value is Any.
type ExpectedVersion struct {
	kind    expectKind
	version uint64
}

type expectKind uint8

const (
	expectAny expectKind = iota
	expectNoStream
	expectExact
)

// Any accepts the append whatever the stream's version.
func Any() ExpectedVersion { return ExpectedVersion{kind: expectAny} }

// NoStream accepts the append only if the stream has no events yet.
func NoStream() ExpectedVersion { return ExpectedVersion{kind: expectNoStream} }

// Exactly accepts the append only if the stream has exactly v events. v = 0 is
// the same as NoStream.
func Exactly(v uint64) ExpectedVersion {
	if v == 0 {
		return NoStream()
	}
	return ExpectedVersion{kind: expectExact, version: v}
}

// Allows reports whether a stream currently at version current accepts an
// append with this expectation (current = 0 means no stream).
func (e ExpectedVersion) Allows(current uint64) bool {
	switch e.kind {
	case expectNoStream:
		return current == 0
	case expectExact:
		return current == e.version
	default:
		return true
	}
}

// Exact returns the version this expectation pins and whether it pins one
// (NoStream pins 0).
func (e ExpectedVersion) Exact() (uint64, bool) {
	switch e.kind {
	case expectNoStream:
		return 0, true
	case expectExact:
		return e.version, true
	default:
		return 0, false
	}
}

func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectNoStream:
		return "no stream"
	case expectExact:
		return fmt.Sprintf("version %d", e.version)
	default:
		return "any"
	}
}

// Metadata is stored with every event.
type Metadata struct {
	Actor          Actor  `json:"actor"`
	CorrelationID  string `json:"correlation_id,omitempty"`
	CausationID    string `json:"causation_id,omitempty"`
	IdempotencyKey string `json:"idempotency_key,omitempty"`
}

// Actor is who wrote an event: the token's subject and role.
type Actor struct {
	Subject string `json:"subject"`
	Role    string `json:"role"`
}

// NewEvent is an event proposed for appending. RecordedAt, StreamID, Version
// and Position are assigned by the store.
type NewEvent struct {
	EventID       string
	Type          string
	SchemaVersion int
	OccurredAt    time.Time
	Metadata      Metadata
	Data          json.RawMessage
}

// RecordedEvent is an event as stored: the envelope of docs/events.md.
type RecordedEvent struct {
	EventID       string          `json:"event_id"`
	Type          string          `json:"type"`
	SchemaVersion int             `json:"schema_version"`
	StreamID      string          `json:"stream_id"`
	Version       uint64          `json:"version"`
	Position      uint64          `json:"position"`
	OccurredAt    time.Time       `json:"occurred_at"`
	RecordedAt    time.Time       `json:"recorded_at"`
	Metadata      Metadata        `json:"metadata"`
	Data          json.RawMessage `json:"data"`
}

// Idempotency ties an append to a client's Idempotency-Key. The store keeps
// the key atomically with the events, so a retried request either finds the
// record or appends; never both, never neither.
type Idempotency struct {
	Key string
	// RequestHash identifies the request that first used the key; a later
	// request with the same key and another hash is a misuse the caller
	// reports.
	RequestHash string
}

// IdempotencyRecord is what the store remembers of an append made under an
// idempotency key.
type IdempotencyRecord struct {
	Key         string
	RequestHash string
	StreamID    string
	// FirstVersion and LastVersion are the stream versions of the first and
	// last event the append wrote; Position is the last event's position.
	FirstVersion uint64
	LastVersion  uint64
	Position     uint64
	RecordedAt   time.Time
}

// AppendRequest appends Events, in order, to the end of StreamID.
type AppendRequest struct {
	StreamID    string
	Expected    ExpectedVersion
	Events      []NewEvent
	Idempotency *Idempotency
}

// AppendResult reports where an append landed.
type AppendResult struct {
	// FirstVersion and LastVersion are the stream versions of the first and
	// last appended event (1-based).
	FirstVersion uint64
	LastVersion  uint64
	// Positions holds each event's global position, in order.
	Positions []uint64
	// Deduplicated is true when every event was already stored at this
	// place (a retried append); nothing new was written.
	Deduplicated bool
}

// LastPosition is the position of the last event of the append.
func (r AppendResult) LastPosition() uint64 {
	if len(r.Positions) == 0 {
		return 0
	}
	return r.Positions[len(r.Positions)-1]
}

// ValidateAppend checks what the port asks of every append request before
// a store looks at its data: a stream id, at least one event, a non-empty
// key when Idempotency is set, and for every event an id that no other
// event of the request has, a type, and data that is valid JSON. It returns
// nil, or an error wrapping ErrInvalidAppend that names the first problem.
// It reads nothing but req, so adapters call it on the caller's goroutine;
// an adapter may refuse more (an id that is not a UUID, text its database
// cannot hold), also with ErrInvalidAppend.
func ValidateAppend(req AppendRequest) error {
	if req.StreamID == "" {
		return fmt.Errorf("%w: empty stream id", ErrInvalidAppend)
	}
	if len(req.Events) == 0 {
		return fmt.Errorf("%w: no events", ErrInvalidAppend)
	}
	if req.Idempotency != nil && req.Idempotency.Key == "" {
		return fmt.Errorf("%w: empty idempotency key", ErrInvalidAppend)
	}
	var seen map[string]bool // for long appends; short ones compare pairwise
	if len(req.Events) > 16 {
		seen = make(map[string]bool, len(req.Events))
	}
	for i, e := range req.Events {
		switch {
		case e.EventID == "":
			return fmt.Errorf("%w: event %d has no event id", ErrInvalidAppend, i)
		case e.Type == "":
			return fmt.Errorf("%w: event %s has no type", ErrInvalidAppend, e.EventID)
		case !json.Valid(e.Data):
			return fmt.Errorf("%w: event %s: data is not valid JSON", ErrInvalidAppend, e.EventID)
		}
		twice := seen[e.EventID]
		if seen != nil {
			seen[e.EventID] = true
		} else {
			for _, prev := range req.Events[:i] {
				twice = twice || prev.EventID == e.EventID
			}
		}
		if twice {
			return fmt.Errorf("%w: event id %s appears twice", ErrInvalidAppend, e.EventID)
		}
	}
	return nil
}

// StoredEvent is where an event id is stored: its stream, its version in
// that stream and its global position. The zero value means "not stored".
type StoredEvent struct {
	StreamID string
	Version  uint64
	Position uint64
}

// Dedupe decides an append some of whose event ids are stored already, as
// Store.Append promises: stored[i] is where req.Events[i] is stored, the
// zero StoredEvent if it is not, and len(stored) == len(req.Events).
//
// The append is a retry of one that went through, and Dedupe returns that
// append's result with Deduplicated set, only if every event of req is
// stored in req's stream, in req's order, at consecutive versions, and at
// the version req.Expected pins (if it pins one). Otherwise it returns an
// error wrapping ErrDuplicateEventID that names the first event out of
// place. Either way the caller writes nothing.
//
// Adapters call it when a lookup of the request's ids finds any of them,
// whatever the stream's version: a retry of an append that went through
// finds the stream past its expected version. An idempotency key already
// stored is decided before (ErrIdempotencyKeyUsed), and a version conflict
// only when no id is stored.
func Dedupe(req AppendRequest, stored []StoredEvent) (AppendResult, error) {
	if len(stored) != len(req.Events) || len(stored) == 0 {
		return AppendResult{}, fmt.Errorf("dedupe: %d stored places for %d events", len(stored), len(req.Events))
	}
	first := stored[0]
	for i, f := range stored {
		id := req.Events[i].EventID
		switch {
		case f.StreamID == "":
			return AppendResult{}, fmt.Errorf("%w: event %s is new but others of the append are stored already",
				ErrDuplicateEventID, id)
		case f.StreamID != req.StreamID:
			return AppendResult{}, fmt.Errorf("%w: event %s is stored in stream %s",
				ErrDuplicateEventID, id, f.StreamID)
		case f.Version != first.Version+uint64(i):
			return AppendResult{}, fmt.Errorf("%w: event %s is stored at version %d, out of the append's order",
				ErrDuplicateEventID, id, f.Version)
		}
	}
	if v, ok := req.Expected.Exact(); ok && first.Version != v+1 {
		return AppendResult{}, fmt.Errorf("%w: event %s is stored at version %d, the append expects version %d",
			ErrDuplicateEventID, req.Events[0].EventID, first.Version, v+1)
	}
	positions := make([]uint64, len(stored))
	for i, f := range stored {
		positions[i] = f.Position
	}
	return AppendResult{
		FirstVersion: first.Version,
		LastVersion:  first.Version + uint64(len(stored)) - 1,
		Positions:    positions,
		Deduplicated: true,
	}, nil
}

// Store is the event store port.
//
// All methods are safe for concurrent use. Positions are strictly increasing
// in commit order: once a reader has seen position p, no event with a
// position ≤ p becomes visible later.
type Store interface {
	// Append writes the events atomically at the end of the stream if the
	// expectation holds, else returns ErrVersionConflict and writes nothing.
	// An acknowledged append is durable. Appending events whose ids are
	// already stored, in the same order at the same place of the same
	// stream, succeeds with Deduplicated set and writes nothing; an id
	// stored anywhere else is ErrDuplicateEventID. A request whose
	// idempotency key is already stored returns ErrIdempotencyKeyUsed and
	// writes nothing.
	Append(ctx context.Context, req AppendRequest) (AppendResult, error)

	// ReadStream returns the stream's events in version order, or
	// ErrStreamNotFound.
	ReadStream(ctx context.Context, streamID string) ([]RecordedEvent, error)

	// ReadAll returns up to limit events with position > after, in position
	// order. An empty result means the reader is at the head; so does a
	// result shorter than limit, as the head was when the call began (a
	// subscriber that took HeadMoved before the call may wait on it then).
	ReadAll(ctx context.Context, after uint64, limit int) ([]RecordedEvent, error)

	// Head returns the position of the newest event, 0 for an empty store.
	Head(ctx context.Context) (uint64, error)

	// HeadMoved returns a channel that is closed as soon as an event with a
	// position above the head at the time of the call is committed (or the
	// store closes). Subscribers call Head or ReadAll after it fires and then
	// ask for a new channel; no polling needed.
	HeadMoved() <-chan struct{}

	// LookupIdempotency returns the record stored under key, and false when
	// there is none.
	LookupIdempotency(ctx context.Context, key string) (IdempotencyRecord, bool, error)

	// Close releases the store. Pending HeadMoved channels are closed.
	Close() error
}

// Importer is an optional capability of a store: taking events exactly as
// another samspill store recorded them (samspill import), keeping their
// event_id, occurred_at, recorded_at, stream version and position.
type Importer interface {
	// Import writes events (in position order) atomically: all of them or,
	// with an error, none. An event already stored with the same id at the
	// same stream, version and position is skipped, so a repeated import
	// changes nothing. Any other event must extend its stream by exactly
	// one version and have a position above every stored one; otherwise
	// Import returns an error wrapping ErrImportConflict. It returns how
	// many events it wrote.
	Import(ctx context.Context, events []RecordedEvent) (int, error)
}

// ErrImportConflict means imported events do not fit the store: it holds
// other events, or the events are out of order.
var ErrImportConflict = errors.New("imported events do not fit the store")

// CheckImport decides one event of an import, as Importer.Import
// promises: stored is where e's id is stored (the zero StoredEvent if it
// is not), head the highest position the store holds and version the
// current version of e's stream, both counting the events the import
// wrote before e.
//
// It returns false and nil for an event stored already at its place,
// which the import skips; true and nil for one that extends its stream by
// exactly one version at a position above head, which the import writes;
// and otherwise an error wrapping ErrImportConflict that says what does
// not fit.
func CheckImport(e RecordedEvent, stored StoredEvent, head, version uint64) (write bool, err error) {
	if stored.StreamID != "" {
		if stored.StreamID != e.StreamID || stored.Version != e.Version || stored.Position != e.Position {
			return false, fmt.Errorf("%w: the id is stored as %s version %d at position %d",
				ErrImportConflict, stored.StreamID, stored.Version, stored.Position)
		}
		return false, nil
	}
	if e.Position <= head {
		return false, fmt.Errorf("%w: position %d is not above the store's head %d (import needs an empty store, or one holding only this file's events)",
			ErrImportConflict, e.Position, head)
	}
	if e.Version != version+1 {
		return false, fmt.Errorf("%w: stream %s is at version %d, the event has version %d",
			ErrImportConflict, e.StreamID, version, e.Version)
	}
	return true, nil
}

// StreamTailReader is an optional capability of a store: reading only the
// end of a stream. Events are immutable and streams only grow, so a reader
// that keeps a stream's first events need only ask for what came after.
type StreamTailReader interface {
	// ReadStreamAfter returns the stream's events with a version above
	// after, in version order: none when there are no more (or no
	// stream), never ErrStreamNotFound.
	ReadStreamAfter(ctx context.Context, streamID string, after uint64) ([]RecordedEvent, error)
}

// StorageProber is an optional capability of a store: learning by itself
// that a lack of space has ended. A readiness check that reports a full
// store as not ready takes the instance out of a load balancer's rotation,
// so no client write would come to show that space is back; the check
// calls ProbeStorage instead.
type StorageProber interface {
	// ProbeStorage returns nil, and writes nothing, while the store's
	// writes succeed. From the moment a write fails with ErrStorageFull
	// until a write succeeds again, each call instead makes a small real
	// write of its own (committed and durable like an append, and needing
	// new space as an append does, but outside the log: no event, no
	// position, nothing a reader sees) and returns nil when it went
	// through, which ends that state, or an error wrapping ErrStorageFull
	// when it did not. Any other error (the store does not answer) is
	// returned as it is and leaves the state as it was.
	ProbeStorage(ctx context.Context) error
}

// StreamLister is an optional capability of a store: listing streams
// without reading their events. Callers fall back to Streams.
type StreamLister interface {
	// StreamsUpTo returns the ids of the streams whose first event has a
	// position ≤ upTo and whose id starts with prefix, in the order of
	// those first events.
	StreamsUpTo(ctx context.Context, prefix string, upTo uint64) ([]string, error)
}

// Streams lists streams as StreamLister does, through the store's own
// StreamLister if it has one, else by reading the log up to upTo.
func Streams(ctx context.Context, s Store, prefix string, upTo uint64) ([]string, error) {
	if l, ok := s.(StreamLister); ok {
		return l.StreamsUpTo(ctx, prefix, upTo)
	}
	var ids []string
	for after := uint64(0); after < upTo; {
		page, err := s.ReadAll(ctx, after, 1000)
		if err != nil {
			return nil, fmt.Errorf("list streams: %w", err)
		}
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			if e.Position > upTo {
				return ids, nil
			}
			if e.Version == 1 && strings.HasPrefix(e.StreamID, prefix) {
				ids = append(ids, e.StreamID)
			}
		}
		after = page[len(page)-1].Position
	}
	return ids, nil
}
