package web

import (
	"net/http"
	"strings"

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
}

type codebookTable struct {
	Name, Title, Description, PrimaryKey string
	Formats                              string
	Columns                              []codebookColumn
}

type codebookColumn struct {
	Name, Type, Unit, Label, Description, Missing string
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
	pick := func(en, nb string) string {
		if english || nb == "" {
			return en
		}
		return nb
	}
	out := codebookTable{
		Name: t.Name, Title: tableTitle(l, t), Description: pick(t.Description, t.DescriptionNB),
		PrimaryKey: strings.Join(t.PrimaryKey, ", "),
		Formats:    strings.Join(research.Formats, ", "),
	}
	for _, col := range t.Columns {
		cc := codebookColumn{
			Name:        col.Name,
			Type:        l.T("research.type." + col.Type),
			Label:       pick(col.Label, col.LabelNB),
			Description: pick(col.Description, col.DescriptionNB),
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
	switch unit {
	case "days", "NOK", "years", "partners":
		return l.T("research.unit." + unit)
	}
	return unit
}
