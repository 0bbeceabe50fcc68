package research

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/surveys"
)

// KindResponses is the responses export: a survey wave's submitted
// responses, each joined to the partnership's covariates on the day it
// was answered (docs/research.md, "Responses").
const KindResponses = "responses"

// Errors of a responses export.
var (
	// ErrWaveNotFound means the wave does not exist at the export's
	// position, or belongs to another research project: the same answer,
	// so that a project's readers cannot learn which waves others have.
	ErrWaveNotFound = errors.New("survey wave not found in the research project")
	// ErrResponsesScope means a responses export was asked without a
	// research project or without a wave: its pseudonyms are a project's,
	// and its columns a wave's questionnaire's.
	ErrResponsesScope = errors.New("the responses export needs a research project and a survey wave")
)

// ReadWave reads a survey wave of the project and the questionnaire
// version it fields, as recorded up to the position. A wave that did not
// exist by then or is another project's is ErrWaveNotFound.
func ReadWave(ctx context.Context, store eventstore.Store, project, waveID string, position uint64) (survey.Wave, survey.Questionnaire, error) {
	if project == "" || waveID == "" {
		return survey.Wave{}, survey.Questionnaire{}, ErrResponsesScope
	}
	recorded, err := store.ReadStream(ctx, survey.WaveStream(waveID))
	if errors.Is(err, eventstore.ErrStreamNotFound) || (err == nil && (len(recorded) == 0 || recorded[0].Position > position)) {
		return survey.Wave{}, survey.Questionnaire{}, fmt.Errorf("%w: %s", ErrWaveNotFound, waveID)
	}
	if err != nil {
		return survey.Wave{}, survey.Questionnaire{}, fmt.Errorf("read wave %s: %w", waveID, err)
	}
	e, err := survey.Decode(recorded[0].Type, recorded[0].Data)
	if err != nil {
		return survey.Wave{}, survey.Questionnaire{}, fmt.Errorf("wave %s: %w", waveID, err)
	}
	scheduled, ok := e.(survey.SurveyWaveScheduled)
	if !ok {
		return survey.Wave{}, survey.Questionnaire{}, fmt.Errorf("wave %s starts with %s, not %s", waveID, recorded[0].Type, survey.TypeSurveyWaveScheduled)
	}
	w := scheduled.Wave
	if w.ID == "" {
		w.ID = waveID
	}
	if w.ProjectID != project {
		return survey.Wave{}, survey.Questionnaire{}, fmt.Errorf("%w: %s", ErrWaveNotFound, waveID)
	}
	q, err := readQuestionnaire(ctx, store, w.QuestionnaireID, w.QuestionnaireVersion)
	if err != nil {
		return survey.Wave{}, survey.Questionnaire{}, fmt.Errorf("wave %s: %w", waveID, err)
	}
	return w, q, nil
}

// readQuestionnaire reads one published version: the stream's version-th
// event. Versions are immutable, so the position does not matter.
func readQuestionnaire(ctx context.Context, store eventstore.Store, id string, version int) (survey.Questionnaire, error) {
	recorded, err := store.ReadStream(ctx, survey.QuestionnaireStream(id))
	if err != nil {
		return survey.Questionnaire{}, fmt.Errorf("questionnaire %s: %w", id, err)
	}
	for _, r := range recorded {
		if r.Version != uint64(version) {
			continue
		}
		e, err := survey.Decode(r.Type, r.Data)
		if err != nil {
			return survey.Questionnaire{}, fmt.Errorf("questionnaire %s version %d: %w", id, version, err)
		}
		published, ok := e.(survey.QuestionnairePublished)
		if !ok {
			return survey.Questionnaire{}, fmt.Errorf("questionnaire %s version %d is a %s", id, version, r.Type)
		}
		q := published.Questionnaire
		q.ID, q.Version = id, version
		return q, nil
	}
	return survey.Questionnaire{}, fmt.Errorf("questionnaire %s has no version %d", id, version)
}

// writeResponses writes a responses export: the wave's table, its rows.
func (f File) writeResponses(ctx context.Context, store eventstore.Store, w io.Writer) (Summary, error) {
	wave, q, err := ReadWave(ctx, store, f.Keys.Project, f.Wave, f.Position)
	if err != nil {
		return Summary{}, err
	}
	t, err := f.ResponsesTable(wave, q)
	if err != nil {
		return Summary{}, err
	}
	sum, err := WriteTable(ctx, w, f.Format, t, f.responseRows(store, wave, q, t))
	if err != nil {
		return Summary{}, err
	}
	sum.Position, sum.AsOf = f.Position, f.AsOf
	return sum, nil
}

// responseRows are the rows of a responses export: for every response
// submitted up to the position, in the order submitted, a row per
// partnership it concerns, in the order the respondent gave them.
func (f File) responseRows(store eventstore.Store, wave survey.Wave, q survey.Questionnaire, t Table) Rows {
	return func(ctx context.Context, emit func([]string) error) error {
		responses, err := surveys.Responses(ctx, store, wave.ID, f.Position)
		if err != nil {
			return fmt.Errorf("responses of wave %s: %w", wave.ID, err)
		}
		cov, err := f.dayCovariates(store)
		if err != nil {
			return err
		}
		items := f.items(q)
		row := make([]string, 0, len(t.Columns))
		for _, r := range responses {
			partnerships := r.Partnerships
			if len(partnerships) == 0 {
				partnerships = []string{""} // still one row: the answers are data
			}
			for _, p := range partnerships {
				row = append(row[:0],
					f.Keys.Response(r.ID), wave.ID, q.ID, strconv.Itoa(q.Version), r.Group,
					string(kommune.Code(r.Municipality).Current()), r.Language, r.AnsweredOn)
				if p == "" {
					row = append(row, "", strconv.Itoa(len(r.Partnerships)))
					row = append(row, make([]string, len(covariateNames))...)
				} else {
					stream := history.StreamID(p)
					cells, err := cov.on(ctx, stream, r.AnsweredOn)
					if err != nil {
						return fmt.Errorf("response %s: %w", f.Keys.Response(r.ID), err)
					}
					row = append(row, f.Keys.Partnership(stream), strconv.Itoa(len(r.Partnerships)))
					row = append(row, cells...)
				}
				for _, it := range items {
					row = answerCells(row, it, r.Answers[it.ID])
				}
				if len(row) != len(t.Columns) {
					return fmt.Errorf("%w: a response row has %d cells, the table %d columns", ErrCell, len(row), len(t.Columns))
				}
				if err := emit(row); err != nil {
					return err
				}
			}
		}
		return nil
	}
}

// covariateNames are the columns of the partnership's covariates on the
// day answered, after partnership_key and n_partnerships: day, the spells'
// columns of the same names, and partnership_ended.
var covariateNames = []string{
	"day", "service_area", "collaboration_model", "lead_kind", "n_partners", "n_goal_changes",
	"anchoring_level", "paused", "agreement_in_force", "agreement_kind", "funding_nok", "funded",
	"partnership_ended",
}

// dayCovariates finds partnerships' covariates on a day from their spells,
// derived by the spells' own rules under the file's as_of, known_at and
// position, once per partnership and export.
type dayCovariates struct {
	f      File
	store  eventstore.Store
	view   partnership.View
	censor int
	of     map[string][]Spell
}

func (f File) dayCovariates(store eventstore.Store) (*dayCovariates, error) {
	v, err := Options{AsOf: f.AsOf, KnownAt: f.KnownAt}.view()
	if err != nil {
		return nil, err
	}
	censor, err := dayNumberOf(f.AsOf)
	if err != nil {
		return nil, err
	}
	return &dayCovariates{f: f, store: store, view: v, censor: censor, of: map[string][]Spell{}}, nil
}

// spellsOf derives a partnership's spells; none when the store does not
// hold it (by the position, as known at known_at), or it lies outside the
// project's municipalities.
func (c *dayCovariates) spellsOf(ctx context.Context, stream string) ([]Spell, error) {
	if rows, ok := c.of[stream]; ok {
		return rows, nil
	}
	h, err := historyAt(ctx, c.store, stream, c.f.Position)
	if errors.Is(err, eventstore.ErrStreamNotFound) {
		h, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	var rows []Spell
	if len(c.f.Municipalities) == 0 || inMunicipalities(h, c.f.Municipalities) {
		if rows, err = spells(h, c.view, c.censor); err != nil {
			return nil, fmt.Errorf("%s: %w", stream, err)
		}
	}
	c.of[stream] = rows
	return rows, nil
}

// on returns the covariate cells (covariateNames) of the partnership on
// the day answered (YYYY-MM-DD): those of the spell whose interval holds
// the day, tstart ≤ day < tstop, so the day's own changes count. A
// partnership that had ended by then has partnership_ended 1 and the
// covariates it ended with; on the censoring day itself an ongoing one
// has its last spell's. Missing: all but day when the day is before the
// partnership began or after as_of, everything when the partnership is
// unknown.
func (c *dayCovariates) on(ctx context.Context, stream, answeredOn string) ([]string, error) {
	cells := make([]string, len(covariateNames))
	rows, err := c.spellsOf(ctx, stream)
	if err != nil || len(rows) == 0 {
		return cells, err
	}
	answered, err := dateNumber(answeredOn)
	if err != nil {
		return nil, fmt.Errorf("answered_on: %w", err)
	}
	day0, err := dateNumber(rows[0].StartDate)
	if err != nil {
		return nil, fmt.Errorf("%s start_date: %w", stream, err)
	}
	d := answered - day0
	cells[0] = strconv.Itoa(d)
	sp, ok := spellOn(rows, d)
	if !ok {
		return cells, nil
	}
	copy(cells[1:], []string{
		sp.ServiceArea, sp.CollaborationModel, sp.LeadKind, strconv.Itoa(sp.Partners), strconv.Itoa(sp.GoalChanges),
		sp.AnchoringLevel, flag(sp.Paused), flag(sp.AgreementInForce), sp.AgreementKind,
		strconv.FormatInt(sp.FundingNOK, 10), flag(sp.Funded()), flag(sp.Ended && d >= sp.TStop),
	})
	return cells, nil
}

// spellOn finds the spell in force on day d (since day 0): see on.
func spellOn(rows []Spell, d int) (Spell, bool) {
	if d < 0 {
		return Spell{}, false
	}
	for _, sp := range rows {
		if sp.TStart <= d && d < sp.TStop {
			return sp, true
		}
	}
	last := rows[len(rows)-1]
	if last.Ended || d == last.TStop {
		return last, true
	}
	return Spell{}, false
}

// items are the questionnaire's items the file holds, in order.
func (f File) items(q survey.Questionnaire) []survey.Item {
	items := q.Items()
	if f.WithoutFreeText {
		items = slices.DeleteFunc(items, func(it survey.Item) bool { return it.Kind == survey.KindText })
	}
	return items
}

// answerCells appends an item's cells for an answer (nil when not
// answered or not shown): one cell, or one per option of a multiple
// item, 1 for each chosen and 0 for the others.
func answerCells(row []string, it survey.Item, answer []string) []string {
	switch it.Kind {
	case survey.KindMultiple:
		for _, o := range it.Options {
			switch {
			case len(answer) == 0:
				row = append(row, "")
			default:
				row = append(row, flag(slices.Contains(answer, o.Code)))
			}
		}
		return row
	case survey.KindText:
		return append(row, strings.Join(answer, "\n"))
	}
	if len(answer) == 0 {
		return append(row, "")
	}
	return append(row, answer[0])
}
