package web

import (
	"context"
	"html"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/research/survival"
)

var (
	kmSectionRe = regexp.MustCompile(`(?s)<section class="km-chart" aria-labelledby="([a-z-]+)-h">(.*?)</section>`)
	kmPathRe    = regexp.MustCompile(`<g class="curve" stroke="[^"]+" fill="none" stroke-width="2"><path[^>]* d="([^"]+)"/>`)
	kmTableRe   = regexp.MustCompile(`(?s)<table>\s*<caption>([^<]+)</caption>(.*?)</table>`)
	kmRowRe     = regexp.MustCompile(`<tr><th scope="row" class="num">(\d+)</th><td class="num">(\d+)</td><td class="num">(\d+)</td><td class="num">(\d+)</td><td class="num surv">([^<]+)</td><td class="num">([^<]+)</td><td class="num">([^<]+)</td></tr>`)
	kmMedianRe  = regexp.MustCompile(`<tr><th scope="row">([^<]+)</th><td class="num">(\d+)</td><td class="num">(\d+)</td><td class="num">(\d+)</td><td class="num median">([^<]+)</td>`)
)

// TestSurvivalPageDrawsKaplanMeier draws the survival page of the demo
// data as a researcher and checks it against curves estimated here from
// the partnerships' own states (start, end, today) with research/survival:
// every step's numbers in the tables, every drop of the drawn step lines,
// the medians; a censoring tick per censored time; texts in the reader's
// language.
func TestSurvivalPageDrawsKaplanMeier(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	token, err := s.userStore.Create(context.Background(), auth.Spec{Name: "forsker", Role: auth.RoleResearcher})
	if err != nil {
		t.Fatal(err)
	}
	s.tokens["forsker"] = token
	researcher := s.browserAs(t, "forsker")
	researcher.setLang("nb")
	res := researcher.get("/research/survival")
	if res.Status != http.StatusOK {
		t.Fatalf("status %d\n%s", res.Status, res.Body)
	}
	today := s.now()
	l := locale.For(locale.Bokmal)

	// The curves by current model, derived here from the states.
	times, events := map[string][]float64{}, map[string][]bool{}
	n := 0
	err = s.pages.sums.Each(context.Background(), summaries.ListFilter{}, func(st partnership.State) error {
		end, ended := today, st.EndedAt != nil
		if ended {
			end = *st.EndedAt
		}
		label := describe.Label(l, st.CollaborationModel)
		times[label] = append(times[label], float64(max(1, calendar.Days(st.StartedAt, end))))
		events[label] = append(events[label], ended)
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("only %d partnerships in the demo data", n)
	}

	sections := kmSectionRe.FindAllStringSubmatch(res.Body, -1)
	if len(sections) != 2 || sections[0][1] != "km-model" || sections[1][1] != "km-municipality" {
		t.Fatalf("want the charts by model and by municipality, got %d sections", len(sections))
	}
	body := sections[0][2]
	tables := kmTableRe.FindAllStringSubmatch(body, -1)
	paths := kmPathRe.FindAllStringSubmatch(body, -1)
	if len(tables) != len(times) || len(paths) != len(times) {
		t.Fatalf("%d step tables and %d curves drawn for %d models", len(tables), len(paths), len(times))
	}
	medians := map[string][]string{}
	for _, m := range kmMedianRe.FindAllStringSubmatch(body, -1) {
		medians[html.UnescapeString(m[1])] = m[2:]
	}
	for i, tb := range tables {
		label := html.UnescapeString(tb[1])
		want := survival.KaplanMeier(times[label], events[label])
		rows := kmRowRe.FindAllStringSubmatch(tb[2], -1)
		if len(rows) != len(want.Steps) {
			t.Fatalf("%s: %d rows, want %d steps", label, len(rows), len(want.Steps))
		}
		for k, r := range rows {
			st := want.Steps[k]
			got := strings.Join(r[1:], " ")
			exp := strings.Join([]string{strconv.Itoa(int(st.Time)), strconv.Itoa(st.AtRisk), strconv.Itoa(st.Events), strconv.Itoa(st.Censored),
				kmShare(l, st.Survival), kmShare(l, st.Lower), kmShare(l, st.Upper)}, " ")
			if got != exp {
				t.Errorf("%s step %d: page %q, want %q", label, k, got, exp)
			}
		}
		// The drawn line drops (V) to every distinct survival, in order.
		var drops []float64
		fields := strings.Fields(paths[i][1])
		for _, f := range fields {
			if f[0] == 'V' {
				y, err := strconv.ParseFloat(f[1:], 64)
				if err != nil {
					t.Fatalf("%s: path %q", label, paths[i][1])
				}
				drops = append(drops, 1-(y-kmTop)/kmPlotH)
			}
		}
		var wantDrops []float64
		for _, st := range want.Steps {
			if st.Events > 0 {
				wantDrops = append(wantDrops, st.Survival)
			}
		}
		if len(drops) != len(wantDrops) {
			t.Fatalf("%s: %d drops drawn, want %d", label, len(drops), len(wantDrops))
		}
		for k := range drops {
			if math.Abs(drops[k]-wantDrops[k]) > 1e-4 {
				t.Errorf("%s: drop %d to %.5f, want %.5f", label, k, drops[k], wantDrops[k])
			}
		}
		m, lo, hi, reached := survival.Median(want)
		desc := l.T("survival.desc_no_median", "Label", label)
		if reached {
			desc = l.T("survival.desc_median", "Label", label, "Days", kmDays(l, m))
		}
		if !strings.Contains(body, html.EscapeString(desc)) {
			t.Errorf("%s: the chart's description lacks %q", label, desc)
		}
		if got := medians[label]; len(got) != 4 || got[0] != strconv.Itoa(want.Subjects) || got[1] != strconv.Itoa(want.Events) || got[3] != kmDays(l, m) {
			t.Errorf("%s: median row %q, want %d %d … %s", label, got, want.Subjects, want.Events, kmDays(l, m))
		}
		if !strings.Contains(body, html.EscapeString(kmDays(l, lo)+" – "+kmDays(l, hi))) {
			t.Errorf("%s: the median's interval %s – %s is not on the page", label, kmDays(l, lo), kmDays(l, hi))
		}
	}
	for _, want := range []string{`<title id="km-model-title">`, `<desc id="km-model-desc">`, `aria-labelledby="km-model-title km-model-desc"`,
		`class="censored"`, `class="median"`, "Andel som pågår", "Etter kommune", `href="/research" aria-current="page"`} {
		if !strings.Contains(res.Body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(res.Body, "<script>") {
		t.Error("the page runs inline script")
	}
}

// TestSurvivalPageIsForResearchers: coordinators and viewers get the 403
// page and no link to the research pages; admins see them.
func TestSurvivalPageIsForResearchers(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	for _, who := range []string{"arendal", "viewer"} {
		b := s.browserAs(t, who)
		if res := b.get("/research/survival"); res.Status != http.StatusForbidden || strings.Contains(res.Body, "<svg class=\"km\"") {
			t.Errorf("%s: status %d, want 403", who, res.Status)
		}
		if res := b.get("/m"); strings.Contains(res.Body, `href="/research"`) {
			t.Errorf("%s is offered the research link", who)
		}
	}
	admin := s.browser(t)
	if res := admin.get("/m"); !strings.Contains(res.Body, `href="/research"`) {
		t.Error("an admin has no link to the research pages (and from there the survival curves)")
	}
	if res := admin.get("/research/survival"); res.Status != http.StatusOK || strings.Count(res.Body, `<svg xmlns="http://www.w3.org/2000/svg" class="km"`) != 2 {
		t.Errorf("admin: status %d, want 200 with two charts", res.Status)
	}
}

// TestSurvivalPageWithoutPartnerships says so instead of drawing.
func TestSurvivalPageWithoutPartnerships(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	res := s.browser(t).get("/research/survival")
	if res.Status != http.StatusOK || strings.Contains(res.Body, `class="km"`) {
		t.Fatalf("status %d, want 200 without charts", res.Status)
	}
}

// TestKmTicks: years on a long axis, days on a short one, never more
// than kmMaxTick+1 ticks.
func TestKmTicks(t *testing.T) {
	l := locale.For(locale.Bokmal)
	for _, tc := range []struct {
		maxDays   float64
		title     string
		first, nd string
	}{
		{3000, "År siden start", "0 år", "1 år"},
		{200, "Dager siden start", "0", "30"},
		{5, "Dager siden start", "0", "1"},
	} {
		title, ticks := kmTicks(l, tc.maxDays)
		if title != tc.title || len(ticks) < 2 || ticks[0].label != tc.first || ticks[1].label != tc.nd || len(ticks) > kmMaxTick+1 {
			t.Errorf("kmTicks(%v) = %q %v", tc.maxDays, title, ticks)
		}
	}
}
