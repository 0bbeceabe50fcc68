package web

import (
	"testing"

	"github.com/samspill/samspill/domain/survey"
	"github.com/samspill/samspill/locale"
)

func TestNiceWidth(t *testing.T) {
	for _, c := range []struct{ in, want float64 }{{0, 1}, {0.3, 0.5}, {1, 1}, {1.2, 2}, {3, 5}, {7, 10}, {20, 20}, {148.8, 200}} {
		if got := niceWidth(c.in); got != c.want {
			t.Errorf("niceWidth(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestReportItemFigures: counts, shares and means by kind, free text left
// out, and an item one answer short of the minimum hidden with nothing
// else.
func TestReportItemFigures(t *testing.T) {
	l := locale.For(locale.Bokmal)
	q := reportQuestionnaire()
	var rs []survey.Response
	for _, r := range reportFixture().responses["w-leaders"] {
		if r.Submitted && r.Municipality == "4203" {
			rs = append(rs, r)
		}
	}
	// A repeated code counts once.
	rs[0].Answers["roles"] = []string{"plan", "plan", "run"}
	items := reportItemsOf(l, q, rs, 5)
	if len(items) != 4 {
		t.Fatalf("%d items, want the 4 that are not free text: %+v", len(items), items)
	}
	byID := map[string]reportItem{}
	for _, it := range items {
		byID[it.ID] = it
	}
	lead := byID["lead_clear"]
	if lead.Hidden || lead.N != 5 || lead.Mean != "3,6" || len(lead.Bars) != 5 || lead.Bars[3].Count != 2 || lead.Bars[3].Percent != "40 %" || lead.Bars[3].Width != 40 {
		t.Errorf("likert: %+v", lead)
	}
	if lead.Bars[0].Label != "1 Helt uenig" || lead.Bars[1].Label != "2" || lead.Bars[4].Label != "5 Helt enig" {
		t.Errorf("likert labels: %q %q %q", lead.Bars[0].Label, lead.Bars[1].Label, lead.Bars[4].Label)
	}
	roles := byID["roles"]
	if !roles.Multiple || roles.Bars[0].Count != 2 || roles.Bars[1].Count != 4 || roles.Bars[1].Percent != "80 %" {
		t.Errorf("multiple: %+v", roles)
	}
	if h := byID["hours"]; !h.Hidden || h.N != 0 || h.Bars != nil || h.Mean != "" {
		t.Errorf("hours (4 answers) not hidden: %+v", h)
	}
	// Numbers: ranges of a round width from the item's bounds (0–100:
	// width 20), never the smallest or largest answer.
	items = reportItemsOf(l, q, rs[:4], 4)
	for _, it := range items {
		if it.ID != "hours" {
			continue
		}
		if it.Mean != "14,0" || it.Median != "11,0" || len(it.Bars) != 5 || it.Bars[0].Label != "0–19" || it.Bars[4].Label != "80–100" || it.Bars[0].Count != 3 || it.Bars[1].Count != 1 {
			t.Errorf("number: %+v", it)
		}
		for _, b := range it.Bars {
			if b.Label == "4" || b.Label == "30" {
				t.Errorf("a single answer is written out: %+v", b)
			}
		}
	}
}
