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

	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/history"
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
	page := indexPage{layoutData: layoutData{Title: "Partnerships by municipality"}, Query: q}
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
		row := municipalityRow{Code: m.Code, Name: m.Name, Spark: sparkline(tl.Partnerships, p.now())}
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

func options(values []string, selected string) []option {
	out := make([]option, len(values))
	for i, v := range values {
		out[i] = option{Value: v, Label: describe.Label(v), Selected: v == selected}
	}
	return out
}

var legend = func() []legendItem {
	out := make([]legendItem, len(markerKinds))
	for i, k := range markerKinds {
		out[i] = legendItem{ID: k.ID, Label: describe.Label(k.Type)}
	}
	return out
}()

// municipality draws the timeline of one municipality (today's code; a
// former code redirects to its successor).
func (p *Pages) municipality(c *gin.Context) {
	raw := c.Param("code")
	code, err := kommune.Parse(raw)
	if err != nil {
		p.fail(c, notFound("No municipality has the code %q", raw))
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
	filter, problems := f.parse()
	if len(problems) > 0 {
		p.render(c, http.StatusBadRequest, "error", errorPage{
			layoutData: layoutData{Title: "Bad filter"},
			Status:     http.StatusBadRequest,
			Message:    "The timeline filter is not valid: " + strings.Join(problems, "; ") + ".",
			Back:       "/m/" + string(code),
		})
		return
	}
	page, err := p.timelinePage(c.Request.Context(), code, f, filter)
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

// parse checks the filter form; problems are plain sentences.
func (f timelineFilterForm) parse() (timeline.Filter, []string) {
	var out timeline.Filter
	var problems []string
	if f.From != "" {
		t, err := time.ParseInLocation(time.DateOnly, f.From, calendar.Oslo)
		if err != nil {
			problems = append(problems, fmt.Sprintf("from date %q is not a date YYYY-MM-DD", f.From))
		}
		out.From = new(t.UTC())
	}
	if f.To != "" {
		t, err := calendar.ParseCutoff(f.To)
		if err != nil || len(f.To) != len(time.DateOnly) {
			problems = append(problems, fmt.Sprintf("to date %q is not a date YYYY-MM-DD", f.To))
		}
		out.To = &t
	}
	if out.From != nil && out.To != nil && out.To.Before(*out.From) {
		problems = append(problems, "the to date is before the from date")
	}
	check := func(name, v string, list []string) {
		if v != "" && !slices.Contains(list, v) {
			problems = append(problems, fmt.Sprintf("%s %q is not one of %s", name, v, strings.Join(list, ", ")))
		}
	}
	check("service area", f.ServiceArea, partnership.ServiceAreas)
	check("collaboration model", f.CollaborationModel, partnership.CollaborationModels)
	check("status", f.Status, partnership.Statuses)
	check("grouping", f.Group, []string{"service_area", "collaboration_model"})
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
func (p *Pages) timelinePage(ctx context.Context, code kommune.Code, f timelineFilterForm, filter timeline.Filter) (municipalityPage, error) {
	tl, err := p.loadTimeline(ctx, code, filter)
	if err != nil {
		return municipalityPage{}, err
	}
	today := p.now()
	v := timelineView{Lanes: tl.Partnerships, Entries: tl.Entries, Today: today, Group: f.Group, Reforms: reformsInto(code)}
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
		return municipalityPage{}, err
	}
	page := municipalityPage{
		layoutData: layoutData{Title: fmt.Sprintf("%s (%s): timeline", code.Name(), code), Wide: true, Crumbs: []crumb{{"/", "Municipalities"}}},
		Code:       string(code), Name: code.Name(),
		Filter:   f,
		Timeline: renderTimeline(v),
		Legend:   legend,
		Reforms:  v.Reforms,
		OldCodes: len(v.OldCodes),
		Options: filterOptions{
			ServiceAreas:        options(partnership.ServiceAreas, f.ServiceArea),
			CollaborationModels: options(partnership.CollaborationModels, f.CollaborationModel),
			Statuses:            options(partnership.Statuses, f.Status),
			Groups:              options([]string{"service_area", "collaboration_model"}, f.Group),
		},
	}
	page.Options.Groups[0].Label, page.Options.Groups[1].Label = "Service area", "Collaboration model"
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
	chain := []kommune.Code{code}
	for _, ch := range kommune.ChangesInto(code) {
		if !slices.Contains(chain, ch.From) {
			chain = append(chain, ch.From)
		}
	}
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
		Municipality: string(code), Status: f.Status, ServiceArea: f.ServiceArea, CollaborationModel: f.CollaborationModel,
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
	// AsOf and KnownAt are the view's controls as given.
	AsOf, KnownAt string
	Viewing       bool
	Current       bool
	Municipality  string
	Partners      []partnerRow
	Roles         []string
	History       []historyRow
	Timeline      renderedTimeline
	Legend        []legendItem
	Forms         []formView
	// MayWrite is whether the signed-in token may change this
	// partnership; ReadOnly says why not.
	MayWrite bool
	ReadOnly string
	Saved    string
	Conflict string
	Today    string
	MaxDate  string
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
	OccurredAt string
	RecordedAt string
	Summary    string
	// Correction says how a later correction changed this entry.
	Correction string
	Corrected  bool
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
	id := c.Param("id")
	asOf, knownAt := c.Query("as_of"), c.Query("known_at")
	view := partnership.View{}
	var problems []string
	if asOf != "" {
		t, err := calendar.ParseCutoff(asOf)
		if err != nil {
			problems = append(problems, "the as-of date: "+err.Error())
		}
		view.AsOf = &t
	}
	if knownAt != "" {
		t, err := calendar.ParseCutoff(knownAt)
		if err != nil {
			problems = append(problems, "the known-at time: "+err.Error())
		}
		view.KnownAt = &t
	}
	if len(problems) > 0 {
		p.render(c, http.StatusBadRequest, "error", errorPage{
			layoutData: layoutData{Title: "Bad date"}, Status: http.StatusBadRequest,
			Message: "Cannot show the partnership: " + strings.Join(problems, "; ") + ".", Back: "/p/" + url.PathEscape(id),
		})
		return
	}
	state, events, version, err := p.hist.Read(ctx, id, view)
	if errors.Is(err, partnership.ErrNotFound) {
		msg := "There is no partnership with this id."
		if asOf != "" || knownAt != "" {
			msg = "This partnership did not exist (or was not yet recorded) at the chosen date and time."
		}
		p.fail(c, notFound("%s", msg))
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	// Contact persons' personal data only for those who may see it here.
	shower := p.hist.ShowTo(principal(c))
	shower.Known(history.StreamID(id), state.CurrentMunicipality)
	entries := make([]partnership.Entry, len(events))
	for i := range events {
		if events[i], err = shower.ShowEntry(ctx, events[i]); err != nil {
			p.fail(c, err)
			return
		}
		entries[i] = events[i].Entry
	}
	page := partnershipPage{
		layoutData: layoutData{Title: state.Title, Crumbs: []crumb{{"/", "Municipalities"}, {"/m/" + state.CurrentMunicipality, kommune.Code(state.CurrentMunicipality).Name()}}},
		State:      state, Version: version,
		AsOf: asOf, KnownAt: knownAt, Viewing: asOf != "" || knownAt != "",
		Municipality: municipalityLabel(state),
		Legend:       legend,
		Saved:        savedMessage(c.Query("saved")),
		Conflict:     conflict,
		Today:        p.today(),
		MaxDate:      calendar.Day(p.now().Add(24 * time.Hour)),
	}
	page.Current = !page.Viewing
	names := partnership.PartnerNames(entries)
	contacts := map[string]int{}
	for i, h := range events {
		row := historyRow{EventID: h.EventID, Version: h.Version, Type: h.Type, OccurredAt: calendar.Day(h.OccurredAt), RecordedAt: h.RecordedAt.UTC().Format("2006-01-02 15:04 UTC")}
		row.Summary = describe.Event(entries[i].Event, names)
		if ev, ok := entries[i].Event.(partnership.ContactPersonAssigned); ok && h.CorrectedBy == nil {
			contacts[ev.PartnerID]++
		}
		if h.CorrectedBy != nil {
			row.Corrected = true
			verb := "Replaced"
			if h.CorrectedBy.Retracted {
				verb = "Retracted"
			}
			row.Correction = fmt.Sprintf("%s by a correction recorded %s", verb, h.CorrectedBy.RecordedAt.UTC().Format("2006-01-02 15:04 UTC"))
		}
		page.History = append(page.History, row)
	}
	for _, pt := range state.Partners {
		page.Partners = append(page.Partners, partnerRow{Name: pt.Name, Kind: describe.Label(pt.Kind), OrgNo: pt.OrgNo, Contacts: contacts[pt.PartnerID]})
	}
	for _, r := range state.Roles {
		s := names[r.PartnerID] + ": " + describe.Label(r.Role)
		if len(r.Responsibilities) > 0 {
			s += " (" + strings.Join(r.Responsibilities, "; ") + ")"
		}
		page.Roles = append(page.Roles, s)
	}
	page.Timeline = p.ownTimeline(state, entries, view, names)
	page.MayWrite = principal(c).MayWrite(state.CurrentMunicipality)
	if page.Current && page.MayWrite {
		page.Forms = p.partnershipForms(c, state, version, names, events, post)
	}
	if !page.MayWrite {
		page.ReadOnly = "You are signed in read-only here: " + edge.ForbiddenReason(principal(c), "") + "."
	}
	p.render(c, status, "partnership", page)
}

func municipalityLabel(s partnership.State) string {
	cur := kommune.Code(s.CurrentMunicipality)
	if s.Municipality == s.CurrentMunicipality {
		return fmt.Sprintf("%s (%s)", cur.Name(), cur)
	}
	old := kommune.Code(s.Municipality)
	return fmt.Sprintf("%s (%s), recorded under its former code %s (%s)", cur.Name(), cur, old, old.Name())
}

// ownTimeline draws the partnership as one lane, from its effective
// events under the view.
func (p *Pages) ownTimeline(s partnership.State, entries []partnership.Entry, view partnership.View, names map[string]string) renderedTimeline {
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
		tes = append(tes, timeline.Entry{PartnershipID: s.ID, EventID: e.EventID, Type: e.Event.EventType(), OccurredAt: e.OccurredAt, Summary: describe.Event(e.Event, names)})
	}
	from := time.Date(s.StartedAt.In(calendar.Oslo).Year(), 1, 1, 0, 0, 0, 0, calendar.Oslo)
	to := time.Date(today.In(calendar.Oslo).Year()+1, 1, 1, 0, 0, 0, 0, calendar.Oslo)
	return renderTimeline(timelineView{Lanes: []timeline.Partnership{lane}, Entries: tes, From: from, To: to, Today: today, Reforms: reformsInto(kommune.Code(s.CurrentMunicipality)), Single: true})
}

func savedMessage(eventType string) string {
	if !describe.Known(eventType) || eventType == "" {
		return ""
	}
	return "Saved: " + strings.ToLower(describe.Label(eventType)) + "."
}
