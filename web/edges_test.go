package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestPagesWriteTheSameMetadataAsTheAPI posts a form and reads the event
// it wrote: the actor, and the request id as both correlation and
// causation id, exactly as an API command records them.
func TestPagesWriteTheSameMetadataAsTheAPI(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browserAs(t, "arendal")
	token, _ := formValues(t, b.get("/p/new?municipality=4203").Body)
	today := s.now().In(osloLoc()).Format("2006-01-02")
	form := url.Values{
		"csrf_token": {token}, "municipality": {"4203"}, "title": {"Leksehjelp"},
		"service_area": {"education"}, "collaboration_model": {"network"},
		"partner_0_name": {"Røde Kors Arendal"}, "partner_0_kind": {"voluntary_organisation"},
		"goals": {"Hjelp med lekser"}, "occurred_at": {today},
	}
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/p/new", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Request-ID", "page-request-1")
	res, err := b.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("initiate: %d", res.StatusCode)
	}
	events, err := s.store.ReadAll(context.Background(), 0, 10)
	if err != nil || len(events) != 1 {
		t.Fatalf("read the log: %d events, %v", len(events), err)
	}
	m := events[0].Metadata
	if m.Actor.Subject != "arendal" || m.Actor.Role != "coordinator" || m.CorrelationID != "page-request-1" || m.CausationID != "page-request-1" {
		t.Fatalf("metadata of a page's event: %+v", m)
	}
}

// TestPagesRefuseTextThatIsNotUTF8 sends a form field and a query
// parameter with bytes that are not UTF-8: a 400 page naming the field,
// and nothing written.
func TestPagesRefuseTextThatIsNotUTF8(t *testing.T) {
	t.Parallel()
	s := newSite(t, false)
	b := s.browser(t)
	token, _ := formValues(t, b.get("/p/new?municipality=4203").Body)
	form := url.Values{
		"csrf_token": {token}, "municipality": {"4203"}, "title": {"Lekse\xffhjelp"},
		"service_area": {"education"}, "collaboration_model": {"network"},
		"partner_0_name": {"Røde Kors Arendal"}, "partner_0_kind": {"voluntary_organisation"},
		"goals": {"Hjelp med lekser"},
	}
	if p := b.post("/p/new", form); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "title") {
		t.Fatalf("a title with a byte that is not UTF-8: %d\n%s", p.Status, p.Body)
	}
	if head, _ := s.store.Head(context.Background()); head != 0 {
		t.Fatalf("the refused form wrote: head %d", head)
	}
	if p := b.get("/m/4203?service_area=%FF"); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "service_area") {
		t.Fatalf("a query parameter that is not UTF-8: %d", p.Status)
	}
}
