package web

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/samspill/samspill/projections/summaries"
)

// walkLists is the coordinator's walk through the lists, in the browser of
// coordinatorWalk (a phone, in lang): signed in with a coordinator's token
// of Arendal, the front page is Arendal's partnerships; a search finds the
// partnership the walk made (id, titled title, ended) and opens it; the
// Excel download of the front page's list, downloaded by the browser with
// its session, opens with excelize and holds every partnership of the list,
// worded in lang. check is the walk's check of a page (its language, no
// sideways scroll); shoot takes the documentation's screenshot of a page.
func walkLists(t *testing.T, ctx context.Context, s *site, lang, id, title string, check, shoot func(string)) {
	t.Helper()
	base := s.srv.URL
	do(t, ctx, "sign in as Arendal's coordinator", chromedp.Navigate(base+"/login?next=/"), chromedp.WaitVisible(chromedp.CSS("#token")),
		chromedp.SetValue(chromedp.CSS("#token"), s.tokens["arendal"]), chromedp.Click(chromedp.CSS("#form-login button")))
	waitUntil(t, ctx, "the coordinator's front page", `location.pathname === "/" && !!document.querySelector("#form-list")`)
	check("the coordinator's front page")
	if got := eval[string](t, ctx, `document.querySelector("h1").textContent`); got != "Mine samarbeid" {
		t.Errorf("the coordinator's front page is %q, want Mine samarbeid", got)
	}
	total, err := s.pages.sums.Count(context.Background(), summaries.ListFilter{Municipalities: []string{"4203"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, ctx, "tr.partnership"); got != min(total, listPageSize) {
		t.Errorf("the front page shows %d partnerships, want %d of Arendal's %d", got, min(total, listPageSize), total)
	}

	// Filtered and sorted through the form: the documentation's picture.
	do(t, ctx, "filter", chromedp.SetValue(chromedp.CSS("#l-area"), "health_and_care"), chromedp.SetValue(chromedp.CSS("#l-sort"), "title"),
		chromedp.Click(chromedp.CSS("#l-submit")))
	waitUntil(t, ctx, "the filtered list", `location.pathname === "/mine" && location.search.includes("service_area=health_and_care") && location.search.includes("sort=title")`)
	check("the filtered list")
	care, err := s.pages.sums.Count(context.Background(), summaries.ListFilter{Municipalities: []string{"4203"}, ServiceArea: "health_and_care"})
	if err != nil {
		t.Fatal(err)
	}
	if got := count(t, ctx, "tr.partnership"); got != care || care == 0 {
		t.Errorf("filtered by health and care: %d rows, want %d", got, care)
	}
	shoot("list")

	// Find the walk's partnership from the front page by a word of its
	// title, and open it.
	word := strings.ToLower(strings.Fields(title)[0])
	do(t, ctx, "search from the front page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#l-q")),
		chromedp.SetValue(chromedp.CSS("#l-q"), word), chromedp.Click(chromedp.CSS("#l-submit")))
	waitUntil(t, ctx, "the search's answer", `location.pathname === "/mine" && location.search.includes("q=`+word+`") && !location.search.includes("service_area=health")`)
	check("the search's answer")
	rows := eval[[]string](t, ctx, `Array.from(document.querySelectorAll("tr.partnership")).map(r => r.dataset.id)`)
	if !slices.Contains(rows, id) {
		t.Fatalf("searching %q finds %v, not the walk's partnership %s", word, rows, id)
	}
	do(t, ctx, "open the partnership", chromedp.Click(chromedp.CSS(fmt.Sprintf(`tr.partnership[data-id="%s"] th a`, id))))
	waitUntil(t, ctx, "the partnership found", fmt.Sprintf(`location.pathname === "/p/%s" && !!document.querySelector("#history")`, id))
	if got := eval[string](t, ctx, `document.querySelector("h1").textContent`); got != title {
		t.Errorf("the search led to %q, want %q", got, title)
	}

	// The front page's list as a workbook: the link clicked, the file the
	// browser downloads (with the session's cookie) into a folder.
	do(t, ctx, "back to the front page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#download-xlsx")))
	dir := t.TempDir()
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	begun, progress := chromedp.Events(dctx, cdpbrowser.DownloadWillBegin), chromedp.Events(dctx, cdpbrowser.DownloadProgress)
	do(t, ctx, "download the workbook", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		// Into dir for the test's own browser context (newBrowser) only.
		_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
			Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
			BrowserContextID: chromedp.FromContext(ctx).BrowserContextID,
		})
		return err
	}), chromedp.Click(chromedp.CSS("#download-xlsx")))
	var name string
	for ev, err := range begun {
		if err != nil {
			t.Fatalf("the download did not begin: %v", err)
		}
		name = ev.SuggestedFilename
		break
	}
	if !strings.HasPrefix(name, "samarbeid-arendal-4203-") || !strings.HasSuffix(name, ".xlsx") {
		t.Errorf("the workbook is called %q", name)
	}
	var guid string
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("the download did not finish: %v", err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatalf("the download was canceled")
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			guid = ev.GUID
			break
		}
	}
	data, err := os.ReadFile(filepath.Join(dir, guid))
	if err != nil {
		t.Fatal(err)
	}
	book := openWorkbook(t, data)
	sheet, err := book.GetRows("Samarbeid")
	if err != nil {
		t.Fatal(err)
	}
	if len(sheet)-1 != total || sheet[0][0] != "Tittel" {
		t.Errorf("the workbook has %d rows under %q, want Arendal's %d", len(sheet)-1, sheet[0], total)
	}
	status := slices.Index(sheet[0], "Status")
	found := false
	for _, row := range sheet[1:] {
		if row[len(row)-1] == id {
			found = true
			if row[0] != title || row[status] != words[lang]["ended"] {
				t.Errorf("the walk's partnership in the workbook: %q", row)
			}
		}
	}
	if !found {
		t.Errorf("the workbook lacks the walk's partnership")
	}

	// A municipality's list, filtered and sorted, fits the phone too.
	path := "/m/4203/list?status=active&sort=title"
	do(t, ctx, path, chromedp.Navigate(base+path), chromedp.WaitReady(chromedp.CSS("footer")))
	check(path)
}
