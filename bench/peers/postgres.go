package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"

	hsql "github.com/hallgren/eventsourcing/eventstore/sql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for the peer

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/postgres"
	"github.com/samspill/samspill/internal/pgtest"
)

// postgresBackend puts every store in a new schema of server's database,
// dropped when the store closes.
func postgresBackend(server string) backend {
	return backend{
		name: "postgres",
		writers: map[string]func(context.Context) (writer, error){
			sideSamspill: func(ctx context.Context) (writer, error) {
				st, err := openSamspillPostgres(ctx, server)
				if err != nil {
					return nil, err
				}
				return st, nil
			},
			sideHallgren: func(ctx context.Context) (writer, error) {
				return openHallgrenPostgres(ctx, server)
			},
			sideRaw: func(ctx context.Context) (writer, error) {
				return openRawPostgres(ctx, server)
			},
		},
		readers: func(ctx context.Context, c config, streams []string) (map[string]reader, error) {
			ours, err := openSamspillPostgres(ctx, server)
			if err != nil {
				return nil, err
			}
			ours.page = c.page
			out := map[string]reader{sideSamspill: ours}
			fail := func(err error) (map[string]reader, error) {
				for _, r := range out {
					_ = r.close()
				}
				return nil, err
			}
			if err := fillParallel(ctx, streams, func(ctx context.Context, s string) error { return ours.fill(ctx, s, c.perStream) }); err != nil {
				return fail(err)
			}
			peer, err := openHallgrenPostgres(ctx, server)
			if err != nil {
				return fail(err)
			}
			out[sideHallgren] = peer
			if err := fillParallel(ctx, streams, func(ctx context.Context, s string) error { return peer.fill(ctx, s, c.perStream) }); err != nil {
				return fail(err)
			}
			pool, err := pgxpool.New(ctx, ours.url)
			if err != nil {
				return fail(err)
			}
			out[sideRaw] = &rawPostgresReader{pool: pool}
			return out, nil
		},
	}
}

// schema makes a new schema on server and returns a connection string
// whose search_path is it, and a function that drops it.
func schema(ctx context.Context, server string) (string, func() error, error) {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "samspill_peers_" + hex.EncodeToString(b[:])
	exec := func(ctx context.Context, stmt string) error {
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, stmt)
		return err
	}
	if err := exec(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func() error { return exec(context.Background(), "DROP SCHEMA "+name+" CASCADE") }
	url, err := pgtest.WithSearchPath(server, name)
	if err != nil {
		_ = drop()
		return "", nil, err
	}
	return url, drop, nil
}

// samspillPostgres is samspill's PostgreSQL store in a schema of its own.
type samspillPostgres struct {
	samspillSide
	url  string
	drop func() error
}

func openSamspillPostgres(ctx context.Context, server string) (*samspillPostgres, error) {
	url, drop, err := schema(ctx, server)
	if err != nil {
		return nil, err
	}
	st, err := postgres.Open(ctx, url)
	if err != nil {
		_ = drop()
		return nil, err
	}
	return &samspillPostgres{samspillSide: samspillSide{store: st}, url: url, drop: drop}, nil
}

func (s *samspillPostgres) close() error {
	err := s.samspillSide.close()
	if derr := s.drop(); err == nil {
		err = derr
	}
	return err
}

// openHallgrenPostgres opens the peer's Postgres store in a new schema,
// through pgx's database/sql driver (the peer's own tests use lib/pq).
func openHallgrenPostgres(ctx context.Context, server string) (*hallgrenSide, error) {
	url, drop, err := schema(ctx, server)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		_ = drop()
		return nil, err
	}
	db.SetMaxOpenConns(64)
	db.SetMaxIdleConns(64)
	st, err := hsql.NewPostgres(db)
	if err != nil {
		_ = db.Close()
		_ = drop()
		return nil, err
	}
	return &hallgrenSide{store: st, drop: drop}, nil
}

// rawPostgresWriter is the append baseline: one autocommit INSERT into a
// plain table (a bigserial position, a stream id, the payload) per event.
type rawPostgresWriter struct {
	pool *pgxpool.Pool
	drop func() error
}

func openRawPostgres(ctx context.Context, server string) (*rawPostgresWriter, error) {
	url, drop, err := schema(ctx, server)
	if err != nil {
		return nil, err
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		_ = drop()
		return nil, err
	}
	cfg.MaxConns = 64
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err == nil {
		_, err = pool.Exec(ctx, `CREATE TABLE raw (position BIGSERIAL PRIMARY KEY, stream_id TEXT NOT NULL, data TEXT NOT NULL)`)
	}
	if err != nil {
		if pool != nil {
			pool.Close()
		}
		_ = drop()
		return nil, err
	}
	return &rawPostgresWriter{pool: pool, drop: drop}, nil
}

func (r *rawPostgresWriter) appendOne(ctx context.Context, stream string, _ uint64, e eventstore.NewEvent) error {
	_, err := r.pool.Exec(ctx, `INSERT INTO raw (stream_id, data) VALUES ($1, $2)`, stream, string(e.Data))
	return err
}

func (r *rawPostgresWriter) close() error {
	r.pool.Close()
	return r.drop()
}

// rawPostgresReader is the read baseline on PostgreSQL: plain SELECTs of
// samspill's events table through pgx, every column scanned into a Go
// value, nothing decoded. The samspill side drops the schema.
type rawPostgresReader struct {
	pool *pgxpool.Pool
}

func (r *rawPostgresReader) scan(ctx context.Context) (int, error) {
	return r.query(ctx, `SELECT `+eventColumns+` FROM events ORDER BY position`)
}

func (r *rawPostgresReader) load(ctx context.Context, stream string) (int, error) {
	return r.query(ctx, `SELECT `+eventColumns+` FROM events WHERE stream_id = $1 ORDER BY version`, stream)
}

func (r *rawPostgresReader) query(ctx context.Context, query string, args ...any) (int, error) {
	rows, err := r.pool.Query(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var (
		n                                                      int
		position, version, schema                              int64
		eventID, streamID, typ, occurred, recorded, meta, data string
	)
	for rows.Next() {
		if err := rows.Scan(&position, &eventID, &streamID, &version, &typ, &schema, &occurred, &recorded, &meta, &data); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

func (r *rawPostgresReader) close() error {
	r.pool.Close()
	return nil
}
