package research_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/research"
)

// addSurveyEvents appends a survey response's events to the store, among
// the partnerships' (the store's log is shared).
func addSurveyEvents(t *testing.T, s eventstore.Store) {
	t.Helper()
	stream := survey.ResponseStream(strings.ReplaceAll(uuid.NewString(), "-", ""))
	var events []eventstore.NewEvent
	for _, typ := range []string{survey.TypeSurveyResponseStarted, survey.TypeSurveyResponseSubmitted} {
		events = append(events, eventstore.NewEvent{EventID: uuid.NewString(), Type: typ, SchemaVersion: 1,
			OccurredAt: time.Date(2026, 3, 10, 10, 0, 0, 0, time.UTC),
			Metadata:   eventstore.Metadata{Actor: eventstore.Actor{Subject: "respondent", Role: "respondent"}},
			Data:       json.RawMessage(`{"wave_id":"w","answers":{"q":["Et svar i fritekst"]}}`)})
	}
	if _, err := s.Append(context.Background(), eventstore.AppendRequest{StreamID: stream, Events: events}); err != nil {
		t.Fatal(err)
	}
}

// TestEventsExportLeavesOutSurveys: events.ndjson, plain and under a
// project's keys, holds no survey event, and imports into an empty store
// (the positions the survey events took are gaps) that exports the same.
func TestEventsExportLeavesOutSurveys(t *testing.T) {
	src := demoStore(t)
	addSurveyEvents(t, src)
	body, sum := exportEvents(t, src, 0)
	if bytes.Contains(body, []byte("survey-")) || bytes.Contains(body, []byte("Et svar")) {
		t.Fatal("the events export holds survey events")
	}
	if sum.Rows == 0 || uint64(sum.Rows) >= head(t, src) {
		t.Fatalf("%d rows of a log of %d events", sum.Rows, head(t, src))
	}
	projected := projectEvents(t, src, research.EventsOptions{Position: head(t, src), Keys: projectA})
	if bytes.Contains(projected, []byte("Et svar")) || bytes.Contains(projected, []byte(survey.TypeSurveyResponseStarted)) {
		t.Fatal("a project's events export holds survey events")
	}
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	if res := importFile(t, dst, path, nil); res.Written != sum.Rows {
		t.Fatalf("imported %d of %d", res.Written, sum.Rows)
	}
	if again, _ := exportEvents(t, dst, 0); !bytes.Equal(again, body) {
		t.Fatal("the imported store exports other bytes")
	}
}

// TestImportRefusesSurveyEvents: a file with a survey event is refused
// at its line, saying why, and nothing is written.
func TestImportRefusesSurveyEvents(t *testing.T) {
	body, _ := exportEvents(t, demoStore(t), 0)
	lines := strings.Split(strings.TrimSuffix(string(body), "\n"), "\n")
	lines[4] = strings.Replace(lines[4], `"stream_id":"partnership-`, `"stream_id":"survey-response-`, 1)
	path := filepath.Join(t.TempDir(), "events.ndjson")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	dst := openStore(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	_, err = research.Import(context.Background(), dst, f, nil)
	var le *research.LineError
	if !errors.As(err, &le) || le.Line != 5 || !strings.Contains(err.Error(), "survey") {
		t.Fatalf("Import = %v; want line 5 named as a survey's stream", err)
	}
	if h := head(t, dst); h != 0 {
		t.Fatalf("wrote %d events", h)
	}
}
