package survey

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/samspill/samspill/internal/doccheck"
)

const surveysDocPath = "../../docs/surveys.md"

// formatSection returns docs/surveys.md's "Questionnaire format".
func formatSection(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(surveysDocPath)
	if err != nil {
		t.Fatalf("read %s: %v", surveysDocPath, err)
	}
	s, ok := doccheck.Section(string(data), "Questionnaire format")
	if !ok {
		t.Fatalf("%s has no section Questionnaire format", surveysDocPath)
	}
	return s
}

// TestDocExampleParses: the YAML example of "Questionnaire format" is a
// valid definition that does what the text around it says.
func TestDocExampleParses(t *testing.T) {
	t.Parallel()
	section := formatSection(t)
	_, rest, ok := strings.Cut(section, "```yaml\n")
	example, _, closed := strings.Cut(rest, "```")
	if !ok || !closed {
		t.Fatalf("%s: Questionnaire format has no ```yaml example", surveysDocPath)
	}
	q, err := Parse([]byte(example))
	if err != nil {
		t.Fatalf("the example does not parse: %v", err)
	}
	if shown := q.Shown(Answers{"written_agreement": {"yes"}, "agreement_followed": {"5"}}); !shown["what_works"] {
		t.Error("the example's chain of conditions does not show what_works to a respondent with an agreement that is followed")
	}
	if shown := q.Shown(Answers{"written_agreement": {"no"}, "agreement_followed": {"5"}}); shown["agreement"] || shown["what_works"] {
		t.Error("the example shows the agreement's questions to a respondent without one")
	}
}

// TestDocNamesEveryFieldAndCode: the section names every field of the
// format (as its path, `sections[].items[].scale.points`), every kind and
// every problem code, so it cannot fall behind the code.
func TestDocNamesEveryFieldAndCode(t *testing.T) {
	t.Parallel()
	section := formatSection(t)
	var tokens []string
	tokens = append(tokens, doccheck.JSONPaths(reflect.TypeFor[Questionnaire]())...)
	tokens = append(tokens, Kinds...)
	tokens = append(tokens, ProblemRequired, ProblemInvalid, ProblemDuplicate, ProblemUnknown, ProblemNotInList,
		ProblemNotANumber, ProblemNotInteger, ProblemTooSmall, ProblemTooLarge, ProblemTooLong, ProblemTooMany, ProblemForwardSkip)
	tokens = append(tokens, Languages...)
	for _, tok := range tokens {
		if !doccheck.Names(section, tok) {
			t.Errorf("%s: Questionnaire format does not name `%s`", surveysDocPath, tok)
		}
	}
}
