package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync/atomic"

	hsql "github.com/hallgren/eventsourcing/eventstore/sql"
	_ "modernc.org/sqlite" // the driver samspill uses, for the peer and the raw baselines too

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
)

// sqliteParams are samspill's own settings of its write connection (WAL,
// synchronous=FULL: a commit returns once it is on disk), given to the
// peer and to the raw baseline too.
var sqliteParams = url.Values{
	"_journal_mode": {"WAL"},
	"_synchronous":  {"FULL"},
	"_busy_timeout": {"10000"},
	"_foreign_keys": {"on"},
	"_txlock":       {"immediate"},
}

func sqliteDSN(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}
	return u.String()
}

// sqliteBackend puts every store in a new file of dir.
func sqliteBackend(dir string) backend {
	var files atomic.Int64
	newPath := func(side string) string {
		return filepath.Join(dir, fmt.Sprintf("%s-%d.db", side, files.Add(1)))
	}
	return backend{
		name: "sqlite",
		writers: map[string]func(context.Context) (writer, error){
			sideSamspill: func(ctx context.Context) (writer, error) {
				st, err := sqlite.Open(ctx, newPath(sideSamspill))
				if err != nil {
					return nil, err
				}
				return &samspillSide{store: st}, nil
			},
			sideHallgren: func(context.Context) (writer, error) {
				return openHallgrenSQLite(newPath(sideHallgren))
			},
			sideRaw: func(ctx context.Context) (writer, error) {
				return openRawSQLite(ctx, newPath(sideRaw))
			},
		},
		readers: func(ctx context.Context, c config, streams []string) (map[string]reader, error) {
			path := newPath(sideSamspill)
			st, err := sqlite.Open(ctx, path)
			if err != nil {
				return nil, err
			}
			ours := &samspillSide{store: st, page: c.page}
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
			peer, err := openHallgrenSQLite(newPath(sideHallgren))
			if err != nil {
				return fail(err)
			}
			out[sideHallgren] = peer
			if err := fillParallel(ctx, streams, func(ctx context.Context, s string) error { return peer.fill(ctx, s, c.perStream) }); err != nil {
				return fail(err)
			}
			raw, err := sql.Open("sqlite", sqliteDSN(path, url.Values{"_query_only": {"1"}}))
			if err != nil {
				return fail(err)
			}
			out[sideRaw] = &rawReader{db: raw}
			return out, nil
		},
	}
}

// openHallgrenSQLite opens the peer's SQLite store on a new file, through
// the same driver with samspill's settings, and with the peer's own guard
// against concurrent writers in one process (NewSQLiteSingelWriter).
func openHallgrenSQLite(path string) (*hallgrenSide, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path, sqliteParams))
	if err != nil {
		return nil, err
	}
	st, err := hsql.NewSQLiteSingelWriter(db)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &hallgrenSide{store: st}, nil
}

// rawSQLiteWriter is the append baseline: one autocommit INSERT (its own
// transaction, committed with an fsync) into a plain table of a position,
// a stream id and the payload, through one connection.
type rawSQLiteWriter struct {
	db  *sql.DB
	ins *sql.Stmt
}

func openRawSQLite(ctx context.Context, path string) (*rawSQLiteWriter, error) {
	db, err := sql.Open("sqlite", sqliteDSN(path, sqliteParams))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, `CREATE TABLE raw (position INTEGER PRIMARY KEY, stream_id TEXT NOT NULL, data TEXT NOT NULL)`); err != nil {
		_ = db.Close()
		return nil, err
	}
	ins, err := db.PrepareContext(ctx, `INSERT INTO raw (stream_id, data) VALUES (?, ?)`)
	if err != nil {
		_ = db.Close()
		return nil, err
	}
	return &rawSQLiteWriter{db: db, ins: ins}, nil
}

func (r *rawSQLiteWriter) appendOne(ctx context.Context, stream string, _ uint64, e eventstore.NewEvent) error {
	_, err := r.ins.ExecContext(ctx, stream, string(e.Data))
	return err
}

func (r *rawSQLiteWriter) close() error {
	_ = r.ins.Close()
	return r.db.Close()
}
