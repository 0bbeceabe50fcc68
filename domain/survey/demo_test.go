package survey

import (
	"slices"
	"strings"
	"testing"
)

// texts returns every Text of a questionnaire with its path.
func texts(q Questionnaire) map[string]Text {
	out := map[string]Text{"title": q.Title}
	if q.Intro != nil {
		out["intro"] = q.Intro
	}
	for _, s := range q.Sections {
		out[s.ID+".title"] = s.Title
		if s.Intro != nil {
			out[s.ID+".intro"] = s.Intro
		}
		for _, it := range s.Items {
			out[it.ID+".text"] = it.Text
			if it.Help != nil {
				out[it.ID+".help"] = it.Help
			}
			if it.Unit != nil {
				out[it.ID+".unit"] = it.Unit
			}
			if it.Scale != nil {
				for i, l := range it.Scale.Labels {
					out[it.ID+".scale.labels["+string(rune('0'+i))+"]"] = l
				}
			}
			for _, o := range it.Options {
				out[it.ID+".options."+o.Code] = o.Label
			}
		}
	}
	return out
}

// TestDemoQuestionnaires: the demo questionnaires parse, have every text in
// all three languages, and use what the issue asks of them: 15 to 25
// items, Likert-5 batteries with labelled ends and one with every point
// labelled, single, multiple, number and free-text items, and a skip
// condition.
func TestDemoQuestionnaires(t *testing.T) {
	t.Parallel()
	demo := Demo()
	if len(demo) != 2 || demo[0].ID != "offri-leaders" || demo[1].ID != "offri-volunteers" {
		t.Fatalf("Demo() = %d questionnaires, want offri-leaders and offri-volunteers", len(demo))
	}
	for _, q := range demo {
		if err := q.Validate(); err != nil {
			t.Errorf("%s: %v", q.ID, err)
		}
		if q.Version != 0 {
			t.Errorf("%s: version %d, want an unpublished definition", q.ID, q.Version)
		}
		for path, text := range texts(q) {
			for _, lang := range Languages {
				if strings.TrimSpace(text[lang]) == "" {
					t.Errorf("%s: %s has no %s text", q.ID, path, lang)
				}
			}
			if text[LangNB] == text[LangEN] && !slices.Contains([]string{"Transport"}, text[LangEN]) {
				t.Errorf("%s: %s is the same in bokmål and English: %q", q.ID, path, text[LangEN])
			}
		}
		items := q.Items()
		if len(items) < 15 || len(items) > 25 {
			t.Errorf("%s: %d items, want 15 to 25", q.ID, len(items))
		}
		kinds := map[string]int{}
		ends, full, conditions := 0, 0, 0
		for _, it := range items {
			kinds[it.Kind]++
			if it.Scale != nil {
				if it.Scale.Points != 5 {
					t.Errorf("%s: %s has %d points, want Likert-5", q.ID, it.ID, it.Scale.Points)
				}
				if len(it.Scale.Labels) == 2 {
					ends++
				} else {
					full++
				}
			}
			if it.ShowIf != nil {
				conditions++
			}
		}
		for _, s := range q.Sections {
			if s.ShowIf != nil {
				conditions++
			}
		}
		for _, k := range Kinds {
			if kinds[k] == 0 {
				t.Errorf("%s: no %s item", q.ID, k)
			}
		}
		if ends < 3 || full < 3 || conditions == 0 {
			t.Errorf("%s: %d Likert items with labelled ends, %d fully labelled, %d conditions; want batteries of both and a condition", q.ID, ends, full, conditions)
		}
		// The skip condition works: "no" to the written agreement hides
		// what is asked about it.
		yes := q.Shown(Answers{"written_agreement": {"yes"}})
		no := q.Shown(Answers{"written_agreement": {"no"}})
		if len(yes) <= len(no) {
			t.Errorf("%s: answering yes to written_agreement shows %d ids, no shows %d; want more for yes", q.ID, len(yes), len(no))
		}
	}

	// Demo returns fresh values.
	demo[0].Sections[0].Items[0].Text[LangNB] = "changed"
	if Demo()[0].Sections[0].Items[0].Text[LangNB] == "changed" {
		t.Error("Demo shares its values between calls")
	}
}
