// Package postgres is the PostgreSQL event store adapter, built on pgx v5
// and its connection pool. Its tables live in the schema that is current
// (current_schema(): the first existing schema of the connection's
// search_path) when the store opens, so several installations, or tests,
// share one database in schemas of their own. Any number of Store
// instances, in one process or in many, may open the same schema: they
// share one log.
//
// # Positions
//
// A table of one row, positions, holds the last position handed out. Every
// transaction that writes events (an append batch, an import) first locks
// that row (SELECT ... FOR UPDATE), numbers its events from the value it
// read, stores the new last position in the row and commits. A second such
// transaction, of this store or of any other instance on the schema, waits
// at the lock until the first has ended. PostgreSQL releases a
// transaction's row locks only at the very end of its commit, after the
// commit is recorded (flushed and replicated as synchronous_commit asks)
// and after the transaction has become visible to new snapshots. So when a
// transaction gets the lock, every event with a lower position is already
// visible, and positions are handed out in commit order (a transaction
// that rolls back rolls its counter back too, so appends leave no gaps).
// A reader therefore needs nothing but the plain query
//
//	SELECT ... FROM events WHERE position > $1 ORDER BY position LIMIT $2
//
// under READ COMMITTED: if its snapshot sees position p, it sees every
// position below p, and no event with a position ≤ p can become visible
// after it. (A sequence or an identity column would not do: its numbers
// are taken before commit, in no relation to commit order, and a reader
// could pass position 11 while 10 is still to commit.)
//
// # Group commit
//
// The lock serialises the appends of every instance from the lock to
// COMMIT, so each Store writes through one writer goroutine that takes
// every append queued meanwhile into ONE transaction: concurrent appends
// share one commit (one WAL flush) and the lock is taken once per batch.
// A batch costs two pipelined round trips: BEGIN, the lock, and the
// lookups of the batch's stream versions, event ids and idempotency keys
// (one query each, over an array); then the inserts (one statement per
// table, from arrays), the counter, NOTIFY and COMMIT. While the lock is
// held no other writer can change the log, so the lookups are exact: the
// writer decides every request in memory, in queue order, each seeing
// what earlier requests of the batch wrote. A rejected request (version
// conflict, duplicate event id, used idempotency key) writes nothing and
// does not disturb the others. UNIQUE constraints on (stream_id, version),
// event_id and the idempotency key back the decisions up.
//
// A batch whose appends each pin their stream's version, carry no
// idempotency key and append to streams of their own costs one round
// trip: its INSERT numbers the events from the locked counter and checks
// the versions and the ids itself (onetrip.go).
// The writer's statements run with generic plans, planned once per
// connection rather than at every execution.
//
// # Failures
//
// A database failure rolls the whole batch back. If the server or the
// connection was unavailable, the whole batch is tried once more on
// another connection; if that fails too, its appends fail with an error
// wrapping ErrUnavailable (nothing of them is written; a retry is safe).
// The server refusing a statement for lack of disk space (SQLSTATE 53100)
// fails every append of the batch with eventstore.ErrStorageFull, nothing
// of them written; ProbeStorage (eventstore.StorageProber) learns when a
// table can grow again. Any other failure (a statement the server refused)
// makes the writer retry the batch's requests one transaction each, so a
// request that breaks the database fails alone.
//
// When the connection breaks after COMMIT was sent, the outcome is unknown.
// The writer then takes the counter lock on a new connection, which it
// gets only once the old transaction has ended one way or the other, and
// looks for the batch's first event: stored, the batch is acknowledged;
// not stored, it failed as above. If even that check fails, the appends
// fail with an error wrapping ErrUnavailable that says the outcome is
// unknown; retrying the same append (same event ids) is then safe: it is
// deduplicated (or, carrying an idempotency key, refused as a used key,
// whose record LookupIdempotency has). An unknown outcome is never
// acknowledged as success.
// Connections are opened with idle_in_transaction_session_timeout (unless
// the connection string sets it), so the server ends a transaction whose
// client vanished while holding the lock, and other instances go on.
//
// # Durability
//
// An append is acknowledged once COMMIT has returned, so it is exactly as
// durable as the server's synchronous_commit (as the server or the
// connection string sets it) makes it: with on (the default), local,
// remote_write or remote_apply the commit is flushed to the server's disk
// before COMMIT returns, and with synchronous standbys configured all but
// local also wait for them. With off, a server crash can lose the last
// acknowledged appends; Open warns then.
//
// # Notifications
//
// Every append transaction sends NOTIFY on a channel named after the
// schema (samspill_events:<schema>), with the new last position as payload;
// PostgreSQL delivers it after commit. Each Store keeps one connection that
// LISTENs on it, so HeadMoved fires for the appends of every instance on
// the schema, not only its own; its own commits fire HeadMoved directly.
// The listening connection reconnects with backoff when it drops, and
// after each (re)connect reads the head, firing HeadMoved if the log moved
// while it was away.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/groupcommit"
	"github.com/samspill/samspill/eventstore/internal/headwatch"
	"github.com/samspill/samspill/eventstore/internal/sqlrow"
)

// Timeouts of the store's own work. Callers' contexts bound reads; the
// writer runs on its own context, so that one caller's cancellation cannot
// abort the batch of the others.
const (
	// connectTimeout bounds each connection attempt unless the connection
	// string sets connect_timeout.
	connectTimeout = 10 * time.Second
	// idleInTransactionTimeout is the idle_in_transaction_session_timeout
	// of the store's connections unless the connection string sets one:
	// how long the server lets a transaction that holds the counter lock
	// wait for a client that has gone.
	idleInTransactionTimeout = "15s"
	// writeTimeout bounds one attempt at a batch, lock wait included.
	writeTimeout = 30 * time.Second
	// verifyTimeout bounds the check of a batch whose COMMIT's outcome is
	// unknown; longer than idleInTransactionTimeout, so that the check
	// outlasts a transaction whose connection died.
	verifyTimeout = 45 * time.Second
)

// Option configures Open.
type Option func(*options)

type options struct {
	logger     *slog.Logger
	now        func() time.Time
	maxBatch   int
	minBackoff time.Duration
	maxBackoff time.Duration
	// unlockedSequence, set only by this package's tests, names a
	// sequence that hands out positions instead of the locked counter:
	// the classic bug, which the tests must catch. Never set otherwise.
	unlockedSequence string
}

// WithLogger sets the logger for the store's own operational messages
// (migrations applied, batches retried, notifications reconnecting).
// Errors returned to callers are not logged. The default discards
// everything.
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

// WithReconnectBackoff sets the bounds of the backoff between attempts to
// re-establish the LISTEN connection behind HeadMoved: the first retry
// waits min, each next one twice as long, up to max. The defaults are
// 50 ms and 5 s.
func WithReconnectBackoff(minWait, maxWait time.Duration) Option {
	return func(o *options) {
		if minWait > 0 && maxWait >= minWait {
			o.minBackoff, o.maxBackoff = minWait, maxWait
		}
	}
}

// Store is the PostgreSQL event store. It implements eventstore.Store,
// eventstore.StreamLister and eventstore.Importer; all methods are safe
// for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	host    string // for messages; no credentials
	schema  string
	channel string // NOTIFY channel of the schema
	log     *slog.Logger
	now     func() time.Time
	backoff [2]time.Duration

	// lockSQL is the statement that takes the counter lock and returns the
	// last position, or (unlockedSequence) one fresh position per row.
	lockSQL  string
	unlocked bool

	// queue feeds appends to the writer goroutine, which commits them
	// (commit).
	queue  *groupcommit.Queue[*request]
	closed atomic.Bool

	moved headwatch.Broadcaster

	listenConfig *pgx.ConnConfig
	stopListen   context.CancelFunc
	listening    sync.WaitGroup
	listenPID    atomic.Uint32 // backend pid of the LISTEN connection, 0 while down

	closeOnce sync.Once

	stats storeStats
}

var (
	_ eventstore.Store            = (*Store)(nil)
	_ eventstore.StreamTailReader = (*Store)(nil)
	_ eventstore.StorageProber    = (*Store)(nil)
)

// storeStats count what the store did; tests read them.
type storeStats struct {
	groupcommit.Stats
	verified   atomic.Uint64 // batches whose unknown COMMIT outcome was checked
	oneTrip    atomic.Uint64 // appends written in a batch in one round trip (onetrip.go)
	reconnects atomic.Uint64 // LISTEN connections established after the first
}

// Open connects to the PostgreSQL database at connString (a postgres:// URL
// or key=value pairs, as pgx takes them; pool_max_conns and the other
// pgxpool settings apply), applies pending schema migrations in the
// current schema and starts the writer and the LISTEN connection. A server
// that cannot be reached fails Open with a one-line error wrapping
// ErrUnavailable that names the host; a schema written by a newer binary
// is refused with a *SchemaTooNewError. The caller must Close the store.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	o := options{
		logger:     slog.New(slog.DiscardHandler),
		now:        time.Now,
		maxBatch:   512,
		minBackoff: 50 * time.Millisecond,
		maxBackoff: 5 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", translate("", err))
	}
	cc := cfg.ConnConfig
	if cc.ConnectTimeout == 0 {
		cc.ConnectTimeout = connectTimeout
	}
	if _, ok := cc.RuntimeParams["idle_in_transaction_session_timeout"]; !ok {
		cc.RuntimeParams["idle_in_transaction_session_timeout"] = idleInTransactionTimeout
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "samspill"
	}
	s := &Store{
		host:    hostOf(cc),
		log:     o.logger,
		now:     o.now,
		backoff: [2]time.Duration{o.minBackoff, o.maxBackoff},
		lockSQL: `SELECT last FROM positions FOR UPDATE`,
	}
	if o.unlockedSequence != "" {
		s.unlocked = true
		s.lockSQL = `SELECT nextval('` + pgx.Identifier{o.unlockedSequence}.Sanitize() + `') FROM generate_series(1, $1)`
	}
	s.listenConfig = cc.Copy()
	s.listenConfig.RuntimeParams["application_name"] = cc.RuntimeParams["application_name"] + " listener"

	s.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open event store: %w", err)
	}
	fail := func(err error) (*Store, error) {
		s.pool.Close()
		return nil, fmt.Errorf("open event store: %w", err)
	}

	// The schema is read on a connection of its own, and the migrations
	// run on connections of their own (migrate), all closed afterwards, so
	// that the session-level advisory lock can never stay behind on a
	// pooled connection.
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return fail(translate(s.host, err))
	}
	applied, syncCommit, err := s.prepareSchema(ctx, conn, cc)
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	_ = conn.Close(closeCtx)
	cancel()
	if err != nil {
		return fail(err)
	}
	if len(applied) > 0 {
		s.log.Info("event store schema migrated", "host", s.host, "schema", s.schema, "applied", applied)
	}
	if syncCommit == "off" {
		s.log.Warn("synchronous_commit is off: a server crash can lose the last acknowledged appends",
			"host", s.host, "schema", s.schema)
	} else {
		s.log.Debug("event store opened", "host", s.host, "schema", s.schema, "synchronous_commit", syncCommit)
	}
	head, err := s.Head(ctx)
	if err != nil {
		return fail(err)
	}
	s.moved.Notify(head)

	lctx, stop := context.WithCancel(context.Background())
	s.stopListen = stop
	s.listening.Add(1)
	go func() {
		defer s.listening.Done()
		s.listen(lctx)
	}()
	s.queue = groupcommit.Start(o.maxBatch, s.commit)
	return s, nil
}

// prepareSchema learns the current schema and the server's
// synchronous_commit on conn and migrates the schema's tables on
// connections of cc.
func (s *Store) prepareSchema(ctx context.Context, conn *pgx.Conn, cc *pgx.ConnConfig) (applied []int64, syncCommit string, err error) {
	var schema *string
	if err := conn.QueryRow(ctx, `SELECT current_schema(), current_setting('synchronous_commit')`).Scan(&schema, &syncCommit); err != nil {
		return nil, "", translate(s.host, err)
	}
	if schema == nil {
		return nil, "", errors.New("no schema of the connection's search_path exists: create the schema, or set search_path to one that exists")
	}
	s.schema = *schema
	s.channel = channelName(s.schema)
	applied, err = migrate(ctx, cc, s.schema, func() time.Time { return s.now().UTC() })
	if err != nil {
		return nil, "", translate(s.host, err)
	}
	return applied, syncCommit, nil
}

// channelName is the NOTIFY channel of schema. Channel names are
// identifiers of at most 63 bytes; for a schema name too long for that the
// channel is named after a hash of it, so every instance still derives the
// same name.
func channelName(schema string) string {
	name := "samspill_events:" + schema
	if len(name) <= 63 {
		return name
	}
	return "samspill_events:" + strconv.FormatUint(fnv64(schema), 16)
}

// fnv64 is FNV-1a, enough to tell long schema names apart.
func fnv64(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}

// Close stops the writer goroutine, fails appends still queued with
// eventstore.ErrClosed (an append already in a transaction completes),
// stops the LISTEN connection, closes pending HeadMoved channels and
// closes the pool. Later calls of other methods return
// eventstore.ErrClosed; Close itself may be called again and returns nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.queue.Close()

		s.stopListen()
		s.listening.Wait()
		s.moved.Close()

		s.pool.Close()
	})
	return nil
}

// Head returns the position of the newest event, 0 for an empty store.
func (s *Store) Head(ctx context.Context) (uint64, error) {
	if s.closed.Load() {
		return 0, fmt.Errorf("head: %w", eventstore.ErrClosed)
	}
	var head int64
	if err := s.pool.QueryRow(ctx, headSQL).Scan(&head); err != nil {
		return 0, fmt.Errorf("head: %w", translate(s.host, err))
	}
	return uint64(head), nil
}

// headSQL reads the newest visible position (an index lookup).
const headSQL = `SELECT COALESCE(MAX(position), 0) FROM events`

// ReadStream returns the stream's events in version order, or
// eventstore.ErrStreamNotFound.
func (s *Store) ReadStream(ctx context.Context, streamID string) ([]eventstore.RecordedEvent, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("read stream %s: %w", streamID, eventstore.ErrClosed)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+sqlrow.EventColumns+` FROM events WHERE stream_id = $1 ORDER BY version`, streamID)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, translate(s.host, err))
	}
	events, err := scanEvents(rows, sqlrow.StreamCapacity)
	if err != nil {
		return nil, fmt.Errorf("read stream %s: %w", streamID, translate(s.host, err))
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
	rows, err := s.pool.Query(ctx, `SELECT `+sqlrow.EventColumns+` FROM events WHERE stream_id = $1 AND version > $2 ORDER BY version`, streamID, int64(after))
	if err != nil {
		return nil, fmt.Errorf("read stream %s after %d: %w", streamID, after, translate(s.host, err))
	}
	events, err := scanEvents(rows, sqlrow.StreamCapacity)
	if err != nil {
		return nil, fmt.Errorf("read stream %s after %d: %w", streamID, after, translate(s.host, err))
	}
	return events, nil
}

// ReadAll returns up to limit events with position > after, in position
// order. limit must be positive. It is one plain query: see the package
// comment for why no reader can pass an event that commits later.
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
	rows, err := s.pool.Query(ctx, `SELECT `+sqlrow.EventColumns+` FROM events WHERE position > $1 ORDER BY position LIMIT $2`,
		int64(after), limit)
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, translate(s.host, err))
	}
	// Positions are distinct integers: a page holds at most the head's
	// distance from after, as far as this store has heard of the head.
	events, err := scanEvents(rows, s.moved.Ahead(after, limit))
	if err != nil {
		return nil, fmt.Errorf("read all after %d: %w", after, translate(s.host, err))
	}
	return events, nil
}

// scanEvents reads rows of sqlrow.EventColumns and closes rows.
func scanEvents(rows pgx.Rows, capacity int) ([]eventstore.RecordedEvent, error) {
	defer rows.Close()
	return sqlrow.ScanEvents(rows, capacity)
}

// hostOf names the servers of cfg for messages: host:port (a Unix
// socket's folder and port), several joined by commas. It never includes
// user or password.
func hostOf(cfg *pgx.ConnConfig) string {
	var hosts []string
	add := func(host string, port uint16) {
		h := net.JoinHostPort(host, strconv.Itoa(int(port)))
		if strings.HasPrefix(host, "/") {
			h = host + " port " + strconv.Itoa(int(port))
		}
		if !slices.Contains(hosts, h) {
			hosts = append(hosts, h)
		}
	}
	add(cfg.Host, cfg.Port)
	for _, f := range cfg.Fallbacks {
		add(f.Host, f.Port)
	}
	return strings.Join(hosts, ",")
}
