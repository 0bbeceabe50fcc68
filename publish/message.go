package publish

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/personal"
)

// Headers of every message, besides JetStream's Nats-Msg-Id (the event id
// too). watermill-nats's marshaler writes a message's metadata as headers,
// so these are the metadata keys of the messages handed to it as well.
const (
	// HeaderEventID is the event's id (a UUID): the key to de-duplicate by.
	HeaderEventID = "Samspill-Event-Id"
	// HeaderType is the event type (docs/events.md), also the subject's
	// last token.
	HeaderType = "Samspill-Type"
	// HeaderSchemaVersion is the payload's schema version, in decimal.
	HeaderSchemaVersion = "Samspill-Schema-Version"
	// HeaderStreamID is the event's stream (partnership-<id>).
	HeaderStreamID = "Samspill-Stream-Id"
	// HeaderPosition is the event's position in samspill's global log, in
	// decimal: strictly increasing from one message to the next.
	HeaderPosition = "Samspill-Position"
)

// Subject returns the subject of an event of type eventType on topic
// topic under prefix: prefix.topic.eventType. A character of the type that
// cannot stand in a subject token (none of samspill's types has one) is
// written as '_', so that no type can make a subject that is refused or
// that a wildcard reads differently.
func Subject(prefix, topic, eventType string) string {
	token := strings.Map(func(r rune) rune {
		if tokenRune(r) {
			return r
		}
		return '_'
	}, eventType)
	if token == "" {
		token = "_"
	}
	return prefix + "." + topic + "." + token
}

// outgoing returns the Watermill message that carries e to NATS: its
// envelope without personal data as the payload, the Samspill-* headers,
// the event id as UUID (watermill-nats sends it as Nats-Msg-Id), and the
// conditions of the publish: JetStream must file it in stream, and only if
// the stream's last sequence is expectLast.
func outgoing(e eventstore.RecordedEvent, names personal.Pseudonyms, stream string, expectLast uint64) (*message.Message, error) {
	e, err := personal.Redact(e)
	if err != nil {
		return nil, fmt.Errorf("redact event %s: %w", e.EventID, err)
	}
	e.Metadata = names.Metadata(e.Metadata)
	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event %s: %w", e.EventID, err)
	}
	msg := message.NewMessage(e.EventID, body)
	msg.Metadata = message.Metadata{
		HeaderEventID:           e.EventID,
		HeaderType:              e.Type,
		HeaderSchemaVersion:     strconv.Itoa(e.SchemaVersion),
		HeaderStreamID:          e.StreamID,
		HeaderPosition:          strconv.FormatUint(e.Position, 10),
		nats.ExpectedStreamHdr:  stream,
		nats.ExpectedLastSeqHdr: strconv.FormatUint(expectLast, 10),
	}
	return msg, nil
}

// positionOf reads the position header of a message of the stream.
func positionOf(h nats.Header) (uint64, error) {
	v := h.Get(HeaderPosition)
	p, err := strconv.ParseUint(v, 10, 64)
	if err != nil || p == 0 {
		return 0, fmt.Errorf("header %s is %q, not a position", HeaderPosition, v)
	}
	return p, nil
}
