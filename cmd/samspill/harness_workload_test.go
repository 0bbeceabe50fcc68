package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/samspill/samspill/domain/partnership"
)

// crashCommandKinds are the kinds of command of docs/api.md (Commands), each of
// which the run must get acknowledged at least once.
var crashCommandKinds = []string{
	"initiate", "join", "leave", "roles", "goals", "agreement", "funding", "anchoring",
	"milestone", "contact", "pause", "resume", "end", "correction",
}

// crashEventTypes is the event each kind of command appends.
var crashEventTypes = map[string]string{
	"initiate": partnership.TypePartnershipInitiated, "join": partnership.TypePartnerJoined,
	"leave": partnership.TypePartnerLeft, "roles": partnership.TypeRolesAgreed,
	"goals": partnership.TypeGoalChanged, "agreement": partnership.TypeAgreementSigned,
	"funding": partnership.TypeFundingRecorded, "anchoring": partnership.TypeAnchoringChanged,
	"milestone": partnership.TypeMilestoneLogged, "contact": partnership.TypeContactPersonAssigned,
	"pause": partnership.TypePartnershipPaused, "resume": partnership.TypePartnershipResumed,
	"end": partnership.TypePartnershipEnded, "correction": partnership.TypeEntryCorrected,
}

// crashClass says what a request may be answered with.
type crashClass int

const (
	// crashValid is valid on the state at its If-Match version (or, for an
	// initiation, always): 2xx, or 412 when the version moved.
	crashValid crashClass = iota
	// crashLoose is valid on the state the writer saw but sent without
	// If-Match: the server decides it on the newest state, which may
	// refuse it (409).
	crashLoose
	// crashInvalid breaks a rule on purpose: 409 or 400 (or 412), never 2xx.
	crashInvalid
)

func (c crashClass) String() string {
	return [...]string{"valid", "without If-Match", "invalid on purpose"}[c]
}

// crashRequest is one command sent (or resent) to the server, and its
// answer.
type crashRequest struct {
	seq       int64
	iter      int
	writer    int
	kind      string
	eventType string
	class     crashClass
	path      string // from /api/v1 on
	body      []byte
	key       string
	ifMatch   *uint64
	target    string // the partnership; "" for an initiation
	// contactName is the contact person's name of a contact command: it
	// must still be readable after every crash.
	contactName string
	// resendOf is the acknowledged request this one repeats (same key and
	// body), nil for a first send.
	resendOf *crashRequest

	// The answer. err is a transport error (no answer); duringKill tells
	// whether it happened once the kill was under way.
	err        error
	duringKill bool
	status     int
	problem    string // the body of a non-2xx answer, for messages
	position   uint64
	positionOK bool
	etag       uint64
	created    string // the partnership id of an initiation's Location
	replayed   bool
	state      *partnership.State
	bodySum    [32]byte
}

// String names the request in failure messages.
func (r *crashRequest) String() string {
	ifMatch := "none"
	if r.ifMatch != nil {
		ifMatch = strconv.FormatUint(*r.ifMatch, 10)
	}
	target := r.target
	if target == "" {
		target = "(new)"
	}
	return fmt.Sprintf("%s %s [key %s, If-Match %s, partnership %s, %s, cycle %d, writer %d]",
		r.kind, r.path, r.key, ifMatch, target, r.class, r.iter, r.writer)
}

// partnershipID is the partnership the request wrote to (for an
// initiation, the one it created).
func (r *crashRequest) partnershipID() string {
	if r.target != "" {
		return r.target
	}
	return r.created
}

// crashClient speaks to the server processes that run, with the admin
// token, spreading its requests over them in turn.
type crashClient struct {
	http      *http.Client
	transport *http.Transport
	token     string
	bases     atomic.Pointer[[]string]
	turn      atomic.Uint64
}

// aim sets the servers' addresses.
func (c *crashClient) aim(bases []string) { c.bases.Store(&bases) }

// base is the address of the next request's server.
func (c *crashClient) base() string {
	bases := *c.bases.Load()
	if len(bases) == 0 {
		return "http://127.0.0.1:1" // none runs: the request fails
	}
	return bases[int(c.turn.Add(1)%uint64(len(bases)))]
}

// each returns every server's address.
func (c *crashClient) each() []string { return *c.bases.Load() }

// crashRequestTimeout bounds every request: a request that takes longer
// while no kill is under way fails the test.
const crashRequestTimeout = 20 * time.Second

func newCrashClient(token string) *crashClient {
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}
	return &crashClient{http: &http.Client{Transport: tr, Timeout: crashRequestTimeout}, transport: tr, token: token}
}

// crashResponse is an answer read in full; bodyErr is set when the body
// was cut off (by the kill).
type crashResponse struct {
	status  int
	header  http.Header
	body    []byte
	bodyErr error
}

// do sends one request to the next server; header holds name, value
// pairs.
func (c *crashClient) do(method, path string, body []byte, header ...string) (crashResponse, error) {
	return c.doAt(c.base(), method, path, body, header...)
}

// doAt sends one request to the server at base.
func (c *crashClient) doAt(base, method, path string, body []byte, header ...string) (crashResponse, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		return crashResponse{}, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return crashResponse{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return crashResponse{status: resp.StatusCode, header: resp.Header, body: b, bodyErr: err}, nil
}

func (c *crashClient) closeIdle() { c.transport.CloseIdleConnections() }

// crashETag reads an ETag "N".
func crashETag(h http.Header) (uint64, bool) {
	v, ok := strings.CutPrefix(h.Get("ETag"), `"`)
	if !ok {
		return 0, false
	}
	v, ok = strings.CutSuffix(v, `"`)
	n, err := strconv.ParseUint(v, 10, 64)
	return n, ok && err == nil
}

// send sends r (a command) and records the answer. stopping tells whether
// the kill is under way.
func (c *crashClient) send(r *crashRequest, stopping *atomic.Bool) {
	header := []string{"Idempotency-Key", r.key}
	if r.ifMatch != nil {
		header = append(header, "If-Match", `"`+strconv.FormatUint(*r.ifMatch, 10)+`"`)
	}
	resp, err := c.do(http.MethodPost, "/api/v1"+r.path, r.body, header...)
	r.err = err
	if err != nil {
		r.duringKill = stopping != nil && stopping.Load()
		return
	}
	c.record(r, resp)
}

// record reads a command's answer into r.
func (c *crashClient) record(r *crashRequest, resp crashResponse) {
	r.status = resp.status
	r.replayed = resp.header.Get("Idempotent-Replayed") == "true"
	if p, err := strconv.ParseUint(resp.header.Get("X-Samspill-Position"), 10, 64); err == nil {
		r.position, r.positionOK = p, true
	}
	r.etag, _ = crashETag(resp.header)
	if loc := resp.header.Get("Location"); loc != "" {
		r.created = strings.TrimPrefix(loc, "/api/v1/partnerships/")
	}
	if resp.status/100 != 2 {
		r.problem = string(resp.body)
		if len(r.problem) > 400 {
			r.problem = r.problem[:400] + "..."
		}
		return
	}
	if resp.bodyErr != nil {
		return // acknowledged by its status and headers; the body was cut off
	}
	r.bodySum = sha256.Sum256(resp.body)
	var s partnership.State
	if err := json.Unmarshal(resp.body, &s); err == nil {
		r.state = &s
		if r.created == "" && r.kind == "initiate" {
			r.created = s.ID
		}
	}
}

// crashPool is the writers' shared view of the partnerships: the newest
// state each has seen, with its version.
type crashPool struct {
	mu    sync.Mutex
	known map[string]crashKnown
	hot   []string // partnerships not ended, oldest first
	ended []string
}

// crashKnown is a partnership's state at a version. Its slices are never
// modified.
type crashKnown struct {
	state   partnership.State
	version uint64
}

// crashHot is how many of the newest partnerships that have not ended the
// writers pick from: few enough that they collide (412s).
const crashHot = 40

func newCrashPool() *crashPool { return &crashPool{known: map[string]crashKnown{}} }

// update keeps s if it is newer than what the pool knows.
func (p *crashPool) update(s partnership.State, version uint64) {
	if s.ID == "" {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	old, seen := p.known[s.ID]
	if seen && old.version >= version {
		return
	}
	p.known[s.ID] = crashKnown{state: s, version: version}
	switch {
	case !seen && s.Status != partnership.StatusEnded:
		p.hot = append(p.hot, s.ID)
	case !seen:
		p.ended = append(p.ended, s.ID)
	case s.Status == partnership.StatusEnded && old.state.Status != partnership.StatusEnded:
		p.hot = slices.DeleteFunc(p.hot, func(id string) bool { return id == s.ID })
		p.ended = append(p.ended, s.ID)
	}
}

// pick returns one of the newest partnerships that have not ended.
func (p *crashPool) pick(rng *rand.Rand) (crashKnown, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.hot) == 0 {
		return crashKnown{}, false
	}
	from := max(0, len(p.hot)-crashHot)
	return p.known[p.hot[from+rng.IntN(len(p.hot)-from)]], true
}

// pickEnded returns an ended partnership.
func (p *crashPool) pickEnded(rng *rand.Rand) (crashKnown, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.ended) == 0 {
		return crashKnown{}, false
	}
	return p.known[p.ended[rng.IntN(len(p.ended))]], true
}

func (p *crashPool) hotCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.hot)
}

// crashPlaces are municipalities with a day their code was valid on: old
// codes (0906, 1702) exercise the mapping to today's.
var crashPlaces = []struct {
	code  string
	start time.Time
}{
	{"0906", time.Date(2018, 3, 1, 9, 0, 0, 0, time.UTC)}, // Arendal before 2020 → 4203
	{"1702", time.Date(2017, 5, 1, 9, 0, 0, 0, time.UTC)}, // Steinkjer before 2018 → 5006
	{"4203", time.Date(2021, 2, 1, 9, 0, 0, 0, time.UTC)},
	{"5006", time.Date(2020, 9, 1, 9, 0, 0, 0, time.UTC)},
	{"0301", time.Date(2019, 1, 1, 9, 0, 0, 0, time.UTC)},
	{"1103", time.Date(2019, 6, 1, 9, 0, 0, 0, time.UTC)},
	{"1508", time.Date(2024, 2, 1, 9, 0, 0, 0, time.UTC)}, // Ålesund since the 2024 split
}

// crashOrgNumbers are valid organisasjonsnumre (PITFALLS.md).
var crashOrgNumbers = []string{"974760673", "123456785", "974683520", "889640782", "983887457", "864139442"}

var crashTopics = []string{"leksehjelp", "turlag", "språkkafé", "besøksvenn", "ferieklubb", "Ærlig matservering", "fritidskort"}

// crashWriter is one of the concurrent writers of a kill cycle.
type crashWriter struct {
	h        *crashHarness
	id       int
	rng      *rand.Rand
	stopping *atomic.Bool
	acked    []*crashRequest // acknowledged in earlier cycles, to resend
	sent     []*crashRequest
	problems []string
	reads    int
}

func (w *crashWriter) pick(list []string) string { return list[w.rng.IntN(len(list))] }

// run sends commands until the kill is under way.
func (w *crashWriter) run() {
	for !w.stopping.Load() {
		w.step()
	}
}

// step sends one command: mostly to one of the newest partnerships,
// sometimes an initiation, a correction or a refused command on an ended
// one, or a resend of an acknowledged request.
func (w *crashWriter) step() {
	r := w.rng.Float64()
	switch {
	case r < 0.02 && len(w.acked) > 0:
		w.resend(w.acked[w.rng.IntN(len(w.acked))])
		return
	case r < 0.06 || w.h.pool.hotCount() < 8:
		w.initiate()
		return
	case r < 0.09:
		if k, ok := w.h.pool.pickEnded(w.rng); ok {
			w.onEnded(k)
			return
		}
	}
	k, ok := w.h.pool.pick(w.rng)
	if !ok {
		w.initiate()
		return
	}
	class := crashValid
	switch c := w.rng.Float64(); {
	case c < 0.025:
		class = crashInvalid
	case c < 0.14:
		class = crashLoose
	}
	req := w.command(k, class)
	if req == nil {
		return
	}
	w.send(req)
}

// newRequest fills what every command has.
func (w *crashWriter) newRequest(kind string, class crashClass, target string, version uint64, body any) *crashRequest {
	raw, err := json.Marshal(body)
	if err != nil {
		panic(err) // bodies are maps of strings, numbers and lists
	}
	seq := w.h.seq.Add(1)
	r := &crashRequest{
		seq: seq, iter: w.h.iter, writer: w.id, kind: kind, eventType: crashEventTypes[kind], class: class,
		body: raw, key: fmt.Sprintf("crash-%d-c%d-w%d", seq, w.h.iter, w.id), target: target,
	}
	if target != "" {
		r.path = "/partnerships/" + target
		if class != crashLoose {
			v := version
			r.ifMatch = &v
		}
	} else {
		r.path = "/partnerships"
	}
	return r
}

// send sends a command and learns the newest state from its answer.
func (w *crashWriter) send(r *crashRequest) {
	w.sent = append(w.sent, r)
	w.h.posting.Add(1)
	w.h.client.send(r, w.stopping)
	w.h.posting.Add(-1)
	switch {
	case r.err != nil:
	case r.status/100 == 2 && r.state != nil:
		w.h.pool.update(*r.state, r.etag)
	case r.status == http.StatusPreconditionFailed || r.status == http.StatusConflict:
		if id := r.partnershipID(); id != "" {
			w.refresh(id)
		}
	}
}

// resend repeats an acknowledged request: the server must answer with the
// first answer and write nothing.
func (w *crashWriter) resend(orig *crashRequest) {
	r := *orig
	r.resendOf, r.iter, r.writer = orig, w.h.iter, w.id
	r.err, r.duringKill, r.status, r.problem, r.position, r.positionOK = nil, false, 0, "", 0, false
	r.etag, r.replayed, r.state, r.bodySum = 0, false, nil, [32]byte{}
	if orig.kind == "initiate" {
		r.created = ""
	}
	w.sent = append(w.sent, &r)
	w.h.client.send(&r, w.stopping)
}

// refresh reads a partnership's state after a refusal.
func (w *crashWriter) refresh(id string) {
	w.reads++
	resp, err := w.h.client.do(http.MethodGet, "/api/v1/partnerships/"+id, nil)
	if w.stopping.Load() {
		return // the kill may have cut it off
	}
	if err != nil || resp.status != http.StatusOK || resp.bodyErr != nil {
		w.problems = append(w.problems, fmt.Sprintf("GET /partnerships/%s while no kill was under way: %v %d %s", id, err, resp.status, resp.body))
		return
	}
	var s partnership.State
	version, ok := crashETag(resp.header)
	if err := json.Unmarshal(resp.body, &s); err != nil || !ok {
		w.problems = append(w.problems, fmt.Sprintf("GET /partnerships/%s: unreadable state or ETag: %v", id, err))
		return
	}
	w.h.pool.update(s, version)
}

// initiate starts a partnership in one of the places.
func (w *crashWriter) initiate() {
	p := crashPlaces[w.rng.IntN(len(crashPlaces))]
	start := p.start.Add(time.Duration(w.rng.IntN(200)) * 24 * time.Hour)
	occurred := start.Format(time.RFC3339)
	if w.rng.IntN(2) == 0 {
		occurred = start.Format(time.DateOnly) // 00:00 Europe/Oslo
	}
	goals := []string{"Mål A"}
	if w.rng.IntN(2) == 0 {
		goals = append(goals, "Flere deltakere")
	}
	seq := w.h.seq.Load()
	body := map[string]any{
		"municipality":        p.code,
		"title":               fmt.Sprintf("Samarbeid %d om %s", seq, w.pick(crashTopics)),
		"description":         "Laget av krasjtesten",
		"service_area":        w.pick(partnership.ServiceAreas),
		"collaboration_model": w.pick(partnership.CollaborationModels),
		"partners": []map[string]any{
			{"name": fmt.Sprintf("Frivillig lag %d", w.rng.IntN(50)), "kind": "voluntary_organisation", "org_no": w.pick(crashOrgNumbers)},
			{"name": "Kommunens tjeneste", "kind": partnership.KindMunicipalUnit},
		},
		"goals":       goals,
		"occurred_at": occurred,
	}
	w.send(w.newRequest("initiate", crashValid, "", 0, body))
}

// onEnded sends a correction to an ended partnership, or (now and then) a
// command that an ended partnership must refuse.
func (w *crashWriter) onEnded(k crashKnown) {
	if w.rng.IntN(5) == 0 {
		body := map[string]any{"kind": "meeting", "title": "Etter slutt", "note": "", "occurred_at": w.inOrder(k.state)}
		r := w.newRequest("milestone", crashInvalid, k.state.ID, k.version, body)
		r.path += "/milestones"
		w.send(r)
		return
	}
	if r := w.correction(k.state.ID, crashValid); r != nil {
		w.send(r)
	}
}

// inOrder is a time after everything the partnership has seen, and not
// after now: an event logged in order.
func (w *crashWriter) inOrder(s partnership.State) string {
	last := s.LastOccurredAt.UTC()
	now := time.Now().UTC().Truncate(time.Second)
	t := last.Add(time.Duration(1+w.rng.IntN(20*24)) * time.Hour)
	if t.After(now) {
		t = now
	}
	if t.Before(last) {
		t = last
	}
	return t.Format(time.RFC3339)
}

// late is a time between the initiation and the latest event: an event
// logged late, for the commands no rule depends on the order of.
func (w *crashWriter) late(s partnership.State) string {
	span := s.LastOccurredAt.Sub(s.StartedAt)
	t := s.StartedAt.UTC()
	if span > time.Second {
		t = t.Add(time.Duration(w.rng.Int64N(int64(span/time.Second))) * time.Second)
	}
	return t.Format(time.RFC3339)
}

// sometimesLate is mostly inOrder, one in five late.
func (w *crashWriter) sometimesLate(s partnership.State) string {
	if w.rng.IntN(5) == 0 {
		return w.late(s)
	}
	return w.inOrder(s)
}

func (w *crashWriter) day(occurred string) string {
	t, err := time.Parse(time.RFC3339, occurred)
	if err != nil {
		panic(err)
	}
	return t.Format(time.DateOnly)
}

// command builds a command of class for the partnership in state k.
func (w *crashWriter) command(k crashKnown, class crashClass) *crashRequest {
	if class == crashInvalid {
		return w.invalid(k)
	}
	s := k.state
	external := 0
	var leavers []partnership.Partner
	for _, p := range s.Partners {
		if p.Kind != partnership.KindMunicipalUnit {
			external++
		}
	}
	for _, p := range s.Partners {
		if p.Kind == partnership.KindMunicipalUnit || external > 1 {
			leavers = append(leavers, p)
		}
	}
	weights := map[string]float64{
		"join": 6, "roles": 6, "goals": 6, "agreement": 5, "funding": 6, "anchoring": 5,
		"milestone": 12, "contact": 5, "end": 1.2, "correction": 6,
	}
	if len(s.Partners) >= 8 {
		weights["join"] = 1
	}
	if len(leavers) > 0 {
		weights["leave"] = 5
	}
	switch s.Status {
	case partnership.StatusActive:
		weights["pause"] = 3
	case partnership.StatusPaused:
		weights["resume"] = 10
	}
	kind := w.weighted(weights)
	if kind == "correction" {
		return w.correction(s.ID, class)
	}
	var body map[string]any
	path := ""
	switch kind {
	case "join":
		partner := map[string]any{"name": fmt.Sprintf("Lag %d", w.h.seq.Load()), "kind": w.pick(partnership.PartnerKinds)}
		if w.rng.IntN(3) == 0 {
			free := slices.DeleteFunc(slices.Clone(crashOrgNumbers), func(n string) bool {
				return slices.ContainsFunc(s.Partners, func(p partnership.Partner) bool { return p.OrgNo == n })
			})
			if len(free) > 0 {
				partner["org_no"] = w.pick(free)
			}
		}
		body, path = map[string]any{"partner": partner, "occurred_at": w.inOrder(s)}, "/partners"
	case "leave":
		p := leavers[w.rng.IntN(len(leavers))]
		body, path = map[string]any{"reason": "flytter", "occurred_at": w.inOrder(s)}, "/partners/"+p.PartnerID+"/leave"
	case "roles":
		n := 1 + w.rng.IntN(min(3, len(s.Partners)))
		var roles []map[string]any
		for _, i := range w.rng.Perm(len(s.Partners))[:n] {
			resp := []string{}
			if w.rng.IntN(2) == 0 {
				resp = append(resp, "Koordinere frivillige")
			}
			roles = append(roles, map[string]any{"partner_id": s.Partners[i].PartnerID, "role": w.pick(partnership.RoleNames), "responsibilities": resp})
		}
		body, path = map[string]any{"roles": roles, "occurred_at": w.inOrder(s)}, "/roles"
	case "goals":
		var goals []string
		for len(goals) == 0 || slices.Equal(goals, s.Goals) {
			goals = nil
			for _, i := range w.rng.Perm(10)[:1+w.rng.IntN(3)] {
				goals = append(goals, fmt.Sprintf("Mål %d", i))
			}
		}
		body, path = map[string]any{"goals": goals, "reason": "revisjon", "occurred_at": w.inOrder(s)}, "/goals"
	case "agreement":
		at := w.sometimesLate(s)
		body = map[string]any{"agreement_type": w.pick(partnership.AgreementTypes), "valid_from": w.day(at), "reference": fmt.Sprintf("sak %d", w.rng.IntN(1000)), "occurred_at": at}
		if w.rng.IntN(2) == 0 {
			from, _ := time.Parse(time.DateOnly, w.day(at))
			body["valid_until"] = from.AddDate(1+w.rng.IntN(3), 0, 0).Format(time.DateOnly)
		}
		path = "/agreements"
	case "funding":
		at := w.sometimesLate(s)
		from, _ := time.Parse(time.DateOnly, w.day(at))
		body = map[string]any{"amount_nok": 1 + w.rng.Int64N(500000), "source": w.pick([]string{"Kommunalt tilskudd", "Stiftelsen Dam", "Statsforvalteren"}),
			"period_from": from.Format(time.DateOnly), "period_until": from.AddDate(1, 0, 0).Format(time.DateOnly), "occurred_at": at}
		path = "/funding"
	case "anchoring":
		levels := slices.DeleteFunc(slices.Clone(partnership.AnchoringLevels), func(l string) bool { return l == s.AnchoringLevel })
		body, path = map[string]any{"level": w.pick(levels), "note": "vedtak", "occurred_at": w.inOrder(s)}, "/anchoring"
	case "milestone":
		body, path = map[string]any{"kind": w.pick(partnership.MilestoneKinds), "title": fmt.Sprintf("Møte %d", w.rng.IntN(100)), "note": "", "occurred_at": w.sometimesLate(s)}, "/milestones"
	case "contact":
		p := s.Partners[w.rng.IntN(len(s.Partners))]
		n := w.h.seq.Load()
		body = map[string]any{"partner_id": p.PartnerID, "name": fmt.Sprintf("Kari Nordmann %d", n), "occurred_at": w.inOrder(s)}
		switch w.rng.IntN(3) {
		case 0:
			body["email"] = fmt.Sprintf("kari%d@example.no", n)
		case 1:
			body["phone"] = "+47 912 34 567"
		default:
			body["email"], body["phone"] = fmt.Sprintf("kari%d@example.no", n), "912 34 567"
		}
		path = "/contacts"
	case "pause":
		body, path = map[string]any{"reason": "sommerferie", "occurred_at": w.inOrder(s)}, "/pause"
	case "resume":
		body, path = map[string]any{"reason": "videre", "occurred_at": w.inOrder(s)}, "/resume"
	case "end":
		body, path = map[string]any{"reason": w.pick(partnership.EndReasons), "outcome": "Avsluttet etter plan", "occurred_at": w.inOrder(s)}, "/end"
	}
	r := w.newRequest(kind, class, s.ID, k.version, body)
	r.path += path
	if kind == "contact" {
		r.contactName = body["name"].(string)
	}
	return r
}

// invalid builds a command the partnership's state at its version must
// refuse.
func (w *crashWriter) invalid(k crashKnown) *crashRequest {
	s := k.state
	var kind, path string
	var body map[string]any
	switch w.rng.IntN(5) {
	case 0:
		if s.Status == partnership.StatusPaused {
			kind, path = "pause", "/pause" // already paused
		} else {
			kind, path = "resume", "/resume" // not paused
		}
		body = map[string]any{"reason": "feil", "occurred_at": w.inOrder(s)}
	case 1:
		kind, path = "leave", "/partners/nobody/leave"
		body = map[string]any{"reason": "ukjent", "occurred_at": w.inOrder(s)}
	case 2:
		kind, path = "goals", "/goals"
		body = map[string]any{"goals": s.Goals, "reason": "uendret", "occurred_at": w.inOrder(s)}
	case 3:
		kind, path = "anchoring", "/anchoring"
		body = map[string]any{"level": s.AnchoringLevel, "note": "samme", "occurred_at": w.inOrder(s)}
	default:
		kind, path = "milestone", "/milestones"
		body = map[string]any{"kind": "meeting", "title": "For tidlig", "note": "", "occurred_at": s.StartedAt.Add(-30 * 24 * time.Hour).UTC().Format(time.RFC3339)}
	}
	r := w.newRequest(kind, crashInvalid, s.ID, k.version, body)
	r.path += path
	return r
}

// crashHistoryItem is an event of a partnership's /history, as far as the
// harness reads it.
type crashHistoryItem struct {
	EventID  string          `json:"event_id"`
	Type     string          `json:"type"`
	StreamID string          `json:"stream_id"`
	Version  uint64          `json:"version"`
	Position uint64          `json:"position"`
	Metadata crashMetadata   `json:"metadata"`
	Data     json.RawMessage `json:"data"`
	// CorrectedBy marks an event a later correction retracted or replaced.
	CorrectedBy *struct {
		Retracted bool `json:"retracted"`
	} `json:"corrected_by"`
}

type crashMetadata struct {
	IdempotencyKey string `json:"idempotency_key"`
}

// correction reads the partnership's history and retracts or replaces an
// earlier event that no rule depends on (a milestone, funding, the
// initiation's title), pinned to the history's version.
func (w *crashWriter) correction(id string, class crashClass) *crashRequest {
	w.reads++
	resp, err := w.h.client.do(http.MethodGet, "/api/v1/partnerships/"+id+"/history", nil)
	if w.stopping.Load() {
		return nil
	}
	version, ok := crashETag(resp.header)
	var hist struct{ Items []crashHistoryItem }
	if err == nil && resp.status == http.StatusOK && ok {
		err = json.Unmarshal(resp.body, &hist)
	}
	if err != nil || resp.status != http.StatusOK || !ok || len(hist.Items) == 0 {
		w.problems = append(w.problems, fmt.Sprintf("GET /partnerships/%s/history while no kill was under way: %v %d %s", id, err, resp.status, resp.body))
		return nil
	}
	// A retracted event stays retracted: replacing it would bring it back
	// at its old date, where it may break a rule (a milestone after an end
	// dated before it, since its retraction hid it).
	var targets []crashHistoryItem
	for _, it := range hist.Items {
		retracted := it.CorrectedBy != nil && it.CorrectedBy.Retracted
		if it.Type == partnership.TypeMilestoneLogged || (it.Type == partnership.TypeFundingRecorded && !retracted) {
			targets = append(targets, it)
		}
	}
	target := hist.Items[0] // the initiation
	if len(targets) > 0 && w.rng.IntN(4) != 0 {
		target = targets[w.rng.IntN(len(targets))]
	}
	body := map[string]any{"corrected_event_id": target.EventID, "reason": "retting"}
	switch target.Type {
	case partnership.TypeMilestoneLogged:
		if w.rng.IntN(2) == 0 && (target.CorrectedBy == nil || !target.CorrectedBy.Retracted) {
			body["replacement"] = map[string]any{"kind": w.pick(partnership.MilestoneKinds), "title": "Rettet tittel", "note": "rettet"}
		}
	case partnership.TypeFundingRecorded:
		var f partnership.FundingRecorded
		if err := json.Unmarshal(target.Data, &f); err != nil {
			w.problems = append(w.problems, fmt.Sprintf("funding %s of %s: %v", target.EventID, id, err))
			return nil
		}
		f.AmountNOK = 1 + w.rng.Int64N(500000)
		body["replacement"] = f
	case partnership.TypePartnershipInitiated:
		var in partnership.PartnershipInitiated
		if err := json.Unmarshal(target.Data, &in); err != nil {
			w.problems = append(w.problems, fmt.Sprintf("initiation %s of %s: %v", target.EventID, id, err))
			return nil
		}
		in.Title = fmt.Sprintf("%s (rettet %d)", in.Title, w.rng.IntN(100))
		body["replacement"] = in
	}
	r := w.newRequest("correction", class, id, version, body)
	r.path += "/corrections"
	return r
}

// weighted picks a key with probability proportional to its weight, in a
// fixed order so that a seed repeats the choices.
func (w *crashWriter) weighted(weights map[string]float64) string {
	total := 0.0
	for _, k := range crashCommandKinds {
		total += weights[k]
	}
	x := w.rng.Float64() * total
	for _, k := range crashCommandKinds {
		if x < weights[k] {
			return k
		}
		x -= weights[k]
	}
	return "milestone"
}

// window is how long the next cycle writes before its kill, drawn from
// the seed.
func (h *crashHarness) window() time.Duration {
	return crashMinWrite + time.Duration(h.rng.Int64N(int64(crashMaxWrite-crashMinWrite)))
}

// load runs the writers for window, kills victim (the requests to the
// other nodes go on until the writers have stopped) and sorts out what
// each request got.
func (h *crashHarness) load(window time.Duration, victim *crashNode) {
	begin := time.Now()
	var stopping atomic.Bool
	writers := make([]*crashWriter, crashWriters)
	var wg sync.WaitGroup
	for i := range writers {
		w := &crashWriter{h: h, id: i, rng: rand.New(rand.NewPCG(h.seed, uint64(h.iter)<<8|uint64(i))), stopping: &stopping}
		for _, a := range h.ackedList {
			if a.writer == i {
				w.acked = append(w.acked, a)
			}
		}
		writers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.run()
		}()
	}
	time.Sleep(window)
	stopping.Store(true)
	posting := h.posting.Load()
	h.kill(victim)
	wg.Wait()
	h.counts.writeTime += time.Since(begin)

	h.inflight = h.inflight[:0]
	h.inflightResends = h.inflightResends[:0]
	acked0, inflight0 := h.counts.acked, 0
	for _, w := range writers {
		h.failures = append(h.failures, w.problems...)
		h.counts.reads += w.reads
		for _, r := range w.sent {
			if h.classify(r) {
				inflight0++
			}
		}
	}
	slices.SortFunc(h.inflight, func(a, b *crashRequest) int { return int(a.seq - b.seq) })
	h.t.Logf("kill %d/%d after %v: %d acknowledged, %d commands on the wire at the kill, %d requests without an answer (resends included)", h.iter, h.kills, window.Round(time.Millisecond), h.counts.acked-acked0, posting, inflight0)
	h.fatalIfProblems("writing")
}

// classify sorts one request by its answer and reports answers the API
// does not allow. It returns true for a request in flight at the kill.
func (h *crashHarness) classify(r *crashRequest) bool {
	c := &h.counts
	if r.resendOf != nil {
		if r.err != nil {
			if !r.duringKill {
				h.problemf("resend of %s failed while no kill was under way: %v", r.resendOf, r.err)
				return false
			}
			h.inflightResends = append(h.inflightResends, r)
			return true
		}
		c.status[r.status]++
		c.resends++
		h.checkReplay(r, r.resendOf, "resend during the writes")
		return false
	}
	h.sent[r.key] = r
	c.requests++
	if r.err != nil {
		if !r.duringKill {
			h.problemf("%s failed while no kill was under way: %v", r, r.err)
			return false
		}
		h.inflight = append(h.inflight, r)
		return true
	}
	c.status[r.status]++
	switch {
	case r.status/100 == 2:
		h.acknowledge(r, "answered")
	case r.status == http.StatusPreconditionFailed && r.ifMatch != nil:
		c.precondition++
		h.refused[r.key] = r
	case (r.status == http.StatusConflict || r.status == http.StatusBadRequest) && r.class == crashInvalid:
		c.refusedInvalid++
		h.refused[r.key] = r
	case r.status == http.StatusConflict && r.class == crashLoose:
		c.refusedLoose++
		h.refused[r.key] = r
	case r.status == http.StatusConflict || r.status == http.StatusBadRequest:
		h.problemf("%s was refused (%d) though valid at the version it names: %s", r, r.status, r.problem)
		h.refused[r.key] = r
	default:
		h.problemf("%s answered %d: %s", r, r.status, r.problem)
		h.refused[r.key] = r
	}
	return false
}

// acknowledge records a 2xx answer to a first send (or a fresh retry).
func (h *crashHarness) acknowledge(r *crashRequest, how string) {
	switch {
	case !r.positionOK:
		h.problemf("%s was %s %d without X-Samspill-Position", r, how, r.status)
		return
	case r.class == crashInvalid:
		h.problemf("%s, invalid on purpose, was %s %d (position %d)", r, how, r.status, r.position)
	case r.replayed:
		h.problemf("%s was %s as an idempotent replay (position %d) though it was its first send", r, how, r.position)
	case r.kind == "initiate" && (r.status != http.StatusCreated || r.created == ""):
		h.problemf("%s was %s %d without Location", r, how, r.status)
		return
	case r.kind != "initiate" && r.status != http.StatusOK:
		h.problemf("%s was %s %d, not 200", r, how, r.status)
	}
	h.acked[r.key] = &crashAck{req: r, partnership: r.partnershipID(), position: r.position}
	h.ackedList = append(h.ackedList, r)
	h.counts.acked++
	h.counts.byKind[r.kind]++
}

// checkReplay checks that r, sent again with the key of orig, got orig's
// answer: its status, position and version, and the same state.
func (h *crashHarness) checkReplay(r, orig *crashRequest, what string) bool {
	switch {
	case r.status != orig.status:
		h.problemf("%s of %s answered %d, not the first answer's %d: %s", what, orig, r.status, orig.status, r.problem)
	case !r.replayed:
		h.problemf("%s of %s was not marked Idempotent-Replayed (position %d)", what, orig, r.position)
	case !r.positionOK || r.position != orig.position:
		h.problemf("%s of %s answered position %d, the first answer %d", what, orig, r.position, orig.position)
	case r.etag != orig.etag:
		h.problemf("%s of %s answered ETag %d, the first answer %d", what, orig, r.etag, orig.etag)
	case orig.kind == "initiate" && r.created != orig.created:
		h.problemf("%s of %s answered Location of partnership %q, the first answer %q", what, orig, r.created, orig.created)
	case orig.state != nil && r.state != nil && crashNormState(*r.state) != crashNormState(*orig.state):
		h.problemf("%s of %s answered another state than the first answer: %s", what, orig, crashJSONDiff([]byte(crashNormState(*orig.state)), []byte(crashNormState(*r.state))))
	case orig.state != nil && r.state != nil && r.bodySum != orig.bodySum:
		h.problemf("%s of %s answered the first answer's state in other bytes (docs/api.md: the same status and body)", what, orig)
	default:
		return true
	}
	return false
}

// crashNormState encodes a state with its times in UTC: the read models
// store instants, the stream keeps the zone a time was given in.
func crashNormState(s partnership.State) string {
	s.StartedAt = s.StartedAt.UTC()
	s.LastOccurredAt = s.LastOccurredAt.UTC()
	if s.EndedAt != nil {
		u := s.EndedAt.UTC()
		s.EndedAt = &u
	}
	raw, err := json.Marshal(s)
	if err != nil {
		return "unencodable: " + err.Error()
	}
	return string(raw)
}
