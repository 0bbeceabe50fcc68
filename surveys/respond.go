package surveys

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
)

// respondent is the actor of every event a response link writes: nothing
// about who the respondent is.
var respondent = eventstore.Actor{Subject: "respondent", Role: "respondent"}

// tokenLen is the length of a link token (auth.NewLinkToken: 256 bits,
// unpadded URL-safe base64).
var tokenLen = base64.RawURLEncoding.EncodedLen(32)

// wellFormedToken reports whether s can be a link token, so that anything
// else is ErrLinkUnknown before any look-up.
func wellFormedToken(s string) bool {
	if len(s) != tokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil
}

// eventNamespace makes the ids of a response's events: the same response,
// request and event type always give the same id, so that a retried
// request's append is one the store has (and deduplicates).
var eventNamespace = uuid.MustParse("5b0e9f2a-51a4-4c55-9d0b-6f2f3c1e8a17")

func responseEventID(responseID, requestID, eventType string) string {
	return uuid.NewSHA1(eventNamespace, []byte(responseID+"\x00"+requestID+"\x00"+eventType)).String()
}

// storedResponse is a response as its stream stands.
type storedResponse struct {
	survey.Response
	version uint64
	// submittedID is the event id of its SurveyResponseSubmitted.
	submittedID string
}

func (s *Service) readResponse(ctx context.Context, id string) (storedResponse, error) {
	events, err := s.readStream(ctx, survey.ResponseStream(id))
	if err != nil {
		return storedResponse{}, err
	}
	r := storedResponse{Response: survey.Response{ID: id}, version: uint64(len(events))}
	for _, rec := range events {
		e, err := decode(rec)
		if err != nil {
			return storedResponse{}, err
		}
		r.Apply(e)
		if rec.Type == survey.TypeSurveyResponseSubmitted {
			r.submittedID = rec.EventID
		}
	}
	return r, nil
}

// Open returns what a link opens. A link that does not exist is
// ErrLinkUnknown; a submitted one ErrLinkUsed; one past its wave's close
// ErrLinkExpired (or ErrWaveClosed if closed early); one before the wave
// opens ErrWaveNotOpen. With those three the session holds the wave (its
// days), nothing else. Opening writes nothing (but the mark of a link
// whose response was submitted and whose mark was not written is
// repaired).
func (s *Service) Open(ctx context.Context, token string) (Session, error) {
	sess, _, err := s.open(ctx, token)
	return sess, err
}

// open is Open, also returning the response's stream as it stands.
func (s *Service) open(ctx context.Context, token string) (Session, storedResponse, error) {
	if !wellFormedToken(token) {
		return Session{}, storedResponse{}, ErrLinkUnknown
	}
	hash := auth.HashToken(token)
	link, err := s.links.Link(ctx, hash)
	if errors.Is(err, auth.ErrLinkNotFound) {
		return Session{}, storedResponse{}, ErrLinkUnknown
	}
	if err != nil {
		return Session{}, storedResponse{}, fmt.Errorf("open survey link: %w", err)
	}
	link.Address = ""
	resp, err := s.readResponse(ctx, ResponseID(token))
	if err != nil {
		return Session{}, storedResponse{}, err
	}
	if resp.Submitted {
		if link.State != auth.LinkCompleted {
			s.repairMark(ctx, hash)
		}
		return Session{}, resp, ErrLinkUsed
	}
	if link.State == auth.LinkCompleted {
		return Session{}, resp, ErrLinkUsed
	}
	w, err := s.Wave(ctx, link.WaveID)
	if err != nil {
		return Session{}, resp, fmt.Errorf("open survey link: wave %s: %w", link.WaveID, err)
	}
	// The refusals below carry the wave, so that the page can name its
	// opening or closing day; nothing else of the session.
	switch today := s.today(); {
	case w.Closed:
		return Session{Wave: w}, resp, ErrWaveClosed
	case !s.now().Before(link.ExpiresAt) || today > w.Closes:
		return Session{Wave: w}, resp, ErrLinkExpired
	case today < w.Opens:
		return Session{Wave: w}, resp, ErrWaveNotOpen
	}
	q, err := s.Questionnaire(ctx, w.QuestionnaireID, w.QuestionnaireVersion)
	if err != nil {
		return Session{}, resp, fmt.Errorf("open survey link: questionnaire %s version %d: %w", w.QuestionnaireID, w.QuestionnaireVersion, err)
	}
	choices, err := s.choices(ctx, w, link)
	if err != nil {
		return Session{}, resp, err
	}
	return Session{Wave: w, Questionnaire: q, Response: resp.Response, Link: link, Choices: choices}, resp, nil
}

// repairMark marks completed a link whose response's stream says it was
// submitted (a Submit whose mark failed after its append).
func (s *Service) repairMark(ctx context.Context, hash auth.Hash) {
	if err := s.links.MarkLink(ctx, hash, auth.LinkCompleted); err != nil && !errors.Is(err, auth.ErrLinkCompleted) {
		s.log.WarnContext(ctx, "survey link: the mark of a submitted response could not be repaired", "err", err)
	}
}

// choices are the partnerships a link's respondent may choose from: none
// when the link fixes one; the wave's own (those the directory lists as
// alive in the link's municipality, with their names) when it names some;
// else every alive partnership the directory lists for the municipality.
// Choices returns the partnerships a respondent in the municipality may
// choose in the wave, with their names: the pages name a wave's
// partnerships by them.
func (s *Service) Choices(ctx context.Context, w WaveInfo, municipality string) ([]Choice, error) {
	return s.choices(ctx, w, auth.SurveyLink{Municipality: municipality})
}

func (s *Service) choices(ctx context.Context, w WaveInfo, link auth.SurveyLink) ([]Choice, error) {
	if link.PartnershipID != "" {
		return nil, nil
	}
	if s.directory == nil {
		if len(w.Partnerships) == 0 {
			return nil, nil
		}
		out := make([]Choice, len(w.Partnerships))
		for i, id := range w.Partnerships {
			out[i] = Choice{ID: id, Name: id}
		}
		return out, nil
	}
	all, err := s.directory.Partnerships(ctx, link.Municipality)
	if err != nil {
		return nil, fmt.Errorf("survey choices of %s: %w", link.Municipality, err)
	}
	if len(w.Partnerships) == 0 {
		return all, nil
	}
	return slices.DeleteFunc(all, func(c Choice) bool { return !slices.Contains(w.Partnerships, c.ID) }), nil
}

// chosen checks the partnerships a respondent chose (nil: unchanged): each
// one of the choices, named once. A link that fixes its partnership takes
// none but that one.
func chosen(sess Session, partnerships []string) ([]string, error) {
	if partnerships == nil {
		return nil, nil
	}
	if sess.Link.PartnershipID != "" {
		for _, p := range partnerships {
			if p != sess.Link.PartnershipID {
				return nil, fmt.Errorf("%w: %q", ErrPartnershipNotAllowed, p)
			}
		}
		return nil, nil
	}
	out := []string{}
	for _, p := range partnerships {
		if !slices.ContainsFunc(sess.Choices, func(c Choice) bool { return c.ID == p }) {
			return nil, fmt.Errorf("%w: %q", ErrPartnershipNotAllowed, p)
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// language is the respondent's language, bokmål unless one of
// survey.Languages.
func language(lang string) string {
	if slices.Contains(survey.Languages, lang) {
		return lang
	}
	return survey.LangNB
}

// started is the event that begins a response of the session.
func started(sess Session, lang string) survey.SurveyResponseStarted {
	var fixed []string
	if sess.Link.PartnershipID != "" {
		fixed = []string{sess.Link.PartnershipID}
	}
	return survey.SurveyResponseStarted{WaveID: sess.Wave.ID, Municipality: sess.Link.Municipality,
		Group: sess.Link.Group, Partnerships: fixed, Language: language(lang)}
}

// appendResponse appends a response's events, the first ones made by
// build from the stream as it stands (it returns the stream's expected
// version too). A lost race re-reads and builds again; an id the store has
// already (this request went through before) is success.
func (s *Service) appendResponse(ctx context.Context, token string, build func(storedResponse) ([]survey.Event, error), requestID string) error {
	id := ResponseID(token)
	for attempt := 0; ; attempt++ {
		resp, err := s.readResponse(ctx, id)
		if err != nil {
			return err
		}
		events, err := build(resp)
		if err != nil {
			return err
		}
		req := eventstore.AppendRequest{StreamID: survey.ResponseStream(id), Expected: expectAfter(resp.version)}
		for _, e := range events {
			ev, err := s.newEvent(responseEventID(id, requestID, e.EventType()), respondent, e)
			if err != nil {
				return err
			}
			req.Events = append(req.Events, ev)
		}
		_, err = s.store.Append(ctx, req)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, eventstore.ErrDuplicateEventID):
			// The events of this request are stored (a retry whose
			// first attempt went through, the stream moved on since).
			return nil
		case errors.Is(err, eventstore.ErrVersionConflict) && attempt < appendAttempts:
			continue
		default:
			return fmt.Errorf("survey response: %w", err)
		}
	}
}

// Save stores progress: the answers given (checked, not final), and the
// chosen partnerships (nil: unchanged). The first save starts the
// response. requestID makes a retried request write nothing twice (the
// answer page puts a fresh one in every form it renders); "" makes one.
func (s *Service) Save(ctx context.Context, token, lang string, answers survey.Answers, partnerships []string, requestID string) (Session, error) {
	sess, _, err := s.open(ctx, token)
	if err != nil {
		return sess, err // the wave, when the refusal is about its days
	}
	if err := sess.Questionnaire.Check(answers, false); err != nil {
		return Session{}, err
	}
	picked, err := chosen(sess, partnerships)
	if err != nil {
		return Session{}, err
	}
	if requestID == "" {
		requestID = uuid.NewString()
	}
	saved := survey.SurveyAnswersSaved{Answers: answers.Clone(), Partnerships: picked}
	err = s.appendResponse(ctx, token, func(resp storedResponse) ([]survey.Event, error) {
		switch {
		case resp.Submitted:
			return nil, ErrLinkUsed
		case resp.version == 0:
			return []survey.Event{started(sess, lang), saved}, nil
		}
		return []survey.Event{saved}, nil
	}, requestID)
	if err != nil {
		return Session{}, err
	}
	// Only the first save moves the link: marking a started link again
	// would cost a synced write for nothing on every page.
	if sess.Link.State == auth.LinkInvited {
		if err := s.links.MarkLink(ctx, auth.HashToken(token), auth.LinkStarted); errors.Is(err, auth.ErrLinkCompleted) {
			return Session{}, ErrLinkUsed
		} else if err != nil {
			return Session{}, fmt.Errorf("survey response saved, its link not marked started: %w", err)
		}
	}
	resp, err := s.readResponse(ctx, sess.Response.ID)
	if err != nil {
		return Session{}, err
	}
	sess.Response = resp.Response
	sess.Link.State = auth.LinkStarted
	return sess, nil
}

// Submit saves the answers given and submits the response: every required
// item shown must be answered (a *survey.ValidationError otherwise, and
// nothing written) and, when the link fixes none and there are
// partnerships to choose from, at least one partnership chosen (a problem
// of path "partnerships" in the same *survey.ValidationError). A retry of
// the same requestID after success returns nil; any other submission of a
// submitted response ErrLinkUsed.
func (s *Service) Submit(ctx context.Context, token, lang string, answers survey.Answers, partnerships []string, requestID string) error {
	if requestID == "" {
		requestID = uuid.NewString()
	}
	id := ResponseID(token)
	submittedID := responseEventID(id, requestID, survey.TypeSurveyResponseSubmitted)
	sess, resp, err := s.open(ctx, token)
	if errors.Is(err, ErrLinkUsed) && resp.submittedID == submittedID {
		return nil // this request went through before
	}
	if err != nil {
		return err
	}
	picked, err := chosen(sess, partnerships)
	if err != nil {
		return err
	}
	err = s.appendResponse(ctx, token, func(resp storedResponse) ([]survey.Event, error) {
		if resp.Submitted {
			if resp.submittedID == submittedID {
				return nil, errSubmittedBefore
			}
			return nil, ErrLinkUsed
		}
		final, ferr := submission(sess, resp, answers, picked, s.today())
		if ferr != nil {
			return nil, ferr
		}
		if resp.version == 0 {
			return []survey.Event{started(sess, lang), final}, nil
		}
		return []survey.Event{final}, nil
	}, requestID)
	if errors.Is(err, errSubmittedBefore) {
		return nil
	}
	if err != nil {
		return err
	}
	// The submission is durable; a mark that fails is repaired by the
	// next Open of the link, which finds the submission in the stream.
	if err := s.links.MarkLink(ctx, auth.HashToken(token), auth.LinkCompleted); err != nil && !errors.Is(err, auth.ErrLinkCompleted) {
		s.log.WarnContext(ctx, "survey response submitted, its link not marked completed", "err", err)
	}
	return nil
}

// errSubmittedBefore stops an append that finds its own submission stored.
var errSubmittedBefore = errors.New("submitted by this request before")

// submission makes the final answers: those saved with those given over
// them, checked as final, cleaned of hidden items.
func submission(sess Session, resp storedResponse, given survey.Answers, picked []string, today string) (survey.SurveyResponseSubmitted, error) {
	merged := resp.Answers.Clone()
	if merged == nil {
		merged = survey.Answers{}
	}
	for item, v := range given {
		if len(v) == 0 {
			delete(merged, item)
		} else {
			merged[item] = slices.Clone(v)
		}
	}
	partnerships := picked
	switch {
	case sess.Link.PartnershipID != "":
		partnerships = []string{sess.Link.PartnershipID}
	case partnerships == nil:
		partnerships = slices.Clone(resp.Partnerships)
	}
	err := sess.Questionnaire.Check(merged, true)
	var verr *survey.ValidationError
	if err != nil && !errors.As(err, &verr) {
		return survey.SurveyResponseSubmitted{}, err
	}
	if sess.Link.PartnershipID == "" && len(sess.Choices) > 0 && len(partnerships) == 0 {
		if verr == nil {
			verr = &survey.ValidationError{Answers: true}
		}
		verr.Problems = append(verr.Problems, survey.Problem{Path: "partnerships", Code: survey.ProblemRequired,
			Message: "choose the partnership(s) your answers concern"})
	}
	if verr != nil {
		return survey.SurveyResponseSubmitted{}, verr
	}
	if partnerships == nil {
		partnerships = []string{}
	}
	return survey.SurveyResponseSubmitted{Answers: sess.Questionnaire.Clean(merged), Partnerships: partnerships,
		AnsweredOn: today}, nil
}

// Track counts a wave's links and responses by municipality, group and
// partnership. A row with a partnership counts links that fix it. Links
// that fix none are counted in a row without one; for them, a row per
// partnership that respondents chose counts the completed responses that
// chose it (Invited and Started are 0 there: a link is not tied to a
// choice before it is submitted, and a response choosing two counts in
// both). Totals count links only, each once.
func (s *Service) Track(ctx context.Context, waveID string) (Tracking, error) {
	w, err := s.Wave(ctx, waveID)
	if err != nil {
		return Tracking{}, err
	}
	rows, err := s.links.CountLinks(ctx, waveID)
	if err != nil {
		return Tracking{}, fmt.Errorf("track survey wave %s: %w", waveID, err)
	}
	t := Tracking{Wave: w, Rows: rows}
	chooses := false
	for _, r := range rows {
		t.Totals.Invited += r.Invited
		t.Totals.Started += r.Started
		t.Totals.Completed += r.Completed
		t.Totals.Bounced += r.Bounced
		chooses = chooses || r.PartnershipID == ""
	}
	if !chooses {
		return t, nil
	}
	responses, err := Responses(ctx, s.store, waveID, 0)
	if err != nil {
		return Tracking{}, fmt.Errorf("track survey wave %s: %w", waveID, err)
	}
	type cell struct{ municipality, group, partnership string }
	counts := map[cell]int{}
	for _, r := range responses {
		if r.Fixed {
			continue
		}
		for _, p := range r.Partnerships {
			counts[cell{r.Municipality, r.Group, p}]++
		}
	}
	for c, n := range counts {
		t.Rows = append(t.Rows, auth.LinkCount{Municipality: c.municipality, Group: c.group, PartnershipID: c.partnership, Completed: n})
	}
	slices.SortStableFunc(t.Rows, func(a, b auth.LinkCount) int {
		return strings.Compare(a.Municipality+"\x00"+a.Group+"\x00"+a.PartnershipID,
			b.Municipality+"\x00"+b.Group+"\x00"+b.PartnershipID)
	})
	return t, nil
}

// Responses returns a wave's submitted responses recorded up to the
// position (0: the head), in the order they were submitted.
func Responses(ctx context.Context, store eventstore.Store, waveID string, upTo uint64) ([]survey.Response, error) {
	if upTo == 0 {
		head, err := store.Head(ctx)
		if err != nil {
			return nil, fmt.Errorf("survey responses: %w", err)
		}
		if head == 0 {
			return nil, nil
		}
		upTo = head
	}
	streams, err := eventstore.Streams(ctx, store, survey.ResponseStreamPrefix, upTo)
	if err != nil {
		return nil, fmt.Errorf("survey responses: %w", err)
	}
	type submitted struct {
		survey.Response
		position uint64
	}
	var out []submitted
	for _, stream := range streams {
		events, err := store.ReadStream(ctx, stream)
		if err != nil {
			return nil, fmt.Errorf("survey responses: read %s: %w", stream, err)
		}
		r := submitted{Response: survey.Response{ID: strings.TrimPrefix(stream, survey.ResponseStreamPrefix)}}
		for _, rec := range events {
			if rec.Position > upTo {
				break
			}
			e, err := decode(rec)
			if err != nil {
				return nil, fmt.Errorf("survey responses: %w", err)
			}
			r.Apply(e)
			if rec.Type == survey.TypeSurveyResponseSubmitted {
				r.position = rec.Position
			}
		}
		if r.Submitted && r.WaveID == waveID {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b submitted) int { return cmp.Compare(a.position, b.position) })
	responses := make([]survey.Response, len(out))
	for i, r := range out {
		responses[i] = r.Response
	}
	return responses, nil
}
