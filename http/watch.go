package http

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
)

// principalRecheck is how often a long-lived response (an event stream, a
// research export) checks that its credential still stands for the
// principal it began with, so that a revoked token, or a change of its role
// or municipalities, ends it within about that long.
const principalRecheck = time.Second

// recheckFailures is how many checks in a row may fail for another reason
// (the token store does not answer) before the response is ended all the
// same: a credential that cannot be confirmed is not trusted for long.
const recheckFailures = 5

// errCredentialChanged ends a long-lived response whose credential was
// revoked or now stands for other rights.
var errCredentialChanged = errors.New("the credential was revoked, or its role or municipalities changed")

// recheck authenticates a long-lived response's credential again: the
// request's bearer token on the API (bearerRecheck), the browser's
// sign-in session on the pages.
type recheck func(ctx context.Context) (auth.Principal, error)

// bearerRecheck resolves the request's Authorization header again.
func (s *Server) bearerRecheck(c *gin.Context) recheck {
	authorization := c.GetHeader("Authorization")
	return func(ctx context.Context) (auth.Principal, error) {
		return auth.Resolve(ctx, s.tokens, authorization)
	}
}

// watchCredential returns a context for a long-lived response that ends,
// with the cause errCredentialChanged, once its credential (again) no
// longer authenticates as the principal the request began with, checked
// every principalRecheck. When it ends, a write blocked on a client that
// does not read is cut off too (its deadline moves to now), so the
// response stops at once. stop must be called when the response is done.
func (s *Server) watchCredential(c *gin.Context, again recheck) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(c.Request.Context())
	was := principal(c)
	path := c.FullPath()
	rc := http.NewResponseController(c.Writer)
	// Once stop has returned, the handler is done and gin and net/http
	// reuse the writer for the connection's next request: the cut-off
	// must not touch it then, so it runs under mu and only before stop.
	var (
		mu      sync.Mutex
		stopped bool
	)
	cutOff := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !stopped && errors.Is(context.Cause(ctx), errCredentialChanged) {
			_ = rc.SetWriteDeadline(time.Now())
		}
	})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		tick := time.NewTicker(principalRecheck)
		defer tick.Stop()
		failures := 0
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			now, err := again(ctx)
			switch {
			case errors.Is(err, auth.ErrUnauthenticated), err == nil && !now.Same(was):
				s.log.InfoContext(ctx, "long-lived response ended: its credential was revoked or changed", "subject", was.Subject, "path", path)
				cancel(errCredentialChanged)
				return
			case err != nil && ctx.Err() == nil:
				if failures++; failures >= recheckFailures {
					s.log.WarnContext(ctx, "long-lived response ended: its credential could not be confirmed", "subject", was.Subject, "err", err)
					cancel(errCredentialChanged)
					return
				}
			default:
				failures = 0
			}
		}
	}()
	return ctx, func() {
		mu.Lock()
		stopped = true
		mu.Unlock()
		cancel(nil)
		<-exited
		cutOff()
	}
}
