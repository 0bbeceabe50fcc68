package web

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/surveys"
)

// The public answer pages: GET and POST /s/<token>, the only pages open to
// anyone and the only unauthenticated write path. A respondent answers one
// section per page; every post saves (surveys.Service.Save) and then
// redirects to the next page (POST/redirect/GET), so the flow needs no
// JavaScript and skip conditions on earlier sections decide the later
// pages. The link's token is the respondent's only credential: it is never
// logged (the access log and the pages' logs name the route /s/:token),
// never sent on as a Referer, and the pages are never cached or indexed
// (respondHeaders). Rate limits, the body bound and CSRF come before any
// look-up (respond_guard.go).

const (
	// respondRoute is the answer page's route.
	respondRoute = "/s/:token"
	// itemPrefix starts an answer's form field name ("i.<item id>"), so
	// that no item id can collide with the form's own fields.
	itemPrefix = "i."
	// partnershipField holds the chosen partnerships; partnershipsShown
	// marks a form that offered the choice (an empty choice then clears
	// it, where a form without the choice leaves it unchanged).
	partnershipField  = "partnership"
	partnershipsShown = "partnerships_shown"
	// requestIDField carries the form's request id: fresh on every
	// render, so that a double click or a retried post writes once.
	requestIDField = "request_id"
)

// The answer form's buttons (field "action").
const (
	actionNext   = "next"
	actionPrev   = "prev"
	actionLater  = "later"
	actionSubmit = "submit"
)

// registerRespond mounts the answer pages on r, outside the signed-in
// group: GET and POST /s/:token.
func (p *Pages) registerRespond(r gin.IRouter) {
	g := r.Group("", p.respondLanguage, p.secureHeaders, p.respondHeaders, p.ensureCSRFID, p.respondLimit)
	g.GET(respondRoute, p.validText, p.respondGet)
	g.POST(respondRoute, p.respondBody, p.checkCSRF, p.validText, p.respondPost)
}

// respondHeaders keep the token where it is: a page with the token in its
// address is never cached, never sends it on to another site as a
// Referer, and is never indexed.
func (p *Pages) respondHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Robots-Tag", "noindex, nofollow")
	c.Next()
}

// respondLanguage is the pages' language choice (language) with one more
// source first: ?lang=nb|nn|en, as a mailing's link may carry it. A
// language asked for so is remembered (the language switch's cookie), so
// the posts that follow are in it too.
func (p *Pages) respondLanguage(c *gin.Context) {
	if lang, ok := locale.Parse(c.Query("lang")); ok {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: langCookie, Value: string(lang), Path: "/", MaxAge: int(langLifetime.Seconds()),
			HttpOnly: true, Secure: c.Request.TLS != nil, SameSite: http.SameSiteLaxMode,
		})
		c.Set(langKey, locale.For(lang))
		c.Next()
		return
	}
	p.language(c)
}

// respondView is the answer page: one section of the questionnaire.
type respondView struct {
	layoutData
	// Action is where the form posts: /s/<token>.
	Action        string
	Questionnaire string
	Intro         string
	SectionID     string
	Section       string
	SectionIntro  string
	// Step of Steps counts the sections shown ("Del 2 av 5").
	Step, Steps int
	First, Last bool
	Items       []respondItem
	// Choices are the partnerships to choose from (first page, when the
	// link fixes none); ChoiceError says that none was chosen.
	Choices     []respondOption
	ChoiceError string
	// Errors are the error summary's entries, in page order.
	Errors []respondError
	// Notice says that answers on this page showed more questions.
	Notice    bool
	RequestID string
	CSRFToken string
}

// respondItem is one question as a form control.
type respondItem struct {
	// ID is the control's id (the first option's for a fieldset); Name
	// the field's name.
	ID, Name, Kind string
	Text, Help     string
	Required       bool
	// Fieldset: a Likert scale or a choice is a group of radios or
	// checkboxes with the item's text as legend.
	Fieldset bool
	// Scale marks a Likert item (its points wrap on a phone).
	Scale   bool
	Options []respondOption
	// Value is a number's or a text's value as posted or saved.
	Value string
	// Hint words a number's range and unit or a text's limit.
	Hint      string
	MaxLength int
	Error     string
}

// DescribedBy is the ids of the item's help, hint and error, for
// aria-describedby ("" for none).
func (it respondItem) DescribedBy() string {
	var ids []string
	if it.Help != "" {
		ids = append(ids, "help-"+it.Name)
	}
	if it.Hint != "" {
		ids = append(ids, "hint-"+it.Name)
	}
	if it.Error != "" {
		ids = append(ids, "err-"+it.Name)
	}
	return strings.Join(ids, " ")
}

// respondOption is one radio or checkbox.
type respondOption struct {
	ID, Value, Label string
	Checked          bool
}

// respondError is one entry of the error summary: a link to the field.
type respondError struct {
	Href, Message string
}

// respondStatusView is every other answer page: saved, thank you, and
// the link's errors.
type respondStatusView struct {
	layoutData
	Status  int
	Heading string
	Message string
	// Continue links back to the questionnaire (the saved page).
	Continue string
}

// respondGet shows a section: ?section=<id> (the first shown by default),
// or ?saved=1 the page that says the answers are kept.
func (p *Pages) respondGet(c *gin.Context) {
	token := c.Param("token")
	sess, err := p.surveys.Open(c.Request.Context(), token)
	if err != nil {
		p.respondFailed(c, sess, err)
		return
	}
	l := loc(c)
	if c.Query("saved") != "" {
		p.respondStatus(c, http.StatusOK, l.T("respond.saved.title"), l.T("respond.saved.heading"), l.T("respond.saved.message"), respondPath(token, c.Query("section")))
		return
	}
	f := respondForm{sess: sess, token: token, answers: sess.Response.Answers, partnerships: sess.Response.Partnerships, section: c.Query("section")}
	f.notice = c.Query("more") != ""
	p.renderRespond(c, http.StatusOK, f)
}

// respondForm is what a section page is drawn from.
type respondForm struct {
	sess  surveys.Session
	token string
	// answers are the saved answers with the posted ones over them.
	answers      survey.Answers
	partnerships []string
	section      string
	// problems are the answers' problems by item id; choiceProblem is
	// true when no partnership was chosen; others are problems on other
	// sections, linked to their pages.
	problems      map[string]string
	choiceProblem bool
	others        []respondError
	notice        bool
}

// shownSections are the questionnaire's sections shown for the answers.
func shownSections(q survey.Questionnaire, shown map[string]bool) []survey.Section {
	var out []survey.Section
	for _, s := range q.Sections {
		if shown[s.ID] {
			out = append(out, s)
		}
	}
	return out
}

// sectionIndex is the index in sections of the section with the id; an
// unknown or hidden one is the first.
func sectionIndex(sections []survey.Section, id string) int {
	for i, s := range sections {
		if s.ID == id {
			return i
		}
	}
	return 0
}

// renderRespond draws one section of the questionnaire.
func (p *Pages) renderRespond(c *gin.Context, status int, f respondForm) {
	l := loc(c)
	lang := string(l.Lang())
	q := f.sess.Questionnaire
	shown := q.Shown(f.answers)
	sections := shownSections(q, shown)
	if len(sections) == 0 {
		// A questionnaire whose every section is hidden cannot be
		// answered; validation refuses a first section with a condition,
		// so this is a defect, not the respondent's doing.
		p.fail(c, errors.New("answer page: no section of the questionnaire is shown"))
		return
	}
	i := sectionIndex(sections, f.section)
	sec := sections[i]
	v := &respondView{
		layoutData: layoutData{Title: q.Title.In(lang), Here: respondPath(f.token, sec.ID)},
		Action:     respondPath(f.token, ""), Questionnaire: q.Title.In(lang), Intro: q.Intro.In(lang),
		SectionID: sec.ID, Section: sec.Title.In(lang), SectionIntro: sec.Intro.In(lang),
		Step: i + 1, Steps: len(sections), First: i == 0, Last: i == len(sections)-1,
		Notice: f.notice, RequestID: newRequestID(),
	}
	if status != http.StatusOK {
		v.Title = l.T("respond.error.title_prefix", "Title", v.Title)
	}
	for _, it := range sec.Items {
		if !shown[it.ID] {
			continue
		}
		ri := respondItemOf(l, lang, it, f.answers[it.ID])
		if msg, bad := f.problems[it.ID]; bad {
			ri.Error = msg
			v.Errors = append(v.Errors, respondError{Href: "#" + ri.ID, Message: ri.Text + ": " + msg})
		}
		v.Items = append(v.Items, ri)
	}
	if v.First && len(f.sess.Choices) > 0 {
		for _, ch := range f.sess.Choices {
			v.Choices = append(v.Choices, respondOption{ID: "p-" + ch.ID, Value: ch.ID, Label: ch.Name, Checked: slices.Contains(f.partnerships, ch.ID)})
		}
		if f.choiceProblem {
			v.ChoiceError = l.T("respond.partnerships.required")
			v.Errors = append([]respondError{{Href: "#" + v.Choices[0].ID, Message: v.ChoiceError}}, v.Errors...)
		}
	}
	v.Errors = append(v.Errors, f.others...)
	p.render(c, status, "respond", v)
}

// respondItemOf makes an item's control, filled with its answer.
func respondItemOf(l *locale.Localizer, lang string, it survey.Item, answer []string) respondItem {
	name := itemPrefix + it.ID
	ri := respondItem{ID: "i-" + it.ID, Name: name, Kind: it.Kind, Text: it.Text.In(lang), Help: it.Help.In(lang), Required: it.Required}
	switch it.Kind {
	case survey.KindLikert:
		ri.Fieldset, ri.Scale = true, true
		points := 0
		if it.Scale != nil {
			points = it.Scale.Points
		}
		for n := 1; n <= points; n++ {
			value := strconv.Itoa(n)
			label := value
			if it.Scale != nil {
				switch labels := it.Scale.Labels; {
				case len(labels) == points:
					label = value + " – " + labels[n-1].In(lang)
				case len(labels) == 2 && n == 1:
					label = value + " – " + labels[0].In(lang)
				case len(labels) == 2 && n == points:
					label = value + " – " + labels[1].In(lang)
				}
			}
			ri.Options = append(ri.Options, respondOption{ID: ri.ID + "-" + value, Value: value, Label: label, Checked: slices.Contains(answer, value)})
		}
	case survey.KindSingle, survey.KindMultiple:
		ri.Fieldset = true
		for _, o := range it.Options {
			ri.Options = append(ri.Options, respondOption{ID: ri.ID + "-" + o.Code, Value: o.Code, Label: o.Label.In(lang), Checked: slices.Contains(answer, o.Code)})
		}
	case survey.KindNumber:
		if len(answer) > 0 {
			ri.Value = answer[0]
		}
		ri.Hint = numberHint(l, lang, it)
	case survey.KindText:
		if len(answer) > 0 {
			ri.Value = answer[0]
		}
		ri.MaxLength = it.TextLimit()
		ri.Hint = l.T("respond.text.limit", "Max", l.Number(int64(ri.MaxLength)))
	}
	if ri.Fieldset && len(ri.Options) > 0 {
		// The error summary links to the group's first control.
		ri.ID = ri.Options[0].ID
	}
	return ri
}

// numberHint words a number item's range and unit ("" for none), as the
// answer page and the questionnaire's preview show it.
func numberHint(l *locale.Localizer, lang string, it survey.Item) string {
	var parts []string
	num := func(f float64) string { return limitText(l, f) }
	switch {
	case it.Min != nil && it.Max != nil:
		parts = append(parts, l.T("respond.number.between", "Min", num(*it.Min), "Max", num(*it.Max)))
	case it.Min != nil:
		parts = append(parts, l.T("respond.number.min", "Min", num(*it.Min)))
	case it.Max != nil:
		parts = append(parts, l.T("respond.number.max", "Max", num(*it.Max)))
	}
	if it.Integer {
		parts = append(parts, l.T("respond.number.integer"))
	}
	if u := it.Unit.In(lang); u != "" {
		parts = append(parts, l.T("respond.number.unit", "Unit", u))
	}
	return strings.Join(parts, " ")
}

// respondPost saves the section posted and moves on: to the next or the
// previous section, to the saved page, or, on the last page, submits.
func (p *Pages) respondPost(c *gin.Context) {
	ctx := c.Request.Context()
	token := c.Param("token")
	form := c.Request.PostForm
	l := loc(c)
	requestID, action := form.Get(requestIDField), form.Get("action")
	if !validRequestID(requestID) || !slices.Contains([]string{actionNext, actionPrev, actionLater, actionSubmit}, action) {
		p.respondBadForm(c, token)
		return
	}
	sess, err := p.surveys.Open(ctx, token)
	if errors.Is(err, surveys.ErrLinkUsed) && action == actionSubmit {
		// A submission retried (a double click, a reload of the thank-you
		// page) is thanked again; any other post to a submitted
		// response is refused and writes nothing.
		if err := p.surveys.Submit(ctx, token, string(l.Lang()), nil, nil, requestID+"-submit"); err == nil {
			p.respondThanks(c)
			return
		}
	}
	if err != nil {
		p.respondFailed(c, sess, err)
		return
	}
	q := sess.Questionnaire
	sec, ok := sectionOf(q, form.Get("section"))
	if !ok {
		p.respondBadForm(c, token)
		return
	}
	posted, ok := postedAnswers(q, sec, form)
	if !ok {
		p.respondBadForm(c, token)
		return
	}
	var partnerships []string
	if form.Has(partnershipsShown) && len(sess.Choices) > 0 {
		partnerships = []string{}
		for _, id := range form[partnershipField] {
			if !slices.ContainsFunc(sess.Choices, func(ch surveys.Choice) bool { return ch.ID == id }) {
				p.respondBadForm(c, token)
				return
			}
			partnerships = append(partnerships, id)
		}
	}
	before := q.Shown(sess.Response.Answers)
	f := respondForm{sess: sess, token: token, answers: merge(sess.Response.Answers, posted), partnerships: sess.Response.Partnerships, section: sec.ID}
	if partnerships != nil {
		f.partnerships = partnerships
	}
	lang := string(l.Lang())
	// after is what the answers show once these are saved.
	after := q.Shown(f.answers)
	sections := shownSections(q, after)
	if len(sections) == 0 {
		p.fail(c, errors.New("answer page: no section of the questionnaire is shown"))
		return
	}
	i := sectionIndex(sections, sec.ID)
	// Answers on this page that show more questions on it keep the
	// respondent here to answer them: without JavaScript the page
	// cannot show them as they become relevant.
	more := slices.ContainsFunc(sec.Items, func(it survey.Item) bool { return after[it.ID] && !before[it.ID] })
	if action == actionSubmit && !more && i == len(sections)-1 {
		p.respondSubmit(c, f, lang, posted, partnerships, requestID)
		return
	}
	if _, err := p.surveys.Save(ctx, token, lang, posted, partnerships, requestID+"-save"); err != nil {
		p.respondRefused(c, f, err)
		return
	}
	switch {
	case action == actionLater:
		c.Redirect(http.StatusSeeOther, respondPath(token, sec.ID)+"&saved=1")
	case action == actionPrev:
		c.Redirect(http.StatusSeeOther, respondPath(token, sections[max(i-1, 0)].ID))
	case more:
		c.Redirect(http.StatusSeeOther, respondPath(token, sec.ID)+"&more=1")
	default:
		// Next, or a submission from a page that is no longer the last.
		c.Redirect(http.StatusSeeOther, respondPath(token, sections[min(i+1, len(sections)-1)].ID))
	}
}

// respondSubmit submits the response with the last page's answers: one
// write when all is well. A submission refused for its answers saves them
// (so that nothing typed is lost while the respondent goes back to what
// is missing) and draws the page with the problems.
func (p *Pages) respondSubmit(c *gin.Context, f respondForm, lang string, posted survey.Answers, partnerships []string, requestID string) {
	ctx := c.Request.Context()
	err := p.surveys.Submit(ctx, f.token, lang, posted, partnerships, requestID+"-submit")
	if err == nil {
		p.respondThanks(c)
		return
	}
	var verr *survey.ValidationError
	if errors.As(err, &verr) {
		if saved, serr := p.surveys.Save(ctx, f.token, lang, posted, partnerships, requestID+"-save"); serr == nil {
			f.sess, f.answers, f.partnerships = saved, saved.Response.Answers, saved.Response.Partnerships
		}
	}
	p.respondRefused(c, f, err)
}

// respondRefused answers a save or submission the service refused:
// invalid answers draw the page again with each problem at its field
// (422), a partnership that is not offered is a bad form, anything else
// the link's or the server's error page.
func (p *Pages) respondRefused(c *gin.Context, f respondForm, err error) {
	var verr *survey.ValidationError
	switch {
	case errors.As(err, &verr):
		p.renderProblems(c, f, verr)
	case errors.Is(err, surveys.ErrPartnershipNotAllowed):
		p.respondBadForm(c, f.token)
	default:
		p.respondFailed(c, f.sess, err)
	}
}

// renderProblems draws the page of the section posted with the answers'
// problems: those of this section at their fields, those of other
// sections (a submission's missing answers) linked to their pages. When
// this section has none, the first section with one is drawn instead.
func (p *Pages) renderProblems(c *gin.Context, f respondForm, verr *survey.ValidationError) {
	l := loc(c)
	lang := string(l.Lang())
	q := f.sess.Questionnaire
	sectionOfItem := map[string]string{}
	for _, s := range q.Sections {
		for _, it := range s.Items {
			sectionOfItem[it.ID] = s.ID
		}
	}
	f.problems = map[string]string{}
	var firstSection string
	for _, pr := range verr.Problems {
		if pr.Path == "partnerships" {
			f.choiceProblem = true
			continue
		}
		if _, seen := f.problems[pr.Path]; seen {
			continue
		}
		f.problems[pr.Path] = problemMessage(l, q, pr.Path, pr.Code)
		if firstSection == "" {
			firstSection = sectionOfItem[pr.Path]
		}
	}
	here := false
	for _, it := range sectionItems(q, f.section) {
		if _, bad := f.problems[it.ID]; bad {
			here = true
		}
	}
	switch {
	case f.choiceProblem:
		// The partnerships are asked on the first page: the page with
		// their problem, the other problems linked from it.
		f.section = ""
	case !here && firstSection != "":
		f.section = firstSection
	}
	// The section drawn is the one renderRespond picks for f.section.
	drawn := f.section
	if sections := shownSections(q, q.Shown(f.answers)); len(sections) > 0 {
		drawn = sections[sectionIndex(sections, f.section)].ID
	}
	for _, pr := range verr.Problems {
		s, known := sectionOfItem[pr.Path]
		if !known || s == drawn {
			continue
		}
		it, _ := q.Item(pr.Path)
		f.others = append(f.others, respondError{Href: respondPath(f.token, s) + "#i-" + it.ID, Message: it.Text.In(lang) + ": " + f.problems[pr.Path]})
	}
	p.renderRespond(c, http.StatusUnprocessableEntity, f)
}

// sectionItems are the items of the section with the id.
func sectionItems(q survey.Questionnaire, id string) []survey.Item {
	s, _ := sectionOf(q, id)
	return s.Items
}

// problemMessage words an answer's problem for the respondent, from the
// domain's catalogue of problem codes (survey.problem.<code>), naming the
// item's limit where it has one.
func problemMessage(l *locale.Localizer, q survey.Questionnaire, itemID, code string) string {
	it, _ := q.Item(itemID)
	switch {
	case code == survey.ProblemTooSmall && it.Min != nil:
		return l.T("survey.problem.too_small.min", "Min", limitText(l, *it.Min))
	case code == survey.ProblemTooLarge && it.Max != nil:
		return l.T("survey.problem.too_large.max", "Max", limitText(l, *it.Max))
	case code == survey.ProblemTooLong:
		return l.T("survey.problem.too_long.max", "Max", l.Number(int64(it.TextLimit())))
	}
	switch code {
	case survey.ProblemRequired, survey.ProblemNotInList, survey.ProblemNotANumber, survey.ProblemNotInteger,
		survey.ProblemTooSmall, survey.ProblemTooLarge, survey.ProblemTooMany, survey.ProblemUnknown:
		return l.T("survey.problem." + code)
	}
	return l.T("survey.problem.invalid")
}

// limitText writes a number item's limit the language's way: whole
// numbers grouped, others with their decimals.
func limitText(l *locale.Localizer, v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return l.Number(int64(v))
	}
	return l.Decimal(v, len(strconv.FormatFloat(math.Abs(v-math.Trunc(v)), 'f', -1, 64))-2)
}

// sectionOf is the questionnaire's section with the id.
func sectionOf(q survey.Questionnaire, id string) (survey.Section, bool) {
	for _, s := range q.Sections {
		if s.ID == id {
			return s, true
		}
	}
	return survey.Section{}, false
}

// postedAnswers reads the answers to the section's items from the form:
// every item of the section, an empty answer clearing the item's saved
// one (an unticked box posts nothing). It refuses (false) a form with an
// answer field that names no item of the section: a form this page did
// not draw.
func postedAnswers(q survey.Questionnaire, sec survey.Section, form url.Values) (survey.Answers, bool) {
	items := map[string]survey.Item{}
	for _, it := range sec.Items {
		items[it.ID] = it
	}
	for name := range form {
		if id, isItem := strings.CutPrefix(name, itemPrefix); isItem {
			if _, ok := items[id]; !ok {
				return nil, false
			}
		}
	}
	out := survey.Answers{}
	for _, it := range sec.Items {
		var values []string
		for _, v := range form[itemPrefix+it.ID] {
			v = strings.TrimSpace(v)
			if it.Kind == survey.KindNumber {
				// A decimal comma is how Norwegians write a number.
				v = strings.ReplaceAll(strings.ReplaceAll(v, " ", ""), ",", ".")
			}
			if v != "" {
				values = append(values, v)
			}
		}
		out[it.ID] = values
		if values == nil {
			out[it.ID] = []string{}
		}
	}
	return out, true
}

// merge returns the saved answers with the posted ones over them (an
// empty posted answer clears).
func merge(saved, posted survey.Answers) survey.Answers {
	out := saved.Clone()
	for id, v := range posted {
		if len(v) == 0 {
			delete(out, id)
		} else {
			out[id] = v
		}
	}
	return out
}

// respondThanks is the page after a submission.
func (p *Pages) respondThanks(c *gin.Context) {
	l := loc(c)
	p.respondStatus(c, http.StatusOK, l.T("respond.thanks.title"), l.T("respond.thanks.heading"), l.T("respond.thanks.message"), "")
}

// respondBadForm answers a post this page did not draw (unknown fields,
// a missing request id or button): 400, nothing written.
func (p *Pages) respondBadForm(c *gin.Context, token string) {
	l := loc(c)
	p.respondStatus(c, http.StatusBadRequest, l.T("respond.bad_form.title"), l.T("respond.bad_form.title"), l.T("respond.bad_form.message"), respondPath(token, ""))
}

// respondFailed answers a link that opens nothing, or a failure: an
// unknown link is one page whatever the reason (never whether another
// link exists), a used one says only that the answer was sent, an
// expired one or one of a closed wave names the close, one of a wave not
// yet open its opening day. The wave's days come from sess where the
// service returns it with the error.
func (p *Pages) respondFailed(c *gin.Context, sess surveys.Session, err error) {
	l := loc(c)
	switch {
	case errors.Is(err, surveys.ErrLinkUnknown):
		p.respondStatus(c, http.StatusNotFound, l.T("respond.unknown.title"), l.T("respond.unknown.title"), l.T("respond.unknown.message"), "")
	case errors.Is(err, surveys.ErrLinkUsed):
		p.respondStatus(c, http.StatusGone, l.T("respond.used.title"), l.T("respond.used.title"), l.T("respond.used.message"), "")
	case errors.Is(err, surveys.ErrLinkExpired), errors.Is(err, surveys.ErrWaveClosed):
		msg := l.T("respond.closed.message")
		day := sess.Wave.Closes
		if sess.Wave.Closed && sess.Wave.ClosedOn != "" {
			day = sess.Wave.ClosedOn
		}
		if d, ok := dayOf(day); ok {
			msg = l.T("respond.closed.message_on", "Date", l.Date(d))
		}
		p.respondStatus(c, http.StatusGone, l.T("respond.closed.title"), l.T("respond.closed.title"), msg, "")
	case errors.Is(err, surveys.ErrWaveNotOpen):
		msg := l.T("respond.not_open.message")
		if d, ok := dayOf(sess.Wave.Opens); ok {
			msg = l.T("respond.not_open.message_on", "Date", l.Date(d))
		}
		p.respondStatus(c, http.StatusForbidden, l.T("respond.not_open.title"), l.T("respond.not_open.title"), msg, "")
	default:
		p.fail(c, err)
	}
}

// dayOf reads a wave's day (YYYY-MM-DD) as noon in Oslo, so that it is
// written as that day whatever the zone.
func dayOf(s string) (time.Time, bool) {
	d, err := time.ParseInLocation(time.DateOnly, s, calendar.Oslo)
	if err != nil {
		return time.Time{}, false
	}
	return d.Add(12 * time.Hour), true
}

// respondStatus renders one of the answer pages that is not a section.
func (p *Pages) respondStatus(c *gin.Context, status int, title, heading, message, cont string) {
	// The language switch returns to the link, which shows whatever it
	// shows then in the language chosen.
	here := "/"
	if token := c.Param("token"); token != "" {
		here = respondPath(token, "")
	}
	p.render(c, status, "respond_status", &respondStatusView{
		layoutData: layoutData{Title: title, Here: here},
		Status:     status, Heading: heading, Message: message, Continue: cont,
	})
	c.Abort()
}

// respondPath is the answer page's address, at a section if one is named.
func respondPath(token, section string) string {
	path := "/s/" + url.PathEscape(token)
	if section != "" {
		path += "?section=" + url.QueryEscape(section)
	}
	return path
}

// newRequestID returns a fresh request id for a form: 128 random bits.
func newRequestID() string {
	raw := make([]byte, 16)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// validRequestID reports whether s is a request id newRequestID made.
func validRequestID(s string) bool {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(raw) == 16
}
