package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/history"
)

// fieldSurvey records in the data folder's store a questionnaire, a wave
// of the project and one response about the demo's first partnership,
// and returns that partnership's municipality.
func fieldSurvey(t *testing.T, data, project string) string {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(data, eventsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	streams, err := eventstore.Streams(ctx, store, history.StreamPrefix, 1<<62)
	if err != nil || len(streams) == 0 {
		t.Fatalf("no partnerships in the demo (%v)", err)
	}
	recorded, err := store.ReadStream(ctx, streams[0])
	if err != nil {
		t.Fatal(err)
	}
	entries, err := history.Entries(recorded[:1])
	if err != nil {
		t.Fatal(err)
	}
	init := entries[0].Event.(partnership.PartnershipInitiated)
	init.Municipality = string(kommune.Code(init.Municipality).Current())
	q := survey.Questionnaire{ID: "cli-leaders", Version: 1, Title: survey.Text{"nb": "Ledere"}, Sections: []survey.Section{{ID: "s", Title: survey.Text{"nb": "Del"}, Items: []survey.Item{
		{ID: "leadership", Kind: survey.KindLikert, Text: survey.Text{"nb": "Ledelsen er tydelig"}, Scale: &survey.Scale{Points: 5, Labels: []survey.Text{{"nb": "Helt uenig"}, {"nb": "Helt enig"}}}},
		{ID: "comment", Kind: survey.KindText, Text: survey.Text{"nb": "Kommentar"}},
	}}}}
	today := calendar.Day(time.Now())
	for _, e := range []struct {
		stream string
		event  survey.Event
	}{
		{survey.QuestionnaireStream(q.ID), survey.QuestionnairePublished{Questionnaire: q}},
		{survey.WaveStream("w1"), survey.SurveyWaveScheduled{Wave: survey.Wave{ID: "w1", ProjectID: project, Title: "OFFRI", QuestionnaireID: q.ID, QuestionnaireVersion: 1,
			Group: survey.GroupMunicipalLeaders, Municipalities: []string{init.Municipality}, Opens: today, Closes: today}}},
		{survey.ResponseStream("r1"), survey.SurveyResponseStarted{WaveID: "w1", Municipality: init.Municipality, Group: survey.GroupMunicipalLeaders, Language: "nn"}},
		{survey.ResponseStream("r1"), survey.SurveyResponseSubmitted{Answers: survey.Answers{"leadership": {"3"}, "comment": {"Fritt"}}, Partnerships: []string{init.PartnershipID}, AnsweredOn: today}},
	} {
		data, err := survey.Encode(e.event)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.Append(ctx, eventstore.AppendRequest{StreamID: e.stream, Events: []eventstore.NewEvent{{EventID: e.stream + "-" + e.event.EventType(),
			Type: e.event.EventType(), SchemaVersion: survey.SchemaVersion, OccurredAt: time.Now(), Data: data}}}); err != nil {
			t.Fatal(err)
		}
	}
	return init.Municipality
}

// TestExportResponses: export responses writes the wave's file, its
// manifest (naming the wave) and datapackage.json; its partnership key is
// the project's spells'; without --wave or --project, or with --wave on
// another export, it is a usage error; another project's wave is refused.
func TestExportResponses(t *testing.T) {
	t.Parallel()
	data, dir := t.TempDir(), t.TempDir()
	runOK(t, "demo", "--data", data)
	municipality := fieldSurvey(t, data, "offri")
	runOK(t, "project", "create", "offri", "--name", "Offri", "--institution", "UiO", "--purpose", "Varighet", "--starts", "2026-01-01", "--ends", "2028-12-31",
		"--municipalities", municipality, "--data", data)
	runOK(t, "project", "create", "other", "--name", "Annet", "--institution", "NTNU", "--purpose", "Annet", "--starts", "2026-01-01", "--ends", "2028-12-31",
		"--municipalities", municipality, "--data", data)

	dta := filepath.Join(dir, "responses.dta")
	runOK(t, "export", "responses", "--project", "offri", "--wave", "w1", "--format", "dta", "--no-free-text", "--out", dta, "--data", data)
	m := readManifest(t, dta)
	if m.Export != "responses" || m.Wave != "w1" || !m.WithoutFreeText || m.Project != "offri" || m.Files[0].Rows != 1 {
		t.Fatalf("manifest %+v", m)
	}
	pkg, err := os.ReadFile(filepath.Join(dir, "datapackage.json"))
	if err != nil || !bytes.Contains(pkg, []byte(`"name": "leadership"`)) || bytes.Contains(pkg, []byte(`"name": "comment"`)) {
		t.Fatalf("datapackage.json (%v):\n%s", err, pkg)
	}

	responses, spells := filepath.Join(dir, "responses.csv"), filepath.Join(dir, "spells.csv")
	runOK(t, "export", "responses", "--project", "offri", "--wave", "w1", "--position", "0", "--out", responses, "--data", data)
	runOK(t, "export", "spells", "--project", "offri", "--out", spells, "--data", data)
	r, s := readCSVFile(t, responses), readCSVFile(t, spells)
	if len(r) != 1 || r[0]["comment"] != "Fritt" || r[0]["language"] != "nn" {
		t.Fatalf("responses %v", r)
	}
	joined := false
	for _, row := range s {
		joined = joined || row["partnership_key"] == r[0]["partnership_key"]
	}
	if !joined || r[0]["collaboration_model"] == "" {
		t.Fatalf("the response's partnership %s with model %q is not in the project's spells", r[0]["partnership_key"], r[0]["collaboration_model"])
	}

	for _, args := range [][]string{
		{"export", "responses", "--project", "offri", "--data", data},
		{"export", "responses", "--wave", "w1", "--data", data},
		{"export", "spells", "--wave", "w1", "--data", data},
	} {
		var out, errOut bytes.Buffer
		err := run(context.Background(), args, &out, &errOut, noEnv)
		if _, usage := err.(*usageError); !usage {
			t.Errorf("samspill %s: %v, want a usage error", strings.Join(args, " "), err)
		}
	}
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"export", "responses", "--project", "other", "--wave", "w1", "--data", data}, &out, &errOut, noEnv); err == nil ||
		!strings.Contains(err.Error(), "survey wave not found") {
		t.Fatalf("another project's wave: %v", err)
	}
}

func readCSVFile(t *testing.T, path string) []map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var rows []map[string]string
	for _, r := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			m[h] = r[i]
		}
		rows = append(rows, m)
	}
	return rows
}
