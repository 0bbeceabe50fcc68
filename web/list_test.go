package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections/summaries"
)

var (
	listRowRe  = regexp.MustCompile(`<tr class="partnership" data-id="([^"]+)"`)
	nextLinkRe = regexp.MustCompile(`id="page-next" rel="next" href="([^"]+)"`)
	prevLinkRe = regexp.MustCompile(`id="page-prev" rel="prev" href="([^"]+)"`)
)

// rowIDs are the partnerships a list page shows, in order.
func rowIDs(body string) []string {
	var out []string
	for _, m := range listRowRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

// link is the href a page's link matched by re holds, "" without one.
func link(re *regexp.Regexp, body string) string {
	if m := re.FindStringSubmatch(body); m != nil {
		return html.UnescapeString(m[1])
	}
	return ""
}

// addPartnerships initiates n partnerships in Arendal, one a day from
// 1 March 2025, titled "Lesevenn <i>", and waits for the read models.
func addPartnerships(t *testing.T, s *site, n int) {
	t.Helper()
	for i := range n {
		started := time.Date(2025, 3, 1, 0, 0, 0, 0, calendar.Oslo).AddDate(0, 0, i)
		if _, err := s.svc.Initiate(context.Background(), partnership.Command{Event: partnership.PartnershipInitiated{
			Municipality: "4203", Title: fmt.Sprintf("Lesevenn %02d", i), ServiceArea: "culture", CollaborationModel: "network",
			Partners: []partnership.Partner{{Name: "Lesevenner Agder", Kind: "voluntary_organisation"}}, Goals: []string{"Lesing"},
		}, OccurredAt: &started}, app.Meta{}); err != nil {
			t.Fatal(err)
		}
	}
	s.caughtUp(t)
}

// listed is what the read model lists for f, in its order.
func listed(t *testing.T, s *site, f summaries.ListFilter) []string {
	t.Helper()
	var out []string
	if err := s.pages.sums.Each(context.Background(), f, func(st partnership.State) error {
		out = append(out, st.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestCoordinatorStartsOnTheirPartnerships: a coordinator's front page is
// the list of their own municipalities' partnerships, with the
// municipalities a link away; everyone else starts on the municipalities.
func TestCoordinatorStartsOnTheirPartnerships(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	arendal, admin, viewer := s.browserAs(t, "arendal"), s.browser(t), s.browserAs(t, "viewer")
	count, err := s.pages.sums.Count(context.Background(), summaries.ListFilter{Municipalities: []string{"4203"}})
	if err != nil || count == 0 {
		t.Fatalf("Arendal has %d partnerships (%v)", count, err)
	}
	for _, path := range []string{"/", "/mine"} {
		p := arendal.get(path)
		if p.Status != http.StatusOK || !strings.Contains(p.Body, "<h1>Mine samarbeid</h1>") ||
			!strings.Contains(p.Body, `href="/mine" aria-current="page">Mine samarbeid</a>`) || !strings.Contains(p.Body, `href="/m">Kommuner</a>`) {
			t.Errorf("the coordinator's %s: %d\n%s", path, p.Status, p.Body)
		}
		if got, want := rowIDs(p.Body), listed(t, s, summaries.ListFilter{Municipalities: []string{"4203"}, Limit: listPageSize}); !slices.Equal(got, want) {
			t.Errorf("the coordinator's %s shows %v, want Arendal's %v", path, got, want)
		}
		if !strings.Contains(p.Body, fmt.Sprintf("%d samarbeid passer.", count)) || !strings.Contains(p.Body, "Samarbeid i Arendal (4203).") {
			t.Errorf("the coordinator's %s does not count Arendal's %d partnerships", path, count)
		}
	}
	if p := arendal.get("/m"); !strings.Contains(p.Body, "Samarbeid per kommune") || !strings.Contains(p.Body, `href="/m" aria-current="page"`) {
		t.Errorf("the coordinator's way to the municipalities: %s", p.Body)
	}
	for name, b := range map[string]*browser{"admin": admin, "viewer": viewer} {
		p := b.get("/")
		if !strings.Contains(p.Body, "Samarbeid per kommune") || strings.Contains(p.Body, `href="/mine"`) || !strings.Contains(p.Body, `href="/m" aria-current="page">Kommuner</a>`) ||
			!strings.Contains(p.Body, `<a href="/m/4203/list">Liste</a>`) {
			t.Errorf("the %s's front page is not the municipalities with links to their lists:\n%s", name, p.Body)
		}
	}
	if p := viewer.get("/mine"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Du har ingen egne kommuner") || len(rowIDs(p.Body)) != 0 {
		t.Errorf("a viewer's /mine: %d\n%s", p.Status, p.Body)
	}
	for _, path := range []string{"/mine.csv", "/mine.xlsx"} {
		if p := admin.get(path); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Du har ingen egne kommuner") {
			t.Errorf("an admin's %s: %d", path, p.Status)
		}
	}
}

// TestListSearchFiltersSortAndPages: a municipality's list finds a
// partnership by title, partner name and organisation number (typed with
// spaces), filters by status and start, sorts, and pages forward and back
// through every partnership once, keeping the form in every link (and
// through the language switch).
func TestListSearchFiltersSortAndPages(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	addPartnerships(t, s, 75)
	b := s.browser(t)
	ctx := context.Background()
	example, _, err := s.svc.History().State(ctx, s.example, partnership.View{})
	if err != nil {
		t.Fatal(err)
	}
	var orgNo, partner string
	for _, pt := range example.Partners {
		if pt.OrgNo != "" {
			orgNo, partner = pt.OrgNo, pt.Name
		}
	}
	if orgNo == "" {
		t.Fatalf("the demo's example has no partner with an organisation number: %+v", example.Partners)
	}
	code := example.CurrentMunicipality
	for _, q := range []string{strings.ToUpper(example.Title), strings.ToLower(partner), orgNo, orgNo[:3] + " " + orgNo[3:6] + " " + orgNo[6:]} {
		p := b.get("/m/" + code + "/list?q=" + url.QueryEscape(q))
		if p.Status != http.StatusOK || !slices.Contains(rowIDs(p.Body), s.example) {
			t.Errorf("searching %q in %s does not find the example: %d %v", q, code, p.Status, rowIDs(p.Body))
		}
		if !strings.Contains(p.Body, `value="`+html.EscapeString(strings.TrimSpace(q))+`"`) {
			t.Errorf("searching %q: the search box lost it", q)
		}
	}

	arendal := []string{"4203"}
	from, to := time.Date(2025, 3, 10, 0, 0, 0, 0, calendar.Oslo), time.Date(2025, 3, 20, 0, 0, 0, 0, calendar.Oslo).AddDate(0, 0, 1).Add(-time.Nanosecond)
	for query, f := range map[string]summaries.ListFilter{
		"status=ended": {Municipalities: arendal, Status: "ended"},
		"service_area=culture&collaboration_model=network":          {Municipalities: arendal, ServiceArea: "culture", CollaborationModel: "network"},
		"started_from=2025-03-10&started_to=2025-03-20&sort=-title": {Municipalities: arendal, StartedFrom: &from, StartedTo: &to, Sort: "-title"},
		"q=lesevenn&sort=last_occurred_at":                          {Municipalities: arendal, Query: "lesevenn", Sort: "last_occurred_at"},
	} {
		f.Limit = listPageSize
		want := listed(t, s, f)
		p := b.get("/m/4203/list?" + query)
		if got := rowIDs(p.Body); p.Status != http.StatusOK || len(want) == 0 || !slices.Equal(got, want) {
			t.Errorf("?%s: %d rows %v, want %v", query, p.Status, got, want)
		}
		if f.Status == "ended" && strings.Count(p.Body, `class="status-ended"`) != len(want) {
			t.Errorf("?%s: rows not marked ended", query)
		}
		if f.StartedFrom != nil && len(want) != 11 {
			t.Errorf("?%s: %d partnerships started between 10 and 20 March 2025, want 11", query, len(want))
		}
	}

	// Pages, sorted by title, forward then back.
	all := listed(t, s, summaries.ListFilter{Municipalities: arendal, Sort: "title"})
	if len(all) <= 2*listPageSize {
		t.Fatalf("only %d partnerships in Arendal: too few for three pages", len(all))
	}
	path := "/m/4203/list?sort=title&status=" // an empty filter is no filter
	var pages []page
	var walked []string
	for path != "" {
		p := b.get(path)
		if p.Status != http.StatusOK {
			t.Fatalf("GET %s: %d\n%s", path, p.Status, p.Body)
		}
		if (link(prevLinkRe, p.Body) == "") != (len(pages) == 0) {
			t.Errorf("page %d: previous link %q", len(pages), link(prevLinkRe, p.Body))
		}
		pages = append(pages, p)
		walked = append(walked, rowIDs(p.Body)...)
		path = link(nextLinkRe, p.Body)
		if path != "" && (!strings.HasPrefix(path, "/m/4203/list?") || !strings.Contains(path, "sort=title")) {
			t.Fatalf("the next link %q leaves the list or its sort", path)
		}
		if len(pages) > 5 {
			t.Fatal("more pages than partnerships")
		}
	}
	if !slices.Equal(walked, all) || len(pages) != (len(all)+listPageSize-1)/listPageSize {
		t.Errorf("%d pages walked %d partnerships; want %d in order", len(pages), len(walked), len(all))
	}
	for i := len(pages) - 1; i > 0; i-- {
		back := b.get(link(prevLinkRe, pages[i].Body))
		if got, want := rowIDs(back.Body), rowIDs(pages[i-1].Body); !slices.Equal(got, want) {
			t.Errorf("back from page %d: %v, want %v", i, got, want)
		}
	}

	// The language switch returns to the same page of the same list.
	here := link(nextLinkRe, pages[0].Body)
	second := b.get(here)
	if want := `name="back" value="` + html.EscapeString(here) + `"`; !strings.Contains(second.Body, want) {
		t.Fatalf("the language switch on %s does not return to it", here)
	}
	csrf, _ := formValues(t, second.Body)
	if p := b.post("/lang", url.Values{"csrf_token": {csrf}, "lang": {"nn"}, "back": {here}}); p.Location != here {
		t.Errorf("switching language on %s returns to %q", here, p.Location)
	}
	if p := b.get(here); !strings.Contains(p.Body, "<h1>Samarbeid i Arendal (4203)</h1>") || !strings.Contains(p.Body, "samarbeid passar.") || !slices.Equal(rowIDs(p.Body), rowIDs(second.Body)) {
		t.Errorf("the same page in nynorsk shows other rows, or is not in nynorsk")
	}
	b.setLang("nb")

	// Former codes, unknown codes, bad input.
	for from, to := range map[string]string{
		"/m/0906/list?status=active":  "/m/4203/list?status=active",
		"/m/0906/list.csv?sort=title": "/m/4203/list.csv?sort=title",
		"/m/1702/list.xlsx":           "/m/5006/list.xlsx",
	} {
		if p := b.get(from); p.Status != http.StatusMovedPermanently || p.Location != to {
			t.Errorf("GET %s: %d → %q, want 301 → %s", from, p.Status, p.Location, to)
		}
	}
	if p := b.get("/m/9999/list"); p.Status != http.StatusNotFound || !strings.Contains(p.Body, "Ingen kommune har nummeret «9999»") {
		t.Errorf("an unknown municipality's list: %d", p.Status)
	}
	if p := b.get("/m/4203/list?started_from=i+går&sort=tilfeldig&status=open"); p.Status != http.StatusBadRequest ||
		!strings.Contains(p.Body, "fra-datoen «i går» er ikke en dato") || !strings.Contains(p.Body, "Sorter «tilfeldig» finnes ikke") || !strings.Contains(p.Body, "Status «open» finnes ikke") {
		t.Errorf("a bad filter: %d\n%s", p.Status, p.Body)
	}
	titleCursor := link(nextLinkRe, pages[0].Body)
	cursor, _ := url.ParseQuery(titleCursor[strings.Index(titleCursor, "?")+1:])
	for _, path := range []string{"/m/4203/list?sort=-title&cursor=" + url.QueryEscape(cursor.Get("cursor")), "/m/4203/list?cursor=nonsense"} {
		if p := b.get(path); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "Lenken til denne delen av listen er ikke gyldig") {
			t.Errorf("GET %s: %d", path, p.Status)
		}
	}
}

// TestListDownloads: the CSV (UTF-8 with a byte order mark, ";", ISO days,
// plain kroner, formulas made inert) and the workbook (date and number
// cells in Norwegian formats, the municipality number as text) hold every
// partnership the form selects, in its order, headed in the reader's
// language, named after the municipality and the day, and never a contact
// person; the workbook is refused above its bound, and the page says so.
func TestListDownloads(t *testing.T) {
	t.Parallel()
	s := newSite(t, true)
	addPartnerships(t, s, 60)
	ctx := context.Background()
	started := time.Date(2024, 12, 7, 0, 0, 0, 0, calendar.Oslo)
	res, err := s.svc.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
		Municipality: "4203", Title: "=1+1 Leksehjelp", ServiceArea: "education", CollaborationModel: "grant",
		Partners: []partnership.Partner{{Name: "Arendal frivilligsentral", Kind: "voluntary_organisation", OrgNo: "889 640 782"}}, Goals: []string{"Lekser"},
	}, OccurredAt: &started}, app.Meta{})
	if err != nil {
		t.Fatal(err)
	}
	id, partnerID := res.State.ID, res.State.Partners[0].PartnerID
	for _, ev := range []partnership.Event{
		partnership.FundingRecorded{AmountNOK: 290000, Source: "Sparebankstiftelsen", PeriodFrom: "2025-01-01", PeriodUntil: "2025-12-31"},
		partnership.ContactPersonAssigned{PartnerID: partnerID, Name: "Kari Kontaktperson", Email: "kari@example.no", Phone: "+4791234567"},
	} {
		if _, err := s.svc.Execute(ctx, id, partnership.Command{Event: ev, OccurredAt: &started}, app.Meta{}); err != nil {
			t.Fatalf("%s: %v", ev.EventType(), err)
		}
	}
	s.caughtUp(t)
	b := s.browserAs(t, "arendal")
	today := s.now().In(calendar.Oslo).Format(time.DateOnly)
	headings := []string{"Tittel", "Kommune", "Kommunenummer", "Partnere", "Organisasjonsnumre", "Status", "Tjenesteområde", "Samarbeidsmodell", "Startet", "Avsluttet", "Siste registrering", "Finansiering (kr)", "ID i Samspill"}

	// The page links both downloads with its form, never its cursor.
	page := b.get("/mine?sort=title&status=active")
	if !strings.Contains(page.Body, `id="download-csv" href="/mine.csv?sort=title&amp;status=active"`) || !strings.Contains(page.Body, `id="download-xlsx" href="/mine.xlsx?sort=title&amp;status=active"`) {
		t.Fatalf("the page's download links:\n%s", page.Body)
	}
	next := link(nextLinkRe, page.Body)
	if !strings.Contains(b.get(next).Body, `href="/mine.csv?sort=title&amp;status=active"`) {
		t.Errorf("the second page's download is not the whole list's")
	}

	f := summaries.ListFilter{Municipalities: []string{"4203"}, Sort: "title", Status: "active"}
	want := listed(t, s, f)
	if len(want) <= listPageSize {
		t.Fatalf("only %d active partnerships: the download would not span pages", len(want))
	}

	// CSV.
	p := b.get("/mine.csv?sort=title&status=active")
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		p.Header.Get("Content-Disposition") != `attachment; filename="samarbeid-arendal-4203-`+today+`.csv"` {
		t.Fatalf("CSV: %d %v", p.Status, p.Header)
	}
	body, ok := strings.CutPrefix(p.Body, "\ufeff")
	if !ok || !strings.Contains(body, "\r\n") {
		t.Fatalf("the CSV has no byte order mark or no CRLF: %q", p.Body[:min(len(p.Body), 80)])
	}
	r := csv.NewReader(strings.NewReader(body))
	r.Comma = ';'
	records, err := r.ReadAll()
	if err != nil {
		t.Fatalf("parse the CSV: %v", err)
	}
	if !slices.Equal(records[0], headings) {
		t.Errorf("CSV headings %q, want %q", records[0], headings)
	}
	var ids []string
	for _, rec := range records[1:] {
		ids = append(ids, rec[len(rec)-1])
		if rec[len(rec)-1] == id {
			if wantRow := []string{"'=1+1 Leksehjelp", "Arendal", "4203", "Arendal frivilligsentral", "889640782", "Aktiv", "Opplæring", "Tilskudd", "2024-12-07", "", "2024-12-07", "290000", id}; !slices.Equal(rec, wantRow) {
				t.Errorf("CSV row\n got %q\nwant %q", rec, wantRow)
			}
		}
	}
	if !slices.Equal(ids, want) {
		t.Errorf("the CSV has %d partnerships, want the %d the filter selects, in order", len(ids), len(want))
	}
	if strings.Contains(p.Body, "Kari") || strings.Contains(p.Body, "kari@") {
		t.Errorf("a contact person in the CSV")
	}

	// The workbook.
	p = b.get("/mine.xlsx?sort=title&status=active")
	if p.Status != http.StatusOK || p.Header.Get("Content-Type") != "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" ||
		p.Header.Get("Content-Disposition") != `attachment; filename="samarbeid-arendal-4203-`+today+`.xlsx"` {
		t.Fatalf("XLSX: %d %v\n%s", p.Status, p.Header, p.Body[:min(len(p.Body), 500)])
	}
	book := openWorkbook(t, []byte(p.Body))
	checkWorkbook(t, book, headings, want, id)

	// In nynorsk: headed in nynorsk, named the same.
	b.setLang("nn")
	p = b.get("/mine.csv?q=" + url.QueryEscape("ingen slik"))
	records, err = csv.NewReader(strings.NewReader(strings.TrimPrefix(p.Body, "\ufeff"))).ReadAll()
	if err != nil || len(records) != 1 || !strings.HasPrefix(records[0][0], "Tittel;Kommune;Kommunenummer;Partnarar;Organisasjonsnummer;Status;Tenesteområde") {
		t.Errorf("an empty list in nynorsk: %v %q", err, records)
	}
	if got := b.get("/mine.xlsx?q=" + url.QueryEscape("ingen slik")); got.Status != http.StatusOK {
		t.Errorf("an empty workbook: %d", got.Status)
	} else if rows, err := openWorkbook(t, []byte(got.Body)).GetRows("Samarbeid"); err != nil || len(rows) != 1 || rows[0][3] != "Partnarar" {
		t.Errorf("an empty workbook in nynorsk: %v %q", err, rows)
	}
	b.setLang("nb")

	// Above the bound: no link, and a page that says why.
	s.pages.workbookRows = 3
	if p := b.get("/mine?status=active"); strings.Contains(p.Body, `id="download-xlsx"`) || !strings.Contains(p.Body, "Excel-filen tar høyst 3 samarbeid") {
		t.Errorf("the page offers a workbook above its bound")
	}
	if p := b.get("/mine.xlsx?status=active"); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, fmt.Sprintf("Listen har %d samarbeid, og Excel-filen tar høyst 3.", len(want))) {
		t.Errorf("a workbook above its bound: %d\n%s", p.Status, p.Body)
	}
	if p := b.get("/mine.xlsx?q=" + url.QueryEscape("=1+1")); p.Status != http.StatusOK {
		t.Errorf("a workbook within its bound: %d", p.Status)
	}
}

// openWorkbook reads an XLSX with excelize.
func openWorkbook(t *testing.T, data []byte) *excelize.File {
	t.Helper()
	book, err := excelize.OpenReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("open the workbook: %v", err)
	}
	t.Cleanup(func() { _ = book.Close() })
	return book
}

// checkWorkbook checks the workbook's one sheet: the headings, a row per
// partnership of want in order, and the row of id: its title as text (not
// a formula), its start as a date cell shown dd.mm.yyyy, its funding as a
// number cell shown in kroner, its municipality number as text; and no
// contact person anywhere.
func checkWorkbook(t *testing.T, book *excelize.File, headings, want []string, id string) {
	t.Helper()
	if sheets := book.GetSheetList(); !slices.Equal(sheets, []string{"Samarbeid"}) {
		t.Fatalf("sheets %q", sheets)
	}
	const sheet = "Samarbeid"
	rows, err := book.GetRows(sheet)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(rows[0], headings) {
		t.Errorf("workbook headings %q, want %q", rows[0], headings)
	}
	var ids []string
	at := 0
	for i, row := range rows[1:] {
		ids = append(ids, row[len(row)-1])
		if row[len(row)-1] == id {
			at = i + 2
		}
		for _, v := range row {
			if strings.Contains(v, "Kari") || strings.Contains(v, "kari@") {
				t.Errorf("a contact person in the workbook: %q", v)
			}
		}
	}
	if !slices.Equal(ids, want) || len(rows)-1 != len(want) {
		t.Errorf("the workbook has %d rows, want the %d the filter selects, in order", len(rows)-1, len(want))
	}
	if at == 0 {
		t.Fatalf("the workbook lacks %s", id)
	}
	cellAt := func(col int) string {
		name, _ := excelize.CoordinatesToCellName(col, at)
		return name
	}
	value := func(col int, raw bool) string {
		v, err := book.GetCellValue(sheet, cellAt(col), excelize.Options{RawCellValue: raw})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	format := func(col int) string {
		style, err := book.GetCellStyle(sheet, cellAt(col))
		if err != nil {
			t.Fatal(err)
		}
		s, err := book.GetStyle(style)
		if err != nil || s.CustomNumFmt == nil {
			return ""
		}
		return *s.CustomNumFmt
	}
	kind := func(col int) excelize.CellType {
		k, err := book.GetCellType(sheet, cellAt(col))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	if v := value(1, true); v != "=1+1 Leksehjelp" {
		t.Errorf("title cell %q", v)
	}
	if f, _ := book.GetCellFormula(sheet, cellAt(1)); f != "" {
		t.Errorf("the title became a formula: %q", f)
	}
	if v, k := value(3, true), kind(3); v != "4203" || k == excelize.CellTypeNumber || k == excelize.CellTypeUnset {
		t.Errorf("municipality number cell %q of type %v, want text 4203", v, k)
	}
	// 7 December 2024 is day 45633 of Excel's 1900 calendar.
	if v, f, shown := value(9, true), format(9), value(9, false); v != "45633" || f != "dd.mm.yyyy" || shown != "07.12.2024" {
		t.Errorf("start cell: value %q, format %q, shown %q; want the date 45633 shown 07.12.2024", v, f, shown)
	}
	if v := value(10, true); v != "" {
		t.Errorf("end cell of an active partnership %q", v)
	}
	if v, f := value(12, true), format(12); v != "290000" || f != `#,##0 "kr"` {
		t.Errorf("funding cell: value %q, format %q; want the number 290000 in kroner", v, f)
	}
	if k := kind(12); k != excelize.CellTypeUnset && k != excelize.CellTypeNumber {
		t.Errorf("funding cell of type %v, want a number", k)
	}
}
