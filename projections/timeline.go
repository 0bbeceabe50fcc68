package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// TimelineName is the name of the municipality timeline projection.
const TimelineName = "municipality_timeline"

// timeline keeps, per municipality (by today's code), its partnerships and
// their dated entries: one per event in force, corrections applied.
type timeline struct{}

func (timeline) Name() string       { return TimelineName }
func (timeline) SchemaVersion() int { return 1 }
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
CREATE TABLE {p}states (
	id    TEXT NOT NULL PRIMARY KEY,
	state BLOB NOT NULL
) STRICT, WITHOUT ROWID;
CREATE TABLE {p}entries (
	position             INTEGER NOT NULL PRIMARY KEY,
	partnership_id       TEXT    NOT NULL,
	version              INTEGER NOT NULL,
	event_id             TEXT    NOT NULL,
	current_municipality TEXT    NOT NULL,
	type                 TEXT    NOT NULL,
	occurred_at          TEXT    NOT NULL,
	summary              TEXT    NOT NULL
) STRICT;
CREATE INDEX {p}entries_by_partnership ON {p}entries (partnership_id, version);
CREATE INDEX {p}entries_by_municipality ON {p}entries (current_municipality, occurred_at, partnership_id, version);`
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
);
CREATE INDEX {p}entries_by_partnership ON {p}entries (partnership_id, version);
CREATE INDEX {p}entries_by_municipality ON {p}entries (current_municipality, occurred_at, partnership_id, version);`

func (timeline) NewWriter(ctx context.Context, db *sql.DB, t Tables, store eventstore.Store) (writer, error) {
	st, err := prepare(ctx, db, t,
		`SELECT state FROM {p}states WHERE id = ?`,
		upsertTimelinePartnership,
		`INSERT INTO {p}states (id, state) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET state = excluded.state`,
		`INSERT INTO {p}entries (position, event_id, partnership_id, current_municipality, type, occurred_at, version, summary) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		`DELETE FROM {p}entries WHERE partnership_id = ?`)
	if err != nil {
		return nil, err
	}
	return &timelineWriter{folder: newFolder(store, st[0]), statements: st, upsert: st[1], upsertState: st[2], insertEntry: st[3], dropEntries: st[4]}, nil
}

const upsertTimelinePartnership = `
INSERT INTO {p}partnerships (id, current_municipality, title, service_area, collaboration_model, status, started_at, ended_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	current_municipality = excluded.current_municipality, title = excluded.title,
	service_area = excluded.service_area, collaboration_model = excluded.collaboration_model,
	status = excluded.status, started_at = excluded.started_at, ended_at = excluded.ended_at`

type timelineWriter struct {
	*folder
	statements
	upsert, upsertState, insertEntry, dropEntries *sql.Stmt
}

// Apply adds an entry per event (rewriting a partnership's entries after a
// correction) and stores each changed partnership once.
func (w *timelineWriter) Apply(ctx context.Context, tx *sql.Tx, batch []eventstore.RecordedEvent) error {
	insert := tx.StmtContext(ctx, w.insertEntry)
	for _, e := range batch {
		f, err := w.fold(ctx, tx, e)
		if err != nil {
			return err
		}
		if _, ok := f.entry.Event.(partnership.EntryCorrected); ok {
			// A correction can retract or rewrite any earlier entry, and a
			// corrected initiation can even move the partnership to
			// another municipality: write its entries afresh.
			if err := w.rewriteEntries(ctx, tx, insert, e, f); err != nil {
				return err
			}
			continue
		}
		if err := w.insert(ctx, insert, e.Position, f.next, f.entry, partnerNames(f.prev.Partners)); err != nil {
			return err
		}
	}
	upsert, upsertState := tx.StmtContext(ctx, w.upsert), tx.StmtContext(ctx, w.upsertState)
	return w.flush(func(s partnership.State, state []byte) error {
		if _, err := upsert.ExecContext(ctx, s.ID, s.CurrentMunicipality, s.Title, s.ServiceArea, s.CollaborationModel,
			s.Status, sortable(s.StartedAt), nullableTime(s.EndedAt)); err != nil {
			return err
		}
		_, err := upsertState.ExecContext(ctx, s.ID, state)
		return err
	})
}

func (w *timelineWriter) insert(ctx context.Context, insert *sql.Stmt, position uint64, s partnership.State, e partnership.Entry, names map[string]string) error {
	_, err := insert.ExecContext(ctx, position, e.EventID, s.ID, s.CurrentMunicipality, e.Event.EventType(),
		sortable(e.OccurredAt), e.Version, entrySummary(e.Event, names))
	if err != nil {
		return fmt.Errorf("store timeline entry %s: %w", e.EventID, err)
	}
	return nil
}

// rewriteEntries replaces the partnership's entries with the events in
// force after correction e, from the stream the fold replayed (a
// correction is never folded without one).
func (w *timelineWriter) rewriteEntries(ctx context.Context, tx *sql.Tx, insert *sql.Stmt, e eventstore.RecordedEvent, f folded) error {
	if f.stream == nil {
		return fmt.Errorf("correction %s folded without its stream", e.EventID)
	}
	s := f.next
	effective, err := partnership.Effective(f.stream.entries, partnership.View{})
	if err != nil {
		return fmt.Errorf("resolve corrections of %s: %w", e.StreamID, err)
	}
	if _, err := tx.StmtContext(ctx, w.dropEntries).ExecContext(ctx, s.ID); err != nil {
		return fmt.Errorf("drop timeline entries of %s: %w", s.ID, err)
	}
	names := partnership.PartnerNames(effective)
	for _, h := range effective {
		if err := w.insert(ctx, insert, f.stream.recorded[h.Version-1].Position, s, h, names); err != nil {
			return err
		}
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
