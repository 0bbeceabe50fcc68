package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
)

// /p/new initiates a partnership. The municipality is chosen by name from
// today's municipalities (a coordinator of one municipality has it filled
// in and fixed, a coordinator of several chooses among them) and recorded
// under the code valid on the day the partnership began: the domain
// accepts only that code, and a coordinator thinks of Steinkjer, not of
// 1702 or 5004. Partner rows start at two; "add a partner" adds one
// (without JavaScript by drawing the form again, with it in the browser,
// enhance.js).

// newPage is /p/new: its form, or why the reader has none.
type newPage struct {
	layoutData
	Form     *formView
	ReadOnly string
}

// Partner rows of /p/new: as many as shown (partner_rows), two at first,
// at most maxPartnerRows (the domain's limit on partners).
const (
	firstPartnerRows = 2
	maxPartnerRows   = 50
)

// partnerRows is the number of partner rows to show for the values
// posted: partner_rows, and at least every row that holds something.
func partnerRows(v url.Values) int {
	n, _ := strconv.Atoi(v.Get("partner_rows"))
	for i := range maxPartnerRows {
		if !emptyRow(v, i) {
			n = max(n, i+1)
		}
	}
	return min(max(n, firstPartnerRows), maxPartnerRows)
}

func emptyRow(v url.Values, i int) bool {
	n := strconv.Itoa(i)
	return strings.TrimSpace(v.Get("partner_"+n+"_name")) == "" && v.Get("partner_"+n+"_kind") == "" && strings.TrimSpace(v.Get("partner_"+n+"_org_no")) == ""
}

// byName are today's municipalities in the order of their names in
// Norwegian: Æ, Ø and Å last, Aa as Å. (x/text has CLDR's Norwegian
// collation under nn; under no and nb it falls back to the root order.)
var byName = sync.OnceValue(func() []kommune.Municipality {
	list := kommune.CurrentList()
	coll := collate.New(language.MustParse("nn"))
	slices.SortStableFunc(list, func(a, b kommune.Municipality) int { return coll.CompareString(a.Name, b.Name) })
	return list
})

// predecessors are code and every code whose changes led to it (SSB's
// change table): the codes a partnership of today's municipality may be
// recorded under.
func predecessors(code kommune.Code) []kommune.Code {
	chain := []kommune.Code{code}
	for _, ch := range kommune.ChangesInto(code) {
		if !slices.Contains(chain, ch.From) {
			chain = append(chain, ch.From)
		}
	}
	return chain
}

// codeOn returns the code under which today's municipality code was
// valid on the day of on: itself, or the predecessor valid then. When
// several were (Steinkjer and Verran before 2020), the one with today's
// name is it; when none has it (a merger under a new name), codeOn
// returns "" and the candidates to choose from. When none was valid, it
// returns code, and the domain says why.
func codeOn(code kommune.Code, on time.Time) (kommune.Code, []kommune.Code) {
	var valid []kommune.Code
	for _, c := range predecessors(code) {
		if c.ValidOn(on) {
			valid = append(valid, c)
		}
	}
	switch len(valid) {
	case 0:
		return code, nil
	case 1:
		return valid[0], nil
	}
	for _, c := range valid {
		if c.Name() == code.Name() {
			return c, nil
		}
	}
	return "", valid
}

// municipalityField is the choice of municipality for who: fixed for a
// coordinator of one, their own for a coordinator of several, any for an
// admin. value is today's code.
func municipalityField(fc formContext, value string) fieldView {
	l := fc.l
	f := fieldView{Name: "municipality", Label: l.T("forms.new.municipality"), Kind: kindSelect, Value: value, Required: true}
	var list []kommune.Code
	if fc.who.Role == auth.RoleCoordinator {
		list = fc.who.Municipalities
		if len(list) == 1 {
			f.Kind, f.Value, f.Display = kindFixed, string(list[0]), describe.Municipality(string(list[0]))
			return f
		}
	} else {
		for _, m := range byName() {
			list = append(list, m.Code)
		}
		f.Options = append(f.Options, option{Value: "", Label: l.T("forms.new.choose_municipality"), Selected: value == ""})
		f.Hint = l.T("forms.new.municipality_hint")
	}
	for _, c := range list {
		f.Options = append(f.Options, option{Value: string(c), Label: c.Name(), Selected: string(c) == value})
	}
	return f
}

// newSpec is the form of /p/new; a correction of an initiation uses it
// too (with the partners' ids kept in hidden fields).
func newSpec() formSpec {
	return formSpec{
		id: "new", eventType: partnership.TypePartnershipInitiated, legend: "forms.new.legend", submit: "forms.new.submit",
		intro: "forms.new.intro",
		fields: func(fc formContext) []fieldView {
			l := fc.l
			out := []fieldView{municipalityField(fc, fc.values.Get("municipality"))}
			if former := formerChoices(fc); len(former) > 0 {
				f := fieldView{Name: "former_municipality", Label: l.T("forms.new.former"), Kind: kindSelect, Required: true, Hint: l.T("forms.new.former_hint")}
				f.Options = append(f.Options, option{Value: "", Label: l.T("forms.choose")})
				for _, c := range former {
					f.Options = append(f.Options, option{Value: string(c), Label: describe.Municipality(string(c))})
				}
				out = append(out, f)
			}
			out = append(out,
				fieldView{Name: "title", Label: l.T("forms.field.title"), Kind: "text", Required: true, Hint: l.T("forms.new.title_hint")},
				fieldView{Name: "description", Label: l.T("forms.new.description"), Kind: kindTextarea},
				selectField(fc, "service_area", l.T("forms.new.service_area"), partnership.ServiceAreas, "", true),
				selectField(fc, "collaboration_model", l.T("forms.new.collaboration_model"), partnership.CollaborationModels, "", true),
			)
			rows := partnerRows(fc.values)
			for i := range rows {
				n := strconv.Itoa(i)
				legend := l.T("forms.new.partner_n", "N", strconv.Itoa(i+1))
				name := fieldView{Name: "partner_" + n + "_name", Label: l.T("forms.field.partner_name"), Kind: "text", RowStart: true, RowLegend: legend, RowTemplate: l.T("forms.new.partner_n", "N", "{n}")}
				if i == 0 {
					name.Required = true
					name.Hint = l.T("forms.new.partners_hint")
				}
				kind := selectField(fc, "partner_"+n+"_kind", l.T("forms.field.partner_kind"), partnership.PartnerKinds, "", true)
				kind.Required, kind.RowLegend = false, legend
				org := fieldView{Name: "partner_" + n + "_org_no", Label: l.T("forms.field.org_no"), Kind: "text", Hint: l.T("forms.hint.org_no"), RowLegend: legend, RowEnd: !fc.correcting}
				out = append(out, name, kind, org)
				if fc.correcting {
					out = append(out, fieldView{Name: "partner_" + n + "_id", Kind: kindHidden, RowEnd: true})
				}
			}
			out = append(out,
				fieldView{Name: "add_partner", Label: l.T("forms.new.add_partner"), Kind: kindAddRow, Value: "1"},
				fieldView{Name: "partner_rows", Kind: kindHidden, Value: strconv.Itoa(rows)},
				fieldView{Name: "goals", Label: l.T("forms.field.goals"), Kind: kindTextarea, Required: true, Hint: l.T("forms.goals.hint")},
				fieldView{Name: "occurred_at", Label: l.T("forms.new.occurred_at"), Kind: "date", Value: fc.today, Max: fc.maxDate, Hint: l.T("forms.new.occurred_at_hint")},
			)
			return out
		},
		parse: func(v url.Values, fc formContext) (partnership.Command, map[string][]string) {
			local := map[string][]string{}
			at := occurredAt(fc, v, local)
			ev := partnership.PartnershipInitiated{
				Municipality: strings.TrimSpace(v.Get("municipality")), Title: strings.TrimSpace(v.Get("title")),
				Description: strings.TrimSpace(v.Get("description")), ServiceArea: v.Get("service_area"),
				CollaborationModel: v.Get("collaboration_model"), Goals: lines(v.Get("goals")),
			}
			if code, err := kommune.Parse(ev.Municipality); err == nil && len(local["occurred_at"]) == 0 {
				on := fc.on
				if !fc.correcting {
					on = fc.now
					if at != nil {
						on = *at
					}
				}
				recorded, candidates := codeOn(code.Current(), on)
				if former := kommune.Code(v.Get("former_municipality")); recorded == "" && slices.Contains(candidates, former) {
					recorded = former
				}
				if recorded == "" {
					local["municipality"] = append(local["municipality"], fc.l.T("forms.new.which_former", "Date", fc.l.Date(on)))
				}
				ev.Municipality = string(recorded)
			}
			for i := range maxPartnerRows {
				if emptyRow(v, i) {
					continue
				}
				n := strconv.Itoa(i)
				ev.Partners = append(ev.Partners, partnership.Partner{PartnerID: v.Get("partner_" + n + "_id"), Name: strings.TrimSpace(v.Get("partner_" + n + "_name")), Kind: v.Get("partner_" + n + "_kind"), OrgNo: orgNo(v.Get("partner_" + n + "_org_no"))})
			}
			return partnership.Command{Event: ev, OccurredAt: at}, local
		},
		values: func(ev partnership.Event, _ formContext) url.Values {
			e := ev.(partnership.PartnershipInitiated)
			v := vals("municipality", string(kommune.Code(e.Municipality).Current()), "title", e.Title, "description", e.Description,
				"service_area", e.ServiceArea, "collaboration_model", e.CollaborationModel, "goals", strings.Join(e.Goals, "\n"),
				"partner_rows", strconv.Itoa(max(len(e.Partners), firstPartnerRows)))
			if kommune.Code(e.Municipality).Current() != kommune.Code(e.Municipality) {
				v.Set("former_municipality", e.Municipality)
			}
			for i, p := range e.Partners {
				n := strconv.Itoa(i)
				v.Set("partner_"+n+"_id", p.PartnerID)
				v.Set("partner_"+n+"_name", p.Name)
				v.Set("partner_"+n+"_kind", p.Kind)
				v.Set("partner_"+n+"_org_no", p.OrgNo)
			}
			return v
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
				for i := range maxPartnerRows {
					if emptyRow(v, i) {
						continue
					}
					if k == 0 {
						return "partner_" + strconv.Itoa(i) + "_" + m[3]
					}
					k--
				}
			}
			return f
		},
	}
}

// formerChoices are the codes to choose among when today's municipality
// had several predecessors on the day and none has its name; none
// otherwise.
func formerChoices(fc formContext) []kommune.Code {
	code, err := kommune.Parse(fc.values.Get("municipality"))
	if err != nil {
		return nil
	}
	on := fc.on
	if !fc.correcting {
		if on, err = time.ParseInLocation(time.DateOnly, formDate(fc.values.Get("occurred_at")), calendar.Oslo); err != nil {
			return nil
		}
	}
	_, candidates := codeOn(code.Current(), on)
	return candidates
}

// newForm shows the form that initiates a partnership;
// ?municipality=<code> chooses the municipality (any code, today's is
// shown).
func (p *Pages) newForm(c *gin.Context) {
	values := url.Values{}
	if code, err := kommune.Parse(c.Query("municipality")); err == nil {
		values.Set("municipality", string(code.Current()))
	}
	p.showNew(c, http.StatusOK, values, nil)
}

// showNew draws /p/new with values (and the errors of post).
func (p *Pages) showNew(c *gin.Context, status int, values url.Values, post *posted) {
	l := loc(c)
	fc := p.formContext(c, partnership.State{})
	fc.values = values
	crumbs := crumbsHome(l)
	if m := values.Get("municipality"); m != "" && kommune.Code(m).Name() != "" {
		crumbs = append(crumbs, crumb{"/m/" + m, kommune.Code(m).Name()})
	}
	page := &newPage{layoutData: layoutData{Title: l.T("forms.new.legend"), Crumbs: crumbs, Here: "/p/new"}}
	if c.Request.Method == http.MethodGet {
		page.Here = localPath(c.Request.URL.RequestURI())
	}
	if pr := principal(c); pr.Role != auth.RoleAdmin && pr.Role != auth.RoleCoordinator {
		page.ReadOnly = forbiddenMessage(l, pr)
	} else {
		form := build(newSpec(), fc, "/p/new", p.csrfToken(c), 0, false, post)
		form.Back, form.BackLabel = "/", l.T("forms.cancel")
		if m := values.Get("municipality"); m != "" {
			form.Back = "/m/" + url.PathEscape(m)
		}
		page.Form = &form
	}
	p.render(c, status, "new", page)
}

// initiate handles the post of /p/new: "add a partner" draws the form
// again with one more row; anything else initiates the partnership.
func (p *Pages) initiate(c *gin.Context) {
	spec := newSpec()
	values := c.Request.PostForm
	if values.Get("add_partner") != "" {
		values.Set("partner_rows", strconv.Itoa(min(partnerRows(values)+1, maxPartnerRows)))
		values.Del("add_partner")
		p.showNew(c, http.StatusOK, values, &posted{ID: "new", Values: values})
		return
	}
	fc := p.formContext(c, partnership.State{})
	fc.values = values
	cmd, local := spec.parse(values, fc)
	post := &posted{ID: spec.id, Values: values, Fields: map[string][]string{}}
	show := func(status int, _ string) { p.showNew(c, status, values, post) }
	if len(local) > 0 {
		for k, msgs := range local {
			post.Fields[k] = msgs
		}
		post.Summary = summarize(spec, fc, post.Fields, nil)
		show(http.StatusBadRequest, "")
		return
	}
	res, err := p.svc.Initiate(c.Request.Context(), cmd, commandMeta(c))
	if err != nil {
		p.commandFailed(c, spec, fc, post, err, show)
		return
	}
	p.awaitProjections(c, res.Position)
	c.Redirect(http.StatusSeeOther, "/p/"+url.PathEscape(res.State.ID)+"?saved="+partnership.TypePartnershipInitiated)
}
