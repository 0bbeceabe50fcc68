package research

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/samspill/samspill/eventstore"
)

// underProject returns the (redacted) event with every identifier that
// could link two research projects' files replaced by the project's
// pseudonym: the stream id and partnership_id (Keys.Partnership, the
// partnership_key of the project's spells), every partner_id
// (Keys.Partner), contact_id (Keys.Contact), event_id and
// corrected_event_id (Keys.Event), the actor (Keys.Actor) and the request
// ids and idempotency key (Keys.Request). Ids inside a correction's
// replacement are replaced the same way. Organisation numbers, roles, the
// order of members and every other value stay as stored.
func underProject(keys Keys, e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	stream := e.StreamID
	data, err := rewriteIDs(e.Data, func(member, value string) string {
		switch member {
		case "partnership_id":
			return keys.Partnership(stream)
		case "partner_id":
			return keys.Partner(stream, value)
		case "contact_id":
			return keys.Contact(value)
		case "corrected_event_id", "event_id":
			return keys.Event(value)
		}
		return value
	})
	if err != nil {
		return e, fmt.Errorf("event %s: %w", e.EventID, err)
	}
	e.Data = data
	e.EventID = keys.Event(e.EventID)
	e.StreamID = keys.Partnership(stream)
	m := &e.Metadata
	m.Actor.Subject = keys.Actor(m.Actor.Subject)
	m.CorrelationID = keys.Request(m.CorrelationID)
	m.CausationID = keys.Request(m.CausationID)
	m.IdempotencyKey = keys.Request(m.IdempotencyKey)
	return e, nil
}

// rewriteIDs re-encodes a JSON value compactly, in its own member order,
// with every string that is the value of an object member passed through
// rename (with the member's name). Numbers keep their text.
func rewriteIDs(data []byte, rename func(member, value string) string) ([]byte, error) {
	type frame struct {
		object, wantKey bool
		n               int
		key             string
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	out := make([]byte, 0, len(data)+64)
	var stack []frame
	// beforeValue writes the comma between array elements; an object's
	// member already has its comma and colon.
	beforeValue := func() {
		if n := len(stack); n > 0 && !stack[n-1].object && stack[n-1].n > 0 {
			out = append(out, ',')
		}
	}
	afterValue := func() {
		if n := len(stack); n > 0 {
			stack[n-1].n++
			stack[n-1].wantKey = stack[n-1].object
		}
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{', '[':
				beforeValue()
				out = append(out, byte(v))
				stack = append(stack, frame{object: v == '{', wantKey: v == '{'})
			default:
				stack = stack[:len(stack)-1]
				out = append(out, byte(v))
				afterValue()
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1].wantKey {
				if stack[n-1].n > 0 {
					out = append(out, ',')
				}
				out = append(appendString(out, v), ':')
				stack[n-1].key, stack[n-1].wantKey = v, false
				continue
			}
			beforeValue()
			if n := len(stack); n > 0 && stack[n-1].object {
				v = rename(stack[n-1].key, v)
			}
			out = appendString(out, v)
			afterValue()
		case json.Number:
			beforeValue()
			out = append(out, v...)
			afterValue()
		case bool:
			beforeValue()
			if v {
				out = append(out, "true"...)
			} else {
				out = append(out, "false"...)
			}
			afterValue()
		case nil:
			beforeValue()
			out = append(out, "null"...)
			afterValue()
		}
	}
	return out, nil
}
