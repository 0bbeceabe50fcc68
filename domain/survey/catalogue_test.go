package survey_test

import (
	"strings"
	"testing"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/locale"
)

// problemCodes are the Problem* constants; a new one must be added here
// and to locale/messages/survey.*.toml.
var problemCodes = []string{
	survey.ProblemRequired, survey.ProblemInvalid, survey.ProblemDuplicate, survey.ProblemUnknown,
	survey.ProblemNotInList, survey.ProblemNotANumber, survey.ProblemNotInteger, survey.ProblemTooSmall,
	survey.ProblemTooLarge, survey.ProblemTooLong, survey.ProblemTooMany, survey.ProblemForwardSkip,
}

// TestCatalogueWordsEveryCode: the pages word every problem code, target
// group and item kind in every language (survey.problem.<code>,
// survey.group.<group>, survey.kind.<kind>), and the messages with a
// limit fill it in.
func TestCatalogueWordsEveryCode(t *testing.T) {
	t.Parallel()
	var ids []string
	for _, c := range problemCodes {
		ids = append(ids, "survey.problem."+c)
	}
	for _, g := range survey.Groups {
		ids = append(ids, "survey.group."+g)
	}
	for _, k := range survey.Kinds {
		ids = append(ids, "survey.kind."+k)
	}
	for _, lang := range []locale.Lang{locale.Bokmal, locale.Nynorsk, locale.English} {
		l := locale.For(lang)
		for _, id := range ids {
			if got := l.T(id); got == id || strings.TrimSpace(got) == "" {
				t.Errorf("%s: no message %s", lang, id)
			}
		}
		for id, name := range map[string]string{"survey.problem.too_small.min": "Min", "survey.problem.too_large.max": "Max", "survey.problem.too_long.max": "Max"} {
			if got := l.T(id, name, "1 500"); !strings.Contains(got, "1 500") {
				t.Errorf("%s: %s = %q, want the limit filled in", lang, id, got)
			}
		}
	}
	if nb, nn := locale.For(locale.Bokmal).T("survey.problem.required"), locale.For(locale.Nynorsk).T("survey.kind.number"); nb != "Svar på dette spørsmålet." || nn != "Tal" {
		t.Errorf("bokmål required = %q, nynorsk number = %q", nb, nn)
	}
}
