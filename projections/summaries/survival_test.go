package summaries_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/projections/summaries"
)

// TestDurationsCensorAtToday: every partnership's lifetime in Oslo days,
// the ended ones to their end and the others to today, in one
// municipality (by today's code, former codes included) or everywhere,
// on every backend.
func TestDurationsCensorAtToday(t *testing.T) {
	projectionstest.ForEachBackend(t, func(t *testing.T, open func() *projections.DB) {
		q, all := loadFixture(t, open)
		today := time.Date(2025, 3, 1, 23, 30, 0, 0, time.UTC) // 2 March in Oslo
		for _, code := range []string{"", "4203", "0301"} {
			type row struct {
				id    string
				days  int
				ended bool
			}
			var want []row
			for _, p := range all {
				if code != "" && string(kommune.Code(p.municipality).Current()) != code {
					continue
				}
				end, ended := today, p.status == partnership.StatusEnded
				if ended {
					end = day(t, p.last)
				}
				want = append(want, row{p.id, calendar.Days(day(t, p.started), end), ended})
			}
			slices.SortFunc(want, func(a, b row) int { return strings.Compare(a.id, b.id) })
			got, err := q.Durations(context.Background(), code, today)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("municipality %q: %d durations, want %d", code, len(got), len(want))
			}
			ended := 0
			for i, d := range got {
				if d.Days != want[i].days || d.Ended != want[i].ended {
					t.Errorf("municipality %q, %d: %+v, want %d days, ended %v", code, i, d, want[i].days, want[i].ended)
				}
				if d.Ended {
					ended++
				}
			}
			sv := summaries.SurvivalOf(got)
			if sv.Partnerships != len(want) || sv.Ended != ended || sv.Censored != len(want)-ended || sv.ConfType != "log" {
				t.Errorf("municipality %q: survival %+v", code, sv)
			}
		}
		// The ended one of Arendal (0906 then) lasted 2019-05-01 to
		// 2021-05-01: 731 days, over a leap day.
		got, _ := q.Durations(context.Background(), "4203", today)
		if !slices.ContainsFunc(got, func(d summaries.Duration) bool { return d.Ended && d.Days == 731 && d.CollaborationModel == "grant" }) {
			t.Errorf("no ended grant of 731 days in %+v", got)
		}
	})
}
