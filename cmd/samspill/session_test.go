package main

import (
	"net/http"
	"testing"
)

// TestTokenRevokeEndsSessions: `samspill token revoke` beside a running
// server ends the token's sign-in sessions on their next request, leaves
// other tokens' sessions alone, and a token made again under the name
// does not bring them back.
func TestTokenRevokeEndsSessions(t *testing.T) {
	s := newTestSite(t)
	revoked := s.as(t, viewer, viaSession)
	kept := s.as(t, researcher, viaSession)
	for _, c := range []caller{revoked, kept} {
		if a := c.do(t, http.MethodGet, s.srv.URL+"/m/4203", "", ""); a.status != http.StatusOK {
			t.Fatalf("signed in: %d", a.status)
		}
	}
	runOK(t, "token", "revoke", "viewer", "--data", s.dir)
	if a := revoked.do(t, http.MethodGet, s.srv.URL+"/m/4203", "", ""); !a.toSignIn() {
		t.Fatalf("a session of the revoked token: %d → %q, want the sign-in page", a.status, a.location)
	}
	if a := kept.do(t, http.MethodGet, s.srv.URL+"/m/4203", "", ""); a.status != http.StatusOK {
		t.Fatalf("another token's session: %d", a.status)
	}
	runOK(t, "token", "create", "--role", "admin", "--name", "viewer", "--data", s.dir)
	if a := revoked.do(t, http.MethodGet, s.srv.URL+"/m/4203", "", ""); !a.toSignIn() {
		t.Fatalf("after a token of the same name was made again: %d → %q, want the sign-in page", a.status, a.location)
	}
}
