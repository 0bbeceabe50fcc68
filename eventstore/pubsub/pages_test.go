package pubsub_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
)

// pagesConfig is cfg delivering pages.
func pagesConfig(cfg pubsub.SubscriberConfig) pubsub.SubscriberConfig {
	cfg.Delivery = pubsub.DeliverPages
	return cfg
}

// receivePage returns the next message and its events.
func receivePage(t *testing.T, ch <-chan *message.Message) (*message.Message, []eventstore.RecordedEvent) {
	t.Helper()
	msg := receive(t, ch)
	events, err := pubsub.PageFrom(msg)
	require.NoError(t, err)
	return msg, events
}

// positions returns the events' positions.
func positions(events []eventstore.RecordedEvent) []uint64 {
	out := make([]uint64, len(events))
	for i, e := range events {
		out[i] = e.Position
	}
	return out
}

func TestPagesDeliverTheTopicsEventsOfEachPage(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	// Pages of 3: [p p o] [o o o] [p o p] [p]: the all-other page sends
	// nothing, the others their partnership events only.
	var want [][]uint64
	var page []uint64
	for i, stream := range []string{"partnership-1", "partnership-1", "organisation-1", "organisation-1", "organisation-1", "organisation-1",
		"partnership-2", "organisation-1", "partnership-1", "partnership-2"} {
		stored := appendEvents(t, store, stream, someEvents(t, 1)...)
		if pubsub.InTopic(stream, "partnership") {
			page = append(page, stored[0].Position)
		}
		if i%3 == 2 || i == 9 {
			if page != nil {
				want = append(want, page)
			}
			page = nil
		}
	}
	all, err := store.ReadAll(t.Context(), 0, 100)
	require.NoError(t, err)

	sub := newSubscriber(t, store, pagesConfig(pubsub.SubscriberConfig{PageSize: 3}))
	ch := subscribe(t, t.Context(), sub, "partnership")
	for i, w := range want {
		msg, events := receivePage(t, ch)
		assert.Equal(t, w, positions(events), "page %d", i)
		for _, e := range events {
			assert.Equal(t, all[e.Position-1], e, "page %d: the stored envelope", i)
		}
		for k, v := range map[string]string{
			pubsub.MetaPageFirst:  strconv.FormatUint(w[0], 10),
			pubsub.MetaPageLast:   strconv.FormatUint(w[len(w)-1], 10),
			pubsub.MetaPageEvents: strconv.Itoa(len(w)),
			pubsub.MetaPageEnd:    "true",
		} {
			assert.Equal(t, v, msg.Metadata.Get(k), "page %d, metadata %s", i, k)
		}
		fromPayload, err := pubsub.DecodePage(msg.Payload)
		require.NoError(t, err, "page %d: the payload is the page", i)
		assert.Equal(t, events, fromPayload, "page %d: the payload is the page", i)
		expectNothing(t, ch) // the next page only after the ack
		require.True(t, msg.Ack())
	}
	expectNothing(t, ch)

	// An append wakes the subscription; the new page holds only it.
	stored := appendEvents(t, store, "partnership-3", someEvents(t, 1)...)
	_, events := receivePage(t, ch)
	assert.Equal(t, []uint64{stored[0].Position}, positions(events))
}

func TestPagesNackRedeliversTheSamePage(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	stored := appendEvents(t, store, "partnership-1", someEvents(t, 5)...)
	const delay = 50 * time.Millisecond
	sub := newSubscriber(t, store, pagesConfig(pubsub.SubscriberConfig{PageSize: 3, NackDelay: delay}))
	ch := subscribe(t, t.Context(), sub, "partnership")

	first, events := receivePage(t, ch)
	require.Equal(t, positions(stored[:3]), positions(events))
	for range 2 {
		nackedAt := time.Now()
		require.True(t, first.Nack())
		again, events := receivePage(t, ch)
		assert.GreaterOrEqual(t, time.Since(nackedAt), delay, "redelivered before NackDelay")
		assert.NotSame(t, first, again, "a fresh message each time")
		assert.Equal(t, first.UUID, again.UUID)
		assert.Equal(t, positions(stored[:3]), positions(events))
		first = again
	}
	require.True(t, first.Ack())
	_, events = receivePage(t, ch)
	assert.Equal(t, positions(stored[3:]), positions(events))
}

func TestPagesCheckpointAtTheLastEventOfEachPage(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	stored := appendEvents(t, store, "partnership-1", someEvents(t, 5)...)
	appendEvents(t, store, "organisation-1", someEvents(t, 1)...)
	checkpoints := pubsub.NewMemoryCheckpoints()
	cfg := pagesConfig(pubsub.SubscriberConfig{ConsumerGroup: "timeline", Checkpoints: checkpoints, PageSize: 2})
	key := pubsub.CheckpointKey("timeline", "partnership")

	first := newSubscriber(t, store, cfg)
	ch := subscribe(t, t.Context(), first, "partnership")
	msg, events := receivePage(t, ch)
	require.Equal(t, positions(stored[:2]), positions(events))
	msg.Ack()
	require.Eventually(t, func() bool {
		p, _ := checkpoints.Load(t.Context(), key)
		return p == stored[1].Position
	}, waitFor, time.Millisecond)
	_, events = receivePage(t, ch) // never acked: must come again
	require.Equal(t, positions(stored[2:4]), positions(events))
	require.NoError(t, first.Close())
	expectClosedSoon(t, ch)

	second := newSubscriber(t, store, cfg)
	ch = subscribe(t, t.Context(), second, "partnership")
	for _, want := range [][]eventstore.RecordedEvent{stored[2:4], stored[4:]} {
		msg, events := receivePage(t, ch)
		assert.Equal(t, positions(want), positions(events))
		msg.Ack()
	}
	expectNothing(t, ch)
	p, err := checkpoints.Load(t.Context(), key)
	require.NoError(t, err)
	assert.Equal(t, stored[4].Position, p)
}

func TestPagesReadOnePageAhead(t *testing.T) {
	t.Parallel()
	inner := openStore(t)
	appendEvents(t, inner, "partnership-1", someEvents(t, 8)...)
	store := &countingStore{Store: inner}
	sub := newSubscriber(t, store, pagesConfig(pubsub.SubscriberConfig{PageSize: 2}))
	ch := subscribe(t, t.Context(), sub, "partnership")
	msg := receive(t, ch)
	// While the first page is out, the second is read, and no more.
	require.Eventually(t, func() bool { return store.count() == 2 }, waitFor, time.Millisecond)
	time.Sleep(waitNot)
	assert.Equal(t, 2, store.count(), "read more than one page ahead")
	msg.Ack()
	msg = receive(t, ch)
	require.Eventually(t, func() bool { return store.count() == 3 }, waitFor, time.Millisecond)
	msg.Ack()
}

func TestPageFrom(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	stored := appendEvents(t, store, "partnership-1", someEvents(t, 2)...)

	// A message of one event gives that event.
	events := newSubscriber(t, store, pubsub.SubscriberConfig{})
	msg := receive(t, subscribe(t, t.Context(), events, "partnership"))
	got, err := pubsub.PageFrom(msg)
	require.NoError(t, err)
	assert.Equal(t, stored[:1], got)
	msg.Ack()

	// A page message carries its events as payload: a copy carries them
	// too; a spoilt payload is refused.
	pages := newSubscriber(t, store, pagesConfig(pubsub.SubscriberConfig{}))
	msg = receive(t, subscribe(t, t.Context(), pages, "partnership"))
	got, err = pubsub.PageFrom(msg)
	require.NoError(t, err)
	assert.Equal(t, stored, got)
	copied, err := pubsub.PageFrom(msg.Copy())
	require.NoError(t, err)
	assert.Equal(t, stored, copied)
	spoilt := msg.Copy()
	spoilt.Payload = spoilt.Payload[:len(spoilt.Payload)-1]
	_, err = pubsub.PageFrom(spoilt)
	assert.ErrorIs(t, err, pubsub.ErrNotStoredEvent)
	assert.ErrorIs(t, err, pubsub.ErrMalformedPage)
	_, err = pubsub.PageFrom(nil)
	assert.ErrorIs(t, err, pubsub.ErrNotStoredEvent)
	msg.Ack()
}

func TestPagesThroughARouter(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	var want []uint64
	for i := range 3 {
		for _, e := range appendEvents(t, store, "partnership-"+strconv.Itoa(i), someEvents(t, 9)...) {
			want = append(want, e.Position)
		}
		appendEvents(t, store, "organisation-1", someEvents(t, 1)...)
	}
	sub := newSubscriber(t, store, pagesConfig(pubsub.SubscriberConfig{PageSize: 4}))
	router, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	require.NoError(t, err)
	got := make(chan []uint64, 100)
	failOnce := true
	router.AddConsumerHandler("pages", "partnership", sub, func(msg *message.Message) error {
		events, err := pubsub.PageFrom(msg)
		if err != nil {
			return err
		}
		if failOnce { // a failed handler nacks: the page comes again
			failOnce = false
			return errInjected
		}
		got <- positions(events)
		return nil
	})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() { _ = router.Run(ctx) }()
	var seen []uint64
	for len(seen) < len(want) {
		select {
		case p := <-got:
			seen = append(seen, p...)
		case <-time.After(waitFor):
			t.Fatalf("handled %v, want %v", seen, want)
		}
	}
	assert.Equal(t, want, seen)
	require.NoError(t, router.Close())
}

func TestPagesEndWithTheirContext(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	appendEvents(t, store, "partnership-1", someEvents(t, 6)...)
	sub := newSubscriber(t, store, pagesConfig(pubsub.SubscriberConfig{PageSize: 2}))
	for name, prepare := range map[string]func(ch <-chan *message.Message){
		"blocked on send":    func(ch <-chan *message.Message) {},
		"blocked on ack":     func(ch <-chan *message.Message) { receive(t, ch) },
		"waiting out a nack": func(ch <-chan *message.Message) { receive(t, ch).Nack() },
		"blocked on head": func(ch <-chan *message.Message) {
			for range 3 {
				receive(t, ch).Ack()
			}
			expectNothing(t, ch)
		},
	} {
		ctx, cancel := context.WithCancel(t.Context())
		ch := subscribe(t, ctx, sub, "partnership")
		prepare(ch)
		cancel()
		expectClosedSoon(t, ch)
		t.Logf("%s: closed", name)
	}
}

// TestPagesLeaveNoGoroutine is not parallel: it counts goroutines.
func TestPagesLeaveNoGoroutine(t *testing.T) {
	store := openStore(t)
	appendEvents(t, store, "partnership-1", someEvents(t, 5)...)
	baseline := settledGoroutines()
	sub, err := pubsub.NewSubscriber(store, pagesConfig(pubsub.SubscriberConfig{PageSize: 2}))
	require.NoError(t, err)
	for i := range 12 {
		switch i % 3 {
		case 0: // blocked on send, the next page read
			subscribe(t, t.Context(), sub, "partnership")
		case 1: // waiting for the head to move
			expectNothing(t, subscribe(t, t.Context(), sub, "organisation"))
		case 2: // blocked on ack
			receive(t, subscribe(t, t.Context(), sub, "partnership"))
		}
	}
	require.NoError(t, sub.Close())
	expectNoLeak(t, baseline)
}

// TestPageCodecRoundTripsEveryField encodes events with every field set,
// times outside the range of UnixNano among them, and decodes them back;
// every truncation of the payload, and a payload with bytes to spare or
// of another format, is refused.
func TestPageCodecRoundTripsEveryField(t *testing.T) {
	t.Parallel()
	events := []eventstore.RecordedEvent{
		{
			EventID: "e1", Type: "MilestoneLogged", SchemaVersion: 2, StreamID: "partnership-1", Version: 7, Position: 1 << 40,
			OccurredAt: time.Date(1601, 1, 2, 3, 4, 5, 6, time.UTC), RecordedAt: time.Date(2026, 11, 30, 23, 59, 59, 999999999, time.UTC),
			Metadata: eventstore.Metadata{Actor: eventstore.Actor{Subject: "åse", Role: "coordinator"}, CorrelationID: "c", CausationID: "d", IdempotencyKey: "k"},
			Data:     []byte(`{"title":"møte"}`),
		},
		{EventID: "e2", Type: "GoalChanged", SchemaVersion: -1, StreamID: "s", OccurredAt: time.Unix(0, 0).UTC(), RecordedAt: time.Date(2300, 1, 1, 0, 0, 0, 1, time.UTC), Data: []byte(`{}`)},
	}
	payload := pubsub.EncodePage(events)
	got, err := pubsub.DecodePage(payload)
	require.NoError(t, err)
	assert.Equal(t, events, got)
	clear(payload) // the events own their memory
	assert.Equal(t, events, got)

	payload = pubsub.EncodePage(events)
	for n := range len(payload) {
		_, err := pubsub.DecodePage(payload[:n])
		assert.ErrorIs(t, err, pubsub.ErrMalformedPage, "truncated to %d of %d bytes", n, len(payload))
	}
	_, err = pubsub.DecodePage(append(payload, 0))
	assert.ErrorIs(t, err, pubsub.ErrMalformedPage, "a byte to spare")
	payload[0]++
	_, err = pubsub.DecodePage(payload)
	assert.ErrorIs(t, err, pubsub.ErrMalformedPage, "another format")
	empty, err := pubsub.DecodePage(pubsub.EncodePage(nil))
	require.NoError(t, err)
	assert.Empty(t, empty)
}
