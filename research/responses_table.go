package research

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/locale"
)

// PersonalFreeText is why a free-text column is flagged Personal.
const PersonalFreeText = "free text can identify a person"

// ResponsesTable describes a wave's responses file: the response and its
// partnership's covariates on the day answered (the same for every wave),
// then a column per item of the wave's questionnaire version (one per
// option of a multiple-choice item), labelled with the item's text. It
// fails when two columns would share a name.
func (f File) ResponsesTable(w survey.Wave, q survey.Questionnaire) (Table, error) {
	title := w.Title
	if title == "" {
		title = w.ID
	}
	t := Table{
		Name:    KindResponses,
		Title:   "Survey responses: " + title,
		TitleNB: "Svar på spørreundersøkelse: " + title,
		Description: fmt.Sprintf("One row per submitted response of survey wave %s per partnership it concerns (a response about two partnerships is two rows with the same response_key), "+
			"with the partnership's covariates on the day answered (the spells row whose interval holds that day, tstart ≤ day < tstop) and the answers to questionnaire %s version %d.", w.ID, q.ID, q.Version),
		DescriptionNB: fmt.Sprintf("Én rad per innsendt svar i undersøkelsesrunde %s per samarbeid svaret gjelder (et svar om to samarbeid er to rader med samme response_key), "+
			"med samarbeidets forklaringsvariabler på svardagen (raden i spells der intervallet rommer dagen, tstart ≤ day < tstop) og svarene på spørreskjema %s versjon %d.", w.ID, q.ID, q.Version),
		PrimaryKey: []string{"response_key", "partnership_key"},
	}
	t.Columns = append(t.Columns, responseColumns()...)
	t.Columns = append(t.Columns, covariateColumns()...)
	for _, s := range q.Sections {
		for _, it := range s.Items {
			if f.WithoutFreeText && it.Kind == survey.KindText {
				continue
			}
			t.Columns = append(t.Columns, itemColumns(q, s, it)...)
		}
	}
	seen := map[string]bool{}
	for _, c := range t.Columns {
		if seen[c.Name] {
			return Table{}, fmt.Errorf("questionnaire %s version %d: two columns of the responses file would be named %s", q.ID, q.Version, c.Name)
		}
		seen[c.Name] = true
	}
	return t, nil
}

// responseColumns describe the response.
func responseColumns() []Column {
	return []Column{
		{Name: "response_key", Type: TypeString, Required: true, Label: "Response (pseudonym)", LabelNB: "Svar (pseudonym)",
			Description: "Pseudonymous key of the response: the same on every row of one response, stable in every export of the research project.", DescriptionNB: "Pseudonym nøkkel for svaret: lik på alle radene til ett svar og i alle uttrekk i forskningsprosjektet."},
		{Name: "wave_id", Type: TypeString, Required: true, Label: "Survey wave", LabelNB: "Undersøkelsesrunde",
			Description: "The id of the survey wave.", DescriptionNB: "Id-en til undersøkelsesrunden."},
		{Name: "questionnaire_id", Type: TypeString, Required: true, Label: "Questionnaire", LabelNB: "Spørreskjema",
			Description: "The id of the questionnaire the wave fields.", DescriptionNB: "Id-en til spørreskjemaet runden bruker."},
		{Name: "questionnaire_version", Type: TypeInteger, Required: true, Label: "Questionnaire version", LabelNB: "Spørreskjemaversjon",
			Description: "The questionnaire's version: it decides the item columns.", DescriptionNB: "Versjonen av spørreskjemaet: den bestemmer spørsmålskolonnene."},
		{Name: "group", Type: TypeString, Required: true, Label: "Target group", LabelNB: "Målgruppe", Values: vocabulary("research.responses.group.", survey.Groups),
			Description: "The group the wave asks.", DescriptionNB: "Gruppen runden spør."},
		{Name: "municipality", Type: TypeString, Required: true, Label: "Municipality (today's code)", LabelNB: "Kommune (dagens nummer)",
			Description: "Kommunenummer of the response's link, four digits, harmonised to today's code.", DescriptionNB: "Kommunenummeret til svarlenken, fire siffer, harmonisert til dagens nummer."},
		{Name: "language", Type: TypeString, Label: "Language answered in", LabelNB: "Svarspråk", Values: vocabulary("survey.language.", survey.Languages),
			Description: "The language the respondent answered in.", DescriptionNB: "Språket respondenten svarte på."},
		{Name: "answered_on", Type: TypeDate, Required: true, Label: "Answered on", LabelNB: "Svardato",
			Description: "The day the response was submitted, Europe/Oslo.", DescriptionNB: "Dagen svaret ble sendt inn, norsk tid."},
		{Name: "partnership_key", Type: TypeString, Label: "Partnership (pseudonym)", LabelNB: "Samarbeid (pseudonym)",
			Description:   "Pseudonymous key of the partnership the row is about: the partnership_key of the project's spells, panel and affiliations files, so they join. Missing only for a response that names no partnership.",
			DescriptionNB: "Pseudonym nøkkel for samarbeidet raden gjelder: partnership_key i prosjektets spells-, panel- og affiliations-filer, så de kan kobles. Mangler bare for et svar som ikke nevner noe samarbeid."},
		{Name: "n_partnerships", Type: TypeInteger, Required: true, Label: "Partnerships in the response", LabelNB: "Samarbeid i svaret",
			Description: "How many partnerships the response concerns: its number of rows.", DescriptionNB: "Hvor mange samarbeid svaret gjelder: antallet rader det har."},
	}
}

// covariateColumns describe the covariates on the day answered: the
// spells' columns of the same names (their labels and codes), none
// required, with day and partnership_ended.
func covariateColumns() []Column {
	spells := SpellsTable().Columns
	cols := make([]Column, 0, len(covariateNames))
	for _, name := range covariateNames {
		switch name {
		case "day":
			cols = append(cols, Column{Name: "day", Type: TypeInteger, Unit: "days", Label: "Day answered (days since start)", LabelNB: "Svardag (dager siden start)",
				Description:   "The day answered in days since the partnership's start_date: the spells' time scale, so a response joins the spells row with tstart ≤ day < tstop. Negative when answered before the partnership began; missing when the partnership is not in the export.",
				DescriptionNB: "Svardagen i dager siden samarbeidets start_date: tidsskalaen i spells, så et svar kobles til raden i spells med tstart ≤ day < tstop. Negativ når svaret kom før samarbeidet startet; mangler når samarbeidet ikke er med i uttrekket."})
		case "partnership_ended":
			cols = append(cols, Column{Name: "partnership_ended", Type: TypeBoolean, Label: "Partnership had ended", LabelNB: "Samarbeidet var avsluttet",
				Description:   "1 when the partnership had ended on or before the day answered (its covariates are then those it ended with), else 0.",
				DescriptionNB: "1 når samarbeidet var avsluttet på eller før svardagen (forklaringsvariablene er da de det ble avsluttet med), ellers 0."})
		default:
			i := slices.IndexFunc(spells, func(c Column) bool { return c.Name == name })
			c := spells[i]
			c.Required = false
			c.Description = strings.TrimSpace("On the day answered. " + c.Description)
			c.DescriptionNB = strings.TrimSpace("På svardagen. " + c.DescriptionNB)
			cols = append(cols, c)
		}
	}
	return cols
}

// vocabulary labels codes from the research catalogue (prefix + code) in
// English, bokmål and nynorsk.
func vocabulary(prefix string, codes []string) []Value {
	en, nb, nn := locale.For(locale.English), locale.For(locale.Bokmal), locale.For(locale.Nynorsk)
	v := make([]Value, len(codes))
	for i, c := range codes {
		v[i] = Value{Code: c, Label: en.T(prefix + c), LabelNB: nb.T(prefix + c), LabelNN: nn.T(prefix + c)}
	}
	return v
}

// itemColumns describe an item's answers: a column named by the item,
// or for a multiple-choice item one per option named <item>__<code>.
func itemColumns(q survey.Questionnaire, s survey.Section, it survey.Item) []Column {
	en, nb, nn := locale.For(locale.English), locale.For(locale.Bokmal), locale.For(locale.Nynorsk)
	c := Column{Name: it.ID, Label: it.Text.In(survey.LangEN), LabelNB: it.Text.In(survey.LangNB), LabelNN: it.Text.In(survey.LangNN)}
	describe := func(extra func(l *locale.Localizer, lang string) string) {
		c.Description = itemDescription(en, survey.LangEN, q, s, it, extra)
		c.DescriptionNB = itemDescription(nb, survey.LangNB, q, s, it, extra)
		c.DescriptionNN = itemDescription(nn, survey.LangNN, q, s, it, extra)
	}
	switch it.Kind {
	case survey.KindLikert:
		c.Type, c.Values = TypeInteger, scaleValues(it.Scale)
		describe(func(l *locale.Localizer, _ string) string {
			return l.T("research.responses.item.likert", "Points", len(c.Values))
		})
	case survey.KindSingle:
		c.Type = TypeString
		for _, o := range it.Options {
			c.Values = append(c.Values, Value{Code: o.Code, Label: o.Label.In(survey.LangEN), LabelNB: o.Label.In(survey.LangNB), LabelNN: o.Label.In(survey.LangNN)})
		}
		describe(func(l *locale.Localizer, _ string) string { return l.T("research.responses.item.single") })
	case survey.KindNumber:
		c.Type = TypeNumber
		if it.Integer {
			c.Type = TypeInteger
		}
		c.Unit = it.Unit.In(survey.LangEN)
		describe(func(l *locale.Localizer, lang string) string {
			if unit := it.Unit.In(lang); unit != "" {
				return l.T("research.responses.item.unit", "Unit", unit)
			}
			return ""
		})
	case survey.KindText:
		c.Type, c.Personal = TypeString, PersonalFreeText
		describe(func(l *locale.Localizer, _ string) string { return l.T("research.responses.item.text") })
	case survey.KindMultiple:
		cols := make([]Column, len(it.Options))
		for i, o := range it.Options {
			oc := Column{Name: optionColumn(it.ID, o.Code, i),
				Type:    TypeBoolean,
				Label:   shortLabel(it.Text.In(survey.LangEN), o.Label.In(survey.LangEN)),
				LabelNB: shortLabel(it.Text.In(survey.LangNB), o.Label.In(survey.LangNB)),
				LabelNN: shortLabel(it.Text.In(survey.LangNN), o.Label.In(survey.LangNN)),
			}
			option := func(l *locale.Localizer, lang string) string {
				return l.T("research.responses.item.multiple", "Option", o.Label.In(lang), "Code", o.Code)
			}
			oc.Description = itemDescription(en, survey.LangEN, q, s, it, option)
			oc.DescriptionNB = itemDescription(nb, survey.LangNB, q, s, it, option)
			oc.DescriptionNN = itemDescription(nn, survey.LangNN, q, s, it, option)
			cols[i] = oc
		}
		return cols
	}
	return []Column{c}
}

// optionColumn names a multiple-choice option's column <item>__<code>;
// where that is longer than the 32 characters Stata allows, the item's
// id shortened and the option's number: <item…>__<n>.
func optionColumn(item, code string, i int) string {
	name := item + "__" + code
	if len(name) <= 32 {
		return name
	}
	n := "__" + strconv.Itoa(i+1)
	return item[:min(len(item), 32-len(n))] + n
}

// shortLabel is "question: option".
func shortLabel(question, option string) string { return question + ": " + option }

// scaleValues label a Likert scale's points "1".."k": every point's label,
// or the ends' only (the points between are their numbers).
func scaleValues(s *survey.Scale) []Value {
	if s == nil {
		return nil
	}
	v := make([]Value, s.Points)
	for i := range v {
		code := strconv.Itoa(i + 1)
		v[i] = Value{Code: code, Label: code, LabelNB: code, LabelNN: code}
		var t survey.Text
		switch {
		case len(s.Labels) == s.Points:
			t = s.Labels[i]
		case len(s.Labels) == 2 && i == 0:
			t = s.Labels[0]
		case len(s.Labels) == 2 && i == s.Points-1:
			t = s.Labels[1]
		}
		if t != nil {
			v[i].Label = code + " " + t.In(survey.LangEN)
			v[i].LabelNB = code + " " + t.In(survey.LangNB)
			v[i].LabelNN = code + " " + t.In(survey.LangNN)
		}
	}
	return v
}

// itemDescription says in the language where the item stands (section,
// theme), what its cells hold (extra) and when it is asked (skip
// conditions in words).
func itemDescription(l *locale.Localizer, lang string, q survey.Questionnaire, s survey.Section, it survey.Item, extra func(*locale.Localizer, string) string) string {
	parts := []string{l.T("research.responses.item.section", "Section", s.Title.In(lang))}
	if it.Theme != "" {
		parts = append(parts, l.T("research.responses.item.theme", "Theme", it.Theme))
	}
	if e := extra(l, lang); e != "" {
		parts = append(parts, e)
	}
	if s.ShowIf != nil {
		parts = append(parts, l.T("research.responses.item.section_show_if", "Item", s.ShowIf.Item, "Values", conditionValues(l, lang, q, *s.ShowIf)))
	}
	if it.ShowIf != nil {
		parts = append(parts, l.T("research.responses.item.show_if", "Item", it.ShowIf.Item, "Values", conditionValues(l, lang, q, *it.ShowIf)))
	}
	parts = append(parts, l.T("research.responses.item.missing"))
	return strings.Join(parts, " ")
}

// SkipCondition says a condition in words in the language: the item it
// looks at and its values with their labels.
func SkipCondition(lang string, q survey.Questionnaire, c survey.Condition) string {
	l := locale.For(localeOf(lang))
	return l.T("research.responses.item.show_if", "Item", c.Item, "Values", conditionValues(l, lang, q, c))
}

func localeOf(lang string) locale.Lang {
	switch lang {
	case survey.LangEN:
		return locale.English
	case survey.LangNN:
		return locale.Nynorsk
	}
	return locale.Bokmal
}

// conditionValues lists a condition's values with their labels: "4 (Agree)
// or 5 (Strongly agree)".
func conditionValues(l *locale.Localizer, lang string, q survey.Questionnaire, c survey.Condition) string {
	target, _ := q.Item(c.Item)
	labels := map[string]string{}
	for _, o := range target.Options {
		labels[o.Code] = o.Label.In(lang)
	}
	for _, v := range scaleValues(target.Scale) {
		own := map[string]string{survey.LangEN: v.Label, survey.LangNB: v.LabelNB, survey.LangNN: v.LabelNN}[lang]
		if own != v.Code {
			labels[v.Code] = strings.TrimPrefix(own, v.Code+" ")
		}
	}
	words := make([]string, len(c.In))
	for i, v := range c.In {
		words[i] = v
		if lab := labels[v]; lab != "" {
			words[i] = v + " (" + lab + ")"
		}
	}
	return strings.Join(words, l.T("research.responses.item.or"))
}
