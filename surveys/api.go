package surveys

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
)

// appendAttempts bounds the retries of an append that lost a race for a
// stream's version: each retry re-reads the stream, so only a stream
// written to that often in a moment runs out of them.
const appendAttempts = 8

// newEvent wraps a survey event for appending.
func (s *Service) newEvent(id string, actor eventstore.Actor, e survey.Event) (eventstore.NewEvent, error) {
	data, err := survey.Encode(e)
	if err != nil {
		return eventstore.NewEvent{}, err
	}
	return eventstore.NewEvent{EventID: id, Type: e.EventType(), SchemaVersion: survey.SchemaVersion,
		OccurredAt: s.now().UTC(), Metadata: eventstore.Metadata{Actor: actor}, Data: data}, nil
}

// expectAfter is the expectation of an append to a stream at version v
// (0: no stream yet).
func expectAfter(v uint64) eventstore.ExpectedVersion {
	if v == 0 {
		return eventstore.NoStream()
	}
	return eventstore.Exactly(v)
}

// readStream reads a stream; a stream that does not exist is no events.
func (s *Service) readStream(ctx context.Context, stream string) ([]eventstore.RecordedEvent, error) {
	events, err := s.store.ReadStream(ctx, stream)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", stream, err)
	}
	return events, nil
}

// decode reads a recorded survey event.
func decode(r eventstore.RecordedEvent) (survey.Event, error) {
	e, err := survey.Decode(r.Type, r.Data)
	if err != nil {
		return nil, fmt.Errorf("%s version %d: %w", r.StreamID, r.Version, err)
	}
	return e, nil
}

// Publish validates a questionnaire and stores it as its next version
// (survey.QuestionnairePublished); it returns it with Version set. A
// definition equal to the latest version publishes nothing and returns
// that version.
func (s *Service) Publish(ctx context.Context, actor eventstore.Actor, q survey.Questionnaire) (survey.Questionnaire, error) {
	q.Version = 0
	if err := q.Validate(); err != nil {
		return survey.Questionnaire{}, err
	}
	stream := survey.QuestionnaireStream(q.ID)
	for range appendAttempts {
		versions, err := s.questionnaireVersions(ctx, q.ID)
		if err != nil {
			return survey.Questionnaire{}, err
		}
		current := uint64(len(versions))
		if current > 0 && versions[current-1].Equal(q) {
			return versions[current-1], nil
		}
		ev, err := s.newEvent(uuid.Must(uuid.NewV7()).String(), actor, survey.QuestionnairePublished{Questionnaire: q})
		if err != nil {
			return survey.Questionnaire{}, err
		}
		_, err = s.store.Append(ctx, eventstore.AppendRequest{StreamID: stream, Expected: expectAfter(current),
			Events: []eventstore.NewEvent{ev}})
		if errors.Is(err, eventstore.ErrVersionConflict) {
			continue // another publication came first: compare with it
		}
		if err != nil {
			return survey.Questionnaire{}, fmt.Errorf("publish questionnaire %s: %w", q.ID, err)
		}
		q.Version = int(current) + 1
		s.log.InfoContext(ctx, "questionnaire published", "questionnaire", q.ID, "version", q.Version, "actor", actor.Subject)
		return q, nil
	}
	return survey.Questionnaire{}, fmt.Errorf("publish questionnaire %s: %w", q.ID, eventstore.ErrVersionConflict)
}

// questionnaireVersions reads every version of a questionnaire, version 1
// first (none when there is no such questionnaire).
func (s *Service) questionnaireVersions(ctx context.Context, id string) ([]survey.Questionnaire, error) {
	events, err := s.readStream(ctx, survey.QuestionnaireStream(id))
	if err != nil {
		return nil, err
	}
	out := make([]survey.Questionnaire, 0, len(events))
	for _, r := range events {
		e, err := decode(r)
		if err != nil {
			return nil, err
		}
		p, ok := e.(survey.QuestionnairePublished)
		if !ok {
			return nil, fmt.Errorf("%s version %d: unexpected %s", r.StreamID, r.Version, r.Type)
		}
		p.Questionnaire.Version = int(r.Version)
		out = append(out, p.Questionnaire)
	}
	return out, nil
}

// Questionnaire returns one version of a questionnaire (0: the latest).
func (s *Service) Questionnaire(ctx context.Context, id string, version int) (survey.Questionnaire, error) {
	if id == "" || version < 0 {
		return survey.Questionnaire{}, ErrQuestionnaireNotFound
	}
	versions, err := s.questionnaireVersions(ctx, id)
	if err != nil {
		return survey.Questionnaire{}, err
	}
	if version == 0 {
		version = len(versions)
	}
	if version == 0 || version > len(versions) {
		return survey.Questionnaire{}, ErrQuestionnaireNotFound
	}
	return versions[version-1], nil
}

// Questionnaires returns the latest version of every questionnaire, by id.
func (s *Service) Questionnaires(ctx context.Context) ([]survey.Questionnaire, error) {
	streams, err := s.streams(ctx, survey.QuestionnaireStreamPrefix)
	if err != nil {
		return nil, err
	}
	out := make([]survey.Questionnaire, 0, len(streams))
	for _, stream := range streams {
		q, err := s.Questionnaire(ctx, strings.TrimPrefix(stream, survey.QuestionnaireStreamPrefix), 0)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	slices.SortFunc(out, func(a, b survey.Questionnaire) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// streams lists the streams with a prefix up to the head, in the order
// they were made.
func (s *Service) streams(ctx context.Context, prefix string) ([]string, error) {
	head, err := s.store.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("list %s streams: %w", prefix, err)
	}
	if head == 0 {
		return nil, nil
	}
	ids, err := eventstore.Streams(ctx, s.store, prefix, head)
	if err != nil {
		return nil, fmt.Errorf("list %s streams: %w", prefix, err)
	}
	return ids, nil
}
