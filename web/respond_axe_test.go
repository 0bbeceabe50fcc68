package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestRespondPagesAreAccessible runs axe-core on every answer page at a
// phone's width (360 px) and a desktop's, in nynorsk: each kind of
// section (choices, a Likert scale labelled at every point and at its ends
// only, checkboxes, a number, a text), the first section with an error
// summary (a submission missing answers and a partnership), the saved
// page, the thank-you page, and the pages of an unknown link, a used one,
// a closed wave's, a wave's not yet open and a rate-limited one.
func TestRespondPagesAreAccessible(t *testing.T) {
	t.Parallel()
	source := axeSource(t)
	ctx := newBrowserWithin(t, 1280, 900, 4*time.Minute)
	s := newRespondSite(t, respondOptions{})
	token := s.links(t, 1, "")[0]
	link := s.srv.URL + "/s/" + token
	check := func(what string) {
		t.Helper()
		for _, width := range []int64{360, 1280} {
			do(t, ctx, "width", chromedp.EmulateViewport(width, 900))
			checkAccessibility(t, ctx, source, fmt.Sprintf("%s at %d px", what, width))
		}
	}
	open := func(what, url, ready string) {
		t.Helper()
		do(t, ctx, what, chromedp.Navigate(url))
		waitUntil(t, ctx, what, ready)
		check(what)
	}

	open("the first section", link+"?lang=nn", `!!document.querySelector("#respond-next")`)
	do(t, ctx, "a volunteer", chromedp.Click(chromedp.CSS(`label[for="i-role-volunteer"]`)), chromedp.Click(chromedp.CSS("#respond-next")))
	waitUntil(t, ctx, "section 2", `location.search === "?section=work"`)
	check("the section of checkboxes, a number and a text")
	do(t, ctx, "other tasks", chromedp.Click(chromedp.CSS(`label[for="i-tasks-other"]`)), chromedp.Click(chromedp.CSS("#respond-next")))
	waitUntil(t, ctx, "more questions", `!!document.querySelector(".respond-notice")`)
	check("a section with more questions")
	do(t, ctx, "on", chromedp.Click(chromedp.CSS("#respond-next")))
	waitUntil(t, ctx, "the volunteers' section", `location.search === "?section=volunteers"`)
	check("a 7-point scale labelled at its ends")
	do(t, ctx, "on", chromedp.Click(chromedp.CSS(`label[for="i-organised-2"]`)), chromedp.Click(chromedp.CSS("#respond-next")))
	waitUntil(t, ctx, "the last section", `location.search === "?section=last"`)
	do(t, ctx, "send in too early", chromedp.Click(chromedp.CSS("#respond-submit")))
	waitUntil(t, ctx, "the error summary", `!!document.querySelector(".error-summary") && !!document.querySelector("#respond-next")`)
	if n := eval[int](t, ctx, `document.querySelectorAll(".error-summary a").length`); n != 2 {
		t.Errorf("the error summary links %d fields, want the partnership and the scale", n)
	}
	check("the first section with an error summary")
	do(t, ctx, "save for later", chromedp.Click(chromedp.CSS("#respond-later")))
	waitUntil(t, ctx, "the saved page", `!!document.querySelector("#respond-continue")`)
	check("the saved page")
	do(t, ctx, "back", chromedp.Click(chromedp.CSS("#respond-continue")))
	waitUntil(t, ctx, "the first section", `!!document.querySelector("#respond-next")`)
	do(t, ctx, "answer", chromedp.Click(chromedp.CSS(`label[for="p-`+s.choices[0].ID+`"]`)), chromedp.Click(chromedp.CSS(`label[for="i-support-3"]`)), chromedp.Click(chromedp.CSS("#respond-next")))
	waitUntil(t, ctx, "section 2", `location.search === "?section=work"`)
	do(t, ctx, "to the end", chromedp.Navigate(link+"?section=last"))
	waitUntil(t, ctx, "the last section", `!!document.querySelector("#respond-submit")`)
	do(t, ctx, "send in", chromedp.Click(chromedp.CSS("#respond-submit")))
	waitUntil(t, ctx, "the thank-you page", `!!document.querySelector(".respond-status") && !document.querySelector("form.respond-form")`)
	check("the thank-you page")
	open("a used link", link, `!!document.querySelector(".respond-status")`)
	open("an unknown link", s.srv.URL+"/s/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", `!!document.querySelector(".respond-status")`)

	early := newRespondSite(t, respondOptions{opensIn: 3})
	open("a wave not open", early.srv.URL+"/s/"+early.links(t, 1, "")[0]+"?lang=nn", `!!document.querySelector(".respond-status")`)
	limited := newRespondSite(t, respondOptions{limits: &respondLimits{PerLink: 0.01, LinkBurst: 1, PerAddress: 1, AddressBurst: 100, MaxKeys: 10}})
	limitedLink := limited.srv.URL + "/s/" + limited.links(t, 1, "")[0] + "?lang=nn"
	do(t, ctx, "spend the link's burst", chromedp.Navigate(limitedLink))
	open("a rate-limited link", limitedLink, `document.title.startsWith("For mange")`)
	late := newRespondSite(t, respondOptions{})
	lateLink := late.srv.URL + "/s/" + late.links(t, 1, "")[0] + "?lang=nn"
	late.advance(40 * 24 * time.Hour)
	open("a closed wave", lateLink, `!!document.querySelector(".respond-status")`)
}
