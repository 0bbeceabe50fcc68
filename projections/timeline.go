package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// TimelineName is the name of the municipality timeline projection.
const TimelineName = "municipality_timeline"

// timeline keeps, per municipality (by today's code), its partnerships and
// their dated entries: one per event in force, corrections applied.
type timeline struct{}

func (timeline) Name() string { return TimelineName }

// SchemaVersion 2: entries lost their index by partnership (a correction
// deletes a partnership's entries by the positions of its events), states
// became a rowid table.
func (timeline) SchemaVersion() int { return 2 }
func (timeline) Tables() []string   { return []string{"partnerships", "states", "entries"} }

func (timeline) Schema(d dialect) string {
	if d.numbered {
		return timelinePostgres
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
	summary              TEXT    NOT NULL
) STRICT;`
}

// Indexes is the timeline's order of entries. The lanes' index by id is
// part of the schema: the writer's upserts need it.
func (timeline) Indexes(dialect) string {
	return `
CREATE INDEX IF NOT EXISTS {p}entries_by_municipality ON {p}entries (current_municipality, occurred_at, partnership_id, version);`
}

// timelinePostgres is the same tables in PostgreSQL's types, sort keys
// compared bytewise (COLLATE "C") as in SQLite.
const timelinePostgres = `
CREATE TABLE {p}partnerships (
	current_municipality TEXT COLLATE "C" NOT NULL,
	started_at           TEXT COLLATE "C" NOT NULL,
	id                   TEXT COLLATE "C" NOT NULL,
	title                TEXT NOT NULL,
	service_area         TEXT NOT NULL,
	collaboration_model  TEXT NOT NULL,
	status               TEXT NOT NULL,
	ended_at             TEXT COLLATE "C",
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
	summary              TEXT   NOT NULL
);`

func (timeline) NewWriter(ctx context.Context, db *DB, t Tables, store eventstore.Store) (writer, error) {
	w := &timelineWriter{folder: newFolder(store, t.SQL(`SELECT id, state FROM {p}states WHERE id IN`)), t: t}
	var err error
	if w.insertEntries, err = newMultiRow(ctx, db.w, t, insertEntries, "", 8); err != nil {
		return nil, err
	}
	if w.upsertLanes, err = newMultiRow(ctx, db.w, t, upsertTimelinePartnerships, upsertTimelinePartnershipsTail, 8); err != nil {
		_ = w.Close()
		return nil, err
	}
	if w.upsertStates, err = newMultiRow(ctx, db.w, t, `INSERT INTO {p}states (id, state) VALUES `, ` ON CONFLICT (id) DO UPDATE SET state = excluded.state`, 2); err != nil {
		_ = w.Close()
		return nil, err
	}
	return w, nil
}

const (
	insertEntries = `INSERT INTO {p}entries (position, event_id, partnership_id, current_municipality, type, occurred_at, version, summary) VALUES `

	upsertTimelinePartnerships = `
INSERT INTO {p}partnerships (id, current_municipality, title, service_area, collaboration_model, status, started_at, ended_at)
VALUES `
	upsertTimelinePartnershipsTail = `
ON CONFLICT (id) DO UPDATE SET
	current_municipality = excluded.current_municipality, title = excluded.title,
	service_area = excluded.service_area, collaboration_model = excluded.collaboration_model,
	status = excluded.status, started_at = excluded.started_at, ended_at = excluded.ended_at`
)

type timelineWriter struct {
	*folder
	t                                        Tables
	insertEntries, upsertLanes, upsertStates *multiRow
}

// entryRow is one row of the entries table.
type entryRow struct {
	eventID, partnershipID, municipality, eventType, occurredAt, summary string
	version                                                              uint64
}

// timelineRows is what one batch writes: the entries to insert by
// position, the positions whose stored entries corrections rewrite
// (deleted first), and the values of the lanes' and states' upserts.
type timelineRows struct {
	entries       map[uint64]entryRow
	deletes       []any
	lanes, states []any
}

// Fold adds an entry per event (rewriting a partnership's entries after a
// correction) and one lane and state per changed partnership.
func (w *timelineWriter) Fold(ctx context.Context, db *DB, batch []eventstore.RecordedEvent) (func(context.Context, *sql.Tx) error, error) {
	if err := w.begin(ctx, db, batch); err != nil {
		return nil, err
	}
	rows := &timelineRows{entries: make(map[uint64]entryRow, len(batch))}
	for _, e := range batch {
		f, err := w.fold(ctx, e)
		if err != nil {
			return nil, err
		}
		if _, ok := f.entry.Event.(partnership.EntryCorrected); ok {
			// A correction can retract or rewrite any earlier entry, and a
			// corrected initiation can even move the partnership to
			// another municipality: write its entries afresh.
			if err := rows.rewrite(e, f); err != nil {
				return nil, err
			}
			continue
		}
		rows.entries[e.Position] = newEntryRow(f.next, f.entry, partnerNames(f.prev.Partners))
	}
	changed, err := w.changed()
	if err != nil {
		return nil, err
	}
	rows.lanes = make([]any, 0, 8*len(changed))
	rows.states = make([]any, 0, 2*len(changed))
	for _, c := range changed {
		s := c.state
		rows.lanes = append(rows.lanes, s.ID, s.CurrentMunicipality, s.Title, s.ServiceArea, s.CollaborationModel,
			s.Status, sortable(s.StartedAt), nullableTime(s.EndedAt))
		rows.states = append(rows.states, s.ID, c.json)
	}
	return func(ctx context.Context, tx *sql.Tx) error { return w.write(ctx, tx, rows) }, nil
}

// write deletes the entries corrections rewrite, inserts the new ones in
// position order, and stores each changed partnership once.
func (w *timelineWriter) write(ctx context.Context, tx *sql.Tx, rows *timelineRows) error {
	for deletes := rows.deletes; len(deletes) > 0; {
		n := min(len(deletes), rowsPerStatement)
		if _, err := tx.ExecContext(ctx, w.t.SQL(`DELETE FROM {p}entries WHERE position IN (`+inList(n)+`)`), deletes[:n]...); err != nil {
			return fmt.Errorf("drop corrected timeline entries: %w", err)
		}
		deletes = deletes[n:]
	}
	positions := slices.Sorted(maps.Keys(rows.entries))
	args := make([]any, 0, 8*len(positions))
	for _, p := range positions {
		r := rows.entries[p]
		args = append(args, p, r.eventID, r.partnershipID, r.municipality, r.eventType, r.occurredAt, r.version, r.summary)
	}
	if err := w.insertEntries.exec(ctx, tx, args); err != nil {
		return fmt.Errorf("store timeline entries: %w", err)
	}
	if err := w.upsertLanes.exec(ctx, tx, rows.lanes); err != nil {
		return fmt.Errorf("store timeline partnerships: %w", err)
	}
	if err := w.upsertStates.exec(ctx, tx, rows.states); err != nil {
		return fmt.Errorf("store timeline states: %w", err)
	}
	return nil
}

// Close releases the prepared statements.
func (w *timelineWriter) Close() error {
	var errs []error
	for _, m := range []*multiRow{w.insertEntries, w.upsertLanes, w.upsertStates} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

func newEntryRow(s partnership.State, e partnership.Entry, names map[string]string) entryRow {
	return entryRow{eventID: e.EventID, partnershipID: s.ID, municipality: s.CurrentMunicipality, eventType: e.Event.EventType(),
		occurredAt: sortable(e.OccurredAt), version: e.Version, summary: entrySummary(e.Event, names)}
}

// rewrite replaces the partnership's entries with the events in force
// after correction e, from the stream the fold replayed (a correction is
// never folded without one). Every entry of the partnership sits at the
// position of one of its events up to e, so those positions are the
// entries to drop: from the table (before the inserts) and from the
// entries this batch holds.
func (rows *timelineRows) rewrite(e eventstore.RecordedEvent, f folded) error {
	if f.stream == nil {
		return fmt.Errorf("correction %s folded without its stream", e.EventID)
	}
	s := f.next
	effective, err := partnership.Effective(f.stream.entries, partnership.View{})
	if err != nil {
		return fmt.Errorf("resolve corrections of %s: %w", e.StreamID, err)
	}
	for _, r := range f.stream.recorded {
		delete(rows.entries, r.Position)
		rows.deletes = append(rows.deletes, r.Position)
	}
	names := partnership.PartnerNames(effective)
	for _, h := range effective {
		rows.entries[f.stream.recorded[h.Version-1].Position] = newEntryRow(s, h, names)
	}
	return nil
}

func partnerNames(partners []partnership.Partner) map[string]string {
	names := make(map[string]string, len(partners))
	for _, p := range partners {
		names[p.PartnerID] = p.Name
	}
	return names
}

// entrySummary is the one line a timeline shows for an event. It never
// holds personal data: a contact person is shown by the partner only.
func entrySummary(ev partnership.Event, names map[string]string) string {
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	switch e := ev.(type) {
	case partnership.PartnershipInitiated:
		return "Initiated: " + e.Title
	case partnership.PartnerJoined:
		return e.Partner.Name + " joined"
	case partnership.PartnerLeft:
		return withReason(name(e.PartnerID)+" left", e.Reason)
	case partnership.RolesAgreed:
		roles := make([]string, len(e.Roles))
		for i, r := range e.Roles {
			roles[i] = name(r.PartnerID) + " (" + r.Role + ")"
		}
		return "Roles agreed: " + strings.Join(roles, ", ")
	case partnership.GoalChanged:
		return withReason(fmt.Sprintf("Goals changed (%d goals)", len(e.Goals)), e.Reason)
	case partnership.AgreementSigned:
		return withReason("Agreement signed: "+e.AgreementType, e.Reference)
	case partnership.FundingRecorded:
		return fmt.Sprintf("Funding: NOK %d from %s", e.AmountNOK, e.Source)
	case partnership.AnchoringChanged:
		return "Anchoring: " + e.Level
	case partnership.MilestoneLogged:
		return e.Kind + ": " + e.Title
	case partnership.ContactPersonAssigned:
		return "Contact person assigned for " + name(e.PartnerID)
	case partnership.PartnershipPaused:
		return withReason("Paused", e.Reason)
	case partnership.PartnershipResumed:
		return withReason("Resumed", e.Reason)
	case partnership.PartnershipEnded:
		return "Ended: " + e.Reason
	}
	return ev.EventType()
}

func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + ": " + reason
}
