package http

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/research"
)

// Research projects (docs/api.md, Research projects): the admin routes
// that make them, grant them, rotate and export their keys, over
// auth.ProjectStore, and projectScope, which the research exports call to
// take a project's pseudonym keys and municipalities. The store writes
// each change to the audit log, naming the admin whose token made the
// request.

// registerProjects adds the routes to v1: the admin's behind admin, the
// researchers' list behind export.
func (s *Server) registerProjects(v1 *gin.RouterGroup, admin, export gin.HandlerFunc) {
	a := v1.Group("/admin/research-projects", admin, s.needProjects)
	a.GET("", s.listProjects)
	a.POST("", s.createProject)
	a.GET("/:id", s.getProject)
	a.POST("/:id/members", s.grantProject)
	a.DELETE("/:id/members/:subject", s.revokeProject)
	a.POST("/:id/rotate-key", s.rotateProjectKey)
	a.POST("/:id/export-key", s.exportProjectKey)
	v1.GET("/research/projects", export, s.needProjects, s.listMyProjects)
}

// needProjects answers 404 when the server keeps no research projects
// (Config.Projects).
func (s *Server) needProjects(c *gin.Context) {
	if s.projects == nil {
		writeProblem(c, Problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "this server keeps no research projects"})
	}
}

// projectResponse is a project as a researcher sees it: never its key.
type projectResponse struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Institution    string    `json:"institution"`
	Purpose        string    `json:"purpose"`
	Starts         string    `json:"starts"`
	Ends           string    `json:"ends,omitempty"`
	Municipalities []string  `json:"municipalities"`
	KeyGeneration  int       `json:"key_generation"`
	CreatedAt      time.Time `json:"created_at"`
}

// adminProjectResponse is a project as the admin API shows it: with its
// members.
type adminProjectResponse struct {
	projectResponse
	Members []string `json:"members"`
}

func newProjectResponse(p auth.Project) projectResponse {
	return projectResponse{ID: p.ID, Name: p.Name, Institution: p.Institution, Purpose: p.Purpose, Starts: p.Starts, Ends: p.Ends,
		Municipalities: codes(p.Municipalities), KeyGeneration: p.KeyGeneration, CreatedAt: p.CreatedAt}
}

func newAdminProjectResponse(p auth.Project) adminProjectResponse {
	return adminProjectResponse{projectResponse: newProjectResponse(p), Members: append([]string{}, p.Members...)}
}

// listProjects answers every project, by id.
func (s *Server) listProjects(c *gin.Context) {
	ps, err := s.projects.Projects(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := struct {
		Items []adminProjectResponse `json:"items"`
	}{Items: make([]adminProjectResponse, len(ps))}
	for i, p := range ps {
		out.Items[i] = newAdminProjectResponse(p)
	}
	c.JSON(http.StatusOK, out)
}

// listMyProjects answers the projects the principal may export, by id.
func (s *Server) listMyProjects(c *gin.Context) {
	ps, err := s.projects.ProjectsOf(c.Request.Context(), principal(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	out := struct {
		Items []projectResponse `json:"items"`
	}{Items: make([]projectResponse, len(ps))}
	for i, p := range ps {
		out.Items[i] = newProjectResponse(p)
	}
	c.JSON(http.StatusOK, out)
}

// createProjectRequest is the body of POST /admin/research-projects.
type createProjectRequest struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Institution    string   `json:"institution"`
	Purpose        string   `json:"purpose"`
	Starts         string   `json:"starts"`
	Ends           string   `json:"ends"`
	Municipalities []string `json:"municipalities"`
}

// createProject makes a project with its first key; 201 with the project.
func (s *Server) createProject(c *gin.Context) {
	var req createProjectRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	p := auth.Project{ID: req.ID, Name: req.Name, Institution: req.Institution, Purpose: req.Purpose, Starts: req.Starts, Ends: req.Ends}
	for _, m := range req.Municipalities {
		p.Municipalities = append(p.Municipalities, kommune.Code(m))
	}
	created, err := s.projects.CreateProject(c.Request.Context(), principal(c), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/api/v1/admin/research-projects/"+created.ID)
	c.JSON(http.StatusCreated, newAdminProjectResponse(created))
}

// getProject answers one project with its members.
func (s *Server) getProject(c *gin.Context) {
	p, err := s.projects.Project(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newAdminProjectResponse(p))
}

// grantProjectRequest is the body of POST
// /admin/research-projects/{id}/members.
type grantProjectRequest struct {
	Subject string `json:"subject"`
}

// exportProjectKeyRequest is the body of POST
// /admin/research-projects/{id}/export-key.
type exportProjectKeyRequest struct {
	Recipient string `json:"recipient"`
}

// grantProject makes the body's subject a member; answers the project.
func (s *Server) grantProject(c *gin.Context) {
	var req grantProjectRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	if err := s.projects.GrantProject(c.Request.Context(), principal(c), c.Param("id"), req.Subject); err != nil {
		s.fail(c, err)
		return
	}
	s.getProject(c)
}

// revokeProject removes a member; 204.
func (s *Server) revokeProject(c *gin.Context) {
	if err := s.projects.RevokeProject(c.Request.Context(), principal(c), c.Param("id"), c.Param("subject")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateProjectKey makes the project's next key; answers its generation.
func (s *Server) rotateProjectKey(c *gin.Context) {
	gen, err := s.projects.RotateProjectKey(c.Request.Context(), principal(c), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"id": c.Param("id"), "key_generation": gen})
}

// exportProjectKey answers the project's key sealed to the body's age
// recipient, as an armored age file to download.
func (s *Server) exportProjectKey(c *gin.Context) {
	var req exportProjectKeyRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	file, _, err := auth.ExportSealedProjectKey(c.Request.Context(), s.projects, principal(c), c.Param("id"), req.Recipient, s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="`+auth.ProjectKeyFilename(c.Param("id"))+`"`)
	c.Data(http.StatusOK, "application/octet-stream", file)
}

// errNoSuchProject is the one answer a non-admin gets for a project that
// does not exist and for one it is not granted, so that it cannot learn
// which ids exist.
var errNoSuchProject = fmt.Errorf("%w: no research project of yours has this id", auth.ErrProjectNotFound)

// projectScope resolves a research export's project: the project's keys
// (its own stable pseudonyms), its municipalities and the project. A
// principal that may not export at all gets 403; a non-admin that is not
// granted the project gets the same 404 as for an unknown id. On false the
// answer is written and the caller returns.
func (s *Server) projectScope(c *gin.Context, id string) (research.Keys, []kommune.Code, auth.Project, bool) {
	pr := principal(c)
	if !pr.MayExport() {
		s.fail(c, fmt.Errorf("%w: the %s role may not take research exports", auth.ErrForbidden, pr.Role))
		return research.Keys{}, nil, auth.Project{}, false
	}
	if s.projects == nil {
		s.fail(c, fmt.Errorf("research project %q: %w", id, errNoSuchProject))
		return research.Keys{}, nil, auth.Project{}, false
	}
	ctx := c.Request.Context()
	p, err := s.projects.Project(ctx, id)
	switch {
	case errors.Is(err, auth.ErrProjectNotFound) && !pr.IsAdmin():
		err = errNoSuchProject
	case err == nil && !auth.MayExportProject(pr, p):
		err = errNoSuchProject
	}
	if err != nil {
		s.fail(c, err)
		return research.Keys{}, nil, auth.Project{}, false
	}
	key, gen, err := s.projects.ProjectKey(ctx, p.ID)
	if err != nil {
		s.fail(c, err)
		return research.Keys{}, nil, auth.Project{}, false
	}
	return research.ProjectKeys(p.ID, key, gen), p.Municipalities, p, true
}
