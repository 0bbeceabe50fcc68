package web

import (
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/surveys"
)

// The researchers' and coordinators' survey pages (docs/surveys.md,
// Response tracking): /surveys lists the waves a reader may see (a
// researcher's projects' waves, a coordinator's municipalities' waves
// with their counts); /surveys/questionnaires uploads, checks and
// publishes questionnaires and /surveys/questionnaires/{id}/{version}
// previews one as a respondent would see it; the wave form schedules a
// wave of a project; a wave's page shows its tracking, makes links (a
// CSV download, shown once) and closes it. Who may see what is
// surveys.WaveAccess, the API's rule.

// sectionSurveys marks the survey pages in the navigation.
const sectionSurveys = "surveys"

// surveyPageNames are the survey pages' templates (templates/surveys_*.html).
var surveyPageNames = []string{"surveys_home", "surveys_questionnaires", "surveys_preview", "surveys_wave_new", "surveys_wave"}

func init() {
	base := template.Must(template.New("base").Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/form.html", "templates/surveys_partial.html"))
	for _, name := range surveyPageNames {
		pageTemplates[name] = template.Must(template.Must(base.Clone()).ParseFS(files, "templates/"+name+".html"))
	}
}

// registerSurveys adds the survey pages to g (signed-in routes): 404
// pages when cmd gives no surveys.Service.
func (p *Pages) registerSurveys(g *gin.RouterGroup) {
	// Who may comes first, then whether the server fields surveys, as on
	// the API: a viewer is told 403 either way.
	follow, manage, need := p.surveyFollowersOnly, p.exportersOnlySurveys, p.needSurveys
	s := g.Group("/surveys")
	s.GET("", follow, need, p.surveysHome)
	s.GET("/questionnaires", manage, need, p.questionnairesPage)
	s.POST("/questionnaires", manage, need, p.readUpload, p.checkCSRF, p.validText, p.questionnairesPost)
	s.GET("/questionnaires/:id/:version", manage, need, p.questionnairePreview)
	s.GET("/projects/:project/waves/new", manage, need, p.waveForm)
	s.POST("/projects/:project/waves/new", manage, need, p.checkCSRF, p.validText, p.waveCreate)
	s.GET("/waves/:wave", follow, need, p.wavePage)
	s.POST("/waves/:wave/links", manage, need, p.checkCSRF, p.validText, p.waveLinks)
	s.POST("/waves/:wave/close", manage, need, p.checkCSRF, p.validText, p.waveClose)
}

// surveyFollowersOnly lets admins, researchers and coordinators through;
// viewers get the 403 page.
func (p *Pages) surveyFollowersOnly(c *gin.Context) {
	if !mayFollowSurveys(principal(c)) {
		p.errorPageBack(c, http.StatusForbidden, loc(c).T("surveys.forbidden"), "/")
	}
}

// needSurveys answers a 404 page when the server fields no surveys.
func (p *Pages) needSurveys(c *gin.Context) {
	if p.surveys == nil {
		p.fail(c, notFound(loc(c).T("surveys.unavailable")))
	}
}

// exportersOnlySurveys lets admins and researchers through; others get
// the 403 page.
func (p *Pages) exportersOnlySurveys(c *gin.Context) {
	if !principal(c).MayExport() {
		p.errorPageBack(c, http.StatusForbidden, loc(c).T("surveys.forbidden"), "/surveys")
	}
}

// readUpload reads the upload form (multipart, with its file) within the
// pages' form limit, so that a file too large is a 413 page that says so
// rather than a form without its CSRF token.
func (p *Pages) readUpload(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxFormBytes)
	var tooLarge *http.MaxBytesError
	if err := c.Request.ParseMultipartForm(maxFormBytes); errors.As(err, &tooLarge) {
		p.errorPageBack(c, http.StatusRequestEntityTooLarge, loc(c).T("surveys.upload.too_large"), "/surveys/questionnaires")
	}
}

// mayFollowSurveys reports whether pr has survey pages at all: admins,
// researchers and coordinators.
func mayFollowSurveys(pr auth.Principal) bool {
	return pr.MayExport() || pr.Role == auth.RoleCoordinator
}

// surveyCrumbs lead back to the survey pages' start.
func surveyCrumbs(l *locale.Localizer) []crumb {
	return []crumb{{"/surveys", l.T("surveys.title")}}
}

// waveRow is a wave in a list, with its counts when shown.
type waveRow struct {
	surveys.WaveInfo
	Group   string
	Counted bool
	Totals  auth.LinkCount
	Rate    string
}

// projectWaves is a project with its waves on the survey start page.
type projectWaves struct {
	ID, Name string
	Waves    []waveRow
}

// surveysHomePage is /surveys' data.
type surveysHomePage struct {
	layoutData
	// Manage is true for researchers and admins (projects, questionnaires);
	// coordinators see Waves with counts.
	Manage   bool
	Projects []projectWaves
	Waves    []waveRow
}

// surveysHome lists the waves the reader may see.
func (p *Pages) surveysHome(c *gin.Context) {
	ctx := c.Request.Context()
	l, pr := loc(c), principal(c)
	page := &surveysHomePage{layoutData: layoutData{Title: l.T("surveys.title"), Section: sectionSurveys}, Manage: pr.MayExport()}
	if page.Manage {
		var projects []auth.Project
		if p.projectStore != nil {
			var err error
			if projects, err = p.projectStore.ProjectsOf(ctx, pr); err != nil {
				p.fail(c, err)
				return
			}
		}
		for _, pj := range projects {
			ws, err := p.surveys.Waves(ctx, pj.ID)
			if err != nil {
				p.fail(c, err)
				return
			}
			rows := make([]waveRow, len(ws))
			for i, w := range ws {
				rows[i] = waveRow{WaveInfo: w, Group: groupLabel(l, w.Group)}
			}
			page.Projects = append(page.Projects, projectWaves{ID: pj.ID, Name: pj.Name, Waves: rows})
		}
	} else {
		ws, err := p.surveys.Waves(ctx, "")
		if err != nil {
			p.fail(c, err)
			return
		}
		for _, w := range ws {
			if surveys.WaveAccess(pr, w.Wave, auth.Project{}) != surveys.AccessCounts {
				continue
			}
			t, err := p.surveys.Track(ctx, w.ID)
			if err != nil {
				p.fail(c, err)
				return
			}
			t.Wave = w
			mine := t.For(pr, surveys.AccessCounts)
			page.Waves = append(page.Waves, waveRow{WaveInfo: w, Group: groupLabel(l, w.Group), Counted: true,
				Totals: mine.Totals, Rate: rateText(l, mine.Totals)})
		}
	}
	p.render(c, http.StatusOK, "surveys_home", page)
}

// groupLabel names a target group in the reader's language.
func groupLabel(l *locale.Localizer, group string) string {
	if slices.Contains(survey.Groups, group) {
		return l.T("survey.group." + group)
	}
	return group
}

// rateText is a response rate as a percentage ("–" before any link).
func rateText(l *locale.Localizer, n auth.LinkCount) string {
	r := surveys.ResponseRate(n)
	if r == nil {
		return "–"
	}
	return l.Decimal(*r*100, 0) + " %"
}

// problemLine is one problem of a form, shown in a list.
type problemLine struct {
	// Where names the place (a path in a definition, a field).
	Where string
	Text  string
	// Detail is the domain's own English message, for the specifics.
	Detail string
}

// questionnaireRow is a questionnaire in the list.
type questionnaireRow struct {
	ID, Title string
	Version   int
	Versions  []int
}

// questionnairesPage is /surveys/questionnaires' data.
type questionnairesPage struct {
	layoutData
	Questionnaires []questionnaireRow
	// Definition is the text of the form, kept when it is drawn again.
	Definition string
	Problems   []problemLine
	// Checked is the preview of a definition that passed the check.
	Checked *previewData
}

// questionnairesPage lists the questionnaires and the upload form.
func (p *Pages) questionnairesPage(c *gin.Context) {
	p.drawQuestionnaires(c, http.StatusOK, &questionnairesPage{})
}

func (p *Pages) drawQuestionnaires(c *gin.Context, status int, page *questionnairesPage) {
	l := loc(c)
	qs, err := p.surveys.Questionnaires(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	page.layoutData = layoutData{Title: l.T("surveys.questionnaires.title"), Section: sectionSurveys, Crumbs: surveyCrumbs(l), Here: "/surveys/questionnaires"}
	for _, q := range qs {
		row := questionnaireRow{ID: q.ID, Title: q.Title.In(string(l.Lang())), Version: q.Version}
		for v := q.Version; v >= 1; v-- {
			row.Versions = append(row.Versions, v)
		}
		page.Questionnaires = append(page.Questionnaires, row)
	}
	p.render(c, status, "surveys_questionnaires", page)
}

// maxDefinitionBytes bounds a definition sent through the form, as the
// API bounds its body.
const maxDefinitionBytes = 1 << 20

// questionnairesPost checks (action=check) or publishes (action=publish)
// the definition of the textarea, or of the file chosen instead.
func (p *Pages) questionnairesPost(c *gin.Context) {
	l := loc(c)
	text := c.PostForm("definition")
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			p.fail(c, fmt.Errorf("open the uploaded questionnaire: %w", err))
			return
		}
		data, err := io.ReadAll(io.LimitReader(f, maxDefinitionBytes+1))
		_ = f.Close()
		if err != nil {
			p.fail(c, fmt.Errorf("read the uploaded questionnaire: %w", err))
			return
		}
		if len(data) > maxDefinitionBytes {
			p.errorPage(c, http.StatusRequestEntityTooLarge, l.T("errors.form_unreadable"))
			return
		}
		text = string(data)
	}
	page := &questionnairesPage{Definition: text}
	if strings.TrimSpace(text) == "" {
		page.Problems = []problemLine{{Text: l.T("surveys.upload.empty")}}
		p.drawQuestionnaires(c, http.StatusUnprocessableEntity, page)
		return
	}
	q, err := survey.Parse([]byte(text))
	if err != nil {
		p.questionnaireRefused(c, page, err)
		return
	}
	if c.PostForm("action") != "publish" {
		page.Checked = newPreview(l, q, string(l.Lang()))
		page.Checked.Nested = true
		p.drawQuestionnaires(c, http.StatusOK, page)
		return
	}
	published, err := p.surveys.Publish(c.Request.Context(), surveyActor(c), q)
	if err != nil {
		p.questionnaireRefused(c, page, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/surveys/questionnaires/"+url.PathEscape(published.ID)+"/"+strconv.Itoa(published.Version)+"?published=1")
}

// questionnaireRefused draws the form again with every problem of an
// invalid definition, its text kept.
func (p *Pages) questionnaireRefused(c *gin.Context, page *questionnairesPage, err error) {
	var invalid *survey.ValidationError
	if !errors.As(err, &invalid) {
		p.fail(c, err)
		return
	}
	l := loc(c)
	for _, pr := range invalid.Problems {
		page.Problems = append(page.Problems, problemLine{Where: pr.Path, Text: problemText(l, pr.Code), Detail: pr.Message})
	}
	p.drawQuestionnaires(c, http.StatusUnprocessableEntity, page)
}

// problemCodes are the domain's problem codes the catalogue words.
var problemCodes = []string{survey.ProblemRequired, survey.ProblemInvalid, survey.ProblemDuplicate, survey.ProblemUnknown,
	survey.ProblemNotInList, survey.ProblemNotANumber, survey.ProblemNotInteger, survey.ProblemTooSmall, survey.ProblemTooLarge,
	survey.ProblemTooLong, survey.ProblemTooMany, survey.ProblemForwardSkip}

// problemText words a problem code in the reader's language.
func problemText(l *locale.Localizer, code string) string {
	if slices.Contains(problemCodes, code) {
		return l.T("surveys.problem." + code)
	}
	return l.T("surveys.problem.other")
}

// surveyActor names the signed-in reader in the events a page writes.
func surveyActor(c *gin.Context) eventstore.Actor {
	pr := principal(c)
	return eventstore.Actor{Subject: pr.Subject, Role: pr.Role}
}

// previewData is a questionnaire drawn as a respondent would see it.
type previewData struct {
	ID, Title, Intro string
	Version          int
	Lang             string
	// Nested is true inside a section of its page (the check's preview):
	// its headings start a level lower, and it shows its own title (the
	// preview page's h1 is the title).
	Nested   bool
	Sections []previewSection
}

type previewSection struct {
	ID, Title, Intro string
	Condition        string
	Items            []previewItem
}

type previewItem struct {
	ID, Kind, Text, Help string
	Required             bool
	Condition            string
	// Choices are a Likert item's points or an option item's options.
	Choices []previewChoice
	// Multiple is true for checkboxes.
	Multiple bool
	// Range describes a number's bounds and unit in words.
	Range     string
	MaxLength int
}

type previewChoice struct{ Value, Label string }

// newPreview draws q in lang (nb, nn, en): every section and item, with
// the skip conditions said in words.
func newPreview(l *locale.Localizer, q survey.Questionnaire, lang string) *previewData {
	out := &previewData{ID: q.ID, Version: q.Version, Title: q.Title.In(lang), Intro: q.Intro.In(lang), Lang: lang}
	for _, s := range q.Sections {
		ps := previewSection{ID: s.ID, Title: s.Title.In(lang), Intro: s.Intro.In(lang), Condition: conditionText(l, q, s.ShowIf, lang)}
		for _, it := range s.Items {
			pi := previewItem{ID: it.ID, Kind: it.Kind, Text: it.Text.In(lang), Help: it.Help.In(lang), Required: it.Required,
				Condition: conditionText(l, q, it.ShowIf, lang), Multiple: it.Kind == survey.KindMultiple}
			switch it.Kind {
			case survey.KindLikert:
				pi.Choices = likertChoices(it, lang)
			case survey.KindSingle, survey.KindMultiple:
				for _, o := range it.Options {
					pi.Choices = append(pi.Choices, previewChoice{Value: o.Code, Label: o.Label.In(lang)})
				}
			case survey.KindNumber:
				pi.Range = numberHint(l, lang, it)
			case survey.KindText:
				pi.MaxLength = it.MaxLength
				if pi.MaxLength == 0 {
					pi.MaxLength = 2000
				}
			}
			ps.Items = append(ps.Items, pi)
		}
		out.Sections = append(out.Sections, ps)
	}
	return out
}

// likertChoices are a scale's points 1..Points, each with its label where
// the scale has one (every point, or only the ends).
func likertChoices(it survey.Item, lang string) []previewChoice {
	if it.Scale == nil {
		return nil
	}
	n := it.Scale.Points
	out := make([]previewChoice, n)
	for i := range out {
		v := strconv.Itoa(i + 1)
		label := v
		switch {
		case len(it.Scale.Labels) == n:
			label = v + " – " + it.Scale.Labels[i].In(lang)
		case len(it.Scale.Labels) == 2 && i == 0:
			label = v + " – " + it.Scale.Labels[0].In(lang)
		case len(it.Scale.Labels) == 2 && i == n-1:
			label = v + " – " + it.Scale.Labels[1].In(lang)
		}
		out[i] = previewChoice{Value: v, Label: label}
	}
	return out
}

// conditionText says a skip condition in words: «shown only if the answer
// to "<item>" is <value> or <value>».
func conditionText(l *locale.Localizer, q survey.Questionnaire, cond *survey.Condition, lang string) string {
	if cond == nil {
		return ""
	}
	it, ok := q.Item(cond.Item)
	if !ok {
		return l.T("surveys.preview.condition", "Item", cond.Item, "Values", strings.Join(cond.In, ", "))
	}
	var values []string
	for _, v := range cond.In {
		label := v
		switch it.Kind {
		case survey.KindLikert:
			for _, ch := range likertChoices(it, lang) {
				if ch.Value == v {
					label = ch.Label
				}
			}
		case survey.KindSingle, survey.KindMultiple:
			for _, o := range it.Options {
				if o.Code == v {
					label = o.Label.In(lang)
				}
			}
		}
		values = append(values, "«"+label+"»")
	}
	return l.T("surveys.preview.condition", "Item", it.Text.In(lang), "Values", strings.Join(values, " "+l.T("surveys.preview.or")+" "))
}

// previewPage is /surveys/questionnaires/{id}/{version}'s data.
type previewPage struct {
	layoutData
	Preview   *previewData
	Published bool
	// Languages are the links to the preview in each language.
	Languages []choice
}

// questionnairePreview draws one version read-only, in the reader's
// language or the one ?text= asks for.
func (p *Pages) questionnairePreview(c *gin.Context) {
	l := loc(c)
	version, err := strconv.Atoi(c.Param("version"))
	if err != nil || version < 1 {
		p.fail(c, notFound(l.T("surveys.questionnaire.not_found")))
		return
	}
	q, err := p.surveys.Questionnaire(c.Request.Context(), c.Param("id"), version)
	if errors.Is(err, surveys.ErrQuestionnaireNotFound) {
		p.fail(c, notFound(l.T("surveys.questionnaire.not_found")))
		return
	}
	if err != nil {
		p.fail(c, err)
		return
	}
	lang := string(l.Lang())
	if v := c.Query("text"); slices.Contains(survey.Languages, v) {
		lang = v
	}
	page := &previewPage{Preview: newPreview(l, q, lang), Published: c.Query("published") != ""}
	page.layoutData = layoutData{Title: l.T("surveys.preview.title", "Title", page.Preview.Title, "Version", version), Section: sectionSurveys,
		Crumbs: append(surveyCrumbs(l), crumb{"/surveys/questionnaires", l.T("surveys.questionnaires.title")})}
	for _, lg := range survey.Languages {
		page.Languages = append(page.Languages, choice{Value: lg, Label: l.T("survey.language." + lg), Selected: lg == lang})
	}
	p.render(c, http.StatusOK, "surveys_preview", page)
}

// waveFormPage is the wave form's data.
type waveFormPage struct {
	layoutData
	Project        auth.Project
	Questionnaires []choice
	Groups         []choice
	Municipalities []choice
	// FreeMunicipalities is true when the project names none (all): the
	// codes are typed.
	FreeMunicipalities bool
	Form               waveFormValues
	Problems           []problemLine
}

// waveFormValues are what the wave form was sent with.
type waveFormValues struct {
	Title, Questionnaire, Group, Opens, Closes, Partnerships, Municipalities string
	Chosen                                                                   []string
}

// projectOf returns the route's project when the reader may manage its
// surveys; else it answers the same 404 page as for an unknown project.
func (p *Pages) projectOf(c *gin.Context) (auth.Project, bool) {
	l := loc(c)
	if p.projectStore == nil {
		p.fail(c, notFound(l.T("surveys.project.not_found")))
		return auth.Project{}, false
	}
	pj, err := p.projectStore.Project(c.Request.Context(), c.Param("project"))
	if errors.Is(err, auth.ErrProjectNotFound) || err == nil && !auth.MayExportProject(principal(c), pj) {
		p.fail(c, notFound(l.T("surveys.project.not_found")))
		return auth.Project{}, false
	}
	if err != nil {
		p.fail(c, err)
		return auth.Project{}, false
	}
	return pj, true
}

// waveForm draws the form of a new wave of the project.
func (p *Pages) waveForm(c *gin.Context) {
	pj, ok := p.projectOf(c)
	if !ok {
		return
	}
	p.drawWaveForm(c, http.StatusOK, pj, waveFormValues{Chosen: codesOf(pj)}, nil)
}

func codesOf(pj auth.Project) []string {
	out := make([]string, len(pj.Municipalities))
	for i, m := range pj.Municipalities {
		out[i] = string(m)
	}
	return out
}

func (p *Pages) drawWaveForm(c *gin.Context, status int, pj auth.Project, form waveFormValues, problems []problemLine) {
	l := loc(c)
	lang := string(l.Lang())
	qs, err := p.surveys.Questionnaires(c.Request.Context())
	if err != nil {
		p.fail(c, err)
		return
	}
	page := &waveFormPage{Project: pj, Form: form, Problems: problems, FreeMunicipalities: len(pj.Municipalities) == 0}
	page.layoutData = layoutData{Title: l.T("surveys.wave_new.title", "Project", pj.Name), Section: sectionSurveys, Crumbs: surveyCrumbs(l),
		Here: "/surveys/projects/" + pj.ID + "/waves/new"}
	for _, q := range qs {
		for v := q.Version; v >= 1; v-- {
			value := q.ID + "@" + strconv.Itoa(v)
			page.Questionnaires = append(page.Questionnaires, choice{Value: value,
				Label: l.T("surveys.wave_new.questionnaire_version", "Title", q.Title.In(lang), "Version", v), Selected: form.Questionnaire == value})
		}
	}
	for _, g := range survey.Groups {
		page.Groups = append(page.Groups, choice{Value: g, Label: groupLabel(l, g), Selected: form.Group == g})
	}
	for _, m := range pj.Municipalities {
		code := string(m)
		page.Municipalities = append(page.Municipalities, choice{Value: code, Label: m.Name() + " (" + code + ")", Selected: slices.Contains(form.Chosen, code)})
	}
	p.render(c, status, "surveys_wave_new", page)
}

// splitList splits a typed list of ids or codes at commas, spaces and
// line breaks.
func splitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' })
}

// waveCreate schedules the wave and sends the browser to its page; a
// refused wave draws the form again with every problem.
func (p *Pages) waveCreate(c *gin.Context) {
	l := loc(c)
	pj, ok := p.projectOf(c)
	if !ok {
		return
	}
	form := waveFormValues{Title: c.PostForm("title"), Questionnaire: c.PostForm("questionnaire"), Group: c.PostForm("group"),
		Opens: c.PostForm("opens"), Closes: c.PostForm("closes"), Partnerships: c.PostForm("partnerships"),
		Municipalities: c.PostForm("municipalities_typed"), Chosen: c.PostFormArray("municipalities")}
	w := survey.Wave{ProjectID: pj.ID, Title: strings.TrimSpace(form.Title), Group: form.Group, Opens: form.Opens, Closes: form.Closes,
		Partnerships: splitList(form.Partnerships)}
	w.Municipalities = append(w.Municipalities, form.Chosen...)
	w.Municipalities = append(w.Municipalities, splitList(form.Municipalities)...)
	var problems []problemLine
	if id, version, ok := strings.Cut(form.Questionnaire, "@"); ok {
		w.QuestionnaireID = id
		if w.QuestionnaireVersion, _ = strconv.Atoi(version); w.QuestionnaireVersion < 1 {
			problems = append(problems, problemLine{Where: l.T("surveys.field.questionnaire"), Text: l.T("surveys.wave_new.pick_questionnaire")})
		}
	} else {
		problems = append(problems, problemLine{Where: l.T("surveys.field.questionnaire"), Text: l.T("surveys.wave_new.pick_questionnaire")})
	}
	if len(problems) > 0 {
		p.drawWaveForm(c, http.StatusUnprocessableEntity, pj, form, problems)
		return
	}
	created, err := p.surveys.Schedule(c.Request.Context(), surveyActor(c), w)
	var invalid *surveys.WaveError
	switch {
	case errors.As(err, &invalid):
		for _, pr := range invalid.Problems {
			problems = append(problems, problemLine{Where: fieldLabel(l, pr.Field), Text: pr.Message})
		}
		p.drawWaveForm(c, http.StatusUnprocessableEntity, pj, form, problems)
		return
	case errors.Is(err, surveys.ErrQuestionnaireNotFound):
		problems = append(problems, problemLine{Where: l.T("surveys.field.questionnaire"), Text: l.T("surveys.questionnaire.not_found")})
		p.drawWaveForm(c, http.StatusUnprocessableEntity, pj, form, problems)
		return
	case err != nil:
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/surveys/waves/"+url.PathEscape(created.ID))
}

// waveFields are the wave's and the links' fields the catalogue names.
var waveFields = []string{"title", "questionnaire", "questionnaire_id", "questionnaire_version", "group", "municipalities",
	"partnerships", "opens", "closes", "municipality", "partnership_id", "count", "reason"}

// fieldLabel names a field of a wave or link request in the reader's
// language (a field the catalogue does not know as itself; indexes such
// as municipalities[1] by their list).
func fieldLabel(l *locale.Localizer, field string) string {
	name, _, _ := strings.Cut(field, "[")
	if slices.Contains(waveFields, name) {
		return l.T("surveys.field." + name)
	}
	return field
}

// wavePage is a wave page's data.
type wavePage struct {
	layoutData
	Wave           surveys.WaveInfo
	Group          string
	Project        string
	Municipalities []choice
	// Manage shows the forms and the researchers' links; a coordinator
	// sees the counts of its own municipalities.
	Manage   bool
	Rows     []trackingRow
	Totals   trackingRow
	Problems []problemLine
	// Count, Municipality and PartnershipID are the links form's values.
	Count, Municipality, PartnershipID string
	Reason                             string
	// MaxLinks is the most links one request makes.
	MaxLinks int
	Reports  []choice
	Exports  []choice
}

// trackingRow is a row of the tracking table.
type trackingRow struct {
	auth.LinkCount
	MunicipalityName string
	Group            string
	Rate             string
}

// wave returns the route's wave when the reader has at least need; else
// the same 404 page as for an unknown wave.
func (p *Pages) wave(c *gin.Context, need surveys.Access) (surveys.WaveInfo, auth.Project, surveys.Access, bool) {
	ctx := c.Request.Context()
	l := loc(c)
	w, err := p.surveys.Wave(ctx, c.Param("wave"))
	if errors.Is(err, surveys.ErrWaveNotFound) {
		p.fail(c, notFound(l.T("surveys.wave.not_found")))
		return surveys.WaveInfo{}, auth.Project{}, surveys.AccessNone, false
	}
	if err != nil {
		p.fail(c, err)
		return surveys.WaveInfo{}, auth.Project{}, surveys.AccessNone, false
	}
	var pj auth.Project
	if p.projectStore != nil {
		if pj, err = p.projectStore.Project(ctx, w.ProjectID); err != nil && !errors.Is(err, auth.ErrProjectNotFound) {
			p.fail(c, err)
			return surveys.WaveInfo{}, auth.Project{}, surveys.AccessNone, false
		}
	}
	access := surveys.WaveAccess(principal(c), w.Wave, pj)
	if access < need {
		p.fail(c, notFound(l.T("surveys.wave.not_found")))
		return surveys.WaveInfo{}, auth.Project{}, surveys.AccessNone, false
	}
	return w, pj, access, true
}

// wavePage draws a wave: its details, its tracking and, for those who
// manage it, the links and close forms.
func (p *Pages) wavePage(c *gin.Context) {
	w, pj, access, ok := p.wave(c, surveys.AccessCounts)
	if !ok {
		return
	}
	p.drawWave(c, http.StatusOK, w, pj, access, &wavePage{Count: "10"})
}

func (p *Pages) drawWave(c *gin.Context, status int, w surveys.WaveInfo, pj auth.Project, access surveys.Access, page *wavePage) {
	l, pr := loc(c), principal(c)
	t, err := p.surveys.Track(c.Request.Context(), w.ID)
	if err != nil {
		p.fail(c, err)
		return
	}
	t.Wave = w
	mine := t.For(pr, access)
	page.layoutData = layoutData{Title: w.Title, Section: sectionSurveys, Crumbs: surveyCrumbs(l), Here: "/surveys/waves/" + w.ID}
	page.Wave, page.Group, page.Manage, page.Project = w, groupLabel(l, w.Group), access == surveys.AccessManage, pj.Name
	page.MaxLinks = surveys.MaxLinksPerCall
	if page.Project == "" {
		page.Project = w.ProjectID
	}
	for _, r := range mine.Rows {
		page.Rows = append(page.Rows, trackingRow{LinkCount: r, MunicipalityName: municipalityName(r.Municipality), Group: groupLabel(l, r.Group), Rate: rateText(l, r)})
	}
	page.Totals = trackingRow{LinkCount: mine.Totals, Rate: rateText(l, mine.Totals)}
	shown := w.Municipalities
	if !page.Manage {
		shown = surveys.OwnMunicipalities(pr, w.Wave)
	}
	for _, m := range shown {
		page.Municipalities = append(page.Municipalities, choice{Value: m, Label: municipalityName(m) + " (" + m + ")", Selected: m == page.Municipality})
		page.Reports = append(page.Reports, choice{Value: "/surveys/waves/" + url.PathEscape(w.ID) + "/report/" + url.PathEscape(m), Label: municipalityName(m)})
	}
	if page.Manage {
		q := url.Values{"project": {w.ProjectID}, "wave": {w.ID}}.Encode()
		for _, f := range []string{"csv", "dta", "parquet"} {
			page.Exports = append(page.Exports, choice{Value: researchFilesPath + "responses." + f + "?" + q, Label: l.T("surveys.wave.export." + f)})
		}
	}
	p.render(c, status, "surveys_wave", page)
}

// municipalityName names a code ("4203" → "Arendal"), or the code itself.
func municipalityName(code string) string {
	if n := kommune.Code(code).Name(); n != "" {
		return n
	}
	return code
}

// waveLinks makes the links the form asks for and answers them as the
// CSV download (shown once); a refused request draws the page again.
func (p *Pages) waveLinks(c *gin.Context) {
	l := loc(c)
	w, pj, access, ok := p.wave(c, surveys.AccessManage)
	if !ok {
		return
	}
	page := &wavePage{Count: c.PostForm("count"), Municipality: c.PostForm("municipality"), PartnershipID: strings.TrimSpace(c.PostForm("partnership_id"))}
	req := surveys.LinkRequest{Municipality: page.Municipality, PartnershipID: page.PartnershipID}
	// A count that is no number is 0, which IssueLinks names as wrong.
	req.Count, _ = strconv.Atoi(strings.TrimSpace(page.Count))
	links, err := p.surveys.IssueLinks(c.Request.Context(), surveyActor(c), w.ID, req)
	var invalid *surveys.WaveError
	switch {
	case errors.As(err, &invalid):
		for _, pr := range invalid.Problems {
			page.Problems = append(page.Problems, problemLine{Where: fieldLabel(l, pr.Field), Text: pr.Message})
		}
		p.drawWave(c, http.StatusUnprocessableEntity, w, pj, access, page)
		return
	case errors.Is(err, surveys.ErrWaveClosed):
		page.Problems = append(page.Problems, problemLine{Text: l.T("surveys.wave.closed_no_links")})
		p.drawWave(c, http.StatusConflict, w, pj, access, page)
		return
	case err != nil:
		p.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="`+surveys.LinksFilename(w.ID, req.Municipality)+`"`)
	c.Data(http.StatusOK, "text/csv; charset=utf-8", surveys.LinksCSV(p.surveys.LinkBase(edge.BaseURL(c)), links))
}

// waveClose closes the wave and sends the browser back to its page.
func (p *Pages) waveClose(c *gin.Context) {
	l := loc(c)
	w, pj, access, ok := p.wave(c, surveys.AccessManage)
	if !ok {
		return
	}
	reason := strings.TrimSpace(c.PostForm("reason"))
	if len([]rune(reason)) > 500 {
		page := &wavePage{Count: "10", Reason: reason, Problems: []problemLine{{Where: l.T("surveys.field.reason"), Text: l.T("surveys.wave.reason_too_long")}}}
		p.drawWave(c, http.StatusUnprocessableEntity, w, pj, access, page)
		return
	}
	if err := p.surveys.Close(c.Request.Context(), surveyActor(c), w.ID, reason); err != nil {
		p.fail(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/surveys/waves/"+url.PathEscape(w.ID))
}
