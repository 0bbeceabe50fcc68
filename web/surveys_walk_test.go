package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/domain/calendar"
)

// TestSurveyWalk walks the survey pages in a real Chromium on a phone's
// width, in nynorsk, as a member of the project: follows
// "Spørjeundersøkingar", checks a questionnaire with a mistake (every
// problem listed, the text kept), publishes it fixed, previews it,
// schedules a wave through the form and closes it from its page. No page
// scrolls sideways, and each change holds in the store.
func TestSurveyWalk(t *testing.T) {
	t.Parallel()
	ctx := newBrowserWithin(t, phoneWidth, phoneHeight, 3*time.Minute)
	s := newSite(t, false)
	surveyFixture(t, s, "researcher") // offri, with a first questionnaire and wave
	base := s.srv.URL
	check := func(what string) {
		t.Helper()
		if eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
			t.Errorf("%s scrolls sideways at %d px", what, phoneWidth)
		}
		if lang := eval[string](t, ctx, `document.documentElement.lang`); lang != "nn" {
			t.Errorf("%s is in %q, want nn", what, lang)
		}
	}
	do(t, ctx, "sign in as the researcher", chromedp.Navigate(base+"/login?next=/m"), chromedp.WaitVisible(chromedp.CSS("#token")))
	do(t, ctx, "nynorsk", chromedp.Click(chromedp.CSS(`form.lang button[value="nn"]`)))
	waitUntil(t, ctx, "the sign-in page in nynorsk", `document.documentElement.lang === "nn" && !!document.querySelector("#token")`)
	do(t, ctx, "sign in", chromedp.SetValue(chromedp.CSS("#token"), s.tokens["researcher"]), chromedp.Click(chromedp.CSS("#form-login button")))
	waitUntil(t, ctx, "signed in", `location.pathname === "/m"`)
	if got := eval[string](t, ctx, `document.querySelector("a.surveys").textContent`); got != "Spørjeundersøkingar" {
		t.Errorf("the navigation says %q", got)
	}
	do(t, ctx, "the surveys", chromedp.Click(chromedp.CSS(`a.surveys`)))
	waitUntil(t, ctx, "the surveys page", `location.pathname === "/surveys" && !!document.querySelector("[data-project=offri] tr.wave")`)
	check("the surveys page")

	// A questionnaire with a mistake: the problems, the text kept.
	do(t, ctx, "the questionnaires", chromedp.Click(chromedp.CSS(`#surveys-questionnaires`)))
	waitUntil(t, ctx, "the questionnaires page", `!!document.querySelector("#form-questionnaire")`)
	check("the questionnaires page")
	fixed := strings.Replace(leadersYAML, "id: offri-leaders", "id: offri-volunteers", 1)
	broken := strings.Replace(fixed, "points: 5", "points: 6", 1)
	do(t, ctx, "check a broken one", chromedp.SetValue(chromedp.CSS("#q-definition"), broken), chromedp.Click(chromedp.CSS("#q-check")))
	waitUntil(t, ctx, "the problems", `!!document.querySelector("#questionnaire-errors")`)
	check("the refused questionnaire")
	if got := eval[string](t, ctx, `document.querySelector("#q-definition").value`); got != broken {
		t.Error("the refused text is not kept")
	}
	if got := eval[string](t, ctx, `document.querySelector("#questionnaire-errors").textContent`); !strings.Contains(got, "scale.points") {
		t.Errorf("the problems do not name scale.points: %q", got)
	}
	do(t, ctx, "publish it fixed", chromedp.SetValue(chromedp.CSS("#q-definition"), fixed), chromedp.Click(chromedp.CSS("#q-publish")))
	waitUntil(t, ctx, "the preview", `location.pathname === "/surveys/questionnaires/offri-volunteers/1" && !!document.querySelector("#questionnaire-published")`)
	check("the preview")
	if got := eval[string](t, ctx, `document.querySelector("[data-item=lead_support] legend").textContent`); !strings.HasPrefix(got, "Leiinga støttar samarbeidet.") {
		t.Errorf("the preview's first item reads %q", got)
	}
	if _, err := s.surveys.Questionnaire(context.Background(), "offri-volunteers", 1); err != nil {
		t.Fatalf("the questionnaire is not stored: %v", err)
	}

	// A wave of it, through the form.
	do(t, ctx, "the new wave form", chromedp.Navigate(base+"/surveys/projects/offri/waves/new"))
	waitUntil(t, ctx, "the wave form", `!!document.querySelector("#form-wave")`)
	check("the wave form")
	today := s.now().In(calendar.Oslo)
	do(t, ctx, "schedule", chromedp.SetValue(chromedp.CSS("#w-title"), "OFFRI 2027, frivillige"), chromedp.SetValue(chromedp.CSS("#w-questionnaire"), "offri-volunteers@1"),
		chromedp.SetValue(chromedp.CSS("#w-group"), "volunteers"), chromedp.Click(chromedp.CSS("#w-m-4203")),
		chromedp.SetValue(chromedp.CSS("#w-opens"), calendar.Day(today)), chromedp.SetValue(chromedp.CSS("#w-closes"), calendar.Day(today.AddDate(0, 0, 20))),
		chromedp.Click(chromedp.CSS("#w-submit")))
	waitUntil(t, ctx, "the wave's page", `location.pathname.startsWith("/surveys/waves/") && !!document.querySelector("#form-links")`)
	check("the wave's page")
	wave := strings.TrimPrefix(eval[string](t, ctx, `location.pathname`), "/surveys/waves/")
	w, err := s.surveys.Wave(context.Background(), wave)
	if err != nil || w.QuestionnaireID != "offri-volunteers" || w.Group != "volunteers" || len(w.Municipalities) != 1 {
		t.Fatalf("the wave stored: %+v, %v", w.Wave, err)
	}
	do(t, ctx, "close it", chromedp.SetValue(chromedp.CSS("#c-reason"), "test"), chromedp.Click(chromedp.CSS("#c-submit")))
	waitUntil(t, ctx, "the closed wave", `!document.querySelector("#form-close") && !!document.querySelector("#wave-state")`)
	check("the closed wave")
	if w, err := s.surveys.Wave(context.Background(), wave); err != nil || !w.Closed {
		t.Errorf("the wave is not closed: %+v, %v", w, err)
	}
}
