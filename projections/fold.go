package projections

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// foldCacheSize bounds the decoded states a folder keeps between events.
const foldCacheSize = 4096

// folder gives a projection the derived state of a partnership before and
// after each event, as partnership.Replay would: partnership.State.Next on
// the state it knows where that is exact, and otherwise (a correction, a
// late-logged event, a state it no longer caches) Replay over the stream,
// read from the store up to the event's version. Events are immutable, so
// that read gives the same answer in every rebuild.
type folder struct {
	store eventstore.Store
	// load selects a partnership's last folded state (one JSON column) by
	// id from the projection's own table.
	load  *sql.Stmt
	cache map[string]partnership.State
	// dirty holds the states changed in the current batch, in the order
	// they were first changed, until the writer stores them.
	dirty      map[string]partnership.State
	dirtyOrder []string
}

func newFolder(store eventstore.Store, load *sql.Stmt) *folder {
	return &folder{store: store, load: load, cache: map[string]partnership.State{}, dirty: map[string]partnership.State{}}
}

// folded is what one event did to its partnership.
type folded struct {
	// prev is the state before the event (zero before the initiation),
	// next the state after it.
	prev, next partnership.State
	entry      partnership.Entry
	// stream is the stream up to the event when the fold had to read and
	// replay it (always for a correction); nil when Next sufficed.
	stream *stream
}

// stream is a partnership's events up to some version, as stored and as
// the domain sees them.
type stream struct {
	recorded []eventstore.RecordedEvent
	entries  []partnership.Entry
}

// fold folds e into its partnership's state.
func (f *folder) fold(ctx context.Context, tx *sql.Tx, e eventstore.RecordedEvent) (folded, error) {
	var out folded
	id, ok := app.PartnershipID(e.StreamID)
	if !ok {
		return out, fmt.Errorf("event %s: stream %s is not a partnership", e.EventID, e.StreamID)
	}
	ev, err := partnership.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return out, fmt.Errorf("event %s: %w", e.EventID, err)
	}
	out.entry = partnership.Entry{EventID: e.EventID, Version: e.Version, OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt, Event: ev}

	if out.prev, ok = f.dirty[id]; !ok {
		if out.prev, ok = f.cache[id]; !ok {
			if out.prev, err = f.loadState(ctx, tx, id); err != nil {
				return out, fmt.Errorf("load state of %s: %w", id, err)
			}
		}
	}
	if next, ok := out.prev.Next(out.entry); ok {
		out.next = next
	} else {
		if out.stream, err = readStream(ctx, f.store, e); err != nil {
			return out, err
		}
		if out.next, err = partnership.Replay(out.stream.entries, partnership.View{}); err != nil {
			return out, fmt.Errorf("replay %s to version %d: %w", e.StreamID, e.Version, err)
		}
	}
	f.remember(id, out.next)
	if _, ok := f.dirty[id]; !ok {
		f.dirtyOrder = append(f.dirtyOrder, id)
	}
	f.dirty[id] = out.next
	return out, nil
}

// loadState reads the state last stored for id, zero when there is none.
func (f *folder) loadState(ctx context.Context, tx *sql.Tx, id string) (partnership.State, error) {
	var raw []byte
	err := tx.StmtContext(ctx, f.load).QueryRowContext(ctx, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return partnership.State{}, nil
	}
	if err != nil {
		return partnership.State{}, err
	}
	var s partnership.State
	if err := json.Unmarshal(raw, &s); err != nil {
		return partnership.State{}, fmt.Errorf("decode stored state: %w", err)
	}
	return s, nil
}

// flush calls store for each state changed since the last flush, in the
// order they were first changed, with the state encoded as JSON, and
// forgets them.
func (f *folder) flush(store func(s partnership.State, state []byte) error) error {
	for _, id := range f.dirtyOrder {
		s := f.dirty[id]
		state, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("encode state of %s: %w", id, err)
		}
		if err := store(s, state); err != nil {
			return fmt.Errorf("store state of %s: %w", id, err)
		}
	}
	clear(f.dirty)
	f.dirtyOrder = f.dirtyOrder[:0]
	return nil
}

// readStream reads e's stream from the store up to and including e. Events
// are immutable, so every run reads the same.
func readStream(ctx context.Context, store eventstore.Store, e eventstore.RecordedEvent) (*stream, error) {
	recorded, err := store.ReadStream(ctx, e.StreamID)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", e.StreamID, err)
	}
	if uint64(len(recorded)) < e.Version {
		return nil, fmt.Errorf("read %s: %d events, want at least %d", e.StreamID, len(recorded), e.Version)
	}
	recorded = recorded[:e.Version]
	entries, err := app.Entries(recorded)
	if err != nil {
		return nil, err
	}
	return &stream{recorded: recorded, entries: entries}, nil
}

func (f *folder) remember(id string, s partnership.State) {
	if _, ok := f.cache[id]; !ok && len(f.cache) >= foldCacheSize {
		for k := range f.cache { // an arbitrary victim: map order is random
			delete(f.cache, k)
			break
		}
	}
	f.cache[id] = s
}

// Reset forgets every cached and changed state (after a rollback).
func (f *folder) Reset() {
	clear(f.cache)
	clear(f.dirty)
	f.dirtyOrder = f.dirtyOrder[:0]
}
