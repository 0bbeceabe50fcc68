// Package summaries is the read model partnership_summaries: one row per
// partnership with its derived state (exactly what GET /partnerships/{id}
// shows), the columns lists filter on and a search text. It answers the
// partnership list, the municipality counts and the stats: those are
// aggregates over the same rows, computed at query time, so no second copy
// of per-partnership status can drift.
//
// Projection is its definition, which cmd hands to the projection engine
// (package projections); Queries answers from the active generation the
// engine names.
package summaries

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections"
)

// Name is the name of the partnership summaries projection.
const Name = "partnership_summaries"

// Projection defines the read model for the engine: one row per
// partnership, upserted with the state a page leaves it in.
type Projection struct{}

var (
	_ projections.Definition  = Projection{}
	_ projections.StateKeeper = Projection{}
)

// Name implements projections.Definition.
func (Projection) Name() string { return Name }

// SchemaVersion implements projections.Definition. Version 2: a rowid
// table (a row holds 1 to 3 KB of state JSON, which in a WITHOUT ROWID
// table spills into an overflow page that every update writes anew).
// Version 3: a stored state keeps its last dated day (partnership.Stored),
// which State.Next needs on a day of dated and timed entries. Version 4:
// the list sorts by title (title_key) and by last entry
// (last_occurred_at), and q finds organisation numbers.
func (Projection) SchemaVersion() int { return 4 }

// Tables implements projections.Definition.
func (Projection) Tables() []string { return []string{"summaries"} }

// Schema implements projections.Definition.
func (Projection) Schema(d projections.Dialect) string {
	if d == projections.Postgres {
		return schemaPostgres
	}
	return `
CREATE TABLE {p}summaries (
	id                   TEXT    NOT NULL PRIMARY KEY,
	current_municipality TEXT    NOT NULL,
	status               TEXT    NOT NULL,
	service_area         TEXT    NOT NULL,
	collaboration_model  TEXT    NOT NULL,
	started_at           TEXT    NOT NULL,
	ended_at             TEXT,
	last_occurred_at     TEXT    NOT NULL,
	title_key            BLOB    NOT NULL,
	goal_changes         INTEGER NOT NULL,
	search               TEXT    NOT NULL,
	state                BLOB    NOT NULL
) STRICT;`
}

// schemaPostgres is the same table in PostgreSQL's types. Keys and times
// that lists sort and page by compare bytewise (COLLATE "C", and bytea's
// order for the title's key), as in SQLite, so cursors mean the same on
// both.
const schemaPostgres = `
CREATE TABLE {p}summaries (
	id                   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	current_municipality TEXT COLLATE "C" NOT NULL,
	status               TEXT    NOT NULL,
	service_area         TEXT    NOT NULL,
	collaboration_model  TEXT    NOT NULL,
	started_at           TEXT COLLATE "C" NOT NULL,
	ended_at             TEXT COLLATE "C",
	last_occurred_at     TEXT COLLATE "C" NOT NULL,
	title_key            BYTEA   NOT NULL,
	goal_changes         INTEGER NOT NULL,
	search               TEXT    NOT NULL,
	state                BYTEA   NOT NULL
);`

// Indexes implements projections.Definition: the list's orders (Sorts),
// everywhere and within a municipality; each serves its order both ways
// (an index is read backwards for the other direction). The writer needs
// only the primary key.
func (Projection) Indexes(projections.Dialect) string {
	return `
CREATE INDEX IF NOT EXISTS {p}summaries_by_start ON {p}summaries (started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS {p}summaries_by_municipality ON {p}summaries (current_municipality, started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS {p}summaries_by_title ON {p}summaries (title_key, id);
CREATE INDEX IF NOT EXISTS {p}summaries_by_municipality_title ON {p}summaries (current_municipality, title_key, id);
CREATE INDEX IF NOT EXISTS {p}summaries_by_last_entry ON {p}summaries (last_occurred_at, id);
CREATE INDEX IF NOT EXISTS {p}summaries_by_municipality_last_entry ON {p}summaries (current_municipality, last_occurred_at, id);`
}

// StatesQuery implements projections.StateKeeper: the state column is the
// partnership's state at the generation's position.
func (Projection) StatesQuery() string { return `SELECT id, state FROM {p}summaries WHERE id IN` }

const (
	upsert = `
INSERT INTO {p}summaries (id, current_municipality, status, service_area, collaboration_model, started_at, ended_at, last_occurred_at, title_key, goal_changes, search, state)
VALUES `
	upsertTail = `
ON CONFLICT (id) DO UPDATE SET
	current_municipality = excluded.current_municipality, status = excluded.status,
	service_area = excluded.service_area, collaboration_model = excluded.collaboration_model,
	started_at = excluded.started_at, ended_at = excluded.ended_at,
	last_occurred_at = excluded.last_occurred_at, title_key = excluded.title_key,
	goal_changes = excluded.goal_changes, search = excluded.search, state = excluded.state`
)

// NewWriter implements projections.Definition.
func (Projection) NewWriter(ctx context.Context, db *sql.DB, t projections.Tables) (projections.Writer, error) {
	m, err := projections.NewMultiRow(ctx, db, t, upsert, upsertTail, columns)
	if err != nil {
		return nil, err
	}
	return writer{upsert: m, keys: newTitleKeys()}, nil
}

// columns is the number of values of a summary row.
const columns = 12

type writer struct {
	upsert *projections.MultiRow
	keys   *titleKeys
}

// Write upserts one row per partnership the page changed.
func (w writer) Write(ctx context.Context, tx *sql.Tx, page *projections.Page) error {
	rows := make([]any, 0, columns*len(page.Changed))
	for _, c := range page.Changed {
		s := c.State
		rows = append(rows, s.ID, s.CurrentMunicipality, s.Status, s.ServiceArea, s.CollaborationModel,
			projections.Sortable(s.StartedAt), projections.SortableOrNull(s.EndedAt), projections.Sortable(s.LastOccurredAt),
			w.keys.of(s.Title), s.GoalChanges, searchText(s), c.JSON)
	}
	if err := w.upsert.Exec(ctx, tx, rows); err != nil {
		return fmt.Errorf("store summaries: %w", err)
	}
	return nil
}

// Close releases the prepared statement.
func (w writer) Close() error { return w.upsert.Close() }

// searchText is what the list's q matches (searchNeedle): title and
// partner names, lower case (SQLite's lower() knows only ASCII; Go's knows
// æ, ø and å), and the partners' organisation numbers as their nine
// digits, one a line so that no match spans two.
func searchText(s partnership.State) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(s.Title))
	for _, p := range s.Partners {
		b.WriteByte('\n')
		b.WriteString(strings.ToLower(p.Name))
	}
	for _, p := range s.Partners {
		if p.OrgNo != "" {
			b.WriteByte('\n')
			b.WriteString(p.OrgNo)
		}
	}
	return b.String()
}
