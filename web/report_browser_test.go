package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestReportInChromium opens a report in real Chromium: accessible
// (axe-core) at a desktop's width and a phone's, in bokmål and nynorsk,
// without sideways scrolling on the phone, and printed without the
// navigation, the language switch or the report's buttons, on the A4
// portrait pages of its own.
func TestReportInChromium(t *testing.T) {
	source := axeSource(t)
	ctx := newBrowserWithin(t, 1280, 900, 3*time.Minute)
	s := newReportSite(t, reportFixture(), ReportOptions{}, false)
	base := s.srv.URL
	do(t, ctx, "sign-in page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS("#token")))
	do(t, ctx, "sign in", chromedp.SetValue(chromedp.CSS("#token"), s.tokens["admin"]), chromedp.Click(chromedp.CSS("#form-login button")))
	waitUntil(t, ctx, "signed in", `!document.querySelector("#token")`)
	dir := artifacts(t)
	for _, lang := range []string{"nb", "nn"} {
		if lang != "nb" {
			do(t, ctx, "language", chromedp.Click(chromedp.CSS(`form.lang button[value="`+lang+`"]`)))
			waitUntil(t, ctx, "the report in "+lang, `document.documentElement.lang === "`+lang+`"`)
		}
		for _, path := range []string{arendalReport, arendalReport + "?audience=organisations", "/surveys/projects/offri/report/5006"} {
			for _, width := range []int64{1280, phoneWidth} {
				do(t, ctx, "open "+path, chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+path))
				waitUntil(t, ctx, path, `!!document.querySelector("article.report")`)
				checkAccessibility(t, ctx, source, fmt.Sprintf("%s in %s at %d px", path, lang, width))
				if width == phoneWidth && eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
					t.Errorf("%s scrolls sideways at %d px", path, phoneWidth)
				}
			}
		}
	}
	do(t, ctx, "phone", chromedp.EmulateViewport(phoneWidth, phoneHeight), chromedp.Navigate(base+arendalReport))
	waitUntil(t, ctx, "the report", `!!document.querySelector("article.report")`)
	screenshot(t, ctx, dir, "report-phone.png")

	// Printed: A4 portrait is 210 mm, 794 px at 96 px an inch, less the
	// margins.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "A4", chromedp.EmulateViewport(673, 1000), chromedp.Navigate(base+arendalReport))
	waitUntil(t, ctx, "the printed report", `!!document.querySelector("article.report")`)
	for _, hidden := range []string{"header.site", "nav.crumbs", "form.lang", "footer.site", ".report-actions", "#report-pdf", ".skip"} {
		if eval[bool](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && e.getClientRects().length > 0; })()`, hidden)) {
			t.Errorf("printed, %s shows", hidden)
		}
	}
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector("article.report")).page`); got != "report" {
		t.Errorf("printed, the report is on pages %q, want its own A4 portrait pages (report)", got)
	}
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector(".report-wave")).breakBefore`); got != "page" {
		t.Errorf("printed, a wave's section starts with break-before %q, want page", got)
	}
	if got := eval[string](t, ctx, `getComputedStyle(document.querySelector("table.report-dist tr")).breakInside`); got != "avoid" {
		t.Errorf("printed, a table's row may split (break-inside %q)", got)
	}
	if eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
		t.Errorf("printed, the report is wider than A4")
	}
	screenshot(t, ctx, dir, "report-print.png")
}
