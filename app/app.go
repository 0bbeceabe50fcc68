// Package app is samspill's command side: a command is authorised on its
// effect, decided by the domain on the partnership's history, and appended
// with optimistic concurrency and idempotency. The HTTP API, the pages and
// the demo loader all write through it; there is no second path to the
// domain. Reading a partnership is package history's.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
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

// conflictRetries bounds re-decisions when a concurrent append wins the race
// on a command that did not pin a version.
const conflictRetries = 32

// Service runs commands. Safe for concurrent use.
type Service struct {
	store   eventstore.Store
	history *history.Store
	now     func() time.Time
	newID   func() string
	log     *slog.Logger
}

// Option configures a Service.
type Option func(*Service)

// WithClock sets the clock (tests).
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// WithIDs sets the maker of new ids (tests, demo data).
func WithIDs(newID func() string) Option { return func(s *Service) { s.newID = newID } }

// WithLogger sets the logger.
func WithLogger(l *slog.Logger) Option { return func(s *Service) { s.log = l } }

// WithHistory sets the histories the service decides on and appends to,
// with their personal-data keys and state cache; without it the service
// makes its own over the store (contacts unsealed: only tests do that).
func WithHistory(h *history.Store) Option { return func(s *Service) { s.history = h } }

// New returns a service over the store.
func New(store eventstore.Store, opts ...Option) *Service {
	s := &Service{store: store, now: time.Now, newID: newUUIDv7, log: slog.Default()}
	for _, o := range opts {
		o(s)
	}
	if s.history == nil {
		s.history = history.New(store)
	}
	return s
}

// History returns the histories the service writes to.
func (s *Service) History() *history.Store { return s.history }

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
	// partnership of the municipality (today's code): the partnership's
	// before the command and after it. Its error refuses the command before
	// anything is written.
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

// Execute decides a command on the partnership and appends its event: it
// reads the stream once, authorises the command on the state before and
// after it, lets the domain decide, and appends at the version it read.
// Errors: partnership.ErrNotFound, *partnership.ValidationError,
// *partnership.RuleError, ErrPreconditionFailed, ErrIdempotencyKeyReused,
// the MayWrite error, or a wrapped store error.
func (s *Service) Execute(ctx context.Context, id string, cmd partnership.Command, meta Meta) (Result, error) {
	if !history.ValidID(id) {
		return Result{}, partnership.ErrNotFound
	}
	for attempt := 0; ; attempt++ {
		// Most commands record what happened last: the current state is
		// all they need. The others (a correction, an event logged late)
		// read the whole stream.
		stream, err := s.history.Latest(ctx, id)
		if err != nil {
			return Result{}, err
		}
		before := stream.History.Current()
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
		decision, err := s.decide(stream, cmd, meta)
		if errors.Is(err, partnership.ErrNeedEntries) {
			if stream, err = s.history.Load(ctx, id); err != nil {
				return Result{}, err
			}
			decision, err = s.decide(stream, cmd, meta)
		}
		if err != nil {
			return Result{}, err
		}
		res, err := s.append(ctx, stream, decision, meta)
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

// Check answers what Execute would, short of appending: nil when the
// command would be accepted now, else the error Execute would return
// (partnership.ErrNotFound, *partnership.ValidationError,
// *partnership.RuleError, ErrPreconditionFailed, the MayWrite error).
// Nothing is written, so a later Execute may still be refused (someone
// may write first); with If-Match it is refused rather than decided anew.
// The pages preview a correction with it.
func (s *Service) Check(ctx context.Context, id string, cmd partnership.Command, meta Meta) error {
	if !history.ValidID(id) {
		return partnership.ErrNotFound
	}
	stream, err := s.history.Load(ctx, id)
	if err != nil {
		return err
	}
	if err := mayWrite(meta, stream.History.Current(), cmd); err != nil {
		return err
	}
	_, err = s.decide(stream, cmd, meta)
	return err
}

// decide lets the domain decide cmd on the stream as it was read, at the
// version meta.IfMatch pins, and judges the principal's scope on the
// decision's effect.
func (s *Service) decide(stream history.Stream, cmd partnership.Command, meta Meta) (partnership.Decision, error) {
	version := stream.Version()
	if meta.IfMatch != nil && *meta.IfMatch != version {
		return partnership.Decision{}, fmt.Errorf("%w: partnership is at version %d, not %d", ErrPreconditionFailed, version, *meta.IfMatch)
	}
	decision, err := partnership.Decide(stream.History, cmd, partnership.Env{Now: s.now().UTC(), NewID: s.newID})
	if err != nil {
		return partnership.Decision{}, err
	}
	// Scope is judged on the effect too: a command may not move a
	// partnership out of the principal's municipalities (a corrected
	// initiation naming another municipality).
	before := stream.History.Current()
	if after := decision.State.CurrentMunicipality; meta.MayWrite != nil && after != before.CurrentMunicipality {
		if err := meta.MayWrite(after); err != nil {
			return partnership.Decision{}, err
		}
	}
	return decision, nil
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

// append stores the decided event at the version the stream was read at,
// and keeps the state it leads to.
func (s *Service) append(ctx context.Context, stream history.Stream, d partnership.Decision, meta Meta) (Result, error) {
	ev, err := s.newEvent(ctx, stream.History, d, meta)
	if err != nil {
		return Result{}, err
	}
	id := d.State.ID
	req := eventstore.AppendRequest{StreamID: history.StreamID(id), Expected: eventstore.Exactly(stream.Version()), Events: []eventstore.NewEvent{ev}}
	if meta.IdempotencyKey != "" {
		req.Idempotency = &eventstore.Idempotency{Key: meta.IdempotencyKey, RequestHash: meta.RequestHash}
	}
	res, err := s.store.Append(ctx, req)
	if err != nil {
		return Result{}, fmt.Errorf("append to %s: %w", req.StreamID, err)
	}
	s.history.Keep(d.State)
	_, created := d.Event.(partnership.PartnershipInitiated)
	return Result{State: d.State, Position: res.LastPosition(), Created: created}, nil
}

// newEvent turns a decision on h into the envelope to append, with a new
// event id, personal data sealed.
func (s *Service) newEvent(ctx context.Context, h partnership.History, d partnership.Decision, meta Meta) (eventstore.NewEvent, error) {
	data, err := s.history.Seal(ctx, h, d.Event)
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
	id, _ := history.ID(rec.StreamID)
	stream, err := s.history.Load(ctx, id)
	if err != nil {
		return Result{}, true, err
	}
	if stream, err = stream.UpTo(rec.LastVersion); err != nil {
		return Result{}, true, err
	}
	return Result{State: stream.History.Current(), Position: rec.Position, Created: rec.FirstVersion == 1, Replayed: true}, true, nil
}

// Load appends a whole new partnership at once, as the demo data set does:
// each command is decided against the ones before it, and all events are
// appended in one atomic append at NoStream. Event, partner and contact ids
// come from the service's id maker, so a deterministic one makes Load
// idempotent: loading the same history again changes nothing.
func (s *Service) Load(ctx context.Context, initiation partnership.PartnershipInitiated, occurredAt time.Time, rest []partnership.Command, meta Meta) (eventstore.AppendResult, error) {
	if !history.ValidID(initiation.PartnershipID) {
		return eventstore.AppendResult{}, fmt.Errorf("load: partnership id %q is not a UUID", initiation.PartnershipID)
	}
	cmds := append([]partnership.Command{{Event: initiation, OccurredAt: &occurredAt}}, rest...)
	env := partnership.Env{Now: s.now().UTC(), NewID: s.newID}
	var h partnership.History
	events := make([]eventstore.NewEvent, 0, len(cmds))
	for _, cmd := range cmds {
		d, err := partnership.Decide(h, cmd, env)
		if err != nil {
			return eventstore.AppendResult{}, fmt.Errorf("load %s: %s: %w", initiation.PartnershipID, cmd, err)
		}
		ev, err := s.newEvent(ctx, h, d, meta)
		if err != nil {
			return eventstore.AppendResult{}, err
		}
		events = append(events, ev)
		h = h.With(partnership.Entry{EventID: ev.EventID, Version: h.Version() + 1, OccurredAt: d.OccurredAt, RecordedAt: env.Now, Event: d.Event}, d)
	}
	stream := history.StreamID(initiation.PartnershipID)
	res, err := s.store.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: eventstore.NoStream(), Events: events})
	if err != nil {
		return eventstore.AppendResult{}, fmt.Errorf("load %s: %w", stream, err)
	}
	return res, nil
}
