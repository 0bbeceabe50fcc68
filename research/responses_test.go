package research_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/research"
)

// projectKey is the test project's pseudonymisation key.
var projectKey = bytes.Repeat([]byte("k"), 32)

func offriKeys() research.Keys { return research.ProjectKeys("offri", projectKey, 1) }

// leaders is a questionnaire with an item of every kind, a skip
// condition and a section shown only on a condition.
var leaders = survey.Questionnaire{
	ID: "offri-leaders", Version: 1,
	Title: survey.Text{"nb": "Ledere", "nn": "Leiarar", "en": "Leaders"},
	Sections: []survey.Section{
		{ID: "cooperation", Title: survey.Text{"nb": "Samarbeidet", "nn": "Samarbeidet", "en": "The cooperation"}, Items: []survey.Item{
			{ID: "leadership", Kind: survey.KindLikert, Theme: "leadership", Required: true,
				Text:  survey.Text{"nb": "Ledelsen er tydelig", "nn": "Leiinga er tydeleg", "en": "The leadership is clear"},
				Scale: &survey.Scale{Points: 5, Labels: []survey.Text{{"nb": "Helt uenig", "nn": "Heilt usamd", "en": "Strongly disagree"}, {"nb": "Helt enig", "nn": "Heilt samd", "en": "Strongly agree"}}}},
			{ID: "role", Kind: survey.KindSingle, Theme: "roles", Text: survey.Text{"nb": "Din rolle", "nn": "Rolla di", "en": "Your role"},
				Options: []survey.Option{{Code: "manager", Label: survey.Text{"nb": "Leder", "nn": "Leiar", "en": "Manager"}}, {Code: "adviser", Label: survey.Text{"nb": "Rådgiver", "nn": "Rådgjevar", "en": "Adviser"}}}},
			{ID: "channels", Kind: survey.KindMultiple, Theme: "culture", Text: survey.Text{"nb": "Kanaler", "nn": "Kanalar", "en": "Channels"},
				Options: []survey.Option{{Code: "email", Label: survey.Text{"nb": "E-post", "en": "E-mail"}}, {Code: "meetings", Label: survey.Text{"nb": "Møter", "nn": "Møte", "en": "Meetings"}}}},
			{ID: "hours", Kind: survey.KindNumber, Integer: true, Text: survey.Text{"nb": "Timer per måned", "en": "Hours per month"}, Unit: survey.Text{"nb": "timer per måned", "en": "hours per month"}},
			{ID: "why_unclear", Kind: survey.KindText, Theme: "leadership", Text: survey.Text{"nb": "Hvorfor uklart?", "nn": "Kvifor uklart?", "en": "Why unclear?"},
				ShowIf: &survey.Condition{Item: "leadership", In: []string{"1", "2"}}},
		}},
	},
}

// offriWave is a wave of the project offri fielding leaders version 1.
var offriWave = survey.Wave{ID: "w1", ProjectID: "offri", Title: "OFFRI 2026, municipal leaders", QuestionnaireID: "offri-leaders", QuestionnaireVersion: 1,
	Group: survey.GroupMunicipalLeaders, Municipalities: []string{"0301"}, Opens: "2026-03-01", Closes: "2026-12-31"}

// appendSurvey appends survey events to a stream.
func appendSurvey(t testing.TB, s eventstore.Store, stream string, events ...survey.Event) uint64 {
	t.Helper()
	var news []eventstore.NewEvent
	for i, e := range events {
		data, err := survey.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		news = append(news, eventstore.NewEvent{EventID: fmt.Sprintf("%s-%d-%s", stream, i, e.EventType()), Type: e.EventType(), SchemaVersion: survey.SchemaVersion,
			OccurredAt: now, Metadata: eventstore.Metadata{Actor: eventstore.Actor{Subject: "respondent", Role: "respondent"}}, Data: data})
	}
	res, err := s.Append(context.Background(), eventstore.AppendRequest{StreamID: stream, Events: news})
	if err != nil {
		t.Fatal(err)
	}
	return res.LastPosition()
}

// respond submits a response to the wave about the partnerships.
func respond(t *testing.T, s eventstore.Store, id, on string, answers survey.Answers, partnerships ...string) uint64 {
	t.Helper()
	return appendSurvey(t, s, survey.ResponseStream(id),
		survey.SurveyResponseStarted{WaveID: offriWave.ID, Municipality: "0301", Group: offriWave.Group, Language: survey.LangNN},
		survey.SurveyAnswersSaved{Answers: answers, Partnerships: partnerships},
		survey.SurveyResponseSubmitted{Answers: answers, Partnerships: partnerships, AnsweredOn: on})
}

// surveyHistory records two partnerships in Oslo, p1 whose model changes
// on 2026-06-01 and p2 which ends on 2026-05-01, the questionnaire and the
// wave, and three responses; it returns the position before the third.
func surveyHistory(t *testing.T, s eventstore.Store) uint64 {
	t.Helper()
	init1 := initiateA
	init1.PartnershipID, init1.CollaborationModel = "p1", "network"
	record(t, s, "p1",
		"2026-01-05", init1,
		"2026-02-01", partnership.RolesAgreed{Roles: []partnership.Role{{PartnerID: "b", Role: "lead", Responsibilities: []string{"drift"}}}},
		"2026-06-01", partnership.CollaborationModelChanged{CollaborationModel: "co_governance", Reason: "avtale"},
		"2026-06-01", partnership.AgreementSigned{AgreementType: "cooperation_agreement", ValidFrom: "2026-06-01", Reference: "sak 2"},
	)
	init2 := initiateA
	init2.PartnershipID, init2.CollaborationModel = "p2", "grant"
	record(t, s, "p2",
		"2026-01-10", init2,
		"2026-05-01", partnership.PartnershipEnded{Reason: "completed", Outcome: "ferdig"},
	)
	appendSurvey(t, s, survey.QuestionnaireStream(leaders.ID), survey.QuestionnairePublished{Questionnaire: leaders})
	appendSurvey(t, s, survey.WaveStream(offriWave.ID), survey.SurveyWaveScheduled{Wave: offriWave})
	respond(t, s, "r1", "2026-03-10", survey.Answers{"leadership": {"2"}, "role": {"manager"}, "channels": {"meetings"}, "hours": {"12"}, "why_unclear": {"Ingen, visst"}}, "p1")
	at := respond(t, s, "r2", "2026-07-01", survey.Answers{"leadership": {"5"}, "role": {"adviser"}}, "p1", "p2")
	respond(t, s, "r3", "2026-08-01", survey.Answers{"leadership": {"4"}}, "p1")
	return at
}

// responsesFile is the csv responses file of the wave at the position.
func responsesFile(position uint64, format string) research.File {
	return research.File{Export: research.KindResponses, Format: format, Position: position, AsOf: "2026-11-26",
		Keys: offriKeys(), Wave: offriWave.ID}
}

func writeFile(t *testing.T, s eventstore.Store, f research.File) ([]byte, research.Summary) {
	t.Helper()
	var buf bytes.Buffer
	sum, err := f.Write(context.Background(), s, &buf, secret)
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), sum
}

// csvRows reads a CSV file into rows keyed by column.
func csvRows(t *testing.T, body []byte) []map[string]string {
	t.Helper()
	header, rows := readCSV(t, body)
	out := make([]map[string]string, len(rows))
	for i, r := range rows {
		out[i] = map[string]string{}
		for j, h := range header {
			out[i][h] = r[j]
		}
	}
	return out
}

func surveyStore(t *testing.T) (eventstore.Store, uint64) {
	t.Helper()
	clock := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	s := clockStore(t, &clock)
	return s, surveyHistory(t, s)
}

// TestResponsesCarryTheCovariatesOfTheDayAnswered: a response about two
// partnerships is two rows with one response_key; p1's model on each
// answer's day is the one in force then; p2 had ended by r2's day; the
// keys are the spells'; the items' cells are as answered.
func TestResponsesCarryTheCovariatesOfTheDayAnswered(t *testing.T) {
	s, _ := surveyStore(t)
	body, sum := writeFile(t, s, responsesFile(head(t, s), research.FormatCSV))
	rows := csvRows(t, body)
	if sum.Rows != 4 || len(rows) != 4 {
		t.Fatalf("%d rows, want 4 (r1, r2 twice, r3):\n%s", len(rows), body)
	}
	keys := offriKeys()
	p1, p2 := keys.Partnership("partnership-p1"), keys.Partnership("partnership-p2")
	check(t, "r1", rows[0], map[string]string{
		"response_key": keys.Response("r1"), "wave_id": "w1", "questionnaire_id": "offri-leaders", "questionnaire_version": "1",
		"group": "municipal_leaders", "municipality": "0301", "language": "nn", "answered_on": "2026-03-10",
		"partnership_key": p1, "n_partnerships": "1", "day": "64", "collaboration_model": "network", "lead_kind": "municipal_unit",
		"n_partners": "2", "agreement_in_force": "0", "agreement_kind": "none", "funded": "0", "paused": "0", "partnership_ended": "0",
		"leadership": "2", "role": "manager", "channels__email": "0", "channels__meetings": "1", "hours": "12", "why_unclear": "Ingen, visst",
	})
	check(t, "r2 about p1", rows[1], map[string]string{
		"response_key": keys.Response("r2"), "partnership_key": p1, "n_partnerships": "2", "answered_on": "2026-07-01", "day": "177",
		"collaboration_model": "co_governance", "agreement_in_force": "1", "agreement_kind": "cooperation_agreement", "partnership_ended": "0",
		"leadership": "5", "role": "adviser", "channels__email": "", "channels__meetings": "", "hours": "", "why_unclear": "",
	})
	check(t, "r2 about p2", rows[2], map[string]string{
		"response_key": keys.Response("r2"), "partnership_key": p2, "n_partnerships": "2", "day": "172",
		"collaboration_model": "grant", "partnership_ended": "1", "leadership": "5",
	})
	check(t, "r3", rows[3], map[string]string{"response_key": keys.Response("r3"), "partnership_key": p1, "day": "208", "collaboration_model": "co_governance"})

	// The keys are those of the project's spells file.
	o := research.Options{Position: head(t, s), AsOf: "2026-11-26", Keys: keys}
	spellKeys := csvColumn(t, tableCSV(t, s, "spells", o), "partnership_key")
	if !spellKeys[p1] || !spellKeys[p2] {
		t.Fatalf("responses' partnership keys %s, %s are not the spells' %v", p1, p2, spellKeys)
	}
}

// TestResponsesAreReproducibleByPosition: at a position before r3 the
// file has no r3, and is the same bytes after r3 and more are recorded.
func TestResponsesAreReproducibleByPosition(t *testing.T) {
	s, before := surveyStore(t)
	first, _ := writeFile(t, s, responsesFile(before, research.FormatCSV))
	for _, r := range csvRows(t, first) {
		if r["response_key"] == offriKeys().Response("r3") {
			t.Fatalf("r3, submitted after position %d, is in the file at that position", before)
		}
	}
	respond(t, s, "r4", "2026-09-01", survey.Answers{"leadership": {"3"}}, "p2")
	record(t, s, "p1", "2026-10-01", partnership.CollaborationModelChanged{CollaborationModel: "grant", Reason: "ny"})
	again, _ := writeFile(t, s, responsesFile(before, research.FormatCSV))
	if !bytes.Equal(first, again) {
		t.Fatalf("the file at position %d changed:\n%s\n---\n%s", before, first, again)
	}
	if now := csvRows(t, mustWrite(t, s, responsesFile(head(t, s), research.FormatCSV))); len(now) != 5 {
		t.Fatalf("at the head %d rows, want 5", len(now))
	}
}

func mustWrite(t *testing.T, s eventstore.Store, f research.File) []byte {
	t.Helper()
	b, _ := writeFile(t, s, f)
	return b
}

// TestResponsesOfAnotherProjectsWaveAreNotFound: a wave is exported only
// under its own project, and not at a position before it was scheduled;
// without a project or a wave the export is refused.
func TestResponsesOfAnotherProjectsWaveAreNotFound(t *testing.T) {
	s, _ := surveyStore(t)
	ctx := context.Background()
	other := responsesFile(head(t, s), research.FormatCSV)
	other.Keys = research.ProjectKeys("other", projectKey, 1)
	if _, err := other.Write(ctx, s, &bytes.Buffer{}, secret); !errors.Is(err, research.ErrWaveNotFound) {
		t.Fatalf("another project's export of the wave: %v, want ErrWaveNotFound", err)
	}
	unknown := responsesFile(head(t, s), research.FormatCSV)
	unknown.Wave = "nope"
	if _, err := unknown.Write(ctx, s, &bytes.Buffer{}, secret); !errors.Is(err, research.ErrWaveNotFound) {
		t.Fatalf("an unknown wave: %v, want ErrWaveNotFound", err)
	}
	early := responsesFile(3, research.FormatCSV)
	if _, err := early.Write(ctx, s, &bytes.Buffer{}, secret); !errors.Is(err, research.ErrWaveNotFound) {
		t.Fatalf("before the wave was scheduled: %v, want ErrWaveNotFound", err)
	}
	oneOff := responsesFile(head(t, s), research.FormatCSV)
	oneOff.Keys = oneOff.OneOffKeys(secret)
	if _, err := oneOff.Write(ctx, s, &bytes.Buffer{}, secret); !errors.Is(err, research.ErrResponsesScope) {
		t.Fatalf("without a project: %v, want ErrResponsesScope", err)
	}
}

// TestResponsesWithoutFreeText leaves the text item out, and says so in
// the file's name, query, manifest and citation.
func TestResponsesWithoutFreeText(t *testing.T) {
	s, _ := surveyStore(t)
	f := responsesFile(head(t, s), research.FormatCSV)
	f.WithoutFreeText = true
	body, sum := writeFile(t, s, f)
	header, _ := readCSV(t, body)
	if slices.Contains(header, "why_unclear") || !slices.Contains(header, "leadership") {
		t.Fatalf("header without free text: %v", header)
	}
	if bytes.Contains(body, []byte("Ingen, visst")) {
		t.Fatal("the free text is in the file")
	}
	m := f.Manifest(sum, "test", research.Citing{})
	if !strings.Contains(f.Name(), "no-free-text") || f.Query().Get("free_text") != "0" || !m.WithoutFreeText || m.Wave != "w1" ||
		!strings.Contains(m.Citation, "without free text") || !strings.Contains(f.Name(), "-w1-") {
		t.Fatalf("name %s, query %v, manifest %+v", f.Name(), f.Query(), m)
	}
}

// TestResponsesTableDescribesTheItems: labels are the item texts in three
// languages, the theme and the skip condition are in the descriptions,
// free text is flagged personal, the scale is labelled 1..5.
func TestResponsesTableDescribesTheItems(t *testing.T) {
	table, err := research.File{Export: research.KindResponses}.ResponsesTable(offriWave, leaders)
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) research.Column {
		i := slices.IndexFunc(table.Columns, func(c research.Column) bool { return c.Name == name })
		if i < 0 {
			t.Fatalf("no column %s", name)
		}
		return table.Columns[i]
	}
	l := col("leadership")
	if l.Type != research.TypeInteger || len(l.Values) != 5 || l.Values[0].Label != "1 Strongly disagree" || l.Values[4].LabelNN != "5 Heilt samd" || l.Values[2].Label != "3" ||
		l.Label != "The leadership is clear" || l.LabelNB != "Ledelsen er tydelig" || l.LabelNN != "Leiinga er tydeleg" || !strings.Contains(l.Description, "Theme: leadership") {
		t.Fatalf("leadership: %+v", l)
	}
	w := col("why_unclear")
	if w.Personal == "" || !strings.Contains(w.Description, "Asked only when the answer to leadership is 1 (Strongly disagree) or 2.") ||
		!strings.Contains(w.DescriptionNN, "Vert berre stilt når svaret på leadership er 1 (Heilt usamd) eller 2.") {
		t.Fatalf("why_unclear: %+v", w)
	}
	if c := col("channels__meetings"); c.Type != research.TypeBoolean || c.LabelNB != "Kanaler: Møter" {
		t.Fatalf("channels__meetings: %+v", c)
	}
	if c := col("hours"); c.Type != research.TypeInteger || c.Unit != "hours per month" || !strings.Contains(c.DescriptionNB, "Enhet: timer per måned.") {
		t.Fatalf("hours: %+v", c)
	}
	long := leaders
	long.Sections = []survey.Section{{ID: "s", Title: survey.Text{"nb": "S"}, Items: []survey.Item{{ID: "a_rather_long_item_identifier_xy", Kind: survey.KindMultiple, Text: survey.Text{"nb": "?"},
		Options: []survey.Option{{Code: "first_option", Label: survey.Text{"nb": "1"}}, {Code: "second", Label: survey.Text{"nb": "2"}}}}}}}
	lt, err := research.File{}.ResponsesTable(offriWave, long)
	if err != nil {
		t.Fatal(err)
	}
	names := lt.Columns[len(lt.Columns)-2:]
	if names[0].Name != "a_rather_long_item_identifier__1" || names[1].Name != "a_rather_long_item_identifier__2" {
		t.Fatalf("long option columns: %s, %s", names[0].Name, names[1].Name)
	}
	clash := leaders
	clash.Sections = []survey.Section{{ID: "s", Title: survey.Text{"nb": "S"}, Items: []survey.Item{{ID: "day", Kind: survey.KindNumber, Text: survey.Text{"nb": "?"}}}}}
	if _, err := (research.File{}).ResponsesTable(offriWave, clash); err == nil {
		t.Fatal("an item named day, as a covariate column, was accepted")
	}
}

// TestResponsesInStataAndParquet: haven reads the .dta (the scale with
// its value labels, the coded group), DuckDB the Parquet file (the scale
// as integers), with the CSV's values.
func TestResponsesInStataAndParquet(t *testing.T) {
	s, _ := surveyStore(t)
	dir := t.TempDir()
	at := head(t, s)
	for _, format := range []string{research.FormatStata, research.FormatParquet} {
		body, _ := writeFile(t, s, responsesFile(at, format))
		if err := os.WriteFile(filepath.Join(dir, "responses."+format), body, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("stata", func(t *testing.T) {
		f := readDTA(t, filepath.Join(dir, "responses.dta"))
		if f.Rows != 4 {
			t.Fatalf("haven read %d rows", f.Rows)
		}
		for _, c := range f.Columns {
			switch c.Name {
			case "leadership":
				if c.Labels["1 Strongly disagree"] != 1 || c.Labels["5 Strongly agree"] != 5 || !equalValues(c.Values, []any{2.0, 5.0, 5.0, 4.0}) {
					t.Errorf("leadership in Stata: %+v", c)
				}
			case "group":
				if c.Labels["Municipal leaders"] != 1 {
					t.Errorf("group in Stata: %+v", c)
				}
			case "answered_on":
				if !equalValues(c.Values, []any{"2026-03-10", "2026-07-01", "2026-07-01", "2026-08-01"}) {
					t.Errorf("answered_on in Stata: %+v", c)
				}
			}
		}
	})
	t.Run("parquet", func(t *testing.T) {
		f := readParquet(t, filepath.Join(dir, "responses.parquet"))
		if len(f.Rows) != 4 {
			t.Fatalf("DuckDB read %d rows", len(f.Rows))
		}
		i := slices.IndexFunc(f.Columns, func(c struct{ Name, Type string }) bool { return c.Name == "leadership" })
		if i < 0 || f.Columns[i].Type != "BIGINT" || fmt.Sprint(f.Rows[1][i]) != "5" {
			t.Fatalf("leadership in Parquet: %+v, row %v", f.Columns, f.Rows[1])
		}
	})
}

// rJoin merges the project's spells and responses on partnership_key
// where tstart <= day < tstop, as a researcher would, and checks the
// joined spells' covariates are the responses file's.
const rJoin = `
options(warn = 2)
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
sp <- read.csv(args[1], colClasses = c(partnership_key = "character", municipality = "character", split_codes = "character"))
re <- read.csv(args[2], colClasses = c(partnership_key = "character", response_key = "character", municipality = "character"))
m <- merge(re, sp, by = "partnership_key", suffixes = c("", ".spell"))
m <- m[m$tstart <= m$day & m$day < m$tstop, ]
same <- function(col) all(as.character(m[[col]]) == as.character(m[[paste0(col, ".spell")]]))
cat(toJSON(list(joined = nrow(m), open = sum(re$partnership_ended == 0, na.rm = TRUE),
  model = same("collaboration_model"), lead = same("lead_kind"), agreement = same("agreement_in_force"),
  partners = same("n_partners"), funded = same("funded"), anchoring = same("anchoring_level")), auto_unbox = TRUE))
`

// TestResponsesJoinSpellsInR is the proof: R joins the responses
// to the spells of the same project on the pseudonymous key and the day,
// and gets the responses file's covariates.
func TestResponsesJoinSpellsInR(t *testing.T) {
	r := rscript(t, "jsonlite")
	s, _ := surveyStore(t)
	at := head(t, s)
	dir := t.TempDir()
	spellsFile := research.File{Export: research.KindSpells, Format: research.FormatCSV, Position: at, AsOf: "2026-11-26", Keys: offriKeys()}
	paths := []string{filepath.Join(dir, "spells.csv"), filepath.Join(dir, "responses.csv")}
	for i, f := range []research.File{spellsFile, responsesFile(at, research.FormatCSV)} {
		if err := os.WriteFile(paths[i], mustWrite(t, s, f), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var got struct {
		Joined, Open                                        int
		Model, Lead, Agreement, Partners, Funded, Anchoring bool
	}
	runR(t, r, rJoin, &got, paths...)
	if got.Joined != 3 || got.Open != 3 || !got.Model || !got.Lead || !got.Agreement || !got.Partners || !got.Funded || !got.Anchoring {
		t.Fatalf("R's join: %+v (want the 3 rows about an ongoing partnership joined, every covariate equal)", got)
	}
}

// TestResponsesDataPackageDescribesTheWave: datapackage.json of a
// responses file has the wave's table, with nynorsk labels and the
// scale's integer categories.
func TestResponsesDataPackageDescribesTheWave(t *testing.T) {
	s, _ := surveyStore(t)
	f := responsesFile(head(t, s), research.FormatCSV)
	_, sum := writeFile(t, s, f)
	tables, err := f.Tables(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := research.DataPackage(f.Manifest(sum, "test", research.Citing{}), tables)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"x-wave": "w1"`, `"nn": "Leiinga er tydeleg"`, `"value": 5`, `"name": "channels__email"`, `"x-personal": "free text can identify a person"`} {
		if !bytes.Contains(pkg, []byte(want)) {
			t.Errorf("datapackage.json has no %s", want)
		}
	}
	if t.Failed() {
		t.Log(string(pkg))
	}
}

// TestResponsesTablesOfTheDemoQuestionnaires: OFFRI's leader and
// volunteer questionnaires make tables every format writes (Stata's
// variable names included), with a column per item or option.
func TestResponsesTablesOfTheDemoQuestionnaires(t *testing.T) {
	demos := survey.Demo()
	if len(demos) < 2 {
		t.Fatalf("%d demo questionnaires", len(demos))
	}
	for _, q := range demos {
		q.Version = 1
		w := offriWave
		w.QuestionnaireID = q.ID
		table, err := research.File{}.ResponsesTable(w, q)
		if err != nil {
			t.Fatalf("%s: %v", q.ID, err)
		}
		want := 0
		for _, it := range q.Items() {
			want++
			if it.Kind == survey.KindMultiple {
				want += len(it.Options) - 1
			}
		}
		if got := len(table.Columns) - 23; got != want {
			t.Errorf("%s: %d item columns, want %d", q.ID, got, want)
		}
		for _, format := range research.Formats {
			if _, err := research.WriteTable(context.Background(), &bytes.Buffer{}, format, table, func(context.Context, func([]string) error) error { return nil }); err != nil {
				t.Errorf("%s in %s: %v", q.ID, format, err)
			}
		}
	}
}
