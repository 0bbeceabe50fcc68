package http

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/samspill/samspill/internal/smallfs"
)

// TestFullDiskIsStorageUnavailable runs the API over a store on a small
// filesystem of its own and fills it: commands answer 503 with the
// storage-unavailable problem and a long Retry-After, reads go on, /readyz
// is not ready until space is freed and then ready by itself (its probe),
// and the refused command, sent again with its key, is applied once.
func TestFullDiskIsStorageUnavailable(t *testing.T) {
	dir := smallfs.Mount(t, "4m")
	a := startTestAPIIn(t, dir, nil, nil)
	p := a.newPartnership()
	wantStatus(t, a.do("GET", "/readyz", nil), http.StatusOK)

	filler := smallfs.Fill(t, dir)
	var refused response
	var key string
	for i := range 1000 {
		key = fmt.Sprintf("full-%d", i)
		r := a.do("POST", p.path+"/milestones", obj{"kind": "meeting", "title": "Møte", "note": strings.Repeat("x", 1500)}, "Idempotency-Key", key)
		if r.Status != http.StatusOK {
			refused = r
			break
		}
	}
	prob := wantProblem(t, refused, http.StatusServiceUnavailable, typeStorageFull)
	if got := refused.Header.Get("Retry-After"); got != "30" {
		t.Errorf("Retry-After = %q; want 30", got)
	}
	if !strings.Contains(prob.Detail, "nothing") {
		t.Errorf("detail %q does not say that nothing was saved", prob.Detail)
	}
	version := a.state(p, "").Version // reads go on
	wantProblem(t, a.do("POST", "/api/v1/partnerships", initiateBody()), http.StatusServiceUnavailable, typeStorageFull)

	for range 2 { // each check probes, and stays not ready
		r := a.do("GET", "/readyz", nil)
		ready := wantProblem(t, r, http.StatusServiceUnavailable, typeStorageFull)
		if !strings.Contains(ready.Detail, "storage full") || r.Header.Get("Retry-After") == "" {
			t.Fatalf("readyz on a full disk: %s (Retry-After %q); want the reason \"storage full\" and Retry-After", r.Body, r.Header.Get("Retry-After"))
		}
	}

	smallfs.Free(t, filler)
	wantStatus(t, a.do("GET", "/readyz", nil), http.StatusOK)
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Møte", "note": strings.Repeat("x", 1500)}, http.StatusOK, "Idempotency-Key", key)
	if got := a.state(p, "").Version; got != version+1 {
		t.Fatalf("version %d after the refused command was sent again; want %d: applied once", got, version+1)
	}
}
