// Package http is samspill's HTTP API on Gin: the command endpoints, the
// live reads of single partnerships, the OpenAPI document and the health
// checks of API.md. Every error becomes RFC 9457 problem+json in one place
// (problemFor). Import it under another name (httpapi) so it does not
// shadow net/http.
package http

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/eventstore"
)

// Config holds what the API needs.
type Config struct {
	// Service runs commands and live reads. Required.
	Service *app.Service
	// Store is probed by /readyz. Required.
	Store eventstore.Store
	// Logger receives one line per failed request; slog.Default() if nil.
	Logger *slog.Logger
}

// Server holds the handlers' dependencies.
type Server struct {
	svc   *app.Service
	store eventstore.Store
	log   *slog.Logger
}

// NewHandler returns the API as an http.Handler.
func NewHandler(cfg Config) http.Handler {
	return newEngine(cfg)
}

func newEngine(cfg Config) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	s := &Server{svc: cfg.Service, store: cfg.Store, log: cfg.Logger}
	if s.log == nil {
		s.log = slog.Default()
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.Use(s.recoverer, withRequestID)
	r.NoRoute(func(c *gin.Context) {
		writeProblem(c, Problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "no such endpoint"})
	})
	r.NoMethod(func(c *gin.Context) {
		writeProblem(c, Problem{Type: typeMethodNotAllowed, Title: "Method not allowed", Status: http.StatusMethodNotAllowed, Detail: "the endpoint does not support this method"})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)

	v1 := r.Group("/api/v1")
	v1.GET("/openapi.json", serveOpenAPI)
	v1.POST("/partnerships", command[initiateRequest](s, s.toNewPartnership))
	v1.GET("/partnerships/:id", s.getPartnership)
	v1.GET("/partnerships/:id/history", s.getHistory)
	v1.POST("/partnerships/:id/partners", command[joinPartnerRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/partners/:partner_id/leave", command[leavePartnerRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/roles", command[agreeRolesRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/goals", command[changeGoalsRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/agreements", command[signAgreementRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/funding", command[recordFundingRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/anchoring", command[changeAnchoringRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/milestones", command[logMilestoneRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/contacts", command[assignContactRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/pause", command[pauseRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/resume", command[resumeRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/end", command[endRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/corrections", command[correctEntryRequest](s, s.toPartnership))
	return r
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz reports whether the event store answers.
func (s *Server) readyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), readyTimeout)
	defer cancel()
	head, err := s.store.Head(ctx)
	if err != nil {
		s.log.WarnContext(ctx, "not ready: event store does not answer", "err", err)
		c.Header("Retry-After", "1")
		writeProblem(c, Problem{Type: typeUnavailable, Title: "Not ready", Status: http.StatusServiceUnavailable, Detail: "the event store does not answer"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready", "store": gin.H{"head": head}})
}
