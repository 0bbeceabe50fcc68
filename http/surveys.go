package http

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/surveys"
)

// Surveys (docs/api.md, Surveys): the researchers' routes that publish
// questionnaires, schedule and close waves, make response links and follow
// the response rate, over surveys.Service. Questionnaires are the
// researchers' and admins'; a wave is its project's members' and the
// admins' (anyone else gets the same 404 as for an unknown wave, as
// projectScope does for projects); a wave's progress is also shown to the
// coordinators of its municipalities, their own rows only.

// registerSurveys adds the survey routes to v1. They answer 404 when the
// server fields no surveys (Config.Surveys).
func (s *Server) registerSurveys(v1 *gin.RouterGroup) {
	export, anyone := s.allow(exporters), s.allow(anyRole)
	v1.POST("/surveys/questionnaires", export, s.needSurveys, s.publishQuestionnaire)
	v1.POST("/surveys/questionnaires/validate", export, s.needSurveys, s.validateQuestionnaire)
	v1.GET("/surveys/questionnaires", export, s.needSurveys, s.listQuestionnaires)
	v1.GET("/surveys/questionnaires/:id", export, s.needSurveys, s.getQuestionnaire)
	v1.GET("/surveys/questionnaires/:id/versions/:version", export, s.needSurveys, s.getQuestionnaire)
	v1.POST("/research/projects/:project/waves", export, s.needSurveys, s.scheduleWave)
	v1.GET("/research/projects/:project/waves", export, s.needSurveys, s.listWaves)
	v1.GET("/surveys/waves/:wave", export, s.needSurveys, s.getWave)
	v1.POST("/surveys/waves/:wave/close", export, s.needSurveys, s.closeWave)
	v1.POST("/surveys/waves/:wave/links", export, s.needSurveys, s.issueLinks)
	v1.GET("/surveys/waves/:wave/progress", anyone, s.surveyFollowers, s.needSurveys, s.waveProgress)
}

// surveyFollowers lets those through who may follow a wave's responses:
// admins, researchers and coordinators (who of them may see which wave
// is waveScope's question); a viewer gets 403.
func (s *Server) surveyFollowers(c *gin.Context) {
	if pr := principal(c); !pr.MayExport() && pr.Role != auth.RoleCoordinator {
		s.fail(c, fmt.Errorf("%w: the %s role may not follow surveys", auth.ErrForbidden, pr.Role))
	}
}

// needSurveys answers 404 when the server fields no surveys.
func (s *Server) needSurveys(c *gin.Context) {
	if s.surveys == nil {
		writeProblem(c, Problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "this server fields no surveys"})
	}
}

// questionnaireProblem is the 422 of a questionnaire that fails
// validation: every problem, with its path in the definition.
type questionnaireProblem struct {
	Type   string           `json:"type"`
	Title  string           `json:"title"`
	Status int              `json:"status"`
	Detail string           `json:"detail,omitempty"`
	Errors []survey.Problem `json:"errors"`
}

// failSurvey answers with the problem of a survey error: the service's
// and the domain's sentinels here, everything else as fail does.
func (s *Server) failSurvey(c *gin.Context, err error) {
	var (
		invalid *survey.ValidationError
		wave    *surveys.WaveError
	)
	switch {
	case errors.As(err, &invalid):
		c.Header("Content-Type", problemContentType)
		c.AbortWithStatusJSON(http.StatusUnprocessableEntity, questionnaireProblem{Type: typeValidation, Title: "Invalid questionnaire",
			Status: http.StatusUnprocessableEntity, Detail: fmt.Sprintf("the questionnaire has %d problem(s); nothing was stored", len(invalid.Problems)), Errors: invalid.Problems})
	case errors.As(err, &wave):
		fields := make([]partnership.FieldError, len(wave.Problems))
		for i, p := range wave.Problems {
			fields[i] = partnership.FieldError{Field: p.Field, Message: p.Message}
		}
		writeProblem(c, Problem{Type: typeValidation, Title: "Invalid request", Status: http.StatusUnprocessableEntity,
			Detail: "the request has invalid fields; nothing was stored", Errors: fields})
	// errNoSuchWave (surveys_mail.go) is the one answer for a wave that
	// does not exist and for one the principal may not see.
	case errors.Is(err, errNoSuchWave), errors.Is(err, surveys.ErrWaveNotFound):
		writeProblem(c, Problem{Type: typeNotFound, Title: "Survey wave not found", Status: http.StatusNotFound, Detail: errNoSuchWave.Error()})
	case errors.Is(err, surveys.ErrQuestionnaireNotFound):
		writeProblem(c, Problem{Type: typeNotFound, Title: "Questionnaire not found", Status: http.StatusNotFound, Detail: "no questionnaire has this id and version"})
	case errors.Is(err, surveys.ErrWaveClosed):
		writeProblem(c, Problem{Type: typeRule, Title: "Command refused", Status: http.StatusConflict, Detail: "the survey wave is closed: it makes no more links and takes no more answers"})
	default:
		s.fail(c, err)
	}
}

// actor names the request's principal in the events it writes.
func actor(c *gin.Context) eventstore.Actor {
	pr := principal(c)
	return eventstore.Actor{Subject: pr.Subject, Role: pr.Role}
}

// readQuestionnaire reads a definition in JSON or YAML, as its Content-Type
// says, and parses and validates it (survey.Parse).
func readQuestionnaire(c *gin.Context) (survey.Questionnaire, error) {
	media, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	switch {
	case err != nil:
		return survey.Questionnaire{}, errUnsupportedMedia
	case media == "application/json", media == "application/yaml", media == "text/yaml", media == "application/x-yaml":
	default:
		return survey.Questionnaire{}, errUnsupportedMedia
	}
	body, err := readBody(c)
	if err != nil {
		return survey.Questionnaire{}, err
	}
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return survey.Questionnaire{}, edge.BadRequest("the body must hold a questionnaire in JSON or YAML")
	}
	if media == "application/json" && trimmed[0] != '{' {
		return survey.Questionnaire{}, edge.BadRequest("the body must be a JSON object (send YAML as application/yaml)")
	}
	if media == "application/json" && jsonDepth(body) > maxDepth {
		return survey.Questionnaire{}, edge.BadRequest(fmt.Sprintf("the body nests deeper than %d levels", maxDepth))
	}
	return survey.Parse(body)
}

// errUnsupportedMedia is a questionnaire sent in another format than JSON
// or YAML.
var errUnsupportedMedia = errors.New("unsupported media type")

// failQuestionnaire answers a questionnaire request's error.
func (s *Server) failQuestionnaire(c *gin.Context, err error) {
	if errors.Is(err, errUnsupportedMedia) {
		writeProblem(c, Problem{Type: typeValidation, Title: "Unsupported media type", Status: http.StatusUnsupportedMediaType,
			Detail: "send the questionnaire as application/json, application/yaml or text/yaml"})
		return
	}
	s.failSurvey(c, err)
}

// publishQuestionnaire stores a valid definition as its next version: 201
// with the questionnaire and its version (200 when it equals the latest
// version, which is returned and nothing stored).
func (s *Server) publishQuestionnaire(c *gin.Context) {
	q, err := readQuestionnaire(c)
	if err != nil {
		s.failQuestionnaire(c, err)
		return
	}
	ctx := c.Request.Context()
	before, err := s.surveys.Questionnaire(ctx, q.ID, 0)
	if err != nil && !errors.Is(err, surveys.ErrQuestionnaireNotFound) {
		s.failSurvey(c, err)
		return
	}
	published, err := s.surveys.Publish(ctx, actor(c), q)
	if err != nil {
		s.failSurvey(c, err)
		return
	}
	status := http.StatusCreated
	if published.Version == before.Version {
		status = http.StatusOK
	}
	c.Header("Location", questionnairePath(published))
	c.JSON(status, published)
}

func questionnairePath(q survey.Questionnaire) string {
	return "/api/v1/surveys/questionnaires/" + q.ID + "/versions/" + strconv.Itoa(q.Version)
}

// validationResult is the answer of a valid questionnaire to
// /questionnaires/validate.
type validationResult struct {
	Valid         bool                 `json:"valid"`
	Questionnaire survey.Questionnaire `json:"questionnaire"`
}

// validateQuestionnaire checks a definition and stores nothing: 200 with
// it as parsed, or the 422 that publishing it would get.
func (s *Server) validateQuestionnaire(c *gin.Context) {
	q, err := readQuestionnaire(c)
	if err != nil {
		s.failQuestionnaire(c, err)
		return
	}
	c.JSON(http.StatusOK, validationResult{Valid: true, Questionnaire: q})
}

// questionnaireList is the answer of GET /surveys/questionnaires.
type questionnaireList struct {
	Items []survey.Questionnaire `json:"items"`
}

// listQuestionnaires answers the latest version of each questionnaire.
func (s *Server) listQuestionnaires(c *gin.Context) {
	qs, err := s.surveys.Questionnaires(c.Request.Context())
	if err != nil {
		s.failSurvey(c, err)
		return
	}
	c.JSON(http.StatusOK, questionnaireList{Items: append([]survey.Questionnaire{}, qs...)})
}

// getQuestionnaire answers one version (the latest without :version).
func (s *Server) getQuestionnaire(c *gin.Context) {
	version := 0
	if v := c.Param("version"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.fail(c, edge.BadRequest("the version must be a whole number from 1", partnership.FieldError{Field: "version", Message: "must be a whole number from 1"}))
			return
		}
		version = n
	}
	q, err := s.surveys.Questionnaire(c.Request.Context(), c.Param("id"), version)
	if err != nil {
		s.failSurvey(c, err)
		return
	}
	c.JSON(http.StatusOK, q)
}

// waveRequest is the body of POST /research/projects/{project}/waves.
type waveRequest struct {
	Title                string   `json:"title"`
	QuestionnaireID      string   `json:"questionnaire_id"`
	QuestionnaireVersion int      `json:"questionnaire_version"`
	Group                string   `json:"group"`
	Municipalities       []string `json:"municipalities"`
	Partnerships         []string `json:"partnerships"`
	Opens                string   `json:"opens"`
	Closes               string   `json:"closes"`
}

// waveResponse is a wave as the API shows it.
type waveResponse struct {
	ID                   string   `json:"id"`
	ProjectID            string   `json:"project_id"`
	Title                string   `json:"title"`
	QuestionnaireID      string   `json:"questionnaire_id"`
	QuestionnaireVersion int      `json:"questionnaire_version"`
	Group                string   `json:"group"`
	Municipalities       []string `json:"municipalities"`
	Partnerships         []string `json:"partnerships"`
	Opens                string   `json:"opens"`
	Closes               string   `json:"closes"`
	// Closed is true once closed before its close day, ClosedOn its day.
	Closed   bool   `json:"closed"`
	ClosedOn string `json:"closed_on,omitempty"`
	Position uint64 `json:"position"`
}

func newWaveResponse(w surveys.WaveInfo) waveResponse {
	return waveResponse{ID: w.ID, ProjectID: w.ProjectID, Title: w.Title, QuestionnaireID: w.QuestionnaireID,
		QuestionnaireVersion: w.QuestionnaireVersion, Group: w.Group,
		Municipalities: append([]string{}, w.Municipalities...), Partnerships: append([]string{}, w.Partnerships...),
		Opens: w.Opens, Closes: w.Closes, Closed: w.Closed, ClosedOn: w.ClosedOn, Position: w.Position}
}

// waveList is the answer of GET /research/projects/{project}/waves.
type waveList struct {
	Items []waveResponse `json:"items"`
}

// scheduleWave schedules a wave of the project: 201 with it; 422 naming
// every invalid field (surveys.WaveError).
func (s *Server) scheduleWave(c *gin.Context) {
	_, _, project, ok := s.projectScope(c, c.Param("project"))
	if !ok {
		return
	}
	var req waveRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	w, err := s.surveys.Schedule(c.Request.Context(), actor(c), survey.Wave{ProjectID: project.ID, Title: req.Title,
		QuestionnaireID: req.QuestionnaireID, QuestionnaireVersion: req.QuestionnaireVersion, Group: req.Group,
		Municipalities: req.Municipalities, Partnerships: req.Partnerships, Opens: req.Opens, Closes: req.Closes})
	if err != nil {
		s.failSurvey(c, err)
		return
	}
	c.Header("Location", "/api/v1/surveys/waves/"+w.ID)
	c.JSON(http.StatusCreated, newWaveResponse(w))
}

// listWaves answers the project's waves, newest first.
func (s *Server) listWaves(c *gin.Context) {
	_, _, project, ok := s.projectScope(c, c.Param("project"))
	if !ok {
		return
	}
	ws, err := s.surveys.Waves(c.Request.Context(), project.ID)
	if err != nil {
		s.failSurvey(c, err)
		return
	}
	out := waveList{Items: make([]waveResponse, len(ws))}
	for i, w := range ws {
		out.Items[i] = newWaveResponse(w)
	}
	c.JSON(http.StatusOK, out)
}

// waveScope returns the route's wave when the principal has at least the
// access need, else answers 404 (the wave's existence is not told) and
// false.
func (s *Server) waveScope(c *gin.Context, need surveys.Access) (surveys.WaveInfo, surveys.Access, bool) {
	ctx := c.Request.Context()
	w, err := s.surveys.Wave(ctx, c.Param("wave"))
	if err != nil {
		s.failSurvey(c, err)
		return surveys.WaveInfo{}, surveys.AccessNone, false
	}
	var project auth.Project
	if s.projects != nil {
		project, err = s.projects.Project(ctx, w.ProjectID)
		if err != nil && !errors.Is(err, auth.ErrProjectNotFound) {
			s.fail(c, err)
			return surveys.WaveInfo{}, surveys.AccessNone, false
		}
	}
	access := surveys.WaveAccess(principal(c), w.Wave, project)
	if access < need {
		s.failSurvey(c, errNoSuchWave)
		return surveys.WaveInfo{}, surveys.AccessNone, false
	}
	return w, access, true
}

// getWave answers a wave.
func (s *Server) getWave(c *gin.Context) {
	w, _, ok := s.waveScope(c, surveys.AccessManage)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, newWaveResponse(w))
}

// closeWaveRequest is the body of POST /surveys/waves/{wave}/close.
type closeWaveRequest struct {
	Reason string `json:"reason"`
}

// closeWave closes a wave before its close day; answers it.
func (s *Server) closeWave(c *gin.Context) {
	w, _, ok := s.waveScope(c, surveys.AccessManage)
	if !ok {
		return
	}
	var req closeWaveRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	if len([]rune(req.Reason)) > 500 {
		s.fail(c, edge.FieldError("reason", "must be at most 500 characters"))
		return
	}
	ctx := c.Request.Context()
	if err := s.surveys.Close(ctx, actor(c), w.ID, req.Reason); err != nil {
		s.failSurvey(c, err)
		return
	}
	w, err := s.surveys.Wave(ctx, w.ID)
	if err != nil {
		s.failSurvey(c, err)
		return
	}
	c.JSON(http.StatusOK, newWaveResponse(w))
}

// linksRequest is the body of POST /surveys/waves/{wave}/links.
type linksRequest struct {
	Municipality  string `json:"municipality"`
	PartnershipID string `json:"partnership_id"`
	Count         int    `json:"count"`
}

// issuedLink is a response link as handed out, once.
type issuedLink struct {
	URL           string    `json:"url"`
	Municipality  string    `json:"municipality"`
	PartnershipID string    `json:"partnership_id,omitempty"`
	ExpiresAt     time.Time `json:"expires_at"`
}

// linksResponse is the JSON answer of POST /surveys/waves/{wave}/links.
type linksResponse struct {
	WaveID string       `json:"wave_id"`
	Links  []issuedLink `json:"links"`
}

// issueLinks makes links; 201 with them as JSON, or as CSV when the
// request accepts text/csv. They are never shown again (only their
// hashes are stored), so the answer is not cached.
func (s *Server) issueLinks(c *gin.Context) {
	w, _, ok := s.waveScope(c, surveys.AccessManage)
	if !ok {
		return
	}
	var req linksRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	lr := surveys.LinkRequest{Municipality: req.Municipality, PartnershipID: req.PartnershipID, Count: req.Count}
	links, err := s.surveys.IssueLinks(c.Request.Context(), actor(c), w.ID, lr)
	if err != nil {
		s.failSurvey(c, err)
		return
	}
	base := s.surveys.LinkBase(edge.BaseURL(c))
	c.Header("Cache-Control", "no-store")
	if strings.Contains(c.GetHeader("Accept"), "text/csv") {
		c.Header("Content-Disposition", `attachment; filename="`+surveys.LinksFilename(w.ID, req.Municipality)+`"`)
		c.Data(http.StatusCreated, "text/csv; charset=utf-8", surveys.LinksCSV(base, links))
		return
	}
	out := linksResponse{WaveID: w.ID, Links: make([]issuedLink, len(links))}
	for i, l := range links {
		out.Links[i] = issuedLink{URL: base + l.Path, Municipality: l.Municipality, PartnershipID: l.PartnershipID, ExpiresAt: l.ExpiresAt}
	}
	c.JSON(http.StatusCreated, out)
}

// progressRow is one cell of a wave's response tracking.
type progressRow struct {
	Municipality  string `json:"municipality"`
	Group         string `json:"group"`
	PartnershipID string `json:"partnership_id"`
	Invited       int    `json:"invited"`
	Started       int    `json:"started"`
	Completed     int    `json:"completed"`
	Bounced       int    `json:"bounced"`
	// ResponseRate is completed / invited; null before any link is made.
	ResponseRate *float64 `json:"response_rate"`
}

// progressResponse is the answer of GET /surveys/waves/{wave}/progress.
type progressResponse struct {
	Wave   waveResponse  `json:"wave"`
	Rows   []progressRow `json:"rows"`
	Totals progressRow   `json:"totals"`
}

func newProgressRow(n auth.LinkCount) progressRow {
	return progressRow{Municipality: n.Municipality, Group: n.Group, PartnershipID: n.PartnershipID, Invited: n.Invited,
		Started: n.Started, Completed: n.Completed, Bounced: n.Bounced, ResponseRate: surveys.ResponseRate(n)}
}

// waveProgress answers a wave's response counts.
func (s *Server) waveProgress(c *gin.Context) {
	pr := principal(c)
	w, access, ok := s.waveScope(c, surveys.AccessCounts)
	if !ok {
		return
	}
	t, err := s.surveys.Track(c.Request.Context(), w.ID)
	if err != nil {
		s.failSurvey(c, err)
		return
	}
	t.Wave = w
	p := t.For(pr, access)
	out := progressResponse{Wave: newWaveResponse(w), Rows: make([]progressRow, len(p.Rows)), Totals: newProgressRow(p.Totals)}
	for i, r := range p.Rows {
		out.Rows[i] = newProgressRow(r)
	}
	c.JSON(http.StatusOK, out)
}
