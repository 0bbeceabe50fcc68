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
	"io/fs"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/samspill/samspill/internal/migrate"
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

// Store is a small store's part in Open.
type Store struct {
	// Name names the store in the migration lock's key ("auth/postgres").
	Name string
	// Application names its connections in pg_stat_activity unless the
	// connection string does.
	Application string
	// Migrations holds its SQL migrations in the folder migrations
	// (internal/migrate), whose versions go to VersionTable.
	Migrations   fs.FS
	VersionTable string
	// MaxConns bounds its pool unless the connection string does.
	MaxConns int32
}

// Open makes a pool for connString (a URL or key=value pairs, as pgx reads
// them; pool_max_conns and the other pgxpool settings work too) for the
// store st, and brings the store's tables in the current schema up to its
// migrations (internal/migrate), under an advisory lock keyed on the
// store's name and that schema: the key the store took before it had
// migrations, so instances of older binaries wait too.
func Open(ctx context.Context, connString string, st Store) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("parse connection string: %w", err)
	}
	// Every instance opens several pools on one server: small ones keep
	// a few instances well inside max_connections.
	if !strings.Contains(connString, "pool_max_conns") {
		cfg.MaxConns = st.MaxConns
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = connectTimeout
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = st.Application
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect: %w", err)
	}
	if err := migrateSchema(ctx, pool, cfg.ConnConfig, st); err != nil {
		pool.Close()
		return nil, fmt.Errorf("schema: %w", err)
	}
	return pool, nil
}

// migrateSchema checks that the connections have a current schema and
// migrates the store's tables in it, on connections of their own.
func migrateSchema(ctx context.Context, pool *pgxpool.Pool, cc *pgx.ConnConfig, st Store) error {
	var current *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&current); err != nil {
		return err
	}
	if current == nil {
		return errors.New("no schema to create the tables in: the search_path names none that exists")
	}
	db := stdlib.OpenDB(*cc.Copy())
	defer db.Close()
	_, err := migrate.Up(ctx, db, migrate.Postgres, migrate.Config{
		Migrations: st.Migrations,
		Table:      st.VersionTable,
		Stamp:      func() string { return time.Now().UTC().Format(time.RFC3339) },
		LockKey:    "samspill " + st.Name + " %s",
	})
	if err != nil {
		return fmt.Errorf("create tables in schema %s: %w", *current, err)
	}
	return nil
}
