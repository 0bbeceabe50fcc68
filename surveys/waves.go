package surveys

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// Bounds of a wave and of a link request.
const (
	maxTitle        = 200
	MaxLinksPerCall = 5000
)

// problems collects the field problems of a wave or link request.
type problems []FieldProblem

func (p *problems) add(field, format string, args ...any) {
	*p = append(*p, FieldProblem{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return &WaveError{Problems: p}
}

// today is the day in Europe/Oslo now.
func (s *Service) today() string { return calendar.Day(s.now()) }

// Schedule checks a wave (its project exists, its municipalities are the
// project's, its questionnaire version exists, its group is one of
// survey.Groups, its partnerships lie in its municipalities, Opens <=
// Closes, Closes not in the past) and stores it with a new id. A
// questionnaire version of 0 is the questionnaire's latest, which the wave
// then names.
func (s *Service) Schedule(ctx context.Context, actor eventstore.Actor, w survey.Wave) (WaveInfo, error) {
	w, err := s.checkWave(ctx, w)
	if err != nil {
		return WaveInfo{}, err
	}
	w.ID = s.newID()
	ev, err := s.newEvent(uuid.Must(uuid.NewV7()).String(), actor, survey.SurveyWaveScheduled{Wave: w})
	if err != nil {
		return WaveInfo{}, err
	}
	res, err := s.store.Append(ctx, eventstore.AppendRequest{StreamID: survey.WaveStream(w.ID),
		Expected: eventstore.NoStream(), Events: []eventstore.NewEvent{ev}})
	if err != nil {
		return WaveInfo{}, fmt.Errorf("schedule survey wave: %w", err)
	}
	s.log.InfoContext(ctx, "survey wave scheduled", "wave", w.ID, "project", w.ProjectID, "actor", actor.Subject)
	return WaveInfo{Wave: w, Position: res.LastPosition()}, nil
}

// checkWave names every problem of a wave at once, and returns it with its
// fields tidied (trimmed title, today's codes, the questionnaire's
// version).
func (s *Service) checkWave(ctx context.Context, w survey.Wave) (survey.Wave, error) {
	var p problems
	w.Title = strings.TrimSpace(w.Title)
	switch {
	case w.Title == "":
		p.add("title", "a title is required")
	case utf8.RuneCountInString(w.Title) > maxTitle:
		p.add("title", "at most %d characters", maxTitle)
	}

	var project auth.Project
	if w.ProjectID == "" {
		p.add("project_id", "a research project is required")
	} else if pr, err := s.projects.Project(ctx, w.ProjectID); errors.Is(err, auth.ErrProjectNotFound) {
		p.add("project_id", "no research project %q", w.ProjectID)
	} else if err != nil {
		return w, fmt.Errorf("check survey wave: %w", err)
	} else {
		project = pr
	}

	switch {
	case w.QuestionnaireID == "":
		p.add("questionnaire_id", "a questionnaire is required")
	case w.QuestionnaireVersion < 0:
		p.add("questionnaire_version", "a version is 1 or more (0: the latest)")
	default:
		q, err := s.Questionnaire(ctx, w.QuestionnaireID, w.QuestionnaireVersion)
		switch {
		case errors.Is(err, ErrQuestionnaireNotFound) && w.QuestionnaireVersion == 0:
			p.add("questionnaire_id", "no questionnaire %q", w.QuestionnaireID)
		case errors.Is(err, ErrQuestionnaireNotFound):
			p.add("questionnaire_version", "questionnaire %q has no version %d", w.QuestionnaireID, w.QuestionnaireVersion)
		case err != nil:
			return w, fmt.Errorf("check survey wave: %w", err)
		default:
			w.QuestionnaireVersion = q.Version
		}
	}

	if !slices.Contains(survey.Groups, w.Group) {
		p.add("group", "one of %s", strings.Join(survey.Groups, ", "))
	}

	now := s.now()
	if len(w.Municipalities) == 0 {
		p.add("municipalities", "at least one municipality is required")
	}
	seen := map[string]bool{}
	for i, m := range w.Municipalities {
		field := fmt.Sprintf("municipalities[%d]", i)
		c, err := kommune.ParseValidOn(m, now)
		switch {
		case err != nil:
			p.add(field, "%v", err)
		case seen[m]:
			p.add(field, "municipality %s is named twice", m)
		case project.ID != "" && len(project.Municipalities) > 0 && !slices.Contains(project.Municipalities, c):
			p.add(field, "municipality %s is not one of the research project's", m)
		}
		seen[m] = true
	}

	seenP := map[string]bool{}
	partnerships := history.New(s.store)
	for i, id := range w.Partnerships {
		field := fmt.Sprintf("partnerships[%d]", i)
		if seenP[id] {
			p.add(field, "partnership %s is named twice", id)
			continue
		}
		seenP[id] = true
		st, err := partnerships.Current(ctx, id)
		switch {
		case errors.Is(err, partnership.ErrNotFound):
			p.add(field, "no partnership %q", id)
		case err != nil:
			return w, fmt.Errorf("check survey wave: partnership %s: %w", id, err)
		case !slices.Contains(w.Municipalities, st.CurrentMunicipality):
			p.add(field, "partnership %s is in municipality %s, not one of the wave's", id, st.CurrentMunicipality)
		}
	}

	opens, errOpens := time.Parse(time.DateOnly, w.Opens)
	closes, errCloses := time.Parse(time.DateOnly, w.Closes)
	if errOpens != nil {
		p.add("opens", "a day as YYYY-MM-DD is required")
	}
	if errCloses != nil {
		p.add("closes", "a day as YYYY-MM-DD is required")
	}
	if errOpens == nil && errCloses == nil && closes.Before(opens) {
		p.add("closes", "the wave closes before it opens")
	}
	if errCloses == nil && w.Closes < s.today() {
		p.add("closes", "the close day %s is in the past", w.Closes)
	}
	return w, p.err()
}

// Wave returns a wave.
func (s *Service) Wave(ctx context.Context, id string) (WaveInfo, error) {
	if id == "" {
		return WaveInfo{}, ErrWaveNotFound
	}
	w, _, err := s.wave(ctx, id)
	return w, err
}

// wave reads a wave and its stream's version.
func (s *Service) wave(ctx context.Context, id string) (WaveInfo, uint64, error) {
	events, err := s.readStream(ctx, survey.WaveStream(id))
	if err != nil {
		return WaveInfo{}, 0, err
	}
	if len(events) == 0 {
		return WaveInfo{}, 0, ErrWaveNotFound
	}
	var w WaveInfo
	for _, r := range events {
		e, err := decode(r)
		if err != nil {
			return WaveInfo{}, 0, err
		}
		switch e := e.(type) {
		case survey.SurveyWaveScheduled:
			w.Wave = e.Wave
		case survey.SurveyWaveClosed:
			w.Closed, w.ClosedOn = true, calendar.Day(r.OccurredAt)
		}
		w.Position = r.Position
	}
	return w, uint64(len(events)), nil
}

// Waves returns a project's waves ("" for every project's), newest first.
func (s *Service) Waves(ctx context.Context, projectID string) ([]WaveInfo, error) {
	streams, err := s.streams(ctx, survey.WaveStreamPrefix)
	if err != nil {
		return nil, err
	}
	var out []WaveInfo
	for _, stream := range slices.Backward(streams) {
		w, err := s.Wave(ctx, strings.TrimPrefix(stream, survey.WaveStreamPrefix))
		if err != nil {
			return nil, err
		}
		if projectID == "" || w.ProjectID == projectID {
			out = append(out, w)
		}
	}
	return out, nil
}

// Close closes a wave early: its links write nothing from then on and the
// mailing addresses of its links are erased. Closing a closed wave only
// erases the addresses again (a first close whose erasure failed is
// finished so).
func (s *Service) Close(ctx context.Context, actor eventstore.Actor, id, reason string) error {
	if id == "" {
		return ErrWaveNotFound
	}
	for attempt := 0; ; attempt++ {
		w, version, err := s.wave(ctx, id)
		if err != nil {
			return err
		}
		if w.Closed {
			break
		}
		ev, err := s.newEvent(uuid.Must(uuid.NewV7()).String(), actor, survey.SurveyWaveClosed{Reason: strings.TrimSpace(reason)})
		if err != nil {
			return err
		}
		_, err = s.store.Append(ctx, eventstore.AppendRequest{StreamID: survey.WaveStream(id),
			Expected: eventstore.Exactly(version), Events: []eventstore.NewEvent{ev}})
		if errors.Is(err, eventstore.ErrVersionConflict) && attempt < appendAttempts {
			continue
		}
		if err != nil {
			return fmt.Errorf("close survey wave %s: %w", id, err)
		}
		s.log.InfoContext(ctx, "survey wave closed", "wave", id, "actor", actor.Subject)
		break
	}
	n, err := s.links.EraseAddresses(ctx, id)
	if err != nil {
		return fmt.Errorf("close survey wave %s: %w", id, err)
	}
	s.log.InfoContext(ctx, "survey wave addresses erased", "wave", id, "addresses", n)
	return nil
}

// expiresAt is when a wave's links expire: the end of its close day in
// Europe/Oslo (the next day's midnight there).
func expiresAt(w survey.Wave) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, w.Closes, calendar.Oslo)
	if err != nil {
		return time.Time{}, fmt.Errorf("wave %s closes on %q: %w", w.ID, w.Closes, err)
	}
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, calendar.Oslo), nil
}

// IssueLinks makes links for a wave (refused once it is closed or past its
// close day: ErrWaveClosed). Problems of the request are a *WaveError.
func (s *Service) IssueLinks(ctx context.Context, actor eventstore.Actor, waveID string, req LinkRequest) ([]IssuedLink, error) {
	w, err := s.Wave(ctx, waveID)
	if err != nil {
		return nil, err
	}
	if w.Closed || w.Closes < s.today() {
		return nil, ErrWaveClosed
	}
	addresses, err := s.checkLinkRequest(ctx, w, req)
	if err != nil {
		return nil, err
	}
	expires, err := expiresAt(w.Wave)
	if err != nil {
		return nil, err
	}
	n := req.Count
	if len(addresses) > 0 {
		n = len(addresses)
	}
	batch := req.Batch
	if batch == "" {
		batch = s.today() + "-" + uuid.Must(uuid.NewV7()).String()[24:]
	}
	links := make([]auth.SurveyLink, n)
	issued := make([]IssuedLink, n)
	created := s.now().UTC()
	for i := range n {
		token, hash := auth.NewLinkToken()
		l := auth.SurveyLink{Hash: hash, WaveID: w.ID, ProjectID: w.ProjectID, Municipality: req.Municipality,
			Group: w.Group, PartnershipID: req.PartnershipID, Batch: batch, ExpiresAt: expires,
			State: auth.LinkInvited, CreatedAt: created}
		if len(addresses) > 0 {
			l.Address, l.Mail = addresses[i], auth.MailQueued
		}
		links[i] = l
		issued[i] = IssuedLink{Token: token, Path: "/s/" + token, Municipality: l.Municipality,
			PartnershipID: l.PartnershipID, Address: l.Address, ExpiresAt: expires}
	}
	if err := s.links.CreateLinks(ctx, links); err != nil {
		return nil, fmt.Errorf("issue survey links: %w", err)
	}
	s.log.InfoContext(ctx, "survey links issued", "wave", w.ID, "municipality", req.Municipality,
		"links", n, "mailed", len(addresses) > 0, "batch", batch, "actor", actor.Subject)
	return issued, nil
}

// checkLinkRequest names every problem of a link request, and returns its
// addresses as bare, trimmed addresses.
func (s *Service) checkLinkRequest(ctx context.Context, w WaveInfo, req LinkRequest) ([]string, error) {
	var p problems
	if !slices.Contains(w.Municipalities, req.Municipality) {
		p.add("municipality", "municipality %q is not one of the wave's", req.Municipality)
	}
	if req.PartnershipID != "" {
		switch st, err := history.New(s.store).Current(ctx, req.PartnershipID); {
		case errors.Is(err, partnership.ErrNotFound):
			p.add("partnership_id", "no partnership %q", req.PartnershipID)
		case err != nil:
			return nil, fmt.Errorf("issue survey links: partnership %s: %w", req.PartnershipID, err)
		case len(w.Partnerships) > 0 && !slices.Contains(w.Partnerships, req.PartnershipID):
			p.add("partnership_id", "partnership %s is not one of the wave's", req.PartnershipID)
		case st.CurrentMunicipality != req.Municipality:
			p.add("partnership_id", "partnership %s is in municipality %s, not %s", req.PartnershipID, st.CurrentMunicipality, req.Municipality)
		}
	}
	var addresses []string
	switch {
	case req.Count != 0 && len(req.Addresses) > 0:
		p.add("count", "ask for a count of links or for addresses, not both")
	case len(req.Addresses) > 0:
		if len(req.Addresses) > MaxLinksPerCall {
			p.add("addresses", "at most %d addresses at a time", MaxLinksPerCall)
			break
		}
		seen := map[string]bool{}
		for i, a := range req.Addresses {
			field := fmt.Sprintf("addresses[%d]", i)
			parsed, err := mail.ParseAddress(strings.TrimSpace(a))
			switch {
			case err != nil || parsed.Name != "" || parsed.Address != strings.TrimSpace(a):
				p.add(field, "%q is not an e-mail address", a)
			case seen[strings.ToLower(parsed.Address)]:
				p.add(field, "%s is named twice", parsed.Address)
			default:
				seen[strings.ToLower(parsed.Address)] = true
				addresses = append(addresses, parsed.Address)
			}
		}
	case req.Count < 1 || req.Count > MaxLinksPerCall:
		p.add("count", "from 1 to %d links at a time", MaxLinksPerCall)
	}
	return addresses, p.err()
}
