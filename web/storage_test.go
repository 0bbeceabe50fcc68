package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/samspill/samspill/internal/smallfs"
)

// TestFullDiskPageSaysNothingWasSaved: a form posted while the store's
// disk is full gets a 503 page that says in plain words that nothing was
// saved and to try again later, with the form as it was typed; once space
// is freed the same form saves.
func TestFullDiskPageSaysNothingWasSaved(t *testing.T) {
	dir := smallfs.Mount(t, "4m")
	s := newSiteIn(t, dir, false)
	b := s.browser(t)
	token, _ := formValues(t, b.get("/p/new?municipality=4203").Body)
	today := s.now().In(osloLoc()).Format("2006-01-02")
	p := b.post("/p/new", url.Values{
		"csrf_token": {token}, "municipality": {"4203"}, "title": {"Leksehjelp på biblioteket"},
		"service_area": {"education"}, "collaboration_model": {"network"},
		"partner_0_name": {"Røde Kors Arendal"}, "partner_0_kind": {"voluntary_organisation"}, "partner_0_org_no": {"974760673"},
		"goals": {"Hjelp med lekser"}, "occurred_at": {today},
	})
	if p.Status != http.StatusSeeOther {
		t.Fatalf("POST /p/new = %d: %s", p.Status, p.Body)
	}
	id := strings.TrimPrefix(strings.Split(p.Location, "?")[0], "/p/")
	milestone := func() page {
		token, version := formValues(t, b.get("/p/"+id).Body)
		return b.post("/p/"+id+"/milestone", url.Values{"csrf_token": {token}, "version": {version}, "kind": {"meeting"},
			"title": {"Møte"}, "note": {strings.Repeat("x", 1500)}, "occurred_at": {today}})
	}

	filler := smallfs.Fill(t, dir)
	var refused page
	for range 300 {
		if refused = milestone(); refused.Status != http.StatusSeeOther {
			break
		}
	}
	if refused.Status != http.StatusServiceUnavailable {
		t.Fatalf("a form posted on a full disk: %d; want 503\n%s", refused.Status, refused.Body)
	}
	if !strings.Contains(refused.Body, "Ingenting ble lagret") || !strings.Contains(refused.Body, "Prøv igjen senere") || !strings.Contains(refused.Body, `value="Møte"`) {
		t.Errorf("the 503 page does not say that nothing was saved and to try again later:\n%s", refused.Body)
	}
	if got := refused.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q; want 30", got)
	}

	smallfs.Free(t, filler)
	if p := milestone(); p.Status != http.StatusSeeOther {
		t.Fatalf("the form once space is back: %d\n%s", p.Status, p.Body)
	}
}
