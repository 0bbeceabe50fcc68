package history

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
	// Entry is the event as the domain sees it, decoded once with the
	// stream (contacts as stored: sealed).
	Entry partnership.Entry `json:"-"`
}

// State returns a partnership's derived state under the view, live from
// its stream, and the stream's current version (its ETag): the current
// state (the zero View) from the cache where it can (Current), any other
// view by one replay. partnership.ErrNotFound when there is no such
// partnership, or it did not exist under the view.
func (s *Store) State(ctx context.Context, id string, v partnership.View) (partnership.State, uint64, error) {
	if v == (partnership.View{}) {
		state, err := s.Current(ctx, id)
		return state, state.Version, err
	}
	state, _, version, err := s.Read(ctx, id, v)
	return state, version, err
}

// Read returns a partnership's state and its history under the view, and
// the stream's current version, from one read of the stream (pages show
// both). partnership.ErrNotFound as State.
func (s *Store) Read(ctx context.Context, id string, v partnership.View) (partnership.State, []HistoryEntry, uint64, error) {
	stream, err := s.loadExisting(ctx, id)
	if err != nil {
		return partnership.State{}, nil, 0, err
	}
	state := stream.History.Current()
	if v != (partnership.View{}) {
		if state, err = partnership.Replay(stream.History.Entries(), v); err != nil {
			return partnership.State{}, nil, 0, err
		}
	}
	return state, marked(stream, v), stream.Version(), nil
}

// Events returns a partnership's stored events under the view, in version
// order, with correction marks, and the stream's current version.
// partnership.ErrNotFound when there is no such partnership, or it did not
// exist under the view (its initiation, which is never retracted nor moved
// in time, is outside it).
func (s *Store) Events(ctx context.Context, id string, v partnership.View) ([]HistoryEntry, uint64, error) {
	stream, err := s.loadExisting(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	if first := stream.Recorded[0]; !v.Includes(first.OccurredAt, first.RecordedAt) {
		return nil, 0, partnership.ErrNotFound
	}
	return marked(stream, v), stream.Version(), nil
}

// loadExisting loads a partnership's stream, or partnership.ErrNotFound.
func (s *Store) loadExisting(ctx context.Context, id string) (Stream, error) {
	stream, err := s.Load(ctx, id)
	if err == nil && stream.Version() == 0 {
		err = partnership.ErrNotFound
	}
	return stream, err
}

// marked returns the stream's events under the view, each marked with the
// correction in force under it.
func marked(stream Stream, v partnership.View) []HistoryEntry {
	entries := stream.History.Entries()
	marks := partnership.Corrections(entries, v)
	out := make([]HistoryEntry, 0, len(stream.Recorded))
	for i, r := range stream.Recorded {
		if !v.Includes(r.OccurredAt, r.RecordedAt) {
			continue
		}
		h := HistoryEntry{RecordedEvent: r, Entry: entries[i]}
		if c, ok := marks[r.EventID]; ok {
			h.CorrectedBy = &c
		}
		out = append(out, h)
	}
	return out
}
