package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/auth"
)

// TestAdminWalk walks the admin pages in a real Chromium on a phone's
// width, in bokmål: an admin signs in, follows "Administrasjon", finds a
// person, makes them a coordinator of Arendal and sees the grant at the
// top of the audit log; makes a token and revokes it; ends the person's
// session. No page scrolls sideways, and each change holds in the store.
func TestAdminWalk(t *testing.T) {
	t.Parallel()
	ctx := newBrowserWithin(t, phoneWidth, phoneHeight, 3*time.Minute)
	s := newSite(t, false)
	sid, kari := s.person(t, "Kari Nordmann", "kari@arendal.kommune.no", auth.Grant{Role: auth.RoleViewer})
	base := s.srv.URL
	check := func(what string) {
		t.Helper()
		if eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
			t.Errorf("%s scrolls sideways at %d px", what, phoneWidth)
		}
		if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "nb" {
			t.Errorf("%s is in %q, want nb", what, lang)
		}
	}
	do(t, ctx, "sign in as the admin", chromedp.Navigate(base+"/login?next=/m"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), s.tokens["admin"]), chromedp.Click(chromedp.CSS("#form-login button")))
	waitUntil(t, ctx, "the municipalities", `location.pathname === "/m"`)
	do(t, ctx, "Administrasjon", chromedp.Click(chromedp.CSS(`a.admin`)))
	waitUntil(t, ctx, "the users page", `location.pathname === "/admin/users" && !!document.querySelector("#q")`)
	check("the users page")

	// Find Kari, and make her a coordinator of Arendal.
	do(t, ctx, "search", chromedp.SetValue(chromedp.CSS("#q"), "nordmann"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	waitUntil(t, ctx, "the search", `location.search.includes("q=nordmann") && document.querySelectorAll("tr.user").length === 1`)
	do(t, ctx, "open Kari", chromedp.Click(chromedp.CSS(`tr.user th a`)))
	waitUntil(t, ctx, "Kari's page", `!!document.querySelector("#form-grant")`)
	check("the user's page")
	do(t, ctx, "grant", chromedp.SetValue(chromedp.CSS("#grant-role"), auth.RoleCoordinator), chromedp.SetValue(chromedp.CSS("#grant-municipalities"), "4203"),
		chromedp.Click(chromedp.CSS(`#form-grant button`)))
	waitUntil(t, ctx, "the grant saved", `location.search === "?saved=grant" && !!document.querySelector(".notice.saved")`)
	if got := eval[string](t, ctx, `document.querySelector("#user-role").textContent`); !strings.HasPrefix(got, "koordinator – Arendal") {
		t.Errorf("the user's role reads %q", got)
	}
	if u, err := s.userStore.User(context.Background(), kari.ID); err != nil || u.Grant.Role != auth.RoleCoordinator || !u.GrantedByAdmin {
		t.Fatalf("the grant is not stored: %+v %v", u, err)
	}
	do(t, ctx, "the audit log", chromedp.Click(chromedp.CSS(`nav.admin-nav a[href="/admin/audit"]`)))
	waitUntil(t, ctx, "the audit log", `location.pathname === "/admin/audit" && !!document.querySelector("tr.audit-entry")`)
	check("the audit log")
	first := eval[string](t, ctx, `[...document.querySelectorAll("tr.audit-entry")[0].querySelectorAll("td")].map(td => td.textContent).join(" | ")`)
	if !strings.HasPrefix(first, "admin | Tilgang gitt | Kari Nordmann | koordinator (Arendal") {
		t.Errorf("the audit log begins with %q, want the grant", first)
	}

	// A token: made, its secret shown once, revoked.
	do(t, ctx, "the tokens page", chromedp.Click(chromedp.CSS(`nav.admin-nav a[href="/admin/tokens"]`)))
	waitUntil(t, ctx, "the tokens page", `!!document.querySelector("#form-token")`)
	check("the tokens page")
	do(t, ctx, "make a token", chromedp.SetValue(chromedp.CSS("#token-name"), "import-skript"), chromedp.SetValue(chromedp.CSS("#token-role"), auth.RoleResearcher),
		chromedp.Click(chromedp.CSS(`#form-token button`)))
	waitUntil(t, ctx, "the new token", `!!document.querySelector("#token-secret")`)
	check("the new token")
	secret := eval[string](t, ctx, `document.querySelector("#token-secret").textContent`)
	if _, err := s.userStore.Authenticate(context.Background(), secret); err != nil {
		t.Fatalf("the secret shown does not authenticate: %v", err)
	}
	do(t, ctx, "revoke it", chromedp.Click(chromedp.CSS(`#revoke-import-skript button`)))
	waitUntil(t, ctx, "revoked", `location.search === "?saved=revoke" && !document.querySelector('tr[data-token="import-skript"]')`)
	if _, err := s.userStore.Authenticate(context.Background(), secret); err == nil {
		t.Error("the revoked token still authenticates")
	}

	// Kari's session, ended.
	do(t, ctx, "the sessions page", chromedp.Click(chromedp.CSS(`nav.admin-nav a[href="/admin/sessions"]`)))
	waitUntil(t, ctx, "the sessions page", `location.pathname === "/admin/sessions"`)
	check("the sessions page")
	// The grant ended Kari's first session; she signs in again.
	if s.sessionBrowser(t, sid).signedIn() {
		t.Error("the grant did not end Kari's session")
	}
	sid, _ = s.person(t, "Kari Nordmann", "kari@arendal.kommune.no", auth.Grant{Role: auth.RoleViewer})
	do(t, ctx, "reload", chromedp.Reload())
	waitUntil(t, ctx, "Kari's session listed", `!!document.querySelector('tr.session[data-subject="`+kari.ID+`"]')`)
	do(t, ctx, "end it", chromedp.Click(chromedp.CSS(`tr.session[data-subject="`+kari.ID+`"] button`)))
	waitUntil(t, ctx, "ended", `location.search === "?saved=end" && !document.querySelector('tr.session[data-subject="`+kari.ID+`"]')`)
	if s.sessionBrowser(t, sid).signedIn() {
		t.Error("the ended session still lets Kari in")
	}
}
