package web

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/domain/survey"
)

// TestRespondInChromium: a respondent answers on a phone-sized window
// (390×844) in nynorsk, with the JavaScript the pages ship but needing
// none: answers the first section, saves and goes ("Lagre og hald fram
// seinare"), opens the link again in a fresh tab and finds the answers
// there, goes to the end and submits; the link then says only that the
// answer was sent, and the submission replayed by the browser writes
// nothing.
func TestRespondInChromium(t *testing.T) {
	t.Parallel()
	ctx := newBrowserWithin(t, phoneWidth, phoneHeight, 2*time.Minute)
	dir := artifacts(t)
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, s.choices[0].ID)[0]
	link := s.srv.URL + "/s/" + token
	noSideways := func(what string) {
		t.Helper()
		if w := eval[int](t, ctx, `document.documentElement.scrollWidth - window.innerWidth`); w > 0 {
			t.Errorf("%s scrolls sideways by %d px at %d px", what, w, phoneWidth)
		}
	}

	do(t, ctx, "open the link in nynorsk", chromedp.Navigate(link+"?lang=nn"))
	waitUntil(t, ctx, "the first section", `!!document.querySelector("#respond-next")`)
	if got := eval[string](t, ctx, `document.querySelector("h1").textContent`); got != "Del 1 av 3: Om deg" {
		t.Errorf("heading %q", got)
	}
	noSideways("the first section")
	// On a phone the scale is one point per line: every radio sits in its
	// own row.
	if rows := eval[int](t, ctx, `new Set([...document.querySelectorAll("fieldset.scale .respond-option")].map(e => Math.round(e.getBoundingClientRect().top))).size`); rows != 5 {
		t.Errorf("the 5-point scale takes %d rows on a phone, want 5", rows)
	}
	screenshot(t, ctx, dir, "respond-01-first.png")
	do(t, ctx, "answer section 1",
		chromedp.Click(chromedp.CSS(`label[for="i-role-leader"]`)),
		chromedp.Click(chromedp.CSS(`label[for="i-support-4"]`)),
		chromedp.Click(chromedp.CSS("#respond-later")))
	waitUntil(t, ctx, "the saved page", `!!document.querySelector("#respond-continue")`)
	if got := eval[string](t, ctx, `document.querySelector("h1").textContent`); got != "Svara dine er lagra" {
		t.Errorf("the saved page says %q", got)
	}
	noSideways("the saved page")

	// Back later, in a fresh tab.
	tab, closeTab := newTab(t, ctx)
	defer closeTab()
	do(t, tab, "the link in a fresh tab", chromedp.EmulateViewport(phoneWidth, phoneHeight), chromedp.Navigate(link))
	waitUntil(t, tab, "the first section again", `!!document.querySelector("#respond-next")`)
	if !eval[bool](t, tab, `document.querySelector("#i-role-leader").checked && document.querySelector("#i-support-4").checked && document.documentElement.lang === "nn"`) {
		t.Fatal("the answers saved are not there in a fresh tab, in nynorsk")
	}
	do(t, tab, "next", chromedp.Click(chromedp.CSS("#respond-next")))
	waitUntil(t, tab, "section 2", `location.search === "?section=work"`)
	noSideways("section 2")
	do(t, tab, "answer section 2",
		chromedp.Click(chromedp.CSS(`label[for="i-tasks-homework"]`)),
		chromedp.SetValue(chromedp.CSS("#i-hours"), "12,5"),
		chromedp.Click(chromedp.CSS("#respond-next")))
	waitUntil(t, tab, "the last section", `location.search === "?section=last"`)
	do(t, tab, "a comment", chromedp.SetValue(chromedp.CSS("#i-comment"), "Godt samarbeid med kommunen."))
	screenshot(t, tab, dir, "respond-02-last.png")
	// Keep the form as drawn, to replay it after the submission.
	form := eval[string](t, tab, `document.querySelector("form.respond-form").outerHTML`)
	do(t, tab, "send in", chromedp.Click(chromedp.CSS("#respond-submit")))
	waitUntil(t, tab, "the thank-you page", `document.querySelector("h1").textContent === "Takk for at du svarte!"`)
	noSideways("the thank-you page")
	submitted := s.responseEvents(t, token)
	if submitted[len(submitted)-1] != survey.TypeSurveyResponseSubmitted {
		t.Fatalf("the response after submission: %v", submitted)
	}

	// The link again: only that the answer was sent.
	do(t, tab, "the link again", chromedp.Navigate(link))
	waitUntil(t, tab, "the used link", `document.querySelector("h1").textContent === "Svaret ditt er sendt inn"`)
	if eval[int](t, tab, `document.querySelectorAll("form.respond-form, input[type=radio], textarea").length`) != 0 {
		t.Error("the used link shows a form")
	}
	// The browser posts the kept form again: thanked (a retry), nothing
	// written; with another request id: refused, nothing written.
	replay := func(requestID, want string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { document.querySelector("main").insertAdjacentHTML("beforeend", %q);
			const f = document.querySelector("main form.respond-form");
			if (%q) { f.querySelector("[name=request_id]").value = %q; }
			f.querySelector("#respond-submit").click(); return true })()`, form, requestID, requestID)
		eval[bool](t, tab, js)
		waitUntil(t, tab, "the answer to the replay", fmt.Sprintf(`!document.querySelector("form.respond-form") && document.querySelector("h1").textContent === %q`, want))
	}
	replay("", "Takk for at du svarte!")
	replay("AAAAAAAAAAAAAAAAAAAAAA", "Svaret ditt er sendt inn")
	if got := s.responseEvents(t, token); !slices.Equal(got, submitted) {
		t.Fatalf("the replays wrote: %v, was %v", got, submitted)
	}
}
