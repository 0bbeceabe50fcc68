package history

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
)

// Store reads partnerships' histories from the event store, and seals what
// is appended to them. Safe for concurrent use.
type Store struct {
	events eventstore.Store
	// tail reads a stream's end when the store can (nil otherwise): the
	// current state of a kept one is brought up to date by the events
	// after it.
	tail       eventstore.StreamTailReader
	states     *States
	keys       personal.KeyStore
	pseudonyms personal.Pseudonyms
}

// Option configures a Store.
type Option func(*Store)

// WithStates shares a cache of current states (with the projections);
// without it the Store keeps its own.
func WithStates(c *States) Option { return func(s *Store) { s.states = c } }

// WithPersonalData seals the personal data of contact persons with keys
// from the key store before anything is appended, and opens it for the
// readers who may see it. Without it contacts are stored as given: only
// tests do that.
func WithPersonalData(keys personal.KeyStore) Option { return func(s *Store) { s.keys = keys } }

// WithPseudonyms sets the pseudonyms of event recorders shown to readers
// who may not see personal data: those of the installation's secret, so
// that they equal the research exports'. Without it the Store makes
// pseudonyms under a random key of its own (never names, but other ones
// after a restart).
func WithPseudonyms(p personal.Pseudonyms) Option { return func(s *Store) { s.pseudonyms = p } }

// New returns the histories of the event store's partnerships.
func New(events eventstore.Store, opts ...Option) *Store {
	random := make([]byte, 32)
	_, _ = rand.Read(random) // crypto/rand.Read never fails (Go 1.24+)
	s := &Store{events: events, pseudonyms: personal.NewPseudonyms(random)}
	s.tail, _ = events.(eventstore.StreamTailReader)
	for _, o := range opts {
		o(s)
	}
	if s.states == nil {
		s.states = NewStates(0)
	}
	return s
}

// States returns the Store's cache of current states.
func (s *Store) States() *States { return s.states }

// Keys returns the key store of WithPersonalData, or nil.
func (s *Store) Keys() personal.KeyStore { return s.keys }

// Load reads a partnership's stream once and decodes it once; its current
// state comes from the cache when it holds the stream's version, else from
// one replay (which it then keeps). An id that names no partnership, or a
// stream with no events, is the zero Stream.
func (s *Store) Load(ctx context.Context, id string) (Stream, error) {
	if !ValidID(id) {
		return Stream{}, nil
	}
	stream := StreamID(id)
	recorded, err := s.events.ReadStream(ctx, stream)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return Stream{}, nil
	}
	if err != nil {
		return Stream{}, fmt.Errorf("read %s: %w", stream, err)
	}
	entries, err := Entries(recorded)
	if err != nil {
		return Stream{}, fmt.Errorf("read %s: %w", stream, err)
	}
	if current, ok := s.states.At(id, uint64(len(recorded))); ok {
		return Stream{Recorded: recorded, History: partnership.HistoryOf(entries, current)}, nil
	}
	h, err := partnership.NewHistory(entries)
	if err != nil {
		return Stream{}, fmt.Errorf("replay %s: %w", stream, err)
	}
	s.states.Keep(h.Current())
	return Stream{Recorded: recorded, History: h}, nil
}

// Latest returns what a command on the partnership needs to start from:
// its current state alone (a partnership.StateOnly history), brought up to
// date from the stream's tail, when a state of it is kept; else Load.
// Decide answers partnership.ErrNeedEntries when the command needs more,
// and the caller then Loads.
func (s *Store) Latest(ctx context.Context, id string) (Stream, error) {
	if !ValidID(id) {
		return Stream{}, nil
	}
	if state, ok, err := s.brought(ctx, id); ok || err != nil {
		return Stream{History: partnership.StateOnly(state)}, err
	}
	return s.Load(ctx, id)
}

// Keep remembers a partnership's state (a command's result), unless a
// newer one is kept.
func (s *Store) Keep(state partnership.State) { s.states.Keep(state) }

// Current returns a partnership's current state and the stream's version:
// a kept state brought up to date with what the stream got after it
// (usually nothing: one short read) where State.Next can, else a Load.
// partnership.ErrNotFound when there is no such partnership.
func (s *Store) Current(ctx context.Context, id string) (partnership.State, error) {
	if !ValidID(id) {
		return partnership.State{}, partnership.ErrNotFound
	}
	if state, ok, err := s.brought(ctx, id); ok || err != nil {
		return state, err
	}
	stream, err := s.Load(ctx, id)
	if err != nil {
		return partnership.State{}, err
	}
	if stream.Version() == 0 {
		return partnership.State{}, partnership.ErrNotFound
	}
	return stream.History.Current(), nil
}

// brought returns the kept state of the partnership brought up to date
// from its stream's tail, and false when there is none it could bring up
// to date.
func (s *Store) brought(ctx context.Context, id string) (partnership.State, bool, error) {
	kept, ok := s.states.Get(id)
	if !ok || s.tail == nil {
		return partnership.State{}, false, nil
	}
	more, err := s.tail.ReadStreamAfter(ctx, StreamID(id), kept.Version)
	if err != nil {
		return partnership.State{}, false, fmt.Errorf("read %s: %w", StreamID(id), err)
	}
	state := kept
	for _, r := range more {
		e, err := Entry(r)
		if err != nil {
			return partnership.State{}, false, fmt.Errorf("read %s: %w", StreamID(id), err)
		}
		if state, ok = state.Next(e); !ok {
			return partnership.State{}, false, nil
		}
	}
	if len(more) > 0 {
		s.states.Keep(state)
	}
	return state, true, nil
}

// Seal returns the stored form of an event decided on h: a new contact's
// fields sealed under a new key of its own, a corrected contact's under its
// existing one; every other event as encoded.
func (s *Store) Seal(ctx context.Context, h partnership.History, e partnership.Event) (json.RawMessage, error) {
	data, err := partnership.Encode(e)
	if err != nil || s.keys == nil {
		return data, err
	}
	switch ev := e.(type) {
	case partnership.ContactPersonAssigned:
		return personal.SealNew(ctx, s.keys, data)
	case partnership.EntryCorrected:
		if len(ev.Replacement) == 0 || !correctsContact(h.Entries(), ev.CorrectedEventID) {
			return data, nil
		}
		sealed, err := personal.SealAgain(ctx, s.keys, ev.Replacement)
		if err != nil {
			return nil, err
		}
		ev.Replacement = sealed
		return partnership.Encode(ev)
	}
	return data, nil
}

// correctsContact reports whether the event id names a
// ContactPersonAssigned of the entries.
func correctsContact(entries []partnership.Entry, eventID string) bool {
	for _, e := range entries {
		if e.EventID == eventID {
			_, ok := e.Event.(partnership.ContactPersonAssigned)
			return ok
		}
	}
	return false
}
