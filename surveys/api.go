package surveys

import (
	"context"
	"errors"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
)

// errNotImplemented marks the methods whose bodies are being written.
var errNotImplemented = errors.New("surveys: not implemented yet")

// Publish validates a questionnaire and stores it as its next version
// (survey.QuestionnairePublished); it returns it with Version set. A
// definition equal to the latest version publishes nothing and returns
// that version.
func (s *Service) Publish(ctx context.Context, actor eventstore.Actor, q survey.Questionnaire) (survey.Questionnaire, error) {
	return survey.Questionnaire{}, errNotImplemented
}

// Questionnaire returns one version of a questionnaire (0: the latest).
func (s *Service) Questionnaire(ctx context.Context, id string, version int) (survey.Questionnaire, error) {
	return survey.Questionnaire{}, errNotImplemented
}

// Questionnaires returns the latest version of every questionnaire, by id.
func (s *Service) Questionnaires(ctx context.Context) ([]survey.Questionnaire, error) {
	return nil, errNotImplemented
}

// Schedule checks a wave (its project exists, its municipalities are the
// project's, its questionnaire version exists, its group is one of
// survey.Groups, its partnerships lie in its municipalities, Opens <=
// Closes, Closes not in the past) and stores it with a new id.
func (s *Service) Schedule(ctx context.Context, actor eventstore.Actor, w survey.Wave) (WaveInfo, error) {
	return WaveInfo{}, errNotImplemented
}

// Wave returns a wave.
func (s *Service) Wave(ctx context.Context, id string) (WaveInfo, error) {
	return WaveInfo{}, errNotImplemented
}

// Waves returns a project's waves ("" for every project's), newest first.
func (s *Service) Waves(ctx context.Context, projectID string) ([]WaveInfo, error) {
	return nil, errNotImplemented
}

// Close closes a wave early: its links write nothing from then on and the
// mailing addresses of its links are erased.
func (s *Service) Close(ctx context.Context, actor eventstore.Actor, id, reason string) error {
	return errNotImplemented
}

// IssueLinks makes links for a wave (refused once it is closed).
func (s *Service) IssueLinks(ctx context.Context, actor eventstore.Actor, waveID string, req LinkRequest) ([]IssuedLink, error) {
	return nil, errNotImplemented
}

// Open returns what a link opens. A link that does not exist is
// ErrLinkUnknown; a submitted one ErrLinkUsed; one past its wave's close
// ErrLinkExpired (or ErrWaveClosed if closed early); one before the wave
// opens ErrWaveNotOpen. Opening writes nothing.
func (s *Service) Open(ctx context.Context, token string) (Session, error) {
	return Session{}, errNotImplemented
}

// Save stores progress: the answers given (checked, not final), and the
// chosen partnerships (nil: unchanged). The first save starts the
// response. requestID makes a retried request write nothing twice (the
// answer page puts a fresh one in every form it renders).
func (s *Service) Save(ctx context.Context, token, lang string, answers survey.Answers, partnerships []string, requestID string) (Session, error) {
	return Session{}, errNotImplemented
}

// Submit saves the answers given and submits the response: every required
// item shown must be answered (a *survey.ValidationError otherwise, and
// nothing written) and, when the link fixes none, at least one
// partnership chosen. A retry of the same requestID after success returns
// nil; any other submission of a submitted response ErrLinkUsed.
func (s *Service) Submit(ctx context.Context, token, lang string, answers survey.Answers, partnerships []string, requestID string) error {
	return errNotImplemented
}

// Track counts a wave's links and responses by municipality, group and
// partnership.
func (s *Service) Track(ctx context.Context, waveID string) (Tracking, error) {
	return Tracking{}, errNotImplemented
}

// Responses returns a wave's submitted responses recorded up to the
// position (0: the head), in the order they were submitted.
func Responses(ctx context.Context, store eventstore.Store, waveID string, upTo uint64) ([]survey.Response, error) {
	return nil, errNotImplemented
}
