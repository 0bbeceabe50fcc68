package web

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/signin/oidctest"
)

// TestBrowserSignInWithProvider walks the whole sign-in in a real Chromium:
// a coordinator opens /mine, is sent to the login page, chooses the
// municipality's provider, signs in on the provider's own login page (on
// another site: localhost, not 127.0.0.1), comes back through the
// callback and lands on her start page in bokmål; then signs out, at the
// provider too, and is back on the login page.
func TestBrowserSignInWithProvider(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t, 1280, 900)
	dir := artifacts(t)
	s, op, _ := oidcSite(t, false, "localhost", "")
	base := s.srv.URL

	do(t, ctx, "open /mine", chromedp.Navigate(base+"/mine"), chromedp.WaitVisible(chromedp.CSS("a.provider")))
	if got := eval[string](t, ctx, `document.querySelector("a.provider").textContent`); got != "Logg inn med Arendal kommune" {
		t.Errorf("the provider's button says %q", got)
	}
	screenshot(t, ctx, dir, "signin-login.png")
	do(t, ctx, "choose the provider", chromedp.Click(chromedp.CSS("a.provider")), chromedp.WaitVisible(chromedp.CSS("#username")))
	if host := eval[string](t, ctx, `location.host`); host != op.Issuer[len("http://"):] {
		t.Fatalf("the provider's login page is at %s, want %s", host, op.Issuer)
	}
	do(t, ctx, "sign in at the provider",
		chromedp.SetValue(chromedp.CSS("#username"), kariAtOP.Username),
		chromedp.SetValue(chromedp.CSS("#password"), oidctest.Password),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	waitUntil(t, ctx, "Kari's start page", `location.href === "`+base+`/mine" && !!document.querySelector("main h1")`)
	if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "nb" {
		t.Errorf("the start page is in %q, want nb", lang)
	}
	if h1 := eval[string](t, ctx, `document.querySelector("main h1").textContent`); h1 != "Mine samarbeid" {
		t.Errorf("the start page's heading is %q, want Mine samarbeid", h1)
	}
	if n := count(t, ctx, `a.signout`); n != 1 {
		t.Errorf("%d sign-out links on the start page", n)
	}
	screenshot(t, ctx, dir, "signin-mine.png")

	do(t, ctx, "sign out", chromedp.Navigate(base+"/logout"), chromedp.WaitVisible(chromedp.CSS("#form-logout button")),
		chromedp.Click(chromedp.CSS("#form-logout button")))
	waitUntil(t, ctx, "the login page after signing out at the provider", `location.href === "`+base+`/login" && !!document.querySelector("a.provider")`)
	if got := op.Ended(); !slices.Equal(got, []string{kariAtOP.Subject}) {
		t.Errorf("sessions ended at the provider: %v", got)
	}
	do(t, ctx, "open /mine signed out", chromedp.Navigate(base+"/mine"))
	waitUntil(t, ctx, "the login page", `location.pathname === "/login"`)
}

// TestSignInPagesAreAccessible runs axe-core on the sign-in's own pages,
// in bokmål and nynorsk, at a desktop's width and a phone's: the login
// page with a provider, the page the callback draws, the page of a
// provider that cannot be reached, the page of a person without a role,
// and the page that sends a signed-out person on to the provider. The
// pages that move on by themselves are held by pausing the request they
// move on to.
func TestSignInPagesAreAccessible(t *testing.T) {
	t.Parallel()
	source := axeSource(t)
	for _, lang := range []string{"nb", "nn"} {
		t.Run(lang, func(t *testing.T) {
			t.Parallel()
			ctx := newBrowser(t, 1280, 900)
			s, _, _ := oidcSite(t, false, "localhost", "")
			down, _, _ := oidcSite(t, true, "", "")
			base := s.srv.URL
			check := func(what string) {
				t.Helper()
				for _, width := range []int64{1280, phoneWidth} {
					do(t, ctx, "width", chromedp.EmulateViewport(width, 900))
					checkAccessibility(t, ctx, source, fmt.Sprintf("%s (%s) at %d px", what, lang, width))
				}
			}
			do(t, ctx, "login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("a.provider")))
			if lang != "nb" {
				do(t, ctx, "language", chromedp.Click(chromedp.CSS(`form.lang button[value="`+lang+`"]`)))
				waitUntil(t, ctx, "the login page in "+lang, `document.documentElement.lang === "`+lang+`" && !!document.querySelector("a.provider")`)
			}
			check("the login page with a provider")

			// Nils has no role: the callback's page, then whom to ask.
			release := hold(t, ctx, base+"/mine*")
			do(t, ctx, "sign in as Nils", chromedp.Navigate(base+"/login?next=/mine"), chromedp.WaitVisible(chromedp.CSS("a.provider")),
				chromedp.Click(chromedp.CSS("a.provider")), chromedp.WaitVisible(chromedp.CSS("#username")),
				chromedp.SetValue(chromedp.CSS("#username"), nilsAtOP.Username), chromedp.SetValue(chromedp.CSS("#password"), oidctest.Password),
				chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
			waitUntil(t, ctx, "the callback's page", `!!document.querySelector("#signin-continue")`)
			check("the callback's page")
			release()
			do(t, ctx, "the start page", chromedp.Navigate(base+"/"))
			waitUntil(t, ctx, "whom to ask", `!!document.querySelector("p.contact")`)
			check("the page of a person without a role")

			release = hold(t, ctx, "*/end_session*")
			do(t, ctx, "sign out", chromedp.Click(chromedp.CSS("#form-logout button")))
			waitUntil(t, ctx, "the page that sends on to the provider", `!!document.querySelector("#signout-provider")`)
			check("the sign-out's page")
			release()

			do(t, ctx, "a provider that is down", chromedp.Navigate(down.srv.URL+"/login/oidc/arendal"))
			waitUntil(t, ctx, "its page", `!!document.querySelector("p.message")`)
			check("the page of a provider that cannot be reached")
		})
	}
}

// hold keeps the browser on a page that moves on by itself: requests to
// URLs that match pattern fail as aborted (the browser stays where it is)
// until release.
func hold(t *testing.T, ctx context.Context, pattern string) (release func()) {
	t.Helper()
	hctx, cancel := context.WithCancel(ctx)
	paused := chromedp.Events(hctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{Patterns: []*fetch.RequestPattern{{URLPattern: pattern}}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(hctx, fetch.FailRequest, fetch.FailRequestParams{RequestID: ev.RequestID, ErrorReason: network.ErrorReasonAborted})
		}
	}()
	return func() {
		if _, err := chromedp.Call(ctx, fetch.Disable, cdp.Empty{}); err != nil {
			t.Errorf("stop holding: %v", err)
		}
		cancel()
		<-done
	}
}
