package partnership

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrUnknownEventType means a stored or supplied type name is not in the
// catalogue.
var ErrUnknownEventType = errors.New("unknown event type")

// decoders maps every stored type name to the decoders of its payload.
var decoders = map[string]decoder{
	TypePartnershipInitiated:      decoderOf[PartnershipInitiated](),
	TypePartnerJoined:             decoderOf[PartnerJoined](),
	TypePartnerLeft:               decoderOf[PartnerLeft](),
	TypeRolesAgreed:               decoderOf[RolesAgreed](),
	TypeGoalChanged:               decoderOf[GoalChanged](),
	TypeAgreementSigned:           decoderOf[AgreementSigned](),
	TypeFundingRecorded:           decoderOf[FundingRecorded](),
	TypeAnchoringChanged:          decoderOf[AnchoringChanged](),
	TypeCollaborationModelChanged: decoderOf[CollaborationModelChanged](),
	TypeMilestoneLogged:           decoderOf[MilestoneLogged](),
	TypeContactPersonAssigned:     decoderOf[ContactPersonAssigned](),
	TypePartnershipPaused:         decoderOf[PartnershipPaused](),
	TypePartnershipResumed:        decoderOf[PartnershipResumed](),
	TypePartnershipEnded:          decoderOf[PartnershipEnded](),
	TypeEntryCorrected:            decoderOf[EntryCorrected](),
}

// decoder decodes one event type's payload: stored ones leniently with
// json.Unmarshal (one value, no stream machinery: projections decode a
// million of them), client-supplied ones strictly through a json.Decoder.
type decoder struct {
	stored   func(data []byte) (Event, error)
	supplied func(*json.Decoder) (Event, error)
}

func decoderOf[T Event]() decoder {
	return decoder{
		stored: func(data []byte) (Event, error) {
			var v T
			if err := json.Unmarshal(data, &v); err != nil {
				return nil, err
			}
			return v, nil
		},
		supplied: func(dec *json.Decoder) (Event, error) {
			var v T
			if err := dec.Decode(&v); err != nil {
				return nil, err
			}
			return v, nil
		},
	}
}

// EventTypes lists every type name of the catalogue.
func EventTypes() []string {
	return []string{
		TypePartnershipInitiated, TypePartnerJoined, TypePartnerLeft, TypeRolesAgreed,
		TypeGoalChanged, TypeAgreementSigned, TypeFundingRecorded, TypeAnchoringChanged,
		TypeCollaborationModelChanged, TypeMilestoneLogged, TypeContactPersonAssigned, TypePartnershipPaused,
		TypePartnershipResumed, TypePartnershipEnded, TypeEntryCorrected,
	}
}

// Decode turns a stored payload into its event value. Stored history is read
// leniently (unknown fields are ignored, so that an older binary can still
// read newer additions); schema versions above SchemaVersion are refused.
// data must be one JSON value, as the event store keeps it (data after the
// value is an error).
func Decode(eventType string, schemaVersion int, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
	}
	if schemaVersion < 1 || schemaVersion > SchemaVersion {
		return nil, fmt.Errorf("decode %s: schema version %d not supported", eventType, schemaVersion)
	}
	e, err := decode.stored(data)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

// decodeStrict decodes a client-supplied payload of a known type, rejecting
// unknown fields and trailing data.
func decodeStrict(eventType string, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	e, err := decode.supplied(dec)
	if err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the object")
	}
	return e, nil
}

// Encode returns the stored form of an event payload.
func Encode(e Event) ([]byte, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return b, nil
}
