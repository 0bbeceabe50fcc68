package http

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// listBody is a page of GET /partnerships as a client reads it.
type listBody struct {
	Items      []stateBody `json:"items"`
	NextCursor *string     `json:"next_cursor"`
	PrevCursor *string     `json:"prev_cursor"`
}

func (l listBody) ids() []string {
	ids := make([]string, len(l.Items))
	for i, s := range l.Items {
		ids[i] = s.ID
	}
	return ids
}

// timelineBody is a timeline as a client reads it.
type timelineBody struct {
	Municipality struct {
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"municipality"`
	Partnerships []struct {
		ID                 string  `json:"id"`
		Title              string  `json:"title"`
		ServiceArea        string  `json:"service_area"`
		CollaborationModel string  `json:"collaboration_model"`
		Status             string  `json:"status"`
		StartedAt          string  `json:"started_at"`
		EndedAt            *string `json:"ended_at"`
	} `json:"partnerships"`
	Entries []timelineEntryBody `json:"entries"`
	// NextCursor continues the entries.
	NextCursor *string `json:"next_cursor"`
}

type timelineEntryBody struct {
	PartnershipID string `json:"partnership_id"`
	EventID       string `json:"event_id"`
	Type          string `json:"type"`
	OccurredAt    string `json:"occurred_at"`
	Summary       string `json:"summary"`
}

func (tl timelineBody) partnershipIDs() []string {
	var ids []string
	for _, p := range tl.Partnerships {
		ids = append(ids, p.ID)
	}
	return ids
}

// entries returns "type partnership-id" of each entry, in order.
func (tl timelineBody) entries() []string {
	var out []string
	for _, e := range tl.Entries {
		out = append(out, e.Type+" "+e.PartnershipID)
	}
	return out
}

// getOK sends a GET and requires 200.
func (a *testAPI) getOK(path string) response {
	a.t.Helper()
	r := a.do("GET", path, nil)
	wantStatus(a.t, r, http.StatusOK)
	return r
}

// getJSON sends a GET, requires 200 and decodes the body.
func getJSON[T any](a *testAPI, path string) T {
	a.t.Helper()
	return decodeBody[T](a.t, a.getOK(path))
}

// write sends a command, requires status and returns the position of its
// event.
func (a *testAPI) write(method, path string, body obj, status int) uint64 {
	a.t.Helper()
	r := a.do(method, path, body)
	wantStatus(a.t, r, status)
	return positionOf(a.t, r)
}

// partnershipBody is a valid initiation with one voluntary partner.
func partnershipBody(municipality, title, area, model, occurredAt, partner string) obj {
	return obj{
		"municipality":        municipality,
		"title":               title,
		"service_area":        area,
		"collaboration_model": model,
		"partners":            []any{obj{"name": partner, "kind": "voluntary_organisation"}},
		"goals":               []any{"Et mål"},
		"occurred_at":         occurredAt,
	}
}

// listFixture is five partnerships in four municipalities, two of them
// recorded under former codes, in every status.
type listFixture struct {
	oslo         ptn // 0301, 2024-03-01, culture, co_governance, active
	steinkjer    ptn // 5006, 2023-09-01, culture, informal, active
	arendal      ptn // 4203, 2022-02-01, health_and_care, network, paused 2023-01-10
	arendalOld   ptn // 0906, 2019-05-01, sport_and_outdoor, grant, milestone 2019-06-01, goals 2020-03-01, ended 2021-05-01
	steinkjerOld ptn // 1702, 2017-03-01, education, service_contract, active
	// last is the position of the last write.
	last uint64
}

// newest lists the fixture's partnerships as the list orders them.
func (f listFixture) newest() []string {
	return []string{f.oslo.ID, f.steinkjer.ID, f.arendal.ID, f.arendalOld.ID, f.steinkjerOld.ID}
}

func newListFixture(a *testAPI) listFixture {
	a.t.Helper()
	var f listFixture
	initiate := func(body obj) ptn {
		r := a.do("POST", "/api/v1/partnerships", body)
		wantStatus(a.t, r, http.StatusCreated)
		f.last = positionOf(a.t, r)
		s := decodeBody[stateBody](a.t, r)
		return ptn{ID: s.ID, path: "/api/v1/partnerships/" + s.ID}
	}
	f.steinkjerOld = initiate(partnershipBody("1702", "Leksehjelp", "education", "service_contract", "2017-03-01", "Steinkjer frivilligsentral"))
	f.arendalOld = initiate(partnershipBody("0906", "Ærlig idrett for alle", "sport_and_outdoor", "grant", "2019-05-01", "Arendal idrettsråd"))
	f.arendal = initiate(partnershipBody("4203", "Besøksvenn på sykehjemmet", "health_and_care", "network", "2022-02-01", "Røde Kors Arendal"))
	f.steinkjer = initiate(partnershipBody("5006", "Kulturkveld ÅPEN scene", "culture", "informal", "2023-09-01", "Steinkjer ungdomsråd"))
	f.oslo = a.newPartnership()
	f.last = a.write("POST", f.arendalOld.path+"/milestones", obj{"kind": "meeting", "title": "Oppstart", "occurred_at": "2019-06-01"}, http.StatusOK)
	f.last = a.write("POST", f.arendalOld.path+"/goals", obj{"goals": []any{"Flere med"}, "reason": "Evaluering", "occurred_at": "2020-03-01"}, http.StatusOK)
	f.last = a.write("POST", f.arendalOld.path+"/end", obj{"reason": "completed", "outcome": "Videreført", "occurred_at": "2021-05-01"}, http.StatusOK)
	f.last = a.write("POST", f.arendal.path+"/pause", obj{"reason": "Koronatiltak", "occurred_at": "2023-01-10"}, http.StatusOK)
	return f
}

// TestListPartnershipsFilters checks each filter of GET /partnerships
// alone and combined, and that the items are the derived states.
func TestListPartnershipsFilters(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	f := newListFixture(a)
	at := "&min_position=" + strconv.FormatUint(f.last, 10)
	cases := []struct {
		query string
		want  []string
	}{
		{"", f.newest()},
		{"municipality=0301", []string{f.oslo.ID}},
		{"municipality=4203", []string{f.arendal.ID, f.arendalOld.ID}},
		{"municipality=0906", []string{f.arendal.ID, f.arendalOld.ID}}, // Arendal's former code
		{"municipality=5006", []string{f.steinkjer.ID, f.steinkjerOld.ID}},
		{"municipality=1702", []string{f.steinkjer.ID, f.steinkjerOld.ID}}, // Steinkjer's former code
		{"municipality=5004", []string{f.steinkjer.ID, f.steinkjerOld.ID}}, // and the one between
		{"municipality=1103", nil},
		{"municipality=", f.newest()},
		{"status=active", []string{f.oslo.ID, f.steinkjer.ID, f.steinkjerOld.ID}},
		{"status=paused", []string{f.arendal.ID}},
		{"status=ended", []string{f.arendalOld.ID}},
		{"service_area=culture", []string{f.oslo.ID, f.steinkjer.ID}},
		{"service_area=education", []string{f.steinkjerOld.ID}},
		{"service_area=integration", nil},
		{"collaboration_model=grant", []string{f.arendalOld.ID}},
		{"collaboration_model=co_governance", []string{f.oslo.ID}},
		{"q=tøyen", []string{f.oslo.ID}},
		{"q=TØYEN", []string{f.oslo.ID}},
		{"q=" + url.QueryEscape("  Tøyen  "), []string{f.oslo.ID}},
		{"q=ærlig", []string{f.arendalOld.ID}},
		{"q=ÆRLIG", []string{f.arendalOld.ID}},
		{"q=åpen", []string{f.steinkjer.ID}},
		{"q=" + url.QueryEscape("røde kors"), []string{f.arendal.ID}}, // a partner's name
		{"q=" + url.QueryEscape("RØDE KORS"), []string{f.arendal.ID}},
		{"q=frivilligsentral", []string{f.oslo.ID, f.steinkjerOld.ID}},
		{"q=steinkjer", []string{f.steinkjer.ID, f.steinkjerOld.ID}},
		{"q=ingen+slik", nil},
		{"municipality=0906&status=ended", []string{f.arendalOld.ID}},
		{"municipality=4203&status=active", nil},
		{"municipality=1702&service_area=culture&collaboration_model=informal&status=active&q=kulturkveld", []string{f.steinkjer.ID}},
		{"service_area=culture&q=frivilligsentral", []string{f.oslo.ID}},
		{"status=active&collaboration_model=service_contract", []string{f.steinkjerOld.ID}},
	}
	for _, c := range cases {
		l := getJSON[listBody](a, "/api/v1/partnerships?"+c.query+at)
		if got := l.ids(); !slices.Equal(got, c.want) {
			t.Errorf("?%s: ids %v, want %v", c.query, got, c.want)
		}
		if l.NextCursor != nil {
			t.Errorf("?%s: next_cursor %q on a page that is not full", c.query, *l.NextCursor)
		}
	}

	// Each item is the derived state, as the live read shows it.
	raw := getJSON[struct {
		Items []obj `json:"items"`
	}](a, "/api/v1/partnerships?"+at)
	if len(raw.Items) != 5 {
		t.Fatalf("%d items, want 5", len(raw.Items))
	}
	for _, item := range raw.Items {
		live := getJSON[obj](a, "/api/v1/partnerships/"+item["id"].(string))
		if !jsonEqual(item, live) {
			t.Errorf("listed state differs from the live one:\nlist %v\nlive %v", item, live)
		}
	}
}

// TestListPartnershipsSortsStartedAndOrgNumbers checks sort (each order
// both ways), started_from and started_to (dates bound whole days in
// Europe/Oslo, instants exactly) and q on an organisation number typed with
// spaces, and that prev_cursor leads back to the page before.
func TestListPartnershipsSortsStartedAndOrgNumbers(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	f := newListFixture(a)
	// The oldest partnership gets the latest entry.
	f.last = a.write("POST", f.steinkjerOld.path+"/milestones", obj{"kind": "meeting", "title": "Jubileum", "occurred_at": "2024-06-01"}, http.StatusOK)
	at := "&min_position=" + strconv.FormatUint(f.last, 10)
	byTitle := []string{f.arendal.ID, f.steinkjer.ID, f.steinkjerOld.ID, f.oslo.ID, f.arendalOld.ID} // Besøksvenn, Kulturkveld, Leksehjelp, Møteplass, Ærlig
	byLast := []string{f.arendalOld.ID, f.arendal.ID, f.steinkjer.ID, f.oslo.ID, f.steinkjerOld.ID}
	oldest := slices.Clone(f.newest())
	slices.Reverse(oldest)
	reversed := func(ids []string) []string {
		out := slices.Clone(ids)
		slices.Reverse(out)
		return out
	}
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"sort=-started_at", f.newest()},
		{"sort=started_at", oldest},
		{"sort=title", byTitle},
		{"sort=-title", reversed(byTitle)},
		{"sort=last_occurred_at", byLast},
		{"sort=-last_occurred_at", reversed(byLast)},
		{"sort=", f.newest()},
		{"started_from=2022-02-01", []string{f.oslo.ID, f.steinkjer.ID, f.arendal.ID}},
		{"started_to=2022-02-01", []string{f.arendal.ID, f.arendalOld.ID, f.steinkjerOld.ID}},
		{"started_to=2022-01-31", []string{f.arendalOld.ID, f.steinkjerOld.ID}},
		{"started_to=2022-01-31T23:00:00Z", []string{f.arendal.ID, f.arendalOld.ID, f.steinkjerOld.ID}}, // 00:00 in Oslo
		{"started_to=2022-01-31T22:59:59Z", []string{f.arendalOld.ID, f.steinkjerOld.ID}},
		{"started_from=2019-05-01&started_to=2023-09-01&sort=title", []string{f.arendal.ID, f.steinkjer.ID, f.arendalOld.ID}},
		{"started_from=2023-09-01&started_to=2023-09-01", []string{f.steinkjer.ID}},
		{"q=" + orgLag, []string{f.oslo.ID}},
		{"q=" + url.QueryEscape("974 760 673"), []string{f.oslo.ID}},
		{"q=" + url.QueryEscape(" 760 673"), []string{f.oslo.ID}},
		{"q=" + url.QueryEscape("974 760 674"), nil},
	} {
		l := getJSON[listBody](a, "/api/v1/partnerships?"+c.query+at)
		if got := l.ids(); !slices.Equal(got, c.want) {
			t.Errorf("?%s: ids %v, want %v", c.query, got, c.want)
		}
	}

	// Two pages by title, and back.
	first := getJSON[listBody](a, "/api/v1/partnerships?sort=title&limit=3"+at)
	if !slices.Equal(first.ids(), byTitle[:3]) || first.NextCursor == nil || first.PrevCursor != nil {
		t.Fatalf("first page by title: %v (next %v, prev %v)", first.ids(), first.NextCursor, first.PrevCursor)
	}
	second := getJSON[listBody](a, "/api/v1/partnerships?sort=title&limit=3&cursor="+url.QueryEscape(*first.NextCursor)+at)
	if !slices.Equal(second.ids(), byTitle[3:]) || second.NextCursor != nil || second.PrevCursor == nil {
		t.Fatalf("second page by title: %v (next %v, prev %v)", second.ids(), second.NextCursor, second.PrevCursor)
	}
	back := getJSON[listBody](a, "/api/v1/partnerships?sort=title&limit=3&cursor="+url.QueryEscape(*second.PrevCursor)+at)
	if !slices.Equal(back.ids(), first.ids()) || back.PrevCursor != nil || back.NextCursor == nil {
		t.Errorf("back from the second page: %v (next %v, prev %v)", back.ids(), back.NextCursor, back.PrevCursor)
	}
	// A cursor keeps to its sort.
	r := a.do("GET", "/api/v1/partnerships?sort=-title&limit=3&cursor="+url.QueryEscape(*first.NextCursor), nil)
	if pr := wantProblem(t, r, http.StatusBadRequest, typeValidation); !slices.Equal(pr.fields(), []string{"cursor"}) {
		t.Errorf("a title cursor with sort=-title: errors name %q", pr.fields())
	}
}

// TestListPartnershipsBadInput checks that each invalid parameter is a 400
// naming it, all of them at once.
func TestListPartnershipsBadInput(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	// A timeline's cursor is no list cursor.
	p := a.newPartnership()
	pos := a.write("POST", p.path+"/milestones", obj{"kind": "meeting", "title": "Møte", "occurred_at": "2024-04-01"}, http.StatusOK)
	tl := getJSON[timelineBody](a, fmt.Sprintf("/api/v1/municipalities/0301/timeline?limit=1&min_position=%d", pos))
	if tl.NextCursor == nil {
		t.Fatal("no timeline cursor")
	}
	for _, c := range []struct {
		query  string
		fields []string
	}{
		{"municipality=abcd", []string{"municipality"}},
		{"municipality=301", []string{"municipality"}},
		{"municipality=9999", []string{"municipality"}},
		{"municipality=0000", []string{"municipality"}},
		{"status=open", []string{"status"}},
		{"status=ACTIVE", []string{"status"}},
		{"service_area=sport", []string{"service_area"}},
		{"collaboration_model=samstyring", []string{"collaboration_model"}},
		{"limit=0", []string{"limit"}},
		{"limit=501", []string{"limit"}},
		{"limit=abc", []string{"limit"}},
		{"limit=", []string{"limit"}},
		{"limit=-1", []string{"limit"}},
		{"cursor=abc", []string{"cursor"}},
		{"cursor=" + url.QueryEscape(*tl.NextCursor), []string{"cursor"}},
		{"sort=newest", []string{"sort"}},
		{"sort=title+desc", []string{"sort"}},
		{"sort=-id", []string{"sort"}},
		{"started_from=yesterday", []string{"started_from"}},
		{"started_from=01.02.2024", []string{"started_from"}},
		{"started_to=2024-13-01", []string{"started_to"}},
		{"started_from=2024-02-02&started_to=2024-02-01", []string{"started_from"}},
		{"status=x&service_area=y&limit=0&municipality=1", []string{"municipality", "status", "service_area", "limit"}},
		{"sort=x&started_from=y&started_to=z&status=ended", []string{"started_from", "started_to", "sort"}},
	} {
		r := a.do("GET", "/api/v1/partnerships?"+c.query, nil)
		pr := wantProblem(t, r, http.StatusBadRequest, typeValidation)
		if got := pr.fields(); !slices.Equal(got, c.fields) {
			t.Errorf("?%s: errors name %q, want %q", c.query, got, c.fields)
		}
	}
}

// TestListPartnershipsPagination walks pages of every size over
// partnerships that share start times, and checks the edges.
func TestListPartnershipsPagination(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)

	// Nothing yet: an empty page, exactly.
	r := a.getOK("/api/v1/partnerships")
	if got := string(bytes.TrimSpace(r.Body)); got != `{"items":[],"next_cursor":null,"prev_cursor":null}` {
		t.Errorf("empty list = %s", got)
	}

	var last uint64
	dates := []string{"2020-01-01", "2021-06-01", "2021-06-01", "2022-01-01", "2022-01-01", "2022-01-01", "2023-05-17"}
	for i, d := range dates {
		body := partnershipBody("0301", fmt.Sprintf("Samarbeid %d", i), "culture", "network", d, "Lag")
		last = a.write("POST", "/api/v1/partnerships", body, http.StatusCreated)
	}
	at := "&min_position=" + strconv.FormatUint(last, 10)
	all := getJSON[listBody](a, "/api/v1/partnerships?limit=500"+at)
	if len(all.Items) != len(dates) || all.NextCursor != nil {
		t.Fatalf("full list: %d items, next_cursor %v; want %d, null", len(all.Items), all.NextCursor, len(dates))
	}
	// Newest start first, ties by id descending.
	for i := 1; i < len(all.Items); i++ {
		prev, cur := all.Items[i-1], all.Items[i]
		if prev.StartedAt < cur.StartedAt || prev.StartedAt == cur.StartedAt && prev.ID <= cur.ID {
			t.Errorf("items %d and %d out of order: (%s, %s) before (%s, %s)", i-1, i, prev.StartedAt, prev.ID, cur.StartedAt, cur.ID)
		}
	}
	// The default page size holds them all.
	if l := getJSON[listBody](a, "/api/v1/partnerships?"+at); !slices.Equal(l.ids(), all.ids()) || l.NextCursor != nil {
		t.Errorf("default page: %v %v", l.ids(), l.NextCursor)
	}

	// Exactly limit items: no cursor.
	if l := getJSON[listBody](a, fmt.Sprintf("/api/v1/partnerships?limit=%d%s", len(dates), at)); len(l.Items) != len(dates) || l.NextCursor != nil {
		t.Errorf("limit = count: %d items, next_cursor %v", len(l.Items), l.NextCursor)
	}
	// One more than limit: a cursor that yields the last one, then none.
	l := getJSON[listBody](a, fmt.Sprintf("/api/v1/partnerships?limit=%d%s", len(dates)-1, at))
	if len(l.Items) != len(dates)-1 || l.NextCursor == nil {
		t.Fatalf("limit = count-1: %d items, next_cursor %v", len(l.Items), l.NextCursor)
	}
	rest := getJSON[listBody](a, fmt.Sprintf("/api/v1/partnerships?limit=%d&cursor=%s%s", len(dates)-1, url.QueryEscape(*l.NextCursor), at))
	if !slices.Equal(rest.ids(), all.ids()[len(dates)-1:]) || rest.NextCursor != nil {
		t.Errorf("page after the cursor: %v (next %v), want %v and null", rest.ids(), rest.NextCursor, all.ids()[len(dates)-1:])
	}

	// Walking pages of every size yields every partnership once, in order.
	for size := 1; size <= len(dates)+1; size++ {
		var walked []string
		path := fmt.Sprintf("/api/v1/partnerships?limit=%d%s", size, at)
		for pages := 0; ; pages++ {
			if pages > len(dates) {
				t.Fatalf("limit %d: more pages than partnerships", size)
			}
			page := getJSON[listBody](a, path)
			if len(page.Items) > size {
				t.Errorf("limit %d: a page of %d", size, len(page.Items))
			}
			walked = append(walked, page.ids()...)
			if page.NextCursor == nil {
				break
			}
			if len(page.Items) != size {
				t.Errorf("limit %d: a page of %d with a cursor", size, len(page.Items))
			}
			path = fmt.Sprintf("/api/v1/partnerships?limit=%d&cursor=%s%s", size, url.QueryEscape(*page.NextCursor), at)
		}
		if !slices.Equal(walked, all.ids()) {
			t.Errorf("limit %d: walked %v, want %v", size, walked, all.ids())
		}
	}

	// A cursor keeps to the filters it is used with.
	l = getJSON[listBody](a, "/api/v1/partnerships?limit=1&q=samarbeid+3"+at)
	if len(l.Items) != 1 || l.NextCursor != nil {
		t.Errorf("one match: %d items, next %v", len(l.Items), l.NextCursor)
	}
	l = getJSON[listBody](a, "/api/v1/partnerships?limit=1&municipality=0301"+at)
	rest = getJSON[listBody](a, "/api/v1/partnerships?limit=500&municipality=4203&cursor="+url.QueryEscape(*l.NextCursor)+at)
	if len(rest.Items) != 0 || rest.NextCursor != nil {
		t.Errorf("cursor with another municipality: %v", rest.ids())
	}
	if r := a.getOK("/api/v1/partnerships?status=ended" + at); string(bytes.TrimSpace(r.Body)) != `{"items":[],"next_cursor":null,"prev_cursor":null}` {
		t.Errorf("no match = %s", r.Body)
	}
}

// municipalityCountBody is an item of GET /municipalities.
type municipalityCountBody struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	Partnerships int    `json:"partnerships"`
	Active       int    `json:"active"`
}

// TestMunicipalities checks that every current municipality is listed once,
// by code, with the partnerships recorded under any of its codes.
func TestMunicipalities(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	empty := getJSON[struct {
		Items []municipalityCountBody `json:"items"`
	}](a, "/api/v1/municipalities")
	if len(empty.Items) != 357 {
		t.Errorf("%d municipalities without data, want 357", len(empty.Items))
	}
	f := newListFixture(a)
	list := getJSON[struct {
		Items []municipalityCountBody `json:"items"`
	}](a, fmt.Sprintf("/api/v1/municipalities?min_position=%d", f.last))
	if len(list.Items) != 357 {
		t.Fatalf("%d municipalities, want 357", len(list.Items))
	}
	want := map[string]municipalityCountBody{
		"0301": {Code: "0301", Name: "Oslo", Partnerships: 1, Active: 1},
		"4203": {Code: "4203", Name: "Arendal", Partnerships: 2, Active: 0}, // one paused, one ended (under 0906)
		"5006": {Code: "5006", Name: "Steinkjer", Partnerships: 2, Active: 2},
	}
	current := map[string]bool{}
	for _, m := range kommune.CurrentList() {
		current[string(m.Code)] = true
	}
	total := 0
	for i, m := range list.Items {
		if i > 0 && list.Items[i-1].Code >= m.Code {
			t.Errorf("%s listed after %s: not by code", m.Code, list.Items[i-1].Code)
		}
		if !current[m.Code] || m.Name != kommune.Code(m.Code).Name() {
			t.Errorf("%s %q is not a current municipality with its name", m.Code, m.Name)
		}
		total += m.Partnerships
		if w, ok := want[m.Code]; ok {
			if m != w {
				t.Errorf("%s = %+v, want %+v", m.Code, m, w)
			}
		} else if m.Partnerships != 0 || m.Active != 0 {
			t.Errorf("%s = %+v, want no partnerships", m.Code, m)
		}
	}
	if total != 5 {
		t.Errorf("%d partnerships counted, want 5", total)
	}
}

// TestTimeline checks a municipality's timeline: former codes, ordering,
// filters and errors.
func TestTimeline(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	f := newListFixture(a)
	at := fmt.Sprintf("min_position=%d", f.last)
	get := func(code, query string) timelineBody {
		t.Helper()
		return getJSON[timelineBody](a, "/api/v1/municipalities/"+code+"/timeline?"+at+"&"+query)
	}
	old, cur := f.arendalOld.ID, f.arendal.ID
	arendalEntries := []string{
		"PartnershipInitiated " + old, "MilestoneLogged " + old, "GoalChanged " + old, "PartnershipEnded " + old,
		"PartnershipInitiated " + cur, "PartnershipPaused " + cur,
	}
	tl := get("4203", "")
	if tl.Municipality.Code != "4203" || tl.Municipality.Name != "Arendal" {
		t.Errorf("municipality = %+v", tl.Municipality)
	}
	if !slices.Equal(tl.partnershipIDs(), []string{old, cur}) {
		t.Errorf("partnerships %v, want the 0906 one (2019) and the 4203 one (2022)", tl.partnershipIDs())
	}
	if !slices.Equal(tl.entries(), arendalEntries) {
		t.Errorf("entries\n%q, want\n%q", tl.entries(), arendalEntries)
	}
	if tl.NextCursor != nil {
		t.Errorf("next_cursor %q without more entries", *tl.NextCursor)
	}
	for i, e := range tl.Entries {
		if i > 0 && tl.Entries[i-1].OccurredAt > e.OccurredAt {
			t.Errorf("entry %d (%s) before entry %d (%s): not by occurred_at", i-1, tl.Entries[i-1].OccurredAt, i, e.OccurredAt)
		}
		if e.EventID == "" || e.Summary == "" {
			t.Errorf("entry %d lacks event_id or summary: %+v", i, e)
		}
	}
	first := tl.Entries[0]
	if first.OccurredAt != "2019-04-30T22:00:00Z" || first.Summary != "Initiated: Ærlig idrett for alle" {
		t.Errorf("first entry = %+v", first)
	}
	p := tl.Partnerships[0]
	if p.Title != "Ærlig idrett for alle" || p.ServiceArea != "sport_and_outdoor" || p.CollaborationModel != "grant" || p.Status != "ended" ||
		p.StartedAt != "2019-04-30T22:00:00Z" || p.EndedAt == nil || *p.EndedAt != "2021-04-30T22:00:00Z" {
		t.Errorf("0906 partnership = %+v", p)
	}
	if p := tl.Partnerships[1]; p.Status != "paused" || p.EndedAt != nil {
		t.Errorf("4203 partnership = %+v", p)
	}
	// The former code answers with today's municipality.
	want := a.getOK("/api/v1/municipalities/4203/timeline?" + at).Body
	if got := a.getOK("/api/v1/municipalities/0906/timeline?" + at).Body; !bytes.Equal(got, want) {
		t.Errorf("0906 timeline differs from 4203's:\n%s\n%s", got, want)
	}
	st := get("5006", "")
	if st.Municipality.Code != "5006" || !slices.Equal(st.partnershipIDs(), []string{f.steinkjerOld.ID, f.steinkjer.ID}) {
		t.Errorf("5006: %+v %v, want the 1702 one (2017) and the 5006 one", st.Municipality, st.partnershipIDs())
	}
	if got := a.getOK("/api/v1/municipalities/1702/timeline?" + at).Body; !bytes.Equal(got, a.getOK("/api/v1/municipalities/5006/timeline?"+at).Body) {
		t.Errorf("1702 timeline differs from 5006's")
	}

	for _, c := range []struct {
		query        string
		partnerships []string
		entries      []string
	}{
		{"from=2020-01-01", []string{old, cur}, arendalEntries[2:]},
		{"from=2021-05-02", []string{cur}, arendalEntries[4:]}, // the 0906 one ended before
		{"from=2021-05-01", []string{old, cur}, arendalEntries[3:]},
		{"to=2019-12-31", []string{old}, arendalEntries[:2]},
		{"to=2019-05-01", []string{old}, arendalEntries[:1]}, // a date includes its whole day
		{"from=2019-05-01&to=2019-05-01", []string{old}, arendalEntries[:1]},
		{"from=2020-03-01T00:00:00%2B01:00&to=2020-03-01T00:00:00%2B01:00", []string{old}, arendalEntries[2:3]}, // instants are inclusive
		{"from=2020-03-01T00:00:01%2B01:00&to=2021-04-30", []string{old}, nil},
		{"from=2019-06-01&to=2022-12-31", []string{old, cur}, arendalEntries[1:5]},
		{"service_area=health_and_care", []string{cur}, arendalEntries[4:]},
		{"collaboration_model=grant", []string{old}, arendalEntries[:4]},
		{"status=ended", []string{old}, arendalEntries[:4]},
		{"status=active", nil, nil},
		{"service_area=", []string{old, cur}, arendalEntries},
		{"service_area=sport_and_outdoor&from=2021-01-01", []string{old}, arendalEntries[3:4]},
	} {
		tl := get("4203", c.query)
		if !slices.Equal(tl.partnershipIDs(), c.partnerships) {
			t.Errorf("?%s: partnerships %v, want %v", c.query, tl.partnershipIDs(), c.partnerships)
		}
		if !slices.Equal(tl.entries(), c.entries) {
			t.Errorf("?%s: entries\n%q, want\n%q", c.query, tl.entries(), c.entries)
		}
	}
	// A municipality without partnerships: empty lists, not null.
	r := a.getOK("/api/v1/municipalities/0301/timeline?service_area=education&" + at)
	if got := string(bytes.TrimSpace(r.Body)); got != `{"municipality":{"code":"0301","name":"Oslo"},"partnerships":[],"entries":[],"next_cursor":null}` {
		t.Errorf("empty timeline = %s", got)
	}

	for _, c := range []struct {
		path  string
		field string
	}{
		{"/api/v1/municipalities/12a4/timeline", "code"},
		{"/api/v1/municipalities/123/timeline", "code"},
		{"/api/v1/municipalities/03011/timeline", "code"},
		{"/api/v1/municipalities/4203/timeline?from=2021-01-01&to=2020-12-31", "from"},
		{"/api/v1/municipalities/4203/timeline?from=2021-01-01T00:00:01%2B01:00&to=2021-01-01T00:00:00%2B01:00", "from"},
		{"/api/v1/municipalities/4203/timeline?from=01.01.2021", "from"},
		{"/api/v1/municipalities/4203/timeline?to=2021-13-01", "to"},
		{"/api/v1/municipalities/4203/timeline?to=", "to"},
		{"/api/v1/municipalities/4203/timeline?service_area=sport", "service_area"},
		{"/api/v1/municipalities/4203/timeline?collaboration_model=x", "collaboration_model"},
		{"/api/v1/municipalities/4203/timeline?status=stopped", "status"},
		{"/api/v1/municipalities/4203/timeline?limit=0", "limit"},
		{"/api/v1/municipalities/4203/timeline?limit=5001", "limit"},
		{"/api/v1/municipalities/4203/timeline?cursor=bad", "cursor"},
	} {
		pr := wantProblem(t, a.do("GET", c.path, nil), http.StatusBadRequest, typeValidation)
		if !slices.Equal(pr.fields(), []string{c.field}) {
			t.Errorf("GET %s: errors name %q, want %s", c.path, pr.fields(), c.field)
		}
	}
	for _, code := range []string{"9999", "0000"} {
		pr := wantProblem(t, a.do("GET", "/api/v1/municipalities/"+code+"/timeline", nil), http.StatusNotFound, typeNotFound)
		if pr.Title != "Municipality not found" {
			t.Errorf("%s: title %q", code, pr.Title)
		}
	}
	a.getOK("/api/v1/municipalities/4203/timeline?limit=5000&" + at)
}

// TestTimelinePagination walks a timeline's entries in pages of every size.
func TestTimelinePagination(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	f := newListFixture(a)
	// Entries that share occurred_at within one partnership and across
	// two.
	f.last = a.write("POST", f.arendal.path+"/milestones", obj{"kind": "meeting", "title": "Samme dag", "occurred_at": "2022-02-01"}, http.StatusOK)
	f.last = a.write("POST", "/api/v1/partnerships", partnershipBody("4203", "Samme start", "culture", "network", "2022-02-01", "Lag"), http.StatusCreated)
	at := fmt.Sprintf("min_position=%d", f.last)
	all := getJSON[timelineBody](a, "/api/v1/municipalities/4203/timeline?"+at)
	if len(all.Entries) != 8 || all.NextCursor != nil {
		t.Fatalf("%d entries (next %v), want 8", len(all.Entries), all.NextCursor)
	}
	for size := 1; size <= len(all.Entries)+1; size++ {
		var walked []timelineEntryBody
		path := fmt.Sprintf("/api/v1/municipalities/0906/timeline?limit=%d&%s", size, at)
		for pages := 0; ; pages++ {
			if pages > len(all.Entries) {
				t.Fatalf("limit %d: more pages than entries", size)
			}
			page := getJSON[timelineBody](a, path)
			if !slices.Equal(page.partnershipIDs(), all.partnershipIDs()) {
				t.Errorf("limit %d: page partnerships %v, want all %v", size, page.partnershipIDs(), all.partnershipIDs())
			}
			walked = append(walked, page.Entries...)
			if page.NextCursor == nil {
				break
			}
			if len(page.Entries) != size {
				t.Errorf("limit %d: a page of %d with a cursor", size, len(page.Entries))
			}
			path = fmt.Sprintf("/api/v1/municipalities/0906/timeline?limit=%d&cursor=%s&%s", size, url.QueryEscape(*page.NextCursor), at)
		}
		if !reflect.DeepEqual(walked, all.Entries) {
			t.Errorf("limit %d: walked\n%v, want\n%v", size, walked, all.Entries)
		}
	}
}

// statsBody is GET /stats as a client reads it.
type statsBody struct {
	Municipality *struct {
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"municipality"`
	Partnerships         int            `json:"partnerships"`
	ByStatus             map[string]int `json:"by_status"`
	ByServiceArea        map[string]int `json:"by_service_area"`
	ByCollaborationModel map[string]int `json:"by_collaboration_model"`
	MedianDurationDays   *float64       `json:"median_duration_days"`
	Survival             survivalBody   `json:"survival"`
	GoalChanges          struct {
		Mean         float64        `json:"mean"`
		Distribution map[string]int `json:"distribution"`
	} `json:"goal_changes_per_partnership"`
}

// survivalBody is GET /stats' survival as a client reads it.
type survivalBody struct {
	MedianDays   *float64 `json:"median_days"`
	CILowerDays  *float64 `json:"ci_lower_days"`
	CIUpperDays  *float64 `json:"ci_upper_days"`
	Partnerships int      `json:"partnerships"`
	Ended        int      `json:"ended"`
	Censored     int      `json:"censored"`
	ConfType     string   `json:"conf_type"`
}

// TestStats checks the counts, the median duration of ended partnerships
// (odd and even numbers of them) and goal changes against what was written.
func TestStats(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	var last uint64
	initiate := func(code, area, model, date string) ptn {
		r := a.do("POST", "/api/v1/partnerships", partnershipBody(code, "Samarbeid "+date, area, model, date, "Lag"))
		wantStatus(t, r, http.StatusCreated)
		last = positionOf(t, r)
		s := decodeBody[stateBody](t, r)
		return ptn{ID: s.ID, path: "/api/v1/partnerships/" + s.ID}
	}
	end := func(p ptn, date string) {
		last = a.write("POST", p.path+"/end", obj{"reason": "completed", "outcome": "Ferdig", "occurred_at": date}, http.StatusOK)
	}
	goals := func(p ptn, date string) {
		last = a.write("POST", p.path+"/goals", obj{"goals": []any{"Nytt mål " + date}, "reason": "Ny plan", "occurred_at": date}, http.StatusOK)
	}
	// Arendal (4203, one under 0906): three ended after 10, 30 and 20 days.
	sA := initiate("4203", "culture", "grant", "2020-01-01")
	end(sA, "2020-01-11")
	sB := initiate("4203", "culture", "network", "2020-01-01")
	end(sB, "2020-01-31")
	sC := initiate("4203", "health_and_care", "grant", "2021-01-01")
	goals(sC, "2021-01-05")
	end(sC, "2021-01-21")
	sD := initiate("4203", "sport_and_outdoor", "co_governance", "2022-01-01")
	goals(sD, "2022-02-01")
	goals(sD, "2022-03-01")
	sOld := initiate("0906", "culture", "informal", "2019-03-01")
	last = a.write("POST", sOld.path+"/pause", obj{"reason": "Pause", "occurred_at": "2019-04-01"}, http.StatusOK)
	// Oslo: one ended after 40 days.
	sO := initiate("0301", "education", "service_contract", "2023-01-01")
	end(sO, "2023-02-10")

	at := fmt.Sprintf("min_position=%d", last)
	zero := func(vocab []string, set map[string]int) map[string]int {
		m := map[string]int{}
		for _, v := range vocab {
			m[v] = set[v]
		}
		return m
	}
	arendal := statsBody{
		Partnerships:         5,
		ByStatus:             map[string]int{"active": 1, "paused": 1, "ended": 3},
		ByServiceArea:        zero(partnership.ServiceAreas, map[string]int{"culture": 3, "health_and_care": 1, "sport_and_outdoor": 1}),
		ByCollaborationModel: map[string]int{"co_governance": 1, "service_contract": 0, "grant": 2, "network": 1, "informal": 1},
	}
	check := func(query string, want statsBody, median *float64, mean float64, dist map[string]int, code, name string) {
		t.Helper()
		got := getJSON[statsBody](a, "/api/v1/stats?"+at+query)
		switch {
		case code == "" && got.Municipality != nil:
			t.Errorf("?%s: municipality %+v, want null", query, *got.Municipality)
		case code != "" && (got.Municipality == nil || got.Municipality.Code != code || got.Municipality.Name != name):
			t.Errorf("?%s: municipality %+v, want %s %s", query, got.Municipality, code, name)
		}
		if got.Partnerships != want.Partnerships || !reflect.DeepEqual(got.ByStatus, want.ByStatus) ||
			!reflect.DeepEqual(got.ByServiceArea, want.ByServiceArea) || !reflect.DeepEqual(got.ByCollaborationModel, want.ByCollaborationModel) {
			t.Errorf("?%s: counts %d %v %v %v, want %d %v %v %v", query, got.Partnerships, got.ByStatus, got.ByServiceArea, got.ByCollaborationModel,
				want.Partnerships, want.ByStatus, want.ByServiceArea, want.ByCollaborationModel)
		}
		if (got.MedianDurationDays == nil) != (median == nil) || median != nil && *got.MedianDurationDays != *median {
			t.Errorf("?%s: median_duration_days %v, want %v", query, fmtFloat(got.MedianDurationDays), fmtFloat(median))
		}
		if got.GoalChanges.Mean != mean || !reflect.DeepEqual(got.GoalChanges.Distribution, dist) {
			t.Errorf("?%s: goal changes %v %v, want %v %v", query, got.GoalChanges.Mean, got.GoalChanges.Distribution, mean, dist)
		}
	}
	twenty, twentyFive := 20.0, 25.0
	check("&municipality=4203", arendal, &twenty, 3.0/5, map[string]int{"0": 3, "1": 1, "2": 1}, "4203", "Arendal")
	check("&municipality=0906", arendal, &twenty, 3.0/5, map[string]int{"0": 3, "1": 1, "2": 1}, "4203", "Arendal")

	everywhere := arendal
	everywhere.Partnerships = 6
	everywhere.ByStatus = map[string]int{"active": 1, "paused": 1, "ended": 4}
	everywhere.ByServiceArea = zero(partnership.ServiceAreas, map[string]int{"culture": 3, "health_and_care": 1, "sport_and_outdoor": 1, "education": 1})
	everywhere.ByCollaborationModel = map[string]int{"co_governance": 1, "service_contract": 1, "grant": 2, "network": 1, "informal": 1}
	check("", everywhere, &twentyFive, 3.0/6, map[string]int{"0": 4, "1": 1, "2": 1}, "", "")
	check("&municipality=", everywhere, &twentyFive, 3.0/6, map[string]int{"0": 4, "1": 1, "2": 1}, "", "")

	none := statsBody{
		ByStatus:             map[string]int{"active": 0, "paused": 0, "ended": 0},
		ByServiceArea:        zero(partnership.ServiceAreas, nil),
		ByCollaborationModel: map[string]int{"co_governance": 0, "service_contract": 0, "grant": 0, "network": 0, "informal": 0},
	}
	check("&municipality=1702", none, nil, 0, map[string]int{}, "5006", "Steinkjer")

	// Kaplan–Meier, the ongoing ones censored at the server's today
	// (2024-06-01): Arendal ended after 10, 20 and 30 days, two go on
	// (882 and 1919 days), so S(30) = 0.4 is the median; the lower
	// confidence curve is 0.6·exp(−1.96·sqrt(1/20 + 1/12)) ≈ 0.29 at 20 and
	// the upper one never drops to 0.5. With Oslo's 40 days S stays at
	// exactly 0.5 from 30 to 40: the median is the midpoint, 35.
	checkSurvival := func(query string, want survivalBody) {
		t.Helper()
		got := getJSON[statsBody](a, "/api/v1/stats?"+at+query).Survival
		if fmtFloat(got.MedianDays) != fmtFloat(want.MedianDays) || fmtFloat(got.CILowerDays) != fmtFloat(want.CILowerDays) ||
			fmtFloat(got.CIUpperDays) != fmtFloat(want.CIUpperDays) || got.Partnerships != want.Partnerships ||
			got.Ended != want.Ended || got.Censored != want.Censored || got.ConfType != "log" {
			t.Errorf("?%s: survival median %s [%s, %s] %d/%d/%d %q, want %s [%s, %s] %d/%d/%d", query,
				fmtFloat(got.MedianDays), fmtFloat(got.CILowerDays), fmtFloat(got.CIUpperDays), got.Partnerships, got.Ended, got.Censored, got.ConfType,
				fmtFloat(want.MedianDays), fmtFloat(want.CILowerDays), fmtFloat(want.CIUpperDays), want.Partnerships, want.Ended, want.Censored)
		}
	}
	thirty, thirtyFive := 30.0, 35.0
	checkSurvival("&municipality=4203", survivalBody{MedianDays: &thirty, CILowerDays: &twenty, Partnerships: 5, Ended: 3, Censored: 2})
	checkSurvival("", survivalBody{MedianDays: &thirtyFive, CILowerDays: &twenty, Partnerships: 6, Ended: 4, Censored: 2})
	checkSurvival("&municipality=1702", survivalBody{})

	for _, q := range []string{"municipality=12", "municipality=9999", "municipality=abcd", "min_position=x"} {
		pr := wantProblem(t, a.do("GET", "/api/v1/stats?"+q, nil), http.StatusBadRequest, typeValidation)
		if field, _, _ := strings.Cut(q, "="); !slices.Equal(pr.fields(), []string{field}) {
			t.Errorf("?%s: errors name %q", q, pr.fields())
		}
	}
}

func fmtFloat(f *float64) string {
	if f == nil {
		return "null"
	}
	return strconv.FormatFloat(*f, 'g', -1, 64)
}

// TestOpenAPIReadModels checks the response schemas of the projection
// routes against the Go types the handlers encode, and that each such
// route documents min_position and its 503.
func TestOpenAPIReadModels(t *testing.T) {
	t.Parallel()
	d := loadOpenAPI(t)
	ref := func(name string) any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	for name, typ := range map[string]reflect.Type{
		"PartnershipList":     reflect.TypeFor[summaries.Page[partnership.State]](),
		"MunicipalityList":    reflect.TypeFor[municipalitiesResponse](),
		"MunicipalityCount":   reflect.TypeFor[summaries.MunicipalityCount](),
		"Timeline":            reflect.TypeFor[timeline.Timeline](),
		"TimelinePartnership": reflect.TypeFor[timeline.Partnership](),
		"TimelineEntry":       reflect.TypeFor[timeline.Entry](),
		"Municipality":        reflect.TypeFor[projections.Municipality](),
		"Stats":               reflect.TypeFor[summaries.Stats](),
		"GoalChanges":         reflect.TypeFor[summaries.GoalChanges](),
		"StatsSurvival":       reflect.TypeFor[summaries.Survival](),
		"ProjectionList":      reflect.TypeFor[projectionsResponse](),
		"ProjectionStatus":    reflect.TypeFor[projections.Status](),
		"RebuildStatus":       reflect.TypeFor[projections.RebuildStatus](),
		"Ready":               reflect.TypeFor[readyResponse](),
		"NotReady":            reflect.TypeFor[notReadyProblem](),
		"ProjectionReadiness": reflect.TypeFor[projectionReadiness](),
	} {
		d.matchSchema(t, name, typ, ref(name), false)
	}
	for _, path := range []string{"/api/v1/partnerships", "/api/v1/municipalities", "/api/v1/municipalities/{code}/timeline", "/api/v1/stats"} {
		op, ok := d.operation("GET", path)
		if !ok {
			t.Errorf("GET %s is not documented", path)
			continue
		}
		names := map[string]bool{}
		for _, p := range op["parameters"].([]any) {
			names[d.resolve(p)["name"].(string)] = true
		}
		if !names["min_position"] {
			t.Errorf("GET %s does not document min_position", path)
		}
		responses := op["responses"].(map[string]any)
		for _, status := range []string{"200", "400", "503"} {
			if responses[status] == nil {
				t.Errorf("GET %s does not document %s", path, status)
			}
		}
	}
	op, _ := d.operation("POST", "/api/v1/admin/projections/{name}/rebuild")
	for _, status := range []string{"202", "404", "409"} {
		if op["responses"].(map[string]any)[status] == nil {
			t.Errorf("POST rebuild does not document %s", status)
		}
	}
}
