package pubsub

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/samspill/samspill/eventstore"
)

// ErrSubscriberClosed is returned by Subscribe after Close.
var ErrSubscriberClosed = errors.New("subscriber closed")

// Subscriber delivers the events of the store's global log to Watermill
// consumers, one topic per subscription. It is safe for concurrent use;
// subscriptions are independent of each other. It does not own the store:
// Close leaves it open, and the owner should close the Subscriber before
// the store (a subscription whose store is closed keeps retrying until it
// ends).
type Subscriber struct {
	store eventstore.Store
	cfg   SubscriberConfig

	mu      sync.Mutex
	closed  bool
	nextID  uint64
	cancels map[uint64]context.CancelFunc // running subscriptions
	wg      sync.WaitGroup
}

var _ message.Subscriber = (*Subscriber)(nil)

// NewSubscriber returns a Subscriber reading store with cfg, after
// cfg.Validate; zero fields of cfg take their defaults.
func NewSubscriber(store eventstore.Store, cfg SubscriberConfig) (*Subscriber, error) {
	err := cfg.Validate()
	if store == nil {
		err = errors.Join(errors.New("nil store"), err)
	}
	if err != nil {
		return nil, fmt.Errorf("new subscriber: %w", err)
	}
	return &Subscriber{
		store:   store,
		cfg:     cfg.withDefaults(),
		cancels: make(map[uint64]context.CancelFunc),
	}, nil
}

// Subscribe starts a subscription to topic (see the package comment) and
// returns its channel. With a consumer group, it first loads the group's
// checkpoint and returns its error; without, it starts at position 0.
//
// Messages arrive in position order, one at a time: the next is sent only
// after the previous one was acked; a nacked one is sent again after
// NackDelay. With DeliverPages a message holds the topic's events of one
// page (see PageFrom), and its ack saves the checkpoint at the page's last
// event. Each message's context is a child of ctx, cancelled once the
// message is acked or nacked or the subscription ends. The subscription
// ends, and the channel is closed, when ctx is done or the Subscriber is
// closed, even while a message waits to be received or acked. Store errors
// are logged and retried with backoff, never skipped.
//
// It returns ErrSubscriberClosed after Close, and an error for an empty
// topic.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic == "" {
		return nil, errors.New("subscribe: empty topic")
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, fmt.Errorf("subscribe to %s: %w", topic, ErrSubscriberClosed)
	}
	id := s.nextID
	s.nextID++
	subCtx, cancel := context.WithCancel(ctx)
	s.cancels[id] = cancel
	s.wg.Add(1)
	s.mu.Unlock()

	done := func() {
		cancel()
		s.mu.Lock()
		delete(s.cancels, id)
		s.mu.Unlock()
		s.wg.Done()
	}

	sub := &subscription{
		store:     s.store,
		topic:     topic,
		delivery:  s.cfg.Delivery,
		pageSize:  s.cfg.PageSize,
		markRead:  s.cfg.MarkRead,
		nackDelay: s.cfg.NackDelay,
		out:       make(chan *message.Message),
	}
	fields := watermill.LogFields{"topic": topic}
	var start uint64
	if s.cfg.ConsumerGroup != "" {
		sub.checkpoints = s.cfg.Checkpoints
		sub.key = CheckpointKey(s.cfg.ConsumerGroup, topic)
		fields["consumer_group"] = s.cfg.ConsumerGroup
		var err error
		if start, err = sub.checkpoints.Load(subCtx, sub.key); err != nil {
			done()
			return nil, fmt.Errorf("subscribe to %s: load checkpoint %s: %w", topic, sub.key, err)
		}
	}
	sub.log = s.cfg.Logger.With(fields)
	sub.log.Debug("subscription started", watermill.LogFields{"after": start})

	go func() {
		defer done()
		sub.run(subCtx, start)
	}()
	return sub.out, nil
}

// Close ends every subscription, waits until their goroutines have
// returned and their channels are closed, and makes later Subscribe calls
// fail with ErrSubscriberClosed. It is safe to call more than once and
// concurrently; it always returns nil.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	s.closed = true
	for _, cancel := range s.cancels {
		cancel()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}
