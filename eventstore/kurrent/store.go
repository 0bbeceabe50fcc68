// Package kurrent is the KurrentDB (formerly EventStoreDB) adapter of the
// event store port, built on the official gRPC client
// (github.com/kurrent-io/KurrentDB-Client-Go, package kurrentdb) and using
// only calls every server version since 20.10 answers: AppendToStream,
// ReadStream, ReadAll and SubscribeToAll.
//
// # Streams and positions
//
// A samspill stream id is a KurrentDB stream name (after an optional
// namespace, WithNamespace). Version = KurrentDB revision + 1. Position =
// the event's commit position in KurrentDB's transaction log; for every
// event written through AppendToStream the commit position equals the
// prepare position and is the event's own log position, so it is unique,
// strictly increasing in commit order and gap-tolerant, as the port asks.
//
// ReadAll and HeadMoved see only the streams whose names start with one of
// the store's stream prefixes (WithStreamPrefixes, which Open requires),
// filtered by the server: ReadAll is a bounded catch-up subscription to
// $all from the given position (the client offers server-side filters only
// on subscriptions), HeadMoved a long-lived one that reconnects with
// backoff and resumes from the last event it saw.
//
// # Metadata
//
// The payload is the KurrentDB event data (content type application/json),
// the event type is the KurrentDB event type, the event id is the KurrentDB
// event id. Everything else of the envelope travels as JSON in the
// KurrentDB event's user metadata:
//
//	{"schema_version":1,"occurred_at":"...","recorded_at":"...",
//	 "metadata":{"actor":{...},"correlation_id":"...",...},
//	 "idempotency":{"key":"...","request_hash":"..."}}
//
// # Event ids and idempotency keys
//
// KurrentDB deduplicates a retried append only in the same stream, and only
// reliably when the expected revision is exact; it lets one event id be
// written to two streams. The port promises more (an id is stored once in
// the whole store), so every append first claims each of its event ids by
// appending a small record to the stream samspill-eventid-<id> with
// expected state NoStream, and an append with an idempotency key first
// reserves the key the same way in samspill-idempotency-<sha256(key)>.
// Claims and reservations of an append that is definitively rejected are
// released. Those bookkeeping streams never match the stream prefixes. See
// docs/decisions/0004-kurrentdb-adapter.md.
package kurrent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/internal/headwatch"
)

// ErrUnavailable means KurrentDB could not be reached or answered that it
// is not ready (connection refused or lost, not leader, shutting down). The
// operation may or may not have taken effect when it was an append; a retry
// of the same append is safe (event ids deduplicate it).
var ErrUnavailable = errors.New("kurrentdb unavailable")

// Names of the bookkeeping streams (after the namespace).
const (
	claimStreamPrefix = "samspill-eventid-"
	keyStreamPrefix   = "samspill-idempotency-"
)

// Option configures Open.
type Option func(*options)

type options struct {
	logger      *slog.Logger
	now         func() time.Time
	prefixes    []string
	namespace   string
	openTimeout time.Duration
	minBackoff  time.Duration
	maxBackoff  time.Duration
}

// WithLogger sets the logger for the store's operational messages
// (subscription dropped, reconnecting) and for the client library's own
// messages (at debug and warn level). Errors returned to callers are not
// logged. The default discards everything.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.logger = l
		}
	}
}

// WithClock sets the clock that stamps recorded_at; the default is
// time.Now. Readings are converted to UTC.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// WithStreamPrefixes sets the stream-name prefixes of the streams the store
// holds: ReadAll, Head and HeadMoved see only streams whose id starts with
// one of them, and Append refuses other stream ids (their events would be
// invisible to the global log). Open requires at least one; samspill's
// are those of its partnerships (history.StreamPrefix, given by cmd). A
// prefix must not be empty and must not cover the store's bookkeeping
// streams (samspill-eventid-..., samspill-idempotency-...).
func WithStreamPrefixes(prefixes ...string) Option {
	return func(o *options) { o.prefixes = append([]string(nil), prefixes...) }
}

// WithNamespace prepends ns to the KurrentDB name of every stream the store
// writes or reads, and strips it from the stream ids it returns. Stores
// with different namespaces share a database without seeing each other's
// events (tests use it to run on one server). The default is "".
func WithNamespace(ns string) Option {
	return func(o *options) { o.namespace = ns }
}

// WithOpenTimeout bounds how long Open waits for the server to answer; the
// default is 10 seconds.
func WithOpenTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.openTimeout = d
		}
	}
}

// WithReconnectBackoff sets the bounds of the backoff between attempts to
// re-establish the $all subscription behind HeadMoved: the first retry
// waits min, each next one twice as long, up to max. The defaults are 50 ms
// and 5 s.
func WithReconnectBackoff(minWait, maxWait time.Duration) Option {
	return func(o *options) {
		if minWait > 0 && maxWait >= minWait {
			o.minBackoff, o.maxBackoff = minWait, maxWait
		}
	}
}

// Store is the KurrentDB event store. It implements eventstore.Store; all
// methods are safe for concurrent use.
type Store struct {
	cfg      kurrentdb.Configuration
	host     string // for messages; no credentials
	log      *slog.Logger
	now      func() time.Time
	ns       string
	prefixes []string // without namespace
	filter   []string // with namespace, as sent to the server
	backoff  [2]time.Duration

	// mu guards client, closed and head.
	mu     sync.Mutex
	client *kurrentdb.Client
	closed bool
	// head caches what is known about the newest event of the store's
	// streams: the newest one at or below head.through is head.pos.
	head headCache

	// moved hands out the HeadMoved channels; appends and the $all
	// subscription notify it.
	moved headwatch.Broadcaster

	// retired holds replaced clients until calls still running on them
	// had time to finish.
	retired map[*kurrentdb.Client]*time.Timer

	stopWatch context.CancelFunc
	watching  sync.WaitGroup
	closeOnce sync.Once
}

var _ eventstore.Store = (*Store)(nil)

type headCache struct {
	pos     uint64
	through uint64
}

// Open connects to the KurrentDB at connection string url (esdb://,
// kurrentdb://, kdb:// and their +discover forms; TLS is on unless the URL
// says tls=false), checks that the server answers by reading the last
// event of $all, and starts the $all subscription behind HeadMoved. A
// server that does not answer within the open timeout fails Open with a
// one-line error naming the host. The caller must Close the store.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	o := options{
		logger:      slog.New(slog.DiscardHandler),
		now:         time.Now,
		openTimeout: 10 * time.Second,
		minBackoff:  50 * time.Millisecond,
		maxBackoff:  5 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	host := hostOf(connString)
	if err := validatePrefixes(o.namespace, o.prefixes); err != nil {
		return nil, fmt.Errorf("open KurrentDB store at %s: %w", host, err)
	}
	cfg, err := kurrentdb.ParseConnectionString(connString)
	if err != nil {
		return nil, fmt.Errorf("open KurrentDB store: parse connection string for %s: %w", host, err)
	}
	log := o.logger
	cfg.Logger = func(level kurrentdb.LogLevel, format string, args ...any) {
		lvl := slog.LevelDebug
		if level == kurrentdb.LogWarn || level == kurrentdb.LogError {
			lvl = slog.LevelWarn
		}
		if log.Enabled(context.Background(), lvl) {
			log.Log(context.Background(), lvl, fmt.Sprintf(format, args...), "component", "kurrentdb-client")
		}
	}
	s := &Store{
		cfg:      *cfg,
		host:     host,
		log:      log,
		now:      o.now,
		ns:       o.namespace,
		prefixes: o.prefixes,
		backoff:  [2]time.Duration{o.minBackoff, o.maxBackoff},
		retired:  make(map[*kurrentdb.Client]*time.Timer),
	}
	for _, p := range o.prefixes {
		s.filter = append(s.filter, o.namespace+p)
	}
	s.client, err = kurrentdb.NewClient(&s.cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to KurrentDB at %s: %w", host, err)
	}

	// Verify the server answers before handing out a store that would only
	// fail later; the last position of $all is also where HeadMoved's
	// subscription starts.
	octx, cancel := context.WithTimeout(ctx, o.openTimeout)
	end, err := s.endPosition(octx, s.client)
	timedOut := ctx.Err() == nil && errors.Is(octx.Err(), context.DeadlineExceeded)
	cancel()
	if err != nil {
		_ = s.client.Close()
		err = translate(err)
		if timedOut {
			err = fmt.Errorf("no answer within %s: %w", o.openTimeout, err)
		}
		return nil, fmt.Errorf("connect to KurrentDB at %s: %w", host, err)
	}

	wctx, stop := context.WithCancel(context.Background())
	s.stopWatch = stop
	s.watching.Add(1)
	go func() {
		defer s.watching.Done()
		s.watch(wctx, end)
	}()
	log.Debug("connected to KurrentDB", "host", host, "namespace", s.ns, "prefixes", s.prefixes, "position", end)
	return s, nil
}

// Close stops the $all subscription, closes the client and closes pending
// HeadMoved channels. Calls after the first return nil.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		client := s.client
		retired := s.retired
		s.retired = nil
		s.mu.Unlock()
		s.moved.Close()
		s.stopWatch()
		s.watching.Wait()
		_ = client.Close()
		for c, timer := range retired {
			timer.Stop()
			_ = c.Close()
		}
	})
	return nil
}

// current returns the client to use, or ErrClosed.
func (s *Store) current() (*kurrentdb.Client, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, eventstore.ErrClosed
	}
	return s.client, nil
}

// recover replaces client c with a fresh one when err shows that c has lost
// its connection. The KurrentDB client closes itself for good when node
// discovery fails (server down longer than its discovery attempts), and
// after a dropped connection it rediscovers on a new gRPC connection
// without closing the old one; a fresh client avoids both.
func (s *Store) recover(c *kurrentdb.Client, err error) {
	var kerr *kurrentdb.Error
	if !errors.As(err, &kerr) {
		return
	}
	switch kerr.Code() {
	case kurrentdb.ErrorCodeConnectionClosed, kurrentdb.ErrorUnavailable:
	default:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != c {
		return
	}
	fresh, nerr := kurrentdb.NewClient(&s.cfg)
	if nerr != nil {
		s.log.Warn("cannot make a new KurrentDB client", "host", s.host, "err", nerr)
		return
	}
	s.log.Info("KurrentDB connection lost; using a new client", "host", s.host, "err", oneLine(err))
	s.client = fresh
	// Calls still running on c may yet succeed (a dropped subscription
	// does not mean every call failed): close it only after a grace time.
	s.retired[c] = time.AfterFunc(retireGrace, func() {
		s.mu.Lock()
		_, ok := s.retired[c]
		delete(s.retired, c)
		s.mu.Unlock()
		if ok {
			_ = c.Close()
		}
	})
}

// retireGrace is how long a replaced client stays open for the calls
// still running on it; longer than the client's default deadline of 10 s.
const retireGrace = 30 * time.Second

// translate maps client errors to the port's sentinel errors, keeping the
// original error in the chain. It is the only place that interprets the
// client's error codes.
//
// It never returns eventstore.ErrStorageFull, and the store offers no
// eventstore.StorageProber: the client has no error for a full disk.
// Neither its codes (kurrentdb.ErrorCode) nor the rich error details it
// reads name one, and of the gRPC statuses it tells apart none means
// "no space" (RESOURCE_EXHAUSTED becomes ErrorCodeUnknown). A node that
// cannot write its chunk files fails the call or stops serving, which
// reaches samspill as an unknown error or as ErrUnavailable, like any
// other server failure; the node's own logs and disk monitoring tell the
// operator why (docs/operations.md).
func translate(err error) error {
	if err == nil {
		return nil
	}
	var kerr *kurrentdb.Error
	if errors.As(err, &kerr) {
		switch kerr.Code() {
		case kurrentdb.ErrorCodeWrongExpectedVersion, kurrentdb.ErrorCodeStreamRevisionConflict:
			return fmt.Errorf("%w: %w", eventstore.ErrVersionConflict, err)
		case kurrentdb.ErrorCodeResourceNotFound, kurrentdb.ErrorCodeStreamDeleted, kurrentdb.ErrorCodeStreamTombstoned:
			return fmt.Errorf("%w: %w", eventstore.ErrStreamNotFound, err)
		case kurrentdb.ErrorUnavailable, kurrentdb.ErrorCodeConnectionClosed, kurrentdb.ErrorCodeNotLeader, kurrentdb.ErrorAborted:
			return fmt.Errorf("%w: %w", ErrUnavailable, err)
		case kurrentdb.ErrorCodeDeadlineExceeded:
			if !errors.Is(err, context.DeadlineExceeded) {
				return fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
		case kurrentdb.ErrorCodeUnknown:
			// gRPC's Send reports io.EOF when the server has already ended
			// the call (unavailable, not leader, shutting down); the client
			// passes that on without the status, which only the receive
			// side would have read. The append's fate is unknown, and a
			// retry with the same event ids is safe.
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("%w: %w", ErrUnavailable, err)
			}
		}
	}
	return err
}

// fail wraps err for operation op, preferring the caller's context error
// when the context ended (the client reports it as a gRPC status).
func fail(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%s: %w (%v)", op, cerr, err)
	}
	return fmt.Errorf("%s: %w", op, translate(err))
}

// validatePrefixes refuses prefixes that would let bookkeeping streams into
// the global log.
func validatePrefixes(ns string, prefixes []string) error {
	if len(prefixes) == 0 {
		return errors.New("no stream prefixes (WithStreamPrefixes)")
	}
	var problems []error
	for _, p := range prefixes {
		if p == "" {
			problems = append(problems, errors.New("empty stream prefix"))
			continue
		}
		for _, internal := range []string{claimStreamPrefix, keyStreamPrefix} {
			if strings.HasPrefix(internal, p) || strings.HasPrefix(p, internal) {
				problems = append(problems, fmt.Errorf("stream prefix %q covers the bookkeeping streams %s*", p, internal))
			}
		}
	}
	if strings.HasPrefix(ns, "$") {
		problems = append(problems, fmt.Errorf("namespace %q names system streams", ns))
	}
	return errors.Join(problems...)
}

// covered reports whether streamID is in one of the store's prefixes.
func (s *Store) covered(streamID string) bool {
	for _, p := range s.prefixes {
		if strings.HasPrefix(streamID, p) {
			return true
		}
	}
	return false
}

// name is the KurrentDB stream name of a samspill stream id.
func (s *Store) name(streamID string) string { return s.ns + streamID }

// hostOf returns the host list of a connection string without credentials,
// for messages.
func hostOf(connString string) string {
	if u, err := url.Parse(connString); err == nil && u.Host != "" {
		return u.Host
	}
	rest := connString
	if i := strings.Index(rest, "://"); i >= 0 {
		rest = rest[i+3:]
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

// oneLine flattens an error message to one line.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}
