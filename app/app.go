// Package app is samspill's application service: it loads a partnership's
// stream from the event store, lets the domain decide, and appends the
// result with optimistic concurrency and idempotency. The HTTP API, the
// pages and the demo loader all write through it; there is no second path
// to the domain.
package app

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
)

// Errors of the service beyond the domain's and the store's.
var (
	// ErrPreconditionFailed means If-Match named another version than the
	// stream's current one. Nothing was written.
	ErrPreconditionFailed = errors.New("version precondition failed")
	// ErrIdempotencyKeyReused means an idempotency key was reused with a
	// different request. Nothing was written.
	ErrIdempotencyKeyReused = errors.New("idempotency key reused with a different request")
	// ErrConflictRetriesExhausted means concurrent writers kept moving the
	// stream while a command without If-Match was being decided.
	ErrConflictRetriesExhausted = errors.New("too many concurrent changes, try again")
)

// streamPrefix names partnership streams: partnership-<uuid>.
const streamPrefix = "partnership-"

// conflictRetries bounds re-decisions when a concurrent append wins the race
// on a command that did not pin a version.
const conflictRetries = 32

// StreamID returns the stream of a partnership id.
func StreamID(partnershipID string) string { return streamPrefix + partnershipID }

// PartnershipID returns the partnership id of a stream, and false for other
// streams.
func PartnershipID(streamID string) (string, bool) {
	return strings.CutPrefix(streamID, streamPrefix)
}

// ValidID reports whether s is a partnership id (a UUID in canonical form).
// Anything else cannot name a partnership, so callers answer not found.
func ValidID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// Service runs commands and live reads of single partnerships.
type Service struct {
	store eventstore.Store
	now   func() time.Time
	newID func() string
	log   *slog.Logger
	keys  personal.KeyStore
	// pseudonyms name the recorders of events to readers who may not see
	// personal data.
	pseudonyms personal.Pseudonyms
	// states keeps current states (nil when the store cannot read a
	// stream's end).
	states *states
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIDs sets the maker of new ids (tests, demo data).
func WithIDs(newID func() string) Option { return func(s *Service) { s.newID = newID } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithPersonalData seals the personal data of contact persons with keys
// from the key store before anything is appended (personal.Seal). Without
// it contacts are stored as given: only tests do that.
func WithPersonalData(keys personal.KeyStore) Option { return func(s *Service) { s.keys = keys } }

// WithPseudonyms sets the pseudonyms of event recorders shown to readers
// who may not see personal data: those of the installation's secret, so
// that they equal the research exports'. Without it a Service makes
// pseudonyms under a random key of its own (never names, but other ones
// after a restart).
func WithPseudonyms(p personal.Pseudonyms) Option { return func(s *Service) { s.pseudonyms = p } }

// Keys returns the key store of WithPersonalData, or nil.
func (s *Service) Keys() personal.KeyStore { return s.keys }

// New returns a service over the store.
func New(store eventstore.Store, opts ...Option) *Service {
	random := make([]byte, 32)
	_, _ = rand.Read(random) // crypto/rand.Read never fails (Go 1.24+)
	s := &Service{store: store, now: time.Now, newID: newUUIDv7, log: slog.Default(), states: newStates(store), pseudonyms: personal.NewPseudonyms(random)}
	for _, o := range opts {
		o(s)
	}
	return s
}

func newUUIDv7() string { return uuid.Must(uuid.NewV7()).String() }

// Meta is the request context of a command.
type Meta struct {
	Actor         eventstore.Actor
	CorrelationID string
	CausationID   string
	// IfMatch, when set, pins the stream version the command was made
	// against.
	IfMatch *uint64
	// IdempotencyKey and RequestHash make a retried request return the first
	// response and write nothing.
	IdempotencyKey string
	RequestHash    string
	// MayWrite, when set, is asked whether the command may touch a
	// partnership of the municipality (today's code); its error refuses
	// the command before anything is decided or written.
	MayWrite func(municipality string) error
}

// Result is the outcome of a command.
type Result struct {
	// State is the partnership right after the command's event.
	State partnership.State
	// Position is the global position of the event.
	Position uint64
	// Created is true when the command initiated the partnership.
	Created bool
	// Replayed is true when the answer was that of an earlier request with the
	// same idempotency key.
	Replayed bool
}

// Initiate starts a new partnership with a server-made id (UUID v7); the
// command's event must be a PartnershipInitiated. A retried request with the
// same idempotency key gets the first answer (Execute looks the key up
// before deciding), not a second partnership.
func (s *Service) Initiate(ctx context.Context, cmd partnership.Command, meta Meta) (Result, error) {
	ev, ok := cmd.Event.(partnership.PartnershipInitiated)
	if !ok {
		return Result{}, fmt.Errorf("initiate with a %s event", cmd.Event.EventType())
	}
	ev.PartnershipID = s.newID()
	cmd.Event = ev
	return s.Execute(ctx, ev.PartnershipID, cmd, meta)
}

// Execute decides a command on the partnership and appends its event.
// Errors: partnership.ErrNotFound, *partnership.ValidationError,
// *partnership.RuleError, ErrPreconditionFailed, ErrIdempotencyKeyReused,
// or a wrapped store error.
func (s *Service) Execute(ctx context.Context, id string, cmd partnership.Command, meta Meta) (Result, error) {
	if !ValidID(id) {
		return Result{}, partnership.ErrNotFound
	}
	stream := StreamID(id)
	for attempt := 0; ; attempt++ {
		_, history, err := s.load(ctx, stream)
		if err != nil {
			return Result{}, err
		}
		before, err := current(history)
		if err != nil {
			return Result{}, err
		}
		if err := mayWrite(meta, before, cmd); err != nil {
			return Result{}, err
		}
		// Look the key up after loading, not before: a twin request that
		// commits between the two is then either found here or makes our
		// append fail (version or key taken) and the retry find it. Checked
		// the other way round, the twin's event could be in the history we
		// decide on while its key was not yet found, and the retry would be
		// refused (say, pausing a paused partnership) instead of replayed.
		if meta.IdempotencyKey != "" {
			if res, ok, err := s.replay(ctx, meta); ok || err != nil {
				return res, err
			}
		}
		version := uint64(len(history))
		if meta.IfMatch != nil && *meta.IfMatch != version {
			return Result{}, fmt.Errorf("%w: partnership is at version %d, not %d", ErrPreconditionFailed, version, *meta.IfMatch)
		}
		now := s.now().UTC()
		decision, err := partnership.Decide(history, cmd, partnership.Env{Now: now, NewID: s.newID})
		if err != nil {
			return Result{}, err
		}
		// Scope is judged on the effect too: a command may not move a
		// partnership out of the principal's municipalities (a corrected
		// initiation naming another municipality), so the state the event
		// leads to must be in scope as well as the one it starts from.
		entry := partnership.Entry{EventID: "proposed", Version: version + 1, OccurredAt: decision.OccurredAt, RecordedAt: now, Event: decision.Event}
		after, err := partnership.Replay(append(history[:len(history):len(history)], entry), partnership.View{})
		if err != nil {
			return Result{}, err
		}
		if meta.MayWrite != nil && after.CurrentMunicipality != before.CurrentMunicipality {
			if err := meta.MayWrite(after.CurrentMunicipality); err != nil {
				return Result{}, err
			}
		}
		res, err := s.append(ctx, stream, version, history, decision, after, meta)
		switch {
		case errors.Is(err, eventstore.ErrIdempotencyKeyUsed) && attempt < conflictRetries:
			continue // a concurrent twin stored the key first; answer as it did
		case errors.Is(err, eventstore.ErrVersionConflict) && meta.IfMatch != nil:
			return Result{}, fmt.Errorf("%w: the partnership changed concurrently", ErrPreconditionFailed)
		case errors.Is(err, eventstore.ErrVersionConflict) && attempt < conflictRetries:
			continue
		case errors.Is(err, eventstore.ErrVersionConflict):
			return Result{}, ErrConflictRetriesExhausted
		}
		return res, err
	}
}

// current replays the history into the partnership's current state; a
// partnership that does not exist yet is the zero State.
func current(history []partnership.Entry) (partnership.State, error) {
	if len(history) == 0 {
		return partnership.State{}, nil
	}
	return partnership.Replay(history, partnership.View{})
}

// mayWrite asks meta.MayWrite about the partnership's municipality before
// the command: that of its current state, or of the initiation a new one
// would get.
func mayWrite(meta Meta, before partnership.State, cmd partnership.Command) error {
	if meta.MayWrite == nil {
		return nil
	}
	if before.ID == "" {
		ev, ok := cmd.Event.(partnership.PartnershipInitiated)
		if !ok {
			return nil // no partnership: the domain answers not found
		}
		// An invalid code is the domain's 400 to give; scope is checked on
		// codes that exist.
		if _, err := kommune.Parse(ev.Municipality); err != nil {
			return nil
		}
		return meta.MayWrite(string(kommune.Code(ev.Municipality).Current()))
	}
	return meta.MayWrite(before.CurrentMunicipality)
}

// append stores the decided event at the version the history was read
// at; after is the state it leads to (its version is the new one).
func (s *Service) append(ctx context.Context, stream string, version uint64, history []partnership.Entry, d partnership.Decision, after partnership.State, meta Meta) (Result, error) {
	ev, err := s.newEvent(ctx, history, d, meta)
	if err != nil {
		return Result{}, err
	}
	req := eventstore.AppendRequest{StreamID: stream, Expected: eventstore.Exactly(version), Events: []eventstore.NewEvent{ev}}
	if meta.IdempotencyKey != "" {
		req.Idempotency = &eventstore.Idempotency{Key: meta.IdempotencyKey, RequestHash: meta.RequestHash}
	}
	res, err := s.store.Append(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("append to %s: %w", stream, err)
	}
	_, created := d.Event.(partnership.PartnershipInitiated)
	return Result{State: after, Position: res.LastPosition(), Created: created}, nil
}

// newEvent turns a decision into the envelope to append, with a new event
// id, personal data sealed.
func (s *Service) newEvent(ctx context.Context, history []partnership.Entry, d partnership.Decision, meta Meta) (eventstore.NewEvent, error) {
	data, err := s.encode(ctx, history, d.Event)
	if err != nil {
		return eventstore.NewEvent{}, err
	}
	return eventstore.NewEvent{
		EventID:       s.newID(),
		Type:          d.Event.EventType(),
		SchemaVersion: partnership.SchemaVersion,
		OccurredAt:    d.OccurredAt,
		Metadata: eventstore.Metadata{
			Actor:          meta.Actor,
			CorrelationID:  meta.CorrelationID,
			CausationID:    meta.CausationID,
			IdempotencyKey: meta.IdempotencyKey,
		},
		Data: data,
	}, nil
}

// encode returns the stored form of an event: a new contact's fields sealed
// under a new key, a corrected contact's under its existing one.
func (s *Service) encode(ctx context.Context, history []partnership.Entry, e partnership.Event) (json.RawMessage, error) {
	data, err := partnership.Encode(e)
	if err != nil || s.keys == nil {
		return data, err
	}
	switch ev := e.(type) {
	case partnership.ContactPersonAssigned:
		return personal.Seal(ctx, s.keys, data, true)
	case partnership.EntryCorrected:
		if len(ev.Replacement) == 0 || !correctsContact(history, ev.CorrectedEventID) {
			return data, nil
		}
		sealed, err := personal.Seal(ctx, s.keys, ev.Replacement, false)
		if err != nil {
			return nil, err
		}
		ev.Replacement = sealed
		return partnership.Encode(ev)
	}
	return data, nil
}

// correctsContact reports whether the event id names a
// ContactPersonAssigned of the history.
func correctsContact(history []partnership.Entry, eventID string) bool {
	for _, e := range history {
		if e.EventID == eventID {
			_, ok := e.Event.(partnership.ContactPersonAssigned)
			return ok
		}
	}
	return false
}

// replay answers a request whose idempotency key is already stored: the same
// status and the state right after the first request's event.
func (s *Service) replay(ctx context.Context, meta Meta) (Result, bool, error) {
	rec, ok, err := s.store.LookupIdempotency(ctx, meta.IdempotencyKey)
	if err != nil || !ok {
		return Result{}, false, err
	}
	if rec.RequestHash != meta.RequestHash {
		return Result{}, true, ErrIdempotencyKeyReused
	}
	_, history, err := s.load(ctx, rec.StreamID)
	if err != nil {
		return Result{}, true, err
	}
	upTo := history[:0:0]
	for _, e := range history {
		if e.Version <= rec.LastVersion {
			upTo = append(upTo, e)
		}
	}
	state, err := partnership.Replay(upTo, partnership.View{})
	if err != nil {
		return Result{}, true, err
	}
	return Result{State: state, Position: rec.Position, Created: rec.FirstVersion == 1, Replayed: true}, true, nil
}

// load reads a stream and decodes it; a missing stream is an empty history.
func (s *Service) load(ctx context.Context, stream string) ([]eventstore.RecordedEvent, []partnership.Entry, error) {
	recorded, err := s.store.ReadStream(ctx, stream)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", stream, err)
	}
	entries, err := Entries(recorded)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return recorded, entries, nil
}

// Entries decodes stored events into domain entries.
func Entries(recorded []eventstore.RecordedEvent) ([]partnership.Entry, error) {
	entries := make([]partnership.Entry, len(recorded))
	for i, r := range recorded {
		ev, err := partnership.Decode(r.Type, r.SchemaVersion, r.Data)
		if err != nil {
			return nil, fmt.Errorf("event %s at version %d: %w", r.EventID, r.Version, err)
		}
		entries[i] = partnership.Entry{EventID: r.EventID, Version: r.Version, OccurredAt: r.OccurredAt, RecordedAt: r.RecordedAt, Event: ev}
	}
	return entries, nil
}

// Load appends a whole new partnership at once, as the demo data set does:
// each command is decided against the ones before it, and all events are
// appended in one atomic append at NoStream. Event, partner and contact ids
// come from the service's id maker, so a deterministic one makes Load
// idempotent: loading the same history again changes nothing.
func (s *Service) Load(ctx context.Context, initiation partnership.PartnershipInitiated, occurredAt time.Time, rest []partnership.Command, meta Meta) (eventstore.AppendResult, error) {
	if !ValidID(initiation.PartnershipID) {
		return eventstore.AppendResult{}, fmt.Errorf("load: partnership id %q is not a UUID", initiation.PartnershipID)
	}
	cmds := append([]partnership.Command{{Event: initiation, OccurredAt: &occurredAt}}, rest...)
	env := partnership.Env{Now: s.now().UTC(), NewID: s.newID}
	var history []partnership.Entry
	events := make([]eventstore.NewEvent, 0, len(cmds))
	for _, cmd := range cmds {
		d, err := partnership.Decide(history, cmd, env)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("load %s: %s: %w", initiation.PartnershipID, cmd, err)
		}
		ev, err := s.newEvent(ctx, history, d, meta)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		events = append(events, ev)
		history = append(history, partnership.Entry{EventID: ev.EventID, Version: uint64(len(history) + 1), OccurredAt: d.OccurredAt, RecordedAt: env.Now, Event: d.Event})
	}
	stream := StreamID(initiation.PartnershipID)
	res, err := s.store.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.NoStream(), Events: events})
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("load %s: %w", stream, err)
	}
	return res, nil
}
