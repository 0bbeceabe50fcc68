package web

import (
	"cmp"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/summaries"
)

// The partnership lists: /mine, a coordinator's own municipalities' (and
// the coordinator's start page, /), and /m/{code}/list, one
// municipality's. A GET form searches (title, partner name, organisation
// number), filters (status, service area, collaboration model, started
// between two days) and sorts; pages go forward and back by the read
// model's keyset cursors; the downloads (download.go) hold every
// partnership the form selects. Everything a list shows is in its URL, so
// the language switch, which returns to the URL, keeps it.

// listPageSize is how many partnerships a page of a list shows.
const listPageSize = 50

// Sections of the site the navigation marks as current.
const (
	sectionMine           = "mine"
	sectionMunicipalities = "municipalities"
)

// listScope is whose partnerships a list shows.
type listScope struct {
	// codes are today's codes of the municipalities, by code.
	codes []string
	// path is the list page's path; its downloads are path.csv and
	// path.xlsx.
	path string
	mine bool
}

// ownMunicipalities are today's codes of the municipalities a coordinator
// works for (a former code means today's), by code; nil for every other
// role.
func ownMunicipalities(pr auth.Principal) []string {
	if pr.Role != auth.RoleCoordinator {
		return nil
	}
	var out []string
	for _, m := range pr.Municipalities {
		out = append(out, string(m.Current()))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// start is the front page: a coordinator's own partnerships, the
// municipalities for everyone else.
func (p *Pages) start(c *gin.Context) {
	if len(ownMunicipalities(principal(c))) > 0 {
		p.mine(c)
		return
	}
	p.index(c)
}

// listHandler serves a list (its page or a download) for a scope and the
// list's form, parsed.
type listHandler func(c *gin.Context, s listScope, f listForm, filter summaries.ListFilter)

// mine serves the list of the signed-in coordinator's own municipalities;
// a reader without any is told where to look instead.
func (p *Pages) mine(c *gin.Context) {
	if len(ownMunicipalities(principal(c))) == 0 {
		l := loc(c)
		p.render(c, http.StatusOK, "list", &listPage{layoutData: layoutData{Title: l.T("list.mine.title"), Section: sectionMine}, Heading: l.T("list.mine.title"), NoneOwn: true})
		return
	}
	p.withMine(p.showList)(c)
}

// withMine resolves the scope of /mine and its downloads: 404 for a
// reader without municipalities of their own.
func (p *Pages) withMine(h listHandler) gin.HandlerFunc {
	return func(c *gin.Context) {
		codes := ownMunicipalities(principal(c))
		if len(codes) == 0 {
			p.fail(c, notFound(loc(c).T("list.mine.none")))
			return
		}
		p.withForm(c, listScope{codes: codes, path: "/mine", mine: true}, h)
	}
}

// withMunicipality resolves the scope of /m/{code}/list and its downloads:
// a former code redirects (301) to today's, with the query; an unknown one
// is a 404 page.
func (p *Pages) withMunicipality(h listHandler) gin.HandlerFunc {
	return func(c *gin.Context) {
		raw := c.Param("code")
		code, err := kommune.Parse(raw)
		if err != nil {
			p.fail(c, notFound(loc(c).T("pages.municipality.unknown", "Code", raw)))
			return
		}
		path := "/m/" + url.PathEscape(string(code.Current())) + "/list"
		if cur := code.Current(); cur != code {
			c.Redirect(http.StatusMovedPermanently, path+strings.TrimPrefix(c.Request.URL.Path, "/m/"+raw+"/list")+queryString(c.Request.URL.RawQuery))
			return
		}
		p.withForm(c, listScope{codes: []string{string(code)}, path: path}, h)
	}
}

// withForm reads the list's form and hands it to h; an invalid one is a
// 400 page that names each problem.
func (p *Pages) withForm(c *gin.Context, s listScope, h listHandler) {
	l := loc(c)
	f := readListForm(c)
	filter, problems := f.filter(l, s.codes)
	if len(problems) > 0 {
		p.errorPageBack(c, http.StatusBadRequest, l.T("list.bad_filter", "Problems", strings.Join(problems, "; ")), s.path)
		return
	}
	h(c, s, f, filter)
}

// listForm is the list's form as typed: the query parameters q, status,
// service_area, collaboration_model, started_from, started_to and sort.
type listForm struct {
	Q, Status, ServiceArea, CollaborationModel, StartedFrom, StartedTo, Sort string
}

func readListForm(c *gin.Context) listForm {
	return listForm{
		Q: strings.TrimSpace(c.Query("q")), Status: c.Query("status"), ServiceArea: c.Query("service_area"),
		CollaborationModel: c.Query("collaboration_model"), StartedFrom: c.Query("started_from"), StartedTo: c.Query("started_to"),
		Sort: c.Query("sort"),
	}
}

// filter checks the form and makes the read model's filter for the
// municipalities codes; problems are sentences in l's language. Dates and
// vocabularies are read as the timeline's filter reads them, with its
// words.
func (f listForm) filter(l *locale.Localizer, codes []string) (summaries.ListFilter, []string) {
	tf, _, problems := timelineFilterForm{From: f.StartedFrom, To: f.StartedTo, ServiceArea: f.ServiceArea, CollaborationModel: f.CollaborationModel, Status: f.Status}.parse(l)
	if f.Sort != "" && !slices.Contains(summaries.Sorts, f.Sort) {
		problems = append(problems, l.T("pages.filter.choice", "Field", l.T("list.filter.sort"), "Value", f.Sort))
	}
	return summaries.ListFilter{
		Municipalities: codes, Status: tf.Status, ServiceArea: tf.ServiceArea, CollaborationModel: tf.CollaborationModel,
		StartedFrom: tf.From, StartedTo: tf.To, Query: f.Q, Sort: f.Sort,
	}, problems
}

// values is the form as a query, only what is set: the page's links (its
// other pages, its downloads) carry it.
func (f listForm) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{
		{"q", f.Q}, {"status", f.Status}, {"service_area", f.ServiceArea}, {"collaboration_model", f.CollaborationModel},
		{"started_from", f.StartedFrom}, {"started_to", f.StartedTo}, {"sort", f.Sort},
	} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// link is path with the form's query and, when given, a cursor.
func (f listForm) link(path, cursor string) string {
	v := f.values()
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// listPage is a list of partnerships: the form, a page of rows, the links
// to the pages beside it and to the downloads.
type listPage struct {
	layoutData
	Heading, Lead string
	// Timeline links a municipality's list to its timeline, NewHere to
	// the form that starts a partnership there.
	Timeline, NewHere string
	Action            string
	Form              listForm
	Options           listOptions
	Rows              []listRow
	// Municipalities shows each row's municipality (a list of several).
	Municipalities bool
	Count          string
	Caption        string
	Empty          string
	Prev, Next     string
	CSV, XLSX      string
	// TooMany says why there is no Excel download.
	TooMany string
	// NoneOwn: the reader has no municipalities of their own.
	NoneOwn bool
}

type listOptions struct {
	Statuses, ServiceAreas, CollaborationModels, Sorts []option
}

// listRow is one partnership of a page, as the reader reads it.
type listRow struct {
	ID, Title, Municipality         string
	Partners                        []string
	Status, StatusLabel             string
	ServiceArea, CollaborationModel string
	Started, LastEntry, Funding     string
	// The days as YYYY-MM-DD, for <time datetime>.
	StartedISO, LastEntryISO string
}

// listEntry is what a list says of a partnership, in the reader's
// language: a page's row (pageRow) and a download's (downloadColumns).
type listEntry struct {
	ID, Title string
	// Code is today's municipality.
	Code                 string
	Partners, OrgNumbers []string
	Status               string
	// Labels in the reader's language.
	StatusLabel, ServiceArea, CollaborationModel string
	Started, LastEntry                           time.Time
	Ended                                        *time.Time
	FundingNOK                                   int64
}

func newListEntry(l *locale.Localizer, s partnership.State) listEntry {
	e := listEntry{
		ID: s.ID, Title: s.Title, Code: s.CurrentMunicipality, Status: s.Status,
		StatusLabel: describe.Label(l, s.Status), ServiceArea: describe.Label(l, s.ServiceArea), CollaborationModel: describe.Label(l, s.CollaborationModel),
		Started: s.StartedAt, LastEntry: s.LastOccurredAt, Ended: s.EndedAt, FundingNOK: s.FundingTotalNOK,
	}
	for _, p := range s.Partners {
		e.Partners = append(e.Partners, p.Name)
		if p.OrgNo != "" {
			e.OrgNumbers = append(e.OrgNumbers, p.OrgNo)
		}
	}
	return e
}

// pageRow is e as a row of the page: dates and kroner written the
// reader's way.
func pageRow(l *locale.Localizer, e listEntry) listRow {
	return listRow{
		ID: e.ID, Title: e.Title, Municipality: describe.Municipality(e.Code), Partners: e.Partners,
		Status: e.Status, StatusLabel: e.StatusLabel, ServiceArea: e.ServiceArea, CollaborationModel: e.CollaborationModel,
		Started: l.ShortDate(e.Started), LastEntry: l.ShortDate(e.LastEntry), Funding: l.Kroner(e.FundingNOK),
		StartedISO: calendar.Day(e.Started), LastEntryISO: calendar.Day(e.LastEntry),
	}
}

// sortOptions are the list's orders, named in the reader's language.
func sortOptions(l *locale.Localizer, selected string) []option {
	if selected == "" {
		selected = summaries.DefaultSort
	}
	out := make([]option, len(summaries.Sorts))
	for i, s := range summaries.Sorts {
		out[i] = option{Value: s, Label: sortLabel(l, s), Selected: s == selected}
	}
	return out
}

// sortLabel names an order (one of summaries.Sorts).
func sortLabel(l *locale.Localizer, sort string) string {
	if name, desc := strings.CutPrefix(sort, "-"); desc {
		return l.T("list.sort.desc." + name)
	}
	return l.T("list.sort.asc." + sort)
}

// showList draws a page of the list.
func (p *Pages) showList(c *gin.Context, s listScope, f listForm, filter summaries.ListFilter) {
	ctx := c.Request.Context()
	l := loc(c)
	filter.Limit, filter.Cursor = listPageSize, c.Query("cursor")
	found, err := p.sums.Partnerships(ctx, filter)
	if errors.Is(err, projections.ErrBadCursor) {
		p.errorPageBack(c, http.StatusBadRequest, l.T("list.bad_cursor"), f.link(s.path, ""))
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	count, err := p.sums.Count(ctx, filter)
	if err != nil {
		p.fail(c, err)
		return
	}
	page := &listPage{
		Action: s.path, Form: f, Municipalities: len(s.codes) > 1,
		Count:   l.N("list.count", count, "Count", l.Number(int64(count))),
		Caption: l.T("list.caption", "Sort", sortLabel(l, cmp.Or(f.Sort, summaries.DefaultSort))),
		CSV:     f.link(s.path+".csv", ""),
		Options: listOptions{
			Statuses:            options(l, partnership.Statuses, f.Status),
			ServiceAreas:        options(l, partnership.ServiceAreas, f.ServiceArea),
			CollaborationModels: options(l, partnership.CollaborationModels, f.CollaborationModel),
			Sorts:               sortOptions(l, f.Sort),
		},
	}
	if count <= p.workbookRows {
		page.XLSX = f.link(s.path+".xlsx", "")
	} else {
		page.TooMany = l.T("list.download.too_many", "Max", l.Number(int64(p.workbookRows)))
	}
	if s.mine {
		names := make([]string, len(s.codes))
		for i, code := range s.codes {
			names[i] = describe.Municipality(code)
		}
		page.Heading = l.T("list.mine.title")
		page.Lead = l.T("list.mine.lead", "Municipalities", strings.Join(names, ", "))
		page.layoutData = layoutData{Title: page.Heading, Section: sectionMine, Wide: true}
	} else {
		code := kommune.Code(s.codes[0])
		page.Heading = l.T("list.municipality.title", "Name", code.Name(), "Code", string(code))
		page.Timeline = "/m/" + string(code)
		page.NewHere = "/p/new?municipality=" + string(code)
		page.layoutData = layoutData{Title: page.Heading, Section: sectionMunicipalities, Wide: true, Crumbs: append(crumbsHome(l), crumb{page.Timeline, code.Name()})}
	}
	for _, st := range found.Items {
		page.Rows = append(page.Rows, pageRow(l, newListEntry(l, st)))
	}
	if found.PrevCursor != nil {
		page.Prev = f.link(s.path, *found.PrevCursor)
	}
	if found.NextCursor != nil {
		page.Next = f.link(s.path, *found.NextCursor)
	}
	page.Empty = l.T("list.empty")
	if f == (listForm{Sort: f.Sort}) {
		page.Empty = l.T("list.empty_all")
	}
	p.render(c, http.StatusOK, "list", page)
}
