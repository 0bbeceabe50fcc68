package projections

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// Page is one page of the log folded once for every read model of a run:
// each event decoded once, with the derived state of its partnership
// before and after it, as partnership.Replay would give them. Writers
// share it and must not modify it.
type Page struct {
	// Events are the page's events, in position order.
	Events []Folded
	// Changed holds each partnership the page changed, in the order it
	// was first changed: its state after the page, and that state's JSON
	// (what state columns store, encoded once).
	Changed []Changed
}

// Folded is one event and what it did to its partnership.
type Folded struct {
	// Recorded is the event as stored; Entry the same decoded.
	Recorded eventstore.RecordedEvent
	Entry    partnership.Entry
	// Prev is the state before the event (zero before the initiation),
	// Next the state after it.
	Prev, Next partnership.State
	// Stream is the partnership's stream up to and including the event
	// when the fold had to read and replay it (always for a correction);
	// nil when State.Next sufficed.
	Stream *history.Stream
}

// Changed is a partnership's state after a page, with its JSON.
type Changed struct {
	State partnership.State
	JSON  []byte
}

// folder folds pages for one run: partnership.State.Next on the state
// before each event where that is exact, partnership.Replay over the
// stream, read from the store up to the event's version, otherwise (a
// correction, a late-logged event). The state before a partnership's
// first event in a page comes from the shared cache (history.States) when
// it holds that version, else from the states a member keeps in its
// tables (StateKeeper), else from a replay. Events are immutable, so every
// fold of the same events gives the same states, wherever the states
// before them came from.
type folder struct {
	store  eventstore.Store
	states *history.States
	// statesQuery selects stored states: the first member that keeps
	// them, bound to its tables; "" when no member keeps them.
	statesQuery string
	// latest holds the states folded so far in the current page, order
	// the ids of the current chunk in the order first changed, loaded the
	// stored states read for the page.
	latest map[string]partnership.State
	order  []string
	loaded map[string]partnership.State
	// folded are the states the chunks of the page changed, kept in the
	// shared cache once it has committed.
	folded []partnership.State
}

func newFolder(store eventstore.Store, states *history.States, members []*generation) *folder {
	f := &folder{store: store, states: states, latest: map[string]partnership.State{}, loaded: map[string]partnership.State{}}
	for _, g := range members {
		if k, ok := g.def.(StateKeeper); ok {
			f.statesQuery = g.tables.SQL(k.StatesQuery())
			break
		}
	}
	return f
}

// foldChunk is how many events a chunk of a page holds: the writers
// write one chunk while the next is folded.
const foldChunk = 1024

// begin prepares the folding of a page that follows the last one
// committed.
func (f *folder) begin() {
	clear(f.latest)
	f.folded = f.folded[:0]
}

// fold folds the events of the page begin prepared, in chunks of
// foldChunk events, and hands each chunk to emit in order; it stops at the
// first error, or when emit returns false. Before each chunk it reads the
// stored states the chunk needs (see load), through the query pool: they
// are as the last page committed them, and the page's transaction holds
// the write pool meanwhile.
func (f *folder) fold(ctx context.Context, db *DB, events []eventstore.RecordedEvent, emit func(*Page) bool) error {
	for len(events) > 0 {
		n := min(len(events), foldChunk)
		if err := f.load(ctx, db, events[:n]); err != nil {
			return err
		}
		page, err := f.foldChunk(ctx, events[:n])
		if err != nil {
			return err
		}
		if !emit(page) {
			return ctx.Err()
		}
		events = events[n:]
	}
	return nil
}

// foldChunk folds events, the next of the page, into a Page of their own.
func (f *folder) foldChunk(ctx context.Context, events []eventstore.RecordedEvent) (*Page, error) {
	f.order = f.order[:0]
	changed := make(map[string]bool, len(events)/4)
	page := &Page{Events: make([]Folded, len(events))}
	for i, e := range events {
		id, ok := history.ID(e.StreamID)
		if !ok {
			return nil, fmt.Errorf("event %s: stream %s is not a partnership", e.EventID, e.StreamID)
		}
		entry, err := history.Entry(e)
		if err != nil {
			return nil, err
		}
		out := &page.Events[i]
		out.Recorded, out.Entry = e, entry
		if out.Prev, err = f.before(ctx, id, e); err != nil {
			return nil, err
		}
		next, ok := out.Prev.Next(entry)
		if !ok {
			if out.Stream, err = readStream(ctx, f.store, e.StreamID, e.Version); err != nil {
				return nil, err
			}
			next = out.Stream.History.Current()
		}
		out.Next = next
		if !changed[id] {
			changed[id] = true
			f.order = append(f.order, id)
		}
		f.latest[id] = next
	}
	page.Changed = make([]Changed, len(f.order))
	for i, id := range f.order {
		s := f.latest[id]
		raw, err := json.Marshal(s.Stored())
		if err != nil {
			return nil, fmt.Errorf("encode state of %s: %w", id, err)
		}
		page.Changed[i] = Changed{State: s, JSON: raw}
		f.folded = append(f.folded, s)
	}
	return page, nil
}

// committed keeps the states the page folded last left its partnerships
// in, in the shared cache: the page has committed.
func (f *folder) committed() {
	for _, s := range f.folded {
		f.states.Keep(s)
	}
	f.folded = f.folded[:0]
}

// before returns the state of partnership id before event e.
func (f *folder) before(ctx context.Context, id string, e eventstore.RecordedEvent) (partnership.State, error) {
	want := e.Version - 1
	if s, ok := f.latest[id]; ok && s.Version == want {
		return s, nil
	}
	if want == 0 {
		return partnership.State{}, nil
	}
	if s, ok := f.states.At(id, want); ok {
		return s, nil
	}
	if s, ok := f.loaded[id]; ok && s.Version == want {
		return s, nil
	}
	stream, err := readStream(ctx, f.store, e.StreamID, want)
	if err != nil {
		return partnership.State{}, err
	}
	return stream.History.Current(), nil
}

// load reads, in a few queries, the stored states of the partnerships of
// events whose state before their first event in the page neither the
// page so far nor the shared cache holds.
func (f *folder) load(ctx context.Context, db *DB, events []eventstore.RecordedEvent) error {
	clear(f.loaded)
	if f.statesQuery == "" {
		return nil
	}
	seen := make(map[string]bool, len(events)/4)
	var missing []any
	for _, e := range events {
		id, ok := history.ID(e.StreamID)
		if !ok || seen[id] {
			continue // fold reports a stream that is no partnership's
		}
		seen[id] = true
		if _, ok := f.latest[id]; ok || e.Version <= 1 {
			continue
		}
		if _, ok := f.states.At(id, e.Version-1); ok {
			continue
		}
		missing = append(missing, id)
	}
	for len(missing) > 0 {
		n := min(len(missing), RowsPerStatement)
		if err := f.loadStates(ctx, db, missing[:n]); err != nil {
			return err
		}
		missing = missing[n:]
	}
	return nil
}

// loadStates reads the stored states of ids into f.loaded.
func (f *folder) loadStates(ctx context.Context, db *DB, ids []any) error {
	rows, err := db.r.QueryContext(ctx, f.statesQuery+" ("+db.dialect.bind(InList(len(ids)))+")", ids...)
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
		var st partnership.Stored
		if err := json.Unmarshal(raw, &st); err != nil {
			return fmt.Errorf("decode stored state of %s: %w", id, err)
		}
		f.loaded[id] = st.Restore()
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load states: %w", err)
	}
	return nil
}

// readStream reads a partnership's stream from the store up to version
// and replays it. Events are immutable, so every run reads the same.
func readStream(ctx context.Context, store eventstore.Store, streamID string, version uint64) (*history.Stream, error) {
	recorded, err := store.ReadStream(ctx, streamID)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", streamID, err)
	}
	if uint64(len(recorded)) < version {
		return nil, fmt.Errorf("read %s: %d events, want at least %d", streamID, len(recorded), version)
	}
	recorded = recorded[:version:version]
	entries, err := history.Entries(recorded)
	if err != nil {
		return nil, err
	}
	h, err := partnership.NewHistory(entries)
	if err != nil {
		return nil, fmt.Errorf("replay %s to version %d: %w", streamID, version, err)
	}
	return &history.Stream{Recorded: recorded, History: h}, nil
}
