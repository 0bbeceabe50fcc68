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

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
)

// phoneWidth is a phone's viewport: no page may scroll sideways at it,
// except inside a timeline's drawing area.
const phoneWidth, phoneHeight = 390, 844

// TestCoordinatorWalk walks a coordinator's day in a real Chromium on a
// phone, in bokmål and in nynorsk (chosen with the language switch): sign
// in, initiate a partnership in a municipality chosen by name with two
// partners (a third row added and left empty), log a milestone, change
// the goals, add a partner, correct the milestone through its form and
// preview, and end the partnership on the day of a milestone logged with
// a time of day (through the service, as the API would); then, signed in
// as Arendal's coordinator, find it by search from the front page ("Mine
// samarbeid") and download the list as a workbook (walkLists). Every page
// must be in the chosen language and fit the phone's width. With
// SAMSPILL_SCREENSHOTS=dir it writes the documentation's screenshots (in
// bokmål) of the initiation form, the correction preview, the partnership
// page and the coordinator's list at 1280 and 390 px.
func TestCoordinatorWalk(t *testing.T) {
	t.Parallel()
	for _, lang := range []string{"nb", "nn"} {
		t.Run(lang, func(t *testing.T) {
			// A site and a browser per language: the walks wait on
			// Chromium more than they compute, so they run side by side.
			t.Parallel()
			coordinatorWalk(t, lang)
		})
	}
}

// screenshotsDir is $SAMSPILL_SCREENSHOTS, a relative path taken from the
// repository's root (docs/screenshots), "" when it is not set.
func screenshotsDir() string {
	dir := os.Getenv("SAMSPILL_SCREENSHOTS")
	if dir != "" && !filepath.IsAbs(dir) {
		dir = filepath.Join("..", dir)
	}
	return dir
}

// words are the texts the walk looks for, in each language.
var words = map[string]map[string]string{
	"nb": {"saved": "Lagret", "ended": "Avsluttet", "title": "Start et nytt samarbeid", "preview": "Dette endres", "add": "Legg til en partner til"},
	"nn": {"saved": "Lagra", "ended": "Avslutta", "title": "Start eit nytt samarbeid", "preview": "Dette blir endra", "add": "Legg til ein partnar til"},
}

func coordinatorWalk(t *testing.T, lang string) {
	// Every form of a partnership on a phone: more than a minute under
	// -race beside the other tests.
	ctx := newBrowserWithin(t, phoneWidth, phoneHeight, 3*time.Minute)
	s := newSite(t, true)
	base := s.srv.URL
	w := words[lang]
	shots := ""
	if lang == "nb" {
		shots = screenshotsDir()
	}
	// page checks the page in the browser: in lang, no sideways scroll,
	// no accessibility violation (axe-core, where make test-deps put it).
	axe, _ := os.ReadFile(axePath)
	page := func(what string) {
		t.Helper()
		if len(axe) > 0 {
			checkAccessibility(t, ctx, string(axe), what)
		}
		if got := eval[string](t, ctx, `document.documentElement.lang`); got != lang {
			t.Errorf("%s: <html lang=%q>, want %s", what, got, lang)
		}
		wide := eval[string](t, ctx, `(() => {
			const d = document.documentElement;
			if (d.scrollWidth <= d.clientWidth) { return ""; }
			const out = [];
			for (const el of document.querySelectorAll("body *")) {
				if (el.closest(".timeline-scroll, .tl-frame")) { continue; }
				const r = el.getBoundingClientRect();
				if (r.right > d.clientWidth + 1) { out.push(el.tagName + "." + el.className + "#" + el.id + " " + Math.round(r.right)); }
			}
			return d.scrollWidth + " > " + d.clientWidth + ": " + out.slice(0, 8).join(", ");
		})()`)
		if wide != "" {
			t.Errorf("%s scrolls sideways at %d px: %s", what, phoneWidth, wide)
		}
	}
	// shoot takes the page at 1280 and at 390 px wide, when asked to.
	shoot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		if err := os.MkdirAll(shots, 0o755); err != nil {
			t.Fatal(err)
		}
		// A moment after each resize, for the page to be laid out anew.
		eval[bool](t, ctx, `(() => { document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0); return true })()`)
		do(t, ctx, "wide", chromedp.EmulateViewport(1280, 900), chromedp.Sleep(300*time.Millisecond))
		screenshot(t, ctx, shots, name+"-1280.png")
		do(t, ctx, "phone", chromedp.EmulateViewport(phoneWidth, phoneHeight), chromedp.Sleep(300*time.Millisecond))
		screenshot(t, ctx, shots, name+"-390.png")
	}
	waitPage := func(what, js string) {
		t.Helper()
		waitUntil(t, ctx, what, js)
	}

	// Sign in, after choosing the language on the sign-in page.
	do(t, ctx, "sign-in page", chromedp.Navigate(base+"/p/new"), chromedp.WaitVisible(chromedp.CSS("#token")))
	if lang != "nb" {
		do(t, ctx, "language", chromedp.Click(chromedp.CSS(`form.lang button[value="`+lang+`"]`)))
		waitPage("the sign-in page in "+lang, `document.documentElement.lang === "`+lang+`" && !!document.querySelector("#token")`)
	}
	page("the sign-in page")
	do(t, ctx, "sign in", chromedp.SetValue(chromedp.CSS("#token"), s.tokens["admin"]), chromedp.Click(chromedp.CSS("#form-login button")))
	waitPage("the new form", `!!document.querySelector("#form-new")`)
	page("the new form")
	if got := eval[string](t, ctx, `document.querySelector("h1").textContent`); got != w["title"] {
		t.Errorf("the new form's heading %q, want %q", got, w["title"])
	}

	// Initiate: the municipality by its name, two partners; a third row
	// added in the browser (no page load) and left empty.
	eval[string](t, ctx, `(() => { const s = document.querySelector("#new-municipality");
		const o = Array.from(s.options).find(o => o.textContent === "Arendal"); s.value = o.value; return o.value })()`)
	do(t, ctx, "fill in", chromedp.SetValue(chromedp.CSS("#new-title"), "Nattvandring i sentrum"),
		chromedp.SetValue(chromedp.CSS("#new-service_area"), "public_health"),
		chromedp.SetValue(chromedp.CSS("#new-collaboration_model"), "co_governance"),
		chromedp.SetValue(chromedp.CSS("#new-partner_0_name"), "Natteravnene Arendal"),
		chromedp.SetValue(chromedp.CSS("#new-partner_0_kind"), "voluntary_organisation"),
		chromedp.SetValue(chromedp.CSS("#new-partner_0_org_no"), "974 760 673"),
		chromedp.SetValue(chromedp.CSS("#new-partner_1_name"), "Arendal kommune, Oppvekst"),
		chromedp.SetValue(chromedp.CSS("#new-partner_1_kind"), "municipal_unit"),
		chromedp.SetValue(chromedp.CSS("#new-goals"), "Tryggere helger\nVoksne ute"))
	if got := eval[string](t, ctx, `document.querySelector("#new-add_partner").textContent`); got != w["add"] {
		t.Errorf("the add button says %q, want %q", got, w["add"])
	}
	do(t, ctx, "add a row", chromedp.Click(chromedp.CSS("#new-add_partner")))
	if n := count(t, ctx, `fieldset[data-row="new"]`); n != 3 || eval[string](t, ctx, `document.querySelector("input[name=partner_rows]").value`) != "3" ||
		eval[string](t, ctx, `document.querySelector("#new-title").value`) != "Nattvandring i sentrum" || count(t, ctx, "#new-partner_2_name") != 1 {
		t.Errorf("adding a row in the browser: %d rows", n)
	}
	page("the new form with three rows")
	shoot("new")
	do(t, ctx, "initiate", chromedp.Click(chromedp.CSS("#new-submit")))
	waitPage("the new partnership", `!!document.querySelector(".notice.saved") && location.pathname.startsWith("/p/")`)
	page("the new partnership")
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(strings.SplitN(loc[len(base):], "?", 2)[0], "/p/")
	if !history.ValidID(id) {
		t.Fatalf("redirected to %s", loc)
	}
	st, _, err := s.svc.History().State(context.Background(), id, partnership.View{})
	if err != nil || st.Municipality != "4203" || len(st.Partners) != 2 {
		t.Fatalf("the new partnership: %+v %v", st, err)
	}

	// submit opens a form from the Registrer action, fills it and sends it.
	submit := func(form, eventType string, fill ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		do(t, ctx, "register", chromedp.Click(chromedp.CSS("#register")), chromedp.Click(chromedp.CSS("#"+form+" > summary")))
		do(t, ctx, form, fill...)
		do(t, ctx, "send "+form, chromedp.Click(chromedp.CSS("#"+form+"-submit")))
		waitPage(form+" saved", `!!document.querySelector(".notice.saved") && location.search.includes("saved=`+eventType+`")`)
		page("the partnership after " + form)
	}
	submit("milestone", partnership.TypeMilestoneLogged, chromedp.SetValue(chromedp.CSS("#milestone-title"), "Første vandring"))
	submit("goals", partnership.TypeGoalChanged, chromedp.SetValue(chromedp.CSS("#goals-goals"), "Tryggere helger\nVoksne ute\nFærre skader"), chromedp.SetValue(chromedp.CSS("#goals-reason"), "Ønske fra legevakten"))
	submit("join", partnership.TypePartnerJoined, chromedp.SetValue(chromedp.CSS("#join-name"), "Arendal Røde Kors"), chromedp.SetValue(chromedp.CSS("#join-kind"), "voluntary_organisation"))

	// Correct the milestone: its "Rett" link, its own form, the preview.
	milestone := entryID(t, s, id, partnership.TypeMilestoneLogged)
	do(t, ctx, "correct link", chromedp.Click(chromedp.CSS(fmt.Sprintf(`li[data-event="%s"] a.correct-link`, milestone))))
	waitPage("the correction form", `location.pathname.endsWith("/correct") && !!document.querySelector("#form-correct")`)
	page("the correction form")
	if got := eval[string](t, ctx, `document.querySelector("#correct-title").value`); got != "Første vandring" {
		t.Errorf("the correction form's title is %q, want the milestone's", got)
	}
	do(t, ctx, "edit", chromedp.SetValue(chromedp.CSS("#correct-title"), "Første nattvandring"),
		chromedp.SetValue(chromedp.CSS("#correct-correction_reason"), "Skrivefeil"),
		chromedp.Click(chromedp.CSS("#correct-submit")))
	waitPage("the preview", `!!document.querySelector("table.before-after")`)
	page("the correction preview")
	if got := eval[string](t, ctx, `document.querySelector("#preview-h").textContent`); got != w["preview"] {
		t.Errorf("the preview's heading %q, want %q", got, w["preview"])
	}
	if got := eval[string](t, ctx, `Array.from(document.querySelectorAll("tr.changed")).map(r => r.textContent.replace(/\s+/g, " ").trim()).join("|")`); !strings.Contains(got, "Første vandring Første nattvandring") {
		t.Errorf("the preview's changed rows: %q", got)
	}
	shoot("correct-preview")
	do(t, ctx, "confirm", chromedp.Click(chromedp.CSS(`#form-confirm button[value="confirm"]`)))
	waitPage("the corrected history", `location.search.includes("saved=EntryCorrected")`)
	page("the partnership after the correction")
	if got := eval[string](t, ctx, fmt.Sprintf(`document.querySelector('li[data-event="%s"]').textContent`, milestone)); !strings.Contains(got, "Første vandring") || !strings.Contains(got, "Første nattvandring") {
		t.Errorf("the history does not show the corrected milestone beside the old: %q", got)
	}

	// A milestone at 14:00 today, through the service as the API would,
	// then the end through the form, dated today.
	now := s.now().In(osloLoc())
	at := time.Date(now.Year(), now.Month(), now.Day(), 14, 0, 0, 0, osloLoc())
	if _, err := s.svc.Execute(context.Background(), id, partnership.Command{Event: partnership.MilestoneLogged{Kind: "evaluation", Title: "Evaluering med politiet"}, OccurredAt: &at},
		app.Meta{Actor: eventstore.Actor{Subject: "api-client", Role: auth.RoleAdmin}}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "reload", chromedp.Navigate(base+"/p/"+id), chromedp.WaitVisible(chromedp.CSS("#history")))
	submit("end", partnership.TypePartnershipEnded, chromedp.SetValue(chromedp.CSS("#end-reason"), "completed"), chromedp.SetValue(chromedp.CSS("#end-outcome"), "Prosjektperioden er over"))
	if got := eval[string](t, ctx, `document.querySelector("#status").textContent`); got != w["ended"] {
		t.Errorf("status %q after the end, want %q", got, w["ended"])
	}
	if got := eval[string](t, ctx, `document.querySelector(".notice.saved").textContent`); !strings.HasPrefix(got, w["saved"]) {
		t.Errorf("the saved notice %q is not in %s", got, lang)
	}
	shoot("partnership")

	// The reading pages fit the phone too; a timeline scrolls in its frame.
	for _, path := range []string{"/", "/m/4203", "/m/5006?group=service_area", "/p/" + s.example, "/p/" + s.example + "?as_of=2020-06-30", "/p/" + id + "/correct", "/logout"} {
		do(t, ctx, path, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("footer")))
		page(path)
	}

	// The lists, as Arendal's coordinator (list_walk_test.go).
	walkLists(t, ctx, s, lang, id, "Nattvandring i sentrum", page, shoot)
}
