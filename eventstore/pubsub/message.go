package pubsub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
)

// MessageType is the event type the Publisher stores a Watermill message
// under. The Subscriber unwraps events of this type back into the message
// that was published.
const MessageType = "WatermillMessage"

// messageSchemaVersion is the schema version of MessageType events.
const messageSchemaVersion = 1

// Metadata keys the Subscriber sets on every message built from a stored
// event, whatever its type. They take precedence over a published
// message's own metadata of the same name.
const (
	// MetaEventID is the event's id. For events of other types than
	// MessageType it equals the message UUID; for MessageType events the
	// UUID is the published message's and the event id is EventID(topic,
	// UUID).
	MetaEventID = "event_id"
	// MetaType is the event type.
	MetaType = "type"
	// MetaSchemaVersion is the payload schema version, in decimal.
	MetaSchemaVersion = "schema_version"
	// MetaStreamID is the id of the event's stream.
	MetaStreamID = "stream_id"
	// MetaVersion is the event's version in its stream, in decimal.
	MetaVersion = "version"
	// MetaPosition is the event's position in the global log, in decimal.
	MetaPosition = "position"
	// MetaOccurredAt is when the event happened, RFC 3339 with nanoseconds,
	// UTC.
	MetaOccurredAt = "occurred_at"
	// MetaRecordedAt is when the store recorded the event, RFC 3339 with
	// nanoseconds, UTC.
	MetaRecordedAt = "recorded_at"
	// MetaEnvelope is the JSON of the event's eventstore.Metadata (actor,
	// correlation, causation, idempotency key).
	MetaEnvelope = "metadata"
	// MetaPageEnd is "true" on the last message of the topic delivered from
	// one ReadAll page: the consumer has then caught up with what was read,
	// a good moment to commit a batch. It is absent on other messages.
	MetaPageEnd = "page_end"
)

// Metadata keys of the messages DeliverPages sends, besides MetaPageEnd
// ("true" on every one of them: a page message always ends its page).
const (
	// MetaPageFirst is the position of the page's first event, in decimal.
	MetaPageFirst = "page_first"
	// MetaPageLast is the position of the page's last event, in decimal:
	// the checkpoint an ack saves.
	MetaPageLast = "page_last"
	// MetaPageEvents is how many events the page holds, in decimal.
	MetaPageEvents = "page_events"
	// MetaPageRead is the position of the last event the page's read
	// found, of any topic, in decimal: set only with
	// SubscriberConfig.MarkRead, on every page, also on a page of no
	// events (which has no MetaPageFirst nor MetaPageLast).
	MetaPageRead = "page_read"
)

// reservedKeys are the metadata keys the Subscriber sets.
var reservedKeys = []string{
	MetaEventID, MetaType, MetaSchemaVersion, MetaStreamID, MetaVersion, MetaPosition,
	MetaOccurredAt, MetaRecordedAt, MetaEnvelope, MetaPageEnd,
}

// ErrNotStoredEvent means a message does not carry a stored event: EventFrom
// found a metadata key missing or malformed.
var ErrNotStoredEvent = errors.New("message does not carry a stored event")

// wireMessage is the data of a MessageType event. Payload is base64 in
// JSON; Metadata is never null.
type wireMessage struct {
	UUID     string            `json:"uuid"`
	Payload  []byte            `json:"payload"`
	Metadata map[string]string `json:"metadata"`
}

// encodeMessage returns the data of the MessageType event that stores msg.
// The encoding is deterministic (encoding/json sorts map keys).
func encodeMessage(uuid string, payload []byte, metadata map[string]string) (json.RawMessage, error) {
	if metadata == nil {
		metadata = map[string]string{}
	}
	return json.Marshal(wireMessage{UUID: uuid, Payload: payload, Metadata: metadata})
}

// delivery is what a subscription sends for one event; each attempt gets a
// fresh message made from it.
type delivery struct {
	uuid     string
	payload  []byte
	metadata map[string]string
}

// newDelivery builds the message content for e. A MessageType event whose
// data cannot be unwrapped is delivered like any other event (payload = the
// raw data) and reported in unwrapErr, for the caller to log: delivering it
// raw lets the handler decide, where skipping it would lose it and retrying
// would stall the subscription for ever.
func newDelivery(e eventstore.RecordedEvent, pageEnd bool) (d delivery, unwrapErr error) {
	d = delivery{uuid: e.EventID, payload: e.Data}
	if e.Type == MessageType {
		var w wireMessage
		if err := json.Unmarshal(e.Data, &w); err != nil {
			unwrapErr = fmt.Errorf("unwrap %s event %s: %w", MessageType, e.EventID, err)
		} else {
			d.payload = w.Payload
			d.metadata = w.Metadata
			if w.UUID != "" {
				d.uuid = w.UUID
			}
		}
	}
	if d.metadata == nil {
		d.metadata = make(map[string]string, len(reservedKeys))
	}
	envelope, err := json.Marshal(e.Metadata)
	if err != nil { // eventstore.Metadata holds only strings: cannot happen
		unwrapErr = errors.Join(unwrapErr, fmt.Errorf("encode metadata of event %s: %w", e.EventID, err))
	}
	d.metadata[MetaEventID] = e.EventID
	d.metadata[MetaType] = e.Type
	d.metadata[MetaSchemaVersion] = strconv.Itoa(e.SchemaVersion)
	d.metadata[MetaStreamID] = e.StreamID
	d.metadata[MetaVersion] = strconv.FormatUint(e.Version, 10)
	d.metadata[MetaPosition] = strconv.FormatUint(e.Position, 10)
	d.metadata[MetaOccurredAt] = formatTime(e.OccurredAt)
	d.metadata[MetaRecordedAt] = formatTime(e.RecordedAt)
	d.metadata[MetaEnvelope] = string(envelope)
	if pageEnd {
		d.metadata[MetaPageEnd] = "true"
	} else {
		delete(d.metadata, MetaPageEnd)
	}
	return d, unwrapErr
}

// message returns a new message with its own copy of the content.
func (d delivery) message() *message.Message {
	msg := message.NewMessage(d.uuid, bytes.Clone(d.payload))
	msg.Metadata = maps.Clone(d.metadata)
	return msg
}

// pageNamespace makes page message UUIDs (version 5) from the topic and the
// page's positions: every delivery of a page, a redelivery after a nack or
// a later subscription's, has the same UUID.
var pageNamespace = uuid.MustParse("0b7f8e9c-55a1-4c2e-9f0e-3d6a2b1c4e77")

// newPageMessage returns a fresh message carrying a page of topic's events
// as its payload (EncodePage).
func newPageMessage(topic string, events []eventstore.RecordedEvent, payload []byte) *message.Message {
	first, last := events[0].Position, events[len(events)-1].Position
	id := uuid.NewSHA1(pageNamespace, fmt.Appendf(nil, "%s/%d/%d", topic, first, last)).String()
	msg := message.NewMessage(id, payload)
	msg.Metadata = message.Metadata{
		MetaPageFirst:  strconv.FormatUint(first, 10),
		MetaPageLast:   strconv.FormatUint(last, 10),
		MetaPageEvents: strconv.Itoa(len(events)),
		MetaPageEnd:    "true",
	}
	return msg
}

// newMarkedPageMessage is newPageMessage with MetaPageRead, for a page of
// any number of events (none: a read of other topics' events alone).
func newMarkedPageMessage(topic string, events []eventstore.RecordedEvent, payload []byte, read uint64) *message.Message {
	if len(events) > 0 {
		msg := newPageMessage(topic, events, payload)
		msg.Metadata[MetaPageRead] = strconv.FormatUint(read, 10)
		return msg
	}
	id := uuid.NewSHA1(pageNamespace, fmt.Appendf(nil, "%s/read/%d", topic, read)).String()
	msg := message.NewMessage(id, payload)
	msg.Metadata = message.Metadata{
		MetaPageEvents: "0",
		MetaPageRead:   strconv.FormatUint(read, 10),
		MetaPageEnd:    "true",
	}
	return msg
}

// PageRead returns a page message's MetaPageRead, and false when it has
// none (a subscriber without MarkRead, or a message of one event).
func PageRead(msg *message.Message) (uint64, bool) {
	v := msg.Metadata.Get(MetaPageRead)
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseUint(v, 10, 64)
	return n, err == nil
}

// PageFrom returns the events a message the Subscriber delivered carries,
// in position order: every event of its page for a DeliverPages message
// (DecodePage of its payload), the one event (as EventFrom returns it) for
// a DeliverEvents message. A message that is neither, or whose payload is
// not a page, is an error wrapping ErrNotStoredEvent.
func PageFrom(msg *message.Message) ([]eventstore.RecordedEvent, error) {
	if msg == nil {
		return nil, fmt.Errorf("page from message: %w: nil message", ErrNotStoredEvent)
	}
	if msg.Metadata.Get(MetaPageLast) == "" && msg.Metadata.Get(MetaPageRead) == "" {
		e, err := EventFrom(msg)
		if err != nil {
			return nil, err
		}
		return []eventstore.RecordedEvent{e}, nil
	}
	events, err := DecodePage(msg.Payload)
	if err != nil {
		return nil, fmt.Errorf("page from message %s: %w: %w", msg.UUID, ErrNotStoredEvent, err)
	}
	return events, nil
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// EventFrom rebuilds the stored event from a message the Subscriber
// delivered, reading the Meta* keys. For events of other types than
// MessageType, Data is the payload, which must be JSON. For MessageType
// events, Data is the published message encoded again as the Publisher
// stores it (UUID, payload and the metadata other than the Meta* keys);
// that equals the stored data unless the published metadata used a Meta*
// key itself.
//
// A missing or malformed key, or a payload that is not JSON, is an error
// wrapping ErrNotStoredEvent that names every problem.
func EventFrom(msg *message.Message) (eventstore.RecordedEvent, error) {
	if msg == nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("event from message: %w: nil message", ErrNotStoredEvent)
	}
	p := metaParser{md: msg.Metadata}
	e := eventstore.RecordedEvent{
		EventID:       p.text(MetaEventID),
		Type:          p.text(MetaType),
		SchemaVersion: p.integer(MetaSchemaVersion),
		StreamID:      p.text(MetaStreamID),
		Version:       p.unsigned(MetaVersion),
		Position:      p.unsigned(MetaPosition),
		OccurredAt:    p.time(MetaOccurredAt),
		RecordedAt:    p.time(MetaRecordedAt),
	}
	if raw := p.text(MetaEnvelope); raw != "" {
		if err := json.Unmarshal([]byte(raw), &e.Metadata); err != nil {
			p.fail(MetaEnvelope, err)
		}
	}
	if e.Type == MessageType {
		user := maps.Clone(map[string]string(msg.Metadata))
		for _, k := range reservedKeys {
			delete(user, k)
		}
		data, err := encodeMessage(msg.UUID, msg.Payload, user)
		if err != nil {
			p.problems = append(p.problems, fmt.Errorf("%w: encode message: %w", ErrNotStoredEvent, err))
		}
		e.Data = data
	} else if !json.Valid(msg.Payload) {
		p.problems = append(p.problems, fmt.Errorf("%w: payload is not JSON", ErrNotStoredEvent))
	} else {
		e.Data = json.RawMessage(bytes.Clone(msg.Payload))
	}
	if err := errors.Join(p.problems...); err != nil {
		return eventstore.RecordedEvent{}, fmt.Errorf("event from message %s: %w", msg.UUID, err)
	}
	return e, nil
}

// metaParser reads Meta* keys and collects every problem.
type metaParser struct {
	md       message.Metadata
	problems []error
}

func (p *metaParser) fail(key string, err error) {
	p.problems = append(p.problems, fmt.Errorf("%w: metadata %q: %w", ErrNotStoredEvent, key, err))
}

func (p *metaParser) text(key string) string {
	v, ok := p.md[key]
	if !ok || v == "" {
		p.problems = append(p.problems, fmt.Errorf("%w: metadata %q missing", ErrNotStoredEvent, key))
	}
	return v
}

func (p *metaParser) integer(key string) int {
	v := p.text(key)
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		p.fail(key, err)
	}
	return n
}

func (p *metaParser) unsigned(key string) uint64 {
	v := p.text(key)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		p.fail(key, err)
	}
	return n
}

func (p *metaParser) time(key string) time.Time {
	v := p.text(key)
	if v == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		p.fail(key, err)
	}
	return t.UTC()
}
