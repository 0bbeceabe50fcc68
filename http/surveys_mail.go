package http

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/surveys"
)

// registerSurveyMail adds the survey mailing routes: invitations and
// reminders by e-mail, and the mailing's counts (docs/surveys.md,
// "Invitations by e-mail"). Project members and admins only.
func (s *Server) registerSurveyMail(v1 *gin.RouterGroup) {
	export := s.allow(exporters)
	v1.POST("/surveys/waves/:wave/invitations", export, s.postSurveyInvitations)
	v1.POST("/surveys/waves/:wave/reminders", export, s.postSurveyReminders)
	v1.GET("/surveys/waves/:wave/mailing", export, s.getSurveyMailing)
}

// invitationsRequest is POST /surveys/waves/{wave}/invitations's body.
type invitationsRequest struct {
	Municipality  string   `json:"municipality"`
	PartnershipID string   `json:"partnership_id,omitempty"`
	Language      string   `json:"language"`
	Addresses     []string `json:"addresses"`
}

// errNoSuchWave is a wave that does not exist or that the principal may
// not see: the same 404, so that a wave's existence does not leak.
var errNoSuchWave = errors.New("no survey wave has this id")

// mailWave returns the wave of the path when the principal may mail for
// it (an admin, or a researcher of its project); on false the answer is
// written.
func (s *Server) mailWave(c *gin.Context) (surveys.WaveInfo, bool) {
	if s.surveys == nil || s.projects == nil {
		s.failSurveyMail(c, errNoSuchWave)
		return surveys.WaveInfo{}, false
	}
	ctx := c.Request.Context()
	w, err := s.surveys.Wave(ctx, c.Param("wave"))
	if err == nil {
		var p auth.Project
		p, err = s.projects.Project(ctx, w.ProjectID)
		if err == nil && !auth.MayExportProject(principal(c), p) {
			err = errNoSuchWave
		}
	}
	if err != nil {
		s.failSurveyMail(c, err)
		return surveys.WaveInfo{}, false
	}
	return w, true
}

// mailEnabled answers 409 when no SMTP server is configured.
func (s *Server) mailEnabled(c *gin.Context) bool {
	if !s.surveyMail.Enabled() {
		s.failSurveyMail(c, surveys.ErrMailNotConfigured)
		return false
	}
	return true
}

func (s *Server) postSurveyInvitations(c *gin.Context) {
	w, ok := s.mailWave(c)
	if !ok || !s.mailEnabled(c) {
		return
	}
	var req invitationsRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	pr := principal(c)
	res, err := s.surveys.Invite(c.Request.Context(), eventstore.Actor{Subject: pr.Subject, Role: string(pr.Role)}, w.ID, surveys.InviteRequest{
		Municipality: req.Municipality, PartnershipID: req.PartnershipID, Language: req.Language, Addresses: req.Addresses,
	})
	if err != nil {
		s.failSurveyMail(c, err)
		return
	}
	s.surveyMail.Kick()
	c.JSON(http.StatusAccepted, res)
}

func (s *Server) postSurveyReminders(c *gin.Context) {
	w, ok := s.mailWave(c)
	if !ok || !s.mailEnabled(c) {
		return
	}
	pr := principal(c)
	n, err := s.surveys.Remind(c.Request.Context(), eventstore.Actor{Subject: pr.Subject, Role: string(pr.Role)}, w.ID)
	if err != nil {
		s.failSurveyMail(c, err)
		return
	}
	s.surveyMail.Kick()
	c.JSON(http.StatusAccepted, gin.H{"queued": n})
}

// mailingResponse is GET /surveys/waves/{wave}/mailing's body.
type mailingResponse struct {
	WaveID  string `json:"wave_id"`
	Enabled bool   `json:"email_configured"`
	surveys.MailCounts
}

func (s *Server) getSurveyMailing(c *gin.Context) {
	w, ok := s.mailWave(c)
	if !ok {
		return
	}
	counts, err := s.surveys.Mailing(c.Request.Context(), w.ID)
	if err != nil {
		s.failSurveyMail(c, err)
		return
	}
	c.JSON(http.StatusOK, mailingResponse{WaveID: w.ID, Enabled: s.surveyMail.Enabled(), MailCounts: counts})
}

// failSurveyMail answers the survey errors of these routes as problems;
// every other error goes to fail.
func (s *Server) failSurveyMail(c *gin.Context, err error) {
	var we *surveys.WaveError
	switch {
	case errors.As(err, &we):
		fields := make([]partnership.FieldError, 0, len(we.Problems))
		for _, p := range we.Problems {
			fields = append(fields, partnership.FieldError{Field: p.Field, Message: p.Message})
		}
		s.fail(c, edge.BadRequest("the request has invalid fields", fields...))
	case errors.Is(err, surveys.ErrNoAddresses):
		s.fail(c, edge.FieldError("addresses", "must hold at least one e-mail address"))
	case errors.Is(err, errNoSuchWave), errors.Is(err, surveys.ErrWaveNotFound), errors.Is(err, auth.ErrProjectNotFound):
		writeProblem(c, Problem{Type: problemType(edge.KindNotFound), Title: "Survey wave not found", Status: http.StatusNotFound, Detail: errNoSuchWave.Error()})
	case errors.Is(err, surveys.ErrMailNotConfigured):
		writeProblem(c, Problem{Type: problemType(edge.KindRule), Title: "E-mail not configured", Status: http.StatusConflict,
			Detail: "this server has no SMTP server (serve --smtp-addr); download the links as CSV for the municipality's own mailing instead"})
	case errors.Is(err, surveys.ErrWaveClosed), errors.Is(err, surveys.ErrLinkExpired):
		writeProblem(c, Problem{Type: problemType(edge.KindRule), Title: "Command refused", Status: http.StatusConflict, Detail: "the survey wave is closed"})
	default:
		s.fail(c, fmt.Errorf("survey mailing: %w", err))
	}
}
