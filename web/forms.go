package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/locale"
)

// The coordinators' forms. Each form is a spec: its fields with their
// defaults, how posted values become a partnership.Command, how an event
// of its type fills it again (to correct an entry), and how the domain's
// field paths ("partners[1].org_no") name its inputs. Only the shape of
// the input is checked here (a date is a date, an amount a whole number);
// every rule is the domain's, reached through app.Service like the API's
// commands. Every label, hint and message is the catalogue's
// (locale/messages/forms.*), in the reader's language.

// formView is one form as rendered.
type formView struct {
	ID, Action, Legend, Intro, Submit string
	CSRF                              string
	// Version is the partnership version the form was rendered at; it is
	// posted back and becomes If-Match.
	Version uint64
	HasVer  bool
	// Get makes the form a GET form (choosing an entry to correct).
	Get    bool
	Fields []fieldView
	// Errors lists every problem of the last post, above the fields.
	Errors []string
	Open   bool
	// Buttons are submit buttons beside the main one.
	Buttons []button
	// Back leads away from the form without sending it.
	Back, BackLabel string
	// DefaultFirst puts an invisible copy of the main button first, so
	// that Enter in a field sends the form rather than adding a row.
	DefaultFirst bool
	// L writes the form's own words (required, the error heading).
	L *locale.Localizer
}

// button is a submit button that sends name=value.
type button struct {
	Name, Value, Label string
}

// fieldView is one input with its value and errors.
type fieldView struct {
	ID, Name, Label, Kind, Value, Hint, Heading string
	Min, Max                                    string
	Options                                     []option
	Errors                                      []string
	Required                                    bool
	// Display is what a fixed field shows (its value goes in a hidden
	// input).
	Display string
	// InputMode tells a phone which keyboard to show ("numeric").
	InputMode string
	// RowStart opens a repeated row (a partner of /p/new) titled
	// RowLegend, RowEnd closes it; RowTemplate is the legend with {n}
	// for the row's number, for enhance.js's added rows.
	RowStart, RowEnd bool
	RowLegend        string
	RowTemplate      string
}

// Kinds of field besides the input types: a select, a textarea, a fixed
// value shown as text, a hidden value, and a button that adds a row.
const (
	kindSelect   = "select"
	kindTextarea = "textarea"
	kindFixed    = "fixed"
	kindHidden   = "hidden"
	kindAddRow   = "add"
)

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
	l     *locale.Localizer
	state partnership.State
	// partners are those the selects offer: the active ones, or every
	// partner that ever took part when an entry is corrected.
	partners []partnership.Partner
	names    map[string]string
	now      time.Time
	today    string
	maxDate  string
	// values are the values posted, when a form is drawn again.
	values url.Values
	// who is the signed-in principal.
	who auth.Principal
	// correcting is set when the form corrects an entry that occurred at
	// on: it has no date of its own.
	correcting bool
	on         time.Time
}

// formSpec defines one form.
type formSpec struct {
	id string
	// eventType is the type of the event the form records; a correction
	// of such an entry uses the form.
	eventType string
	// legend, submit and intro are message ids.
	legend, submit, intro string
	// show reports whether the form applies to the state (a paused
	// partnership can be resumed, not paused).
	show   func(partnership.State) bool
	fields func(formContext) []fieldView
	// parse makes the command; local holds shape errors by input name.
	parse func(v url.Values, fc formContext) (cmd partnership.Command, local map[string][]string)
	// values fills the form from an event of its type: what parse would
	// read back into the event.
	values func(ev partnership.Event, fc formContext) url.Values
	// rename maps a domain field path to an input name ("" when the error
	// belongs to the whole form).
	rename func(field string, v url.Values, fc formContext) string
}

func notEnded(s partnership.State) bool { return s.Status != partnership.StatusEnded }

func dateField(fc formContext) fieldView {
	return fieldView{Name: "occurred_at", Label: fc.l.T("forms.field.occurred_at"), Kind: "date", Value: fc.today, Max: fc.maxDate, Hint: fc.l.T("forms.hint.occurred_at")}
}

func selectField(fc formContext, name, label string, values []string, value string, prompt bool) fieldView {
	opts := options(fc.l, values, value)
	if prompt {
		opts = append([]option{{Value: "", Label: fc.l.T("forms.choose"), Selected: value == ""}}, opts...)
	}
	return fieldView{Name: name, Label: label, Kind: kindSelect, Value: value, Options: opts, Required: true}
}

func partnerSelect(fc formContext, name, label string) fieldView {
	f := fieldView{Name: name, Label: label, Kind: kindSelect, Required: true}
	f.Options = append(f.Options, option{Value: "", Label: fc.l.T("forms.choose"), Selected: true})
	for _, p := range fc.partners {
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
func occurredAt(fc formContext, v url.Values, local map[string][]string) *time.Time {
	s := strings.TrimSpace(v.Get("occurred_at"))
	if s == "" || fc.correcting {
		return nil
	}
	t, err := time.ParseInLocation(time.DateOnly, formDate(s), calendar.Oslo)
	if err != nil {
		local["occurred_at"] = append(local["occurred_at"], fc.l.T("forms.error.date"))
		return nil
	}
	return new(t.UTC())
}

// typedDate matches a date as people type it where a browser shows no
// date picker: 7.12.2026, 07.12.2026, 07/12/2026.
var typedDate = regexp.MustCompile(`^(\d{1,2})[./](\d{1,2})[./](\d{4})$`)

// formDate is a date input as YYYY-MM-DD, what date inputs send and the
// domain takes: a date typed the Norwegian way is turned around, anything
// else is left as typed (for the domain to say what is wrong).
func formDate(s string) string {
	s = strings.TrimSpace(s)
	if m := typedDate.FindStringSubmatch(s); m != nil {
		return fmt.Sprintf("%s-%02s-%02s", m[3], m[2], m[1])
	}
	return s
}

// orgNo is an organisation number as typed, without its spaces.
func orgNo(s string) string { return strings.ReplaceAll(strings.TrimSpace(s), " ", "") }

func identity(f string, _ url.Values, _ formContext) string { return f }

// indexed matches "partners[3].org_no" style paths.
var indexed = regexp.MustCompile(`^([a-z_]+)\[(\d+)\](?:\.(.+))?$`)

// vals builds url.Values from name/value pairs.
func vals(pairs ...string) url.Values {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v
}

// partnershipSpecs are the forms of /p/{id}, in page order.
var partnershipSpecs = []formSpec{
	{
		id: "milestone", eventType: partnership.TypeMilestoneLogged, legend: "forms.milestone.legend", submit: "forms.milestone.submit", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				selectField(fc, "kind", fc.l.T("forms.milestone.kind"), partnership.MilestoneKinds, "meeting", false),
				{Name: "title", Label: fc.l.T("forms.field.title"), Kind: "text", Required: true, Hint: fc.l.T("forms.milestone.title_hint")},
				{Name: "note", Label: fc.l.T("forms.field.note"), Kind: kindTextarea},
				dateField(fc),
			}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.MilestoneLogged{Kind: v.Get("kind"), Title: strings.TrimSpace(v.Get("title")), Note: strings.TrimSpace(v.Get("note"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.MilestoneLogged)
			return vals("kind", e.Kind, "title", e.Title, "note", e.Note)
		},
		rename: identity,
	},
	{
		id: "goals", eventType: partnership.TypeGoalChanged, legend: "forms.goals.legend", submit: "forms.goals.submit", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				{Name: "goals", Label: fc.l.T("forms.field.goals"), Kind: kindTextarea, Value: strings.Join(fc.state.Goals, "\n"), Required: true, Hint: fc.l.T("forms.goals.hint")},
				{Name: "reason", Label: fc.l.T("forms.goals.reason"), Kind: "text", Required: true},
				dateField(fc),
			}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.GoalChanged{Goals: lines(v.Get("goals")), Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.GoalChanged)
			return vals("goals", strings.Join(e.Goals, "\n"), "reason", e.Reason)
		},
		rename: func(f string, _ url.Values, _ formContext) string {
			if f == "goals" || strings.HasPrefix(f, "goals[") {
				return "goals"
			}
			return f
		},
	},
	{
		id: "roles", eventType: partnership.TypeRolesAgreed, legend: "forms.roles.legend", submit: "forms.roles.submit", show: notEnded,
		intro: "forms.roles.intro",
		fields: func(fc formContext) []fieldView {
			current := map[string]partnership.Role{}
			for _, r := range fc.state.Roles {
				if _, ok := current[r.PartnerID]; !ok {
					current[r.PartnerID] = r
				}
			}
			var out []fieldView
			for _, p := range fc.partners {
				r := current[p.PartnerID]
				f := selectField(fc, "role_"+p.PartnerID, fc.l.T("forms.roles.role", "Partner", p.Name), partnership.RoleNames, r.Role, false)
				f.Options = append([]option{{Value: "", Label: fc.l.T("forms.roles.none"), Selected: r.Role == ""}}, f.Options...)
				f.Required = false
				f.Heading = p.Name
				out = append(out, f, fieldView{Name: "resp_" + p.PartnerID, Label: fc.l.T("forms.roles.responsibilities", "Partner", p.Name), Kind: kindTextarea, Value: strings.Join(r.Responsibilities, "\n")})
			}
			return out
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			var roles []partnership.Role
			for _, p := range fc.partners {
				if role := v.Get("role_" + p.PartnerID); role != "" {
					roles = append(roles, partnership.Role{PartnerID: p.PartnerID, Role: role, Responsibilities: lines(v.Get("resp_" + p.PartnerID))})
				}
			}
			return partnership.Command{Event: partnership.RolesAgreed{Roles: roles}}, map[string][]string{}
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			v := url.Values{}
			for _, r := range ev.(partnership.RolesAgreed).Roles {
				if v.Get("role_"+r.PartnerID) == "" {
					v.Set("role_"+r.PartnerID, r.Role)
					v.Set("resp_"+r.PartnerID, strings.Join(r.Responsibilities, "\n"))
				}
			}
			return v
		},
		rename: func(f string, v url.Values, fc formContext) string {
			m := indexed.FindStringSubmatch(f)
			if m == nil || m[1] != "roles" {
				return ""
			}
			// The k-th role is that of the k-th partner given one, in
			// page order.
			k, _ := strconv.Atoi(m[2])
			for _, p := range fc.partners {
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
		id: "join", eventType: partnership.TypePartnerJoined, legend: "forms.join.legend", submit: "forms.join.submit", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				{Name: "name", Label: fc.l.T("forms.field.partner_name"), Kind: "text", Required: true, Hint: fc.l.T("forms.hint.partner_name")},
				selectField(fc, "kind", fc.l.T("forms.field.partner_kind"), partnership.PartnerKinds, "", true),
				{Name: "org_no", Label: fc.l.T("forms.field.org_no"), Kind: "text", Hint: fc.l.T("forms.hint.org_no")},
				dateField(fc),
			}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			p := partnership.Partner{Name: strings.TrimSpace(v.Get("name")), Kind: v.Get("kind"), OrgNo: orgNo(v.Get("org_no"))}
			return partnership.Command{Event: partnership.PartnerJoined{Partner: p}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			p := ev.(partnership.PartnerJoined).Partner
			return vals("name", p.Name, "kind", p.Kind, "org_no", p.OrgNo)
		},
		rename: func(f string, _ url.Values, _ formContext) string { return strings.TrimPrefix(f, "partner.") },
	},
	{
		id: "leave", eventType: partnership.TypePartnerLeft, legend: "forms.leave.legend", submit: "forms.leave.submit", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				partnerSelect(fc, "partner_id", fc.l.T("forms.field.partner")),
				{Name: "reason", Label: fc.l.T("forms.field.reason"), Kind: "text", Required: true},
				dateField(fc),
			}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			if v.Get("partner_id") == "" {
				local["partner_id"] = append(local["partner_id"], fc.l.T("forms.error.choose_partner"))
			}
			return partnership.Command{Event: partnership.PartnerLeft{PartnerID: v.Get("partner_id"), Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.PartnerLeft)
			return vals("partner_id", e.PartnerID, "reason", e.Reason)
		},
		rename: identity,
	},
	{
		id: "agreement", eventType: partnership.TypeAgreementSigned, legend: "forms.agreement.legend", submit: "forms.agreement.submit", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				selectField(fc, "agreement_type", fc.l.T("forms.agreement.type"), partnership.AgreementTypes, "", true),
				{Name: "valid_from", Label: fc.l.T("forms.agreement.valid_from"), Kind: "date", Required: true},
				{Name: "valid_until", Label: fc.l.T("forms.agreement.valid_until"), Kind: "date"},
				{Name: "reference", Label: fc.l.T("forms.agreement.reference"), Kind: "text", Hint: fc.l.T("forms.agreement.reference_hint")},
				dateField(fc),
			}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.AgreementSigned{AgreementType: v.Get("agreement_type"), ValidFrom: formDate(v.Get("valid_from")), ValidUntil: formDate(v.Get("valid_until")), Reference: strings.TrimSpace(v.Get("reference"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.AgreementSigned)
			return vals("agreement_type", e.AgreementType, "valid_from", e.ValidFrom, "valid_until", e.ValidUntil, "reference", e.Reference)
		},
		rename: identity,
	},
	{
		id: "funding", eventType: partnership.TypeFundingRecorded, legend: "forms.funding.legend", submit: "forms.funding.submit", show: notEnded,
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				{Name: "amount_nok", Label: fc.l.T("forms.funding.amount"), Kind: "text", InputMode: "numeric", Required: true, Hint: fc.l.T("forms.funding.amount_hint")},
				{Name: "source", Label: fc.l.T("forms.funding.source"), Kind: "text", Required: true, Hint: fc.l.T("forms.funding.source_hint")},
				{Name: "period_from", Label: fc.l.T("forms.funding.period_from"), Kind: "date", Required: true},
				{Name: "period_until", Label: fc.l.T("forms.funding.period_until"), Kind: "date", Required: true},
				dateField(fc),
			}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			var amount int64
			if s := strings.NewReplacer(" ", "", "\u00a0", "", "\u202f", "", ".", "").Replace(strings.TrimSuffix(strings.TrimSpace(v.Get("amount_nok")), "kr")); s != "" {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil {
					local["amount_nok"] = append(local["amount_nok"], fc.l.T("forms.error.amount"))
				}
				amount = n
			}
			return partnership.Command{Event: partnership.FundingRecorded{AmountNOK: amount, Source: strings.TrimSpace(v.Get("source")), PeriodFrom: formDate(v.Get("period_from")), PeriodUntil: formDate(v.Get("period_until"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.FundingRecorded)
			return vals("amount_nok", strconv.FormatInt(e.AmountNOK, 10), "source", e.Source, "period_from", e.PeriodFrom, "period_until", e.PeriodUntil)
		},
		rename: identity,
	},
	{
		id: "anchoring", eventType: partnership.TypeAnchoringChanged, legend: "forms.anchoring.legend", submit: "forms.anchoring.submit", show: notEnded,
		fields: func(fc formContext) []fieldView {
			f := selectField(fc, "level", fc.l.T("forms.anchoring.level"), partnership.AnchoringLevels, "", true)
			if !fc.correcting {
				f.Hint = fc.l.T("forms.anchoring.now", "Level", describe.Label(fc.l, fc.state.AnchoringLevel))
			}
			return []fieldView{f, {Name: "note", Label: fc.l.T("forms.field.note"), Kind: kindTextarea}, dateField(fc)}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.AnchoringChanged{Level: v.Get("level"), Note: strings.TrimSpace(v.Get("note"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.AnchoringChanged)
			return vals("level", e.Level, "note", e.Note)
		},
		rename: identity,
	},
	{
		id: "model", eventType: partnership.TypeCollaborationModelChanged, legend: "forms.model.legend", submit: "forms.model.submit", show: notEnded,
		fields: func(fc formContext) []fieldView {
			f := selectField(fc, "collaboration_model", fc.l.T("forms.model.model"), partnership.CollaborationModels, "", true)
			if !fc.correcting {
				f.Hint = fc.l.T("forms.model.now", "Model", describe.Label(fc.l, fc.state.CollaborationModel))
			}
			return []fieldView{f, {Name: "reason", Label: fc.l.T("forms.model.reason"), Kind: "text", Required: true}, dateField(fc)}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.CollaborationModelChanged{CollaborationModel: v.Get("collaboration_model"), Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.CollaborationModelChanged)
			return vals("collaboration_model", e.CollaborationModel, "reason", e.Reason)
		},
		rename: identity,
	},
	{
		id: "contact", eventType: partnership.TypeContactPersonAssigned, legend: "forms.contact.legend", submit: "forms.contact.submit", show: notEnded,
		intro: "forms.contact.intro",
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				partnerSelect(fc, "partner_id", fc.l.T("forms.field.partner")),
				{Name: "name", Label: fc.l.T("forms.contact.name"), Kind: "text", Required: true},
				{Name: "email", Label: fc.l.T("forms.contact.email"), Kind: "email"},
				{Name: "phone", Label: fc.l.T("forms.contact.phone"), Kind: "tel", Hint: fc.l.T("forms.contact.phone_hint")},
				dateField(fc),
			}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.ContactPersonAssigned{PartnerID: v.Get("partner_id"), Name: strings.TrimSpace(v.Get("name")), Email: strings.TrimSpace(v.Get("email")), Phone: strings.TrimSpace(v.Get("phone"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.ContactPersonAssigned)
			return vals("partner_id", e.PartnerID, "name", e.Name, "email", e.Email, "phone", e.Phone)
		},
		rename: identity,
	},
	{
		id: "pause", eventType: partnership.TypePartnershipPaused, legend: "forms.pause.legend", submit: "forms.pause.submit", show: func(s partnership.State) bool { return s.Status == partnership.StatusActive },
		fields: func(fc formContext) []fieldView {
			return []fieldView{{Name: "reason", Label: fc.l.T("forms.field.reason"), Kind: "text", Required: true}, dateField(fc)}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.PartnershipPaused{Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			return vals("reason", ev.(partnership.PartnershipPaused).Reason)
		},
		rename: identity,
	},
	{
		id: "resume", eventType: partnership.TypePartnershipResumed, legend: "forms.resume.legend", submit: "forms.resume.submit", show: func(s partnership.State) bool { return s.Status == partnership.StatusPaused },
		fields: func(fc formContext) []fieldView {
			return []fieldView{{Name: "reason", Label: fc.l.T("forms.field.reason"), Kind: "text", Required: true}, dateField(fc)}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.PartnershipResumed{Reason: strings.TrimSpace(v.Get("reason"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			return vals("reason", ev.(partnership.PartnershipResumed).Reason)
		},
		rename: identity,
	},
	{
		id: "end", eventType: partnership.TypePartnershipEnded, legend: "forms.end.legend", submit: "forms.end.submit", show: notEnded,
		intro: "forms.end.intro",
		fields: func(fc formContext) []fieldView {
			return []fieldView{
				selectField(fc, "reason", fc.l.T("forms.field.reason"), partnership.EndReasons, "", true),
				{Name: "outcome", Label: fc.l.T("forms.end.outcome"), Kind: kindTextarea},
				dateField(fc),
			}
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			return partnership.Command{Event: partnership.PartnershipEnded{Reason: v.Get("reason"), Outcome: strings.TrimSpace(v.Get("outcome"))}, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.PartnershipEnded)
			return vals("reason", e.Reason, "outcome", e.Outcome)
		},
		rename: identity,
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
	l := fc.l
	fv := formView{ID: spec.id, Action: action, Legend: l.T(spec.legend), Submit: l.T(spec.submit), CSRF: csrf, Version: version, HasVer: hasVer, L: l}
	if spec.intro != "" {
		fv.Intro = l.T(spec.intro)
	}
	fv.Fields = specFields(spec, fc)
	mine := post != nil && post.ID == spec.id
	for i := range fv.Fields {
		f := &fv.Fields[i]
		f.ID = spec.id + "-" + f.Name
		fv.DefaultFirst = fv.DefaultFirst || f.Kind == kindAddRow
		if mine && f.Kind != kindFixed && f.Kind != kindAddRow {
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

// specFields are the spec's fields; a correction has no date of its own
// (an entry keeps when it occurred).
func specFields(spec formSpec, fc formContext) []fieldView {
	fields := spec.fields(fc)
	if fc.correcting {
		fields = slices.DeleteFunc(fields, func(f fieldView) bool { return f.Name == "occurred_at" })
	}
	return fields
}

// partnershipForms are the forms of a partnership page.
func (p *Pages) partnershipForms(c *gin.Context, s partnership.State, version uint64, names map[string]string, post *posted) []formView {
	fc := p.formContext(c, s)
	fc.names = names
	var out []formView
	for _, spec := range partnershipSpecs {
		if !spec.show(s) && (post == nil || post.ID != spec.id) {
			continue
		}
		out = append(out, build(spec, fc, "/p/"+url.PathEscape(s.ID)+"/"+spec.id, p.csrfToken(c), version, true, post))
	}
	return out
}

// formContext is the context of a form on the partnership s now.
func (p *Pages) formContext(c *gin.Context, s partnership.State) formContext {
	now := p.now()
	return formContext{l: loc(c), state: s, partners: s.Partners, now: now, today: calendar.Day(now), maxDate: calendar.Day(now.Add(24 * time.Hour)), who: principal(c)}
}

// commandMeta is the request context of a command: the signed-in
// principal as the events' actor and its municipalities as the scope.
func commandMeta(c *gin.Context) app.Meta { return edge.CommandMeta(c, principal(c)) }

// command handles a post of one of the partnership's forms.
func (p *Pages) command(c *gin.Context) {
	ctx := c.Request.Context()
	l := loc(c)
	id := c.Param("id")
	if c.Param("action") == "correct" && history.ValidID(id) {
		p.correct(c)
		return
	}
	spec, ok := specByID(c.Param("action"))
	if !ok || !history.ValidID(id) {
		p.fail(c, notFound(l.T("pages.no_such_form")))
		return
	}
	version, err := strconv.ParseUint(c.PostForm("version"), 10, 64)
	if err != nil {
		p.errorPageBack(c, http.StatusBadRequest, l.T("errors.no_version"), "/p/"+url.PathEscape(id))
		return
	}
	// The form's partner rows come from the partnership as it is now;
	// If-Match below makes sure it is still the version the user saw.
	state, _, err := p.hist.State(ctx, id, partnership.View{})
	if err != nil {
		p.failCommand(c, err)
		return
	}
	values := c.Request.PostForm
	fc := p.formContext(c, state)
	cmd, local := spec.parse(values, fc)
	post := &posted{ID: spec.id, Values: values, Fields: map[string][]string{}}
	if len(local) > 0 {
		for k, msgs := range local {
			post.Fields[k] = msgs
		}
		post.Summary = summarize(spec, fc, post.Fields, nil)
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
	fc.names = namesOf(state)
	p.commandFailed(c, spec, fc, post, err, func(status int, conflict string) {
		p.showPartnership(c, status, post, conflict)
	})
}

// namesOf names the partnership's partners by id.
func namesOf(s partnership.State) map[string]string {
	names := map[string]string{}
	for _, pt := range s.Partners {
		names[pt.PartnerID] = pt.Name
	}
	return names
}

// commandFailed turns a refused command into what the form shows: the
// input kept, each error beside its field or above the form, and the
// status of the refusal.
func (p *Pages) commandFailed(c *gin.Context, spec formSpec, fc formContext, post *posted, err error, show func(status int, conflict string)) {
	l := fc.l
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
			post.Fields[name] = append(post.Fields[name], fieldMessage(l, fe))
		}
		post.Summary = summarize(spec, fc, post.Fields, unplaced)
		show(http.StatusBadRequest, "")
	case errors.As(err, &rule):
		post.Summary = []string{l.T("forms.refused", "Reason", ruleMessage(l, rule, fc.names))}
		show(http.StatusConflict, "")
	case errors.Is(err, auth.ErrForbidden):
		post.Summary = []string{forbiddenMessage(l, fc.who)}
		show(http.StatusForbidden, "")
	case errors.Is(err, app.ErrConflictRetriesExhausted):
		post.Summary = []string{l.T("forms.busy")}
		show(http.StatusConflict, "")
	case errors.Is(err, app.ErrPreconditionFailed):
		post.Summary = []string{l.T("forms.stale")}
		show(http.StatusConflict, l.T("forms.conflict"))
	default:
		// Anything else that is no defect (storage full, shutting down,
		// an erased contact) keeps the form as typed, says why above it
		// and answers with the API's status.
		f := edge.Classify(err)
		if f.Kind == edge.KindInternal || f.Kind == edge.KindNotFound {
			p.failCommand(c, err)
			return
		}
		if f.RetryAfter > 0 {
			c.Header("Retry-After", strconv.Itoa(int(f.RetryAfter.Seconds())))
		}
		post.Summary = []string{failureMessage(c, f)}
		show(f.Status, "")
	}
}

func (p *Pages) failCommand(c *gin.Context, err error) {
	if errors.Is(err, partnership.ErrNotFound) {
		p.fail(c, notFound(loc(c).T("pages.partnership.unknown")))
		return
	}
	p.fail(c, err)
}

// hasField reports whether the form has an input called name.
func hasField(spec formSpec, fc formContext, name string) bool {
	for _, f := range specFields(spec, fc) {
		if f.Name == name && f.Kind != kindHidden {
			return true
		}
	}
	return false
}

// summarize lists every error with its field's label, for the box above
// the form.
func summarize(spec formSpec, fc formContext, fields map[string][]string, unplaced []partnership.FieldError) []string {
	var out []string
	for _, f := range specFields(spec, fc) {
		for _, m := range fields[f.Name] {
			label := f.Label
			if f.RowLegend != "" {
				label = f.RowLegend + ", " + strings.ToLower(label[:1]) + label[1:]
			}
			out = append(out, fc.l.T("forms.error.labelled", "Label", label, "Message", m))
		}
	}
	for _, fe := range unplaced {
		out = append(out, fieldMessage(fc.l, fe))
	}
	return out
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
