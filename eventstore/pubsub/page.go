package pubsub

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/samspill/samspill/eventstore"
)

// pageFormat is the first byte of a page payload: the version of its
// encoding. A decoder refuses any other.
const pageFormat = 1

// EncodePage returns the payload of a DeliverPages message: events, every
// field of each, in a compact binary form that DecodePage reads back.
//
// The form is the format byte, the number of events, and per event its
// fields in RecordedEvent's order: strings and the data as a length and
// bytes, numbers as varints, times as seconds and nanoseconds since the
// Unix epoch (UTC). It is private to this package's messages, not a
// storage format: encoding/json would cost several microseconds per event
// each way (the data is JSON already, and would be escaped or copied as
// a string), a binary form a few hundred nanoseconds.
func EncodePage(events []eventstore.RecordedEvent) []byte {
	size := 1 + binary.MaxVarintLen64
	for _, e := range events {
		size += 12*binary.MaxVarintLen64 + len(e.EventID) + len(e.Type) + len(e.StreamID) + len(e.Data) +
			len(e.Metadata.Actor.Subject) + len(e.Metadata.Actor.Role) + len(e.Metadata.CorrelationID) +
			len(e.Metadata.CausationID) + len(e.Metadata.IdempotencyKey)
	}
	b := make([]byte, 0, size)
	b = append(b, pageFormat)
	b = binary.AppendUvarint(b, uint64(len(events)))
	for _, e := range events {
		b = appendString(b, e.EventID)
		b = appendString(b, e.Type)
		b = binary.AppendVarint(b, int64(e.SchemaVersion))
		b = appendString(b, e.StreamID)
		b = binary.AppendUvarint(b, e.Version)
		b = binary.AppendUvarint(b, e.Position)
		b = appendTime(b, e.OccurredAt)
		b = appendTime(b, e.RecordedAt)
		b = appendString(b, e.Metadata.Actor.Subject)
		b = appendString(b, e.Metadata.Actor.Role)
		b = appendString(b, e.Metadata.CorrelationID)
		b = appendString(b, e.Metadata.CausationID)
		b = appendString(b, e.Metadata.IdempotencyKey)
		b = binary.AppendUvarint(b, uint64(len(e.Data)))
		b = append(b, e.Data...)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendTime(b []byte, t time.Time) []byte {
	b = binary.AppendVarint(b, t.Unix())
	return binary.AppendUvarint(b, uint64(t.Nanosecond()))
}

// ErrMalformedPage means a payload is not a page EncodePage made.
var ErrMalformedPage = errors.New("malformed page payload")

// DecodePage returns the events of a payload EncodePage made, times in
// UTC. The events own their memory (two copies of the payload, one for the
// strings and one for the data, which their fields share): the payload
// may be reused. Anything else is an error wrapping ErrMalformedPage.
func DecodePage(payload []byte) ([]eventstore.RecordedEvent, error) {
	if len(payload) == 0 || payload[0] != pageFormat {
		return nil, fmt.Errorf("%w: not format %d", ErrMalformedPage, pageFormat)
	}
	d := pageDecoder{b: payload, at: 1}
	n := d.uvarint()
	if d.err == nil && n > uint64(len(payload)) { // every event takes bytes
		d.fail("more events than bytes")
	}
	if d.err != nil {
		return nil, d.err
	}
	d.text, d.data = string(payload), bytes.Clone(payload)
	events := make([]eventstore.RecordedEvent, n)
	for i := range events {
		e := &events[i]
		e.EventID = d.string()
		e.Type = d.string()
		schema := d.varint()
		if schema < math.MinInt32 || schema > math.MaxInt32 {
			d.fail("schema version out of range")
		}
		e.SchemaVersion = int(schema)
		e.StreamID = d.string()
		e.Version = d.uvarint()
		e.Position = d.uvarint()
		e.OccurredAt = d.time()
		e.RecordedAt = d.time()
		e.Metadata.Actor.Subject = d.string()
		e.Metadata.Actor.Role = d.string()
		e.Metadata.CorrelationID = d.string()
		e.Metadata.CausationID = d.string()
		e.Metadata.IdempotencyKey = d.string()
		e.Data = d.bytes()
		if d.err != nil {
			return nil, fmt.Errorf("event %d of %d: %w", i+1, n, d.err)
		}
	}
	if d.at != len(payload) {
		return nil, fmt.Errorf("%w: %d bytes after the last event", ErrMalformedPage, len(payload)-d.at)
	}
	return events, nil
}

// pageDecoder reads a page payload b from offset at; the first problem
// sticks in err. Strings are cut from text and data from data, copies of
// b.
type pageDecoder struct {
	b    []byte
	at   int
	text string
	data []byte
	err  error
}

func (d *pageDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("%w: %s", ErrMalformedPage, what)
	}
	d.at = len(d.b)
}

func (d *pageDecoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b[d.at:])
	if n <= 0 {
		d.fail("truncated number")
		return 0
	}
	d.at += n
	return v
}

func (d *pageDecoder) varint() int64 {
	v, n := binary.Varint(d.b[d.at:])
	if n <= 0 {
		d.fail("truncated number")
		return 0
	}
	d.at += n
	return v
}

// field returns the bounds of the next length-prefixed field.
func (d *pageDecoder) field() (from, to int) {
	n := d.uvarint()
	if n > uint64(len(d.b)-d.at) {
		d.fail("truncated field")
		return d.at, d.at
	}
	from, to = d.at, d.at+int(n)
	d.at = to
	return from, to
}

func (d *pageDecoder) string() string {
	from, to := d.field()
	return d.text[from:to]
}

func (d *pageDecoder) bytes() []byte {
	from, to := d.field()
	return d.data[from:to:to]
}

func (d *pageDecoder) time() time.Time {
	sec := d.varint()
	nsec := d.uvarint()
	if nsec >= uint64(time.Second) {
		d.fail("nanoseconds out of range")
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}
