package projections

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// SummariesName is the name of the partnership summaries projection. It
// answers the partnership list, the municipality counts and the stats.
const SummariesName = "partnership_summaries"

// sortableTime formats times so that text order is time order.
const sortableTime = "2006-01-02T15:04:05.000000000Z"

func sortable(t time.Time) string { return t.UTC().Format(sortableTime) }

// summaries keeps one row per partnership: its derived state (as
// GET /partnerships/{id} shows it) and the columns lists filter on.
type summaries struct{}

func (summaries) Name() string { return SummariesName }

// SchemaVersion 2: a rowid table (a row holds 1 to 3 KB of state JSON,
// which in a WITHOUT ROWID table spills into an overflow page that every
// update writes anew).
func (summaries) SchemaVersion() int { return 2 }
func (summaries) Tables() []string   { return []string{"summaries"} }

func (summaries) Schema(d dialect) string {
	if d.numbered {
		return summariesPostgres
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
	goal_changes         INTEGER NOT NULL,
	search               TEXT    NOT NULL,
	state                BLOB    NOT NULL
) STRICT;`
}

// Indexes are the lists' orders; the writer needs only the primary key.
func (summaries) Indexes(dialect) string {
	return `
CREATE INDEX IF NOT EXISTS {p}summaries_by_start ON {p}summaries (started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS {p}summaries_by_municipality ON {p}summaries (current_municipality, started_at DESC, id DESC);`
}

// summariesPostgres is the same table in PostgreSQL's types. Keys and
// times that lists sort and page by compare bytewise (COLLATE "C"), as in
// SQLite, so cursors mean the same on both.
const summariesPostgres = `
CREATE TABLE {p}summaries (
	id                   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
	current_municipality TEXT COLLATE "C" NOT NULL,
	status               TEXT    NOT NULL,
	service_area         TEXT    NOT NULL,
	collaboration_model  TEXT    NOT NULL,
	started_at           TEXT COLLATE "C" NOT NULL,
	ended_at             TEXT COLLATE "C",
	goal_changes         INTEGER NOT NULL,
	search               TEXT    NOT NULL,
	state                BYTEA   NOT NULL
);`

func (summaries) NewWriter(ctx context.Context, db *DB, t Tables, store eventstore.Store) (writer, error) {
	upsert, err := newMultiRow(ctx, db.w, t, upsertSummaries, upsertSummariesTail, 10)
	if err != nil {
		return nil, err
	}
	return &summaryWriter{folder: newFolder(store, t.SQL(`SELECT id, state FROM {p}summaries WHERE id IN`)), upsert: upsert}, nil
}

const (
	upsertSummaries = `
INSERT INTO {p}summaries (id, current_municipality, status, service_area, collaboration_model, started_at, ended_at, goal_changes, search, state)
VALUES `
	upsertSummariesTail = `
ON CONFLICT (id) DO UPDATE SET
	current_municipality = excluded.current_municipality, status = excluded.status,
	service_area = excluded.service_area, collaboration_model = excluded.collaboration_model,
	started_at = excluded.started_at, ended_at = excluded.ended_at,
	goal_changes = excluded.goal_changes, search = excluded.search, state = excluded.state`
)

type summaryWriter struct {
	*folder
	upsert *multiRow
}

// Fold folds the batch into one upsert per changed partnership.
func (w *summaryWriter) Fold(ctx context.Context, db *DB, batch []eventstore.RecordedEvent) (func(context.Context, *sql.Tx) error, error) {
	if err := w.begin(ctx, db, batch); err != nil {
		return nil, err
	}
	for _, e := range batch {
		if _, err := w.fold(ctx, e); err != nil {
			return nil, err
		}
	}
	changed, err := w.changed()
	if err != nil {
		return nil, err
	}
	rows := make([]any, 0, 10*len(changed))
	for _, c := range changed {
		s := c.state
		rows = append(rows, s.ID, s.CurrentMunicipality, s.Status, s.ServiceArea, s.CollaborationModel,
			sortable(s.StartedAt), nullableTime(s.EndedAt), s.GoalChanges, searchText(s), c.json)
	}
	return func(ctx context.Context, tx *sql.Tx) error {
		if err := w.upsert.exec(ctx, tx, rows); err != nil {
			return fmt.Errorf("store summaries: %w", err)
		}
		return nil
	}, nil
}

// Close releases the prepared statement.
func (w *summaryWriter) Close() error { return w.upsert.Close() }

// searchText is what the list's q matches: title and partner names, lower
// case (SQLite's lower() knows only ASCII; Go's knows æ, ø and å).
func searchText(s partnership.State) string {
	var b strings.Builder
	b.WriteString(strings.ToLower(s.Title))
	for _, p := range s.Partners {
		b.WriteByte('\n')
		b.WriteString(strings.ToLower(p.Name))
	}
	return b.String()
}

func nullableTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return sortable(*t)
}
