package research

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/personal"
)

// EventsOptions are the parameters of an events export.
type EventsOptions struct {
	// Position is the last event read (resolved by Position).
	Position uint64
	// Secret is the installation's key for the pseudonyms of actors and
	// request ids (at least 16 bytes), used without project keys.
	Secret []byte
	// Keys, when they are a project's (Keys.Project != ""), replace every
	// identifier that could link two projects' files (underProject).
	Keys Keys
	// KnownAt, if set, keeps only events recorded at or before it.
	KnownAt *time.Time
	// Municipalities, if any, keep only the events of partnerships whose
	// municipality is, today, one of these codes (a project's), as the
	// tabular exports do (Options.Municipalities). The export keeps the
	// ids of those partnerships' streams while it runs.
	Municipalities []kommune.Code
}

// WriteEvents writes every partnership event up to o.Position to w as
// NDJSON (survey events, which share the log, are not exported here): one
// envelope per line, in position order, corrections included, contact
// persons removed (personal.Redact). Without project keys, actors and
// request ids are replaced by the installation's pseudonyms
// (personal.Pseudonyms) and every other value is as stored; with a
// project's keys, every id is the project's pseudonym (underProject).
// Free text (titles, notes, reasons, goals) is exported as written and may
// name people. The bytes depend only on the store up to the position and
// the options.
func WriteEvents(ctx context.Context, store eventstore.Store, w io.Writer, o EventsOptions) (Summary, error) {
	project := o.Keys.Project != ""
	if !project && len(o.Secret) < 16 {
		return Summary{}, fmt.Errorf("export events: the installation secret is missing or shorter than 16 bytes")
	}
	names := personal.NewPseudonyms(o.Secret)
	position := o.Position
	d := newDigest(w)
	bw := bufio.NewWriterSize(d, 64<<10)
	rows := 0
	var line []byte
	// included holds the streams whose initiation was in the project's
	// municipalities: the initiation comes first in position order.
	included := map[string]bool{}
	err := readUpTo(ctx, store, position, func(e eventstore.RecordedEvent) error {
		if _, ok := history.ID(e.StreamID); !ok {
			// A survey's event shares the log but is not the
			// partnerships': the responses have their own export.
			return nil
		}
		if o.KnownAt != nil && e.RecordedAt.After(*o.KnownAt) {
			return nil
		}
		if len(o.Municipalities) > 0 {
			if e.Type == partnership.TypePartnershipInitiated {
				in, err := initiatedIn(e, o.Municipalities)
				if err != nil {
					return err
				}
				if in {
					included[e.StreamID] = true
				}
			}
			if !included[e.StreamID] {
				return nil
			}
		}
		e, err := personal.Redact(e)
		if err != nil {
			return err
		}
		if project {
			if e, err = underProject(o.Keys, e); err != nil {
				return err
			}
		} else {
			e.Metadata = names.Metadata(e.Metadata)
		}
		if line, err = appendEnvelope(line[:0], e); err != nil {
			return fmt.Errorf("encode event %s: %w", e.EventID, err)
		}
		if _, err := bw.Write(line); err != nil {
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

// initiatedIn reports whether an initiation's municipality is, by today's
// code, one of codes (as inMunicipalities does for a history).
func initiatedIn(e eventstore.RecordedEvent, codes []kommune.Code) (bool, error) {
	var init struct {
		Municipality string `json:"municipality"`
	}
	if err := json.Unmarshal(e.Data, &init); err != nil {
		return false, fmt.Errorf("event %s: %w", e.EventID, err)
	}
	return slices.Contains(codes, kommune.Code(init.Municipality).Current()), nil
}

// appendEnvelope appends e as one line of JSON, the envelope of the feed
// (eventstore.RecordedEvent's fields and order), and a newline. It writes
// the payload as stored (the store holds it as compact JSON) instead of
// having encoding/json validate and compact it again: that re-encoding was
// a third of the export's time.
func appendEnvelope(b []byte, e eventstore.RecordedEvent) ([]byte, error) {
	b = append(b, `{"event_id":`...)
	b = appendString(b, e.EventID)
	b = append(b, `,"type":`...)
	b = appendString(b, e.Type)
	b = append(b, `,"schema_version":`...)
	b = strconv.AppendInt(b, int64(e.SchemaVersion), 10)
	b = append(b, `,"stream_id":`...)
	b = appendString(b, e.StreamID)
	b = append(b, `,"version":`...)
	b = strconv.AppendUint(b, e.Version, 10)
	b = append(b, `,"position":`...)
	b = strconv.AppendUint(b, e.Position, 10)
	b = append(b, `,"occurred_at":"`...)
	b = e.OccurredAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","recorded_at":"`...)
	b = e.RecordedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","metadata":`...)
	b, err := appendMetadata(b, e.Metadata)
	if err != nil {
		return b, err
	}
	b = append(b, `,"data":`...)
	b = append(b, bytes.TrimSpace(e.Data)...)
	return append(b, "}\n"...), nil
}

// appendMetadata appends m exactly as json.Marshal encodes it. Metadata
// is ids and names, which nearly always need no escaping; those are
// written by hand (json.Marshal per event was a tenth of the export's
// CPU), and metadata with any other byte goes to json.Marshal itself, so
// the bytes never depend on which way was taken.
func appendMetadata(b []byte, m eventstore.Metadata) ([]byte, error) {
	if !plain(m.Actor.Subject) || !plain(m.Actor.Role) || !plain(m.CorrelationID) ||
		!plain(m.CausationID) || !plain(m.IdempotencyKey) {
		metadata, err := json.Marshal(m)
		return append(b, metadata...), err
	}
	b = append(b, `{"actor":{"subject":"`...)
	b = append(b, m.Actor.Subject...)
	b = append(b, `","role":"`...)
	b = append(b, m.Actor.Role...)
	b = append(b, `"}`...)
	for _, f := range []struct{ key, value string }{
		{`,"correlation_id":"`, m.CorrelationID},
		{`,"causation_id":"`, m.CausationID},
		{`,"idempotency_key":"`, m.IdempotencyKey},
	} {
		if f.value != "" { // omitempty
			b = append(b, f.key...)
			b = append(b, f.value...)
			b = append(b, '"')
		}
	}
	return append(b, '}'), nil
}

// plain reports whether json.Marshal writes s as it is between quotes:
// printable ASCII without the characters it escapes (", \, and the HTML
// characters <, > and &).
func plain(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// appendString appends s as a JSON string. The strings of an envelope are
// ids, type names and store-made values, valid UTF-8; only quotes,
// backslashes and control characters need escaping.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
