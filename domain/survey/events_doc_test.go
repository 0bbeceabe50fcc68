package survey

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/samspill/samspill/internal/doccheck"
)

// TestEventCatalogueDescribesSurveyEvents: docs/events.md's "Survey
// events" has a section per survey event type, none for a type that does
// not exist, each naming every top-level field of its payload, and names
// the three stream prefixes.
func TestEventCatalogueDescribesSurveyEvents(t *testing.T) {
	t.Parallel()
	const path = "../../docs/events.md"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	section, ok := doccheck.Section(string(data), "Survey events")
	if !ok {
		t.Fatalf("%s has no section Survey events", path)
	}
	for _, h := range doccheck.Headings(section) {
		if _, err := Decode(h.Text, []byte("{}")); h.Level == 3 && err != nil {
			t.Errorf("%s: section %q under Survey events is no survey event type", path, h.Text)
		}
	}
	payloads := map[string]Event{
		TypeQuestionnairePublished: QuestionnairePublished{}, TypeSurveyWaveScheduled: SurveyWaveScheduled{},
		TypeSurveyWaveClosed: SurveyWaveClosed{}, TypeSurveyResponseStarted: SurveyResponseStarted{},
		TypeSurveyAnswersSaved: SurveyAnswersSaved{}, TypeSurveyResponseSubmitted: SurveyResponseSubmitted{},
	}
	if len(payloads) != len(EventTypes) {
		t.Fatalf("the test knows %d payloads, EventTypes has %d", len(payloads), len(EventTypes))
	}
	for _, name := range EventTypes {
		s, ok := doccheck.Section(section, name)
		if !ok {
			t.Errorf("%s: survey event %s has no section under Survey events", path, name)
			continue
		}
		for _, field := range doccheck.JSONPaths(reflect.TypeOf(payloads[name])) {
			if !strings.ContainsAny(field, ".[") && !doccheck.Names(s, field) {
				t.Errorf("%s: %s does not describe the field `%s`", path, name, field)
			}
		}
	}
	for _, prefix := range []string{QuestionnaireStreamPrefix, WaveStreamPrefix, ResponseStreamPrefix} {
		if !strings.Contains(section, "`"+prefix) {
			t.Errorf("%s: Survey events does not name the streams %s…", path, prefix)
		}
	}
}
