package pubsub

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
)

// ErrPublisherClosed is returned by Publish after Close.
var ErrPublisherClosed = errors.New("publisher closed")

// eventIDSpace is the name space of the UUIDs EventID derives.
var eventIDSpace = uuid.MustParse("3bfc2794-3f1b-48d5-8865-3917d8a95ff9")

// EventID is the event id under which Publish stores the message with UUID
// messageUUID in topic: a name-based UUID (version 5) of both. The event id
// cannot be the message UUID itself, because Watermill lets one message be
// published to several topics while the store allows an event id only once;
// and a derived id is a UUID whatever the message's UUID looks like.
// Publishing the same messages to the same topic again yields the same ids:
// the store takes it for a retry and writes nothing if they are stored in
// that order already, and refuses it with eventstore.ErrDuplicateEventID
// otherwise (see eventstore.Store.Append).
func EventID(topic, messageUUID string) string {
	return uuid.NewSHA1(eventIDSpace, []byte(topic+"\x00"+messageUUID)).String()
}

// Publisher appends Watermill messages to the event store. It is safe for
// concurrent use. It does not own the store: Close leaves it open.
type Publisher struct {
	store  eventstore.Store
	now    func() time.Time
	closed atomic.Bool
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher returns a Publisher appending to store.
func NewPublisher(store eventstore.Store) *Publisher {
	return &Publisher{store: store, now: time.Now}
}

// Publish appends msgs, in order, to the stream whose id is topic, in ONE
// append with eventstore.Any(): all are stored or none. Each is stored as
// an event of type MessageType, schema version 1, with event id
// EventID(topic, msg.UUID), OccurredAt now, an empty eventstore.Metadata,
// and data {"uuid": UUID, "payload": payload (base64), "metadata": {k: v}},
// so the Subscriber delivers UUID, payload and metadata as published. The
// append runs under the context of the first message.
//
// It returns ErrPublisherClosed after Close, an error for an empty topic, a
// nil message or one without UUID, and the store's errors wrapped (two
// messages with one UUID are eventstore.ErrInvalidAppend; a message already
// published to the topic before, other than as a retry of the same
// publish, is eventstore.ErrDuplicateEventID).
// Publishing no message does nothing.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed.Load() {
		return fmt.Errorf("publish to %s: %w", topic, ErrPublisherClosed)
	}
	if topic == "" {
		return errors.New("publish: empty topic")
	}
	if len(msgs) == 0 {
		return nil
	}
	now := p.now()
	events := make([]eventstore.NewEvent, len(msgs))
	for i, msg := range msgs {
		if msg == nil {
			return fmt.Errorf("publish to %s: message %d is nil", topic, i)
		}
		if msg.UUID == "" {
			return fmt.Errorf("publish to %s: message %d has no uuid", topic, i)
		}
		data, err := encodeMessage(msg.UUID, msg.Payload, msg.Metadata)
		if err != nil {
			return fmt.Errorf("publish to %s: encode message %s: %w", topic, msg.UUID, err)
		}
		events[i] = eventstore.NewEvent{
			EventID:       EventID(topic, msg.UUID),
			Type:          MessageType,
			SchemaVersion: messageSchemaVersion,
			OccurredAt:    now,
			Data:          data,
		}
	}
	_, err := p.store.Append(msgs[0].Context(), eventstore.AppendRequest{
		StreamID: topic,
		Expected: eventstore.Any(),
		Events:   events,
	})
	if err != nil {
		return fmt.Errorf("publish %d messages to %s: %w", len(msgs), topic, err)
	}
	return nil
}

// Close makes later Publish calls fail with ErrPublisherClosed. Publish
// calls already running complete. It leaves the store open, always returns
// nil and may be called more than once.
func (p *Publisher) Close() error {
	p.closed.Store(true)
	return nil
}
