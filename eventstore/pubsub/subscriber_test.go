package pubsub_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
)

func TestDeliversStoreEventsInOrder(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	a, b := "partnership-"+uuid.NewString(), "partnership-"+uuid.NewString()
	var want []eventstore.RecordedEvent
	for i, e := range someEvents(t, 12) {
		stream := a
		if i%3 == 0 {
			stream = b
		}
		want = append(want, appendEvents(t, store, stream, e)...)
		appendEvents(t, store, "organisation-"+uuid.NewString(), someEvents(t, 1)...) // another topic
	}

	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	ch := subscribe(t, t.Context(), sub, "partnership")
	for i, w := range want {
		msg := receive(t, ch)
		assert.Equal(t, w.EventID, msg.UUID, "message %d", i)
		assert.JSONEq(t, string(w.Data), string(msg.Payload), "message %d", i)
		envelope, err := json.Marshal(w.Metadata)
		require.NoError(t, err)
		for k, v := range map[string]string{
			pubsub.MetaEventID:       w.EventID,
			pubsub.MetaType:          w.Type,
			pubsub.MetaSchemaVersion: "1",
			pubsub.MetaStreamID:      w.StreamID,
			pubsub.MetaVersion:       strconv.FormatUint(w.Version, 10),
			pubsub.MetaPosition:      strconv.FormatUint(w.Position, 10),
			pubsub.MetaOccurredAt:    "2025-03-01T11:00:00.123456789Z",
			pubsub.MetaRecordedAt:    w.RecordedAt.UTC().Format(time.RFC3339Nano),
			pubsub.MetaEnvelope:      string(envelope),
		} {
			assert.Equal(t, v, msg.Metadata.Get(k), "message %d, metadata %s", i, k)
		}
		if i == len(want)-1 {
			assert.Equal(t, "true", msg.Metadata.Get(pubsub.MetaPageEnd), "last message of the page")
		} else {
			assert.NotContains(t, msg.Metadata, pubsub.MetaPageEnd, "message %d", i)
		}
		require.True(t, msg.Ack())
	}
	expectNothing(t, ch)
}

func TestTopicMembership(t *testing.T) {
	t.Parallel()
	for stream, want := range map[string]bool{
		"partnership":            true,
		"partnership-1":          true,
		"partnership-" + "x-y-z": true,
		"partnership-":           true,
		"partnerships-1":         false,
		"partnershipX":           false,
		"partner-1":              false,
		"organisation-1":         false,
		"":                       false,
	} {
		assert.Equal(t, want, pubsub.InTopic(stream, "partnership"), "stream %q", stream)
	}
}

func TestTopicFiltering(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	var want []string
	for _, stream := range []string{"partnershipX", "partnership", "partnerships-x", "partnership-1", "partner-1", "partnership-2-b"} {
		got := appendEvents(t, store, stream, someEvents(t, 1)...)
		if pubsub.InTopic(stream, "partnership") {
			want = append(want, got[0].EventID)
		}
	}
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	ch := subscribe(t, t.Context(), sub, "partnership")
	var got []string
	for range want {
		msg := receive(t, ch)
		got = append(got, msg.UUID)
		msg.Ack()
	}
	assert.Equal(t, want, got)
	expectNothing(t, ch)
}

func TestNackRedeliversSameMessage(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	stored := appendEvents(t, store, "partnership-1", someEvents(t, 2)...)
	const delay = 50 * time.Millisecond
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{NackDelay: delay})
	ch := subscribe(t, t.Context(), sub, "partnership")

	first := receive(t, ch)
	require.Equal(t, stored[0].EventID, first.UUID)
	for range 3 {
		first.Payload[0] = 'X' // a handler scribbling on the payload must not change the redelivery
		first.Metadata.Set("scribbled", "yes")
		nackedAt := time.Now()
		require.True(t, first.Nack())
		again := receive(t, ch)
		assert.GreaterOrEqual(t, time.Since(nackedAt), delay, "redelivered before NackDelay")
		assert.NotSame(t, first, again, "a fresh message each time")
		assert.Equal(t, stored[0].EventID, again.UUID)
		assert.JSONEq(t, string(stored[0].Data), string(again.Payload))
		assert.NotContains(t, again.Metadata, "scribbled")
		first = again
	}
	require.True(t, first.Ack())
	second := receive(t, ch)
	assert.Equal(t, stored[1].EventID, second.UUID)
	second.Ack()
	expectNothing(t, ch)
}

func TestNoNextMessageBeforeAck(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	stored := appendEvents(t, store, "partnership-1", someEvents(t, 2)...)
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	ch := subscribe(t, t.Context(), sub, "partnership")
	msg := receive(t, ch)
	expectNothing(t, ch)
	msg.Ack()
	assert.Equal(t, stored[1].EventID, receive(t, ch).UUID)
}

func TestCheckpointResume(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	stored := appendEvents(t, store, "partnership-1", someEvents(t, 5)...)
	appendEvents(t, store, "organisation-1", someEvents(t, 1)...)
	checkpoints := pubsub.NewMemoryCheckpoints()
	cfg := pubsub.SubscriberConfig{ConsumerGroup: "timeline", Checkpoints: checkpoints}
	key := pubsub.CheckpointKey("timeline", "partnership")

	first := newSubscriber(t, store, cfg)
	ch := subscribe(t, t.Context(), first, "partnership")
	for i := range 3 {
		msg := receive(t, ch)
		require.Equal(t, stored[i].EventID, msg.UUID)
		msg.Ack()
		require.Eventually(t, func() bool {
			p, _ := checkpoints.Load(t.Context(), key)
			return p == stored[i].Position
		}, waitFor, time.Millisecond, "checkpoint after ack %d", i)
	}
	unacked := receive(t, ch) // received, never acked: must come again
	require.Equal(t, stored[3].EventID, unacked.UUID)
	require.NoError(t, first.Close())
	expectClosedSoon(t, ch)

	// The same group resumes after the last ack.
	second := newSubscriber(t, store, cfg)
	ch = subscribe(t, t.Context(), second, "partnership")
	for _, want := range stored[3:] {
		msg := receive(t, ch)
		assert.Equal(t, want.EventID, msg.UUID)
		msg.Ack()
	}
	expectNothing(t, ch)

	// Another topic of the same group has its own checkpoint.
	other := subscribe(t, t.Context(), second, "organisation")
	receive(t, other).Ack()
	p, err := checkpoints.Load(t.Context(), key)
	require.NoError(t, err)
	assert.Equal(t, stored[4].Position, p, "the organisation ack moved the partnership checkpoint")

	// Without a group, every subscription starts at position 0.
	for range 2 {
		plain := newSubscriber(t, store, pubsub.SubscriberConfig{})
		ch := subscribe(t, t.Context(), plain, "partnership")
		msg := receive(t, ch)
		assert.Equal(t, stored[0].EventID, msg.UUID)
		msg.Ack()
		require.NoError(t, plain.Close())
	}
}

func TestPageEnd(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	// Pages of 3: [p p p] [p p p] [p o o] [p] — page_end marks the last
	// message of the topic in each page.
	var streams []string
	for range 7 {
		streams = append(streams, "partnership-1")
	}
	streams = append(streams, "organisation-1", "organisation-1", "partnership-2")
	for _, s := range streams {
		appendEvents(t, store, s, someEvents(t, 1)...)
	}
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{PageSize: 3})
	ch := subscribe(t, t.Context(), sub, "partnership")
	var marks []bool
	for range 8 {
		msg := receive(t, ch)
		marks = append(marks, msg.Metadata.Get(pubsub.MetaPageEnd) == "true")
		msg.Ack()
	}
	assert.Equal(t, []bool{false, false, true, false, false, true, true, true}, marks)
}

// countingStore counts ReadAll calls.
type countingStore struct {
	eventstore.Store
	mu    sync.Mutex
	reads int
}

func (c *countingStore) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	c.mu.Lock()
	c.reads++
	c.mu.Unlock()
	return c.Store.ReadAll(ctx, after, limit)
}

func (c *countingStore) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.reads
}

func TestWakesOnAppendWithoutPolling(t *testing.T) {
	t.Parallel()
	inner := openStore(t) // appendEvents reads too: use it directly
	store := &countingStore{Store: inner}
	appendEvents(t, inner, "partnership-1", someEvents(t, 1)...)
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	ch := subscribe(t, t.Context(), sub, "partnership")
	receive(t, ch).Ack()

	// Caught up: the subscription reads once more, finds nothing, and waits.
	require.Eventually(t, func() bool { return store.count() == 2 }, waitFor, time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, 2, store.count(), "ReadAll called while nothing was appended: polling")

	for range 3 {
		stored := appendEvents(t, inner, "partnership-1", someEvents(t, 1)...)
		start := time.Now()
		msg := receive(t, ch)
		assert.Less(t, time.Since(start), time.Second, "slow wake-up")
		assert.Equal(t, stored[0].EventID, msg.UUID)
		msg.Ack()
	}
	// Appends to other topics wake the subscription too, but deliver nothing.
	appendEvents(t, inner, "organisation-1", someEvents(t, 1)...)
	expectNothing(t, ch)
}

func TestCloseEndsSubscriptions(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	appendEvents(t, store, "partnership-1", someEvents(t, 3)...)
	appendEvents(t, store, "organisation-1", someEvents(t, 1)...)
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})

	blockedOnSend := subscribe(t, t.Context(), sub, "partnership")
	blockedOnAck := subscribe(t, t.Context(), sub, "partnership")
	unacked := receive(t, blockedOnAck)
	waiting := subscribe(t, t.Context(), sub, "nothing-here")
	expectNothing(t, waiting) // caught up, blocked on HeadMoved

	returnsWithin(t, "Close", func() { require.NoError(t, sub.Close()) })
	// Close returns only after every channel is closed.
	expectClosed(t, blockedOnSend)
	expectClosed(t, blockedOnAck)
	expectClosed(t, waiting)
	select {
	case <-unacked.Context().Done():
	default:
		t.Error("the unacked message's context is not cancelled after Close")
	}

	require.NoError(t, sub.Close(), "second Close")
	_, err := sub.Subscribe(t.Context(), "partnership")
	assert.ErrorIs(t, err, pubsub.ErrSubscriberClosed)
}

func TestContextCancelEndsSubscription(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	appendEvents(t, store, "partnership-1", someEvents(t, 3)...)
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})

	for name, prepare := range map[string]func(ch <-chan *message.Message){
		"blocked on send": func(ch <-chan *message.Message) {},
		"blocked on ack":  func(ch <-chan *message.Message) { receive(t, ch) },
		"blocked on head": func(ch <-chan *message.Message) {
			for range 3 {
				receive(t, ch).Ack()
			}
			expectNothing(t, ch)
		},
		"waiting out a nack": func(ch <-chan *message.Message) { receive(t, ch).Nack() },
	} {
		ctx, cancel := context.WithCancel(t.Context())
		ch := subscribe(t, ctx, sub, "partnership")
		prepare(ch)
		cancel()
		expectClosedSoon(t, ch)
		t.Logf("%s: closed", name)
	}
	// The Subscriber itself goes on.
	ch := subscribe(t, t.Context(), sub, "partnership")
	receive(t, ch).Ack()
}

func TestMessageContext(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	appendEvents(t, store, "partnership-1", someEvents(t, 2)...)
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	type key struct{}
	ctx := context.WithValue(t.Context(), key{}, "value")
	ch := subscribe(t, ctx, sub, "partnership")

	msg := receive(t, ch)
	assert.Equal(t, "value", msg.Context().Value(key{}), "message context derives from the subscription's")
	assert.NoError(t, msg.Context().Err())
	msg.Ack()
	<-msg.Context().Done() // cancelled once acked
	next := receive(t, ch)
	next.Nack()
	<-next.Context().Done()
}

func TestReadErrorsAreRetried(t *testing.T) {
	t.Parallel()
	store := &flakyStore{Store: openStore(t)}
	stored := appendEvents(t, store, "partnership-1", someEvents(t, 3)...)
	store.failReads.Store(3)
	logs := watermill.NewCaptureLogger()
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{Logger: logs})
	ch := subscribe(t, t.Context(), sub, "partnership")
	for _, want := range stored {
		msg := receive(t, ch)
		assert.Equal(t, want.EventID, msg.UUID)
		msg.Ack()
	}
	assert.GreaterOrEqual(t, store.reads.Load(), int64(4))
	assert.True(t, logs.HasError(errInjected) || hasWrappedError(logs, errInjected), "read failure not logged")
}

func hasWrappedError(logs *watermill.CaptureLoggerAdapter, target error) bool {
	for _, m := range logs.Captured()[watermill.ErrorLogLevel] {
		if errors.Is(m.Err, target) {
			return true
		}
	}
	return false
}

func TestSaveErrorsAreRetried(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	stored := appendEvents(t, store, "partnership-1", someEvents(t, 2)...)
	checkpoints := &flakyCheckpoints{MemoryCheckpoints: pubsub.NewMemoryCheckpoints()}
	checkpoints.failSaves.Store(2)
	logs := watermill.NewCaptureLogger()
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{ConsumerGroup: "g", Checkpoints: checkpoints, Logger: logs})
	ch := subscribe(t, t.Context(), sub, "partnership")

	receive(t, ch).Ack()
	second := receive(t, ch) // only once the first position is saved
	p, err := checkpoints.Load(t.Context(), pubsub.CheckpointKey("g", "partnership"))
	require.NoError(t, err)
	assert.Equal(t, stored[0].Position, p)
	assert.Equal(t, []uint64{stored[0].Position, stored[0].Position, stored[0].Position}, checkpoints.saveAttempts())
	assert.True(t, hasWrappedError(logs, errInjected), "save failure not logged")
	second.Ack()
}

func TestCorruptWrappedMessageIsDeliveredRaw(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	bad := partnershipEvent(t, pubsub.MessageType, map[string]any{"payload": 42})
	stored := appendEvents(t, store, "partnership-1", bad)
	logs := watermill.NewCaptureLogger()
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{Logger: logs})
	msg := receive(t, subscribe(t, t.Context(), sub, "partnership"))
	assert.Equal(t, stored[0].EventID, msg.UUID)
	assert.JSONEq(t, string(stored[0].Data), string(msg.Payload))
	assert.Len(t, logs.Captured()[watermill.ErrorLogLevel], 1)
	msg.Ack()
}

func TestConcurrentSubscriptions(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{PageSize: 7})
	const topics, perTopic, subsPerTopic = 5, 40, 4

	var wg sync.WaitGroup
	for i := range topics {
		topic := fmt.Sprintf("topic%d", i)
		for range subsPerTopic {
			wg.Go(func() {
				ch, err := sub.Subscribe(t.Context(), topic)
				if !assert.NoError(t, err) {
					return
				}
				last := uint64(0)
				for n := range perTopic {
					select {
					case msg := <-ch:
						assert.True(t, pubsub.InTopic(msg.Metadata.Get(pubsub.MetaStreamID), topic))
						pos, _ := strconv.ParseUint(msg.Metadata.Get(pubsub.MetaPosition), 10, 64)
						assert.Greater(t, pos, last, "out of order")
						last = pos
						msg.Ack()
					case <-time.After(waitFor):
						t.Errorf("%s: %d of %d messages", topic, n, perTopic)
						return
					}
				}
			})
		}
	}
	// Append while the subscriptions run, from several writers.
	for i := range topics {
		wg.Go(func() {
			for j := range perTopic {
				appendEvents(t, store, fmt.Sprintf("topic%d-%d", i, j%3), someEvents(t, 1)...)
			}
		})
	}
	wg.Wait()
}

func TestSubscribeErrors(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	_, err := sub.Subscribe(t.Context(), "")
	assert.Error(t, err)

	failing := &failingLoad{}
	sub = newSubscriber(t, store, pubsub.SubscriberConfig{ConsumerGroup: "g", Checkpoints: failing})
	_, err = sub.Subscribe(t.Context(), "partnership")
	assert.ErrorIs(t, err, errInjected)
	returnsWithin(t, "Close", func() { assert.NoError(t, sub.Close()) })
}

type failingLoad struct{ pubsub.MemoryCheckpoints }

func (*failingLoad) Load(context.Context, string) (uint64, error) { return 0, errInjected }

// TestNoGoroutineLeak is not parallel: it counts goroutines.
func TestNoGoroutineLeak(t *testing.T) {
	store := openStore(t)
	appendEvents(t, store, "partnership-1", someEvents(t, 5)...)
	baseline := settledGoroutines()

	sub, err := pubsub.NewSubscriber(store, pubsub.SubscriberConfig{ConsumerGroup: "g", Checkpoints: pubsub.NewMemoryCheckpoints()})
	require.NoError(t, err)
	ctx := t.Context()
	for i := range 20 {
		switch i % 4 {
		case 0: // blocked on send
			subscribe(t, ctx, sub, "partnership")
		case 1: // waiting for the head to move
			expectNothing(t, subscribe(t, ctx, sub, "organisation"))
		case 2: // blocked on ack
			receive(t, subscribe(t, ctx, sub, "partnership-1"))
		case 3: // waiting out a nack
			receive(t, subscribe(t, ctx, sub, "partnership")).Nack()
		}
	}
	endCtx, end := context.WithCancel(t.Context())
	ended := subscribe(t, endCtx, sub, "partnership")
	end()
	expectClosedSoon(t, ended)
	running, _ := packageGoroutines()
	require.GreaterOrEqual(t, running, 20, "the leak check must see the running subscriptions")
	require.NoError(t, sub.Close())
	expectNoLeak(t, baseline)
}
