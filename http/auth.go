package http

import (
	"fmt"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/edge"
)

// access is what a route asks of the token (docs/api.md, Authentication
// and roles). Scope within a role (a coordinator's municipalities) is checked
// where the partnership is known: app.Meta.MayWrite and app.Shower.
type access int

const (
	// anyRole: every valid token (reads).
	anyRole access = iota
	// writers: admins and coordinators (commands).
	writers
	// exporters: admins and researchers (research exports).
	exporters
	// admins only (administration).
	admins
)

func (a access) permits(p auth.Principal) bool {
	switch a {
	case writers:
		return p.Role == auth.RoleAdmin || p.Role == auth.RoleCoordinator
	case exporters:
		return p.MayExport()
	case admins:
		return p.IsAdmin()
	}
	return true
}

// allow authenticates the request's bearer token and lets it through when
// its role has the access: 401 without a valid token, 403 with one that
// may not.
func (s *Server) allow(need access) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := auth.Resolve(c.Request.Context(), s.tokens, c.GetHeader("Authorization"))
		if err == nil && !need.permits(p) {
			err = fmt.Errorf("%w: the %s role may not use this endpoint", auth.ErrForbidden, p.Role)
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		edge.SetPrincipal(c, p)
	}
}

// principal is the request's authenticated principal (set by allow).
func principal(c *gin.Context) auth.Principal { return edge.Principal(c) }

// writeUnauthorized adds the challenge RFC 9110 asks of a 401.
func writeUnauthorized(c *gin.Context) {
	c.Header("WWW-Authenticate", `Bearer realm="samspill"`)
}
