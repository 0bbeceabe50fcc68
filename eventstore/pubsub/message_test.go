package pubsub_test

import (
	"errors"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/pubsub"
)

func TestEventFromRoundTrip(t *testing.T) {
	t.Parallel()
	store := openStore(t)
	appendEvents(t, store, "partnership-1", someEvents(t, 3)...)
	published := message.NewMessage(uuid.NewString(), []byte{1, 2, 3})
	published.Metadata.Set("name", "partnership.GoalChanged")
	require.NoError(t, pubsub.NewPublisher(store).Publish("partnership-2", published))
	appendEvents(t, store, "partnership-1", someEvents(t, 1)...)

	want, err := store.ReadAll(t.Context(), 0, 100)
	require.NoError(t, err)
	require.Len(t, want, 5)

	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	ch := subscribe(t, t.Context(), sub, "partnership")
	for i, w := range want {
		msg := receive(t, ch)
		got, err := pubsub.EventFrom(msg)
		require.NoError(t, err, "message %d", i)
		assert.Equal(t, w, got, "message %d", i)
		msg.Ack()
	}
}

func TestEventFromRefusesIncompleteMessages(t *testing.T) {
	t.Parallel()
	_, err := pubsub.EventFrom(message.NewMessage(uuid.NewString(), []byte(`{}`)))
	require.ErrorIs(t, err, pubsub.ErrNotStoredEvent)
	for _, key := range []string{pubsub.MetaEventID, pubsub.MetaType, pubsub.MetaStreamID, pubsub.MetaPosition, pubsub.MetaEnvelope} {
		assert.ErrorContains(t, err, `"`+key+`" missing`)
	}

	_, err = pubsub.EventFrom(nil)
	assert.ErrorIs(t, err, pubsub.ErrNotStoredEvent)

	store := openStore(t)
	appendEvents(t, store, "partnership-1", someEvents(t, 1)...)
	sub := newSubscriber(t, store, pubsub.SubscriberConfig{})
	delivered := receive(t, subscribe(t, t.Context(), sub, "partnership"))
	for name, spoil := range map[string]func(m *message.Message){
		"version not a number":   func(m *message.Message) { m.Metadata.Set(pubsub.MetaVersion, "seven") },
		"negative position":      func(m *message.Message) { m.Metadata.Set(pubsub.MetaPosition, "-1") },
		"bad time":               func(m *message.Message) { m.Metadata.Set(pubsub.MetaRecordedAt, "yesterday") },
		"envelope not JSON":      func(m *message.Message) { m.Metadata.Set(pubsub.MetaEnvelope, "{") },
		"schema version missing": func(m *message.Message) { delete(m.Metadata, pubsub.MetaSchemaVersion) },
		"payload not JSON":       func(m *message.Message) { m.Payload = []byte("nope") },
	} {
		msg := delivered.Copy()
		_, err := pubsub.EventFrom(msg)
		require.NoError(t, err, "unspoilt copy")
		spoil(msg)
		_, err = pubsub.EventFrom(msg)
		assert.ErrorIs(t, err, pubsub.ErrNotStoredEvent, name)
		var joined interface{ Unwrap() []error }
		assert.True(t, errors.As(err, &joined), "%s: %v", name, err)
	}
	var zero eventstore.RecordedEvent
	got, err := pubsub.EventFrom(message.NewMessage("x", nil))
	assert.Error(t, err)
	assert.Equal(t, zero, got)
}
