package http

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/samspill/samspill/demo"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// projectionsBody is GET /admin/projections as a client reads it.
type projectionsBody struct {
	Items []projectionStatusBody `json:"items"`
}

type projectionStatusBody struct {
	Name       string `json:"name"`
	Position   uint64 `json:"position"`
	Lag        uint64 `json:"lag"`
	Status     string `json:"status"`
	Generation int    `json:"generation"`
	Error      string `json:"error"`
	Rebuild    *struct {
		Generation int    `json:"generation"`
		Position   uint64 `json:"position"`
		Lag        uint64 `json:"lag"`
		Status     string `json:"status"`
	} `json:"rebuild"`
	LastRebuildError string `json:"last_rebuild_error"`
}

// projection returns the status of name.
func (a *testAPI) projection(name string) projectionStatusBody {
	a.t.Helper()
	for _, st := range getJSON[projectionsBody](a, "/api/v1/admin/projections").Items {
		if st.Name == name {
			return st
		}
	}
	a.t.Fatalf("projection %s is not listed", name)
	return projectionStatusBody{}
}

// awaitRebuilt polls /admin/projections until generation gen of name
// answers, live, with no rebuild under way; it fails the test after a
// minute (a bound against hanging, not a speed requirement).
func (a *testAPI) awaitRebuilt(name string, gen int) projectionStatusBody {
	a.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		st := a.projection(name)
		if st.Generation == gen && st.Rebuild == nil && st.Status == projections.StatusLive {
			return st
		}
		if st.LastRebuildError != "" || st.Generation > gen || time.Now().After(deadline) {
			a.t.Fatalf("rebuild of %s into generation %d: status %+v", name, gen, st)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// loadDemo loads the demo data set as of the test clock and returns the
// store's head.
func (a *testAPI) loadDemo() uint64 {
	a.t.Helper()
	if _, err := demo.Load(context.Background(), a.store, testNow); err != nil {
		a.t.Fatalf("load demo: %v", err)
	}
	return a.head()
}

// snapshot returns the answers of every projection read (all pages of the
// list) as of position at least.
func (a *testAPI) snapshot(at uint64) []byte {
	a.t.Helper()
	var b bytes.Buffer
	for _, path := range []string{
		"/api/v1/partnerships?limit=500",
		"/api/v1/partnerships?municipality=0906&limit=3",
		"/api/v1/municipalities",
		"/api/v1/municipalities/4203/timeline",
		"/api/v1/municipalities/1702/timeline?limit=7",
		"/api/v1/stats",
		"/api/v1/stats?municipality=5006",
	} {
		b.Write(a.getOK(withMinPosition(path, at)).Body)
	}
	return b.Bytes()
}

// TestAdminProjections checks the list of projections once they have
// caught up.
func TestAdminProjections(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	head := a.loadDemo()
	a.getOK(withMinPosition("/api/v1/stats", head))
	a.getOK(withMinPosition("/api/v1/municipalities/4203/timeline", head))
	r := a.getOK("/api/v1/admin/projections")
	list := decodeBody[projectionsBody](t, r)
	var names []string
	for _, st := range list.Items {
		names = append(names, st.Name)
		if st.Position != head || st.Lag != 0 || st.Status != projections.StatusLive || st.Generation < 1 ||
			st.Error != "" || st.Rebuild != nil || st.LastRebuildError != "" {
			t.Errorf("%s = %+v, want live at %d in a generation", st.Name, st, head)
		}
	}
	if !slices.Equal(names, []string{summaries.Name, timeline.Name}) {
		t.Errorf("projections %v", names)
	}
	// Admin routes take no min_position: it is ignored, not waited for.
	a.getOK(withMinPosition("/api/v1/admin/projections", head+1000))
}

// TestRebuild rebuilds each projection over the demo data set: 202, then
// the new generation takes over and every read answers as before; writes
// during a rebuild are never lost.
func TestRebuild(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	head := a.loadDemo()
	before := a.snapshot(head)
	for _, name := range []string{summaries.Name, timeline.Name} {
		old := a.projection(name).Generation
		r := a.do("POST", "/api/v1/admin/projections/"+name+"/rebuild", nil)
		wantStatus(t, r, http.StatusAccepted)
		if loc := r.Header.Get("Location"); loc != "/api/v1/admin/projections" {
			t.Errorf("Location = %q", loc)
		}
		st := decodeBody[projectionStatusBody](t, r)
		started := st.Rebuild != nil && st.Rebuild.Generation == old+1 && st.Generation == old
		done := st.Rebuild == nil && st.Generation == old+1
		if st.Name != name || !started && !done {
			t.Errorf("202 body %+v, want %s rebuilding into generation %d", st, name, old+1)
		}
		a.awaitRebuilt(name, old+1)
		if after := a.snapshot(head); !bytes.Equal(after, before) {
			t.Errorf("after rebuilding %s the reads answer differently:\n%s\nbefore:\n%s", name, after, before)
		}
	}

	// A write while a rebuild runs shows before and after the swap.
	old := a.projection(summaries.Name).Generation
	wantStatus(t, a.do("POST", "/api/v1/admin/projections/"+summaries.Name+"/rebuild", nil), http.StatusAccepted)
	pos := a.write("POST", "/api/v1/partnerships", with(initiateBody(), "title", "Skrevet under gjenoppbyggingen"), http.StatusCreated)
	if l := getJSON[listBody](a, withMinPosition("/api/v1/partnerships?limit=1", pos)); len(l.Items) != 1 || l.Items[0].Title != "Skrevet under gjenoppbyggingen" {
		t.Errorf("during the rebuild the list starts with %v", l.ids())
	}
	a.awaitRebuilt(summaries.Name, old+1)
	if l := getJSON[listBody](a, withMinPosition("/api/v1/partnerships?limit=1", pos)); len(l.Items) != 1 || l.Items[0].Title != "Skrevet under gjenoppbyggingen" {
		t.Errorf("after the rebuild the list starts with %v", l.ids())
	}

	p := wantProblem(t, a.do("POST", "/api/v1/admin/projections/nothing/rebuild", nil), http.StatusNotFound, typeNotFound)
	if p.Title != "Projection not found" {
		t.Errorf("unknown projection: title %q", p.Title)
	}
}

// TestRebuildRunning holds a rebuild at position 0 to ask for a second
// one: a 409, while reads (and writes) go on from the old generation.
func TestRebuildRunning(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	held := &holdStore{Store: a.store}
	defer held.release()
	v := a.variant(func(c *Config) { c.Projections = projectionstest.Start(t, held, a.cfg.Logger) }, nil)
	head := a.loadDemo()
	before := v.snapshot(head)

	held.hold() // from now on, whatever reads from position 0 waits
	old := v.projection(summaries.Name).Generation
	r := v.do("POST", "/api/v1/admin/projections/"+summaries.Name+"/rebuild", nil)
	wantStatus(t, r, http.StatusAccepted)
	st := decodeBody[projectionStatusBody](t, r)
	if st.Generation != old || st.Rebuild == nil || st.Rebuild.Generation != old+1 || st.Rebuild.Status != projections.StatusRebuilding {
		t.Errorf("202 body %+v, want generation %d rebuilding into %d", st, old, old+1)
	}
	r = v.do("POST", "/api/v1/admin/projections/"+summaries.Name+"/rebuild", nil)
	p := wantProblem(t, r, http.StatusConflict, typeRebuildRunning)
	if p.Title != "Rebuild already running" {
		t.Errorf("409 title %q", p.Title)
	}
	if st := v.projection(summaries.Name); st.Rebuild == nil || st.Rebuild.Position != 0 || st.Rebuild.Status != projections.StatusRebuilding {
		t.Errorf("during the rebuild: %+v", st)
	}
	// The other projection rebuilds independently.
	oldTimeline := v.projection(timeline.Name).Generation
	wantStatus(t, v.do("POST", "/api/v1/admin/projections/"+timeline.Name+"/rebuild", nil), http.StatusAccepted)

	// The old generations keep answering, writes included.
	if got := v.snapshot(head); !bytes.Equal(got, before) {
		t.Errorf("during the rebuild the reads answer differently")
	}
	pos := a.write("POST", "/api/v1/partnerships", with(initiateBody(), "title", "Skrevet mens den venter"), http.StatusCreated)
	if l := getJSON[listBody](v, withMinPosition("/api/v1/partnerships?limit=1", pos)); len(l.Items) != 1 || l.Items[0].Title != "Skrevet mens den venter" {
		t.Errorf("during the rebuild the list starts with %v", l.ids())
	}

	held.release()
	v.awaitRebuilt(summaries.Name, old+1)
	v.awaitRebuilt(timeline.Name, oldTimeline+1)
	if got, want := v.snapshot(pos), a.snapshot(pos); !bytes.Equal(got, want) {
		t.Errorf("rebuilt projections answer differently from the others:\n%s\n%s", got, want)
	}
	// Done: a new rebuild may start.
	wantStatus(t, v.do("POST", "/api/v1/admin/projections/"+summaries.Name+"/rebuild", nil), http.StatusAccepted)
	v.awaitRebuilt(summaries.Name, old+2)
}
