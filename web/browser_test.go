package web

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/projections/timeline"
)

// chromiumPath finds Chromium: Debian's /usr/bin/chromium, or a browser on
// PATH. "" when there is none.
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser gives the test a fresh browser context (a profile of its own:
// no cookies or storage from other tests) in the package's headless
// Chromium, which is quiet on the network (PITFALLS.md, Browser tests) and
// asks for pages in bokmål (Accept-Language: nb), or skips the test without
// one. A hung browser fails the test after a minute.
func newBrowser(t *testing.T, width, height int64) context.Context {
	t.Helper()
	return newBrowserWithin(t, width, height, time.Minute)
}

// newBrowserWithin is newBrowser for a test that walks many pages: a hung
// browser fails it after limit (a guard against hanging, not a measure of
// speed).
func newBrowserWithin(t *testing.T, width, height int64, limit time.Duration) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		t.Skip("Chromium not found (looked for /usr/bin/chromium and chromium, chromium-browser, google-chrome on PATH); install Debian's chromium package to run the browser test")
	}
	browser, err := sharedChromium(path)
	if err != nil {
		t.Fatalf("start Chromium %s: %v", path, err)
	}
	// A browser context of the test's own, like an incognito window: it
	// goes, with its cookies and storage, when the test ends.
	ctx, cancelCtx := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
	})
	if err := inBokmal(ctx); err != nil {
		t.Fatalf("open a browser context in Chromium %s: %v", path, err)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("open a browser context in Chromium %s: %v", path, err)
	}
	return ctx
}

// newTab opens another tab in the browser context of ctx (its cookies and
// storage), asking for pages in bokmål as the first one does. Closing it
// leaves the first tab open.
func newTab(t *testing.T, ctx context.Context) (context.Context, context.CancelFunc) {
	t.Helper()
	tab, closeTab := chromedp.NewContext(ctx)
	if err := inBokmal(tab); err != nil {
		closeTab()
		t.Fatalf("open a tab: %v", err)
	}
	return tab, closeTab
}

// inBokmal makes the tab of ctx ask for pages in bokmål (Accept-Language:
// nb-NO,nb, and navigator.languages to match), as the --accept-lang flag
// does for the browser's default profile: a browser context made over the
// DevTools protocol does not take the flag, and would ask for
// nb-NO,nb,no,nn,en-US,en (from --lang).
func inBokmal(ctx context.Context) error {
	_, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: chromium.userAgent, AcceptLanguage: "nb-NO,nb"})
	return err
}

// chromium is the package's one Chromium process, started by the first
// browser test and stopped by TestMain: a start costs a second or more of
// CPU under -race beside the other tests, and some twenty tests use one.
// Each test works in a browser context of its own (newBrowserWithin).
var chromium struct {
	once      sync.Once
	ctx       context.Context // the browser's first tab; a parent for the tests' contexts
	err       error
	stop      func()
	profile   string
	userAgent string
}

// sharedChromium starts the package's Chromium on first use: headless, a
// fresh profile, quiet on the network, in bokmål (the Accept-Language of
// every browser context it makes, and the browser's own words).
func sharedChromium(path string) (context.Context, error) {
	chromium.once.Do(func() {
		profile, err := os.MkdirTemp("", "samspill-web-chromium-")
		if err != nil {
			chromium.err = err
			return
		}
		chromium.profile = profile
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path),
			chromedp.Flag("headless", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("no-first-run", true),
			chromedp.Flag("hide-scrollbars", true),
			chromedp.Flag("accept-lang", "nb-NO,nb"),
			chromedp.Flag("lang", "nb"), // the browser's own words (a date input's dd.mm.åååå), with Debian's chromium-l10n
			chromedp.Env("LANGUAGE=nb"),
			chromedp.UserDataDir(profile),
		)
		// The browser outlives any one test, so its errors go to the
		// package's log, not to a test's.
		ctx, cancelCtx := chromedp.NewContext(alloc, chromedp.WithErrorf(log.Printf))
		chromium.ctx = ctx
		chromium.stop = func() {
			cancelCtx()
			cancelAlloc()
		}
		// Start the process (and its first tab) within a minute. The
		// process lives as long as the context of its first run, so the
		// limit stops that context rather than being one of its own.
		hung := time.AfterFunc(time.Minute, cancelCtx)
		chromium.err = chromedp.Do(ctx)
		if !hung.Stop() {
			chromium.err = fmt.Errorf("not started within a minute: %w", chromium.err)
		}
		if chromium.err == nil {
			// The browser's own user agent, kept by inBokmal.
			var v cdpbrowser.GetVersionResult
			v, chromium.err = chromedp.CallBrowser(ctx, cdpbrowser.GetVersion, cdp.Empty{})
			if chromium.err == nil {
				chromium.userAgent = v.UserAgent
			}
		}
	})
	return chromium.ctx, chromium.err
}

// stopChromium stops the package's Chromium, if a test started it, and
// removes its profile.
func stopChromium() {
	if chromium.stop != nil {
		chromium.stop()
	}
	if chromium.profile != "" {
		_ = os.RemoveAll(chromium.profile)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopChromium()
	os.Exit(code)
}

// artifacts is where screenshots go: $SAMSPILL_ARTIFACTS, else a temporary
// folder; it is logged either way.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SAMSPILL_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifacts: %v", err)
	}
	t.Logf("screenshots go to %s (set SAMSPILL_ARTIFACTS to keep them)", dir)
	return dir
}

// screenshot saves the whole page as PNG.
func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	shoot(t, ctx, dir, name, chromedp.FullScreenshot(100))
}

// shoot saves what capture takes (the page, or the viewport alone).
func shoot(t *testing.T, ctx context.Context, dir, name string, capture chromedp.Action[[]byte]) {
	t.Helper()
	png, err := chromedp.Run(ctx, capture)
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	t.Logf("screenshot %s (%d bytes)", path, len(png))
}

func do(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	return v
}

// waitUntil polls a JavaScript condition: after a click that submits a
// form, it tells the new page from the old one.
func waitUntil(t *testing.T, ctx context.Context, what, js string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	// The condition holds only on a page the browser has finished
	// parsing: the top of a page can be there while its history is not.
	js = `document.readyState === "complete" && (` + js + `)`
	for {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(ctx, chromedp.Location())
			t.Fatalf("waiting for %s (%s) at %s: %v", what, js, loc, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func count(t *testing.T, ctx context.Context, css string) int {
	t.Helper()
	return eval[int](t, ctx, fmt.Sprintf("document.querySelectorAll(%q).length", css))
}

// TestBrowser walks the pages in a real Chromium: front page, a
// municipality's timeline and its legend, a filter, a partnership as of an
// earlier date, a new partnership through /p/new, a milestone through its
// form (then on the timeline), a validation error and a version conflict.
func TestBrowser(t *testing.T) {
	t.Parallel()
	ctx := newBrowserWithin(t, 1280, 900, 3*time.Minute)
	dir := artifacts(t)
	s := newSite(t, true)
	base := s.srv.URL

	// Pages are not open: the front page sends the browser to sign in,
	// and a token signs it in.
	do(t, ctx, "sign-in page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#token")))
	do(t, ctx, "bad token", chromedp.SetValue(chromedp.CSS("#token"), "ssp_nonsense"), chromedp.Click(chromedp.CSS("#form-login button")),
		chromedp.WaitVisible(chromedp.CSS("#form-login .error-summary")))
	signIn(t, ctx, s, "/")

	// The front page and a municipality.
	do(t, ctx, "front page", chromedp.WaitVisible(chromedp.CSS(`a[href="/m/4203"]`)))
	screenshot(t, ctx, dir, "01-front.png")
	do(t, ctx, "follow Arendal", chromedp.Click(chromedp.CSS(`a[href="/m/4203"]`)), chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	all := timelineOf(t, s, "4203", timeline.Filter{})
	if got := count(t, ctx, ".tl-lane"); got != len(all.Partnerships) {
		t.Errorf("%d lanes in the browser, want %d", got, len(all.Partnerships))
	}
	if got := count(t, ctx, ".tl-lane use"); got != len(all.Entries) {
		t.Errorf("%d markers in the browser, want %d", got, len(all.Entries))
	}
	if got := count(t, ctx, ".legend li.legend-marker"); got != len(markerKinds) {
		t.Errorf("legend: %d marker kinds, want %d", got, len(markerKinds))
	}
	// The legend's shapes are drawn (they use the timeline's definitions).
	if w := eval[float64](t, ctx, `document.querySelector(".legend li.legend-marker use").getBBox().width`); w <= 0 {
		t.Errorf("legend marker has width %v", w)
	}
	screenshot(t, ctx, dir, "02-timeline-arendal.png")

	// A filter, through the GET form.
	do(t, ctx, "filter", chromedp.SetValue(chromedp.CSS("#f-area"), "culture"), chromedp.Click(chromedp.CSS("form.filters button")))
	waitUntil(t, ctx, "filtered page", `location.search.includes("service_area=culture")`)
	do(t, ctx, "filtered timeline", chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	culture := timelineOf(t, s, "4203", timeline.Filter{ServiceArea: "culture"})
	if got := count(t, ctx, ".tl-lane"); got != len(culture.Partnerships) || got >= len(all.Partnerships) {
		t.Errorf("filtered: %d lanes, want %d (of %d)", got, len(culture.Partnerships), len(all.Partnerships))
	}

	// A partnership, opened from its lane, then as of its first day.
	do(t, ctx, "back to Arendal", chromedp.Navigate(base+"/m/4203"), chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	do(t, ctx, "open partnership", chromedp.Click(chromedp.CSS(fmt.Sprintf(`a.tl-label[href="/p/%s"]`, s.example))))
	waitUntil(t, ctx, "partnership page", fmt.Sprintf(`location.pathname == "/p/%s" && !!document.querySelector("#history")`, s.example))
	total := count(t, ctx, "ol.history li.entry")
	hist, _, err := s.svc.History().Events(context.Background(), s.example, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	if total != len(hist) {
		t.Errorf("history shows %d entries, want %d", total, len(hist))
	}
	first := hist[0].OccurredAt.In(osloLoc()).Format(time.DateOnly)
	do(t, ctx, "as of", chromedp.SetValue(chromedp.CSS("#as_of"), first), chromedp.Click(chromedp.CSS("form.view-controls button")))
	waitUntil(t, ctx, "as-of page", `!!document.querySelector(".notice.viewing")`)
	if got := count(t, ctx, "ol.history li.entry"); got >= total || got == 0 {
		t.Errorf("as of %s: %d entries, want between 1 and %d", first, got, total-1)
	}
	screenshot(t, ctx, dir, "03-partnership-as-of.png")

	// A new partnership through /p/new.
	do(t, ctx, "new form", chromedp.Navigate(base+"/p/new?municipality=4203"), chromedp.WaitVisible(chromedp.CSS("#new-title")),
		chromedp.SetValue(chromedp.CSS("#new-title"), "Nattvandring i sentrum"),
		chromedp.SetValue(chromedp.CSS("#new-service_area"), "public_health"),
		chromedp.SetValue(chromedp.CSS("#new-collaboration_model"), "co_governance"),
		chromedp.SetValue(chromedp.CSS("#new-partner_0_name"), "Natteravnene Arendal"),
		chromedp.SetValue(chromedp.CSS("#new-partner_0_kind"), "voluntary_organisation"),
		chromedp.SetValue(chromedp.CSS("#new-goals"), "Tryggere helger\nVoksne ute"),
		chromedp.Click(chromedp.CSS("#new-submit")))
	waitUntil(t, ctx, "new partnership", `!!document.querySelector(".notice.saved") && location.pathname.startsWith("/p/")`)
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(strings.SplitN(loc[len(base):], "?", 2)[0], "/p/")
	if !history.ValidID(id) {
		t.Fatalf("redirected to %s", loc)
	}

	// A milestone through its form, then on the timeline.
	do(t, ctx, "milestone", chromedp.Click(chromedp.CSS("#milestone > summary")),
		chromedp.SetValue(chromedp.CSS("#milestone-title"), "Første vandring"),
		chromedp.Click(chromedp.CSS("#milestone-submit")))
	waitUntil(t, ctx, "milestone saved", `document.querySelector(".notice.saved") && document.querySelector(".notice.saved").textContent.includes("Milepæl")`)
	if got := eval[string](t, ctx, `document.querySelector("ol.history").textContent`); !strings.Contains(got, "Første vandring") {
		t.Errorf("the milestone is not in the history")
	}
	do(t, ctx, "timeline", chromedp.Navigate(base+"/m/4203"), chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	if got := count(t, ctx, fmt.Sprintf(`.tl-row:has(a.tl-label[href="/p/%s"]) use[href="#mk-mile"]`, id)); got != 1 {
		t.Errorf("the new lane has %d milestone markers, want 1", got)
	}

	// A validation error, reported next to the field.
	do(t, ctx, "goals form", chromedp.Navigate(base+"/p/"+id), chromedp.WaitVisible(chromedp.CSS("#history")),
		chromedp.Click(chromedp.CSS("#goals > summary")),
		chromedp.SetValue(chromedp.CSS("#goals-reason"), "Tømmer lista"))
	// An empty goal list (SetValue cannot set "": it checks the value it
	// reads back).
	eval[string](t, ctx, `document.querySelector("#goals-goals").value = ""`)
	do(t, ctx, "post goals", chromedp.Click(chromedp.CSS("#goals-submit")))
	waitUntil(t, ctx, "validation error", `!!document.querySelector("#goals-goals-err")`)
	if got := eval[string](t, ctx, `document.querySelector("#goals-reason").value`); got != "Tømmer lista" {
		t.Errorf("the reason typed was not kept: %q", got)
	}
	screenshot(t, ctx, dir, "04-validation-error.png")

	// A version conflict: someone else writes after the page was drawn.
	do(t, ctx, "reload", chromedp.Navigate(base+"/p/"+id), chromedp.WaitVisible(chromedp.CSS("#history")))
	if _, err := s.svc.Execute(context.Background(), id, partnership.Command{Event: partnership.MilestoneLogged{Kind: "media", Title: "Avisoppslag"}}, app.Meta{Actor: eventstore.Actor{Subject: "someone-else", Role: auth.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "stale post", chromedp.Click(chromedp.CSS("#pause > summary")),
		chromedp.SetValue(chromedp.CSS("#pause-reason"), "Vinterpause"),
		chromedp.Click(chromedp.CSS("#pause-submit")))
	waitUntil(t, ctx, "conflict", `!!document.querySelector("#conflict")`)
	if got := eval[string](t, ctx, `document.querySelector("#pause-reason").value`); got != "Vinterpause" {
		t.Errorf("the input was not kept on conflict: %q", got)
	}
	if got := eval[string](t, ctx, `document.querySelector("ol.history").textContent`); !strings.Contains(got, "Avisoppslag") {
		t.Errorf("the conflict page does not show the current history")
	}
	screenshot(t, ctx, dir, "05-version-conflict.png")

	// 360 px wide: the page does not overflow; the timeline scrolls inside
	// its frame.
	do(t, ctx, "narrow", chromedp.EmulateViewport(360, 740), chromedp.Navigate(base+"/m/4203"), chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	if over := eval[bool](t, ctx, `document.documentElement.scrollWidth > window.innerWidth`); over {
		t.Errorf("the page is wider than 360 px")
	}
	if !eval[bool](t, ctx, `(() => { const f = document.querySelector(".tl-frame"); return f.scrollWidth > f.clientWidth })()`) {
		t.Errorf("the timeline does not scroll inside its frame at 360 px")
	}
	screenshot(t, ctx, dir, "06-timeline-360px.png")
}

// TestScreenshots writes the README's screenshots of the demo data, in
// bokmål, into $SAMSPILL_SCREENSHOTS (TestCoordinatorWalk adds those of
// the forms):
//
//	SAMSPILL_SCREENSHOTS=docs/screenshots go test -run 'TestScreenshots|TestCoordinatorWalk' ./web/
func TestScreenshots(t *testing.T) {
	dir := screenshotsDir()
	if dir == "" {
		t.Skip("set SAMSPILL_SCREENSHOTS=dir to write the README's screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t, 1280, 900)
	s := newSite(t, true)
	signIn(t, ctx, s, "/m/5006?group=service_area")
	do(t, ctx, "timeline", chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	screenshot(t, ctx, dir, "timeline-steinkjer.png")
	// On a phone: the drawing scrolled sideways, the lanes' titles still
	// in view.
	do(t, ctx, "timeline on a phone", chromedp.EmulateViewport(phoneWidth, phoneHeight), chromedp.Navigate(s.srv.URL+"/m/5006?group=service_area"), chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	eval[float64](t, ctx, `document.querySelector(".tl-frame").scrollLeft = 500`)
	screenshot(t, ctx, dir, "timeline-steinkjer-390.png")
	// The top of the partnership page (state, timeline); the whole page is
	// a long history.
	do(t, ctx, "partnership", chromedp.EmulateViewport(1280, 1400), chromedp.Navigate(s.srv.URL+"/p/"+s.example), chromedp.WaitVisible(chromedp.CSS("#history")))
	shoot(t, ctx, dir, "partnership.png", chromedp.CaptureScreenshot())
	// The researcher's pages: a pinned Stata file with its manifest,
	// codebook and citation, and the Kaplan–Meier curves.
	do(t, ctx, "research", chromedp.EmulateViewport(1280, 1300), chromedp.Navigate(s.srv.URL+"/research?export=spells&format=dta&as_of=2026-11-26"), chromedp.WaitVisible(chromedp.CSS("#form-research")))
	shoot(t, ctx, dir, "research.png", chromedp.CaptureScreenshot())
	do(t, ctx, "survival", chromedp.EmulateViewport(1280, 1300), chromedp.Navigate(s.srv.URL+"/research/survival"), chromedp.WaitVisible(chromedp.CSS("svg.km")))
	shoot(t, ctx, dir, "survival.png", chromedp.CaptureScreenshot())
}

// signIn opens path, which sends the browser to the sign-in page, and
// signs in there as the admin; the browser ends up on path.
func signIn(t *testing.T, ctx context.Context, s *site, path string) {
	t.Helper()
	do(t, ctx, "sign in", chromedp.Navigate(s.srv.URL+path), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), s.tokens["admin"]), chromedp.Click(chromedp.CSS("#form-login button")))
}
