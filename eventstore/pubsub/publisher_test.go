package pubsub_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
)

func TestPublishRoundTrip(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	pub := pubsub.NewPublisher(store)
	binary := message.NewMessage("not-a-uuid", []byte{0, 1, 2, 0xff, '"', '\\'})
	binary.Metadata.Set("name", "samspill.PartnerJoined")
	binary.Metadata.Set("correlation_id", uuid.NewString())
	empty := message.NewMessage(uuid.NewString(), nil)
	empty.Metadata = nil
	text := message.NewMessage(uuid.NewString(), []byte(`{"not": "parsed"}`))
	sent := []*message.Message{binary, empty, text}
	require.NoError(t, pub.Publish("commands-x", sent...))

	stored, err := store.ReadStream(t.Context(), "commands-x")
	require.NoError(t, err)
	require.Len(t, stored, 3)
	for i, e := range stored {
		assert.Equal(t, pubsub.EventID("commands-x", sent[i].UUID), e.EventID)
		assert.Equal(t, pubsub.MessageType, e.Type)
		assert.Equal(t, 1, e.SchemaVersion)
		assert.Equal(t, uint64(i+1), e.Version)
		var data map[string]any
		require.NoError(t, json.Unmarshal(e.Data, &data))
		assert.Equal(t, sent[i].UUID, data["uuid"])
	}
	assert.Equal(t, stored[0].RecordedAt, stored[2].RecordedAt, "one append")

	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	ch := subscribe(t, t.Context(), sub, "commands")
	for i, want := range sent {
		got := receive(t, ch)
		assert.Equal(t, want.UUID, got.UUID)
		assert.Equal(t, []byte(want.Payload), []byte(got.Payload), "message %d", i)
		for k, v := range want.Metadata {
			assert.Equal(t, v, got.Metadata.Get(k), "message %d, metadata %s", i, k)
		}
		assert.Equal(t, stored[i].EventID, got.Metadata.Get(pubsub.MetaEventID))
		assert.Equal(t, pubsub.MessageType, got.Metadata.Get(pubsub.MetaType))
		got.Ack()
	}
}

func TestPublishIsAtomic(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	pub := pubsub.NewPublisher(store)
	a := message.NewMessage(uuid.NewString(), []byte("a"))
	err := pub.Publish("topic-1", a, message.NewMessage(uuid.NewString(), []byte("b")), a.Copy())
	require.ErrorIs(t, err, eventstore.ErrInvalidAppend)
	head, err := store.Head(t.Context())
	require.NoError(t, err)
	assert.Zero(t, head, "nothing stored")
}

func TestPublishSameMessageToSeveralTopics(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	pub := pubsub.NewPublisher(store)
	msg := message.NewMessage(uuid.NewString(), []byte("x"))
	require.NoError(t, pub.Publish("topic-a", msg))
	require.NoError(t, pub.Publish("topic-b", msg.Copy()))
	// A retry of the same publish is deduplicated by the store.
	require.NoError(t, pub.Publish("topic-b", msg.Copy()))
	head, err := store.Head(t.Context())
	require.NoError(t, err)
	assert.Equal(t, uint64(2), head)

	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	for _, topic := range []string{"topic-a", "topic-b"} {
		got := receive(t, subscribe(t, t.Context(), sub, topic))
		assert.Equal(t, msg.UUID, got.UUID)
		assert.Equal(t, pubsub.EventID(topic, msg.UUID), got.Metadata.Get(pubsub.MetaEventID))
	}
}

func TestPublishErrors(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	pub := pubsub.NewPublisher(store)
	assert.NoError(t, pub.Publish("topic"), "no messages: nothing to do")
	assert.Error(t, pub.Publish("", message.NewMessage(uuid.NewString(), nil)))
	assert.Error(t, pub.Publish("topic", message.NewMessage("", nil)))
	assert.Error(t, pub.Publish("topic", nil))

	cancelled := message.NewMessage(uuid.NewString(), nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cancelled.SetContext(ctx)
	assert.ErrorIs(t, pub.Publish("topic", cancelled), context.Canceled, "the first message's context bounds the append")

	require.NoError(t, pub.Close())
	require.NoError(t, pub.Close())
	assert.ErrorIs(t, pub.Publish("topic", message.NewMessage(uuid.NewString(), nil)), pubsub.ErrPublisherClosed)
	_, err := store.Head(t.Context())
	assert.NoError(t, err, "closing the publisher leaves the store open")
}
