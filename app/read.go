package app

import (
	"context"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// HistoryEntry is a stored event with its correction mark: events that a
// later EntryCorrected retracted or replaced are marked, never hidden.
type HistoryEntry struct {
	eventstore.RecordedEvent
	CorrectedBy *partnership.Correction `json:"corrected_by,omitempty"`
}

// State returns a partnership's derived state under the view, live from its
// stream, and the stream's current version (its ETag).
func (s *Service) State(ctx context.Context, id string, v partnership.View) (partnership.State, uint64, error) {
	current := v == partnership.View{}
	if current && s.states != nil && ValidID(id) {
		if state, ok, err := s.states.current(ctx, StreamID(id)); ok || err != nil {
			return state, state.Version, err
		}
	}
	_, entries, err := s.partnership(ctx, id)
	if err != nil {
		return partnership.State{}, 0, err
	}
	state, err := partnership.Replay(entries, v)
	if err != nil {
		return partnership.State{}, 0, err
	}
	if current && s.states != nil {
		s.states.keep(StreamID(id), state)
	}
	return state, uint64(len(entries)), nil
}

// History returns the partnership's stored events under the view, in
// version order, with correction marks, and the stream's current version.
func (s *Service) History(ctx context.Context, id string, v partnership.View) ([]HistoryEntry, uint64, error) {
	_, history, version, err := s.Read(ctx, id, v)
	return history, version, err
}

// Read returns both the state and the history under the view, and the
// stream's current version, from one read of the stream (pages show both).
func (s *Service) Read(ctx context.Context, id string, v partnership.View) (partnership.State, []HistoryEntry, uint64, error) {
	recorded, entries, err := s.partnership(ctx, id)
	if err != nil {
		return partnership.State{}, nil, 0, err
	}
	state, err := partnership.Replay(entries, v)
	if err != nil {
		return partnership.State{}, nil, 0, err
	}
	marks := partnership.Corrections(entries, v)
	history := make([]HistoryEntry, 0, len(recorded))
	for _, r := range recorded {
		if !v.Includes(r.OccurredAt, r.RecordedAt) {
			continue
		}
		h := HistoryEntry{RecordedEvent: r}
		if c, ok := marks[r.EventID]; ok {
			h.CorrectedBy = &c
		}
		history = append(history, h)
	}
	return state, history, uint64(len(recorded)), nil
}

// partnership loads an existing partnership's stream.
func (s *Service) partnership(ctx context.Context, id string) ([]eventstore.RecordedEvent, []partnership.Entry, error) {
	if !ValidID(id) {
		return nil, nil, partnership.ErrNotFound
	}
	recorded, entries, err := s.load(ctx, StreamID(id))
	if err != nil {
		return nil, nil, err
	}
	if len(recorded) == 0 {
		return nil, nil, partnership.ErrNotFound
	}
	return recorded, entries, nil
}
