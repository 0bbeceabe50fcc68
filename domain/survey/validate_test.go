package survey

import (
	"encoding/json"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// small reads testdata/small.json, a valid questionnaire using every kind.
func small(t testing.TB) Questionnaire {
	t.Helper()
	data, err := os.ReadFile("testdata/small.json")
	if err != nil {
		t.Fatalf("read small.json: %v", err)
	}
	q, err := Parse(data)
	if err != nil {
		t.Fatalf("parse small.json: %v", err)
	}
	return q
}

func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error %v is no *ValidationError", err)
	}
	return ve.Problems
}

func TestParseJSONAndYAMLParseEqual(t *testing.T) {
	t.Parallel()
	yamlData, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := Parse(yamlData)
	if err != nil {
		t.Fatalf("parse YAML: %v", err)
	}
	fromJSON := small(t)
	if !fromYAML.Equal(fromJSON) {
		a, _ := json.Marshal(fromYAML)
		b, _ := json.Marshal(fromJSON)
		t.Fatalf("YAML and JSON differ:\n%s\n%s", a, b)
	}
	// A bare number where text is wanted (in: [4, 5]) is that text.
	if got := fromYAML.Sections[1].Items[1].ShowIf.In; !slices.Equal(got, []string{"4", "5"}) {
		t.Errorf("in = %q, want [4 5]", got)
	}
	// JSON with leading space is still JSON (and YAML would accept it too,
	// so check the JSON path by a JSON-only form: a syntax error's wording).
	if _, err := Parse([]byte("  {\"id\": }")); err == nil || !strings.Contains(err.Error(), "not valid JSON: line 1") {
		t.Errorf("JSON syntax error = %v, want 'not valid JSON: line 1 ...'", err)
	}
}

// TestValidateRules changes the valid small questionnaire in one way per
// case and expects exactly the one problem the rule names.
func TestValidateRules(t *testing.T) {
	t.Parallel()
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name   string
		change func(q *Questionnaire)
		path   string
		code   string
	}{
		{"id missing", func(q *Questionnaire) { q.ID = "" }, "id", ProblemRequired},
		{"id upper case", func(q *Questionnaire) { q.ID = "Small" }, "id", ProblemInvalid},
		{"id one character", func(q *Questionnaire) { q.ID = "s" }, "id", ProblemInvalid},
		{"id too long", func(q *Questionnaire) { q.ID = strings.Repeat("a", 41) }, "id", ProblemInvalid},
		{"id starts with dash", func(q *Questionnaire) { q.ID = "-small" }, "id", ProblemInvalid},
		{"negative version", func(q *Questionnaire) { q.Version = -1 }, "version", ProblemInvalid},
		{"title missing", func(q *Questionnaire) { q.Title = nil }, "title", ProblemRequired},
		{"title without bokmål", func(q *Questionnaire) { q.Title = Text{"en": "Small"} }, "title.nb", ProblemRequired},
		{"title blank bokmål", func(q *Questionnaire) { q.Title = Text{"nb": "  "} }, "title.nb", ProblemRequired},
		{"unknown language", func(q *Questionnaire) { q.Title["de"] = "Klein" }, "title.de", ProblemUnknown},
		{"text too long", func(q *Questionnaire) { q.Intro = Text{"nb": strings.Repeat("æ", 2001)} }, "intro.nb", ProblemTooLong},
		{"no sections", func(q *Questionnaire) { q.Sections = nil }, "sections", ProblemRequired},
		{"too many sections", func(q *Questionnaire) {
			for len(q.Sections) <= MaxSections {
				q.Sections = append(q.Sections, q.Sections[0])
			}
		}, "sections", ProblemTooMany},
		{"too many items", func(q *Questionnaire) {
			for len(q.Sections[0].Items) <= MaxItems {
				q.Sections[0].Items = append(q.Sections[0].Items, q.Sections[0].Items[0])
			}
		}, "sections", ProblemTooMany},
		{"section without items", func(q *Questionnaire) { q.Sections[1].Items = nil }, "sections[1].items", ProblemRequired},
		{"section id missing", func(q *Questionnaire) { q.Sections[0].ID = "" }, "sections[0].id", ProblemRequired},
		{"section id bad", func(q *Questionnaire) { q.Sections[0].ID = "Back-ground" }, "sections[0].id", ProblemInvalid},
		{"section id twice", func(q *Questionnaire) { q.Sections[1].ID = "background" }, "sections[1].id", ProblemDuplicate},
		{"section id is an item id", func(q *Questionnaire) { q.Sections[0].ID = "partners" }, "sections[0].id", ProblemDuplicate},
		{"section title missing", func(q *Questionnaire) { q.Sections[1].Title = nil }, "sections[1].title", ProblemRequired},
		{"item id missing", func(q *Questionnaire) { q.Sections[0].Items[0].ID = "" }, "sections[0].items[0].id", ProblemRequired},
		{"item id bad", func(q *Questionnaire) { q.Sections[0].Items[0].ID = "1years" }, "sections[0].items[0].id", ProblemInvalid},
		{"item id too long", func(q *Questionnaire) { q.Sections[0].Items[0].ID = "y" + strings.Repeat("e", 32) }, "sections[0].items[0].id", ProblemInvalid},
		{"item id twice across sections", func(q *Questionnaire) { q.Sections[1].Items[1].ID = "years" }, "sections[1].items[1].id", ProblemDuplicate},
		{"item id reserved", func(q *Questionnaire) { q.Sections[0].Items[0].ID = "municipality" }, "sections[0].items[0].id", ProblemDuplicate},
		{"item id a spells column", func(q *Questionnaire) { q.Sections[0].Items[0].ID = "tstart" }, "sections[0].items[0].id", ProblemDuplicate},
		{"item id an option column", func(q *Questionnaire) { q.Sections[0].Items[0].ID = "partners__school" }, "sections[0].items[0].id", ProblemDuplicate},
		{"item text missing", func(q *Questionnaire) { q.Sections[0].Items[0].Text = nil }, "sections[0].items[0].text", ProblemRequired},
		{"kind missing", func(q *Questionnaire) { q.Sections[1].Items[1].Kind = "" }, "sections[1].items[1].kind", ProblemRequired},
		{"kind unknown", func(q *Questionnaire) { q.Sections[1].Items[1].Kind = "essay" }, "sections[1].items[1].kind", ProblemInvalid},
		{"likert without scale", func(q *Questionnaire) { q.Sections[1].Items[0].Scale = nil }, "sections[1].items[0].scale", ProblemRequired},
		{"likert of 6 points", func(q *Questionnaire) { q.Sections[1].Items[0].Scale.Points = 6 }, "sections[1].items[0].scale.points", ProblemInvalid},
		{"likert 7 points, 2 labels", func(q *Questionnaire) { q.Sections[1].Items[0].Scale.Points = 7 }, "", ""},
		{"likert labels neither 2 nor points", func(q *Questionnaire) {
			s := q.Sections[1].Items[0].Scale
			s.Labels = append(s.Labels, Text{"nb": "Midt"})
		}, "sections[1].items[0].scale.labels", ProblemInvalid},
		{"likert no labels", func(q *Questionnaire) { q.Sections[1].Items[0].Scale.Labels = nil }, "sections[1].items[0].scale.labels", ProblemRequired},
		{"likert label without bokmål", func(q *Questionnaire) { q.Sections[1].Items[0].Scale.Labels[1] = Text{"en": "Agree"} }, "sections[1].items[0].scale.labels[1].nb", ProblemRequired},
		{"scale on a text item", func(q *Questionnaire) { q.Sections[1].Items[1].Scale = &Scale{Points: 5} }, "sections[1].items[1].scale", ProblemInvalid},
		{"single with one option", func(q *Questionnaire) { q.Sections[0].Items[1].Options = q.Sections[0].Items[1].Options[:1] }, "sections[0].items[1].options", ProblemRequired},
		{"too many options", func(q *Questionnaire) {
			it := &q.Sections[0].Items[2]
			for i := len(it.Options); i <= MaxOptions; i++ {
				it.Options = append(it.Options, Option{Code: "o" + strings.Repeat("x", i%30) + string(rune('a'+i%26)), Label: Text{"nb": "x"}})
			}
		}, "sections[0].items[2].options", ProblemTooMany},
		{"option code missing", func(q *Questionnaire) { q.Sections[0].Items[2].Options[1].Code = "" }, "sections[0].items[2].options[1].code", ProblemRequired},
		{"option code bad", func(q *Questionnaire) { q.Sections[0].Items[2].Options[1].Code = "Health" }, "sections[0].items[2].options[1].code", ProblemInvalid},
		{"option code twice", func(q *Questionnaire) { q.Sections[0].Items[2].Options[2].Code = "school" }, "sections[0].items[2].options[2].code", ProblemDuplicate},
		{"option label missing", func(q *Questionnaire) { q.Sections[0].Items[2].Options[0].Label = nil }, "sections[0].items[2].options[0].label", ProblemRequired},
		{"options on a number item", func(q *Questionnaire) { q.Sections[0].Items[0].Options = q.Sections[0].Items[2].Options }, "sections[0].items[0].options", ProblemInvalid},
		{"min above max", func(q *Questionnaire) { q.Sections[0].Items[0].Min = f(61) }, "sections[0].items[0].max", ProblemTooSmall},
		{"fractional min on an integer item", func(q *Questionnaire) { q.Sections[0].Items[0].Min = f(0.5) }, "sections[0].items[0].min", ProblemNotInteger},
		{"min on a text item", func(q *Questionnaire) { q.Sections[1].Items[1].Min = f(1) }, "sections[1].items[1].min", ProblemInvalid},
		{"max on a single item", func(q *Questionnaire) { q.Sections[0].Items[1].Max = f(1) }, "sections[0].items[1].max", ProblemInvalid},
		{"integer on a likert item", func(q *Questionnaire) { q.Sections[1].Items[0].Integer = true }, "sections[1].items[0].integer", ProblemInvalid},
		{"unit on a multiple item", func(q *Questionnaire) { q.Sections[0].Items[2].Unit = Text{"nb": "år"} }, "sections[0].items[2].unit", ProblemInvalid},
		{"max_length too large", func(q *Questionnaire) { q.Sections[1].Items[1].MaxLength = 4001 }, "sections[1].items[1].max_length", ProblemInvalid},
		{"max_length negative", func(q *Questionnaire) { q.Sections[1].Items[1].MaxLength = -1 }, "sections[1].items[1].max_length", ProblemInvalid},
		{"max_length on a number item", func(q *Questionnaire) { q.Sections[0].Items[0].MaxLength = 10 }, "sections[0].items[0].max_length", ProblemInvalid},
		{"condition names no item", func(q *Questionnaire) { q.Sections[1].ShowIf.Item = "" }, "sections[1].show_if.item", ProblemRequired},
		{"condition names an unknown item", func(q *Questionnaire) { q.Sections[1].ShowIf.Item = "nothing" }, "sections[1].show_if.item", ProblemUnknown},
		{"section condition on its own item", func(q *Questionnaire) {
			q.Sections[1].ShowIf = &Condition{Item: "agreement_useful", In: []string{"1"}}
		}, "sections[1].show_if.item", ProblemForwardSkip},
		{"item condition on a later item", func(q *Questionnaire) {
			q.Sections[0].Items[1].ShowIf = &Condition{Item: "partners", In: []string{"school"}}
		}, "sections[0].items[1].show_if.item", ProblemForwardSkip},
		{"item condition on itself", func(q *Questionnaire) {
			q.Sections[0].Items[2].ShowIf = &Condition{Item: "partners", In: []string{"school"}}
		}, "sections[0].items[2].show_if.item", ProblemForwardSkip},
		{"condition on a number item", func(q *Questionnaire) {
			q.Sections[0].Items[1].ShowIf = &Condition{Item: "years", In: []string{"1"}}
		}, "sections[0].items[1].show_if.item", ProblemInvalid},
		{"condition without values", func(q *Questionnaire) { q.Sections[1].ShowIf.In = nil }, "sections[1].show_if.in", ProblemRequired},
		{"condition value not an option", func(q *Questionnaire) { q.Sections[1].ShowIf.In = []string{"yes", "maybe"} }, "sections[1].show_if.in[1]", ProblemNotInList},
		{"condition point beyond the scale", func(q *Questionnaire) { q.Sections[1].Items[1].ShowIf.In = []string{"6"} }, "sections[1].items[1].show_if.in[0]", ProblemNotInList},
		{"condition on an earlier item in the same section", func(q *Questionnaire) {
			q.Sections[0].Items[2].ShowIf = &Condition{Item: "agreement", In: []string{"no"}}
		}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			q := small(t)
			c.change(&q)
			err := q.Validate()
			if c.code == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidQuestionnaire) || errors.Is(err, ErrInvalidAnswers) {
				t.Fatalf("Validate() = %v, want an ErrInvalidQuestionnaire", err)
			}
			ps := problemsOf(t, err)
			if len(ps) != 1 || ps[0].Path != c.path || ps[0].Code != c.code || ps[0].Message == "" {
				t.Fatalf("problems = %+v, want one %s at %s", ps, c.code, c.path)
			}
		})
	}
}

// TestValidateNamesEveryProblem: a definition with many faults gets every
// one named, in document order, in one error.
func TestValidateNamesEveryProblem(t *testing.T) {
	t.Parallel()
	def := `
id: Bad_ID
title: {en: Only English}
sections:
  - id: one
    title: {nb: En}
    items:
      - {id: a, kind: likert, text: {nb: A}, scale: {points: 4, labels: [{nb: Lav}, {nb: Høy}]}}
      - {id: a, kind: single, text: {nb: B}, options: [{code: x, label: {nb: X}}]}
      - {id: c, kind: number, text: {nb: C}, min: 5, max: 1, max_length: 3}
      - {id: d, kind: text, text: {nb: D}, show_if: {item: e, in: [x]}}
      - {id: e, kind: single, text: {nb: E}, options: [{code: x, label: {nb: X}}, {code: x, label: {nb: Z}}]}
  - id: one
    title: {nb: To}
    show_if: {item: a, in: ["9"]}
    items: []
`
	_, err := Parse([]byte(def))
	got := []string{}
	for _, p := range problemsOf(t, err) {
		got = append(got, p.Path+" "+p.Code)
	}
	want := []string{
		"id invalid",
		"title.nb required",
		"sections[0].items[0].scale.points invalid",
		"sections[0].items[1].id duplicate",
		"sections[0].items[1].options required",
		"sections[0].items[2].max too_small",
		"sections[0].items[2].max_length invalid",
		"sections[0].items[3].show_if.item forward_skip",
		"sections[0].items[4].options[1].code duplicate",
		"sections[1].id duplicate",
		"sections[1].show_if.in[0] not_in_list",
		"sections[1].items required",
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestParseRefusesBadInput: syntax errors with their line, unknown fields
// and wrong types with their paths, and oversized input.
func TestParseRefusesBadInput(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, def string
		want      []string // "path code", and the message contains the last element after "~"
	}{
		{"YAML syntax", "id: x\ntitle: {nb: a\nsections: [", []string{" invalid~line"}},
		{"YAML tab indentation", "id: x\n\ttitle: y\n", []string{" invalid~yaml: line"}},
		{"YAML duplicate key", "id: x\nid: y\n", []string{" invalid~already set"}},
		{"JSON syntax with line", "{\n\"id\": \"x\",\n\"title\": ,\n}", []string{" invalid~line 3"}},
		{"JSON trailing data", `{"id": "x"} {"id": "y"}`, []string{" invalid~more data"}},
		{"empty", "", []string{" required~empty"}},
		{"a list, not an object", "- a\n- b\n", []string{" invalid~object"}},
		{"unknown fields with paths", `{"id": "small-test", "colour": "red", "title": {"nb": "T"}, "sections": [{"id": "s", "title": {"nb": "S"}, "items": [{"id": "i", "kind": "text", "text": {"nb": "I"}, "maxlength": 3}]}]}`,
			[]string{"sections[0].items[0].maxlength unknown~maxlength", "colour unknown~colour"}},
		{"field names are exact", `{"ID": "small-test", "title": {"nb": "T"}, "sections": []}`, []string{"ID unknown~ID", "id required~id", "sections required~section"}},
		{"wrong types", "id: small-test\ntitle: Survey\nsections:\n  - id: s\n    title: {nb: S}\n    items:\n      - id: i\n        kind: text\n        required: maybe\n        max_length: 1.5\n        text: {nb: I}\n",
			[]string{"title invalid~object", "sections[0].items[0].required invalid~true or false", "sections[0].items[0].max_length invalid~whole number"}},
		{"bare yes where text is wanted", "id: small-test\ntitle: {nb: T}\nsections:\n  - id: s\n    title: {nb: S}\n    items:\n      - id: i\n        kind: single\n        text: {nb: I}\n        options: [{code: yes, label: {nb: Ja}}, {code: no, label: {nb: Nei}}]\n",
			[]string{"sections[0].items[0].options[0].code invalid~quote", "sections[0].items[0].options[1].code invalid~quote"}},
		{"too large", "id: x\n#" + strings.Repeat("x", MaxDefinitionBytes), []string{" too_long~bytes"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(c.def))
			if !errors.Is(err, ErrInvalidQuestionnaire) {
				t.Fatalf("Parse() = %v, want an invalid questionnaire", err)
			}
			ps := problemsOf(t, err)
			if len(ps) != len(c.want) {
				t.Fatalf("problems = %+v, want %q", ps, c.want)
			}
			for i, w := range c.want {
				head, word, _ := strings.Cut(w, "~")
				if ps[i].Path+" "+ps[i].Code != head || !strings.Contains(ps[i].Message, word) {
					t.Errorf("problem %d = %+v, want %q with %q in the message", i, ps[i], head, word)
				}
			}
		})
	}
}

func TestShown(t *testing.T) {
	t.Parallel()
	q := small(t)
	ids := func(m map[string]bool) []string {
		var out []string
		for id, ok := range m {
			if ok {
				out = append(out, id)
			}
		}
		slices.Sort(out)
		return out
	}
	cases := []struct {
		name    string
		answers Answers
		want    []string
	}{
		{"nothing answered: the agreement section is hidden", Answers{}, []string{"agreement", "background", "partners", "years"}},
		{"no agreement", Answers{"agreement": {"no"}}, []string{"agreement", "background", "partners", "years"}},
		{"an agreement: its section, not yet its follow-up", Answers{"agreement": {"yes"}, "agreement_useful": {"2"}},
			[]string{"agreement", "agreement_details", "agreement_useful", "background", "partners", "years"}},
		{"an agreement found useful: the follow-up too", Answers{"agreement": {" yes "}, "agreement_useful": {"4"}},
			[]string{"agreement", "agreement_details", "agreement_useful", "agreement_why", "background", "partners", "years"}},
		// The chain: agreement_why depends on agreement_useful, which is in
		// the section that depends on agreement. Answering "no" hides the
		// section, so agreement_useful counts as unanswered and hides
		// agreement_why even though its stored answer is 5.
		{"a hidden item hides what depends on it", Answers{"agreement": {"no"}, "agreement_useful": {"5"}, "agreement_why": {"x"}},
			[]string{"agreement", "background", "partners", "years"}},
	}
	for _, c := range cases {
		if got := ids(q.Shown(c.answers)); !slices.Equal(got, c.want) {
			t.Errorf("%s: Shown = %q, want %q", c.name, got, c.want)
		}
	}

	// A multiple item's condition holds when any chosen code is listed.
	q.Sections[1].ShowIf = &Condition{Item: "partners", In: []string{"health", "culture"}}
	if !q.Shown(Answers{"partners": {"school", "culture"}})["agreement_details"] {
		t.Error("a condition on a multiple item does not hold for one of several chosen codes")
	}
	if q.Shown(Answers{"partners": {"school"}})["agreement_details"] {
		t.Error("a condition on a multiple item holds for a code it does not list")
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	q := small(t)
	cases := []struct {
		name    string
		answers Answers
		final   bool
		want    []string // "id code"
	}{
		{"complete and valid", Answers{"years": {"12"}, "agreement": {"yes"}, "partners": {"school"}, "agreement_useful": {"4"}, "agreement_why": {"Alt"}}, true, nil},
		{"progress may leave required items", Answers{"years": {"3"}}, false, nil},
		{"final: required items that are shown", Answers{"agreement": {"yes"}}, true, []string{"agreement_useful required"}},
		{"final: a hidden required item is not asked for", Answers{"agreement": {"no"}}, true, nil},
		{"final: blank is no answer", Answers{"agreement": {"  "}}, true, []string{"agreement required"}},
		{"unknown item", Answers{"agreement": {"no"}, "zzz": {"1"}}, false, []string{"zzz unknown"}},
		{"not an option", Answers{"agreement": {"maybe"}}, false, []string{"agreement not_in_list"}},
		{"two values for a single item", Answers{"agreement": {"yes", "no"}}, false, []string{"agreement too_many"}},
		{"several codes for a multiple item", Answers{"partners": {"culture", "school", "culture"}}, false, nil},
		{"a code a multiple item does not have", Answers{"partners": {"school", "sport"}}, false, []string{"partners not_in_list"}},
		{"likert point beyond the scale", Answers{"agreement": {"yes"}, "agreement_useful": {"6"}}, false, []string{"agreement_useful not_in_list"}},
		{"not a number", Answers{"years": {"ti"}}, false, []string{"years not_a_number"}},
		{"a fraction for an integer item", Answers{"years": {"2,5"}}, false, []string{"years not_integer"}},
		{"below min", Answers{"years": {"-1"}}, false, []string{"years too_small"}},
		{"above max", Answers{"years": {"61"}}, false, []string{"years too_large"}},
		{"thousands with spaces above max", Answers{"years": {"1 200"}}, false, []string{"years too_large"}},
		{"text too long, in characters", Answers{"agreement": {"yes"}, "agreement_useful": {"5"}, "agreement_why": {strings.Repeat("å", 21)}}, false, []string{"agreement_why too_long"}},
		{"text exactly long enough, trimmed", Answers{"agreement": {"yes"}, "agreement_useful": {"5"}, "agreement_why": {"  " + strings.Repeat("å", 20) + "\n"}}, false, nil},
		{"a bad answer to a hidden item is no error", Answers{"agreement": {"no"}, "agreement_useful": {"9"}}, false, nil},
		{"every problem at once", Answers{"years": {"x"}, "agreement": {"maybe"}, "partners": {"sport"}}, true,
			[]string{"years not_a_number", "agreement not_in_list", "partners not_in_list"}},
	}
	for _, c := range cases {
		err := q.Check(c.answers, c.final)
		var got []string
		if err != nil {
			if !errors.Is(err, ErrInvalidAnswers) || errors.Is(err, ErrInvalidQuestionnaire) {
				t.Errorf("%s: Check() = %v, want an ErrInvalidAnswers", c.name, err)
				continue
			}
			for _, p := range problemsOf(t, err) {
				got = append(got, p.Path+" "+p.Code)
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("%s: problems %q, want %q", c.name, got, c.want)
		}
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	q := small(t)
	got := q.Clean(Answers{
		"years":            {" 12 "},
		"agreement":        {"yes "},
		"partners":         {"culture", "school", "culture", " "},
		"agreement_useful": {"2"},
		"agreement_why":    {"hidden: useful is 2"},
		"zzz":              {"unknown"},
	})
	want := Answers{"years": {"12"}, "agreement": {"yes"}, "partners": {"school", "culture"}, "agreement_useful": {"2"}}
	a, _ := json.Marshal(got)
	b, _ := json.Marshal(want)
	if string(a) != string(b) {
		t.Errorf("Clean = %s, want %s", a, b)
	}

	// Numbers in canonical form; blank answers dropped.
	q.Sections[0].Items[0].Integer = false
	got = q.Clean(Answers{"years": {"2,50"}, "agreement": {""}})
	if !slices.Equal(got["years"], []string{"2.5"}) || got["agreement"] != nil {
		t.Errorf("Clean = %q, want years 2.5 and no agreement", got)
	}
}

func TestParseNumber(t *testing.T) {
	t.Parallel()
	good := map[string]float64{
		"2,5": 2.5, "2.5": 2.5, " 12 ": 12, "1 200": 1200, "1\u00a0200,75": 1200.75, "12 345 678": 12345678,
		"-3": -3, "\u22123": -3, "+4": 4, "-0": 0, "007": 7,
	}
	for s, want := range good {
		if got, ok := ParseNumber(s); !ok || got != want {
			t.Errorf("ParseNumber(%q) = %v, %t, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"", "ti", "1,200.5", "1 20", "12 3456", "1e3", "Inf", "NaN", "0x10", "1_000", "2,", ".5", "1..2", strings.Repeat("9", 400)} {
		if got, ok := ParseNumber(s); ok {
			t.Errorf("ParseNumber(%q) = %v, want refused", s, got)
		}
	}
	third := 1.0 / 3
	if got := formatNumber(third); got != "0.3333333333333333" {
		t.Errorf("canonical form = %s, want the shortest that reads back exactly", got)
	}
}

func TestEqualIgnoresVersion(t *testing.T) {
	t.Parallel()
	a, b := small(t), small(t)
	b.Version = 3
	if !a.Equal(b) {
		t.Error("the same definition at another version is not Equal")
	}
	b.Sections[0].Items[0].Text["nn"] = "Kor mange år har du?"
	if a.Equal(b) {
		t.Error("definitions with different texts are Equal")
	}
}

// FuzzParse: Parse never panics, and whatever it accepts Validate accepts
// and survives a JSON round trip unchanged.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/small.yaml", "testdata/small.json"} {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"id":"ab","title":{"nb":"x"},"sections":[{"id":"s","title":{"nb":"s"},"items":[{"id":"i","kind":"number","text":{"nb":"i"},"min":1e308,"max":1e308}]}]}`))
	f.Add([]byte("id: ab\ntitle: {nb: x}\nsections: [{id: s, title: {nb: s}, items: [{id: i, kind: text, text: {nb: i}}]}]\n"))
	f.Add([]byte("a: &a [*a]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		q, err := Parse(data)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) || len(ve.Problems) == 0 {
				t.Fatalf("Parse error %v is no *ValidationError with problems", err)
			}
			return
		}
		if err := q.Validate(); err != nil {
			t.Fatalf("Parse accepted what Validate refuses: %v", err)
		}
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Parse(b)
		if err != nil {
			t.Fatalf("Parse refuses its own JSON %s: %v", b, err)
		}
		if !again.Equal(q) || again.Version != q.Version {
			t.Fatalf("JSON round trip changed the questionnaire:\n%s", b)
		}
	})
}

// TestParseBoundsHostileInput: alias bombs and deep nesting are refused
// quickly, as problems, not as a panic or unbounded memory.
func TestParseBoundsHostileInput(t *testing.T) {
	t.Parallel()
	laughs := "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
	prev := "a"
	for _, n := range []string{"b", "c", "d", "e", "f", "g", "h", "i"} {
		laughs += n + ": &" + n + " [" + strings.TrimSuffix(strings.Repeat("*"+prev+", ", 9), ", ") + "]\n"
		prev = n
	}
	cases := map[string]string{
		"alias bomb":         laughs,
		"deep YAML lists":    strings.Repeat("- ", 300000) + "x",
		"deep YAML flow":     strings.Repeat("[", 500000),
		"deep JSON":          `{"id": ` + strings.Repeat("[", 400000),
		"self-holding alias": "a: &a [*a]",
	}
	for name, def := range cases {
		_, err := Parse([]byte(def))
		if !errors.Is(err, ErrInvalidQuestionnaire) {
			t.Errorf("%s: Parse() = %v, want an invalid questionnaire", name, err)
			continue
		}
		if ps := problemsOf(t, err); len(ps) != 1 || ps[0].Code != ProblemInvalid {
			t.Errorf("%s: problems %+v, want one invalid", name, ps)
		}
	}
}

// BenchmarkParseDemo parses the leader questionnaire, the largest file a
// researcher is likely to upload.
func BenchmarkParseDemo(b *testing.B) {
	data, err := DemoSource("offri-leaders.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}
