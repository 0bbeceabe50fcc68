package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
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
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// timelinePage is how many entries one projection query returns; a page
// loops over the cursors until it has every marker in range.
const timelinePage = 50000

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

type municipalityPage struct {
	layoutData
	Code, Name string
	Filter     timelineFilterForm
	Timeline   renderedTimeline
	Legend     []legendItem
	Reforms    []reform
	Errors     []string
	// OldCodes counts lanes recorded under a former code.
	OldCodes int
	Options  filterOptions
}

type legendItem struct{ ID, Label string }

type timelineFilterForm struct {
	From, To, ServiceArea, CollaborationModel, Status, Group string
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

// municipality draws the timeline of one municipality (today's code; a
// former code redirects to its successor).
func (p *Pages) municipality(c *gin.Context) {
	l := loc(c)
	raw := c.Param("code")
	code, err := kommune.Parse(raw)
	if err != nil {
		p.fail(c, notFound(l.T("pages.municipality.unknown", "Code", raw)))
		return
	}
	if cur := code.Current(); cur != code {
		c.Redirect(http.StatusMovedPermanently, "/m/"+url.PathEscape(string(cur))+queryString(c.Request.URL.RawQuery))
		return
	}
	f := timelineFilterForm{
		From: c.Query("from"), To: c.Query("to"),
		ServiceArea: c.Query("service_area"), CollaborationModel: c.Query("collaboration_model"),
		Status: c.Query("status"), Group: c.Query("group"),
	}
	filter, problems := f.parse(l)
	if len(problems) > 0 {
		p.errorPageBack(c, http.StatusBadRequest, l.T("pages.municipality.bad_filter", "Problems", strings.Join(problems, "; ")), "/m/"+string(code))
		return
	}
	page, err := p.timelinePage(c.Request.Context(), l, code, f, filter)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.render(c, http.StatusOK, "municipality", page)
}

func queryString(raw string) string {
	if raw == "" {
		return ""
	}
	return "?" + raw
}

// parse checks the filter form; problems are plain sentences in l's
// language.
func (f timelineFilterForm) parse(l *locale.Localizer) (timeline.Filter, []string) {
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
	return out, problems
}

// loadTimeline reads every lane and every entry in range, following the
// projection's cursors a page of timelinePage entries at a time.
func (p *Pages) loadTimeline(ctx context.Context, code kommune.Code, filter timeline.Filter) (timeline.Timeline, error) {
	filter.Limit = timelinePage
	tl, err := p.lines.Timeline(ctx, string(code), filter)
	if err != nil {
		return tl, fmt.Errorf("timeline of %s: %w", code, err)
	}
	for tl.NextCursor != nil {
		filter.Cursor = *tl.NextCursor
		more, err := p.lines.Timeline(ctx, string(code), filter)
		if err != nil {
			return tl, fmt.Errorf("timeline of %s: %w", code, err)
		}
		tl.Entries = append(tl.Entries, more.Entries...)
		tl.NextCursor = more.NextCursor
	}
	return tl, nil
}

// timelinePage gathers and draws a municipality's timeline.
func (p *Pages) timelinePage(ctx context.Context, l *locale.Localizer, code kommune.Code, f timelineFilterForm, filter timeline.Filter) (*municipalityPage, error) {
	tl, err := p.loadTimeline(ctx, code, filter)
	if err != nil {
		return nil, err
	}
	today := p.now()
	v := timelineView{L: l, Lanes: tl.Partnerships, Entries: tl.Entries, Today: today, Group: f.Group, Reforms: reformsInto(l, code)}
	// The read model's summaries are English (they are the API's): in
	// another language a marker is titled by its date and type, and the
	// partnership's page tells the rest.
	v.TypesOnly = l.Lang() != locale.English
	if filter.From != nil {
		v.From = *filter.From
	} else {
		v.From = today
		for _, l := range tl.Partnerships {
			v.From = earlier(v.From, l.StartedAt)
		}
		// Start on the 1st of January so the first year has its tick.
		v.From = time.Date(v.From.In(calendar.Oslo).Year(), 1, 1, 0, 0, 0, 0, calendar.Oslo)
	}
	if filter.To != nil {
		v.To = *filter.To
	} else {
		v.To = time.Date(today.In(calendar.Oslo).Year()+1, 1, 1, 0, 0, 0, 0, calendar.Oslo)
	}
	v.OldCodes, err = p.oldCodes(ctx, code, filter, tl.Partnerships)
	if err != nil {
		return nil, err
	}
	page := &municipalityPage{
		layoutData: layoutData{Title: l.T("pages.municipality.title", "Name", code.Name(), "Code", string(code)), Wide: true, Crumbs: crumbsHome(l)},
		Code:       string(code), Name: code.Name(),
		Filter:   f,
		Timeline: renderTimeline(v),
		Legend:   legend(l),
		Reforms:  v.Reforms,
		OldCodes: len(v.OldCodes),
		Options: filterOptions{
			ServiceAreas:        options(l, partnership.ServiceAreas, f.ServiceArea),
			CollaborationModels: options(l, partnership.CollaborationModels, f.CollaborationModel),
			Statuses:            options(l, partnership.Statuses, f.Status),
			Groups:              options(l, []string{"service_area", "collaboration_model"}, f.Group),
		},
	}
	page.Options.Groups[0].Label, page.Options.Groups[1].Label = l.T("pages.filter.service_area"), l.T("pages.filter.collaboration_model")
	return page, nil
}

// maxResolvedLanes bounds the lanes whose former code oldCodes looks up in
// the summaries; beyond it (a large municipality formed by a merger) the
// lookup would cost as much as the whole timeline.
const maxResolvedLanes = 300

// oldCodes finds the lanes recorded under a former code. The timeline's
// lanes do not carry the recorded code, so it is derived from SSB's change
// table: the codes that led to today's and were valid on the day the
// partnership began. When only one was (Arendal: 0906 before 2020), that
// is it, with no query. When several were (Steinkjer 1702 or Verran 1724
// before 2018), the partnership summaries say which, in one query, for up
// to maxResolvedLanes such lanes; beyond that those lanes go unmarked.
func (p *Pages) oldCodes(ctx context.Context, code kommune.Code, f timeline.Filter, lanes []timeline.Partnership) (map[string]string, error) {
	out := map[string]string{}
	chain := predecessors(code)
	if len(chain) == 1 {
		return out, nil
	}
	ambiguous := 0
	for _, l := range lanes {
		var valid []kommune.Code
		for _, c := range chain {
			if c.ValidOn(l.StartedAt) {
				valid = append(valid, c)
			}
		}
		switch {
		case len(valid) == 1 && valid[0] != code:
			out[l.ID] = string(valid[0])
		case len(valid) > 1:
			ambiguous++
		}
	}
	if ambiguous == 0 || ambiguous > maxResolvedLanes {
		return out, nil
	}
	page, err := p.sums.Partnerships(ctx, summaries.ListFilter{
		Municipalities: []string{string(code)}, Status: f.Status, ServiceArea: f.ServiceArea, CollaborationModel: f.CollaborationModel,
		Limit: len(lanes) + 1,
	})
	if err != nil {
		return nil, fmt.Errorf("summaries of %s: %w", code, err)
	}
	for _, s := range page.Items {
		if s.Municipality != string(code) {
			out[s.ID] = s.Municipality
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
	Timeline      renderedTimeline
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
	for i, h := range events {
		row := historyRow{EventID: h.EventID, Version: h.Version, Type: h.Type, Label: describe.Label(l, h.Type), OccurredAt: when(l, h.OccurredAt), RecordedAt: l.DateTime(h.RecordedAt)}
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
func (p *Pages) ownTimeline(l *locale.Localizer, s partnership.State, entries []partnership.Entry, view partnership.View, names map[string]string) renderedTimeline {
	effective, err := partnership.Effective(entries, view)
	if err != nil {
		return renderedTimeline{}
	}
	today := p.now()
	if view.AsOf != nil && view.AsOf.Before(today) {
		today = *view.AsOf
	}
	lane := timeline.Partnership{ID: s.ID, Title: s.Title, ServiceArea: s.ServiceArea, CollaborationModel: s.CollaborationModel, Status: s.Status, StartedAt: s.StartedAt, EndedAt: s.EndedAt}
	var tes []timeline.Entry
	for _, e := range effective {
		tes = append(tes, timeline.Entry{PartnershipID: s.ID, EventID: e.EventID, Type: e.Event.EventType(), OccurredAt: e.OccurredAt, Summary: describe.Event(l, e.Event, names)})
	}
	from := time.Date(s.StartedAt.In(calendar.Oslo).Year(), 1, 1, 0, 0, 0, 0, calendar.Oslo)
	to := time.Date(today.In(calendar.Oslo).Year()+1, 1, 1, 0, 0, 0, 0, calendar.Oslo)
	return renderTimeline(timelineView{L: l, Lanes: []timeline.Partnership{lane}, Entries: tes, From: from, To: to, Today: today, Reforms: reformsInto(l, kommune.Code(s.CurrentMunicipality)), Single: true})
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
