package survey

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Topic is the event store topic of every survey stream; the
// partnerships' topic ("partnership") never holds one.
const Topic = "survey"

// Stream id prefixes.
const (
	StreamPrefix              = Topic + "-"
	QuestionnaireStreamPrefix = StreamPrefix + "questionnaire-"
	WaveStreamPrefix          = StreamPrefix + "wave-"
	ResponseStreamPrefix      = StreamPrefix + "response-"
)

// QuestionnaireStream, WaveStream and ResponseStream name the streams.
func QuestionnaireStream(id string) string { return QuestionnaireStreamPrefix + id }
func WaveStream(id string) string          { return WaveStreamPrefix + id }
func ResponseStream(id string) string      { return ResponseStreamPrefix + id }

// SchemaVersion of every survey event's payload.
const SchemaVersion = 1

// Event type names.
const (
	TypeQuestionnairePublished  = "QuestionnairePublished"
	TypeSurveyWaveScheduled     = "SurveyWaveScheduled"
	TypeSurveyWaveClosed        = "SurveyWaveClosed"
	TypeSurveyResponseStarted   = "SurveyResponseStarted"
	TypeSurveyAnswersSaved      = "SurveyAnswersSaved"
	TypeSurveyResponseSubmitted = "SurveyResponseSubmitted"
)

// EventTypes lists the survey events' type names.
var EventTypes = []string{
	TypeQuestionnairePublished, TypeSurveyWaveScheduled, TypeSurveyWaveClosed,
	TypeSurveyResponseStarted, TypeSurveyAnswersSaved, TypeSurveyResponseSubmitted,
}

// ErrUnknownEventType means a type name is not a survey event's.
var ErrUnknownEventType = errors.New("unknown survey event type")

// Event is the payload of a survey event.
type Event interface{ EventType() string }

// QuestionnairePublished stores one version of a questionnaire, whole;
// version n is the stream's n-th event.
type QuestionnairePublished struct {
	Questionnaire Questionnaire `json:"questionnaire"`
}

// Wave is one fielding of a questionnaire version in a research project
// to one target group.
type Wave struct {
	ID        string `json:"wave_id"`
	ProjectID string `json:"project_id"`
	// Title names the wave for researchers and reports ("OFFRI 2027,
	// municipal leaders").
	Title                string `json:"title"`
	QuestionnaireID      string `json:"questionnaire_id"`
	QuestionnaireVersion int    `json:"questionnaire_version"`
	Group                string `json:"group"`
	// Municipalities are today's codes, each one of the project's.
	Municipalities []string `json:"municipalities"`
	// Partnerships, when set, are the only partnerships (ids) the wave
	// asks about; otherwise a respondent whose link fixes none chooses
	// among the municipality's.
	Partnerships []string `json:"partnerships,omitempty"`
	// Opens and Closes are days (YYYY-MM-DD, Europe/Oslo): answers are
	// accepted from the start of Opens to the end of Closes, and the
	// wave's links expire with it.
	Opens  string `json:"opens"`
	Closes string `json:"closes"`
}

// SurveyWaveScheduled creates a wave.
type SurveyWaveScheduled struct {
	Wave
}

// SurveyWaveClosed closes a wave before its close day: from then on its
// links write nothing.
type SurveyWaveClosed struct {
	Reason string `json:"reason,omitempty"`
}

// SurveyResponseStarted begins a response: what its link fixed.
type SurveyResponseStarted struct {
	WaveID       string `json:"wave_id"`
	Municipality string `json:"municipality"`
	Group        string `json:"group"`
	// Partnerships are the partnership ids the link fixed; empty when
	// the respondent chooses.
	Partnerships []string `json:"partnerships,omitempty"`
	// Language is the language the respondent answered in (nb, nn, en).
	Language string `json:"language"`
}

// SurveyAnswersSaved saves progress: each answer replaces the item's
// earlier one, an empty list clears it; Partnerships, when not nil,
// replaces the chosen partnerships.
type SurveyAnswersSaved struct {
	Answers      Answers  `json:"answers"`
	Partnerships []string `json:"partnerships,omitempty"`
}

// SurveyResponseSubmitted ends a response: its whole answers (cleaned of
// hidden items), the partnerships it concerns and the day it was
// answered. Nothing is written to the stream after it.
type SurveyResponseSubmitted struct {
	Answers      Answers  `json:"answers"`
	Partnerships []string `json:"partnerships"`
	// AnsweredOn is the day (YYYY-MM-DD, Europe/Oslo) of the submission.
	AnsweredOn string `json:"answered_on"`
}

func (QuestionnairePublished) EventType() string  { return TypeQuestionnairePublished }
func (SurveyWaveScheduled) EventType() string     { return TypeSurveyWaveScheduled }
func (SurveyWaveClosed) EventType() string        { return TypeSurveyWaveClosed }
func (SurveyResponseStarted) EventType() string   { return TypeSurveyResponseStarted }
func (SurveyAnswersSaved) EventType() string      { return TypeSurveyAnswersSaved }
func (SurveyResponseSubmitted) EventType() string { return TypeSurveyResponseSubmitted }

// Encode returns an event's payload.
func Encode(e Event) (json.RawMessage, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", e.EventType(), err)
	}
	return b, nil
}

// Decode reads a stored payload of the type.
func Decode(eventType string, data []byte) (Event, error) {
	var (
		e   Event
		err error
	)
	switch eventType {
	case TypeQuestionnairePublished:
		e, err = decodeAs[QuestionnairePublished](data)
	case TypeSurveyWaveScheduled:
		e, err = decodeAs[SurveyWaveScheduled](data)
	case TypeSurveyWaveClosed:
		e, err = decodeAs[SurveyWaveClosed](data)
	case TypeSurveyResponseStarted:
		e, err = decodeAs[SurveyResponseStarted](data)
	case TypeSurveyAnswersSaved:
		e, err = decodeAs[SurveyAnswersSaved](data)
	case TypeSurveyResponseSubmitted:
		e, err = decodeAs[SurveyResponseSubmitted](data)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownEventType, eventType)
	}
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", eventType, err)
	}
	return e, nil
}

func decodeAs[T Event](data []byte) (Event, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// Response is a response as its stream's events leave it.
type Response struct {
	ID           string
	WaveID       string
	Municipality string
	Group        string
	Language     string
	// Fixed is true when the link fixed the partnerships.
	Fixed        bool
	Partnerships []string
	Answers      Answers
	Submitted    bool
	AnsweredOn   string
}

// Apply folds one event of the response's stream into r.
func (r *Response) Apply(e Event) {
	switch e := e.(type) {
	case SurveyResponseStarted:
		r.WaveID, r.Municipality, r.Group, r.Language = e.WaveID, e.Municipality, e.Group, e.Language
		r.Partnerships, r.Fixed = e.Partnerships, len(e.Partnerships) > 0
		r.Answers = Answers{}
	case SurveyAnswersSaved:
		if r.Answers == nil {
			r.Answers = Answers{}
		}
		for id, v := range e.Answers {
			if len(v) == 0 {
				delete(r.Answers, id)
			} else {
				r.Answers[id] = v
			}
		}
		if e.Partnerships != nil && !r.Fixed {
			r.Partnerships = e.Partnerships
		}
	case SurveyResponseSubmitted:
		r.Answers, r.Partnerships, r.AnsweredOn, r.Submitted = e.Answers, e.Partnerships, e.AnsweredOn, true
	}
}
