package web

import (
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/research"
)

// codebookPage is the codebook: every tabular export's columns (or one
// export's, ?export=NAME) as research.Exports() describes them, in the
// reader's language, and the events file in words. It is documentation of
// the files, holds no data, and is open to every signed-in reader.
type codebookPage struct {
	layoutData
	Tables []codebookTable
	// Events shows the section on events.ndjson.
	Events bool
	// Wave is the title of the survey wave whose responses file the page
	// describes (?export=responses&wave=W), and Questions its questions.
	Wave      string
	Questions []codebookQuestion
	// Waves are the survey waves of the reader's projects, for the
	// selector of a wave's codebook.
	Waves []choice
}

type codebookTable struct {
	Name, Title, PrimaryKey string
	Description             template.HTML
	Formats                 string
	Columns                 []codebookColumn
}

type codebookColumn struct {
	Name, Type, Unit, Label, Missing string
	Description                      template.HTML
	// Personal says that the column can identify a person, and why.
	Personal string
	Values   []codebookValue
}

type codebookValue struct{ Code, Label string }

func (p *Pages) codebookPage(c *gin.Context) {
	l := loc(c)
	name := c.Query("export")
	page := &codebookPage{layoutData: layoutData{Title: l.T("research.codebook.title"), Section: sectionResearch}}
	if principal(c).MayExport() && p.research != nil {
		page.Crumbs = []crumb{{"/research", l.T("research.title")}}
	}
	waves, err := p.waveChoices(c.Request.Context(), principal(c), c.Query("wave"))
	if err != nil {
		p.fail(c, err)
		return
	}
	page.Waves = waves
	if name == research.KindResponses {
		if p.waveCodebook(c, l, page, c.Query("wave")) {
			p.render(c, http.StatusOK, "codebook", page)
		}
		return
	}
	page.Events = name == "" || name == research.KindEvents
	for _, e := range research.Exports() {
		if name == "" || name == e.Table.Name {
			page.Tables = append(page.Tables, codebookOf(l, e.Table))
		}
	}
	if !page.Events && len(page.Tables) == 0 {
		p.errorPageBack(c, http.StatusNotFound, l.T("research.codebook.unknown", "Name", name), "/research/codebook")
		return
	}
	p.render(c, http.StatusOK, "codebook", page)
}

// codebookOf writes a table's codebook in the reader's language (bokmål
// for nynorsk readers where a Table has no nynorsk text).
func codebookOf(l *locale.Localizer, t research.Table) codebookTable {
	english := l.Lang() == locale.English
	pick := func(en, nb string, nn ...string) string {
		if english || nb == "" {
			return en
		}
		if l.Lang() == locale.Nynorsk && len(nn) > 0 && nn[0] != "" {
			return nn[0]
		}
		return nb
	}
	names := identifiers(t)
	out := codebookTable{
		Name: t.Name, Title: tableTitle(l, t), Description: markIdentifiers(pick(t.Description, t.DescriptionNB), names),
		PrimaryKey: strings.Join(t.PrimaryKey, ", "),
		Formats:    strings.Join(research.Formats, ", "),
	}
	for _, col := range t.Columns {
		cc := codebookColumn{
			Name:        col.Name,
			Type:        l.T("research.type." + col.Type),
			Label:       pick(col.Label, col.LabelNB, col.LabelNN),
			Description: markIdentifiers(pick(col.Description, col.DescriptionNB, col.DescriptionNN), names),
			Missing:     l.T("research.codebook.may_be_missing"),
		}
		if col.Required {
			cc.Missing = l.T("research.codebook.never_missing")
		}
		if col.Unit != "" {
			cc.Unit = unitLabel(l, col.Unit)
		}
		if col.Personal != "" {
			cc.Personal = l.T("research.codebook.personal")
			if english {
				cc.Personal += " " + col.Personal
			}
		}
		for _, v := range col.Values {
			cc.Values = append(cc.Values, codebookValue{Code: v.Code, Label: valueLabel(l, v)})
		}
		out.Columns = append(out.Columns, cc)
	}
	return out
}

// valueLabel is a code's label in the reader's language: the Table's own
// where it has one, else the vocabulary's (describe.Label).
func valueLabel(l *locale.Localizer, v research.Value) string {
	own := map[locale.Lang]string{locale.English: v.Label, locale.Bokmal: v.LabelNB, locale.Nynorsk: v.LabelNN}[l.Lang()]
	if own != "" && own != v.Code {
		return own
	}
	return describe.Label(l, v.Code)
}

// unitLabel names a unit in the reader's language where the catalogue
// knows it ("days", "NOK"), else as the Table writes it.
func unitLabel(l *locale.Localizer, unit string) string {
	if slices.Contains(research.Units, unit) {
		return l.T("research.unit." + unit)
	}
	return unit
}

// identifiers are the names a table's texts may quote: its columns and
// their codes.
func identifiers(t research.Table) map[string]bool {
	names := map[string]bool{}
	for _, c := range t.Columns {
		names[c.Name] = true
		for _, v := range c.Values {
			names[v.Code] = true
		}
	}
	return names
}

// word is a run of letters, digits and underscores.
var word = regexp.MustCompile(`[\p{L}\p{N}_]+`)

// markIdentifiers escapes a codebook text and marks the names in it (a
// column, a code, any snake_case or CamelCase name such as as_of or
// PartnershipEnded) as code in English, so that a Norwegian sentence
// quoting them reads, and is read aloud, as Norwegian around names that
// are no words.
func markIdentifiers(text string, names map[string]bool) template.HTML {
	var b strings.Builder
	last := 0
	for _, m := range word.FindAllStringIndex(text, -1) {
		w := text[m[0]:m[1]]
		if !names[w] && !strings.Contains(w, "_") && !camelCase(w) {
			continue
		}
		b.WriteString(template.HTMLEscapeString(text[last:m[0]]))
		b.WriteString(`<code lang="en" translate="no">` + template.HTMLEscapeString(w) + `</code>`)
		last = m[1]
	}
	b.WriteString(template.HTMLEscapeString(text[last:]))
	return template.HTML(b.String())
}

// camelCase reports whether w is a name like PartnershipEnded: upper-case
// letters after its first.
func camelCase(w string) bool {
	for i, r := range w {
		if i > 0 && unicode.IsUpper(r) {
			return true
		}
	}
	return false
}
