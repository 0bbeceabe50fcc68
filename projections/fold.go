package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
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
	// load selects partnerships' last folded states (id and one JSON
	// column) from the projection's own table: the statement up to an
	// IN list of ids.
	load  string
	cache map[string]partnership.State
	// loaded holds the stored states of the batch's partnerships that the
	// cache did not hold (zero for a partnership not stored yet), read at
	// once before the batch is folded.
	loaded map[string]partnership.State
	// dirty holds the states changed in the current batch, in the order
	// they were first changed, until changed hands them out; they are then
	// the previous batch's, kept in prev until the next batch's are handed
	// out: that batch may still be committing while the next one folds.
	dirty      map[string]partnership.State
	dirtyOrder []string
	prev       map[string]partnership.State
}

// newFolder returns a folder loading states with load, a statement that
// selects id and state and ends in "WHERE id IN".
func newFolder(store eventstore.Store, load string) *folder {
	return &folder{store: store, load: load, cache: map[string]partnership.State{},
		loaded: map[string]partnership.State{}, dirty: map[string]partnership.State{}, prev: map[string]partnership.State{}}
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

// begin prepares the folding of batch: it reads, in a few queries, the
// stored states of the batch's partnerships that the cache does not hold.
// It reads through the write pool, outside any transaction: on SQLite that
// is the connection whose page cache holds the tables (a query-pool
// connection starts cold after every commit of another connection).
func (f *folder) begin(ctx context.Context, db *DB, batch []eventstore.RecordedEvent) error {
	clear(f.loaded)
	var missing []any
	for _, e := range batch {
		id, ok := history.ID(e.StreamID)
		if !ok {
			continue // fold reports it
		}
		if _, ok := f.cache[id]; ok {
			continue
		}
		if _, ok := f.prev[id]; ok {
			continue
		}
		if _, ok := f.loaded[id]; ok {
			continue
		}
		f.loaded[id] = partnership.State{}
		missing = append(missing, id)
	}
	for len(missing) > 0 {
		n := min(len(missing), rowsPerStatement)
		if err := f.loadStates(ctx, db, missing[:n]); err != nil {
			return err
		}
		missing = missing[n:]
	}
	return nil
}

// loadStates reads the stored states of ids into f.loaded.
func (f *folder) loadStates(ctx context.Context, db *DB, ids []any) error {
	rows, err := db.w.QueryContext(ctx, db.dialect.bind(f.load+" ("+inList(len(ids))+")"), ids...)
	if err != nil {
		return fmt.Errorf("load states: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var raw []byte
		if err := rows.Scan(&id, &raw); err != nil {
			return fmt.Errorf("load states: %w", err)
		}
		var s partnership.State
		if err := json.Unmarshal(raw, &s); err != nil {
			return fmt.Errorf("decode stored state of %s: %w", id, err)
		}
		f.loaded[id] = s
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load states: %w", err)
	}
	return nil
}

// fold folds e, an event of the batch begin prepared, into its
// partnership's state.
func (f *folder) fold(ctx context.Context, e eventstore.RecordedEvent) (folded, error) {
	var out folded
	id, ok := history.ID(e.StreamID)
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
			if out.prev, ok = f.prev[id]; !ok {
				if out.prev, ok = f.loaded[id]; !ok {
					return out, fmt.Errorf("event %s: the state of %s was not loaded", e.EventID, id)
				}
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

// changedState is a state the batch changed, with its JSON.
type changedState struct {
	state partnership.State
	json  []byte
}

// changed returns each state changed since the last call, in the order
// they were first changed, with its JSON, and keeps them as the previous
// batch's.
func (f *folder) changed() ([]changedState, error) {
	out := make([]changedState, 0, len(f.dirtyOrder))
	for _, id := range f.dirtyOrder {
		s := f.dirty[id]
		raw, err := json.Marshal(s)
		if err != nil {
			return nil, fmt.Errorf("encode state of %s: %w", id, err)
		}
		out = append(out, changedState{state: s, json: raw})
	}
	f.prev, f.dirty = f.dirty, f.prev
	clear(f.dirty)
	clear(f.loaded)
	f.dirtyOrder = f.dirtyOrder[:0]
	return out, nil
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
	entries, err := history.Entries(recorded)
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

// Reset forgets every cached, loaded and changed state (after a failed
// batch).
func (f *folder) Reset() {
	clear(f.cache)
	clear(f.loaded)
	clear(f.dirty)
	clear(f.prev)
	f.dirtyOrder = f.dirtyOrder[:0]
}
