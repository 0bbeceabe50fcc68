package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/history"
)

// The coordinators' forms. Each form is a spec: its fields with their
// defaults, how posted values become a partnership.Command, and how the
// domain's field paths ("partners[1].org_no") name its inputs. Only the
// shape of the input is checked here (a date is a date, an amount a whole
// number); every rule is the domain's, reached through app.Service like
// the API's commands.

// formView is one form as rendered.
type formView struct {
	ID, Action, Legend, Intro, Submit string
	CSRF                              string
	// Version is the partnership version the form was rendered at; it is
	// posted back and becomes If-Match.
	Version uint64
	HasVer  bool
	Fields  []fieldView
	// Errors lists every problem of the last post, above the fields.
	Errors []string
	Open   bool
}

// fieldView is one input with its value and errors.
type fieldView struct {
	ID, Name, Label, Kind, Value, Hint, Heading string
	Min, Max                                    string
	Options                                     []option
	Errors                                      []string
	Required                                    bool
}

// posted is what the user sent with a form that failed, kept so the page
// shows it again with the errors next to the fields.
type posted struct {
	ID      string
	Values  url.Values
	Fields  map[string][]string
	Summary []string
}

// formContext is what a form's fields and parsing may use.
type formContext struct {
	state   partnership.State
	names   map[string]string
	events  []history.HistoryEntry
	today   string
	maxDate string
}

// formSpec defines one form.
type formSpec struct {
	id, legend, submit, intro string
	// show reports whether the form applies to the state (a paused
	// partnership can be resumed, not paused).
	show   func(partnership.State) bool
	fields func(formContext) []fieldView
	// parse makes the command; local holds shape errors by input name.
	parse func(v url.Values, fc formContext) (cmd partnership.Command, local map[string][]string)
	// rename maps a domain field path to an input name ("" when the error
	// belongs to the whole form).
	rename func(field string, v url.Values, fc formContext) string
}

func notEnded(s partnership.State) bool { return s.Status != partnership.StatusEnded }

func dateField(fc formContext) fieldView {
	return fieldView{Name: "occurred_at", Label: "Date it happened", Kind: "date", Value: fc.today, Max: fc.maxDate, Hint: "YYYY-MM-DD; may be in the past, not before the partnership began"}
}

func selectField(name, lbl string, values []string, value string, prompt bool) fieldView {
	opts := options(values, value)
	if prompt {
		opts = append([]option{{Value: "", Label: "— choose —", Selected: value == ""}}, opts...)
	}
	return fieldView{Name: name, Label: lbl, Kind: "select", Value: value, Options: opts, Required: true}
}

func partnerSelect(s partnership.State, name, lbl string) fieldView {
	f := fieldView{Name: name, Label: lbl, Kind: "select", Required: true}
	f.Options = append(f.Options, option{Value: "", Label: "— choose —", Selected: true})
	for _, p := range s.Partners {
		f.Options = append(f.Options, option{Value: p.PartnerID, Label: p.Name})
	}
	return f
}

// lines splits a textarea into its non-blank lines.
func lines(s string) []string {
	var out []string
	for l := range strings.SplitSeq(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// occurredAt reads the date input; empty means now (nil).
func occurredAt(v url.Values, local map[string][]string) *time.Time {
	s := strings.TrimSpace(v.Get("occurred_at"))
	if s == "" {
		return nil
	}
	t, err := time.ParseInLocation(time.DateOnly, s, calendar.Oslo)
	if err != nil {
		local["occurred_at"] = append(local["occurred_at"], "must be a date YYYY-MM-DD")
		return nil
	}
	return new(t.UTC())
}

func identity(f string, _ url.Values, _ formContext) string { return f }

// indexed matches "partners[3].org_no" style paths.
var indexed = regexp.MustCompile(`^([a-z_]+)\[(\d+)\](?:\.(.+))?$`)

// partnershipSpecs are the forms of /p/{id}, in page order.
var partnershipSpecs = []formSpec{
	{
		id: "milestone", legend: "Log a milestone", submit: "Log milestone", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				selectField("kind", "Kind", partnership.MilestoneKinds, "meeting", false),
				{Name: "title", Label: "Title", Kind: "text", Required: true},
				{Name: "note", Label: "Note", Kind: "textarea"},
				dateField(fc),
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			return partnership.Command{Event: partnership.MilestoneLogged{Kind: v.Get("kind"), Title: strings.TrimSpace(v.Get("title")), Note: strings.TrimSpace(v.Get("note"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "goals", legend: "Change goals", submit: "Change goals", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				{Name: "goals", Label: "Goals (one per line)", Kind: "textarea", Value: strings.Join(fc.state.Goals, "\n"), Required: true, Hint: "The new list replaces the old one: 1 to 20 goals."},
				{Name: "reason", Label: "Reason for the change", Kind: "text", Required: true},
				dateField(fc),
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			return partnership.Command{Event: partnership.GoalChanged{Goals: lines(v.Get("goals")), Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		rename: func(f string, _ url.Values, _ formContext) string {
			if f == "goals" || strings.HasPrefix(f, "goals[") {
				return "goals"
			}
			return f
		},
	},
	{
		id: "roles", legend: "Agree roles", submit: "Agree roles", show: notEnded,
		intro: "The roles agreed now replace all earlier ones. Leave a partner without a role to give it none.",
		fields: func(fc formContext) []fieldView {
			current := map[string]partnership.Role{}
			for _, r := range fc.state.Roles {
				if _, ok := current[r.PartnerID]; !ok {
					current[r.PartnerID] = r
				}
			}
			var out []fieldView
			for _, p := range fc.state.Partners {
				r := current[p.PartnerID]
				f := selectField("role_"+p.PartnerID, "Role of "+p.Name, partnership.RoleNames, r.Role, false)
				f.Options = append([]option{{Value: "", Label: "— no role —", Selected: r.Role == ""}}, f.Options...)
				f.Required = false
				f.Heading = p.Name
				out = append(out, f, fieldView{Name: "resp_" + p.PartnerID, Label: "Responsibilities of " + p.Name + " (one per line)", Kind: "textarea", Value: strings.Join(r.Responsibilities, "\n")})
			}
			return out
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			var roles []partnership.Role
			for _, p := range fc.state.Partners {
				if role := v.Get("role_" + p.PartnerID); role != "" {
					roles = append(roles, partnership.Role{PartnerID: p.PartnerID, Role: role, Responsibilities: lines(v.Get("resp_" + p.PartnerID))})
				}
			}
			return partnership.Command{Event: partnership.RolesAgreed{Roles: roles}}, map[string][]string{}
		},
		rename: func(f string, v url.Values, fc formContext) string {
			m := indexed.FindStringSubmatch(f)
			if m == nil || m[1] != "roles" {
				return ""
			}
			// The k-th role is that of the k-th partner given one, in
			// page order.
			k, _ := strconv.Atoi(m[2])
			for _, p := range fc.state.Partners {
				if v.Get("role_"+p.PartnerID) == "" {
					continue
				}
				if k > 0 {
					k--
					continue
				}
				if strings.HasPrefix(m[3], "responsibilities") {
					return "resp_" + p.PartnerID
				}
				return "role_" + p.PartnerID
			}
			return ""
		},
	},
	{
		id: "join", legend: "Add a partner", submit: "Add partner", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				{Name: "name", Label: "Name", Kind: "text", Required: true},
				selectField("kind", "Kind", partnership.PartnerKinds, "", true),
				{Name: "org_no", Label: "Organisation number (organisasjonsnummer)", Kind: "text", Hint: "Nine digits, if it has one"},
				dateField(fc),
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			p := partnership.Partner{Name: strings.TrimSpace(v.Get("name")), Kind: v.Get("kind"), OrgNo: strings.ReplaceAll(strings.TrimSpace(v.Get("org_no")), " ", "")}
			return partnership.Command{Event: partnership.PartnerJoined{Partner: p}, OccurredAt: at}, local
		},
		rename: func(f string, _ url.Values, _ formContext) string { return strings.TrimPrefix(f, "partner.") },
	},
	{
		id: "leave", legend: "Remove a partner", submit: "Remove partner", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				partnerSelect(fc.state, "partner_id", "Partner"),
				{Name: "reason", Label: "Reason", Kind: "text", Required: true},
				dateField(fc),
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			if v.Get("partner_id") == "" {
				local["partner_id"] = append(local["partner_id"], "choose the partner that leaves")
			}
			return partnership.Command{Event: partnership.PartnerLeft{PartnerID: v.Get("partner_id"), Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "agreement", legend: "Record an agreement", submit: "Record agreement", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				selectField("agreement_type", "Type of agreement", partnership.AgreementTypes, "", true),
				{Name: "valid_from", Label: "Valid from", Kind: "date", Required: true},
				{Name: "valid_until", Label: "Valid until (optional)", Kind: "date"},
				{Name: "reference", Label: "Reference (case number, archive id)", Kind: "text"},
				dateField(fc),
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			return partnership.Command{Event: partnership.AgreementSigned{AgreementType: v.Get("agreement_type"), ValidFrom: strings.TrimSpace(v.Get("valid_from")), ValidUntil: strings.TrimSpace(v.Get("valid_until")), Reference: strings.TrimSpace(v.Get("reference"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "funding", legend: "Record funding", submit: "Record funding", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				{Name: "amount_nok", Label: "Amount (whole kroner)", Kind: "number", Required: true, Min: "1"},
				{Name: "source", Label: "Source", Kind: "text", Required: true},
				{Name: "period_from", Label: "Period from", Kind: "date", Required: true},
				{Name: "period_until", Label: "Period until", Kind: "date", Required: true},
				dateField(fc),
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			var amount int64
			if s := strings.NewReplacer(" ", "", "\u00a0", "").Replace(v.Get("amount_nok")); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					local["amount_nok"] = append(local["amount_nok"], "must be a whole number of kroner, such as 250000")
				}
				amount = n
			}
			return partnership.Command{Event: partnership.FundingRecorded{AmountNOK: amount, Source: strings.TrimSpace(v.Get("source")), PeriodFrom: strings.TrimSpace(v.Get("period_from")), PeriodUntil: strings.TrimSpace(v.Get("period_until"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "anchoring", legend: "Change anchoring", submit: "Change anchoring", show: notEnded,
		fields: func(fc formContext) []fieldView {
			f := selectField("level", "New level (now: "+describe.ShortLabel(fc.state.AnchoringLevel)+")", partnership.AnchoringLevels, "", true)
			return []fieldView{f, {Name: "note", Label: "Note", Kind: "textarea"}, dateField(fc)}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			return partnership.Command{Event: partnership.AnchoringChanged{Level: v.Get("level"), Note: strings.TrimSpace(v.Get("note"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "contact", legend: "Assign a contact person", submit: "Assign contact", show: notEnded,
		intro: "Name, e-mail and phone are personal data: they are stored for those allowed to see them and are not shown on these pages.",
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				partnerSelect(fc.state, "partner_id", "Partner"),
				{Name: "name", Label: "Name", Kind: "text", Required: true},
				{Name: "email", Label: "E-mail", Kind: "email"},
				{Name: "phone", Label: "Phone", Kind: "tel", Hint: "An e-mail address or a phone number is needed"},
				dateField(fc),
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			return partnership.Command{Event: partnership.ContactPersonAssigned{PartnerID: v.Get("partner_id"), Name: strings.TrimSpace(v.Get("name")), Email: strings.TrimSpace(v.Get("email")), Phone: strings.TrimSpace(v.Get("phone"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "pause", legend: "Pause the partnership", submit: "Pause", show: func(s partnership.State) bool { return s.Status == partnership.StatusActive },
		fields: func(fc formContext) []fieldView {
			return []fieldView{{Name: "reason", Label: "Reason", Kind: "text", Required: true}, dateField(fc)}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			return partnership.Command{Event: partnership.PartnershipPaused{Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "resume", legend: "Resume the partnership", submit: "Resume", show: func(s partnership.State) bool { return s.Status == partnership.StatusPaused },
		fields: func(fc formContext) []fieldView {
			return []fieldView{{Name: "reason", Label: "Reason", Kind: "text", Required: true}, dateField(fc)}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			return partnership.Command{Event: partnership.PartnershipResumed{Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "end", legend: "End the partnership", submit: "End partnership", show: notEnded,
		intro: "After the end only corrections can be recorded.",
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				selectField("reason", "Reason", partnership.EndReasons, "", true),
				{Name: "outcome", Label: "Outcome", Kind: "textarea"},
				dateField(fc),
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			return partnership.Command{Event: partnership.PartnershipEnded{Reason: v.Get("reason"), Outcome: strings.TrimSpace(v.Get("outcome"))}, OccurredAt: at}, local
		},
		rename: identity,
	},
	{
		id: "correct", legend: "Correct an entry", submit: "Record correction", show: func(partnership.State) bool { return true },
		intro: "A correction never deletes: the entry stays in the history, marked. Leave the replacement empty to retract the entry.",
		fields: func(fc formContext) []fieldView {
			f := fieldView{Name: "corrected_event_id", Label: "Entry", Kind: "select", Required: true}
			f.Options = append(f.Options, option{Value: "", Label: "— choose —", Selected: true})
			for _, h := range fc.events {
				if h.Type == partnership.TypeEntryCorrected {
					continue
				}
				f.Options = append(f.Options, option{Value: h.EventID, Label: fmt.Sprintf("#%d %s %s: %s", h.Version, calendar.Day(h.OccurredAt), describe.Label(h.Type), truncate(describe.Event(h.Entry.Event, fc.names), 60))})
			}
			return []fieldView{
				f,
				{Name: "reason", Label: "Reason for the correction", Kind: "text", Required: true},
				{Name: "replacement", Label: "Replacement data (JSON, optional)", Kind: "textarea", Hint: `The corrected data of the same event type as in the API, e.g. {"kind":"meeting","title":"Kick-off","note":""}`},
			}
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			ev := partnership.EntryCorrected{CorrectedEventID: v.Get("corrected_event_id"), Reason: strings.TrimSpace(v.Get("reason"))}
			if ev.CorrectedEventID == "" {
				local["corrected_event_id"] = append(local["corrected_event_id"], "choose the entry to correct")
			}
			if r := strings.TrimSpace(v.Get("replacement")); r != "" {
				if !json.Valid([]byte(r)) {
					local["replacement"] = append(local["replacement"], "is not valid JSON")
				}
				ev.Replacement = json.RawMessage(r)
			}
			return partnership.Command{Event: ev}, local
		},
		rename: func(f string, _ url.Values, _ formContext) string {
			if strings.HasPrefix(f, "replacement") {
				return "replacement"
			}
			return f
		},
	},
}

func specByID(id string) (formSpec, bool) {
	for _, s := range partnershipSpecs {
		if s.id == id {
			return s, true
		}
	}
	return formSpec{}, false
}

// build renders a spec with its defaults, or with what the user posted.
func build(spec formSpec, fc formContext, action, csrf string, version uint64, hasVer bool, post *posted) formView {
	fv := formView{ID: spec.id, Action: action, Legend: spec.legend, Intro: spec.intro, Submit: spec.submit, CSRF: csrf, Version: version, HasVer: hasVer}
	fv.Fields = spec.fields(fc)
	mine := post != nil && post.ID == spec.id
	for i := range fv.Fields {
		f := &fv.Fields[i]
		f.ID = spec.id + "-" + f.Name
		if mine {
			f.Value = post.Values.Get(f.Name)
			f.Errors = post.Fields[f.Name]
			for j := range f.Options {
				f.Options[j].Selected = f.Options[j].Value == f.Value
			}
		}
	}
	if mine {
		fv.Errors = post.Summary
		fv.Open = true
	}
	return fv
}

// partnershipForms are the forms of a partnership page.
func (p *Pages) partnershipForms(c *gin.Context, s partnership.State, version uint64, names map[string]string, events []history.HistoryEntry, post *posted) []formView {
	fc := formContext{state: s, names: names, events: events, today: p.today(), maxDate: calendar.Day(p.now().Add(24 * time.Hour))}
	var out []formView
	for _, spec := range partnershipSpecs {
		if !spec.show(s) && (post == nil || post.ID != spec.id) {
			continue
		}
		out = append(out, build(spec, fc, "/p/"+url.PathEscape(s.ID)+"/"+spec.id, p.csrfToken(c), version, true, post))
	}
	return out
}

// commandMeta is the request context of a command: the signed-in
// principal as the events' actor and its municipalities as the scope.
func commandMeta(c *gin.Context) app.Meta { return edge.CommandMeta(c, principal(c)) }

// command handles a post of one of the partnership's forms.
func (p *Pages) command(c *gin.Context) {
	ctx := c.Request.Context()
	id := c.Param("id")
	spec, ok := specByID(c.Param("action"))
	if !ok || !history.ValidID(id) {
		p.fail(c, notFound("No such form"))
		return
	}
	version, err := strconv.ParseUint(c.PostForm("version"), 10, 64)
	if err != nil {
		p.errorPage(c, http.StatusBadRequest, "The form did not say which version of the partnership it was made for. Reload the partnership and try again.")
		return
	}
	// The form's partner rows and the correction's entry list come from
	// the partnership as it is now; If-Match below makes sure it is still
	// the version the user saw.
	state, _, err := p.hist.State(ctx, id, partnership.View{})
	if err != nil {
		p.failCommand(c, err)
		return
	}
	values := c.Request.PostForm
	cmd, local := spec.parse(values, formContext{state: state})
	post := &posted{ID: spec.id, Values: values, Fields: map[string][]string{}}
	if len(local) > 0 {
		for k, msgs := range local {
			post.Fields[k] = msgs
		}
		post.Summary = summarize(spec, formContext{state: state, today: p.today()}, post.Fields, nil)
		p.showPartnership(c, http.StatusBadRequest, post, "")
		return
	}
	meta := commandMeta(c)
	meta.IfMatch = &version
	res, err := p.svc.Execute(ctx, id, cmd, meta)
	if err == nil {
		p.awaitProjections(c, res.Position)
		c.Redirect(http.StatusSeeOther, "/p/"+url.PathEscape(id)+"?saved="+url.QueryEscape(cmd.Event.EventType())+"#history")
		return
	}
	p.commandFailed(c, spec, formContext{state: state, today: p.today()}, post, err, func(status int, conflict string) {
		p.showPartnership(c, status, post, conflict)
	})
}

// commandFailed turns a refused command into what the form shows.
func (p *Pages) commandFailed(c *gin.Context, spec formSpec, fc formContext, post *posted, err error, show func(status int, conflict string)) {
	var validation *partnership.ValidationError
	var rule *partnership.RuleError
	switch {
	case errors.As(err, &validation):
		var unplaced []partnership.FieldError
		for _, fe := range validation.Fields {
			name := spec.rename(fe.Field, post.Values, fc)
			if name == "" || !hasField(spec, fc, name) {
				unplaced = append(unplaced, fe)
				continue
			}
			post.Fields[name] = append(post.Fields[name], plain(fe.Message))
		}
		post.Summary = summarize(spec, fc, post.Fields, unplaced)
		show(http.StatusBadRequest, "")
	case errors.As(err, &rule):
		post.Summary = []string{"This change was refused: " + rule.Detail + "."}
		show(http.StatusConflict, "")
	case errors.Is(err, app.ErrConflictRetriesExhausted):
		post.Summary = []string{"Too many changes at the same time; submit again."}
		show(http.StatusConflict, "")
	case errors.Is(err, app.ErrPreconditionFailed):
		post.Summary = []string{"Not saved: the partnership changed after you opened this form. Your input is kept below; check the current state and submit again."}
		show(http.StatusConflict, "Someone else changed this partnership while you were editing. Nothing you sent was saved. The page now shows the current state and history; your input is kept in the form.")
	default:
		p.failCommand(c, err)
	}
}

func (p *Pages) failCommand(c *gin.Context, err error) {
	if errors.Is(err, partnership.ErrNotFound) {
		p.fail(c, notFound("There is no partnership with this id"))
		return
	}
	p.fail(c, err)
}

// hasField reports whether the form has an input called name.
func hasField(spec formSpec, fc formContext, name string) bool {
	for _, f := range spec.fields(fc) {
		if f.Name == name {
			return true
		}
	}
	return false
}

// summarize lists every error with its field's label, for the box above
// the form.
func summarize(spec formSpec, fc formContext, fields map[string][]string, unplaced []partnership.FieldError) []string {
	var out []string
	for _, f := range spec.fields(fc) {
		for _, m := range fields[f.Name] {
			out = append(out, f.Label+": "+m)
		}
	}
	for _, fe := range unplaced {
		out = append(out, fieldName(fe.Field)+": "+plain(fe.Message))
	}
	return out
}

// fieldName turns a domain path into words: "roles[0].role" → "role 1: role".
func fieldName(path string) string {
	if m := indexed.FindStringSubmatch(path); m != nil {
		k, _ := strconv.Atoi(m[2])
		s := strings.TrimSuffix(strings.ReplaceAll(m[1], "_", " "), "s") + " " + strconv.Itoa(k+1)
		if m[3] != "" {
			s += ", " + strings.ReplaceAll(m[3], "_", " ")
		}
		return s
	}
	return strings.ReplaceAll(path, "_", " ")
}

// plain rewords the domain's terse messages where a form says it better.
func plain(msg string) string {
	if strings.HasPrefix(msg, "must be one of ") {
		return "choose one of the options"
	}
	return msg
}

// awaitProjections gives the read models a moment to show a new event, so
// the timeline the user opens next already has it. A slow projection only
// delays nothing: the partnership page reads live.
func (p *Pages) awaitProjections(c *gin.Context, position uint64) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), p.projWait)
	defer cancel()
	if err := p.proj.WaitFor(ctx, position); err != nil {
		p.log.WarnContext(c.Request.Context(), "projections behind after a form post", "position", position, "err", err)
	}
}

// ---- /p/new ----

type newPage struct {
	layoutData
	Form formView
}

const newPartnerRows = 5

func newSpec(today, maxDate, municipality string) formSpec {
	return formSpec{
		id: "new", legend: "Initiate a partnership", submit: "Initiate partnership",
		fields: func(formContext) []fieldView {
			out := []fieldView{
				{Name: "municipality", Label: "Municipality (kommunenummer)", Kind: "text", Value: municipality, Required: true, Hint: "Four digits, the code valid on the date below (e.g. 1702 for Steinkjer before 2018)"},
				{Name: "title", Label: "Title", Kind: "text", Required: true},
				{Name: "description", Label: "Description", Kind: "textarea"},
				selectField("service_area", "Service area", partnership.ServiceAreas, "", true),
				selectField("collaboration_model", "Collaboration model", partnership.CollaborationModels, "", true),
			}
			for i := range newPartnerRows {
				n := strconv.Itoa(i)
				kind := selectField("partner_"+n+"_kind", "Kind", partnership.PartnerKinds, "", true)
				kind.Required = false
				name := fieldView{Name: "partner_" + n + "_name", Label: "Name", Kind: "text", Heading: "Partner " + strconv.Itoa(i+1)}
				if i == 0 {
					name.Heading += " (at least one outside the municipality)"
					name.Required = true
				}
				out = append(out, name, kind, fieldView{Name: "partner_" + n + "_org_no", Label: "Organisation number (optional)", Kind: "text"})
			}
			return append(out,
				fieldView{Name: "goals", Label: "Goals (one per line)", Kind: "textarea", Required: true, Hint: "1 to 20 goals"},
				fieldView{Name: "occurred_at", Label: "Date it began", Kind: "date", Value: today, Max: maxDate},
			)
		},
		parse: func(v url.Values, _ formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(v, local)
			ev := partnership.PartnershipInitiated{
				Municipality: strings.TrimSpace(v.Get("municipality")), Title: strings.TrimSpace(v.Get("title")),
				Description: strings.TrimSpace(v.Get("description")), ServiceArea: v.Get("service_area"),
				CollaborationModel: v.Get("collaboration_model"), Goals: lines(v.Get("goals")),
			}
			for i := range newPartnerRows {
				n := strconv.Itoa(i)
				p := partnership.Partner{Name: strings.TrimSpace(v.Get("partner_" + n + "_name")), Kind: v.Get("partner_" + n + "_kind"), OrgNo: strings.ReplaceAll(strings.TrimSpace(v.Get("partner_"+n+"_org_no")), " ", "")}
				if p.Name == "" && p.Kind == "" && p.OrgNo == "" {
					continue
				}
				ev.Partners = append(ev.Partners, p)
			}
			return partnership.Command{Event: ev, OccurredAt: at}, local
		},
		rename: func(f string, v url.Values, _ formContext) string {
			if f == "goals" || strings.HasPrefix(f, "goals[") {
				return "goals"
			}
			if f == "partners" {
				return "partner_0_name"
			}
			if m := indexed.FindStringSubmatch(f); m != nil && m[1] == "partners" {
				k, _ := strconv.Atoi(m[2])
				// The k-th partner is the k-th row that was filled in.
				for i := range newPartnerRows {
					n := strconv.Itoa(i)
					if v.Get("partner_"+n+"_name") == "" && v.Get("partner_"+n+"_kind") == "" && strings.TrimSpace(v.Get("partner_"+n+"_org_no")) == "" {
						continue
					}
					if k == 0 {
						return "partner_" + n + "_" + m[3]
					}
					k--
				}
			}
			return f
		},
	}
}

// newForm shows the form that initiates a partnership.
func (p *Pages) newForm(c *gin.Context) {
	code := c.Query("municipality")
	if _, err := kommune.Parse(code); err != nil {
		code = ""
	}
	p.showNew(c, http.StatusOK, code, nil)
}

func (p *Pages) showNew(c *gin.Context, status int, municipality string, post *posted) {
	spec := newSpec(p.today(), calendar.Day(p.now().Add(24*time.Hour)), municipality)
	crumbs := []crumb{{"/", "Municipalities"}}
	if municipality != "" {
		crumbs = append(crumbs, crumb{"/m/" + municipality, kommune.Code(municipality).Name()})
	}
	p.render(c, status, "new", newPage{
		layoutData: layoutData{Title: "Initiate a partnership", Crumbs: crumbs},
		Form:       build(spec, formContext{}, "/p/new", p.csrfToken(c), 0, false, post),
	})
}

// initiate handles the post of /p/new.
func (p *Pages) initiate(c *gin.Context) {
	spec := newSpec(p.today(), "", "")
	values := c.Request.PostForm
	cmd, local := spec.parse(values, formContext{})
	post := &posted{ID: spec.id, Values: values, Fields: map[string][]string{}}
	show := func(status int, _ string) { p.showNew(c, status, values.Get("municipality"), post) }
	if len(local) > 0 {
		for k, msgs := range local {
			post.Fields[k] = msgs
		}
		post.Summary = summarize(spec, formContext{}, post.Fields, nil)
		show(http.StatusBadRequest, "")
		return
	}
	res, err := p.svc.Initiate(c.Request.Context(), cmd, commandMeta(c))
	if err != nil {
		p.commandFailed(c, spec, formContext{}, post, err, show)
		return
	}
	p.awaitProjections(c, res.Position)
	c.Redirect(http.StatusSeeOther, "/p/"+url.PathEscape(res.State.ID)+"?saved="+partnership.TypePartnershipInitiated)
}
