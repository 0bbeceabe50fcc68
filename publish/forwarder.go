package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
	"github.com/samspill/samspill/internal/backoff"
	"github.com/samspill/samspill/personal"
)

// consumerGroup names the forwarder's subscription to the log (its
// checkpoint is the stream's last message, see streamCheckpoints).
const consumerGroup = "publish-nats"

// minBackoff is the first wait after a failed publish or connection.
const minBackoff = 100 * time.Millisecond

// progressEvery is how often, at most, the log says how far the forwarder
// has come while it publishes.
const progressEvery = time.Minute

// Forwarder publishes the events of one topic of the log to a JetStream
// stream, as the package comment describes. Make one with Start; Close
// stops it. Its methods are safe for concurrent use.
type Forwarder struct {
	store eventstore.Store
	cfg   Config
	names personal.Pseudonyms
	log   *slog.Logger

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	conn      *nats.Conn // nil until connected
	js        nats.JetStreamContext
	tail      tail               // the stream's end as last seen
	stopRoute context.CancelFunc // ends the router running now
	rewinding atomic.Bool        // the router was ended to start over (rewind)

	position atomic.Uint64 // tail.position, for readers outside the router
	// lagMu guards lagSeen, what the lag metric has read past position.
	lagMu     sync.Mutex
	lagSeen   lagSeen
	published atomic.Uint64
	failures  atomic.Uint64

	// Used by the router's handler alone, one message at a time.
	failing     bool
	reported    time.Time
	sinceReport uint64
	pub         message.Publisher
}

// errRewind ends a delivery whose router is stopped to start over after
// the stream's real end (see rewind).
var errRewind = errors.New("the stream lost events it held; starting over after its end")

// tail is where the stream ends: its last sequence (what the next publish
// expects) and the position of the last event it holds (0: none).
type tail struct {
	seq      uint64
	position uint64
}

// Start checks cfg (Validate) and starts forwarding the events of store
// after the stream's last one, in the background, until ctx ends or Close
// is called. It returns at once: it neither waits for NATS nor fails when
// NATS cannot be reached (the forwarder connects, and reconnects, on its
// own), only for a configuration error. store must stay open until Close
// has returned.
func Start(ctx context.Context, store eventstore.Store, cfg Config) (*Forwarder, error) {
	err := cfg.Validate()
	if store == nil {
		err = errors.Join(errors.New("nil store"), err)
	}
	if err != nil {
		return nil, fmt.Errorf("publish to NATS: %w", err)
	}
	cfg = cfg.withDefaults()
	ctx, cancel := context.WithCancel(ctx)
	f := &Forwarder{
		store:  store,
		cfg:    cfg,
		names:  personal.NewPseudonyms(cfg.Secret),
		log:    cfg.Logger.With("nats", redact(cfg.URL), "stream", cfg.Stream),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	f.log.Info("publishing the event log to NATS JetStream", "subjects", cfg.SubjectPrefix+"."+cfg.Topic+".<type>")
	go f.run(ctx)
	return f, nil
}

// Close stops the forwarder and closes its NATS connection. It waits for
// a publish under way (at most Config.PublishTimeout); one whose outcome
// it does not learn is published again by the next start, and stored
// once. It always returns nil and is safe to call more than once.
func (f *Forwarder) Close() error {
	f.closeOnce.Do(func() {
		f.cancel()
		<-f.done
		f.log.Info("stopped publishing to NATS", "position", f.position.Load())
	})
	return nil
}

// Position returns the position of the last event the stream holds, as
// the forwarder last saw it: 0 before it has read the stream, or when the
// stream holds none.
func (f *Forwarder) Position() uint64 { return f.position.Load() }

// run connects, then runs the router until ctx ends.
func (f *Forwarder) run(ctx context.Context) {
	defer close(f.done)
	conn, err := f.connect(ctx)
	if err != nil {
		return // ctx ended
	}
	defer conn.Close()
	wlog := watermill.NewSlogLoggerWithLevelMapping(f.log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	// pub is never closed: its Close closes the connection it was given,
	// which run closes itself.
	pub, err := wmnats.NewPublisherWithNatsConn(conn, wmnats.PublisherPublishConfig{
		// NATSMarshaler: the payload is the body, the metadata the
		// headers, the UUID (the event id) the header
		// _watermill_message_uuid, which a Watermill subscriber on the
		// other side reads back as the message's UUID.
		Marshaler:         &wmnats.NATSMarshaler{},
		SubjectCalculator: wmnats.DefaultSubjectCalculator,
		JetStream: wmnats.JetStreamConfig{
			// readTail makes the stream with samspill's subjects;
			// AutoProvision would make one named after each subject.
			AutoProvision:  false,
			TrackMsgId:     true, // the UUID as Nats-Msg-Id
			ConnectOptions: []nats.JSOpt{nats.MaxWait(f.cfg.PublishTimeout)},
		},
	}, wlog)
	if err != nil { // only for invalid JetStream options
		f.log.Error("cannot publish to NATS JetStream", "err", err)
		return
	}
	f.pub = pub
	wait := minBackoff
	for {
		started := time.Now()
		err := f.route(ctx, wlog)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > f.cfg.MaxBackoff {
			wait = minBackoff
		}
		// The router ends only with ctx or for a rewind (logged there);
		// anything else is a bug to report and survive.
		if !f.rewinding.Swap(false) {
			f.log.Error("the NATS forwarder's router stopped; restarting it", "err", err, "retry_in", wait)
		}
		if !backoff.Sleep(ctx, wait) {
			return
		}
		wait = min(2*wait, f.cfg.MaxBackoff)
	}
}

// connect returns a connection to NATS. nats.go connects, and reconnects
// for ever, in the background (RetryOnFailedConnect, MaxReconnects -1), so
// this fails only for a malformed option, which it logs and retries until
// ctx ends.
func (f *Forwarder) connect(ctx context.Context) (*nats.Conn, error) {
	opts := []nats.Option{
		nats.Name("samspill"),
		nats.RetryOnFailedConnect(true),
		nats.MaxReconnects(-1),
		// While disconnected a publish fails at once instead of waiting in
		// a buffer: the forwarder retries it anyway.
		nats.ReconnectBufSize(-1),
		nats.ConnectHandler(func(c *nats.Conn) { f.log.Info("connected to NATS", "server", c.ConnectedUrlRedacted()) }),
		nats.ReconnectHandler(func(c *nats.Conn) { f.log.Info("reconnected to NATS", "server", c.ConnectedUrlRedacted()) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				f.log.Warn("disconnected from NATS; reconnecting", "err", err)
			}
		}),
	}
	wait := minBackoff
	for {
		conn, err := nats.Connect(f.cfg.URL, opts...)
		if err == nil {
			var js nats.JetStreamContext
			if js, err = conn.JetStream(nats.MaxWait(f.cfg.PublishTimeout)); err == nil {
				f.mu.Lock()
				f.conn, f.js = conn, js
				f.mu.Unlock()
				return conn, nil
			}
			conn.Close()
		}
		f.log.Error("cannot connect to NATS; retrying", "err", err, "retry_in", wait)
		if !backoff.Sleep(ctx, wait) {
			return nil, ctx.Err()
		}
		wait = min(2*wait, f.cfg.MaxBackoff)
	}
}

// route runs one router (the log's subscriber, the handler) until ctx
// ends or the router stops.
func (f *Forwarder) route(ctx context.Context, wlog watermill.LoggerAdapter) error {
	if !f.syncTail(ctx) {
		return ctx.Err()
	}
	sub, err := pubsub.NewSubscriber(f.store, pubsub.SubscriberConfig{
		ConsumerGroup: consumerGroup,
		Checkpoints:   streamCheckpoints{f},
		Logger:        wlog,
	})
	if err != nil {
		return fmt.Errorf("subscriber: %w", err)
	}
	defer sub.Close()
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: f.cfg.PublishTimeout + time.Second}, wlog)
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	router.AddConsumerHandler(consumerGroup, f.cfg.Topic, sub, f.handle)
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	f.mu.Lock()
	f.stopRoute = stop
	f.mu.Unlock()
	ended := make(chan error, 1)
	go func() { ended <- router.Run(runCtx) }()
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case err = <-ended:
		ended <- err
	}
	stop()
	_ = router.Close()
	<-ended
	return err
}

// handle publishes the event of msg, trying again with backoff until it
// is stored or the subscription ends (then the message is nacked, and the
// next start publishes it again). It never skips an event. Watermill's
// Retry middleware is not used: it wants a cap on the number of tries, and
// its hooks advance the backoff they report.
func (f *Forwarder) handle(msg *message.Message) error {
	ctx := msg.Context()
	e, err := pubsub.EventFrom(msg)
	if err != nil {
		return err // not from the Subscriber: cannot happen
	}
	wait := minBackoff
	for {
		err := f.forward(ctx, e)
		if errors.Is(err, errRewind) {
			return err // the router is stopping
		}
		if err == nil {
			if f.failing {
				f.failing = false
				f.log.Info("publishing to NATS again", "position", e.Position)
			}
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		f.failures.Add(1)
		f.failing = true
		f.log.Warn("publish to NATS failed; retrying", "position", e.Position, "event_id", e.EventID, "retry_in", wait, "err", explain(err))
		if !backoff.Sleep(ctx, wait) {
			return ctx.Err()
		}
		wait = min(2*wait, f.cfg.MaxBackoff)
	}
}

// forward publishes e unless the stream already holds it. When JetStream
// refuses the expected last sequence, it reads the stream's end again and
// goes on from there as long as the end has moved (another instance
// publishes); a refusal at an end that has not moved is an error (the
// caller retries after a wait).
func (f *Forwarder) forward(ctx context.Context, e eventstore.RecordedEvent) error {
	for {
		f.mu.Lock()
		t := f.tail
		f.mu.Unlock()
		if e.Position <= t.position {
			return nil // stored already, by another instance or before a restart
		}
		msg, err := outgoing(e, f.names, f.cfg.Stream, t.seq)
		if err != nil {
			return err
		}
		err = f.pub.Publish(Subject(f.cfg.SubjectPrefix, f.cfg.Topic, e.Type), msg)
		if err == nil {
			// Stored at t.seq+1, or found stored within the duplicate
			// window: then at t.seq+1 too, since an event is stored only
			// right after its predecessor, which t is (unless the copy
			// found was since removed from the stream: see rewind).
			f.setTail(tail{seq: t.seq + 1, position: e.Position})
			f.published.Add(1)
			f.progress(e.Position)
			return nil
		}
		if !wrongLastSequence(err) {
			return fmt.Errorf("publish event %s at position %d: %w", e.EventID, e.Position, err)
		}
		nt, settle, rerr := f.readTail(ctx)
		if rerr != nil {
			return fmt.Errorf("publish event %s at position %d: %w; then %w", e.EventID, e.Position, err, rerr)
		}
		if settle > 0 || nt.position < t.position {
			return f.rewind(t, nt)
		}
		f.setTail(nt)
		if nt == t {
			return fmt.Errorf("publish event %s at position %d: %w, and the stream still ends at sequence %d", e.EventID, e.Position, err, t.seq)
		}
		f.log.Debug("the stream moved on; going on after its end", "expected_sequence", t.seq, "sequence", nt.seq, "position", nt.position)
	}
}

// rewind stops the router, so that the forwarder subscribes again after
// the stream's end (syncTail, which first waits out the duplicate window),
// because the stream has lost events it held, or that the forwarder took
// as stored there: they were purged or deleted, or a copy JetStream
// answered for from its duplicate window was removed. Going on would leave
// them out. It returns errRewind.
func (f *Forwarder) rewind(was, now tail) error {
	f.log.Warn("the JetStream stream lost events it held (purged or deleted?); publishing again after its end",
		"was_position", was.position, "position", now.position, "sequence", now.seq)
	f.rewinding.Store(true)
	f.mu.Lock()
	stop := f.stopRoute
	f.mu.Unlock()
	stop()
	return errRewind
}

// progress logs, at most every progressEvery, how far publishing has come.
func (f *Forwarder) progress(position uint64) {
	f.sinceReport++
	if time.Since(f.reported) < progressEvery {
		return
	}
	f.log.Info("published events to NATS", "events", f.sinceReport, "position", position)
	f.reported, f.sinceReport = time.Now(), 0
}

func (f *Forwarder) setTail(t tail) {
	f.mu.Lock()
	f.tail = t
	f.mu.Unlock()
	f.position.Store(t.position)
}

// wrongLastSequence reports whether JetStream refused a publish for its
// expected last sequence (10164 is the code of replicated streams).
func wrongLastSequence(err error) bool {
	var apiErr *nats.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == nats.JSErrCodeStreamWrongLastSequence || apiErr.ErrorCode == nats.JSErrCodeStreamWrongLastSequenceConstant)
}

// explain makes the error nats.go reports for a request while it is not
// connected (with the reconnect buffer off) say so.
func explain(err error) error {
	if errors.Is(err, nats.ErrReconnectBufExceeded) {
		return fmt.Errorf("not connected to NATS: %w", err)
	}
	return err
}
