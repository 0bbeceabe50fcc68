package http

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
)

// The admin API of who may do what (docs/api.md, Administration): personal
// users, tokens, live sessions and the audit log, as the admin pages
// manage them (web/admin.go), over auth.UserStore. The store writes each
// change to the audit log in the same transaction, naming the admin whose
// token made the request.

// maxAuditLimit bounds a page of the audit log.
const maxAuditLimit = 500

// registerAdminUsers adds the routes to v1 behind the admin role.
func (s *Server) registerAdminUsers(v1 *gin.RouterGroup, admin gin.HandlerFunc) {
	a := v1.Group("/admin", admin, s.needUsers)
	a.GET("/users", s.listUsers)
	a.GET("/users/:id", s.getUser)
	a.POST("/users/:id/grant", s.grantUser)
	a.POST("/users/:id/mappings", s.userChange(auth.UserStore.UseMappings))
	a.POST("/users/:id/disable", s.userChange(auth.UserStore.Disable))
	a.POST("/users/:id/enable", s.userChange(auth.UserStore.Enable))
	a.DELETE("/users/:id", s.eraseUser)
	a.GET("/tokens", s.listTokens)
	a.POST("/tokens", s.createToken)
	a.DELETE("/tokens/:name", s.revokeToken)
	a.GET("/sessions", s.listSessions)
	a.DELETE("/sessions/:handle", s.endSession)
	a.GET("/audit", s.getAuditLog)
}

// needUsers answers 404 on every route of this file when the server keeps
// no users (Config.Admin).
func (s *Server) needUsers(c *gin.Context) {
	if s.admin == nil {
		writeProblem(c, Problem{Type: typeNotFound, Title: "Not found", Status: http.StatusNotFound, Detail: "this server keeps no personal users"})
	}
}

// userResponse is a personal user as the admin API shows it.
type userResponse struct {
	ID             string     `json:"id"`
	Provider       string     `json:"provider"`
	Name           string     `json:"name,omitempty"`
	Email          string     `json:"email,omitempty"`
	Role           string     `json:"role"`
	Municipalities []string   `json:"municipalities"`
	GrantedByAdmin bool       `json:"granted_by_admin"`
	Disabled       bool       `json:"disabled"`
	Erased         bool       `json:"erased"`
	CreatedAt      time.Time  `json:"created_at"`
	LastSignInAt   *time.Time `json:"last_sign_in_at,omitempty"`
}

func codes(cs []kommune.Code) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = string(c)
	}
	return out
}

func newUserResponse(u auth.User) userResponse {
	r := userResponse{ID: u.ID, Provider: u.Provider, Name: u.Name, Email: u.Email, Role: u.Grant.Role, Municipalities: codes(u.Grant.Municipalities),
		GrantedByAdmin: u.GrantedByAdmin, Disabled: u.Disabled, Erased: u.Erased, CreatedAt: u.CreatedAt}
	if !u.LastSignInAt.IsZero() {
		r.LastSignInAt = &u.LastSignInAt
	}
	return r
}

// usersResponse is the body of GET /admin/users.
type usersResponse struct {
	Items []userResponse `json:"items"`
}

// listUsers answers the users that match q (name or e-mail, anywhere in
// them, or the id), role and disabled, by name.
func (s *Server) listUsers(c *gin.Context) {
	q := queryParams{c: c}
	f := auth.UserFilter{Query: c.Query("q"), Role: c.Query("role")}
	if f.Role != "" && !slices.Contains(auth.Roles, f.Role) {
		q.invalid("role", "must be one of admin, coordinator, researcher, viewer")
	}
	if v, ok := c.GetQuery("disabled"); ok {
		d, err := strconv.ParseBool(v)
		if err != nil {
			q.invalid("disabled", "must be true or false")
		}
		f.Disabled = &d
	}
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}
	users, err := s.admin.Users(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := usersResponse{Items: make([]userResponse, len(users))}
	for i, u := range users {
		out.Items[i] = newUserResponse(u)
	}
	c.JSON(http.StatusOK, out)
}

// getUser answers one user.
func (s *Server) getUser(c *gin.Context) {
	u, err := s.admin.User(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newUserResponse(u))
}

// grantRequest is the body of POST /admin/users/{id}/grant.
type grantRequest struct {
	Role           string   `json:"role"`
	Municipalities []string `json:"municipalities"`
}

// grantUser sets an admin's grant on the user (which ends its sessions)
// and answers the user as it now is.
func (s *Server) grantUser(c *gin.Context) {
	var req grantRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	g := auth.Grant{Role: req.Role}
	var fields []partnership.FieldError
	for i, m := range req.Municipalities {
		code, err := kommune.Parse(m)
		if err != nil {
			fields = append(fields, partnership.FieldError{Field: "municipalities[" + strconv.Itoa(i) + "]", Message: "is not a kommunenummer of SSB classification 131 from 2017 to today"})
			continue
		}
		g.Municipalities = append(g.Municipalities, code)
	}
	if len(fields) > 0 {
		s.fail(c, edge.BadRequest("the request has invalid fields", fields...))
		return
	}
	if _, err := g.Validate(); err != nil {
		s.fail(c, err)
		return
	}
	s.changed(c, s.admin.SetGrant(c.Request.Context(), principal(c), c.Param("id"), g))
}

// userChange is a change to a user that takes no body.
func (s *Server) userChange(change func(auth.UserStore, context.Context, auth.Principal, string) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		s.changed(c, change(s.admin, c.Request.Context(), principal(c), c.Param("id")))
	}
}

// changed answers a change to the user of the path: the user as it now
// is, or the change's error.
func (s *Server) changed(c *gin.Context, err error) {
	if err != nil {
		s.fail(c, err)
		return
	}
	s.getUser(c)
}

// eraseUser destroys the user's personal data and disables it; 204.
func (s *Server) eraseUser(c *gin.Context) {
	if err := s.admin.EraseUser(c.Request.Context(), principal(c), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// tokenResponse is a token as the admin API lists it: never its secret.
type tokenResponse struct {
	Name           string     `json:"name"`
	Role           string     `json:"role"`
	Municipalities []string   `json:"municipalities"`
	Owner          string     `json:"owner,omitempty"`
	ExpiresAt      *time.Time `json:"expires_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	LastUsedAt     *time.Time `json:"last_used_at,omitempty"`
}

// tokensResponse is the body of GET /admin/tokens.
type tokensResponse struct {
	Items []tokenResponse `json:"items"`
}

func newTokenResponse(t auth.Token) tokenResponse {
	r := tokenResponse{Name: t.Name, Role: t.Role, Municipalities: codes(t.Municipalities), Owner: t.Owner, CreatedAt: t.CreatedAt, LastUsedAt: t.LastUsedAt}
	if !t.ExpiresAt.IsZero() {
		r.ExpiresAt = &t.ExpiresAt
	}
	return r
}

// listTokens answers every token, by name.
func (s *Server) listTokens(c *gin.Context) {
	tokens, err := s.admin.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := tokensResponse{Items: make([]tokenResponse, len(tokens))}
	for i, t := range tokens {
		out.Items[i] = newTokenResponse(t)
	}
	c.JSON(http.StatusOK, out)
}

// createTokenRequest is the body of POST /admin/tokens.
type createTokenRequest struct {
	Name           string   `json:"name"`
	Role           string   `json:"role"`
	Municipalities []string `json:"municipalities"`
	Owner          string   `json:"owner"`
	// ExpiresAt is an RFC 3339 instant, or a date: the token works to
	// the end of that day in Europe/Oslo. Empty for never.
	ExpiresAt string `json:"expires_at"`
}

// createdTokenResponse is the body of a 201 from POST /admin/tokens: the
// token and, this once, its secret.
type createdTokenResponse struct {
	tokenResponse
	Token string `json:"token"`
}

// createToken makes a token and answers its secret, shown only this once.
func (s *Server) createToken(c *gin.Context) {
	var req createTokenRequest
	if !s.decodeRequest(c, &req) {
		return
	}
	spec := auth.Spec{Name: req.Name, Role: req.Role, Municipalities: req.Municipalities, Owner: req.Owner}
	if req.ExpiresAt != "" {
		at, err := calendar.ParseCutoff(req.ExpiresAt)
		if err != nil {
			s.fail(c, edge.FieldError("expires_at", "must be an RFC 3339 timestamp or a date YYYY-MM-DD"))
			return
		}
		if !at.After(s.now()) {
			s.fail(c, edge.FieldError("expires_at", "must be in the future"))
			return
		}
		spec.ExpiresAt = at
	}
	ctx := c.Request.Context()
	secret, err := s.admin.CreateToken(ctx, principal(c), spec)
	if err != nil {
		s.fail(c, err)
		return
	}
	tokens, err := s.admin.List(ctx)
	if err != nil {
		s.fail(c, err)
		return
	}
	for _, t := range tokens {
		if t.Name == spec.Name {
			c.Header("Cache-Control", "no-store")
			c.JSON(http.StatusCreated, createdTokenResponse{tokenResponse: newTokenResponse(t), Token: secret})
			return
		}
	}
	s.fail(c, errors.New("create token: the new token is not listed"))
}

// revokeToken revokes the named token (ending its sessions); 204.
func (s *Server) revokeToken(c *gin.Context) {
	if err := s.admin.RevokeToken(c.Request.Context(), principal(c), c.Param("name")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// sessionResponse is a live session as the admin API lists it: never its
// id.
type sessionResponse struct {
	Handle     string    `json:"handle"`
	Kind       string    `json:"kind"`
	Subject    string    `json:"subject"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
}

// sessionsResponse is the body of GET /admin/sessions.
type sessionsResponse struct {
	Items []sessionResponse `json:"items"`
}

// listSessions answers the live sessions, newest first.
func (s *Server) listSessions(c *gin.Context) {
	sessions, err := s.admin.Sessions(c.Request.Context(), s.now())
	if err != nil {
		s.fail(c, err)
		return
	}
	out := sessionsResponse{Items: make([]sessionResponse, len(sessions))}
	for i, x := range sessions {
		out.Items[i] = sessionResponse{Handle: x.Handle, Kind: x.Kind, Subject: x.Subject, CreatedAt: x.Created, LastUsedAt: x.LastUsed, ExpiresAt: x.Expires}
	}
	c.JSON(http.StatusOK, out)
}

// endSession ends the session of the handle; 204.
func (s *Server) endSession(c *gin.Context) {
	if err := s.admin.EndSessionByHandle(c.Request.Context(), principal(c), c.Param("handle")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// auditGrant is the grant an audit entry records.
type auditGrant struct {
	Role           string   `json:"role"`
	Municipalities []string `json:"municipalities"`
}

// auditLogEntry is one entry of the audit log.
type auditLogEntry struct {
	Seq    int64       `json:"seq"`
	At     time.Time   `json:"at"`
	Actor  string      `json:"actor"`
	Action string      `json:"action"`
	Target string      `json:"target"`
	Grant  *auditGrant `json:"grant,omitempty"`
}

// auditLogResponse is the body of GET /admin/audit: newest first, and the
// before of the next page of older entries when there may be one.
type auditLogResponse struct {
	Items      []auditLogEntry `json:"items"`
	NextBefore *int64          `json:"next_before,omitempty"`
}

// getAuditLog answers the audit log's entries that match actor, action,
// target, from and to (instants or dates), before (a seq) and limit.
func (s *Server) getAuditLog(c *gin.Context) {
	q := queryParams{c: c}
	f := auth.AuditFilter{Actor: c.Query("actor"), Action: c.Query("action"), Target: c.Query("target"), Limit: q.limit("limit", 100, maxAuditLimit)}
	instant := func(name string, end bool) time.Time {
		v := c.Query(name)
		if v == "" {
			return time.Time{}
		}
		// A date covers its day: from its start (ParseTime), to the
		// start of the next (To is exclusive).
		t, err := calendar.ParseTime(v)
		if err == nil && end && len(v) == len(time.DateOnly) {
			t = t.In(calendar.Oslo).AddDate(0, 0, 1).UTC()
		}
		if err != nil {
			q.invalid(name, "must be an RFC 3339 timestamp or a date YYYY-MM-DD")
		}
		return t
	}
	f.From, f.To = instant("from", false), instant("to", true)
	if v, ok := c.GetQuery("before"); ok {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 1 {
			q.invalid("before", "must be a positive integer: the seq of an entry")
		}
		f.Before = n
	}
	if err := q.err(); err != nil {
		s.fail(c, err)
		return
	}
	entries, err := s.admin.Audit(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := auditLogResponse{Items: make([]auditLogEntry, len(entries))}
	for i, e := range entries {
		out.Items[i] = auditLogEntry{Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Target: e.Target}
		if e.Grant != nil {
			out.Items[i].Grant = &auditGrant{Role: e.Grant.Role, Municipalities: codes(e.Grant.Municipalities)}
		}
	}
	if len(entries) == f.Limit {
		next := entries[len(entries)-1].Seq
		out.NextBefore = &next
	}
	c.JSON(http.StatusOK, out)
}
