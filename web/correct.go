package web

import (
	"cmp"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
)

// Correcting an entry without JSON. GET /p/{id}/correct?entry=<event id>
// opens a form of the entry's own type (the form that records such
// entries), filled with the entry's data as it stands; posting it shows
// the change as a before/after preview with the reason for it, and
// confirming saves an EntryCorrected whose replacement is the edited
// payload (the domain keeps the ids the server made). "Retract" saves a
// correction without replacement. Posts go to POST /p/{id}/correct with
// step preview (the default), edit (back to the form) or confirm.

// correctPage is the correction of one entry: the chooser of entries, its
// form, or its preview.
type correctPage struct {
	layoutData
	Entry   *entryView
	Form    *formView
	Preview *previewView
	Back    string
}

// entryView is the entry being corrected, as its history line shows it.
type entryView struct {
	Label, When, Summary string
}

// previewView is a correction before it is saved: each field before and
// after, and a form that saves it (or goes back to the form).
type previewView struct {
	Rows    []previewRow
	Retract bool
	Reason  string
	Action  string
	CSRF    string
	Version uint64
	Hidden  []hiddenValue
}

type previewRow struct {
	Heading, Label, Before, After string
	Changed                       bool
}

type hiddenValue struct{ Name, Value string }

// correction is what a correction of one entry works on.
type correction struct {
	state   partnership.State
	version uint64
	entry   history.HistoryEntry
	// current is the entry's data in force: as last replaced.
	current partnership.Event
	base    formSpec
	spec    formSpec
	fc      formContext
}

// correctable reports whether an entry can be corrected through a form:
// not a correction, and not a contact person whose details the reader
// cannot see.
func correctable(e partnership.Entry) bool {
	switch ev := e.Event.(type) {
	case partnership.EntryCorrected:
		return false
	case partnership.ContactPersonAssigned:
		return ev.Name != ""
	}
	return true
}

// specForType is the form that records entries of the type.
func specForType(eventType string) (formSpec, bool) {
	if eventType == partnership.TypePartnershipInitiated {
		return newSpec(), true
	}
	for _, s := range partnershipSpecs {
		if s.eventType == eventType {
			return s, true
		}
	}
	return formSpec{}, false
}

// correctionSpec is base as a correction: its fields without a date, the
// correction's reason and the entry's id, and the domain's paths of the
// replacement ("replacement.title") mapped to base's inputs.
func correctionSpec(base formSpec, entryID string) formSpec {
	s := base
	s.id, s.legend, s.submit, s.intro = "correct", "forms.correct.legend", "forms.correct.preview", "forms.correct.intro"
	s.fields = func(fc formContext) []fieldView {
		return append(base.fields(fc),
			fieldView{Name: "correction_reason", Label: fc.l.T("forms.correct.reason"), Kind: "text", Required: true, Hint: fc.l.T("forms.correct.reason_hint")},
			fieldView{Name: "entry", Kind: kindHidden, Value: entryID},
		)
	}
	s.rename = func(f string, v url.Values, fc formContext) string {
		switch {
		case f == "reason":
			return "correction_reason"
		case strings.HasPrefix(f, "replacement."):
			return base.rename(strings.TrimPrefix(f, "replacement."), v, fc)
		}
		return ""
	}
	return s
}

// loadCorrection reads the partnership and the entry to correct, for a
// reader who may change it. It answers the request itself (an error page)
// and returns nil when it cannot.
func (p *Pages) loadCorrection(c *gin.Context, entryID string) *correction {
	ctx := c.Request.Context()
	l := loc(c)
	id := c.Param("id")
	back := "/p/" + url.PathEscape(id)
	state, events, version, err := p.hist.Read(ctx, id, partnership.View{})
	if err != nil {
		p.failCommand(c, err)
		return nil
	}
	who := principal(c)
	if !who.MayWrite(state.CurrentMunicipality) {
		p.errorPageBack(c, http.StatusForbidden, forbiddenMessage(l, who), back)
		return nil
	}
	shower := p.hist.ShowTo(who)
	shower.Known(history.StreamID(id), state.CurrentMunicipality)
	entries := make([]partnership.Entry, len(events))
	k := -1
	for i := range events {
		if events[i], err = shower.ShowEntry(ctx, events[i]); err != nil {
			p.fail(c, err)
			return nil
		}
		entries[i] = events[i].Entry
		if events[i].EventID == entryID {
			k = i
		}
	}
	if k < 0 || !correctable(entries[k]) {
		p.errorPageBack(c, http.StatusNotFound, l.T("pages.correct.unknown"), back)
		return nil
	}
	base, ok := specForType(events[k].Type)
	if !ok {
		p.errorPageBack(c, http.StatusNotFound, l.T("pages.correct.unknown"), back)
		return nil
	}
	cr := &correction{state: state, version: version, entry: events[k], current: entries[k].Event, base: base, spec: correctionSpec(base, entryID)}
	if mark, ok := partnership.Corrections(entries, partnership.View{})[entryID]; ok && !mark.Retracted {
		for _, e := range entries {
			if ev, ok := replacementOf(events[k].Type, e.Event); ok && e.EventID == mark.EventID {
				cr.current = ev
			}
		}
	}
	cr.fc = p.formContext(c, state)
	cr.fc.correcting, cr.fc.on = true, events[k].OccurredAt
	cr.fc.names = partnership.PartnerNames(entries)
	// Every partner that ever took part: a correction may name one who
	// has left since.
	cr.fc.partners = nil
	seen := map[string]bool{}
	for _, e := range entries {
		var ps []partnership.Partner
		switch ev := e.Event.(type) {
		case partnership.PartnershipInitiated:
			ps = ev.Partners
		case partnership.PartnerJoined:
			ps = []partnership.Partner{ev.Partner}
		}
		for _, pt := range ps {
			if !seen[pt.PartnerID] {
				seen[pt.PartnerID] = true
				cr.fc.partners = append(cr.fc.partners, pt)
			}
		}
	}
	return cr
}

// described is the entry as its history line shows it.
func (cr *correction) described() *entryView {
	l := cr.fc.l
	return &entryView{Label: describe.Label(l, cr.entry.Type), When: when(l, cr.entry.OccurredAt), Summary: describe.Event(l, cr.current, cr.fc.names)}
}

// correctForm draws the correction of ?entry=, filled with its data; with
// no entry, the choice of one.
func (p *Pages) correctForm(c *gin.Context) {
	entry := c.Query("entry")
	if entry == "" {
		p.chooseEntry(c)
		return
	}
	cr := p.loadCorrection(c, entry)
	if cr == nil {
		return
	}
	values := cr.base.values(cr.current, cr.fc)
	values.Set("entry", entry)
	cr.fc.values = values
	p.showCorrection(c, http.StatusOK, cr, &posted{ID: "correct", Values: values})
}

// chooseEntry is /p/{id}/correct without an entry: the list to choose
// one from.
func (p *Pages) chooseEntry(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	id := c.Param("id")
	state, events, _, err := p.hist.Read(ctx, id, partnership.View{})
	if err != nil {
		p.failCommand(c, err)
		return
	}
	who := principal(c)
	if !who.MayWrite(state.CurrentMunicipality) {
		p.errorPageBack(c, http.StatusForbidden, forbiddenMessage(l, who), "/p/"+url.PathEscape(id))
		return
	}
	entries, err := p.show(ctx, who, state, events)
	if err != nil {
		p.fail(c, err)
		return
	}
	p.render(c, http.StatusOK, "correct", &correctPage{
		layoutData: layoutData{Title: l.T("pages.correct.title"), Crumbs: append(crumbsHome(l), crumb{"/p/" + url.PathEscape(id), state.Title})},
		Form:       p.chooseEntryForm(c, state, partnership.PartnerNames(entries), events),
		Back:       "/p/" + url.PathEscape(id) + "#history",
	})
}

// chooseEntryForm is the GET form that opens an entry's correction.
func (p *Pages) chooseEntryForm(c *gin.Context, s partnership.State, names map[string]string, events []history.HistoryEntry) *formView {
	l := loc(c)
	f := fieldView{ID: "choose-entry-entry", Name: "entry", Label: l.T("forms.correct.entry"), Kind: kindSelect, Required: true}
	f.Options = append(f.Options, option{Value: "", Label: l.T("forms.choose"), Selected: true})
	for _, h := range events {
		if !correctable(h.Entry) {
			continue
		}
		f.Options = append(f.Options, option{Value: h.EventID, Label: l.T("forms.correct.option", "Date", l.ShortDate(h.OccurredAt), "Type", describe.Label(l, h.Type), "Summary", truncate(describe.Event(l, h.Entry.Event, names), 60))})
	}
	return &formView{ID: "choose-entry", Action: "/p/" + url.PathEscape(s.ID) + "/correct", Get: true, Legend: l.T("forms.correct.choose_legend"),
		Intro: l.T("forms.correct.choose_intro"), Submit: l.T("forms.correct.open"), Fields: []fieldView{f}, L: l}
}

// showCorrection draws the correction's form with the values and errors
// of post.
func (p *Pages) showCorrection(c *gin.Context, status int, cr *correction, post *posted) {
	l := cr.fc.l
	id := cr.state.ID
	form := build(cr.spec, cr.fc, "/p/"+url.PathEscape(id)+"/correct", p.csrfToken(c), cr.version, true, post)
	if cr.entry.Type != partnership.TypePartnershipInitiated {
		form.Buttons = []button{{Name: "retract", Value: "1", Label: l.T("forms.correct.retract")}}
	}
	form.Back, form.BackLabel = "/p/"+url.PathEscape(id)+"#history", l.T("forms.cancel")
	p.render(c, status, "correct", &correctPage{
		layoutData: layoutData{Title: l.T("pages.correct.title"), Crumbs: append(crumbsHome(l), crumb{"/p/" + url.PathEscape(id), cr.state.Title}),
			Here: "/p/" + url.PathEscape(id) + "/correct?entry=" + url.QueryEscape(cr.entry.EventID)},
		Entry: cr.described(),
		Form:  &form,
		Back:  "/p/" + url.PathEscape(id) + "#history",
	})
}

// correct handles POST /p/{id}/correct: the preview of a correction, the
// way back to its form, and its confirmation.
func (p *Pages) correct(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	id := c.Param("id")
	values := c.Request.PostForm
	version, err := strconv.ParseUint(values.Get("version"), 10, 64)
	if err != nil {
		p.errorPageBack(c, http.StatusBadRequest, l.T("errors.no_version"), "/p/"+url.PathEscape(id))
		return
	}
	cr := p.loadCorrection(c, values.Get("entry"))
	if cr == nil {
		return
	}
	cr.fc.values = values
	post := &posted{ID: "correct", Values: values, Fields: map[string][]string{}}
	step := values.Get("step")
	if values.Get("add_partner") != "" {
		// An initiation's form with one more partner row (without
		// JavaScript).
		values.Set("partner_rows", strconv.Itoa(min(partnerRows(values)+1, maxPartnerRows)))
		values.Del("add_partner")
		step = "edit"
	}
	if step == "edit" {
		p.showCorrection(c, http.StatusOK, cr, post)
		return
	}
	retract := values.Get("retract") != ""
	cmd, replacement, local := cr.command(values, retract)
	if len(local) > 0 {
		post.Fields = local
		post.Summary = summarize(cr.spec, cr.fc, post.Fields, nil)
		p.showCorrection(c, http.StatusBadRequest, cr, post)
		return
	}
	meta := commandMeta(c)
	meta.IfMatch = &version
	failed := func(err error) {
		p.commandFailed(c, cr.spec, cr.fc, post, err, func(status int, conflict string) {
			if conflict != "" {
				post.Summary = append(post.Summary, conflict)
			}
			p.showCorrection(c, status, cr, post)
		})
	}
	if step != "confirm" {
		if err := p.svc.Check(ctx, id, cmd, meta); err != nil {
			failed(err)
			return
		}
		p.showPreview(c, cr, values, replacement, retract, version)
		return
	}
	res, err := p.svc.Execute(ctx, id, cmd, meta)
	if err != nil {
		failed(err)
		return
	}
	p.awaitProjections(c, res.Position)
	c.Redirect(http.StatusSeeOther, "/p/"+url.PathEscape(id)+"?saved="+partnership.TypeEntryCorrected+"#history")
}

// command makes the EntryCorrected of the posted form: a retraction, or
// the form's event as the replacement (returned too, for the preview).
func (cr *correction) command(values url.Values, retract bool) (partnership.Command, partnership.Event, map[string][]string) {
	ev := partnership.EntryCorrected{CorrectedEventID: cr.entry.EventID, Reason: strings.TrimSpace(values.Get("correction_reason"))}
	if retract {
		return partnership.Command{Event: ev}, nil, nil
	}
	cmd, local := cr.base.parse(values, cr.fc)
	if len(local) > 0 {
		return partnership.Command{}, nil, local
	}
	data, err := partnership.Encode(cmd.Event)
	if err != nil {
		return partnership.Command{}, nil, map[string][]string{"correction_reason": {cr.fc.l.T("errors.kind.internal")}}
	}
	ev.Replacement = data
	return partnership.Command{Event: ev}, cmd.Event, nil
}

// showPreview draws the correction before it is saved: each field before
// and after (or the whole entry struck out, for a retraction), and the
// buttons that save it or go back to the form.
func (p *Pages) showPreview(c *gin.Context, cr *correction, posted url.Values, replacement partnership.Event, retract bool, version uint64) {
	l := cr.fc.l
	id := cr.state.ID
	before := cr.base.values(cr.current, cr.fc)
	after := url.Values{}
	if replacement != nil {
		after = cr.base.values(replacement, cr.fc)
	}
	// The rows of a list (an initiation's partners) are those of the
	// longer side.
	fc := cr.fc
	fc.values = maps.Clone(after)
	if retract {
		fc.values = maps.Clone(before)
	}
	fc.values.Set("partner_rows", strconv.Itoa(max(partnerRows(before), partnerRows(after))))
	pv := &previewView{Retract: retract, Reason: strings.TrimSpace(posted.Get("correction_reason")), Action: "/p/" + url.PathEscape(id) + "/correct", CSRF: p.csrfToken(c), Version: version}
	lastHeading := ""
	for _, f := range specFields(cr.base, fc) {
		if f.Kind == kindHidden || f.Kind == kindAddRow {
			continue
		}
		row := previewRow{Label: f.Label, Before: shown(f, before.Get(f.Name)), After: shown(f, after.Get(f.Name))}
		if heading := cmp.Or(f.RowLegend, f.Heading); heading != lastHeading {
			row.Heading, lastHeading = heading, heading
		}
		row.Changed = !retract && row.Before != row.After
		pv.Rows = append(pv.Rows, row)
	}
	for _, name := range slices.Sorted(maps.Keys(posted)) {
		if name == csrfField || name == "step" || name == "version" {
			continue
		}
		for _, v := range posted[name] {
			pv.Hidden = append(pv.Hidden, hiddenValue{Name: name, Value: v})
		}
	}
	p.render(c, http.StatusOK, "correct", &correctPage{
		layoutData: layoutData{Title: l.T("pages.correct.preview_title"), Crumbs: append(crumbsHome(l), crumb{"/p/" + url.PathEscape(id), cr.state.Title}),
			Here: "/p/" + url.PathEscape(id) + "/correct?entry=" + url.QueryEscape(cr.entry.EventID)},
		Entry:   cr.described(),
		Preview: pv,
		Back:    "/p/" + url.PathEscape(id) + "#history",
	})
}

// shown is a field's value as a reader reads it: a choice by its label, a
// fixed value by its text, nothing as a dash.
func shown(f fieldView, value string) string {
	if f.Kind == kindFixed && value == f.Value {
		return f.Display
	}
	if f.Kind == kindSelect {
		for _, o := range f.Options {
			if o.Value == value && value != "" {
				return o.Label
			}
		}
	}
	if strings.TrimSpace(value) == "" {
		return "–"
	}
	return value
}
