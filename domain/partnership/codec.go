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

// decoders maps every stored type name to the decoder of its payload.
var decoders = map[string]func(*json.Decoder) (Event, error){
	TypePartnershipInitiated:  decodeAs[PartnershipInitiated],
	TypePartnerJoined:         decodeAs[PartnerJoined],
	TypePartnerLeft:           decodeAs[PartnerLeft],
	TypeRolesAgreed:           decodeAs[RolesAgreed],
	TypeGoalChanged:           decodeAs[GoalChanged],
	TypeAgreementSigned:       decodeAs[AgreementSigned],
	TypeFundingRecorded:       decodeAs[FundingRecorded],
	TypeAnchoringChanged:      decodeAs[AnchoringChanged],
	TypeMilestoneLogged:       decodeAs[MilestoneLogged],
	TypeContactPersonAssigned: decodeAs[ContactPersonAssigned],
	TypePartnershipPaused:     decodeAs[PartnershipPaused],
	TypePartnershipResumed:    decodeAs[PartnershipResumed],
	TypePartnershipEnded:      decodeAs[PartnershipEnded],
	TypeEntryCorrected:        decodeAs[EntryCorrected],
}

func decodeAs[T Event](dec *json.Decoder) (Event, error) {
	var v T
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// EventTypes lists every type name of the catalogue.
func EventTypes() []string {
	return []string{
		TypePartnershipInitiated, TypePartnerJoined, TypePartnerLeft, TypeRolesAgreed,
		TypeGoalChanged, TypeAgreementSigned, TypeFundingRecorded, TypeAnchoringChanged,
		TypeMilestoneLogged, TypeContactPersonAssigned, TypePartnershipPaused,
		TypePartnershipResumed, TypePartnershipEnded, TypeEntryCorrected,
	}
}

// Decode turns a stored payload into its event value. Stored history is read
// leniently (unknown fields are ignored, so that an older binary can still
// read newer additions); schema versions above SchemaVersion are refused.
func Decode(eventType string, schemaVersion int, data []byte) (Event, error) {
	decode, ok := decoders[eventType]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
	}
	if schemaVersion < 1 || schemaVersion > SchemaVersion {
		return nil, fmt.Errorf("decode %s: schema version %d not supported", eventType, schemaVersion)
	}
	e, err := decode(json.NewDecoder(bytes.NewReader(data)))
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
	e, err := decode(dec)
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
