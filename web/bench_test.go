package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/internal/synth"
	"github.com/samspill/samspill/locale"
	"github.com/samspill/samspill/projections/timeline"
)

// largeEvents is the events per partnership of the large data set: 2,000
// partnerships in Arendal with 8 events each, 16,000 markers.
const (
	largePartnerships = 2000
	largeEvents       = 8
)

// largeSite is a server over 2,000 synthetic partnerships in Arendal
// (those from before 2020 under 0906), read models caught up.
func largeSite(tb testing.TB) *site {
	tb.Helper()
	s := newSite(tb, false)
	sum, err := synth.Fill(context.Background(), s.store, synth.Config{
		Partnerships: largePartnerships, Events: largeEvents, Seed: 6,
		Focus: "4203", FocusPartnerships: largePartnerships,
	})
	if err != nil {
		tb.Fatalf("fill: %v", err)
	}
	s.caughtUp(tb)
	tb.Logf("large data set: %d partnerships, %d events", sum.Partnerships, sum.Events)
	return s
}

// getPage serves one request in process (no network) and returns the
// status and body.
func getPage(s *site, h http.Handler, path string) (int, string) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	req.Header.Set("Authorization", "Bearer "+s.tokens["admin"])
	h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// BenchmarkTimeline2000 measures the first view of GET /m/4203 over 2,000
// partnerships (16,000 markers), served in process (routing, sign-in, the
// projection queries, the drawing and the template), request by request,
// against a baseline measured in the same iterations: the municipality's
// lanes alone read afresh from the projection (timeline.Timeline with no
// entries, through a Queries that keeps nothing), the same work before and
// after any change to the page. Reported: the page's p50 and p99, the
// baseline's p99, their ratio, and the page's size.
//
//	go test -run='^$' -bench=Timeline2000 -benchtime=200x ./web/
func BenchmarkTimeline2000(b *testing.B) {
	// The outer function runs once, so the data set is built once; the
	// sub-benchmark runs with growing b.N.
	s := largeSite(b)
	b.Run("page", func(b *testing.B) { benchmarkTimeline(b, s) })
}

func benchmarkTimeline(b *testing.B, s *site) {
	h := s.srv.Config.Handler
	ctx := context.Background()
	page := make([]time.Duration, 0, b.N)
	base := make([]time.Duration, 0, b.N)
	var size int
	getPage(s, h, "/m/4203") // warm the caches once
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		tl, err := timeline.NewQueries(s.proj).Timeline(ctx, "4203", timeline.Filter{})
		if err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		status, body := getPage(s, h, "/m/4203")
		t2 := time.Now()
		if status != http.StatusOK {
			b.Fatalf("status %d", status)
		}
		if len(tl.Partnerships) != largePartnerships {
			b.Fatalf("%d lanes", len(tl.Partnerships))
		}
		base = append(base, t1.Sub(t0))
		page = append(page, t2.Sub(t1))
		size = len(body)
	}
	b.StopTimer()
	slices.Sort(page)
	slices.Sort(base)
	q := func(d []time.Duration, f float64) float64 {
		return float64(d[min(len(d)-1, int(f*float64(len(d))))].Microseconds()) / 1000
	}
	b.ReportMetric(q(page, 0.50), "p50_ms")
	b.ReportMetric(q(page, 0.99), "p99_ms")
	b.ReportMetric(q(base, 0.99), "lanes_p99_ms")
	b.ReportMetric(q(page, 0.99)/q(base, 0.99), "x_lanes")
	b.ReportMetric(float64(size), "page_bytes")
}

// syntheticTimeline is a timeline of n lanes with per events each, spread
// over ten years, without a database: the drawing's own cost.
func syntheticTimeline(n, per int) timelineView {
	start := time.Date(2015, 1, 1, 9, 0, 0, 0, time.UTC)
	types := []string{"PartnershipInitiated", "MilestoneLogged", "GoalChanged", "FundingRecorded", "PartnerJoined", "RolesAgreed", "PartnershipPaused", "PartnershipResumed"}
	events := []partnership.Event{
		partnership.PartnershipInitiated{Title: "Leksehjelp", Municipality: "4203", ServiceArea: "education", CollaborationModel: "network"},
		partnership.MilestoneLogged{Kind: "meeting", Title: "Oppstartsmøte"},
		partnership.GoalChanged{Goals: []string{"Flere med"}, Reason: "Evaluering"},
		partnership.FundingRecorded{AmountNOK: 50000, Source: "Kommunen", PeriodFrom: "2020-01-01", PeriodUntil: "2020-12-31"},
		partnership.PartnerJoined{Partner: partnership.Partner{PartnerID: "p2", Name: "Idrettslaget", Kind: "voluntary_organisation"}},
		partnership.RolesAgreed{Roles: []partnership.Role{{PartnerID: "p2", Role: "coordinator"}}},
		partnership.PartnershipPaused{Reason: "Sommer"},
		partnership.PartnershipResumed{Reason: "Høst"},
	}
	v := timelineView{L: locale.For(locale.Bokmal), Code: "4203", From: start, To: demoNow, Today: demoNow}
	for i := range n {
		id := fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		began := start.Add(time.Duration(i%3000) * 24 * time.Hour)
		v.Lanes = append(v.Lanes, timeline.Partnership{ID: id, Title: fmt.Sprintf("Partnerskap nummer %d med et langt navn", i), ServiceArea: "culture", CollaborationModel: "network", Status: "active", StartedAt: began, Municipality: "4203"})
		for j := range per {
			v.Entries = append(v.Entries, timeline.Entry{PartnershipID: id, EventID: id, Type: types[j%len(types)], OccurredAt: began.Add(time.Duration(j) * 20 * 24 * time.Hour),
				Event: events[j%len(events)], Names: map[string]string{"p2": "Idrettslaget"}})
		}
	}
	return v
}

// BenchmarkDrawTimelinePage is a page's drawing alone, without a
// database: the layout of 50 lanes with 400 markers and the page's HTML.
func BenchmarkDrawTimelinePage(b *testing.B) {
	v := syntheticTimeline(lanesPerPage, 8)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		size = len(pageTimeline(layoutTimeline(v), pageWords{Region: "Tidslinje", Show: "Vis", List: "Hendelser"}))
	}
	b.ReportMetric(float64(size), "html_bytes")
}

// BenchmarkPartnershipPage measures GET /p/{id} of the demo's example
// partnership (state, its own timeline, history and every form), served in
// process: the page with the most text, so the cost of writing it in the
// reader's language.
func BenchmarkPartnershipPage(b *testing.B) {
	s := newSite(b, true)
	h := s.srv.Config.Handler
	path := "/p/" + s.example
	b.ReportAllocs()
	var size int
	for b.Loop() {
		status, body := getPage(s, h, path)
		if status != http.StatusOK {
			b.Fatalf("status %d", status)
		}
		size = len(body)
	}
	b.ReportMetric(float64(size), "page_bytes")
}
