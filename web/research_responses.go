package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/research"
	"github.com/samspill/samspill/surveys"
)

// The research page lists the responses files of the survey waves of the
// reader's research projects, each at the position the page pinned, and
// /research/codebook?export=responses&wave=W is a wave's codebook: its
// table's columns and its questions in bokmål, nynorsk and English. Both
// come from the same research.File and Table as the files.

// responsesWave is a wave's links on the research page.
type responsesWave struct {
	ID, Title, Project, Group, Questionnaire, Opens, Closes string
	Files                                                   []responsesLink
	Manifest, DataPackage, Codebook                         string
}

// responsesLink is one file of a wave.
type responsesLink struct {
	Label, Name, Href string
}

// responsesWaves lists the waves of the reader's projects with their
// files at the position; nil when the server fields no surveys.
func (p *Pages) responsesWaves(ctx context.Context, l *locale.Localizer, projects []auth.Project, head uint64, today string) ([]responsesWave, error) {
	if p.surveys == nil {
		return nil, nil
	}
	var out []responsesWave
	for _, pj := range projects {
		waves, err := p.surveys.Waves(ctx, pj.ID)
		if err != nil {
			return nil, err
		}
		for _, w := range waves {
			if w.Position > head {
				continue // scheduled since the page pinned its position
			}
			rw := responsesWave{ID: w.ID, Title: w.Title, Project: pj.Name + " (" + pj.ID + ")", Group: l.T("research.responses.group." + w.Group),
				Questionnaire: w.QuestionnaireID + " v" + strconv.Itoa(w.QuestionnaireVersion), Opens: w.Opens, Closes: w.Closes,
				Codebook: "/research/codebook?export=" + research.KindResponses + "&wave=" + w.ID}
			f := research.File{Export: research.KindResponses, Position: head, AsOf: today, Keys: research.Keys{Project: pj.ID, Generation: pj.KeyGeneration}, Wave: w.ID}
			for _, format := range research.Formats {
				f.Format = format
				rw.Files = append(rw.Files, responsesLink{Label: l.T("research.format." + format), Name: f.Name(), Href: researchFilesPath + f.Path() + "?" + f.Query().Encode()})
			}
			noText := f
			noText.Format, noText.WithoutFreeText = research.FormatCSV, true
			rw.Files = append(rw.Files, responsesLink{Label: l.T("research.responses.without_free_text"), Name: noText.Name(), Href: researchFilesPath + noText.Path() + "?" + noText.Query().Encode()})
			described := f.Query()
			described.Set("export", research.KindResponses)
			described.Set("format", research.FormatCSV)
			rw.Manifest = researchFilesPath + "manifest.json?" + described.Encode()
			rw.DataPackage = researchFilesPath + "datapackage.json?" + described.Encode()
			out = append(out, rw)
		}
	}
	return out, nil
}

// codebookQuestion is a question of a wave's codebook in three languages.
type codebookQuestion struct {
	ID, Kind, Theme, Section string
	Texts                    []langText
	// Choices are the scale's points or the options, each in three
	// languages.
	Choices []codebookChoice
	// ShowIf says when the question is asked, in the reader's language.
	ShowIf string
}

type codebookChoice struct {
	Code  string
	Texts []langText
}

// langText is a text with its language tag, for lang="…".
type langText struct{ Lang, Name, Text string }

// waveCodebook fills the codebook page of a wave: its table and its
// questions. A wave that does not exist, and one of a project the reader
// may not export, are the same 404 page.
func (p *Pages) waveCodebook(c *gin.Context, l *locale.Localizer, page *codebookPage, waveID string) bool {
	ctx := c.Request.Context()
	pr := principal(c)
	notFound := func() bool {
		p.errorPageBack(c, http.StatusNotFound, l.T("research.responses.codebook.unknown"), "/research")
		return false
	}
	if p.surveys == nil || waveID == "" || !pr.MayExport() {
		return notFound()
	}
	w, err := p.surveys.Wave(ctx, waveID)
	if errors.Is(err, surveys.ErrWaveNotFound) {
		return notFound()
	}
	if err != nil {
		p.fail(c, err)
		return false
	}
	if !pr.IsAdmin() {
		if p.projectStore == nil {
			return notFound()
		}
		projects, err := p.projectStore.ProjectsOf(ctx, pr)
		if err != nil {
			p.fail(c, err)
			return false
		}
		if !slices.ContainsFunc(projects, func(pj auth.Project) bool { return pj.ID == w.ProjectID }) {
			return notFound()
		}
	}
	q, err := p.surveys.Questionnaire(ctx, w.QuestionnaireID, w.QuestionnaireVersion)
	if err != nil {
		p.fail(c, err)
		return false
	}
	table, err := research.File{Export: research.KindResponses, Wave: w.ID}.ResponsesTable(w.Wave, q)
	if err != nil {
		p.fail(c, err)
		return false
	}
	page.Tables = []codebookTable{codebookOf(l, table)}
	page.Wave = w.Title
	lang := surveyLang(l)
	for _, s := range q.Sections {
		for _, it := range s.Items {
			cq := codebookQuestion{ID: it.ID, Kind: l.T("research.responses.kind." + it.Kind), Theme: it.Theme, Section: s.Title.In(lang), Texts: inThree(l, it.Text)}
			cond := it.ShowIf
			if cond == nil {
				cond = s.ShowIf
			}
			if cond != nil {
				cq.ShowIf = research.SkipCondition(lang, q, *cond)
			}
			if it.Scale != nil {
				for i, lab := range it.Scale.Labels {
					code := strconv.Itoa(i + 1)
					if len(it.Scale.Labels) == 2 && i == 1 {
						code = strconv.Itoa(it.Scale.Points)
					}
					cq.Choices = append(cq.Choices, codebookChoice{Code: code, Texts: inThree(l, lab)})
				}
			}
			for _, o := range it.Options {
				cq.Choices = append(cq.Choices, codebookChoice{Code: o.Code, Texts: inThree(l, o.Label)})
			}
			page.Questions = append(page.Questions, cq)
		}
	}
	return true
}

// inThree is a questionnaire text in bokmål, nynorsk and English (each
// falling back to bokmål), named in the reader's language.
func inThree(l *locale.Localizer, t survey.Text) []langText {
	out := make([]langText, len(survey.Languages))
	for i, lang := range survey.Languages {
		out[i] = langText{Lang: lang, Name: l.T("survey.language." + lang), Text: t.In(lang)}
	}
	return out
}

// surveyLang is the questionnaire language of the reader's.
func surveyLang(l *locale.Localizer) string {
	switch l.Lang() {
	case locale.English:
		return survey.LangEN
	case locale.Nynorsk:
		return survey.LangNN
	}
	return survey.LangNB
}

// waveChoices are the waves of the reader's research projects for the
// codebook's wave selector (the selected one marked); none for a reader
// who may not export, or a server that fields no surveys.
func (p *Pages) waveChoices(ctx context.Context, pr auth.Principal, selected string) ([]choice, error) {
	if p.surveys == nil || p.projectStore == nil || !pr.MayExport() {
		return nil, nil
	}
	projects, err := p.projectStore.ProjectsOf(ctx, pr)
	if err != nil {
		return nil, err
	}
	var out []choice
	for _, pj := range projects {
		waves, err := p.surveys.Waves(ctx, pj.ID)
		if err != nil {
			return nil, err
		}
		for _, w := range waves {
			out = append(out, choice{Value: w.ID, Label: w.Title + " (" + pj.Name + ")", Selected: w.ID == selected})
		}
	}
	return out, nil
}
