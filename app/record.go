package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// Entered is a command of a history together with when it was entered
// (the event's recorded_at).
type Entered struct {
	Command    partnership.Command
	RecordedAt time.Time
}

// Record decides a whole partnership's history as it was entered, for a
// loader that keeps each event's recording time (the demo data set,
// through an eventstore.Importer): the first command initiates the
// partnership, and each command is decided on the ones before it with the
// clock at its RecordedAt. Every event is therefore what Execute would
// have appended at that moment: a correction occurs when it was entered,
// and nothing is dated more than a day after its entry.
//
// It returns the events of versions above from, as a store records them
// (stream, version, event id, occurred_at, recorded_at, metadata and data,
// contact persons sealed); their Position is the caller's to assign. The
// versions up to from are decided again but not returned: the service
// asks its id maker for their ids in the same order, so a deterministic
// one gives the same ids as before. RecordedAt must not decrease from one
// command to the next. Errors: the domain's (*partnership.ValidationError,
// *partnership.RuleError) wrapped with the command that failed.
func (s *Service) Record(ctx context.Context, entered []Entered, from uint64, meta Meta) ([]eventstore.RecordedEvent, error) {
	if len(entered) == 0 {
		return nil, errors.New("record: no commands")
	}
	initiation, ok := entered[0].Command.Event.(partnership.PartnershipInitiated)
	if !ok {
		return nil, fmt.Errorf("record: the first command is a %s, not an initiation", entered[0].Command.Event.EventType())
	}
	if !history.ValidID(initiation.PartnershipID) {
		return nil, fmt.Errorf("record: partnership id %q is not a UUID", initiation.PartnershipID)
	}
	stream := history.StreamID(initiation.PartnershipID)
	var (
		h    partnership.History
		out  []eventstore.RecordedEvent
		last time.Time
	)
	for _, e := range entered {
		if e.RecordedAt.Before(last) {
			return nil, fmt.Errorf("record %s: %s entered at %s, before the entry before it (%s)", stream, e.Command, e.RecordedAt.Format(time.RFC3339), last.Format(time.RFC3339))
		}
		last = e.RecordedAt
		env := partnership.Env{Now: e.RecordedAt.UTC(), NewID: s.newID}
		d, err := partnership.Decide(h, e.Command, env)
		if err != nil {
			return nil, fmt.Errorf("record %s: %s: %w", stream, e.Command, err)
		}
		version := h.Version() + 1
		var eventID string
		if version > from {
			ev, err := s.newEvent(ctx, h, d, meta)
			if err != nil {
				return nil, err
			}
			eventID = ev.EventID
			out = append(out, eventstore.RecordedEvent{
				EventID: ev.EventID, Type: ev.Type, SchemaVersion: ev.SchemaVersion,
				StreamID: stream, Version: version,
				OccurredAt: ev.OccurredAt, RecordedAt: env.Now,
				Metadata: ev.Metadata, Data: ev.Data,
			})
		} else {
			eventID = s.newID() // the id it was stored under
		}
		h = h.With(partnership.Entry{EventID: eventID, Version: version, OccurredAt: d.OccurredAt, RecordedAt: env.Now, Event: d.Event}, d)
	}
	return out, nil
}
