// Package history owns a partnership's history where the domain meets the
// event store: the name of its stream, one read of the stream per request
// decoded once into the domain's entries, the contact persons' personal
// data sealed before an event is stored and shown by role when it is read,
// and the current states of the partnerships read last, kept in one
// bounded cache (States) that the command side (app) and the projections
// share.
//
// A partnership's events live in the stream partnership-<id>, <id> a UUID
// in canonical form (docs/events.md, Streams). Nothing else in samspill
// spells that name.
package history

import (
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// Topic names the partnerships' part of the global log: every stream
// Topic-<id> (the Watermill topic of eventstore/pubsub).
const Topic = "partnership"

// StreamPrefix starts every partnership stream's id.
const StreamPrefix = Topic + "-"

// StreamID returns the stream of a partnership id.
func StreamID(partnershipID string) string { return StreamPrefix + partnershipID }

// ID returns the partnership id of a stream, and false for a stream that
// is not a partnership's.
func ID(streamID string) (string, bool) { return strings.CutPrefix(streamID, StreamPrefix) }

// ValidID reports whether s is a partnership id (a UUID in canonical,
// lower-case form). Anything else cannot name a partnership, so callers
// answer not found.
func ValidID(s string) bool {
	u, err := uuid.Parse(s)
	return err == nil && u.String() == s
}

// Entry decodes one stored event into the domain's entry: the one place
// where a RecordedEvent becomes a partnership.Entry.
func Entry(r eventstore.RecordedEvent) (partnership.Entry, error) {
	ev, err := partnership.Decode(r.Type, r.SchemaVersion, r.Data)
	if err != nil {
		return partnership.Entry{}, fmt.Errorf("event %s at version %d: %w", r.EventID, r.Version, err)
	}
	return partnership.Entry{EventID: r.EventID, Version: r.Version, OccurredAt: r.OccurredAt, RecordedAt: r.RecordedAt, Event: ev}, nil
}

// Entries decodes stored events (of one stream, in version order) into
// the domain's entries.
func Entries(recorded []eventstore.RecordedEvent) ([]partnership.Entry, error) {
	entries := make([]partnership.Entry, len(recorded))
	for i, r := range recorded {
		e, err := Entry(r)
		if err != nil {
			return nil, err
		}
		entries[i] = e
	}
	return entries, nil
}

// Stream is one read of a partnership's stream: its events as stored and
// as the domain sees them, with their current state. The zero Stream is a
// partnership that does not exist (yet). A Stream of Store.Latest may hold
// the current state alone (no Recorded, a partnership.StateOnly history).
type Stream struct {
	// Recorded are the stored events, in version order.
	Recorded []eventstore.RecordedEvent
	// History holds the same events decoded, and the current state.
	History partnership.History
}

// ID returns the partnership's id ("" for the zero Stream).
func (s Stream) ID() string { return s.History.Current().ID }

// Version is the stream's version: its number of events.
func (s Stream) Version() uint64 { return s.History.Version() }

// UpTo returns the stream as it was at version v (at most its own).
func (s Stream) UpTo(v uint64) (Stream, error) {
	if v >= s.Version() {
		return s, nil
	}
	recorded := s.Recorded[:v:v]
	h, err := partnership.NewHistory(s.History.Entries()[:v:v])
	if err != nil {
		return Stream{}, fmt.Errorf("replay %s to version %d: %w", s.ID(), v, err)
	}
	return Stream{Recorded: recorded, History: h}, nil
}
