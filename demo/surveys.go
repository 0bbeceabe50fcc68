package demo

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/surveys"
)

// The demo's surveys: a research project like OFFRI in Arendal and
// Steinkjer fielding the demo questionnaires (survey.Demo) to municipal
// leaders, volunteers and voluntary organisations' leaders, every link
// fixed to one of the demo's partnerships in the municipality, and some
// of the links answered through the service, as respondents would:
// progress saved, then submitted. The answers are drawn from a generator
// seeded by a constant, each respondent leaning one way about the
// partnership (its own and the partnership's mood), so the feedback
// reports have something to show and differ between the municipalities.

// SurveyProject is the demo's research project.
const SurveyProject = "offri-demo"

// surveyActor is who the demo's questionnaires, waves and links are
// written by.
var surveyActor = actor

// demoWave is one wave of the demo: its questionnaire, group, and per
// municipality how many links to issue and how many of them to answer.
type demoWave struct {
	title, questionnaire, group string
	invited, answered           map[kommune.Code]int
}

var demoWaves = []demoWave{
	{title: "OFFRI-demo: kommunale ledere", questionnaire: "offri-leaders", group: survey.GroupMunicipalLeaders,
		invited: map[kommune.Code]int{arendal.current: 20, steinkjer.current: 18}, answered: map[kommune.Code]int{arendal.current: 13, steinkjer.current: 12}},
	{title: "OFFRI-demo: frivillige", questionnaire: "offri-volunteers", group: survey.GroupVolunteers,
		invited: map[kommune.Code]int{arendal.current: 48, steinkjer.current: 40}, answered: map[kommune.Code]int{arendal.current: 32, steinkjer.current: 28}},
	// The volunteers' questionnaire asks organisations' leaders as well
	// (its role item has them); Steinkjer's few answers show suppression.
	{title: "OFFRI-demo: ledere i frivillige organisasjoner", questionnaire: "offri-volunteers", group: survey.GroupOrganisationLeader,
		invited: map[kommune.Code]int{arendal.current: 10, steinkjer.current: 6}, answered: map[kommune.Code]int{arendal.current: 7, steinkjer.current: 3}},
}

// SurveySummary reports what LoadSurveys did.
type SurveySummary struct {
	Project string
	// Waves and Responses count the demo's waves and the responses
	// submitted by this run; Links the links it issued. A second run
	// issues and submits nothing.
	Waves, Links, Responses int
}

// LoadSurveys loads the demo's surveys through the service: the research
// project (if missing), the demo questionnaires (published unless the
// latest version is the same), the waves (by title, if missing), and, per
// wave and municipality that has no links yet, the links and the
// answered responses. now dates the waves (opened three weeks before,
// closing six weeks after) and picks the partnerships alive by then; the
// service's own clock dates the answers. It needs the demo partnerships
// (Load) in the service's store.
//
// A run that stops half-way leaves what it wrote; a new run goes on with
// the waves and municipalities that have no links yet.
func LoadSurveys(ctx context.Context, svc *surveys.Service, projects auth.ProjectStore, now time.Time) (SurveySummary, error) {
	sum := SurveySummary{Project: SurveyProject}
	if err := ensureSurveyProject(ctx, projects, now); err != nil {
		return sum, err
	}
	published := map[string]survey.Questionnaire{}
	for _, q := range survey.Demo() {
		p, err := svc.Publish(ctx, surveyActor, q)
		if err != nil {
			return sum, fmt.Errorf("demo surveys: publish %s: %w", q.ID, err)
		}
		published[p.ID] = p
	}
	partnerships, err := demoPartnerships(now)
	if err != nil {
		return sum, err
	}
	existing, err := svc.Waves(ctx, SurveyProject)
	if err != nil {
		return sum, fmt.Errorf("demo surveys: waves: %w", err)
	}
	for _, dw := range demoWaves {
		q, ok := published[dw.questionnaire]
		if !ok {
			return sum, fmt.Errorf("demo surveys: no demo questionnaire %q", dw.questionnaire)
		}
		w, err := ensureWave(ctx, svc, existing, dw, q, now)
		if err != nil {
			return sum, err
		}
		sum.Waves++
		tr, err := svc.Track(ctx, w.ID)
		if err != nil {
			return sum, fmt.Errorf("demo surveys: track %s: %w", w.ID, err)
		}
		for _, code := range []kommune.Code{arendal.current, steinkjer.current} {
			if invited(tr, string(code)) > 0 {
				continue // loaded before
			}
			links, answered, err := fieldDemoWave(ctx, svc, w, q, dw, code, partnerships[code])
			sum.Links += links
			sum.Responses += answered
			if err != nil {
				return sum, err
			}
		}
	}
	return sum, nil
}

// ensureSurveyProject creates the research project unless it exists.
func ensureSurveyProject(ctx context.Context, projects auth.ProjectStore, now time.Time) error {
	_, err := projects.Project(ctx, SurveyProject)
	if err == nil {
		return nil
	}
	if !errors.Is(err, auth.ErrProjectNotFound) {
		return fmt.Errorf("demo surveys: project: %w", err)
	}
	_, err = projects.CreateProject(ctx, auth.SystemPrincipal, auth.Project{
		ID: SurveyProject, Name: "OFFRI-demo: offentlig–frivillig samarbeid over tid", Institution: "Demouniversitetet",
		Purpose: "Demodata: hvordan kommunale ledere og frivillige opplever samarbeidet, knyttet til samarbeidenes historikk.",
		Starts:  calendar.Day(now.AddDate(-1, 0, 0)), Municipalities: []kommune.Code{arendal.current, steinkjer.current},
	})
	if err != nil && !errors.Is(err, auth.ErrProjectExists) {
		return fmt.Errorf("demo surveys: create project: %w", err)
	}
	return nil
}

// ensureWave returns the wave of the title, scheduling it if missing.
func ensureWave(ctx context.Context, svc *surveys.Service, existing []surveys.WaveInfo, dw demoWave, q survey.Questionnaire, now time.Time) (surveys.WaveInfo, error) {
	for _, w := range existing {
		if w.Title == dw.title {
			return w, nil
		}
	}
	w, err := svc.Schedule(ctx, surveyActor, survey.Wave{ProjectID: SurveyProject, Title: dw.title, QuestionnaireID: q.ID, QuestionnaireVersion: q.Version,
		Group: dw.group, Municipalities: []string{string(arendal.current), string(steinkjer.current)},
		Opens: calendar.Day(now.AddDate(0, 0, -21)), Closes: calendar.Day(now.AddDate(0, 0, 42))})
	if err != nil {
		return surveys.WaveInfo{}, fmt.Errorf("demo surveys: schedule %q: %w", dw.title, err)
	}
	return w, nil
}

// invited counts a municipality's links in a wave's tracking.
func invited(tr surveys.Tracking, code string) int {
	n := 0
	for _, r := range tr.Rows {
		if r.Municipality == code {
			n += r.Invited
		}
	}
	return n
}

// demoPartnerships are the demo partnerships of Arendal and Steinkjer
// entered and not ended by now, by municipality, in the data set's order.
func demoPartnerships(now time.Time) (map[kommune.Code][]string, error) {
	all, err := plans()
	if err != nil {
		return nil, err
	}
	out := map[kommune.Code][]string{}
	for _, p := range all {
		steps := p.until(now)
		if len(steps) == 0 {
			continue
		}
		code := kommune.Code(p.initiation().Municipality).Current()
		if code != arendal.current && code != steinkjer.current {
			continue
		}
		ended := slices.ContainsFunc(steps, func(s step) bool { _, ok := s.event.(partnership.PartnershipEnded); return ok })
		if !ended {
			out[code] = append(out[code], p.id)
		}
	}
	return out, nil
}

// fieldDemoWave issues a wave's links in one municipality, spread over its
// partnerships, and answers some of them. It returns how many links it
// issued and responses it submitted.
func fieldDemoWave(ctx context.Context, svc *surveys.Service, w surveys.WaveInfo, q survey.Questionnaire, dw demoWave, code kommune.Code, partnerships []string) (int, int, error) {
	if len(partnerships) == 0 {
		return 0, 0, fmt.Errorf("demo surveys: no demo partnerships in %s (load the demo data set first)", code)
	}
	// Links per partnership, round robin.
	per := map[string]int{}
	for i := range dw.invited[code] {
		per[partnerships[i%len(partnerships)]]++
	}
	var links []surveys.IssuedLink
	for _, id := range partnerships {
		if per[id] == 0 {
			continue
		}
		issued, err := svc.IssueLinks(ctx, surveyActor, w.ID, surveys.LinkRequest{Municipality: string(code), PartnershipID: id, Count: per[id],
			Batch: "demo-" + string(code)})
		if err != nil {
			return len(links), 0, fmt.Errorf("demo surveys: links of %q in %s: %w", dw.title, code, err)
		}
		links = append(links, issued...)
	}
	rnd := rand.New(rand.NewPCG(seedOf(dw.title, string(code)), 2027))
	// Who answers: a fixed share, picked at random.
	order := rnd.Perm(len(links))
	answered := 0
	for _, i := range order[:min(dw.answered[code], len(links))] {
		l := links[i]
		mood := partnershipMood(l.PartnershipID) + rnd.NormFloat64()*0.7
		lang := demoLanguage(rnd)
		answers := demoAnswers(rnd, q, mood)
		// Progress first (the first sections), then the whole.
		first := survey.Answers{}
		for _, it := range q.Sections[0].Items {
			if v, ok := answers[it.ID]; ok {
				first[it.ID] = v
			}
		}
		rid := "demo-" + w.ID + "-" + strconv.Itoa(i)
		if _, err := svc.Save(ctx, l.Token, lang, first, nil, rid+"-save"); err != nil {
			return len(links), answered, fmt.Errorf("demo surveys: save a response of %q: %w", dw.title, err)
		}
		if err := svc.Submit(ctx, l.Token, lang, answers, nil, rid+"-submit"); err != nil {
			return len(links), answered, fmt.Errorf("demo surveys: submit a response of %q: %w", dw.title, err)
		}
		answered++
	}
	return len(links), answered, nil
}

// seedOf makes a generator's seed from names.
func seedOf(parts ...string) uint64 {
	h := fnv.New64a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum64()
}

// partnershipMood is how well a partnership goes, on the Likert scale's
// terms (-1.2 .. +1.2 around its middle), fixed by its id.
func partnershipMood(id string) float64 {
	return float64(seedOf(id)%25)/10 - 1.2
}

// demoLanguage: most answer in bokmål, some in nynorsk, a few in English.
func demoLanguage(rnd *rand.Rand) string {
	switch r := rnd.Float64(); {
	case r < 0.15:
		return survey.LangNN
	case r < 0.2:
		return survey.LangEN
	}
	return survey.LangNB
}

// negativeThemes are the Likert items' themes where agreeing means the
// collaboration goes worse (competition with municipal services).
var negativeThemes = []string{"competition"}

// negativeWords mark items worded the other way round ("organised to
// death", "too many rules"), whatever their theme.
var negativeWords = []string{"death", "rules", "competition", "replacing", "depends_on"}

// demoAnswers answers the questionnaire the way a respondent of the mood
// would: items in order, skip conditions followed, required items always
// answered, others mostly, free text now and then.
func demoAnswers(rnd *rand.Rand, q survey.Questionnaire, mood float64) survey.Answers {
	answers := survey.Answers{}
	for _, sec := range q.Sections {
		for _, it := range sec.Items {
			if !q.Shown(answers)[it.ID] {
				continue
			}
			if !it.Required && rnd.Float64() < 0.08 {
				continue
			}
			if v := demoAnswer(rnd, it, mood); len(v) > 0 {
				answers[it.ID] = v
			}
		}
	}
	return q.Clean(answers)
}

// demoAnswer is one answer to an item (nil: left unanswered).
func demoAnswer(rnd *rand.Rand, it survey.Item, mood float64) []string {
	switch it.Kind {
	case survey.KindLikert:
		points := 5
		if it.Scale != nil {
			points = it.Scale.Points
		}
		m := mood
		if slices.Contains(negativeThemes, it.Theme) || slices.ContainsFunc(negativeWords, func(w string) bool { return strings.Contains(it.ID, w) }) {
			m = -m
		}
		mid := float64(points+1) / 2
		v := int(math.Round(mid + m*float64(points-1)/4 + rnd.NormFloat64()*0.8))
		return []string{strconv.Itoa(max(1, min(points, v)))}
	case survey.KindSingle:
		if len(it.Options) == 0 {
			return nil
		}
		// Earlier options are likelier (lists tend to start with the
		// common answers).
		i := int(math.Abs(rnd.NormFloat64()) * float64(len(it.Options)) / 2.5)
		return []string{it.Options[min(i, len(it.Options)-1)].Code}
	case survey.KindMultiple:
		var out []string
		for _, o := range it.Options {
			if rnd.Float64() < 0.35 {
				out = append(out, o.Code)
			}
		}
		if len(out) == 0 && len(it.Options) > 0 {
			out = []string{it.Options[rnd.IntN(len(it.Options))].Code}
		}
		return out
	case survey.KindNumber:
		lo, hi := 0.0, 100.0
		if it.Min != nil {
			lo = *it.Min
		}
		if it.Max != nil {
			hi = *it.Max
		}
		scale := min((hi-lo)/10, 15)
		v := min(hi, lo+rnd.ExpFloat64()*scale)
		if it.Integer {
			v = math.Round(v)
		} else {
			v = math.Round(v*2) / 2
		}
		return []string{strconv.FormatFloat(v, 'f', -1, 64)}
	case survey.KindText:
		if rnd.Float64() < 0.7 {
			return nil
		}
		return []string{demoTexts[rnd.IntN(len(demoTexts))]}
	}
	return nil
}

// demoTexts are what respondents write in their own words (the reports
// never show them; the responses export does).
var demoTexts = []string{
	"Faste møter med kommunen hver måned har gjort mye.",
	"Vi trenger én kontaktperson som ikke byttes ut hvert år.",
	"Det går best når vi får bestemme selv hvordan aktiviteten skal være.",
	"Søknadsskjemaene tar for mye tid fra det frivillige arbeidet.",
	"Samarbeidet står og faller på enkeltpersoner.",
	"Kommunen stiller lokaler, og det er det viktigste.",
	"Vi kunne hatt tydeligere avtaler om hvem som gjør hva.",
}
