package web

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/emulation"
	cdpruntime "github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"golang.org/x/net/html"

	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/timeline"
)

// firstViewLimit is the most the first view of a municipality's timeline
// may weigh, however many partnerships it has.
const firstViewLimit = 200 << 10

var (
	nextRe    = regexp.MustCompile(`<a rel="next" href="([^"]+)">`)
	headingRe = regexp.MustCompile(`<h3 class="tl-group">([^<]*)</h3>`)
)

// TestTimelineFirstViewAt2000Lanes: a municipality of 2,000 partnerships
// shows a first view under 200 KB, of the first 50 lanes (by start) with
// exactly their markers; following "next" through every page shows every
// lane once and every marker; a page past the end shows the last page;
// grouped, a group's heading counts the group's lanes on every page; the
// downloads of a view draw that view.
func TestTimelineFirstViewAt2000Lanes(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("fills 16,000 events")
	}
	s := largeSite(t)
	h := s.srv.Config.Handler
	whole := timelineOf(t, s, "4203", timeline.Filter{})
	entriesOf := map[string]int{}
	for _, e := range whole.Entries {
		entriesOf[e.PartnershipID]++
	}

	status, body := getPage(s, h, "/m/4203")
	if status != http.StatusOK {
		t.Fatalf("status %d", status)
	}
	if len(body) >= firstViewLimit {
		t.Errorf("the first view is %d bytes, want under %d", len(body), firstViewLimit)
	}
	t.Logf("first view: %d bytes", len(body))
	lanes := laneRe.FindAllStringSubmatch(body, -1)
	if len(lanes) != lanesPerPage {
		t.Fatalf("%d lanes on the first view, want %d", len(lanes), lanesPerPage)
	}
	markers := 0
	for i, l := range lanes {
		if l[1] != whole.Partnerships[i].ID {
			t.Fatalf("lane %d is %s, want %s (by start)", i, l[1], whole.Partnerships[i].ID)
		}
		markers += entriesOf[l[1]]
	}
	if n := len(markerRe.FindAllString(body, -1)); n != markers {
		t.Errorf("%d markers on the first view, want the %d of its lanes", n, markers)
	}
	if !strings.Contains(body, "Side 1 av 40") || !strings.Contains(body, "Viser samarbeid 1–50 av 2\u00a0000") {
		t.Errorf("the first view does not say where it is")
	}

	seen := map[string]bool{}
	path, pages, allMarkers := "/m/4203", 0, 0
	for path != "" {
		status, body := getPage(s, h, html.UnescapeString(path))
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, status)
		}
		pages++
		for _, l := range laneRe.FindAllStringSubmatch(body, -1) {
			if seen[l[1]] {
				t.Fatalf("lane %s on two pages", l[1])
			}
			seen[l[1]] = true
		}
		allMarkers += len(markerRe.FindAllString(body, -1))
		path = ""
		if m := nextRe.FindStringSubmatch(body); m != nil {
			path = m[1]
		}
	}
	if pages != 40 || len(seen) != largePartnerships || allMarkers != len(whole.Entries) {
		t.Errorf("the pages: %d pages, %d lanes, %d markers; want 40, %d, %d", pages, len(seen), allMarkers, largePartnerships, len(whole.Entries))
	}
	if _, body := getPage(s, h, "/m/4203?page=41"); !strings.Contains(body, "Side 40 av 40") {
		t.Errorf("a page past the end does not show the last page")
	}

	status, body = getPage(s, h, "/m/4203?group=service_area&page=2")
	if status != http.StatusOK {
		t.Fatalf("grouped: status %d", status)
	}
	m := headingRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("grouped: no group's heading")
	}
	first := laneRe.FindStringSubmatch(body)[1]
	var area string
	for _, p := range whole.Partnerships {
		if p.ID == first {
			area = p.ServiceArea
		}
	}
	inArea := 0
	for _, p := range whole.Partnerships {
		if p.ServiceArea == area {
			inArea++
		}
	}
	if want := describe.Label(locale.For(locale.Bokmal), area) + " (" + strconv.Itoa(inArea) + " samarbeid)"; m[1] != want {
		t.Errorf("the heading of page 2's first group is %q, want %q (every lane of the group, not those on the page)", m[1], want)
	}

	// The downloads draw the view they are asked for.
	res := download(t, s, "/m/4203/timeline.svg?status=ended")
	if got := res.Header.Get("Content-Type"); got != "image/svg+xml" || !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("the SVG is sent as %q, %q", got, res.Header.Get("Content-Disposition"))
	}
	svg := readAll(t, res)
	checkXML(t, svg)
	ended := regexp.MustCompile(`<g class="lane ([a-z]+)"`).FindAllStringSubmatch(svg, -1)
	if len(ended) != lanesPerPage {
		t.Errorf("the SVG of the first view has %d lanes, want %d", len(ended), lanesPerPage)
	}
	for _, l := range ended {
		if l[1] != partnership.StatusEnded {
			t.Fatalf("the SVG under status=ended draws a lane %s", l[1])
		}
	}
	for _, want := range []string{"@font-face", "<style>", `<use href="#mk-`, "<title>"} {
		if !strings.Contains(svg, want) {
			t.Errorf("the SVG lacks %s", want)
		}
	}
	img, err := png.Decode(download(t, s, "/m/4203/timeline.png").Body)
	if err != nil {
		t.Fatalf("decode the PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() != labelWidth+plotWidth+rightPad || b.Dy() != axisHeight+lanesPerPage*laneHeight+footHeight {
		t.Errorf("the PNG is %v, want %d×%d", b.Size(), labelWidth+plotWidth+rightPad, axisHeight+lanesPerPage*laneHeight+footHeight)
	}
}

// download GETs path as the admin and wants a 200.
func download(t *testing.T, s *site, path string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, s.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.tokens["admin"])
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d", path, res.StatusCode)
	}
	return res
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkXML fails unless s is one well-formed XML document.
func checkXML(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		_, err := d.Token()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatalf("the SVG is not XML: %v", err)
		}
	}
}

// TestTimelineMarkersAreLinksNamedByTheirEvents: on a municipality's page,
// in each language, every marker is a link (reachable by Tab) to the item
// of the list below that describes its event in full, named by that item
// (aria-labelledby), right after its lane's title in the order of the
// page; the example partnership's items say its date and describe.Event's
// line for every event in force, in the reader's language, and never a
// contact person. The downloaded SVG says the same in its titles.
func TestTimelineMarkersAreLinksNamedByTheirEvents(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	ctx := context.Background()
	state, _, err := s.svc.History().State(ctx, s.example, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	events, _, err := s.svc.History().Events(ctx, s.example, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	entries := make([]partnership.Entry, len(events))
	for i, e := range events {
		entries[i] = e.Entry
	}
	effective, err := partnership.Effective(entries, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	names := partnership.PartnerNames(effective)
	data, pieces := dataStrings(t, s), englishOnly(t)
	for _, lang := range []locale.Lang{locale.Bokmal, locale.Nynorsk, locale.English} {
		t.Run(string(lang), func(t *testing.T) {
			l := locale.For(lang)
			b := s.browser(t)
			b.setLang(string(lang))
			p := b.get("/m/" + state.CurrentMunicipality)
			if p.Status != http.StatusOK {
				t.Fatalf("status %d", p.Status)
			}
			doc, err := html.Parse(strings.NewReader(p.Body))
			if err != nil {
				t.Fatal(err)
			}
			items := map[string]string{} // id -> text
			var order []string           // lane titles' hrefs and markers' targets, in the page's order
			named := map[string]string{} // marker -> the lane it is on
			lane := ""
			var walk func(*html.Node)
			walk = func(n *html.Node) {
				if n.Type == html.ElementNode {
					switch {
					case n.Data == "li" && strings.HasPrefix(attr(n, "id"), "ev-"):
						items[attr(n, "id")] = text(n)
					case n.Data == "a" && attr(n, "class") == "tl-label":
						lane = attr(n, "href")
						order = append(order, lane)
					case n.Data == "a" && n.Parent != nil && strings.HasPrefix(attr(n.Parent, "class"), "tl-lane"):
						href, by := attr(n, "href"), attr(n, "aria-labelledby")
						if href != "#"+by || !strings.HasPrefix(by, "ev-") {
							t.Errorf("a marker links to %q, named by %q", href, by)
						}
						if _, dup := named[by]; dup {
							t.Errorf("two markers named by %s", by)
						}
						named[by] = lane
						order = append(order, by)
					}
				}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					walk(c)
				}
			}
			walk(doc)
			if len(named) == 0 || len(named) != len(markerRe.FindAllString(p.Body, -1)) {
				t.Fatalf("%d markers are links, of %d", len(named), len(markerRe.FindAllString(p.Body, -1)))
			}
			for id := range named {
				if items[id] == "" {
					t.Errorf("marker %s is named by no item of the list", id)
				}
			}
			// Tab goes through a lane's title, then its markers.
			for i, o := range order {
				if strings.HasPrefix(o, "ev-") && (i == 0 || named[o] != laneBefore(order, i)) {
					t.Fatalf("marker %s comes after another lane's title in the page", o)
				}
			}
			var mine []string
			for id, at := range named {
				if at == "/p/"+s.example {
					mine = append(mine, items[id])
				}
			}
			if len(mine) != len(effective) {
				t.Fatalf("the example has %d markers, want one per event in force (%d)", len(mine), len(effective))
			}
			for _, e := range effective {
				ev := e.Event
				if c, ok := ev.(partnership.ContactPersonAssigned); ok {
					ev = partnership.ContactPersonAssigned{ContactID: c.ContactID, PartnerID: c.PartnerID}
				}
				want := describe.Event(l, ev, names)
				found := false
				for _, item := range mine {
					found = found || (strings.HasPrefix(item, l.Date(e.OccurredAt)+": ") && strings.Contains(item, want))
				}
				if !found {
					t.Errorf("no marker of the example says %q on %s:\n%s", want, l.Date(e.OccurredAt), strings.Join(mine, "\n"))
				}
			}
			if regexp.MustCompile(`[a-z.]+@[a-z]+\.`).MatchString(p.Body) {
				t.Errorf("the timeline shows a contact person's email")
			}
			svg := b.get("/m/" + state.CurrentMunicipality + "/timeline.svg")
			if svg.Status != http.StatusOK {
				t.Fatalf("SVG: %d", svg.Status)
			}
			checkXML(t, svg.Body)
			for _, item := range mine {
				if !strings.Contains(svg.Body, "<title>"+string(escapeText(nil, item))+"</title>") {
					t.Errorf("the SVG does not title a marker %q", item)
				}
			}
			if lang != locale.English {
				if found := englishOn(t, svg.Body, data, pieces); len(found) > 0 {
					t.Errorf("the SVG in %s has English on it:\n  %s", lang, strings.Join(found, "\n  "))
				}
			}
		})
	}
}

// laneBefore is the last lane title before position i of order.
func laneBefore(order []string, i int) string {
	for j := i - 1; j >= 0; j-- {
		if !strings.HasPrefix(order[j], "ev-") {
			return order[j]
		}
	}
	return ""
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// TestTimelineAxisTicksMonthsUnderTwoYears: an axis under two years ticks
// the months with their short names in the reader's language; a longer
// one ticks years alone, and labels only as many years as fit.
func TestTimelineAxisTicksMonthsUnderTwoYears(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	b := s.browser(t)
	p := b.get("/m/4203?from=2024-01-01&to=2025-06-30")
	months := regexp.MustCompile(`<g class="months">(.*?)</g>`).FindStringSubmatch(p.Body)
	if months == nil {
		t.Fatalf("no months on an axis of 18 months")
	}
	for _, want := range []string{">feb.<", ">mars<", ">des.<"} {
		if !strings.Contains(months[1], want) {
			t.Errorf("the months lack %s: %s", want, months[1])
		}
	}
	if n := strings.Count(p.Body, `class="month"`); n != 16 {
		t.Errorf("%d month rules, want 16 (February to June, but January)", n)
	}
	b.setLang("en")
	if p := b.get("/m/4203?from=2024-01-01&to=2025-06-30"); !strings.Contains(p.Body, ">Feb<") {
		t.Errorf("no English month names")
	}
	if p := b.get("/m/4203"); strings.Contains(p.Body, `<g class="months">`) {
		t.Errorf("months on an axis of many years")
	}
	// Forty years on 960 px: every year a rule, every other one labelled.
	sc := scale{from: 0, span: 1, label: labelWidth, plot: plotWidth}
	from := s.now().AddDate(-40, 0, 0)
	sc.from, sc.span = from.Unix(), float64(s.now().Unix()-from.Unix())
	ticks := yearTicks(from, s.now(), sc)
	labelled, last := 0, -1000
	for _, tk := range ticks {
		if tk.Text != "" {
			labelled++
			if tk.X-last < minYearGap {
				t.Errorf("year labels %d px apart", tk.X-last)
			}
			last = tk.X
		}
	}
	if len(ticks) < 39 || labelled > len(ticks)/2+1 {
		t.Errorf("%d year rules, %d labelled", len(ticks), labelled)
	}
}

// TestPrintStylesheet: the stylesheet prints on A4 landscape, scales the
// drawing to the page, and leaves out the forms, the filters, the
// navigation, the language switch and the list (the browser test prints
// the page in Chromium).
func TestPrintStylesheet(t *testing.T) {
	css, err := os.ReadFile("assets/style.css")
	if err != nil {
		t.Fatal(err)
	}
	_, print, ok := bytes.Cut(css, []byte("@media print {"))
	if !ok || !bytes.Contains(css, []byte("@page { size: A4 landscape;")) {
		t.Fatalf("no print stylesheet for A4 landscape")
	}
	for _, want := range []string{"header.site", "form", ".pager", ".downloads", ".tl-events", "display: none", ".tl-grid { zoom:"} {
		if !bytes.Contains(print, []byte(want)) {
			t.Errorf("the print stylesheet lacks %s", want)
		}
	}
	// 220 + 980 px zoomed must fit 277 mm (A4's 297 less two 10 mm margins).
	zoom := regexp.MustCompile(`\.tl-grid \{ zoom: ([0-9.]+); \}`).FindSubmatch(print)
	if zoom == nil {
		t.Fatal("no zoom")
	}
	z, _ := strconv.ParseFloat(string(zoom[1]), 64)
	if width, page := z*float64(labelWidth+plotWidth+rightPad), 277/25.4*96; width > page {
		t.Errorf("the drawing prints %.0f px wide on a page of %.0f", width, page)
	}
}

// TestTimelineInChromium: in a real Chromium, Tab from a lane's title
// reaches its first marker, whose accessible name is its event's full
// description, shown at once beside it (the script's tooltip) and, on
// Enter, in the list below; the year axis stays at the top of the drawing
// as its lanes scroll up, and the lanes' titles at its left as it scrolls
// sideways; on a 390 px phone nothing but the drawing scrolls sideways;
// printed, the page is the drawing on A4 landscape, its whole axis across
// the page, without forms, filters or navigation.
func TestTimelineInChromium(t *testing.T) {
	t.Parallel()
	ctx := newBrowser(t, 1280, 900)
	s := newSite(t, true)
	state, _, err := s.svc.History().State(context.Background(), s.example, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	path := "/m/" + state.CurrentMunicipality
	signIn(t, ctx, s, path)
	do(t, ctx, "timeline", chromedp.WaitVisible(chromedp.CSS(".tl-frame")))

	label := fmt.Sprintf(`a.tl-label[href="/p/%s"]`, s.example)
	eval[bool](t, ctx, fmt.Sprintf(`(document.querySelector(%q).focus(), true)`, label))
	do(t, ctx, "tab to the first marker", chromedp.KeyEvent(kb.Tab))
	target := eval[string](t, ctx, fmt.Sprintf(`(() => {
		const a = document.activeElement;
		const row = a.closest(".tl-row");
		return a.closest(".tl-lane") && row && row.querySelector(%q) ? a.getAttribute("aria-labelledby") : "";
	})()`, label))
	if target == "" {
		t.Fatalf("Tab from the lane's title reached %s", eval[string](t, ctx, `document.activeElement.outerHTML`))
	}
	want := eval[string](t, ctx, fmt.Sprintf(`document.getElementById(%q).textContent`, target))
	if name := axName(t, ctx, "document.activeElement"); name != want || !strings.HasPrefix(name, locale.For(locale.Bokmal).Date(state.StartedAt)) {
		t.Errorf("the focused marker's accessible name is %q, want %q", name, want)
	}
	if got := eval[string](t, ctx, `(() => { const t = document.querySelector(".tooltip"); return t && !t.hidden ? t.textContent : ""; })()`); got != want {
		t.Errorf("focus shows %q beside the marker, want %q", got, want)
	}
	if outline := eval[string](t, ctx, `getComputedStyle(document.activeElement).outlineStyle`); outline == "none" {
		t.Errorf("the focused marker has no visible outline")
	}
	do(t, ctx, "follow the marker", chromedp.KeyEvent(kb.Enter))
	waitUntil(t, ctx, "the description in the list", fmt.Sprintf(`location.hash == "#%s" && document.getElementById("tl-events").getBoundingClientRect().width > 100`, target))
	if got := eval[string](t, ctx, `document.querySelector(":target").textContent`); got != want {
		t.Errorf("the list shows %q, want %q", got, want)
	}

	// Sticky: the axis as the lanes scroll up, the titles as they scroll
	// sideways.
	do(t, ctx, "back", chromedp.EmulateViewport(900, 600), chromedp.Navigate(s.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	stuck := `(() => {
		const f = document.querySelector(".tl-frame");
		f.scrollTop = 200; f.scrollLeft = 300;
		const fr = f.getBoundingClientRect();
		const head = document.querySelector(".tl-head").getBoundingClientRect();
		const rows = [...document.querySelectorAll(".tl-label")].map(l => l.getBoundingClientRect()).filter(r => r.top >= head.bottom && r.bottom <= fr.bottom);
		return f.scrollTop > 0 && f.scrollLeft > 0 && Math.abs(head.top - fr.top) <= 2 && rows.length > 0 && rows.every(r => Math.abs(r.left - fr.left) <= 2);
	})()`
	if !eval[bool](t, ctx, stuck) {
		t.Errorf("scrolled 200 px down and 300 px sideways, the axis or the lanes' titles left the frame")
		t.Log(eval[string](t, ctx, `(() => { const f = document.querySelector(".tl-frame"); const fr = f.getBoundingClientRect(); const head = document.querySelector(".tl-head").getBoundingClientRect(); return JSON.stringify({st: f.scrollTop, sl: f.scrollLeft, fr, head, l: [...document.querySelectorAll(".tl-label")].slice(0,12).map(l => l.getBoundingClientRect().left + "/" + l.getBoundingClientRect().top)}); })()`))
	}
	screenshot(t, ctx, artifacts(t), "timeline-scrolled.png")

	// A phone: the page does not scroll sideways, the drawing does, and
	// the titles stay.
	do(t, ctx, "phone", chromedp.EmulateViewport(phoneWidth, phoneHeight), chromedp.Navigate(s.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	if eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
		t.Errorf("the page scrolls sideways at %d px", phoneWidth)
	}
	if !eval[bool](t, ctx, `(() => { const f = document.querySelector(".tl-frame"); return f.scrollWidth > f.clientWidth && f.getBoundingClientRect().right <= window.innerWidth; })()`) {
		t.Errorf("the drawing does not scroll inside its frame at %d px", phoneWidth)
	}
	if !eval[bool](t, ctx, stuck) {
		t.Errorf("on a phone, the axis or the lanes' titles left the frame")
	}

	// Printed on A4 landscape (297 × 210 mm at 96 px an inch, 10 mm
	// margins).
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"}); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, "A4", chromedp.EmulateViewport(1047, 718), chromedp.Navigate(s.srv.URL+path), chromedp.WaitVisible(chromedp.CSS(".tl-frame")))
	for _, hidden := range []string{"header.site", "form.filters", "form.lang", "nav.crumbs", ".downloads", ".tl-events"} {
		if got := eval[string](t, ctx, fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? getComputedStyle(e).display : "none"; })()`, hidden)); got != "none" {
			t.Errorf("printed, %s shows (display %s)", hidden, got)
		}
	}
	if w := eval[float64](t, ctx, `document.querySelector(".tl-grid").getBoundingClientRect().width`); w > 1047 || w < 900 {
		t.Errorf("printed, the drawing is %.0f px wide on a page of 1047", w)
	}
	if eval[bool](t, ctx, `document.documentElement.scrollWidth > document.documentElement.clientWidth`) {
		t.Errorf("printed, the page is wider than A4")
	}
	screenshot(t, ctx, artifacts(t), "timeline-print.png")
}

// axName is the accessible name Chromium computes for the element js
// evaluates to.
func axName(t *testing.T, ctx context.Context, js string) string {
	t.Helper()
	obj, err := chromedp.Call(ctx, cdpruntime.Evaluate, cdpruntime.EvaluateParams{Expression: js})
	if err != nil || obj.Result == nil || obj.Result.ObjectID == "" {
		t.Fatalf("evaluate %s: %v", js, err)
	}
	no := false
	tree, err := chromedp.Call(ctx, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{ObjectID: obj.Result.ObjectID, FetchRelatives: &no})
	if err != nil || len(tree.Nodes) == 0 || tree.Nodes[0].Name == nil {
		t.Fatalf("the accessibility tree of %s: %v", js, err)
	}
	for _, n := range tree.Nodes {
		t.Logf("ax node ignored=%v role=%+v name=%+v props=%d", n.Ignored, n.Role, n.Name, len(n.Properties))
		if n.Name != nil {
			t.Logf("name value %s sources %d", n.Name.Value, len(n.Name.Sources))
		}
	}
	var name string
	if err := json.Unmarshal(tree.Nodes[0].Name.Value, &name); err != nil {
		t.Fatalf("name %s: %v", tree.Nodes[0].Name.Value, err)
	}
	return name
}
