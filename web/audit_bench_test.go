package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// BenchmarkAuditView measures GET /p/{id}/audit for an admin over a
// partnership of 200 entries recorded by 20 people (each named through
// the user store, looked up once per page), served in process, against
// the partnership's own page (GET /p/{id}) in the same iterations.
// Reported: both pages' p50 and the audit view's p99.
//
//	go test -run='^$' -bench=AuditView -benchtime=200x ./web/
func BenchmarkAuditView(b *testing.B) {
	s := newSite(b, false)
	ctx := context.Background()
	res, err := s.svc.Initiate(ctx, partnership.Command{Event: partnership.PartnershipInitiated{
		Title: "Leksehjelp", Municipality: "4203", ServiceArea: "education", CollaborationModel: "network",
		Partners: []partnership.Partner{{Name: "Røde Kors Arendal", Kind: "voluntary_organisation"}}, Goals: []string{"Hjelp med lekser"},
	}}, app.Meta{Actor: eventstore.Actor{Subject: "admin", Role: auth.RoleAdmin}})
	if err != nil {
		b.Fatal(err)
	}
	id := res.State.ID
	people := make([]string, 20)
	for i := range people {
		_, u := s.person(b, fmt.Sprintf("Person %02d", i), fmt.Sprintf("p%02d@example.no", i), auth.Grant{Role: auth.RoleViewer})
		people[i] = u.ID
	}
	for i := range 199 {
		meta := app.Meta{Actor: eventstore.Actor{Subject: people[i%len(people)], Role: auth.RoleCoordinator}}
		cmd := partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: fmt.Sprintf("Møte %d", i)}}
		if _, err := s.svc.Execute(ctx, id, cmd, meta); err != nil {
			b.Fatal(err)
		}
	}
	h := s.srv.Config.Handler
	if code, body := getPage(s, h, "/p/"+id+"/audit"); code != http.StatusOK || len(auditActors(b, body)) != 200 {
		b.Fatalf("audit view: %d", code)
	}
	audit := make([]time.Duration, 0, b.N)
	page := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		getPage(s, h, "/p/"+id+"/audit")
		t1 := time.Now()
		getPage(s, h, "/p/"+id)
		audit, page = append(audit, t1.Sub(t0)), append(page, time.Since(t1))
	}
	b.StopTimer()
	slices.Sort(audit)
	slices.Sort(page)
	b.ReportMetric(float64(audit[len(audit)/2].Microseconds())/1000, "audit-p50-ms")
	b.ReportMetric(float64(audit[len(audit)*99/100].Microseconds())/1000, "audit-p99-ms")
	b.ReportMetric(float64(page[len(page)/2].Microseconds())/1000, "page-p50-ms")
}
