// Package timeline is the read model municipality_timeline: per
// municipality (by today's code, old codes mapped through SSB's change
// table) its partnerships and one dated entry per event in force,
// corrections applied. It answers GET /municipalities/{code}/timeline and
// the pages' timelines.
//
// Projection is its definition, which cmd hands to the projection engine
// (package projections); Queries answers from the active generation the
// engine names, and keeps its last answers until the projection commits
// again.
package timeline

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections"
)

// Name is the name of the municipality timeline projection.
const Name = "municipality_timeline"

// Projection defines the read model for the engine: the lanes (one row
// per partnership), the entries (one per event in force) and the states
// the fold starts from when this projection runs alone.
type Projection struct{}

var (
	_ projections.Definition  = Projection{}
	_ projections.StateKeeper = Projection{}
)

// Name implements projections.Definition.
func (Projection) Name() string { return Name }

// SchemaVersion implements projections.Definition. Version 2: entries lost
// their index by partnership (a correction deletes a partnership's
// entries by the positions of its events), states became a rowid table.
// Version 3: a stored state keeps its last dated day (partnership.Stored).
// Version 4: an entry keeps its event's payload and the partners' names it
// refers to (the pages describe it in the reader's language), a lane the
// code it was recorded under, and entries are indexed by partnership (the
// pages read a page of lanes).
func (Projection) SchemaVersion() int { return 4 }

// Tables implements projections.Definition.
func (Projection) Tables() []string { return []string{"partnerships", "states", "entries"} }

// Schema implements projections.Definition.
func (Projection) Schema(d projections.Dialect) string {
	if d == projections.Postgres {
		return schemaPostgres
	}
	return `
CREATE TABLE {p}partnerships (
	current_municipality TEXT NOT NULL,
	started_at           TEXT NOT NULL,
	id                   TEXT NOT NULL,
	title                TEXT NOT NULL,
	service_area         TEXT NOT NULL,
	collaboration_model  TEXT NOT NULL,
	status               TEXT NOT NULL,
	ended_at             TEXT,
	municipality         TEXT NOT NULL,
	-- Clustered by municipality and start: a timeline's lanes are one
	-- range of the table, read in order without lookups.
	PRIMARY KEY (current_municipality, started_at, id)
) STRICT, WITHOUT ROWID;
CREATE UNIQUE INDEX {p}partnerships_by_id ON {p}partnerships (id);
-- A rowid table: a state (1 to 3 KB of JSON) fits in its leaf page,
-- where a WITHOUT ROWID row over ~1 KB spills into an overflow page that
-- every update writes anew.
CREATE TABLE {p}states (
	id    TEXT NOT NULL PRIMARY KEY,
	state BLOB NOT NULL
) STRICT;
CREATE TABLE {p}entries (
	position             INTEGER NOT NULL PRIMARY KEY,
	partnership_id       TEXT    NOT NULL,
	version              INTEGER NOT NULL,
	event_id             TEXT    NOT NULL,
	current_municipality TEXT    NOT NULL,
	type                 TEXT    NOT NULL,
	occurred_at          TEXT    NOT NULL,
	summary              TEXT    NOT NULL,
	data                 BLOB    NOT NULL,
	names                TEXT    NOT NULL
) STRICT;`
}

// schemaPostgres is the same tables in PostgreSQL's types, sort keys
// compared bytewise (COLLATE "C") as in SQLite.
const schemaPostgres = `
CREATE TABLE {p}partnerships (
	current_municipality TEXT COLLATE "C" NOT NULL,
	started_at           TEXT COLLATE "C" NOT NULL,
	id                   TEXT COLLATE "C" NOT NULL,
	title                TEXT NOT NULL,
	service_area         TEXT NOT NULL,
	collaboration_model  TEXT NOT NULL,
	status               TEXT NOT NULL,
	ended_at             TEXT COLLATE "C",
	municipality         TEXT NOT NULL,
	PRIMARY KEY (current_municipality, started_at, id)
);
CREATE UNIQUE INDEX {p}partnerships_by_id ON {p}partnerships (id);
CREATE TABLE {p}states (
	id    TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	state BYTEA NOT NULL
);
CREATE TABLE {p}entries (
	position             BIGINT NOT NULL PRIMARY KEY,
	partnership_id       TEXT COLLATE "C" NOT NULL,
	version              BIGINT NOT NULL,
	event_id             TEXT   NOT NULL,
	current_municipality TEXT COLLATE "C" NOT NULL,
	type                 TEXT   NOT NULL,
	occurred_at          TEXT COLLATE "C" NOT NULL,
	summary              TEXT   NOT NULL,
	data                 BYTEA  NOT NULL,
	names                TEXT   NOT NULL
);`

// Indexes implements projections.Definition: the timeline's order of
// entries, and a partnership's entries for a page of lanes. The lanes'
// index by id is part of the schema: the writer's upserts need it.
func (Projection) Indexes(projections.Dialect) string {
	return `
CREATE INDEX IF NOT EXISTS {p}entries_by_municipality ON {p}entries (current_municipality, occurred_at, partnership_id, version);
CREATE INDEX IF NOT EXISTS {p}entries_by_partnership ON {p}entries (partnership_id, occurred_at, version);`
}

// StatesQuery implements projections.StateKeeper.
func (Projection) StatesQuery() string { return `SELECT id, state FROM {p}states WHERE id IN` }

const (
	insertEntries = `INSERT INTO {p}entries (position, event_id, partnership_id, current_municipality, type, occurred_at, version, summary, data, names) VALUES `

	upsertLanes = `
INSERT INTO {p}partnerships (id, current_municipality, title, service_area, collaboration_model, status, started_at, ended_at, municipality)
VALUES `
	upsertLanesTail = `
ON CONFLICT (id) DO UPDATE SET
	current_municipality = excluded.current_municipality, title = excluded.title,
	service_area = excluded.service_area, collaboration_model = excluded.collaboration_model,
	status = excluded.status, started_at = excluded.started_at, ended_at = excluded.ended_at,
	municipality = excluded.municipality`
)

// NewWriter implements projections.Definition.
func (Projection) NewWriter(ctx context.Context, db *sql.DB, t projections.Tables) (projections.Writer, error) {
	w := &writer{t: t}
	var err error
	if w.insertEntries, err = projections.NewMultiRow(ctx, db, t, insertEntries, "", 10); err != nil {
		return nil, err
	}
	if w.upsertLanes, err = projections.NewMultiRow(ctx, db, t, upsertLanes, upsertLanesTail, 9); err != nil {
		_ = w.Close()
		return nil, err
	}
	if w.upsertStates, err = projections.NewMultiRow(ctx, db, t, `INSERT INTO {p}states (id, state) VALUES `, ` ON CONFLICT (id) DO UPDATE SET state = excluded.state`, 2); err != nil {
		_ = w.Close()
		return nil, err
	}
	return w, nil
}

type writer struct {
	t                                        projections.Tables
	insertEntries, upsertLanes, upsertStates *projections.MultiRow
}

// entryRow is one row of the entries table.
type entryRow struct {
	eventID, partnershipID, municipality, eventType, occurredAt, summary, names string
	data                                                                        []byte
	version                                                                     uint64
}

// Write adds an entry per event (rewriting a partnership's entries after
// a correction: it deletes the entries the correction rewrites first,
// then inserts the new ones in position order) and stores each changed
// partnership's lane and state once.
func (w *writer) Write(ctx context.Context, tx *sql.Tx, page *projections.Page) error {
	entries := make(map[uint64]entryRow, len(page.Events))
	var deletes []any
	for _, f := range page.Events {
		if _, ok := f.Entry.Event.(partnership.EntryCorrected); ok {
			// A correction can retract or rewrite any earlier entry, and a
			// corrected initiation can even move the partnership to
			// another municipality: write its entries afresh.
			dropped, err := rewrite(entries, f)
			if err != nil {
				return err
			}
			deletes = append(deletes, dropped...)
			continue
		}
		r, err := newEntryRow(f.Next, f.Entry, partnerNames(f.Prev.Partners))
		if err != nil {
			return err
		}
		entries[f.Recorded.Position] = r
	}
	for len(deletes) > 0 {
		n := min(len(deletes), projections.RowsPerStatement)
		if _, err := tx.ExecContext(ctx, w.t.SQL(`DELETE FROM {p}entries WHERE position IN (`+projections.InList(n)+`)`), deletes[:n]...); err != nil {
			return fmt.Errorf("drop corrected timeline entries: %w", err)
		}
		deletes = deletes[n:]
	}
	positions := slices.Sorted(maps.Keys(entries))
	args := make([]any, 0, 10*len(positions))
	for _, p := range positions {
		r := entries[p]
		args = append(args, p, r.eventID, r.partnershipID, r.municipality, r.eventType, r.occurredAt, r.version, r.summary, r.data, r.names)
	}
	if err := w.insertEntries.Exec(ctx, tx, args); err != nil {
		return fmt.Errorf("store timeline entries: %w", err)
	}
	lanes := make([]any, 0, 9*len(page.Changed))
	states := make([]any, 0, 2*len(page.Changed))
	for _, c := range page.Changed {
		s := c.State
		lanes = append(lanes, s.ID, s.CurrentMunicipality, s.Title, s.ServiceArea, s.CollaborationModel,
			s.Status, projections.Sortable(s.StartedAt), projections.SortableOrNull(s.EndedAt), s.Municipality)
		states = append(states, s.ID, c.JSON)
	}
	if err := w.upsertLanes.Exec(ctx, tx, lanes); err != nil {
		return fmt.Errorf("store timeline partnerships: %w", err)
	}
	if err := w.upsertStates.Exec(ctx, tx, states); err != nil {
		return fmt.Errorf("store timeline states: %w", err)
	}
	return nil
}

// Close releases the prepared statements.
func (w *writer) Close() error {
	var errs []error
	for _, m := range []*projections.MultiRow{w.insertEntries, w.upsertLanes, w.upsertStates} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

// newEntryRow is the row of entry e of the partnership in state s; names
// are the partners' names by id before the event.
func newEntryRow(s partnership.State, e partnership.Entry, names map[string]string) (entryRow, error) {
	data, refs, err := kept(e.Event, names)
	if err != nil {
		return entryRow{}, fmt.Errorf("timeline entry %s: %w", e.EventID, err)
	}
	return entryRow{eventID: e.EventID, partnershipID: s.ID, municipality: s.CurrentMunicipality, eventType: e.Event.EventType(),
		occurredAt: projections.Sortable(e.OccurredAt), version: e.Version, summary: entrySummary(e.Event, names), data: data, names: refs}, nil
}

// rewrite replaces the partnership's entries with the events in force
// after correction f, from the stream the fold replayed (a correction is
// never folded without one). Every entry of the partnership sits at the
// position of one of its events up to f, so those positions are the
// entries to drop: from entries (the page's) and, returned, from the
// table (before the inserts).
func rewrite(entries map[uint64]entryRow, f projections.Folded) (deletes []any, err error) {
	if f.Stream == nil {
		return nil, fmt.Errorf("correction %s folded without its stream", f.Recorded.EventID)
	}
	effective, err := partnership.Effective(f.Stream.History.Entries(), partnership.View{})
	if err != nil {
		return nil, fmt.Errorf("resolve corrections of %s: %w", f.Recorded.StreamID, err)
	}
	for _, r := range f.Stream.Recorded {
		delete(entries, r.Position)
		deletes = append(deletes, r.Position)
	}
	names := partnership.PartnerNames(effective)
	for _, h := range effective {
		r, err := newEntryRow(f.Next, h, names)
		if err != nil {
			return nil, err
		}
		entries[f.Stream.Recorded[h.Version-1].Position] = r
	}
	return deletes, nil
}

func partnerNames(partners []partnership.Partner) map[string]string {
	names := make(map[string]string, len(partners))
	for _, p := range partners {
		names[p.PartnerID] = p.Name
	}
	return names
}
