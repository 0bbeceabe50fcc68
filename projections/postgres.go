package projections

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Sizes and intervals of the PostgreSQL read models.
const (
	// postgresConns bounds the pool queries and batches share.
	postgresConns = 8
	// leaseCheck is how often a leader makes sure its lease's session is
	// alive; a leader that cannot tell stops within about this long.
	leaseCheck = time.Second
)

// OpenPostgres opens the read models in the PostgreSQL database that
// connString names, in its current schema (search_path), creating the
// catalog if needed. Several samspill instances may open the same schema:
// for each projection, one of them at a time runs it (a session-level
// advisory lock, released by PostgreSQL when that instance's connection
// ends, so another takes over when it dies), and every one answers queries
// from the same tables. The catalog is created under a transaction-level
// advisory lock, so instances starting together do not race.
func OpenPostgres(ctx context.Context, connString string) (*DB, error) {
	pool, err := sql.Open("pgx", connString)
	if err != nil {
		return nil, fmt.Errorf("open read models in PostgreSQL: %w", err)
	}
	pool.SetMaxOpenConns(postgresConns)
	pool.SetMaxIdleConns(postgresConns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	db := &DB{w: pool, r: pool, dialect: Postgres, leases: pgLeaser{connString: connString}, close: pool.Close}
	if err := db.migratePostgres(ctx); err != nil {
		_ = pool.Close()
		return nil, fmt.Errorf("open read models in PostgreSQL: %w", err)
	}
	return db, nil
}

// advisoryKey is the SQL of the advisory-lock key for a name: one key
// space per schema, so installations (and tests) sharing a database do not
// block each other.
const advisoryKey = `hashtextextended(current_schema() || '/samspill-readmodels/' || ?, 0)`

func (db *DB) migratePostgres(ctx context.Context) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, db.q(`SELECT pg_advisory_xact_lock(`+advisoryKey+`)`), "catalog"); err != nil {
		return fmt.Errorf("lock the catalog: %w", err)
	}
	if _, err := tx.ExecContext(ctx, postgresCatalog); err != nil {
		return fmt.Errorf("create catalog: %w", err)
	}
	return tx.Commit()
}

// postgresCatalog is sqliteCatalog in PostgreSQL's types.
const postgresCatalog = `
CREATE TABLE IF NOT EXISTS projection_generations (
	name       TEXT    NOT NULL,
	generation INTEGER NOT NULL,
	schema     INTEGER NOT NULL,
	position   BIGINT  NOT NULL DEFAULT 0,
	active     BOOLEAN NOT NULL DEFAULT false,
	created_at TEXT    NOT NULL,
	PRIMARY KEY (name, generation)
);
CREATE TABLE IF NOT EXISTS projection_leaders (
	name     TEXT NOT NULL PRIMARY KEY,
	instance TEXT NOT NULL,
	since    TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS projection_failures (
	name       TEXT    NOT NULL,
	generation INTEGER NOT NULL,
	error      TEXT    NOT NULL,
	at         TEXT    NOT NULL,
	PRIMARY KEY (name, generation)
);
CREATE TABLE IF NOT EXISTS projection_rebuild_requests (
	name         TEXT NOT NULL PRIMARY KEY,
	requested_by TEXT NOT NULL,
	requested_at TEXT NOT NULL
);`

// pgLeaser leases projections through session-level advisory locks, each
// on a connection of its own (not one of the pool's, which would keep the
// lock when returned to the pool).
type pgLeaser struct {
	connString string
}

func (l pgLeaser) tryAcquire(ctx context.Context, name string) (lease, error) {
	conn, err := pgx.Connect(ctx, l.connString)
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	var held bool
	if err := conn.QueryRow(ctx, Postgres.bind(`SELECT pg_try_advisory_lock(`+advisoryKey+`)`), "projection/"+name).Scan(&held); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("lease %s: %w", name, err)
	}
	if !held {
		_ = conn.Close(context.Background())
		return nil, nil
	}
	pl := &pgLease{conn: conn, lostCh: make(chan struct{}), stop: make(chan struct{}), done: make(chan struct{})}
	go pl.watch()
	return pl, nil
}

// pgLease is a held advisory lock: it lasts as long as its session.
type pgLease struct {
	conn     *pgx.Conn
	lostCh   chan struct{}
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// watch pings the session every leaseCheck and reports the lease lost
// when a ping fails.
func (l *pgLease) watch() {
	defer close(l.done)
	tick := time.NewTicker(leaseCheck)
	defer tick.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-tick.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), leaseCheck)
		err := l.conn.Ping(ctx)
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			close(l.lostCh)
			return
		}
	}
}

func (l *pgLease) lost() <-chan struct{} { return l.lostCh }

// release unlocks, then ends the session. Unlocking first matters: a
// closed session's locks go only when its server process has exited,
// which happens after Close returns, so an instance (or the CLI) asking
// right after could still be refused. When the unlock fails the session
// is broken, and its end releases the lock.
func (l *pgLease) release() {
	l.stopOnce.Do(func() {
		close(l.stop)
		<-l.done
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, _ = l.conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`)
		_ = l.conn.Close(ctx)
	})
}
