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
	// load reads a partnership's last folded state from the projection's
	// own table, inside the batch's transaction.
	load  func(ctx context.Context, tx *sql.Tx, id string) (partnership.State, bool, error)
	cache map[string]partnership.State
	// dirty holds the states changed in the current batch, in the order
	// they were first changed, until the writer stores them.
	dirty      map[string]partnership.State
	dirtyOrder []string
}

func newFolder(store eventstore.Store, load func(context.Context, *sql.Tx, string) (partnership.State, bool, error)) *folder {
	return &folder{store: store, load: load, cache: map[string]partnership.State{}, dirty: map[string]partnership.State{}}
}

// fold returns the partnership's state before e (zero before the
// initiation) and after it, and the decoded event.
func (f *folder) fold(ctx context.Context, tx *sql.Tx, e eventstore.RecordedEvent) (prev, next partnership.State, entry partnership.Entry, err error) {
	id, ok := app.PartnershipID(e.StreamID)
	if !ok {
		return prev, next, entry, fmt.Errorf("event %s: stream %s is not a partnership", e.EventID, e.StreamID)
	}
	ev, err := partnership.Decode(e.Type, e.SchemaVersion, e.Data)
	if err != nil {
		return prev, next, entry, fmt.Errorf("event %s: %w", e.EventID, err)
	}
	entry = partnership.Entry{EventID: e.EventID, Version: e.Version, OccurredAt: e.OccurredAt, RecordedAt: e.RecordedAt, Event: ev}

	prev, ok = f.dirty[id]
	if !ok {
		prev, ok = f.cache[id]
	}
	if !ok {
		if prev, _, err = f.load(ctx, tx, id); err != nil {
			return prev, next, entry, fmt.Errorf("load state of %s: %w", id, err)
		}
	}
	if n, ok := prev.Next(entry); ok {
		next = n
	} else if next, err = f.replay(ctx, e); err != nil {
		return prev, next, entry, err
	}
	f.remember(id, next)
	if _, ok := f.dirty[id]; !ok {
		f.dirtyOrder = append(f.dirtyOrder, id)
	}
	f.dirty[id] = next
	return prev, next, entry, nil
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

// historyUpTo reads e's stream from the store and returns its events up to
// and including e, as stored and as the domain sees them. Events are
// immutable, so every run reads the same.
func historyUpTo(ctx context.Context, store eventstore.Store, e eventstore.RecordedEvent) ([]eventstore.RecordedEvent, []partnership.Entry, error) {
	recorded, err := store.ReadStream(ctx, e.StreamID)
	if err != nil {
		return nil, nil, fmt.Errorf("read %s: %w", e.StreamID, err)
	}
	if uint64(len(recorded)) < e.Version {
		return nil, nil, fmt.Errorf("read %s: %d events, want at least %d", e.StreamID, len(recorded), e.Version)
	}
	entries, err := app.Entries(recorded[:e.Version])
	return recorded[:e.Version], entries, err
}

// replay derives the state after e from the stream itself.
func (f *folder) replay(ctx context.Context, e eventstore.RecordedEvent) (partnership.State, error) {
	_, entries, err := historyUpTo(ctx, f.store, e)
	if err != nil {
		return partnership.State{}, err
	}
	s, err := partnership.Replay(entries, partnership.View{})
	if err != nil {
		return partnership.State{}, fmt.Errorf("replay %s to version %d: %w", e.StreamID, e.Version, err)
	}
	return s, nil
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

// reset forgets every cached and changed state (after a rollback).
func (f *folder) reset() {
	clear(f.cache)
	clear(f.dirty)
	f.dirtyOrder = f.dirtyOrder[:0]
}

// loadState reads a JSON state column by id; the statement must select one
// column of one row.
func loadState(ctx context.Context, stmt *sql.Stmt, id string) (partnership.State, bool, error) {
	var raw []byte
	err := stmt.QueryRowContext(ctx, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return partnership.State{}, false, nil
	}
	if err != nil {
		return partnership.State{}, false, err
	}
	var s partnership.State
	if err := json.Unmarshal(raw, &s); err != nil {
		return partnership.State{}, false, fmt.Errorf("decode stored state: %w", err)
	}
	return s, true, nil
}
