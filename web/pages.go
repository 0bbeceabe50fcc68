package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/timeline"
)

// ---- front page ----

type indexPage struct {
	layoutData
	Query          string
	Municipalities []municipalityRow
	Total          int
}

type municipalityRow struct {
	Code, Name    string
	Active, Ended int
	Paused        int
	Spark         template.HTML
}

// index lists the municipalities that have partnerships, searchable by
// name or code.
func (p *Pages) index(c *gin.Context) {
	ctx := c.Request.Context()
	q := strings.TrimSpace(c.Query("q"))
	all, err := p.sums.Municipalities(ctx)
	if err != nil {
		p.fail(c, err)
		return
	}
	l := loc(c)
	page := &indexPage{layoutData: layoutData{Title: l.T("pages.index.title"), Section: sectionMunicipalities}, Query: q}
	needle := strings.ToLower(q)
	for _, m := range all {
		if m.Partnerships == 0 {
			continue
		}
		page.Total++
		if needle != "" && !strings.Contains(strings.ToLower(m.Name), needle) && !strings.HasPrefix(m.Code, needle) {
			continue
		}
		// The lanes alone (Limit 0 returns no entries) give the counts by
		// status and the years each partnership was active.
		tl, err := p.lines.Timeline(ctx, m.Code, timeline.Filter{})
		if err != nil {
			p.fail(c, err)
			return
		}
		row := municipalityRow{Code: m.Code, Name: m.Name, Spark: sparkline(l, tl.Partnerships, p.now())}
		for _, l := range tl.Partnerships {
			switch l.Status {
			case partnership.StatusEnded:
				row.Ended++
			case partnership.StatusPaused:
				row.Paused++
			default:
				row.Active++
			}
		}
		page.Municipalities = append(page.Municipalities, row)
	}
	p.render(c, http.StatusOK, "index", page)
}

// ---- municipality timeline ----

// lanesPerPage is how many lanes a municipality's timeline draws at a
// time: 50 lanes and their few hundred markers are a page of ~100 KB that
// a phone draws at once; a municipality of 2,000 partnerships is 40 such
// pages, with the same axis.
const lanesPerPage = 50

type municipalityPage struct {
	layoutData
	Code, Name string
	Filter     timelineFilterForm
	Timeline   template.HTML
	Drawing    drawing
	Pager      pager
	Legend     []legendItem
	Reforms    []reform
	// OldCodes counts the lanes shown that were recorded under a former
	// code.
	OldCodes int
	Options  filterOptions
	// SVG and PNG download the drawing as shown.
	SVG, PNG string
}

// pager moves through a timeline's pages of lanes, keeping the filters.
type pager struct {
	// Showing says which lanes of how many are shown.
	Showing string
	// Page and Pages say where this page is, when there are several.
	Page, Pages int
	Where       string
	// Prev and Next are the neighbours' addresses ("" at either end),
	// PrevText and NextText their links' words; Label names the pager.
	Prev, Next, PrevText, NextText, Label string
}

type legendItem struct{ ID, Label string }

// timelineFilterForm is the timeline's query as given: the filters, the
// grouping and the page of lanes.
type timelineFilterForm struct {
	From, To, ServiceArea, CollaborationModel, Status, Group, Page string
}

type filterOptions struct {
	ServiceAreas, CollaborationModels, Statuses, Groups []option
}

type option struct {
	Value, Label string
	Selected     bool
}

// options are a vocabulary's values with their labels in the reader's
// language, the selected one marked.
func options(l *locale.Localizer, values []string, selected string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: describe.Label(l, v), Selected: v == selected}
	}
	return out
}

// legend lists the markers' shapes with their event types' labels.
func legend(l *locale.Localizer) []legendItem {
	out := make([]legendItem, len(markerKinds))
	for i, k := range markerKinds {
		out[i] = legendItem{ID: k.ID, Label: describe.Label(l, k.Type)}
	}
	return out
}

// timelineQuery is a municipality's timeline as a request asks for it.
type timelineQuery struct {
	code   kommune.Code
	form   timelineFilterForm
	filter timeline.Filter
	page   int // from 1
}

// parseTimelineQuery reads the municipality and the timeline's query of a
// request. A former code redirects (301) to today's with the same query,
// keeping the rest of the path; an unknown code is a 404 page, a bad
// filter a 400 page. False when the answer has been written.
func (p *Pages) parseTimelineQuery(c *gin.Context, rest string) (timelineQuery, bool) {
	l := loc(c)
	raw := c.Param("code")
	code, err := kommune.Parse(raw)
	if err != nil {
		p.fail(c, notFound(l.T("pages.municipality.unknown", "Code", raw)))
		return timelineQuery{}, false
	}
	if cur := code.Current(); cur != code {
		c.Redirect(http.StatusMovedPermanently, "/m/"+url.PathEscape(string(cur))+rest+queryString(c.Request.URL.RawQuery))
		return timelineQuery{}, false
	}
	q := timelineQuery{code: code, form: timelineFilterForm{
		From: c.Query("from"), To: c.Query("to"),
		ServiceArea: c.Query("service_area"), CollaborationModel: c.Query("collaboration_model"),
		Status: c.Query("status"), Group: c.Query("group"), Page: c.Query("page"),
	}}
	var problems []string
	q.filter, q.page, problems = q.form.parse(l)
	if len(problems) > 0 {
		p.errorPageBack(c, http.StatusBadRequest, l.T("pages.municipality.bad_filter", "Problems", strings.Join(problems, "; ")), "/m/"+string(code))
		return timelineQuery{}, false
	}
	return q, true
}

// municipality draws the timeline of one municipality (today's code; a
// former code redirects to its successor), a page of lanes at a time.
func (p *Pages) municipality(c *gin.Context) {
	q, ok := p.parseTimelineQuery(c, "")
	if !ok {
		return
	}
	page, err := p.timelinePage(c.Request.Context(), loc(c), q)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.render(c, http.StatusOK, "municipality", page)
}

// timelineSVG answers a municipality's timeline, as its page draws it
// (the same filters and page of lanes), as a standalone SVG file with its
// styles and fonts inside.
func (p *Pages) timelineSVG(c *gin.Context) {
	d, name, ok := p.timelineFile(c, "/timeline.svg")
	if !ok {
		return
	}
	p.sendFile(c, name+".svg", "image/svg+xml", appendSVG(nil, d, svgOptions{Style: svgFontStyle(), Standalone: true}))
}

// timelinePNG answers a municipality's timeline, as its page draws it, as
// a PNG painted on the server (a pixel per CSS pixel of the drawing).
func (p *Pages) timelinePNG(c *gin.Context) {
	d, name, ok := p.timelineFile(c, "/timeline.png")
	if !ok {
		return
	}
	body, err := paintPNG(d)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.sendFile(c, name+".png", "image/png", body)
}

// timelineFile lays out the timeline a download asks for and names its
// file; false when the answer has been written (a redirect, an error
// page).
func (p *Pages) timelineFile(c *gin.Context, suffix string) (drawing, string, bool) {
	q, ok := p.parseTimelineQuery(c, suffix)
	if !ok {
		return drawing{}, "", false
	}
	v, _, page, err := p.loadTimelineView(c.Request.Context(), loc(c), q)
	if err != nil {
		p.fail(c, err)
		return drawing{}, "", false
	}
	return layoutTimeline(v), "samspill-" + string(q.code) + "-" + strconv.Itoa(page), true
}

// sendFile answers a download: an attachment that is never cached, whose
// content security policy lets an SVG use the styles and fonts inside it
// and nothing else.
func (p *Pages) sendFile(c *gin.Context, name, ctype string, body []byte) {
	h := c.Writer.Header()
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; font-src data:; frame-ancestors 'none'")
	c.Data(http.StatusOK, ctype, body)
}

func queryString(raw string) string {
	if raw == "" {
		return ""
	}
	return "?" + raw
}

// parse checks the filter form; problems are plain sentences in l's
// language. The page is 1 when not given.
func (f timelineFilterForm) parse(l *locale.Localizer) (timeline.Filter, int, []string) {
	var out timeline.Filter
	var problems []string
	if f.From != "" {
		t, err := time.ParseInLocation(time.DateOnly, f.From, calendar.Oslo)
		if err != nil {
			problems = append(problems, l.T("pages.filter.from", "Value", f.From))
		}
		out.From = new(t.UTC())
	}
	if f.To != "" {
		t, err := calendar.ParseCutoff(f.To)
		if err != nil || len(f.To) != len(time.DateOnly) {
			problems = append(problems, l.T("pages.filter.to", "Value", f.To))
		}
		out.To = &t
	}
	if out.From != nil && out.To != nil && out.To.Before(*out.From) {
		problems = append(problems, l.T("pages.filter.order"))
	}
	check := func(name, v string, list []string) {
		if v != "" && !slices.Contains(list, v) {
			problems = append(problems, l.T("pages.filter.choice", "Field", l.T(name), "Value", v))
		}
	}
	check("pages.filter.service_area", f.ServiceArea, partnership.ServiceAreas)
	check("pages.filter.collaboration_model", f.CollaborationModel, partnership.CollaborationModels)
	check("pages.filter.status", f.Status, partnership.Statuses)
	check("pages.filter.group", f.Group, []string{"service_area", "collaboration_model"})
	out.ServiceArea, out.CollaborationModel, out.Status = f.ServiceArea, f.CollaborationModel, f.Status
	page := 1
	if f.Page != "" {
		n, err := strconv.Atoi(f.Page)
		if err != nil || n < 1 || n > 1_000_000 {
			problems = append(problems, l.T("timeline.pager.bad", "Value", f.Page))
		}
		page = n
	}
	return out, page, problems
}

// values are the form's query parameters, page left out.
func (f timelineFilterForm) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{{"from", f.From}, {"to", f.To}, {"service_area", f.ServiceArea},
		{"collaboration_model", f.CollaborationModel}, {"status", f.Status}, {"group", f.Group}} {
		if kv[1] != "" {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// address is path with the form's query and page (1: none).
func (f timelineFilterForm) address(path string, page int) string {
	v := f.values()
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return path + queryString(v.Encode())
}

// loadTimelineView reads the page of lanes q asks for (the last page when
// it asks for one past the end) and lays it out for l: the axis spans from
// the 1st of January of the year the first of all the lanes under the
// filter began (not only this page's: every page shares the axis), or the
// filter's from, to the filter's to or the end of this year.
func (p *Pages) loadTimelineView(ctx context.Context, l *locale.Localizer, q timelineQuery) (timelineView, timeline.LanePage, int, error) {
	lq := timeline.LaneQuery{Filter: q.filter, GroupBy: q.form.Group, Offset: (q.page - 1) * lanesPerPage, Limit: lanesPerPage}
	lp, err := p.lines.LanePage(ctx, string(q.code), lq)
	if err != nil {
		return timelineView{}, lp, 0, fmt.Errorf("timeline of %s: %w", q.code, err)
	}
	pages := max(1, (lp.Total+lanesPerPage-1)/lanesPerPage)
	page := q.page
	if page > pages {
		page = pages
		lq.Offset = (page - 1) * lanesPerPage
		if lp, err = p.lines.LanePage(ctx, string(q.code), lq); err != nil {
			return timelineView{}, lp, 0, fmt.Errorf("timeline of %s: %w", q.code, err)
		}
	}
	today := p.now()
	v := timelineView{L: l, Code: string(q.code), Lanes: lp.Partnerships, Entries: lp.Entries, Today: today,
		Group: q.form.Group, Groups: lp.Groups, Total: lp.Total, Reforms: reformsInto(l, q.code)}
	if q.filter.From != nil {
		v.From = *q.filter.From
	} else {
		v.From = today
		if !lp.Earliest.IsZero() {
			v.From = earlier(v.From, lp.Earliest)
		}
		// Start on the 1st of January so the first year has its tick.
		v.From = time.Date(v.From.In(calendar.Oslo).Year(), 1, 1, 0, 0, 0, 0, calendar.Oslo)
	}
	if q.filter.To != nil {
		v.To = *q.filter.To
	} else {
		v.To = time.Date(today.In(calendar.Oslo).Year()+1, 1, 1, 0, 0, 0, 0, calendar.Oslo)
	}
	return v, lp, page, nil
}

// timelinePage gathers and draws a municipality's timeline page.
func (p *Pages) timelinePage(ctx context.Context, l *locale.Localizer, q timelineQuery) (*municipalityPage, error) {
	v, lp, page, err := p.loadTimelineView(ctx, l, q)
	if err != nil {
		return nil, err
	}
	d := layoutTimeline(v)
	path := "/m/" + string(q.code)
	out := &municipalityPage{
		layoutData: layoutData{Title: l.T("pages.municipality.title", "Name", q.code.Name(), "Code", string(q.code)), Wide: true, Crumbs: crumbsHome(l)},
		Code:       string(q.code), Name: q.code.Name(),
		Filter:   q.form,
		Drawing:  d,
		Timeline: pageTimeline(d, pageWords{Region: l.T("pages.municipality.timeline_region"), Show: l.N("timeline.events.show", d.Markers), List: l.T("timeline.events.title")}),
		Legend:   legend(l),
		Reforms:  v.Reforms,
		Options: filterOptions{
			ServiceAreas:        options(l, partnership.ServiceAreas, q.form.ServiceArea),
			CollaborationModels: options(l, partnership.CollaborationModels, q.form.CollaborationModel),
			Statuses:            options(l, partnership.Statuses, q.form.Status),
			Groups:              options(l, []string{"service_area", "collaboration_model"}, q.form.Group),
		},
		SVG: q.form.address(path+"/timeline.svg", page),
		PNG: q.form.address(path+"/timeline.png", page),
	}
	for _, r := range d.Rows {
		if r.OldCode != "" {
			out.OldCodes++
		}
	}
	out.Options.Groups[0].Label, out.Options.Groups[1].Label = l.T("pages.filter.service_area"), l.T("pages.filter.collaboration_model")
	pages := max(1, (lp.Total+lanesPerPage-1)/lanesPerPage)
	first := (page-1)*lanesPerPage + 1
	out.Pager = pager{Page: page, Pages: pages}
	if lp.Total > 0 {
		out.Pager.Showing = l.N("timeline.pager.showing", lp.Total, "First", l.Number(int64(first)), "Last", l.Number(int64(first+len(lp.Partnerships)-1)),
			"Total", l.Number(int64(lp.Total)), "Markers", l.Number(int64(d.Markers)))
	}
	if pages > 1 {
		out.Pager.Where = l.T("timeline.pager.where", "Page", l.Number(int64(page)), "Pages", l.Number(int64(pages)))
		out.Pager.Label, out.Pager.PrevText, out.Pager.NextText = l.T("timeline.pager.label"), l.T("timeline.pager.previous"), l.T("timeline.pager.next")
		if page > 1 {
			out.Pager.Prev = q.form.address(path, page-1)
		}
		if page < pages {
			out.Pager.Next = q.form.address(path, page+1)
		}
	}
	return out, nil
}

// ---- one partnership ----

type partnershipPage struct {
	layoutData
	State   partnership.State
	Version uint64
	// AsOf and KnownAt are the view's controls as given; Showing says in
	// words which view is shown.
	AsOf, KnownAt string
	Showing       string
	Viewing       bool
	Current       bool
	Municipality  string
	Started       string
	Ended         string
	Funding       string
	Partners      []partnerRow
	Roles         []string
	Agreements    []string
	History       []historyRow
	Timeline      template.HTML
	Legend        []legendItem
	Forms         []formView
	// Correct is the form that opens an entry's correction.
	Correct *formView
	// MayWrite is whether the signed-in token may change this
	// partnership; ReadOnly says why not.
	MayWrite bool
	ReadOnly string
	Saved    string
	Conflict string
}

type partnerRow struct {
	Name, Kind, OrgNo string
	// Contacts counts contact persons assigned; their names are personal
	// data, shown in the history only to those who may see them.
	Contacts int
}

type historyRow struct {
	EventID    string
	Version    uint64
	Type       string
	Label      string
	OccurredAt string
	RecordedAt string
	// RecordedBy is who recorded the entry, as the reader may know it
	// (history.Shower.Author): a name, a token's name or a pseudonym, and
	// the role.
	RecordedBy string
	Summary    string
	// Correction says how a later correction changed this entry, and
	// Replacement is the entry as corrected ("" when retracted).
	Correction  string
	Replacement string
	Corrected   bool
	// CorrectLink opens the entry's correction form ("" when it cannot
	// be corrected here).
	CorrectLink string
}

// partnership shows one partnership, live from its stream, optionally as
// of a date and as known at a time.
func (p *Pages) partnership(c *gin.Context) {
	p.showPartnership(c, http.StatusOK, nil, "")
}

// showPartnership renders the partnership page; posted is the form the
// user sent (kept with its errors) and conflict a notice, when a post
// failed.
func (p *Pages) showPartnership(c *gin.Context, status int, post *posted, conflict string) {
	ctx := c.Request.Context()
	l := loc(c)
	id := c.Param("id")
	asOf, knownAt := c.Query("as_of"), c.Query("known_at")
	view := partnership.View{}
	var problems []string
	if asOf != "" {
		t, err := calendar.ParseCutoff(asOf)
		if err != nil {
			problems = append(problems, l.T("pages.partnership.bad_as_of", "Value", asOf))
		}
		view.AsOf = &t
	}
	if knownAt != "" {
		t, err := calendar.ParseCutoff(knownAt)
		if err != nil {
			problems = append(problems, l.T("pages.partnership.bad_known_at", "Value", knownAt))
		}
		view.KnownAt = &t
	}
	if len(problems) > 0 {
		p.errorPageBack(c, http.StatusBadRequest, strings.Join(problems, " "), "/p/"+url.PathEscape(id))
		return
	}
	state, events, version, err := p.hist.Read(ctx, id, view)
	if errors.Is(err, partnership.ErrNotFound) {
		msg := l.T("pages.partnership.unknown")
		if asOf != "" || knownAt != "" {
			msg = l.T("pages.partnership.not_then")
		}
		p.fail(c, notFound(msg))
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	entries, err := p.show(ctx, principal(c), state, events)
	if err != nil {
		p.fail(c, err)
		return
	}
	page := &partnershipPage{
		layoutData: layoutData{Title: state.Title, Crumbs: append(crumbsHome(l), crumb{"/m/" + state.CurrentMunicipality, kommune.Code(state.CurrentMunicipality).Name()}), Here: "/p/" + url.PathEscape(id)},
		State:      state, Version: version,
		AsOf: asOf, KnownAt: knownAt, Viewing: asOf != "" || knownAt != "",
		Municipality: municipalityLabel(l, state),
		Started:      l.Date(state.StartedAt),
		Funding:      l.Kroner(state.FundingTotalNOK),
		Legend:       legend(l),
		Saved:        savedMessage(l, c.Query("saved")),
		Conflict:     conflict,
	}
	if c.Request.Method == http.MethodGet {
		page.Here = localPath(c.Request.URL.RequestURI())
	}
	page.Current = !page.Viewing
	page.Showing = showing(l, asOf, knownAt, view)
	if state.EndedAt != nil {
		page.Ended = l.Date(*state.EndedAt)
		if state.EndReason != nil {
			page.Ended = l.T("pages.partnership.ended_because", "Date", page.Ended, "Reason", describe.Label(l, *state.EndReason))
		}
	}
	page.MayWrite = principal(c).MayWrite(state.CurrentMunicipality)
	names := partnership.PartnerNames(entries)
	contacts := map[string]int{}
	byID := map[string]int{}
	for i, h := range events {
		byID[h.EventID] = i
	}
	authors := p.hist.ShowTo(principal(c))
	authors.Known(history.StreamID(state.ID), state.CurrentMunicipality)
	for i, h := range events {
		row := historyRow{EventID: h.EventID, Version: h.Version, Type: h.Type, Label: describe.Label(l, h.Type), OccurredAt: when(l, h.OccurredAt), RecordedAt: l.DateTime(h.RecordedAt)}
		author, err := authors.Author(ctx, p.users, h.RecordedEvent)
		if err != nil {
			p.fail(c, err)
			return
		}
		row.RecordedBy = l.T("admin.history.by", "Who", authorName(l, author), "Role", authorRole(l, author.Role))
		row.Summary = describe.Event(l, entries[i].Event, names)
		if ev, ok := entries[i].Event.(partnership.ContactPersonAssigned); ok && h.CorrectedBy == nil {
			contacts[ev.PartnerID]++
		}
		if h.CorrectedBy != nil {
			row.Corrected = true
			row.Correction = l.T("pages.history.replaced", "Date", l.DateTime(h.CorrectedBy.RecordedAt))
			if h.CorrectedBy.Retracted {
				row.Correction = l.T("pages.history.retracted", "Date", l.DateTime(h.CorrectedBy.RecordedAt))
			} else if k, ok := byID[h.CorrectedBy.EventID]; ok {
				row.Replacement = replacementLine(l, entries[i], entries[k], names)
			}
		}
		if page.Current && page.MayWrite && correctable(entries[i]) {
			row.CorrectLink = "/p/" + url.PathEscape(id) + "/correct?entry=" + url.QueryEscape(h.EventID)
		}
		page.History = append(page.History, row)
	}
	for _, pt := range state.Partners {
		page.Partners = append(page.Partners, partnerRow{Name: pt.Name, Kind: describe.Label(l, pt.Kind), OrgNo: pt.OrgNo, Contacts: contacts[pt.PartnerID]})
	}
	for _, r := range state.Roles {
		s := names[r.PartnerID] + ": " + describe.Label(l, r.Role)
		if len(r.Responsibilities) > 0 {
			s += " (" + strings.Join(r.Responsibilities, "; ") + ")"
		}
		page.Roles = append(page.Roles, s)
	}
	for _, a := range state.Agreements {
		page.Agreements = append(page.Agreements, describe.Event(l, partnership.AgreementSigned(a), names))
	}
	page.Timeline = p.ownTimeline(l, state, entries, view, names)
	if page.Current && page.MayWrite {
		page.Forms = p.partnershipForms(c, state, version, names, post)
		page.Correct = p.chooseEntryForm(c, state, names, events)
	}
	if !page.MayWrite {
		page.ReadOnly = forbiddenMessage(l, principal(c))
	}
	p.render(c, status, "partnership", page)
}

// when writes when an entry occurred: its day, and its time of day when it
// has one (an entry dated with a day only stands for that day).
func when(l *locale.Localizer, t time.Time) string {
	if calendar.DateOnly(t) {
		return l.Date(t)
	}
	return l.DateTime(t)
}

// showing says which view of the partnership a page shows.
func showing(l *locale.Localizer, asOf, knownAt string, v partnership.View) string {
	at := func(s string, t *time.Time) string {
		if len(s) == len(time.DateOnly) {
			return l.Date(*t)
		}
		return l.DateTime(*t)
	}
	switch {
	case asOf != "" && knownAt != "":
		return l.T("pages.partnership.showing_both", "AsOf", at(asOf, v.AsOf), "KnownAt", at(knownAt, v.KnownAt))
	case asOf != "":
		return l.T("pages.partnership.showing_as_of", "AsOf", at(asOf, v.AsOf))
	case knownAt != "":
		return l.T("pages.partnership.showing_known_at", "KnownAt", at(knownAt, v.KnownAt))
	}
	return ""
}

// replacementLine is what a replaced entry says since its correction:
// the corrected entry's line, "" if the correction cannot be read.
func replacementLine(l *locale.Localizer, original, correction partnership.Entry, names map[string]string) string {
	ev, ok := replacementOf(original.Event.EventType(), correction.Event)
	if !ok {
		return ""
	}
	return describe.Event(l, ev, names)
}

// replacementOf is the data a correction gives the entry of eventType it
// replaces; false for a retraction, or a replacement that cannot be read.
func replacementOf(eventType string, correction partnership.Event) (partnership.Event, bool) {
	c, ok := correction.(partnership.EntryCorrected)
	if !ok || len(c.Replacement) == 0 {
		return nil, false
	}
	ev, err := partnership.Decode(eventType, partnership.SchemaVersion, c.Replacement)
	return ev, err == nil
}

func municipalityLabel(l *locale.Localizer, s partnership.State) string {
	if s.Municipality == s.CurrentMunicipality {
		return describe.Municipality(s.CurrentMunicipality)
	}
	return l.T("pages.partnership.former_code", "Today", describe.Municipality(s.CurrentMunicipality), "Then", describe.Municipality(s.Municipality))
}

// ownTimeline draws the partnership as one lane, from its effective
// events under the view.
func (p *Pages) ownTimeline(l *locale.Localizer, s partnership.State, entries []partnership.Entry, view partnership.View, names map[string]string) template.HTML {
	effective, err := partnership.Effective(entries, view)
	if err != nil {
		return ""
	}
	today := p.now()
	if view.AsOf != nil && view.AsOf.Before(today) {
		today = *view.AsOf
	}
	lane := timeline.Partnership{ID: s.ID, Title: s.Title, ServiceArea: s.ServiceArea, CollaborationModel: s.CollaborationModel, Status: s.Status, StartedAt: s.StartedAt, EndedAt: s.EndedAt, Municipality: s.Municipality}
	var tes []timeline.Entry
	for _, e := range effective {
		tes = append(tes, timeline.Entry{PartnershipID: s.ID, EventID: e.EventID, Type: e.Event.EventType(), OccurredAt: e.OccurredAt, Event: e.Event, Names: names})
	}
	from := time.Date(s.StartedAt.In(calendar.Oslo).Year(), 1, 1, 0, 0, 0, 0, calendar.Oslo)
	to := time.Date(today.In(calendar.Oslo).Year()+1, 1, 1, 0, 0, 0, 0, calendar.Oslo)
	d := layoutTimeline(timelineView{L: l, Code: s.CurrentMunicipality, Lanes: []timeline.Partnership{lane}, Entries: tes, From: from, To: to, Today: today, Reforms: reformsInto(l, kommune.Code(s.CurrentMunicipality)), Single: true})
	return template.HTML(appendSVG(nil, d, svgOptions{Class: "single"})) //nolint:gosec // escaped by appendSVG
}

// savedMessage confirms what a form saved (?saved=<event type>).
func savedMessage(l *locale.Localizer, eventType string) string {
	if !slices.Contains(partnership.EventTypes(), eventType) {
		return ""
	}
	return l.T("pages.saved", "What", describe.Label(l, eventType))
}

// show turns a partnership's history into what the reader may see of it,
// in place (contact persons' personal data and who recorded each entry
// only for those who may see them: history.Shower), and returns the
// entries as the domain sees what is shown.
func (p *Pages) show(ctx context.Context, reader auth.Principal, state partnership.State, events []history.HistoryEntry) ([]partnership.Entry, error) {
	shower := p.hist.ShowTo(reader)
	shower.Known(history.StreamID(state.ID), state.CurrentMunicipality)
	entries := make([]partnership.Entry, len(events))
	for i := range events {
		var err error
		if events[i], err = shower.ShowEntry(ctx, events[i]); err != nil {
			return nil, err
		}
		entries[i] = events[i].Entry
	}
	return entries, nil
}
