package projections

import (
	"context"
	"database/sql"
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

func (summaries) Name() string       { return SummariesName }
func (summaries) SchemaVersion() int { return 1 }
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
) STRICT, WITHOUT ROWID;
CREATE INDEX {p}summaries_by_start ON {p}summaries (started_at DESC, id DESC);
CREATE INDEX {p}summaries_by_municipality ON {p}summaries (current_municipality, started_at DESC, id DESC);`
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
);
CREATE INDEX {p}summaries_by_start ON {p}summaries (started_at DESC, id DESC);
CREATE INDEX {p}summaries_by_municipality ON {p}summaries (current_municipality, started_at DESC, id DESC);`

func (summaries) NewWriter(ctx context.Context, db *sql.DB, t Tables, store eventstore.Store) (writer, error) {
	st, err := prepare(ctx, db, t, `SELECT state FROM {p}summaries WHERE id = ?`, upsertSummary)
	if err != nil {
		return nil, err
	}
	return &summaryWriter{folder: newFolder(store, st[0]), statements: st, upsert: st[1]}, nil
}

const upsertSummary = `
INSERT INTO {p}summaries (id, current_municipality, status, service_area, collaboration_model, started_at, ended_at, goal_changes, search, state)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
	current_municipality = excluded.current_municipality, status = excluded.status,
	service_area = excluded.service_area, collaboration_model = excluded.collaboration_model,
	started_at = excluded.started_at, ended_at = excluded.ended_at,
	goal_changes = excluded.goal_changes, search = excluded.search, state = excluded.state`

type summaryWriter struct {
	*folder
	statements
	upsert *sql.Stmt
}

// Apply folds the batch and stores each changed partnership once.
func (w *summaryWriter) Apply(ctx context.Context, tx *sql.Tx, batch []eventstore.RecordedEvent) error {
	for _, e := range batch {
		if _, err := w.fold(ctx, tx, e); err != nil {
			return err
		}
	}
	upsert := tx.StmtContext(ctx, w.upsert)
	return w.flush(func(s partnership.State, state []byte) error {
		_, err := upsert.ExecContext(ctx, s.ID, s.CurrentMunicipality, s.Status, s.ServiceArea, s.CollaborationModel,
			sortable(s.StartedAt), nullableTime(s.EndedAt), s.GoalChanges, searchText(s), state)
		return err
	})
}

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
