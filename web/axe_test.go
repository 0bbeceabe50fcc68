package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
)

// axePath is axe-core, installed from the npm registry by make test-deps
// (web/testdata/axe/package-lock.json pins it).
var axePath = filepath.Join("testdata", "axe", "node_modules", "axe-core", "axe.min.js")

// axeSource returns axe-core's script, or skips the test without it.
func axeSource(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err != nil {
		t.Skipf("axe-core not installed (%s): run make test-deps (npm ci in web/testdata/axe) to check the pages' accessibility", axePath)
	}
	return string(b)
}

// axeViolation is one rule axe-core finds broken on a page.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any `json:"target"`
	} `json:"nodes"`
}

// checkAccessibility runs axe-core on the page the browser shows and fails
// the test on any violation, of any impact. The script is added to the
// page through the DevTools protocol, which the pages' content security
// policy does not restrict.
func checkAccessibility(t *testing.T, ctx context.Context, source, what string) {
	t.Helper()
	script := `(async () => {
		if (!window.axe) { ` + source + ` }
		const r = await window.axe.run(document, {resultTypes: ["violations"]});
		return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => ({target: n.target}))}));
	})()`
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](script, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe on %s: %v", what, err)
	}
	for _, v := range violations {
		var targets []string
		for _, n := range v.Nodes {
			targets = append(targets, fmt.Sprint(n.Target...))
		}
		t.Errorf("%s: accessibility: %s (%s): %s; at %s", what, v.ID, v.Impact, v.Help, strings.Join(targets, ", "))
	}
}

// TestPagesAreAccessible visits every kind of page, signed out and signed
// in, in bokmål and nynorsk, at a desktop's width and a phone's, and runs
// axe-core on each.
func TestPagesAreAccessible(t *testing.T) {
	t.Parallel()
	source := axeSource(t)
	for _, lang := range []string{"nb", "nn"} {
		t.Run(lang, func(t *testing.T) {
			// Each language has a site and a browser of its own: the two
			// walks wait on Chromium more than they compute, and side by
			// side they no longer bound the package's time one after the
			// other.
			t.Parallel()
			// Some thirty pages at two widths: more than a minute under
			// -race beside the other tests.
			ctx := newBrowserWithin(t, 1280, 900, 5*time.Minute)
			s := newSite(t, true)
			_, kari := s.person(t, "Kari Nordmann", "kari@example.no", auth.Grant{Role: auth.RoleViewer})
			if _, err := s.projectStore.CreateProject(context.Background(), auth.SystemPrincipal, auth.Project{ID: "offri", Name: "Samspill over tid", Institution: "Universitetet i Oslo", Purpose: "Varighet", Starts: "2026-01-01", Municipalities: []kommune.Code{"4203"}}); err != nil {
				t.Fatal(err)
			}
			if err := s.projectStore.GrantProject(context.Background(), auth.SystemPrincipal, "offri", "admin"); err != nil {
				t.Fatal(err)
			}
			base := s.srv.URL
			do(t, ctx, "sign-in page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#token")))
			if lang != "nb" {
				do(t, ctx, "language", chromedp.Click(chromedp.CSS(`form.lang button[value="`+lang+`"]`)))
				waitUntil(t, ctx, "the sign-in page in "+lang, `document.documentElement.lang === "`+lang+`" && !!document.querySelector("#token")`)
			}
			checkAccessibility(t, ctx, source, "the sign-in page")
			do(t, ctx, "sign in", chromedp.SetValue(chromedp.CSS("#token"), s.tokens["admin"]), chromedp.Click(chromedp.CSS("#form-login button")))
			waitUntil(t, ctx, "signed in", `!document.querySelector("#token")`)
			for _, path := range append([]string{
				"/",
				"/m",
				"/mine",
				"/m/4203/list",
				"/m/4203/list?q=leksehjelp&sort=title&status=active",
				"/m/4203",
				"/m/4203?group=service_area",
				"/m/5006?from=2019-01-01&to=2020-06-30",
				"/p/" + s.example,
				"/p/" + s.example + "?as_of=2019-06-30",
				"/p/" + s.example + "/correct",
				"/p/" + s.example + "/audit",
				"/research/survival",
				"/admin/users",
				"/admin/users?q=zzz",
				"/admin/users/" + kari.ID,
				"/admin/tokens",
				"/admin/sessions",
				"/admin/audit",
				"/admin/projects",
				"/admin/projects/offri",
				"/research",
				"/research?export=spells&format=csv&as_of=2026-06-30",
				"/research?export=people&as_of=2999-01-01&at_position=0",
				"/research/codebook",
				"/p/new",
				"/logout",
				"/p/00000000-0000-7000-8000-000000000000",
			}, surveyAxePaths(t, s)...) {
				for _, width := range []int64{1280, phoneWidth} {
					do(t, ctx, "open "+path, chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+path))
					waitUntil(t, ctx, path, `!!document.querySelector("main")`)
					checkAccessibility(t, ctx, source, fmt.Sprintf("%s at %d px", path, width))
				}
			}
			// The feedback report, on pages of their own over the same
			// stores (report_test.go): the session's cookie holds for
			// any port of the host.
			reports := reportSiteOver(t, s, reportFixture(), ReportOptions{})
			for _, width := range []int64{1280, phoneWidth} {
				do(t, ctx, "open the report", chromedp.EmulateViewport(width, 900), chromedp.Navigate(reports.srv.URL+arendalReport))
				waitUntil(t, ctx, "the report", `!!document.querySelector("article.report")`)
				checkAccessibility(t, ctx, source, fmt.Sprintf("the feedback report at %d px", width))
			}
			// A form sent with errors, shown again with them.
			do(t, ctx, "the new form", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+"/p/new"))
			waitUntil(t, ctx, "the new form", `!!document.querySelector("#form-new")`)
			// The browser's own checks would stop an empty form; the
			// server's are the ones shown to people without them.
			eval[bool](t, ctx, `(() => { document.querySelector("#form-new").noValidate = true; return true })()`)
			do(t, ctx, "send it empty", chromedp.Click(chromedp.CSS(`#new-submit`)))
			waitUntil(t, ctx, "the errors", `!!document.querySelector(".errors, [role=alert]")`)
			checkAccessibility(t, ctx, source, "the new form with errors")
			// The admin pages drawn after a post: the erase confirmation, a
			// new token's secret, a refused grant.
			do(t, ctx, "a user", chromedp.Navigate(base+"/admin/users/"+kari.ID))
			waitUntil(t, ctx, "the user's page", `!!document.querySelector("#form-erase")`)
			do(t, ctx, "erase", chromedp.Click(chromedp.CSS(`#form-erase button`)))
			waitUntil(t, ctx, "the confirmation", `!!document.querySelector("#form-erase-confirm")`)
			checkAccessibility(t, ctx, source, "the erase confirmation")
			do(t, ctx, "a user", chromedp.Navigate(base+"/admin/users/"+kari.ID))
			waitUntil(t, ctx, "the user's page", `!!document.querySelector("#form-grant")`)
			do(t, ctx, "a refused grant", chromedp.SetValue(chromedp.CSS("#grant-role"), auth.RoleCoordinator), chromedp.Click(chromedp.CSS(`#form-grant button`)))
			waitUntil(t, ctx, "the refusal", `!!document.querySelector("#admin-error")`)
			checkAccessibility(t, ctx, source, "a refused grant")
			do(t, ctx, "the tokens", chromedp.Navigate(base+"/admin/tokens"))
			waitUntil(t, ctx, "the tokens page", `!!document.querySelector("#form-token")`)
			do(t, ctx, "make a token", chromedp.SetValue(chromedp.CSS("#token-name"), "axe"), chromedp.Click(chromedp.CSS(`#form-token button`)))
			waitUntil(t, ctx, "the new token", `!!document.querySelector("#token-secret")`)
			checkAccessibility(t, ctx, source, "a new token's secret")
			// The project pages drawn after a post: a refused project, the
			// rotation's confirmation.
			do(t, ctx, "the projects", chromedp.Navigate(base+"/admin/projects"))
			waitUntil(t, ctx, "the projects page", `!!document.querySelector("#form-project")`)
			do(t, ctx, "a refused project", chromedp.SetValue(chromedp.CSS("#project-id"), "X"), chromedp.Click(chromedp.CSS(`#form-project button`)))
			waitUntil(t, ctx, "the refusal", `!!document.querySelector("#admin-error")`)
			checkAccessibility(t, ctx, source, "a refused project")
			do(t, ctx, "a project", chromedp.Navigate(base+"/admin/projects/offri"))
			waitUntil(t, ctx, "the project's page", `!!document.querySelector("#form-rotate")`)
			do(t, ctx, "rotate", chromedp.Click(chromedp.CSS(`#form-rotate button`)))
			waitUntil(t, ctx, "the confirmation", `!!document.querySelector("#form-rotate-confirm")`)
			checkAccessibility(t, ctx, source, "the rotation's confirmation")
		})
	}
}
