package summaries_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore/sqlite"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/projections/summaries"
)

// listed is a partnership of the fixture as the list's tests know it.
type listed struct {
	title, municipality, area, model string
	partner, orgNo                   string
	started                          string // a date
	last                             string // a later entry's date, "" for none
	status                           string
	id                               string
}

// fixture is partnerships whose titles need the Norwegian alphabet to
// sort (æ, ø, å after z; case and accents ignored), two of them with the
// same title, two with the same start and two with the same last entry
// (the ids decide), in three municipalities and every status.
func fixture() []*listed {
	return []*listed{
		{title: "Åpen scene", municipality: "4203", area: "culture", model: "network", partner: "Arendal kulturråd", orgNo: "974760673", started: "2021-03-01", last: "2024-05-02", status: "active"},
		{title: "Zumba i parken", municipality: "4203", area: "public_health", model: "informal", partner: "Danselaget", started: "2022-06-15", status: "active"},
		{title: "Ærlig idrett", municipality: "0906", area: "sport_and_outdoor", model: "grant", partner: "Arendal idrettsråd", orgNo: "123456785", started: "2019-05-01", last: "2021-05-01", status: "ended"},
		{title: "besøk hjemme", municipality: "4203", area: "health_and_care", model: "network", partner: "Røde Kors Arendal", orgNo: "974683520", started: "2022-06-15", last: "2024-05-02", status: "paused"},
		{title: "Besøksvenn", municipality: "4203", area: "health_and_care", model: "service_contract", partner: "Sanitetsforeningen", started: "2020-01-10", status: "active"},
		{title: "Øvingslokale", municipality: "5006", area: "culture", model: "co_governance", partner: "Steinkjer musikkråd", orgNo: "889640782", started: "2023-09-01", last: "2023-10-01", status: "active"},
		{title: "Élan dans", municipality: "5006", area: "culture", model: "informal", partner: "Dansegruppa Élan", started: "2024-01-20", status: "active"},
		{title: "Eldretreff", municipality: "1702", area: "health_and_care", model: "network", partner: "Steinkjer frivilligsentral", orgNo: "983887457", started: "2017-03-01", last: "2019-02-01", status: "active"},
		{title: "Aktivitetsvenn", municipality: "0301", area: "health_and_care", model: "network", partner: "Nasjonalforeningen Oslo", orgNo: "864139442", started: "2018-08-08", status: "active"},
		{title: "Leksehjelp", municipality: "4203", area: "education", model: "network", partner: "Biblioteket venner", started: "2023-02-01", status: "active"},
		{title: "Leksehjelp", municipality: "4203", area: "education", model: "grant", partner: "Lions Arendal", started: "2023-03-01", status: "active"},
	}
}

// titleOrder is the fixture's titles in the order a Norwegian reader
// expects (the two Leksehjelp by id, which the test adds).
var titleOrder = []string{"Aktivitetsvenn", "besøk hjemme", "Besøksvenn", "Élan dans", "Eldretreff", "Leksehjelp", "Zumba i parken", "Ærlig idrett", "Øvingslokale", "Åpen scene"}

func day(t *testing.T, s string) time.Time {
	t.Helper()
	d, err := time.ParseInLocation(time.DateOnly, s, calendar.Oslo)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// loadFixture records the fixture in a new store and runs the projections
// over read models from open.
func loadFixture(t *testing.T, open func() *projections.DB) (*summaries.Queries, []*listed) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "events.db"), sqlite.WithClock(func() time.Time { return now }))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := app.New(store, app.WithClock(func() time.Time { return now }))
	all := fixture()
	for _, p := range all {
		started := day(t, p.started)
		res, err := svc.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
			Municipality: p.municipality, Title: p.title, ServiceArea: p.area, CollaborationModel: p.model,
			Partners: []partnership.Partner{{Name: p.partner, Kind: "voluntary_organisation", OrgNo: p.orgNo}}, Goals: []string{"Et mål"},
		}, OccurredAt: &started}, app.Meta{})
		if err != nil {
			t.Fatalf("initiate %s: %v", p.title, err)
		}
		p.id = res.State.ID
		if p.last != "" {
			last := day(t, p.last)
			var ev partnership.Event = partnership.MilestoneLogged{Kind: "meeting", Title: "Møte"}
			switch p.status {
			case partnership.StatusEnded:
				ev = partnership.PartnershipEnded{Reason: "completed", Outcome: "Ferdig"}
			case partnership.StatusPaused:
				ev = partnership.PartnershipPaused{Reason: "Pause"}
			}
			if _, err := svc.Execute(ctx, p.id, partnership.Command{Event: ev, OccurredAt: &last}, app.Meta{}); err != nil {
				t.Fatalf("%s on %s: %v", ev.EventType(), p.title, err)
			}
		}
	}
	r := projectionstest.StartOn(t, open(), store)
	return summaries.NewQueries(r), all
}

// expected is the fixture in a sort, computed here from what was recorded.
func expected(all []*listed, sort string) []string {
	out := slices.Clone(all)
	key := func(p *listed) string {
		switch strings.TrimPrefix(sort, "-") {
		case summaries.SortTitle:
			return fmt.Sprintf("%02d", slices.Index(titleOrder, p.title))
		case summaries.SortLastOccurred:
			return cmp.Or(p.last, p.started)
		}
		return p.started
	}
	slices.SortFunc(out, func(a, b *listed) int {
		c := cmp.Or(strings.Compare(key(a), key(b)), strings.Compare(a.id, b.id))
		if strings.HasPrefix(sort, "-") {
			return -c
		}
		return c
	})
	return ids(out)
}

func ids(ps []*listed) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.id
	}
	return out
}

func stateIDs(states []partnership.State) []string {
	out := make([]string, len(states))
	for i, s := range states {
		out[i] = s.ID
	}
	return out
}

// each lists what Each hands out for f.
func each(t *testing.T, q *summaries.Queries, f summaries.ListFilter) []string {
	t.Helper()
	var out []string
	if err := q.Each(context.Background(), f, func(s partnership.State) error {
		out = append(out, s.ID)
		return nil
	}); err != nil {
		t.Fatalf("each %+v: %v", f, err)
	}
	return out
}

// titled names ids by title, for messages.
func titled(all []*listed, list []string) string {
	names := make([]string, len(list))
	for i, id := range list {
		names[i] = id
		for _, p := range all {
			if p.id == id {
				names[i] = p.title + " " + p.started
			}
		}
	}
	return strings.Join(names, " | ")
}

// TestListSorts: every sort, ascending and descending, orders the list as
// computed from what was recorded, titles in the Norwegian alphabet with
// the id as tie-break; pages walked forward with NextCursor and back with
// PrevCursor, of every size, give the same order, each partnership once,
// and the first page again at the start.
func TestListSorts(t *testing.T) {
	projectionstest.ForEachBackend(t, func(t *testing.T, open func() *projections.DB) {
		ctx := context.Background()
		q, all := loadFixture(t, open)
		for _, sort := range summaries.Sorts {
			want := expected(all, sort)
			if got := each(t, q, summaries.ListFilter{Sort: sort}); !slices.Equal(got, want) {
				t.Errorf("sort %s:\n got %s\nwant %s", sort, titled(all, got), titled(all, want))
				continue
			}
			for size := 1; size <= len(all)+1; size++ {
				f := summaries.ListFilter{Sort: sort, Limit: size}
				var walked []string
				var pages []summaries.Page[partnership.State]
				for {
					page, err := q.Partnerships(ctx, f)
					if err != nil {
						t.Fatalf("sort %s, limit %d: %v", sort, size, err)
					}
					if (page.PrevCursor == nil) != (len(pages) == 0) {
						t.Errorf("sort %s, limit %d, page %d: prev cursor %v", sort, size, len(pages), page.PrevCursor)
					}
					pages = append(pages, page)
					walked = append(walked, stateIDs(page.Items)...)
					if page.NextCursor == nil {
						break
					}
					if len(pages) > len(all) {
						t.Fatalf("sort %s, limit %d: more pages than partnerships", sort, size)
					}
					f.Cursor = *page.NextCursor
				}
				if !slices.Equal(walked, want) {
					t.Errorf("sort %s, limit %d forwards:\n got %s\nwant %s", sort, size, titled(all, walked), titled(all, want))
				}
				// Back from the last page to the first.
				for i := len(pages) - 1; i > 0; i-- {
					f.Cursor = *pages[i].PrevCursor
					prev, err := q.Partnerships(ctx, f)
					if err != nil {
						t.Fatalf("sort %s, limit %d, back from page %d: %v", sort, size, i, err)
					}
					if got, want := stateIDs(prev.Items), stateIDs(pages[i-1].Items); !slices.Equal(got, want) {
						t.Errorf("sort %s, limit %d, back from page %d:\n got %s\nwant %s", sort, size, i, titled(all, got), titled(all, want))
					}
					if (prev.PrevCursor == nil) != (i == 1) || prev.NextCursor == nil {
						t.Errorf("sort %s, limit %d, back to page %d: prev %v, next %v", sort, size, i-1, prev.PrevCursor, prev.NextCursor)
					}
				}
			}
		}
	})
}

// TestListCursorsKeepTheirSort: a cursor is refused in another sort, an
// unknown sort is ErrBadSort, and a cursor of the newest-first list as
// made before the list had sorts ({"s", "i"}) still continues it.
func TestListCursorsKeepTheirSort(t *testing.T) {
	projectionstest.ForEachBackend(t, func(t *testing.T, open func() *projections.DB) {
		ctx := context.Background()
		q, all := loadFixture(t, open)
		cursors := map[string]string{}
		for _, sort := range summaries.Sorts {
			page, err := q.Partnerships(ctx, summaries.ListFilter{Sort: sort, Limit: 2})
			if err != nil || page.NextCursor == nil {
				t.Fatalf("sort %s: %v, next %v", sort, err, page.NextCursor)
			}
			cursors[sort] = *page.NextCursor
		}
		for made, cursor := range cursors {
			for _, sort := range summaries.Sorts {
				_, err := q.Partnerships(ctx, summaries.ListFilter{Sort: sort, Limit: 2, Cursor: cursor})
				if sort == made && err != nil || sort != made && !errors.Is(err, projections.ErrBadCursor) {
					t.Errorf("a cursor of %s used with %s: %v", made, sort, err)
				}
			}
		}
		if _, err := q.Partnerships(ctx, summaries.ListFilter{Sort: "-id", Limit: 2}); !errors.Is(err, summaries.ErrBadSort) {
			t.Errorf("sort -id: %v, want ErrBadSort", err)
		}
		if err := q.Each(ctx, summaries.ListFilter{Sort: "title desc"}, func(partnership.State) error { return nil }); !errors.Is(err, summaries.ErrBadSort) {
			t.Errorf("Each with sort \"title desc\": %v, want ErrBadSort", err)
		}

		newest := expected(all, summaries.DefaultSort)
		var second *listed
		for _, p := range all {
			if p.id == newest[1] {
				second = p
			}
		}
		old := projections.EncodeCursor(map[string]string{"s": projections.Sortable(day(t, second.started)), "i": second.id})
		page, err := q.Partnerships(ctx, summaries.ListFilter{Limit: 100, Cursor: old})
		if err != nil || !slices.Equal(stateIDs(page.Items), newest[2:]) {
			t.Errorf("an old cursor: %v, %s; want %s", err, titled(all, stateIDs(page.Items)), titled(all, newest[2:]))
		}
	})
}

// TestListFiltersAndSearch: started between two days (both included, in
// Europe/Oslo), several municipalities, and q on title, partner name and
// organisation number (typed with spaces, or part of it); Count counts
// what the list shows and Each stops at a limit.
func TestListFiltersAndSearch(t *testing.T) {
	projectionstest.ForEachBackend(t, func(t *testing.T, open func() *projections.DB) {
		ctx := context.Background()
		q, all := loadFixture(t, open)
		byTitle := func(titles ...string) []string {
			var out []string
			for _, p := range all {
				if slices.Contains(titles, p.title) {
					out = append(out, p.id)
				}
			}
			slices.Sort(out)
			return out
		}
		from, to := day(t, "2022-06-15"), day(t, "2023-03-01").AddDate(0, 0, 1).Add(-time.Nanosecond)
		for _, c := range []struct {
			name string
			f    summaries.ListFilter
			want []string
		}{
			{"started from the day of two", summaries.ListFilter{StartedFrom: &from}, byTitle("Zumba i parken", "besøk hjemme", "Øvingslokale", "Élan dans", "Leksehjelp")},
			{"started until the end of a day", summaries.ListFilter{StartedTo: &to, StartedFrom: &from}, byTitle("Zumba i parken", "besøk hjemme", "Leksehjelp")},
			{"Arendal and Oslo", summaries.ListFilter{Municipalities: []string{"4203", "0301"}, Status: "active"}, byTitle("Åpen scene", "Zumba i parken", "Besøksvenn", "Aktivitetsvenn", "Leksehjelp")},
			{"Steinkjer", summaries.ListFilter{Municipalities: []string{"5006"}}, byTitle("Øvingslokale", "Élan dans", "Eldretreff")},
			{"a title", summaries.ListFilter{Query: "ÅPEN"}, byTitle("Åpen scene")},
			{"a partner's name", summaries.ListFilter{Query: "røde kors"}, byTitle("besøk hjemme")},
			{"an organisation number", summaries.ListFilter{Query: "974760673"}, byTitle("Åpen scene")},
			{"an organisation number with spaces", summaries.ListFilter{Query: " 974 760 673 "}, byTitle("Åpen scene")},
			{"an organisation number with a no-break space", summaries.ListFilter{Query: "983\u00a0887\u00a0457"}, byTitle("Eldretreff")},
			{"part of an organisation number", summaries.ListFilter{Query: "640 782"}, byTitle("Øvingslokale")},
			{"across a name and a number", summaries.ListFilter{Query: "kulturråd 974"}, nil},
			{"words across title and partner", summaries.ListFilter{Query: "scene arendal"}, nil},
			{"search and filters", summaries.ListFilter{Query: "arendal", Status: "ended", Municipalities: []string{"4203"}}, byTitle("Ærlig idrett")},
		} {
			got := each(t, q, c.f)
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: %s, want %s", c.name, titled(all, got), titled(all, c.want))
			}
			if n, err := q.Count(ctx, c.f); err != nil || n != len(c.want) {
				t.Errorf("%s: count %d (%v), want %d", c.name, n, err, len(c.want))
			}
		}
		if got := each(t, q, summaries.ListFilter{Sort: summaries.SortTitle, Limit: 3}); !slices.Equal(got, expected(all, summaries.SortTitle)[:3]) {
			t.Errorf("Each with limit 3: %s", titled(all, got))
		}
	})
}
