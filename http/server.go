// Package http is samspill's HTTP API on Gin: the command endpoints, the
// live reads of single partnerships, the global event feed (JSON pages and
// server-sent events), the lists, timelines and stats answered from
// projections (with min_position) and their admin routes, the research
// exports, the OpenAPI document, the health checks and the Prometheus
// metrics (docs/api.md). Every route but the health checks, the metrics and the
// OpenAPI document declares the roles it admits (allow); contact persons'
// personal data leaves only through app.Shower. Every error becomes RFC
// 9457 problem+json in one place (problemFor). Import it under another name
// (httpapi) so it does not shadow net/http.
package http

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
	"github.com/samspill/samspill/surveys"
)

// Config holds what the API needs.
type Config struct {
	// Service runs commands. Required.
	Service *app.Service
	// History answers the live reads of single partnerships and shows
	// events to their readers; Service.History() if nil.
	History Partnerships
	// Store is probed by /readyz. Required.
	Store eventstore.Store
	// Logger receives one line per failed request; slog.Default() if nil.
	Logger *slog.Logger
	// Registry receives the API's metrics (and the Go and process
	// collectors) and is served at /metrics. Nil: the handler makes its
	// own; never the global default registry.
	Registry *prometheus.Registry
	// StreamsDone, when closed, ends every open event stream
	// (/api/v1/events/stream), so that they do not hold up a graceful
	// shutdown. Nil: streams end only with their client or the store.
	StreamsDone <-chan struct{}
	// StreamKeepalive is how long an event stream may be idle before it
	// sends a comment line; defaultStreamKeepalive (15 s) if not positive.
	StreamKeepalive time.Duration
	// Projections answer the lists, timelines and stats, and are reported
	// by /readyz and /admin/projections. Required: without them those
	// routes answer 500 and /readyz 503.
	Projections ReadModels
	// Summaries and Timeline are the read models' queries; when nil and
	// Projections is a projections.Runner, summaries.NewQueries and
	// timeline.NewQueries of it.
	Summaries Summaries
	Timeline  Timelines
	// MinPositionTimeout is how long a read with ?min_position waits for
	// its projections; defaultMinPositionTimeout (5 s) if not positive.
	MinPositionTimeout time.Duration
	// Tokens authenticates every request but /healthz, /readyz, /metrics
	// and the OpenAPI document. Without it those are the only routes that
	// answer anything but 401: the API is never open by default.
	Tokens auth.TokenStore
	// Users names the people behind user ids to the readers who may know
	// them (the audit view); Admin if nil; nil: their ids alone.
	Users Users
	// Admin is the store the admin routes manage (users, tokens,
	// sessions, the audit log); nil: those routes answer 404.
	Admin auth.UserStore
	// Projects is the store of research projects, their members and keys
	// (the admin's project routes, GET /research/projects and the
	// exports' projectScope); nil: those routes answer 404.
	Projects auth.ProjectStore
	// Surveys fields the research projects' surveys (questionnaires,
	// waves, response links, tracking, the responses export); nil: the
	// survey routes answer 404.
	Surveys *surveys.Service
	// SurveyMail sends the surveys' invitations and reminders; nil or
	// without a sender: the mailing routes answer 409.
	SurveyMail *surveys.Mailer
	// Version is samspill's version, named in research exports.
	Version string
	// ResearchSecret is the installation's key for the pseudonymous
	// partnership keys of spells.csv (at least 16 bytes). Without it that
	// export answers 500.
	ResearchSecret []byte
	// Now is the clock that dates exports without as_of; time.Now if nil.
	Now func() time.Time
}

// Server holds the handlers' dependencies.
type Server struct {
	svc   *app.Service
	hist  Partnerships
	store eventstore.Store
	log   *slog.Logger

	registry        *prometheus.Registry
	metrics         *httpMetrics
	streamsDone     <-chan struct{}
	streamKeepalive time.Duration

	proj               ReadModels
	summaries          Summaries
	timeline           Timelines
	minPositionTimeout time.Duration

	tokens         auth.TokenStore
	users          Users
	admin          auth.UserStore
	projects       auth.ProjectStore
	surveys        *surveys.Service
	surveyMail     *surveys.Mailer
	version        string
	researchSecret []byte
	now            func() time.Time
}

// Validate reports every required field that is missing.
func (cfg Config) Validate() error {
	var errs []error
	if cfg.Service == nil {
		errs = append(errs, errors.New("http: Config.Service is required"))
	}
	if cfg.Store == nil {
		errs = append(errs, errors.New("http: Config.Store is required"))
	}
	return errors.Join(errs...)
}

// New returns the API of cfg. Mount it on an engine with Use and Register
// (cmd mounts the pages beside it), or take NewHandler for the API alone.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{svc: cfg.Service, hist: cfg.History, store: cfg.Store, log: cfg.Logger}
	if s.hist == nil {
		s.hist = s.svc.History()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.registry = cfg.Registry
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	s.metrics = newMetrics(s.registry, s.store, s.log)
	s.streamsDone = cfg.StreamsDone
	s.streamKeepalive = cfg.StreamKeepalive
	if s.streamKeepalive <= 0 {
		s.streamKeepalive = defaultStreamKeepalive
	}
	s.proj, s.summaries, s.timeline = cfg.Projections, cfg.Summaries, cfg.Timeline
	runner, _ := s.proj.(*projections.Runner)
	if s.summaries == nil && runner != nil {
		s.summaries = summaries.NewQueries(runner)
	}
	if s.timeline == nil && runner != nil {
		s.timeline = timeline.NewQueries(runner)
	}
	s.minPositionTimeout = cfg.MinPositionTimeout
	if s.minPositionTimeout <= 0 {
		s.minPositionTimeout = defaultMinPositionTimeout
	}
	s.tokens, s.version, s.researchSecret, s.now = cfg.Tokens, cfg.Version, cfg.ResearchSecret, cfg.Now
	s.users, s.admin, s.projects, s.surveys = cfg.Users, cfg.Admin, cfg.Projects, cfg.Surveys
	s.surveyMail = cfg.SurveyMail
	if s.users == nil && s.admin != nil {
		s.users = s.admin
	}
	if s.now == nil {
		s.now = time.Now
	}
	return s, nil
}

// NewHandler returns the API alone as an http.Handler.
func NewHandler(cfg Config) (http.Handler, error) {
	s, err := New(cfg)
	if err != nil {
		return nil, err
	}
	r := edge.NewEngine()
	s.Use(r)
	s.Register(r)
	return r, nil
}

// Use installs what every route of the engine gets, the pages' too:
// metrics, request ids, the access log, recovery from panics (after the
// request id and the access log, so a panic's 500 is logged with its id)
// and security headers; and
// the problem+json answers of a path or method the engine does not know.
// Call it before any route is registered.
func (s *Server) Use(r *gin.Engine) {
	r.Use(s.metrics.instrument, edge.WithRequestID, s.accessLog, s.recoverer, securityHeaders)
	r.NoRoute(func(c *gin.Context) {
		writeProblem(c, Problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "no such endpoint"})
	})
	r.NoMethod(func(c *gin.Context) {
		writeProblem(c, Problem{Type: typeMethodNotAllowed, Title: "Method not allowed", Status: http.StatusMethodNotAllowed, Detail: "the endpoint does not support this method"})
	})
}

// Register adds the API's routes to r: /healthz, /readyz, /metrics and
// /api/v1/....
func (s *Server) Register(r gin.IRouter) {
	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/metrics", metricsHandler(s.registry, s.log))

	v1 := r.Group("/api/v1", s.validQuery)
	v1.GET("/openapi.json", serveOpenAPI)
	read, write, export, admin := s.allow(anyRole), s.allow(writers), s.allow(exporters), s.allow(admins)
	v1.GET("/events", read, s.getEvents)
	v1.GET("/events/stream", read, s.streamEvents)
	v1.POST("/partnerships", write, command[initiateRequest](s, s.toNewPartnership))
	v1.GET("/partnerships", read, s.readModel(summaries.Name), s.listPartnerships)
	v1.GET("/municipalities", read, s.readModel(summaries.Name), s.listMunicipalities)
	v1.GET("/municipalities/:code/timeline", read, s.readModel(timeline.Name), s.getTimeline)
	v1.GET("/stats", read, s.readModel(summaries.Name), s.getStats)
	v1.GET("/research/events.ndjson", export, s.exportEvents)
	v1.GET("/research/spells.csv", export, s.exportSpells)
	v1.GET("/research/manifest.json", export, s.exportManifest)
	v1.GET("/research/datapackage.json", export, s.exportDataPackage)
	v1.GET("/research/:file", export, s.exportFile)
	v1.GET("/admin/projections", admin, s.listProjections)
	v1.POST("/admin/projections/:name/rebuild", admin, s.rebuildProjection)
	v1.POST("/admin/contacts/:contact_id/erase", admin, s.eraseContact)
	s.registerAdminUsers(v1, admin)
	s.registerProjects(v1, admin, export)
	s.registerSurveys(v1)
	v1.GET("/partnerships/:id", read, s.getPartnership)
	v1.GET("/partnerships/:id/history", read, s.getHistory)
	v1.GET("/partnerships/:id/audit", read, s.getAudit)
	v1.POST("/partnerships/:id/partners", write, command[joinPartnerRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/partners/:partner_id/leave", write, command[leavePartnerRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/roles", write, command[agreeRolesRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/goals", write, command[changeGoalsRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/agreements", write, command[signAgreementRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/funding", write, command[recordFundingRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/anchoring", write, command[changeAnchoringRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/collaboration-model", write, command[changeCollaborationModelRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/milestones", write, command[logMilestoneRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/contacts", write, command[assignContactRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/pause", write, command[pauseRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/resume", write, command[resumeRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/end", write, command[endRequest](s, s.toPartnership))
	v1.POST("/partnerships/:id/corrections", write, command[correctEntryRequest](s, s.toPartnership))
	s.registerSurveyMail(v1)
}

// storageReady asks a store that can tell (eventstore.StorageProber)
// whether it can write: from a write that failed for lack of space until
// one succeeds, the probe makes a small write of its own, so an instance
// taken out of rotation returns by itself once space has been freed. It
// returns the problem to answer when the store cannot write.
func (s *Server) storageReady(ctx context.Context) (edge.Failure, bool) {
	prober, ok := s.store.(eventstore.StorageProber)
	if !ok {
		return edge.Failure{}, true
	}
	err := prober.ProbeStorage(ctx)
	switch {
	case err == nil:
		return edge.Failure{}, true
	case errors.Is(err, eventstore.ErrStorageFull):
		s.log.WarnContext(ctx, "not ready: storage full", "err", err)
		f := edge.Classify(err)
		f.Title, f.Detail = "Not ready", "storage full: the event store has no space left to write, so commands answer 503 and nothing is saved; ready again by itself once space has been freed"
		return f, false
	}
	s.log.WarnContext(ctx, "not ready: the event store's storage probe failed", "err", err)
	f := edge.Classify(eventstore.ErrClosed)
	f.Title, f.Detail = "Not ready", "the event store ran out of space and cannot be probed now"
	return f, false
}

func (s *Server) healthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// readyz reports whether the event store answers and can write
// (storageReady), and every projection is fit to serve
// (projectionsReady).
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
	if f, ok := s.storageReady(ctx); !ok {
		writeFailure(c, f)
		return
	}
	list, reason := s.projectionsReady(ctx)
	if reason != "" {
		writeNotReady(c, reason, list)
		return
	}
	c.JSON(http.StatusOK, readyResponse{Status: "ready", Store: readyStore{Head: head}, Projections: list})
}
