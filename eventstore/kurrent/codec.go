package kurrent

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/kurrent-io/KurrentDB-Client-Go/kurrentdb"

	"github.com/samspill/samspill/eventstore"
)

// envelope is the JSON the adapter stores as a KurrentDB event's user
// metadata: the parts of the port's envelope KurrentDB has no field for.
type envelope struct {
	SchemaVersion int                 `json:"schema_version"`
	OccurredAt    time.Time           `json:"occurred_at"`
	RecordedAt    time.Time           `json:"recorded_at"`
	Metadata      eventstore.Metadata `json:"metadata"`
	// Idempotency is set on every event of an append made under an
	// idempotency key: LookupIdempotency finds the append by it.
	Idempotency *keyStamp `json:"idempotency,omitempty"`
}

type keyStamp struct {
	Key         string `json:"key"`
	RequestHash string `json:"request_hash"`
}

// encodeEvents turns the events of req, which eventstore.ValidateAppend
// accepted, into KurrentDB events; an event id that is not a UUID (or that
// names the same UUID as another of req) is an error wrapping
// eventstore.ErrInvalidAppend.
func encodeEvents(req eventstore.AppendRequest, recordedAt time.Time) ([]kurrentdb.EventData, []uuid.UUID, error) {
	out := make([]kurrentdb.EventData, len(req.Events))
	ids := make([]uuid.UUID, len(req.Events))
	seen := make(map[uuid.UUID]bool, len(req.Events))
	var stamp *keyStamp
	if req.Idempotency != nil {
		stamp = &keyStamp{Key: req.Idempotency.Key, RequestHash: req.Idempotency.RequestHash}
	}
	for i, e := range req.Events {
		id, err := uuid.Parse(e.EventID)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: event id %q is not a UUID", eventstore.ErrInvalidAppend, e.EventID)
		}
		if seen[id] {
			return nil, nil, fmt.Errorf("%w: event id %s appears twice", eventstore.ErrInvalidAppend, e.EventID)
		}
		seen[id] = true
		meta, err := json.Marshal(envelope{
			SchemaVersion: e.SchemaVersion,
			OccurredAt:    e.OccurredAt.UTC(),
			RecordedAt:    recordedAt,
			Metadata:      e.Metadata,
			Idempotency:   stamp,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("%w: event %s: metadata: %w", eventstore.ErrInvalidAppend, e.EventID, err)
		}
		ids[i] = id
		out[i] = kurrentdb.EventData{
			EventID:     id,
			EventType:   e.Type,
			ContentType: kurrentdb.ContentTypeJson,
			Data:        e.Data,
			Metadata:    meta,
		}
	}
	return out, ids, nil
}

// decodeEnvelope reads the adapter's metadata of e. An event written by
// something else (no or foreign metadata) gets KurrentDB's created date as
// occurred_at and recorded_at, and schema version 1, rather than an error:
// a reader must not stall on one odd event.
func decodeEnvelope(e *kurrentdb.RecordedEvent) envelope {
	var env envelope
	if len(e.UserMetadata) == 0 || json.Unmarshal(e.UserMetadata, &env) != nil || env.RecordedAt.IsZero() {
		created := e.CreatedDate.UTC()
		return envelope{SchemaVersion: 1, OccurredAt: created, RecordedAt: created}
	}
	env.OccurredAt = env.OccurredAt.UTC()
	env.RecordedAt = env.RecordedAt.UTC()
	return env
}

// toRecorded turns a KurrentDB event of one of the store's streams into
// the port's envelope.
func (s *Store) toRecorded(e *kurrentdb.RecordedEvent) eventstore.RecordedEvent {
	env := decodeEnvelope(e)
	data := e.Data
	if !json.Valid(data) {
		// Not written by samspill; keep it readable as a JSON string.
		data, _ = json.Marshal(string(data))
	}
	return eventstore.RecordedEvent{
		EventID:       e.EventID.String(),
		Type:          e.EventType,
		SchemaVersion: env.SchemaVersion,
		StreamID:      e.StreamID[min(len(s.ns), len(e.StreamID)):],
		Version:       e.EventNumber + 1,
		Position:      e.Position.Commit,
		OccurredAt:    env.OccurredAt,
		RecordedAt:    env.RecordedAt,
		Metadata:      env.Metadata,
		Data:          json.RawMessage(data),
	}
}
