// Package sqlite is the embedded event store adapter: one SQLite database
// file, written through a single connection by one writer goroutine that
// commits concurrent appends together (group commit), and read through a
// separate pool of read-only connections.
//
// Durability: the database runs in WAL mode with synchronous=FULL, so an
// append is acknowledged only after its transaction is on disk and survives
// a crash of the process or of the machine. Positions are SQLite rowids
// assigned inside the single writer transaction, so they grow strictly in
// commit order and a reader can never see a position appear behind one it
// has already passed.
//
// Appends are checked inside the write transaction, and the schema's
// UNIQUE constraints (event_id; stream_id with version) are the last word,
// so another process writing the same file cannot make this store store a
// wrong version or a duplicate id. HeadMoved, though, only learns of this
// store's own commits: one process should own a database file.
//
// A full disk (SQLITE_FULL) fails the appends of the batch that met it
// with eventstore.ErrStorageFull, all of them and nothing of them written;
// the writer goes on with the next batch, which succeeds once space has
// been freed. ProbeStorage (eventstore.StorageProber) learns that without
// an append.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/groupcommit"
	"github.com/samspill/samspill/eventstore/internal/headwatch"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
	"github.com/samspill/samspill/internal/sqlitedb"
)

// driverName is the database/sql name modernc.org/sqlite registers.
const driverName = "sqlite"

// busyTimeout is how long a connection waits for a lock held by another
// connection (another process, or a checkpoint) before failing with
// SQLITE_BUSY.
const busyTimeout = 10 * time.Second

// Option configures Open.
type Option func(*options)

type options struct {
	logger   *slog.Logger
	now      func() time.Time
	maxBatch int
}

// WithLogger sets the logger for the store's own operational messages
// (migrations applied, batches retried). Errors returned to callers are not
// logged. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithClock sets the clock that stamps recorded_at (and applied_at of
// migrations); tests use it to pin time. The default is time.Now. The
// store converts the clock's readings to UTC.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// Store is the SQLite event store. It implements eventstore.Store; all
// methods are safe for concurrent use.
type Store struct {
	w    *sql.DB // the single write connection, _txlock=immediate
	path string  // absolute path of the database file
	r    *sql.DB // read pool, query_only
	log  *slog.Logger
	now  func() time.Time

	rd readStmts
	wr writer // writer goroutine only

	// queue feeds appends to the writer goroutine, which commits them
	// (commit) with wr.
	queue  *groupcommit.Queue[*request]
	closed atomic.Bool

	moved headwatch.Broadcaster

	closeOnce sync.Once
	closeErr  error

	stats groupcommit.Stats // kept by the writer goroutine

	// plainReads counts the reads that went the plain way (read.go).
	plainReads atomic.Int64
}

var (
	_ eventstore.Store            = (*Store)(nil)
	_ eventstore.StreamTailReader = (*Store)(nil)
	_ eventstore.StorageProber    = (*Store)(nil)
)

// Open opens the event store in the SQLite database file at path, creating
// the file if needed (the caller owns the folder), and applies pending
// schema migrations. The file and its -wal and -shm are made readable and
// writable by their owner alone, and an existing one that group or others
// may read or write is refused with an *ownerfile.ExposedError
// (sqlitedb.Prepare). A database written by a newer binary is refused with
// a *SchemaTooNewError. The caller must Close the store.
func Open(ctx context.Context, path string, opts ...Option) (*Store, error) {
	o := options{
		logger:   slog.New(slog.DiscardHandler),
		now:      time.Now,
		maxBatch: 512,
	}
	for _, opt := range opts {
		opt(&o)
	}
	if path == "" {
		return nil, errors.New("open event store: empty path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	if err := sqlitedb.Prepare(path); err != nil {
		return nil, fmt.Errorf("open event store: %w", err) // names path
	}

	w, err := sql.Open(driverName, dsn(abs, writerParams()))
	if err != nil {
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	s := &Store{
		w:    w,
		path: abs,
		log:  o.logger,
		now:  o.now,
	}
	fail := func(err error) (*Store, error) {
		s.rd.close()
		_ = s.wr.close()
		if s.r != nil {
			_ = s.r.Close()
		}
		_ = w.Close()
		return nil, fmt.Errorf("open event store %s: %w", path, err)
	}

	// Check that the connection really is in WAL mode with FULL
	// synchronisation: durability rests on it.
	var mode string
	if err := w.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return fail(err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fail(fmt.Errorf("journal mode is %q, want wal", mode))
	}
	var syncLevel int
	if err := w.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&syncLevel); err != nil {
		return fail(err)
	}
	if syncLevel < 2 {
		return fail(fmt.Errorf("synchronous is %d, want 2 (FULL) or more", syncLevel))
	}

	applied, err := migrate(ctx, w, func() time.Time { return s.now().UTC() })
	if err != nil {
		return fail(err)
	}
	if len(applied) > 0 {
		s.log.Info("event store schema migrated", "path", abs, "applied", applied)
	}

	s.r, err = sql.Open(driverName, dsn(abs, readerParams()))
	if err != nil {
		return fail(err)
	}
	readers := max(4, 2*runtime.GOMAXPROCS(0))
	s.r.SetMaxOpenConns(readers)
	s.r.SetMaxIdleConns(readers)
	s.r.SetConnMaxIdleTime(0)
	s.r.SetConnMaxLifetime(0)

	if err := s.rd.prepare(ctx, s.r); err != nil {
		return fail(err)
	}
	if err := s.wr.open(ctx, s.w); err != nil {
		return fail(err)
	}
	head, err := s.Head(ctx)
	if err != nil {
		return fail(err)
	}
	s.moved.Notify(head) // for the size of ReadAll's results
	s.queue = groupcommit.Start(o.maxBatch, s.commit)
	return s, nil
}

// writerParams are the DSN parameters of the write connection: WAL with
// synchronous=FULL (a committed transaction is on disk), IMMEDIATE
// transactions for database/sql's BeginTx (the write lock is taken at
// BEGIN, so no upgrade deadlock; the writer itself runs BEGIN IMMEDIATE),
// foreign keys on, and a busy timeout.
func writerParams() url.Values {
	return url.Values{
		"_txlock":       {"immediate"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"on"},
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
	}
}

// readerParams are the DSN parameters of the read pool: query_only, so a
// read connection can never write, and the same busy timeout. The WAL mode
// is a property of the file, set by the writer.
func readerParams() url.Values {
	return url.Values{
		"_query_only":   {"1"},
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
	}
}

// dsn builds a file: URI for modernc.org/sqlite. The path is escaped, so
// any file name works; the underscore parameters are read by the driver
// and ignored by SQLite.
func dsn(abs string, q url.Values) string {
	u := url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: q.Encode()}
	return u.String()
}

// Close stops the writer goroutine, fails appends still queued with
// eventstore.ErrClosed (an append already in a transaction completes), closes
// the HeadMoved channel and releases the database. Later calls return
// eventstore.ErrClosed; a second Close returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.queue.Close()
		s.moved.Close()

		s.rd.close()
		s.closeErr = errors.Join(s.wr.close(), s.r.Close(), s.w.Close())
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("close event store: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// HeadMoved returns a channel that is closed after the next transaction that
// stores at least one event commits, or when the store closes.
func (s *Store) HeadMoved() <-chan struct{} { return s.moved.HeadMoved() }

// Head returns the position of the newest event, 0 for an empty store.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("head: %w", eventstore.ErrClosed)
	}
	var head int64
	if err := s.rd.head.QueryRowContext(ctx).Scan(&head); err != nil {
		return 0, fmt.Errorf("head: %w", s.translate(err))
	}
	return uint64(head), nil
}

// ReadStream returns the stream's events in version order, or
// eventstore.ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, streamID string) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read stream %s: %w", streamID, eventstore.ErrClosed)
	}
	events, err := s.readEvents(ctx, eventQuery{joined: readStreamSQL, plain: s.rd.stream}, sqlrow.StreamCapacity, streamID)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, s.translate(err))
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("read stream %s: %w", streamID, eventstore.ErrStreamNotFound)
	}
	return events, nil
}

// ReadStreamAfter returns the stream's events with a version above after,
// in version order; see eventstore.StreamTailReader.
func (s *Store) ReadStreamAfter(ctx context.Context, streamID string, after uint64) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read stream %s after %d: %w", streamID, after, eventstore.ErrClosed)
	}
	if after >= math.MaxInt64 {
		return nil, nil
	}
	events, err := s.readEvents(ctx, eventQuery{joined: readStreamAfterSQL, plain: s.rd.streamAfter}, sqlrow.StreamCapacity,
		streamID, int64(after))
	if err != nil {
		return nil, fmt.Errorf("read stream %s after %d: %w", streamID, after, s.translate(err))
	}
	return events, nil
}

// ReadAll returns up to limit events with position > after, in position
// order. limit must be positive.
func (s *Store) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read all after %d: %w", after, eventstore.ErrClosed)
	}
	if limit <= 0 {
		return nil, fmt.Errorf("read all after %d: limit %d is not positive", after, limit)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, err)
	}
	if after >= math.MaxInt64 {
		return nil, nil
	}
	// Positions are distinct integers: a page holds at most the head's
	// distance from after. The head is the last one this store committed
	// or found at Open, without a query.
	events, err := s.readEvents(ctx, eventQuery{joined: readAllSQL, plain: s.rd.all}, s.moved.Ahead(after, limit),
		int64(after), int64(limit))
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, s.translate(err))
	}
	return events, nil
}

// translate maps driver and database/sql errors to the port's sentinels
// where one applies, keeping the cause. It is the one place that knows
// SQLite's error codes.
func (s *Store) translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if s.closed.Load() && (errors.Is(err, sql.ErrConnDone) || strings.Contains(err.Error(), "sql: database is closed")) {
		return fmt.Errorf("%w: %w", eventstore.ErrClosed, err)
	}
	switch {
	case isUniqueViolation(err, "events.stream_id, events.version"):
		return fmt.Errorf("%w: %w", eventstore.ErrVersionConflict, err)
	case isUniqueViolation(err, "events.event_id"):
		return fmt.Errorf("%w: %w", eventstore.ErrDuplicateEventID, err)
	case isUniqueViolation(err, "idempotency_keys.key"):
		return fmt.Errorf("%w: %w", eventstore.ErrIdempotencyKeyUsed, err)
	case sqlitedb.DiskFull(err):
		return fmt.Errorf("%w: %w", eventstore.ErrStorageFull, err)
	}
	return err
}

// isUniqueViolation reports whether err is SQLite refusing a row because
// of the UNIQUE or PRIMARY KEY constraint on columns (as SQLite names them,
// "table.column, table.column").
func isUniqueViolation(err error, columns string) bool {
	var se *msqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	code := se.Code()
	return (code == sqlite3.SQLITE_CONSTRAINT_UNIQUE || code == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) &&
		strings.Contains(se.Error(), "constraint failed: "+columns)
}

// The reads of events: their conditions, and their joined forms (read.go).
const (
	streamWhere      = ` FROM events WHERE stream_id = ? ORDER BY version`
	streamAfterWhere = ` FROM events WHERE stream_id = ? AND version > ? ORDER BY version`
	allWhere         = ` FROM events WHERE position > ? ORDER BY position LIMIT ?`

	readStreamSQL      = `SELECT ` + joinedColumns + streamWhere
	readStreamAfterSQL = `SELECT ` + joinedColumns + streamAfterWhere
	readAllSQL         = `SELECT ` + joinedColumns + allWhere
)

// readStmts are prepared once on the read pool.
type readStmts struct {
	head, stream, streamAfter, all, idempotency *sql.Stmt
}

func (p *readStmts) prepare(ctx context.Context, db *sql.DB) error {
	for _, q := range []struct {
		dst **sql.Stmt
		sql string
	}{
		{&p.head, `SELECT COALESCE(MAX(position), 0) FROM events`},
		{&p.stream, `SELECT ` + sqlrow.EventColumns + streamWhere},
		{&p.streamAfter, `SELECT ` + sqlrow.EventColumns + streamAfterWhere},
		{&p.all, `SELECT ` + sqlrow.EventColumns + allWhere},
		{&p.idempotency, `SELECT ` + sqlrow.IdempotencyColumns + ` FROM idempotency_keys WHERE key = ?`},
	} {
		st, err := db.PrepareContext(ctx, q.sql)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", q.sql, err)
		}
		*q.dst = st
	}
	return nil
}

func (p *readStmts) close() {
	for _, st := range []*sql.Stmt{p.head, p.stream, p.streamAfter, p.all, p.idempotency} {
		if st != nil {
			_ = st.Close()
		}
	}
}
