package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/app"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
	"github.com/samspill/samspill/projections"
	"github.com/samspill/samspill/projections/projectionstest"
	"github.com/samspill/samspill/projections/summaries"
	"github.com/samspill/samspill/projections/timeline"
)

// variant starts another server beside a's, over the same store and
// service, with its Config changed by change and its handler wrapped by
// wrap (if not nil), and returns a testAPI that talks to it. It closes
// before anything a opened.
func (a *testAPI) variant(change func(*Config), wrap func(http.Handler) http.Handler) *testAPI {
	a.t.Helper()
	cfg := a.cfg
	if change != nil {
		change(&cfg)
	}
	h, err := NewHandler(cfg)
	if err != nil {
		a.t.Fatal(err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	a.t.Cleanup(srv.Close)
	v := *a
	v.srv, v.cfg = srv, cfg
	return &v
}

// holdStore is an event store whose ReadAll from position 0 waits, while
// held, until it is released (or its context ends): a projection that
// reads from the start (a new one, or a rebuild) stands still while those
// already past position 0 go on.
type holdStore struct {
	eventstore.Store

	mu   sync.Mutex
	gate chan struct{} // nil: not held
}

func (s *holdStore) hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate == nil {
		s.gate = make(chan struct{})
	}
}

func (s *holdStore) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil {
		close(s.gate)
		s.gate = nil
	}
}

func (s *holdStore) ReadAll(ctx context.Context, after uint64, limit int) ([]eventstore.RecordedEvent, error) {
	if after == 0 {
		s.mu.Lock()
		gate := s.gate
		s.mu.Unlock()
		if gate != nil {
			select {
			case <-gate:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	return s.Store.ReadAll(ctx, after, limit)
}

// brokenStreamsStore is an event store whose streams cannot be read: a
// projection that must replay a stream (after a correction, say) fails on
// it.
type brokenStreamsStore struct{ eventstore.Store }

func (brokenStreamsStore) ReadStream(context.Context, string) ([]eventstore.RecordedEvent, error) {
	return nil, errors.New("broken for the test")
}

// projectionReads are the routes that read projections, each with a query
// that selects the partnership of TestMinPositionReflectsWrites.
var projectionReads = []string{
	"/api/v1/partnerships?municipality=0301",
	"/api/v1/municipalities",
	"/api/v1/municipalities/0301/timeline",
	"/api/v1/stats?municipality=0301",
}

// withMinPosition adds min_position to path.
func withMinPosition(path string, position uint64) string {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return fmt.Sprintf("%s%smin_position=%d", path, sep, position)
}

// TestMinPositionReflectsWrites reads every projection right after each of
// many writes: with the write's position as min_position, the answer must
// include it.
func TestMinPositionReflectsWrites(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	for i := 1; i <= 15; i++ {
		r := a.do("POST", "/api/v1/partnerships", with(initiateBody(), "title", fmt.Sprintf("Samarbeid %d", i)))
		wantStatus(t, r, http.StatusCreated)
		pos := positionOf(t, r)
		id := decodeBody[stateBody](t, r).ID

		l := getJSON[listBody](a, withMinPosition("/api/v1/partnerships?municipality=0301&limit=1", pos))
		if len(l.Items) != 1 || l.Items[0].ID != id {
			t.Fatalf("write %d: the list does not start with it: %v", i, l.ids())
		}
		ms := getJSON[struct {
			Items []municipalityCountBody `json:"items"`
		}](a, withMinPosition("/api/v1/municipalities", pos))
		for _, m := range ms.Items {
			if m.Code == "0301" && m.Partnerships != i {
				t.Fatalf("write %d: Oslo counts %d partnerships", i, m.Partnerships)
			}
		}
		tl := getJSON[timelineBody](a, withMinPosition("/api/v1/municipalities/0301/timeline", pos))
		if len(tl.Partnerships) != i || !slices.Contains(tl.partnershipIDs(), id) {
			t.Fatalf("write %d: the timeline has %d partnerships, not it", i, len(tl.Partnerships))
		}
		st := getJSON[statsBody](a, withMinPosition("/api/v1/stats?municipality=0301", pos))
		if st.Partnerships != i {
			t.Fatalf("write %d: stats count %d", i, st.Partnerships)
		}
	}
}

// TestMinPositionWaitsForWrite asks for a position beyond the head and
// writes it only once the server has the request: the answer must come
// after, and include, the write.
func TestMinPositionWaitsForWrite(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.newPartnership()
	for _, path := range projectionReads {
		t.Run(path, func(t *testing.T) {
			a := a.bind(t)
			arrived := make(chan struct{})
			v := a.variant(func(c *Config) { c.MinPositionTimeout = time.Minute }, func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					close(arrived)
					h.ServeHTTP(w, r)
				})
			})
			next := a.head() + 1
			type answer struct {
				status int
				body   []byte
				err    error
			}
			got := make(chan answer, 1)
			go func() {
				req, _ := http.NewRequest(http.MethodGet, v.srv.URL+withMinPosition(path, next), nil)
				authorize(req)
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					got <- answer{err: err}
					return
				}
				defer res.Body.Close()
				body, err := io.ReadAll(res.Body)
				got <- answer{status: res.StatusCode, body: body, err: err}
			}()
			<-arrived
			r := a.do("POST", "/api/v1/partnerships", with(initiateBody(), "title", "Skrevet under ventingen"))
			wantStatus(t, r, http.StatusCreated)
			if pos := positionOf(t, r); pos != next {
				t.Fatalf("the write got position %d, want %d", pos, next)
			}
			res := <-got
			if res.err != nil || res.status != http.StatusOK {
				t.Fatalf("GET: %d %v: %s", res.status, res.err, res.body)
			}
			// Every write so far initiated a partnership in Oslo.
			if n := osloPartnerships(t, path, res.body); n != int(next) {
				t.Errorf("the answer shows %d partnerships in Oslo, want %d", n, next)
			}
		})
	}
}

// osloPartnerships returns how many partnerships in Oslo body, the answer
// of one of projectionReads, shows.
func osloPartnerships(t *testing.T, path string, body []byte) int {
	t.Helper()
	r := response{Status: http.StatusOK, Body: body}
	switch {
	case strings.HasPrefix(path, "/api/v1/partnerships"):
		return len(decodeBody[listBody](t, r).Items)
	case strings.HasSuffix(path, "/timeline"):
		return len(decodeBody[timelineBody](t, r).Partnerships)
	case strings.HasPrefix(path, "/api/v1/stats"):
		return decodeBody[statsBody](t, r).Partnerships
	}
	for _, m := range decodeBody[struct {
		Items []municipalityCountBody `json:"items"`
	}](t, r).Items {
		if m.Code == "0301" {
			return m.Partnerships
		}
	}
	return -1
}

// TestMinPositionTimeout asks for positions beyond the head: after the
// (shortened) wait, every projection read is a 503 with Retry-After.
func TestMinPositionTimeout(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	a.newPartnership()
	// The head is reached before the checks: a first fold under -race on
	// a loaded machine can take longer than the shortened wait.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.cfg.Projections.WaitFor(ctx, a.head()); err != nil {
		t.Fatal(err)
	}
	v := a.variant(func(c *Config) { c.MinPositionTimeout = 20 * time.Millisecond }, nil)
	for _, path := range projectionReads {
		r := v.do("GET", withMinPosition(path, a.head()+100), nil)
		p := wantProblem(t, r, http.StatusServiceUnavailable, typeUnavailable)
		if r.Header.Get("Retry-After") != "1" {
			t.Errorf("GET %s: Retry-After %q, want 1", path, r.Header.Get("Retry-After"))
		}
		if !strings.Contains(p.Detail, "min_position") {
			t.Errorf("GET %s: detail %q does not say what was not reached", path, p.Detail)
		}
		// Reached positions answer at once, also on this server.
		wantStatus(t, v.do("GET", withMinPosition(path, 0), nil), http.StatusOK)
		wantStatus(t, v.do("GET", withMinPosition(path, a.head()), nil), http.StatusOK)
	}
}

// TestMinPositionInvalid checks that min_position must be a non-negative
// integer on every projection read.
func TestMinPositionInvalid(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	for _, path := range projectionReads {
		for _, bad := range []string{"-1", "abc", "", "1.5", "18446744073709551616", "%201"} {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			r := a.do("GET", path+sep+"min_position="+bad, nil)
			p := wantProblem(t, r, http.StatusBadRequest, typeValidation)
			if !slices.Equal(p.fields(), []string{"min_position"}) {
				t.Errorf("GET %s min_position=%q: errors name %q", path, bad, p.fields())
			}
		}
	}
}

// TestProjectionFailed runs projections that fail (they cannot read a
// stream they must replay): reads with min_position, /readyz and
// /admin/projections all say so.
func TestProjectionFailed(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	broken := projectionstest.Start(t, brokenStreamsStore{a.store}, a.cfg.Logger)
	v := a.variant(func(c *Config) { c.Projections = broken; c.MinPositionTimeout = time.Minute }, nil)
	p := a.newPartnership()
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Møte", "occurred_at": "2024-04-01"}, http.StatusOK)
	// After a correction the projections must replay the stream, and
	// cannot.
	pos := a.write("POST", p.path+"/corrections", obj{"corrected_event_id": a.lastEventID(p), "reason": "Feilregistrert"}, http.StatusOK)

	for _, path := range projectionReads {
		r := v.do("GET", withMinPosition(path, pos), nil)
		pr := wantProblem(t, r, http.StatusServiceUnavailable, typeUnavailable)
		if pr.Title != "Projection failed" || !strings.Contains(pr.Detail, "failed") {
			t.Errorf("GET %s: problem %+v, want one that says the projection failed", path, pr)
		}
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s: 503 without Retry-After", path)
		}
	}
	// Without min_position the reads answer from what the read model holds.
	wantStatus(t, v.do("GET", "/api/v1/partnerships", nil), http.StatusOK)

	r := v.do("GET", "/readyz", nil)
	wantProblem(t, r, http.StatusServiceUnavailable, typeUnavailable)
	nr := decodeBody[notReadyBody](t, r)
	if len(nr.Projections) != 2 {
		t.Fatalf("readyz lists %d projections: %s", len(nr.Projections), r.Body)
	}
	for _, p := range nr.Projections {
		if p.Status != projections.StatusFailed {
			t.Errorf("readyz: %s is %s, want failed", p.Name, p.Status)
		}
	}
	for _, st := range getJSON[projectionsBody](v, "/api/v1/admin/projections").Items {
		if st.Status != projections.StatusFailed || st.Error == "" {
			t.Errorf("%s: status %s, error %q; want failed with the error", st.Name, st.Status, st.Error)
		}
	}
	// The other server's projections are fine.
	wantStatus(t, a.do("GET", withMinPosition("/api/v1/partnerships", pos), nil), http.StatusOK)
	wantStatus(t, a.do("GET", "/readyz", nil), http.StatusOK)
}

// readyBody is a 200 /readyz as a client reads it.
type readyBody struct {
	Status string `json:"status"`
	Store  struct {
		Head uint64 `json:"head"`
	} `json:"store"`
	Projections []readinessBody `json:"projections"`
}

type readinessBody struct {
	Name     string `json:"name"`
	Position uint64 `json:"position"`
	Lag      uint64 `json:"lag"`
	Status   string `json:"status"`
}

// notReadyBody is a 503 /readyz as a client reads it.
type notReadyBody struct {
	problem
	Projections []readinessBody `json:"projections"`
}

// TestReadyzProjections checks that /readyz lists the projections, and that
// it stays ready while they trail the head by up to 1,000 positions but not
// by more.
func TestReadyzProjections(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	pos := a.write("POST", "/api/v1/partnerships", initiateBody(), http.StatusCreated)
	a.getOK(withMinPosition("/api/v1/partnerships", pos))
	a.getOK(withMinPosition("/api/v1/municipalities/0301/timeline", pos))
	ready := getJSON[readyBody](a, "/readyz")
	want := []readinessBody{
		{Name: summaries.Name, Position: pos, Lag: 0, Status: projections.StatusLive},
		{Name: timeline.Name, Position: pos, Lag: 0, Status: projections.StatusLive},
	}
	if ready.Status != "ready" || ready.Store.Head != pos || !slices.Equal(ready.Projections, want) {
		t.Errorf("readyz = %+v, want head %d and %+v", ready, pos, want)
	}

	// Projections that stand still at 0 while the log grows.
	held := &holdStore{Store: a.store}
	held.hold()
	defer held.release()
	v := a.variant(func(c *Config) { c.Projections = projectionstest.Start(t, held, a.cfg.Logger) }, nil)

	// 1,000 positions behind: still ready.
	load := func(n int) {
		t.Helper()
		id := uuid.NewString()
		rest := make([]partnership.Command, n-1)
		for i := range rest {
			rest[i] = partnership.Command{Event: partnership.MilestoneLogged{Kind: "meeting", Title: fmt.Sprintf("Møte %d", i)}, OccurredAt: &testNow}
		}
		initiation := partnership.PartnershipInitiated{
			PartnershipID: id, Municipality: "0301", Title: "Mange møter", ServiceArea: "culture", CollaborationModel: "network",
			Partners: []partnership.Partner{{PartnerID: "lag", Name: "Lag", Kind: "voluntary_organisation"}}, Goals: []string{"Mål"},
		}
		if _, err := a.cfg.Service.Load(context.Background(), initiation, testNow.Add(-time.Hour), rest, app.Meta{Actor: eventstore.Actor{Subject: "test", Role: "admin"}}); err != nil {
			t.Fatalf("load %d events: %v", n, err)
		}
	}
	load(1000 - int(pos))
	if h := a.head(); h != 1000 {
		t.Fatalf("head %d, want 1000", h)
	}
	ready = getJSON[readyBody](v, "/readyz")
	for _, p := range ready.Projections {
		if p.Position != 0 || p.Lag != 1000 || p.Status != projections.StatusCatchingUp {
			t.Errorf("held projection %+v, want position 0, lag 1000, catching_up", p)
		}
	}
	// 1,001 behind: not ready, and the problem lists the projections.
	load(1)
	r := v.do("GET", "/readyz", nil)
	pr := wantProblem(t, r, http.StatusServiceUnavailable, typeUnavailable)
	if r.Header.Get("Retry-After") != "1" || !strings.Contains(pr.Detail, "1001 positions behind") {
		t.Errorf("not ready: Retry-After %q, detail %q", r.Header.Get("Retry-After"), pr.Detail)
	}
	nr := decodeBody[notReadyBody](t, r)
	if len(nr.Projections) != 2 || nr.Projections[0].Lag != 1001 || nr.Projections[1].Lag != 1001 {
		t.Errorf("not ready: projections %+v, want both 1001 behind", nr.Projections)
	}
	// Released, they catch up and the server is ready again.
	held.release()
	v.getOK(withMinPosition("/api/v1/partnerships", 1001))
	v.getOK(withMinPosition("/api/v1/municipalities/0301/timeline", 1001))
	if ready := getJSON[readyBody](v, "/readyz"); ready.Projections[0].Lag != 0 || ready.Projections[1].Lag != 0 {
		t.Errorf("caught up: %+v", ready.Projections)
	}
}

// TestWithoutProjections checks a server built without projections: its
// projection routes are a 500 and it is not ready.
func TestWithoutProjections(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	v := a.variant(func(c *Config) { c.Projections = nil }, nil)
	for _, path := range append(slices.Clone(projectionReads), "/api/v1/admin/projections") {
		wantProblem(t, v.do("GET", path, nil), http.StatusInternalServerError, typeInternal)
	}
	wantProblem(t, v.do("POST", "/api/v1/admin/projections/partnership_summaries/rebuild", nil), http.StatusInternalServerError, typeInternal)
	r := v.do("GET", "/readyz", nil)
	if p := wantProblem(t, r, http.StatusServiceUnavailable, typeUnavailable); !strings.Contains(p.Detail, "not configured") {
		t.Errorf("readyz detail %q", p.Detail)
	}
}
