// Package pgdb opens the small PostgreSQL stores that every samspill
// instance shares (tokens, personal-data keys): a pgx pool with a connect
// timeout and an application name, and the store's tables created in the
// connection's current schema under an advisory lock, so that instances
// starting at the same time do not trip over each other (concurrent
// CREATE TABLE IF NOT EXISTS fails on pg_type's unique index otherwise).
// It also reads the one server error every samspill store in PostgreSQL
// must read the same way: a write refused for lack of space (DiskFull).
package pgdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// DiskFull reports whether err is PostgreSQL refusing a statement for lack
// of disk space: SQLSTATE 53100 disk_full, which the server raises (an
// ERROR: the transaction is rolled back, nothing of it is stored) when a
// table, index or temporary file cannot grow because write(2) or
// fallocate(2) failed with ENOSPC ("could not extend file ...: No space
// left on device"). The rest of class 53 is not a lack of space: 53200
// out_of_memory and 53000 insufficient_resources are the server's memory
// and other resources for one statement, 53300 and 53400 its connection
// and configuration limits. A full WAL disk is no error at all: the server
// stops (PANIC) and restarts, which clients see as a lost connection.
func DiskFull(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "53100"
}

// connectTimeout bounds each connection attempt when the connection string
// sets none.
const connectTimeout = 10 * time.Second

// Open makes a pool for connString (a URL or key=value pairs, as pgx reads
// them; pool_max_conns and the other pgxpool settings work too) of at most
// maxConns connections unless the string says otherwise, names its
// connections application in pg_stat_activity unless the string does, and
// runs schema (idempotent statements) in the current schema under an
// advisory lock keyed on name and that schema.
func Open(ctx context.Context, connString, application, name, schema string, maxConns int32) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parse connection string: %w", err)
	}
	// Every instance opens several pools on one server: small ones keep
	// a few instances well inside max_connections.
	if !strings.Contains(connString, "pool_max_conns") {
		cfg.MaxConns = maxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = application
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var current *string
		if err := tx.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
			return err
		}
		if current == nil {
			return errors.New("no schema to create the tables in: the search_path names none that exists")
		}
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, "samspill "+name+" "+*current); err != nil {
			return fmt.Errorf("lock schema %s: %w", *current, err)
		}
		if _, err := tx.Exec(ctx, schema); err != nil {
			return fmt.Errorf("create tables in schema %s: %w", *current, err)
		}
		return nil
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("schema: %w", err)
	}
	return pool, nil
}
