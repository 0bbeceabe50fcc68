package research

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// WriteEvents writes every event up to position (resolved by Position) to w
// as NDJSON: one envelope per line, in position order, corrections
// included, personal data removed (Redact).
func WriteEvents(ctx context.Context, store eventstore.Store, w io.Writer, position uint64) (Summary, error) {
	d := newDigest(w)
	bw := bufio.NewWriterSize(d, 64<<10)
	var r redactor
	rows := 0
	err := readUpTo(ctx, store, position, func(e eventstore.RecordedEvent) error {
		e, err := r.redact(e)
		if err != nil {
			return err
		}
		line, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("encode event %s: %w", e.EventID, err)
		}
		bw.Write(line)
		if err := bw.WriteByte('\n'); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
		rows++
		return nil
	})
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return Summary{}, fmt.Errorf("export events: %w", err)
	}
	return Summary{Kind: KindEvents, Position: position, Rows: rows, Bytes: d.bytes, SHA256: d.sum()}, nil
}

// redactor removes personal data from events read in position order. It
// remembers the ids of the ContactPersonAssigned events it has seen, so that
// a correction replacing one is redacted too (a correction always comes
// after the event it corrects).
type redactor struct {
	contacts map[string]bool
}

// redact returns e without personal data: a ContactPersonAssigned keeps
// only contact_id and partner_id (the contact exists, for that partner), and
// so does the replacement of a correction of one. Other events pass
// unchanged, their bytes untouched.
func (r *redactor) redact(e eventstore.RecordedEvent) (eventstore.RecordedEvent, error) {
	switch e.Type {
	case partnership.TypeContactPersonAssigned:
		if r.contacts == nil {
			r.contacts = map[string]bool{}
		}
		r.contacts[e.EventID] = true
		data, err := redactContact(e.Data)
		if err != nil {
			return e, fmt.Errorf("redact event %s: %w", e.EventID, err)
		}
		e.Data = data
	case partnership.TypeEntryCorrected:
		var c partnership.EntryCorrected
		if err := json.Unmarshal(e.Data, &c); err != nil {
			return e, fmt.Errorf("redact event %s: %w", e.EventID, err)
		}
		if !r.contacts[c.CorrectedEventID] || len(c.Replacement) == 0 {
			return e, nil
		}
		replacement, err := redactContact(c.Replacement)
		if err != nil {
			return e, fmt.Errorf("redact event %s: replacement: %w", e.EventID, err)
		}
		c.Replacement = replacement
		data, err := partnership.Encode(c)
		if err != nil {
			return e, fmt.Errorf("redact event %s: %w", e.EventID, err)
		}
		e.Data = data
	}
	return e, nil
}

// redactedContact is what research exports keep of a contact person.
type redactedContact struct {
	ContactID string `json:"contact_id"`
	PartnerID string `json:"partner_id"`
}

func redactContact(data json.RawMessage) (json.RawMessage, error) {
	var c redactedContact
	if err := json.Unmarshal(data, &c); err != nil {
		return nil, err
	}
	return json.Marshal(c)
}
