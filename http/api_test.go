package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/history"
)

// step is one command of a scenario and what the state must show after it.
type step struct {
	sub   string
	body  obj
	check func(t *testing.T, s stateBody)
}

// TestCommandsHappyPath runs every command endpoint once, in a life that
// makes sense, and checks each answer's status and headers, the state, and
// then the history's envelopes.
func TestCommandsHappyPath(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)

	// Initiate, one partner without partner_id (the server makes one).
	body := initiateBody()
	partners := body["partners"].([]any)
	partners[1] = with(partners[1].(obj), "partner_id", remove)
	r := a.do("POST", "/api/v1/partnerships", body, "X-Request-ID", "req-0")
	wantStatus(t, r, http.StatusCreated)
	s := decodeBody[stateBody](t, r)
	p := ptn{ID: s.ID, path: "/api/v1/partnerships/" + s.ID}
	if !history.ValidID(s.ID) || uuid.MustParse(s.ID).Version() != 7 {
		t.Errorf("id = %q, want a UUID v7", s.ID)
	}
	if got := r.Header.Get("Location"); got != p.path {
		t.Errorf("Location = %q, want %q", got, p.path)
	}
	if v := etagOf(t, r); v != 1 {
		t.Errorf("ETag = %d, want 1", v)
	}
	if got := r.Header.Get("X-Request-ID"); got != "req-0" {
		t.Errorf("X-Request-ID = %q, want it echoed", got)
	}
	if r.Header.Get("Idempotent-Replayed") != "" {
		t.Errorf("a first request is marked Idempotent-Replayed")
	}
	lag := s.partnerIDs()[1]
	if !history.ValidID(lag) {
		t.Errorf("server-made partner_id = %q, want a UUID", lag)
	}
	want := stateBody{
		ID: s.ID, Status: "active", Municipality: "0301", CurrentMunicipality: "0301",
		Title: "Møteplass Tøyen", Description: "Frivillige og bydelen driver en møteplass.",
		ServiceArea: "culture", CollaborationModel: "co_governance",
		Goals: []string{"Flere møteplasser"}, AnchoringLevel: "none",
		StartedAt: "2024-02-29T23:00:00Z", Version: 1, LastOccurredAt: "2024-02-29T23:00:00Z",
	}
	if s.Status != want.Status || s.Municipality != want.Municipality || s.CurrentMunicipality != want.CurrentMunicipality ||
		s.Title != want.Title || s.Description != want.Description || s.ServiceArea != want.ServiceArea ||
		s.CollaborationModel != want.CollaborationModel || !slices.Equal(s.Goals, want.Goals) ||
		s.AnchoringLevel != want.AnchoringLevel || s.StartedAt != want.StartedAt || s.Version != 1 ||
		s.LastOccurredAt != want.LastOccurredAt || s.EndedAt != nil || s.EndReason != nil ||
		len(s.Roles) != 0 || len(s.Agreements) != 0 || s.FundingTotalNOK != 0 || s.GoalChanges != 0 {
		t.Errorf("initiated state = %+v, want %+v", s, want)
	}
	positions := []uint64{positionOf(t, r)}
	requestIDs := []string{"req-0"}
	version := uint64(1)

	steps := []step{
		{"/partners", obj{"partner": obj{"name": "Tøyen IL", "kind": "voluntary_organisation", "org_no": orgIdrett}, "occurred_at": "2024-04-01"},
			func(t *testing.T, s stateBody) {
				if len(s.Partners) != 3 || s.Partners[2]["name"] != "Tøyen IL" || !history.ValidID(s.Partners[2]["partner_id"].(string)) {
					t.Errorf("partners = %v, want Tøyen IL joined with a server-made id", s.Partners)
				}
			}},
		{"/roles", obj{"roles": []any{obj{"partner_id": lag, "role": "lead", "responsibilities": []any{"Drift"}}, obj{"partner_id": "kommune", "role": "funder"}}, "occurred_at": "2024-04-02T12:00:00+02:00"},
			func(t *testing.T, s stateBody) {
				if len(s.Roles) != 2 || s.Roles[0]["role"] != "lead" || s.Roles[1]["partner_id"] != "kommune" {
					t.Errorf("roles = %v", s.Roles)
				}
				if rs, ok := s.Roles[1]["responsibilities"].([]any); !ok || len(rs) != 0 {
					t.Errorf("responsibilities of a role without them = %v, want []", s.Roles[1]["responsibilities"])
				}
			}},
		{"/goals", obj{"goals": []any{"Flere møteplasser", "Flere frivillige"}, "reason": "Evaluering", "occurred_at": "2024-04-03"},
			func(t *testing.T, s stateBody) {
				if !slices.Equal(s.Goals, []string{"Flere møteplasser", "Flere frivillige"}) || s.GoalChanges != 1 {
					t.Errorf("goals = %q (%d changes)", s.Goals, s.GoalChanges)
				}
			}},
		{"/agreements", obj{"agreement_type": "cooperation_agreement", "valid_from": "2024-04-01", "reference": "SAK 24/1", "occurred_at": "2024-04-04"},
			func(t *testing.T, s stateBody) {
				if len(s.Agreements) != 1 || s.Agreements[0]["agreement_type"] != "cooperation_agreement" || s.Agreements[0]["valid_from"] != "2024-04-01" {
					t.Errorf("agreements = %v", s.Agreements)
				}
				if _, ok := s.Agreements[0]["valid_until"]; ok {
					t.Errorf("an agreement without valid_until shows one: %v", s.Agreements[0])
				}
			}},
		{"/funding", obj{"amount_nok": 150000, "source": "Bydelen", "period_from": "2024-01-01", "period_until": "2024-12-31", "occurred_at": "2024-04-05"},
			func(t *testing.T, s stateBody) {
				if s.FundingTotalNOK != 150000 {
					t.Errorf("funding_total_nok = %d, want 150000", s.FundingTotalNOK)
				}
			}},
		// The largest amount one entry may have (ten billion kroner).
		{"/funding", obj{"amount_nok": 10_000_000_000, "source": "Stort fond", "period_from": "2024-01-01", "period_until": "2024-12-31", "occurred_at": "2024-04-05"},
			func(t *testing.T, s stateBody) {
				if s.FundingTotalNOK != 10_000_000_000+150000 {
					t.Errorf("funding_total_nok = %d, want exact arithmetic", s.FundingTotalNOK)
				}
			}},
		{"/anchoring", obj{"level": "political", "note": "Vedtatt", "occurred_at": "2024-04-06"},
			func(t *testing.T, s stateBody) {
				if s.AnchoringLevel != "political" {
					t.Errorf("anchoring_level = %q", s.AnchoringLevel)
				}
			}},
		{"/collaboration-model", obj{"collaboration_model": "grant", "reason": "Kommunen gir tilskudd i stedet for å styre sammen", "occurred_at": "2024-04-06T12:00:00+02:00"},
			func(t *testing.T, s stateBody) {
				if s.CollaborationModel != "grant" {
					t.Errorf("collaboration_model = %q, want grant", s.CollaborationModel)
				}
			}},
		{"/milestones", obj{"kind": "meeting", "title": "Oppstartsmøte", "occurred_at": "2024-04-07"}, nil},
		{"/contacts", obj{"partner_id": lag, "name": "Kari Nordmann", "email": "kari@example.no", "occurred_at": "2024-04-08"}, nil},
		{"/contacts", obj{"partner_id": "kommune", "name": "Ola Nordmann", "phone": "+47 22 00 00 00", "occurred_at": "2024-04-08"}, nil},
		{"/pause", obj{"reason": "Sommerferie", "occurred_at": "2024-04-09"},
			func(t *testing.T, s stateBody) {
				if s.Status != "paused" {
					t.Errorf("status = %q, want paused", s.Status)
				}
			}},
		{"/resume", obj{"reason": "Tilbake", "occurred_at": "2024-04-10"},
			func(t *testing.T, s stateBody) {
				if s.Status != "active" {
					t.Errorf("status = %q, want active", s.Status)
				}
			}},
		{"/partners/kommune/leave", obj{"reason": "Omorganisering", "occurred_at": "2024-04-11"},
			func(t *testing.T, s stateBody) {
				if slices.Contains(s.partnerIDs(), "kommune") {
					t.Errorf("kommune still a partner: %v", s.partnerIDs())
				}
				for _, r := range s.Roles {
					if r["partner_id"] == "kommune" {
						t.Errorf("the role of a partner who left remains: %v", s.Roles)
					}
				}
			}},
		// occurred_at omitted: now. Exactly 24 h ahead is still allowed.
		{"/milestones", obj{"kind": "evaluation", "title": "Evaluering"},
			func(t *testing.T, s stateBody) {
				if s.LastOccurredAt != "2024-06-01T10:00:00Z" {
					t.Errorf("last_occurred_at = %q, want now (2024-06-01T10:00:00Z)", s.LastOccurredAt)
				}
			}},
		{"/milestones", obj{"kind": "media", "title": "Avisoppslag", "occurred_at": "2024-06-02T10:00:00Z"}, nil},
		{"/end", obj{"reason": "completed", "outcome": "Videreført", "occurred_at": "2024-06-02T10:00:00Z"},
			func(t *testing.T, s stateBody) {
				if s.Status != "ended" || s.EndedAt == nil || *s.EndedAt != "2024-06-02T10:00:00Z" || s.EndReason == nil || *s.EndReason != "completed" {
					t.Errorf("ended state = %s %v %v", s.Status, s.EndedAt, s.EndReason)
				}
			}},
	}
	var last response
	for i, st := range steps {
		reqID := fmt.Sprintf("req-%d", i+1)
		r := a.do("POST", p.path+st.sub, st.body, "X-Request-ID", reqID)
		if r.Status != http.StatusOK {
			t.Fatalf("step %d POST %s: status %d, body %s", i+1, st.sub, r.Status, r.Body)
		}
		version++
		if v := etagOf(t, r); v != version {
			t.Errorf("step %d POST %s: ETag %d, want %d", i+1, st.sub, v, version)
		}
		pos := positionOf(t, r)
		if pos <= positions[len(positions)-1] {
			t.Errorf("step %d POST %s: position %d does not increase (last %d)", i+1, st.sub, pos, positions[len(positions)-1])
		}
		positions = append(positions, pos)
		requestIDs = append(requestIDs, reqID)
		s := decodeBody[stateBody](t, r)
		if s.Version != version || s.ID != p.ID {
			t.Errorf("step %d POST %s: state version %d id %s, want %d %s", i+1, st.sub, s.Version, s.ID, version, p.ID)
		}
		if r.Header.Get("Location") != "" {
			t.Errorf("step %d POST %s: Location on a command that created nothing", i+1, st.sub)
		}
		if st.check != nil {
			st.check(t, s)
		}
		last = r
	}

	// The live read equals the last command's answer.
	g := a.do("GET", p.path, nil)
	wantStatus(t, g, http.StatusOK)
	if !bytes.Equal(g.Body, last.Body) {
		t.Errorf("GET state differs from the last command's answer:\n%s\n%s", g.Body, last.Body)
	}
	if etagOf(t, g) != version {
		t.Errorf("GET ETag = %q, want %d", g.Header.Get("ETag"), version)
	}

	// The history: every event, oldest first, with its envelope.
	hr := a.do("GET", p.path+"/history", nil)
	wantStatus(t, hr, http.StatusOK)
	if etagOf(t, hr) != version {
		t.Errorf("history ETag = %q, want %d", hr.Header.Get("ETag"), version)
	}
	h := decodeBody[historyBody](t, hr)
	types := []string{"PartnershipInitiated", "PartnerJoined", "RolesAgreed", "GoalChanged", "AgreementSigned",
		"FundingRecorded", "FundingRecorded", "AnchoringChanged", "CollaborationModelChanged", "MilestoneLogged", "ContactPersonAssigned",
		"ContactPersonAssigned", "PartnershipPaused", "PartnershipResumed", "PartnerLeft", "MilestoneLogged",
		"MilestoneLogged", "PartnershipEnded"}
	if len(h.Items) != len(types) {
		t.Fatalf("history has %d items, want %d", len(h.Items), len(types))
	}
	occurred := []string{"2024-02-29T23:00:00Z", "2024-03-31T22:00:00Z", "2024-04-02T10:00:00Z", "2024-04-02T22:00:00Z"}
	ids := map[string]bool{}
	for i, it := range h.Items {
		if it.Type != types[i] || it.Version != uint64(i+1) || it.Position != positions[i] {
			t.Errorf("item %d: %s v%d @%d, want %s v%d @%d", i, it.Type, it.Version, it.Position, types[i], i+1, positions[i])
		}
		if !history.ValidID(it.EventID) || ids[it.EventID] {
			t.Errorf("item %d: event_id %q is not a new UUID", i, it.EventID)
		}
		ids[it.EventID] = true
		if it.SchemaVersion != 1 || it.StreamID != "partnership-"+p.ID {
			t.Errorf("item %d: schema_version %d stream_id %q", i, it.SchemaVersion, it.StreamID)
		}
		if it.RecordedAt != "2024-06-01T10:00:00Z" {
			t.Errorf("item %d: recorded_at %q, want the server clock 2024-06-01T10:00:00Z", i, it.RecordedAt)
		}
		if i < len(occurred) && it.OccurredAt != occurred[i] {
			t.Errorf("item %d: occurred_at %q, want %q", i, it.OccurredAt, occurred[i])
		}
		wantMeta := obj{"actor": obj{"subject": "admin", "role": "admin"}, "correlation_id": requestIDs[i], "causation_id": requestIDs[i]}
		if !jsonEqual(it.Metadata, wantMeta) {
			t.Errorf("item %d: metadata %v, want %v", i, it.Metadata, wantMeta)
		}
		if it.CorrectedBy != nil {
			t.Errorf("item %d: corrected_by set without a correction", i)
		}
		if len(it.Data) == 0 || it.Data[0] != '{' {
			t.Errorf("item %d: data %s, want the payload object", i, it.Data)
		}
	}
	var initiated obj
	_ = json.Unmarshal(h.Items[0].Data, &initiated)
	if initiated["partnership_id"] != p.ID || initiated["municipality"] != "0301" {
		t.Errorf("initiation data = %v", initiated)
	}
	var contact obj
	_ = json.Unmarshal(h.Items[10].Data, &contact)
	if !history.ValidID(fmt.Sprint(contact["contact_id"])) || contact["partner_id"] != lag {
		t.Errorf("contact data = %v, want a server-made contact_id", contact)
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// TestRequestID checks that a sane X-Request-ID is echoed and used, and
// that anything else is replaced by a new one.
func TestRequestID(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	r := a.post(p, "/milestones", obj{"kind": "meeting", "title": "Møte"}, http.StatusOK, "X-Request-ID", "has space")
	id := r.Header.Get("X-Request-ID")
	if id == "has space" || id == "" {
		t.Fatalf("X-Request-ID = %q, want a new id for an invalid one", id)
	}
	h := a.history(p, "")
	if got := h.Items[1].Metadata["correlation_id"]; got != id {
		t.Errorf("correlation_id = %v, want the echoed %q", got, id)
	}
	r = a.do("GET", p.path, nil, "X-Request-ID", strings.Repeat("x", 128))
	if r.Header.Get("X-Request-ID") != strings.Repeat("x", 128) {
		t.Errorf("a 128-character X-Request-ID is not echoed")
	}
}

// TestAsOf checks that a date includes the whole day in Europe/Oslo and a
// timestamp is exact.
func TestAsOf(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership() // 2024-03-01 00:00 Oslo = 2024-02-29T23:00Z
	// 23:59 Oslo on 5 March (22:59Z) and 00:30 Oslo on 6 March, which is
	// still 5 March in UTC (23:30Z).
	a.post(p, "/goals", obj{"goals": []any{"B"}, "reason": "r", "occurred_at": "2024-03-05T23:59:00+01:00"}, http.StatusOK)
	a.post(p, "/goals", obj{"goals": []any{"C"}, "reason": "r", "occurred_at": "2024-03-06T00:30:00+01:00"}, http.StatusOK)
	for _, c := range []struct {
		asOf    string
		goals   string
		version uint64
	}{
		{"2024-02-29T23:00:00Z", "Flere møteplasser", 1},
		{"2024-03-01", "Flere møteplasser", 1},
		{"2024-03-04", "Flere møteplasser", 1},
		{"2024-03-05", "B", 2},
		{"2024-03-05T22:58:59Z", "Flere møteplasser", 1},
		{"2024-03-05T22:59:00Z", "B", 2},
		{"2024-03-05T23:29:59.999999999Z", "B", 2},
		{"2024-03-06T00:30:00%2B01:00", "C", 3},
		{"2024-03-06", "C", 3},
		{"2030-01-01", "C", 3},
	} {
		s := a.state(p, "?as_of="+c.asOf)
		if len(s.Goals) != 1 || s.Goals[0] != c.goals || s.Version != c.version {
			t.Errorf("as_of=%s: goals %q version %d, want %s %d", c.asOf, s.Goals, s.Version, c.goals, c.version)
		}
		if h := a.history(p, "?as_of="+c.asOf); uint64(len(h.Items)) != c.version {
			t.Errorf("as_of=%s: history has %d items, want %d", c.asOf, len(h.Items), c.version)
		}
		// The ETag stays the stream's version, whatever the view.
		if r := a.do("GET", p.path+"?as_of="+c.asOf, nil); etagOf(t, r) != 3 {
			t.Errorf("as_of=%s: ETag %s, want \"3\"", c.asOf, r.Header.Get("ETag"))
		}
	}
	// Before the initiation the partnership does not exist.
	for _, asOf := range []string{"2024-02-29", "2024-02-29T22:59:59.999Z", "2023-01-01"} {
		for _, sub := range []string{"", "/history"} {
			r := a.do("GET", p.path+sub+"?as_of="+asOf, nil)
			wantProblem(t, r, http.StatusNotFound, typeNotFound)
		}
	}
}

// TestKnownAtAndBitemporal controls recorded_at with the clock and reads
// as known at several times, alone and with as_of, corrections included.
func TestKnownAtAndBitemporal(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	t0 := a.clock.Now()
	p := a.initiate(with(initiateBody(), "goals", []any{"A"})) // occurred 03-01, recorded t0
	t1 := a.clock.Advance(time.Hour)
	// v2
	a.post(p, "/goals", obj{"goals": []any{"B"}, "reason": "r", "occurred_at": "2024-03-10"}, http.StatusOK)
	goalsB := a.lastEventID(p)
	t2 := a.clock.Advance(time.Hour)
	// Logged late: it occurred before B.
	// v3
	a.post(p, "/goals", obj{"goals": []any{"C"}, "reason": "r", "occurred_at": "2024-03-05"}, http.StatusOK)
	t3 := a.clock.Advance(time.Hour)
	a.post(p, "/corrections", obj{"corrected_event_id": goalsB, "reason": "Aldri vedtatt"}, http.StatusOK) // v4 retracts B
	correction := a.lastEventID(p)

	ts := func(t time.Time) string { return strings.ReplaceAll(t.Format(time.RFC3339Nano), "+", "%2B") }
	for _, c := range []struct {
		query   string
		goals   string
		version uint64
		items   int
		changes int
	}{
		{"", "C", 4, 4, 1},
		{"?known_at=" + ts(t0), "A", 1, 1, 0},
		{"?known_at=" + ts(t1.Add(-time.Nanosecond)), "A", 1, 1, 0},
		{"?known_at=" + ts(t1), "B", 2, 2, 1},
		{"?known_at=" + ts(t2), "B", 3, 3, 2},  // C occurred before B, so B is current
		{"?known_at=" + ts(t3), "C", 4, 4, 1},  // B retracted
		{"?known_at=2024-06-01", "C", 4, 4, 1}, // the whole Oslo day
		{"?known_at=2024-06-01T11:30:00Z", "B", 2, 2, 1},
		// The version is the newest event in the view, not a count: B (v2)
		// occurred after 7 March, C (v3) before.
		{"?as_of=2024-03-07", "C", 3, 2, 1},
		{"?as_of=2024-03-07&known_at=" + ts(t1), "A", 1, 1, 0},
		{"?as_of=2024-03-07&known_at=" + ts(t2), "C", 3, 2, 1},
		{"?as_of=2024-03-10&known_at=" + ts(t2), "B", 3, 3, 2},
		{"?as_of=2024-03-04&known_at=" + ts(t3), "A", 1, 1, 0},
	} {
		s := a.state(p, c.query)
		if len(s.Goals) != 1 || s.Goals[0] != c.goals || s.Version != c.version || s.GoalChanges != c.changes {
			t.Errorf("GET %s: goals %q version %d changes %d, want %s %d %d", c.query, s.Goals, s.Version, s.GoalChanges, c.goals, c.version, c.changes)
		}
		h := a.history(p, c.query)
		if len(h.Items) != c.items {
			t.Errorf("GET history%s: %d items, want %d", c.query, len(h.Items), c.items)
		}
	}

	// As known before the correction, B is not marked; from then on it is.
	h := a.history(p, "?known_at="+ts(t2))
	if h.Items[1].CorrectedBy != nil {
		t.Errorf("known_at before the correction: B is marked corrected")
	}
	h = a.history(p, "")
	cb := h.Items[1].CorrectedBy
	if cb == nil || cb.EventID != correction || !cb.Retracted || cb.RecordedAt != t3.Format(time.RFC3339Nano) {
		t.Errorf("B corrected_by = %+v, want retracted by %s at %s", cb, correction, t3.Format(time.RFC3339Nano))
	}
	if h.Items[3].Type != "EntryCorrected" || h.Items[3].OccurredAt != t3.Format(time.RFC3339Nano) {
		t.Errorf("correction item = %s occurred %s, want EntryCorrected occurring when recorded (%s)", h.Items[3].Type, h.Items[3].OccurredAt, t3.Format(time.RFC3339Nano))
	}

	// Before anything was recorded the partnership is unknown.
	for _, q := range []string{"?known_at=" + ts(t0.Add(-time.Second)), "?known_at=2024-05-31", "?as_of=2024-06-01&known_at=2024-05-31"} {
		wantProblem(t, a.do("GET", p.path+q, nil), http.StatusNotFound, typeNotFound)
		wantProblem(t, a.do("GET", p.path+"/history"+q, nil), http.StatusNotFound, typeNotFound)
	}
}

// TestIfMatch checks optimistic concurrency.
func TestIfMatch(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	m := func(title string) obj { return obj{"kind": "meeting", "title": title} }

	r := a.post(p, "/milestones", m("1"), http.StatusOK, "If-Match", `"1"`)
	if etagOf(t, r) != 2 {
		t.Errorf("ETag = %s, want \"2\"", r.Header.Get("ETag"))
	}
	before := a.head()
	r = a.do("POST", p.path+"/milestones", m("stale"), "If-Match", `"1"`)
	wantProblem(t, r, http.StatusPreconditionFailed, typePrecondition)
	if a.head() != before || len(a.history(p, "").Items) != 2 {
		t.Errorf("a stale If-Match wrote an event")
	}
	r = a.do("POST", p.path+"/milestones", m("ahead"), "If-Match", `"3"`)
	wantProblem(t, r, http.StatusPreconditionFailed, typePrecondition)
	a.post(p, "/milestones", m("any"), http.StatusOK, "If-Match", `*`)
	// A refused rule under a matching If-Match is still a 409.
	r = a.do("POST", p.path+"/resume", obj{"reason": "r"}, "If-Match", `"3"`)
	wantProblem(t, r, http.StatusConflict, typeRule)
	if got := len(a.history(p, "").Items); got != 3 {
		t.Errorf("history has %d items, want 3", got)
	}
}

// TestIfMatchRace sends one command at one version from many clients:
// exactly one wins, the others get 412, one event is written.
func TestIfMatchRace(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := doRequest(t, a.srv.URL, "POST", p.path+"/milestones", obj{"kind": "meeting", "title": fmt.Sprint("Møte ", i)}, "If-Match", `"1"`)
			statuses[i] = r.Status
		})
	}
	wg.Wait()
	slices.Sort(statuses)
	want := append([]int{http.StatusOK}, slices.Repeat([]int{http.StatusPreconditionFailed}, n-1)...)
	if !slices.Equal(statuses, want) {
		t.Errorf("statuses = %v, want one 200 and %d × 412", statuses, n-1)
	}
	if got := len(a.history(p, "").Items); got != 2 {
		t.Errorf("history has %d items, want 2", got)
	}
}

// TestConcurrentCommandsWithoutIfMatch checks that unpinned commands that
// race are re-decided, not refused: all succeed at distinct versions. A
// client loses at most once per other client, so six clients cannot
// exhaust the service's retries (at least five).
func TestConcurrentCommandsWithoutIfMatch(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	const n = 6
	versions := make([]uint64, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r := doRequest(t, a.srv.URL, "POST", p.path+"/milestones", obj{"kind": "meeting", "title": fmt.Sprint("Møte ", i)})
			if r.Status != http.StatusOK {
				t.Errorf("client %d: status %d: %s", i, r.Status, r.Body)
				return
			}
			versions[i] = etagOf(t, r)
		})
	}
	wg.Wait()
	slices.Sort(versions)
	if !slices.Equal(versions, []uint64{2, 3, 4, 5, 6, 7}) {
		t.Errorf("versions = %v, want 2..7", versions)
	}
}

// TestIdempotency checks replays, reuse with another request, and that a
// refused request does not use up its key.
func TestIdempotency(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)

	// Initiation.
	first := a.do("POST", "/api/v1/partnerships", initiateBody(), "Idempotency-Key", "init-1")
	wantStatus(t, first, http.StatusCreated)
	head := a.head()
	again := a.do("POST", "/api/v1/partnerships", initiateBody(), "Idempotency-Key", "init-1")
	wantReplay(t, first, again)
	if a.head() != head {
		t.Errorf("a replayed initiation wrote events")
	}
	s := decodeBody[stateBody](t, first)
	p := ptn{ID: s.ID, path: "/api/v1/partnerships/" + s.ID}

	// A command, replayed after the partnership has moved on: the answer is
	// still the first one.
	body := obj{"kind": "meeting", "title": "Møte", "occurred_at": "2024-04-01"}
	first = a.post(p, "/milestones", body, http.StatusOK, "Idempotency-Key", "cmd-1", "If-Match", `"1"`)
	a.post(p, "/milestones", obj{"kind": "media", "title": "Avis"}, http.StatusOK)
	head = a.head()
	again = a.do("POST", p.path+"/milestones", body, "Idempotency-Key", "cmd-1", "If-Match", `"1"`)
	wantReplay(t, first, again)
	if etagOf(t, again) != 2 {
		t.Errorf("replayed ETag = %s, want the first answer's \"2\"", again.Header.Get("ETag"))
	}
	if a.head() != head {
		t.Errorf("a replayed command wrote events")
	}
	h := a.history(p, "")
	if got := h.Items[1].Metadata["idempotency_key"]; got != "cmd-1" {
		t.Errorf("metadata idempotency_key = %v, want cmd-1", got)
	}

	// The same key with another body, path or partnership is a 422.
	other := a.newPartnership()
	head = a.head()
	for _, c := range []struct {
		name, path string
		body       any
	}{
		{"other body", p.path + "/milestones", with(body, "title", "Annet møte")},
		{"same body, other spacing", p.path + "/milestones", `{"kind":"meeting",  "title":"Møte","occurred_at":"2024-04-01"}`},
		{"other endpoint", p.path + "/pause", obj{"reason": "r"}},
		{"other partnership", other.path + "/milestones", body},
		{"initiation key on a command", p.path + "/milestones", body},
	} {
		key := "cmd-1"
		if c.name == "initiation key on a command" {
			key = "init-1"
		}
		r := a.do("POST", c.path, c.body, "Idempotency-Key", key)
		wantProblem(t, r, http.StatusUnprocessableEntity, typeIdempotency)
	}
	if a.head() != head {
		t.Errorf("reused keys wrote events")
	}

	// A refused request does not use up its key.
	wantProblem(t, a.do("POST", p.path+"/resume", obj{"reason": "r"}, "Idempotency-Key", "k-409"), http.StatusConflict, typeRule)
	wantProblem(t, a.do("POST", p.path+"/pause", obj{"reason": ""}, "Idempotency-Key", "k-409"), http.StatusBadRequest, typeValidation)
	a.post(p, "/pause", obj{"reason": "r"}, http.StatusOK, "Idempotency-Key", "k-409")

	// Keys are opaque: up to 128 visible characters.
	long := strings.Repeat("~", 128)
	first = a.post(p, "/resume", obj{"reason": "r"}, http.StatusOK, "Idempotency-Key", long)
	wantReplay(t, first, a.do("POST", p.path+"/resume", obj{"reason": "r"}, "Idempotency-Key", long))
}

// wantReplay checks that again repeats first: status, body byte for byte,
// ETag, position and Location, marked Idempotent-Replayed.
func wantReplay(t *testing.T, first, again response) {
	t.Helper()
	if again.Status != first.Status || !bytes.Equal(again.Body, first.Body) {
		t.Errorf("replay = %d %s\nwant %d %s", again.Status, again.Body, first.Status, first.Body)
	}
	for _, h := range []string{"ETag", "X-Samspill-Position", "Location"} {
		if again.Header.Get(h) != first.Header.Get(h) {
			t.Errorf("replay %s = %q, want %q", h, again.Header.Get(h), first.Header.Get(h))
		}
	}
	if got := again.Header.Get("Idempotent-Replayed"); got != "true" {
		t.Errorf("replay Idempotent-Replayed = %q, want true", got)
	}
}

// TestIdempotencyConcurrent sends identical requests with one key at once:
// exactly one event is written and every answer is the same.
func TestIdempotencyConcurrent(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name   string
		status int
		path   func(p ptn) string
		body   obj
	}{
		{"initiate", http.StatusCreated, func(ptn) string { return "/api/v1/partnerships" }, initiateBody()},
		{"milestone", http.StatusOK, func(p ptn) string { return p.path + "/milestones" }, obj{"kind": "meeting", "title": "Møte"}},
		{"pause", http.StatusOK, func(p ptn) string { return p.path + "/pause" }, obj{"reason": "Ferie"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := newTestAPI(t)
			p := a.newPartnership()
			head := a.head()
			const n = 8
			answers := make([]response, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					answers[i] = doRequest(t, a.srv.URL, "POST", c.path(p), c.body, "Idempotency-Key", "same-key")
				})
			}
			close(start)
			wg.Wait()
			if got := a.head(); got != head+1 {
				t.Errorf("head moved by %d, want exactly one event", got-head)
			}
			fresh := 0
			for i, r := range answers {
				if r.Status != c.status || !bytes.Equal(r.Body, answers[0].Body) ||
					r.Header.Get("ETag") != answers[0].Header.Get("ETag") ||
					r.Header.Get("X-Samspill-Position") != answers[0].Header.Get("X-Samspill-Position") ||
					r.Header.Get("Location") != answers[0].Header.Get("Location") {
					t.Errorf("answer %d = %d %v %s\ndiffers from answer 0 = %d %v %s", i, r.Status, r.Header, r.Body, answers[0].Status, answers[0].Header, answers[0].Body)
				}
				if r.Header.Get("Idempotent-Replayed") == "" {
					fresh++
				}
			}
			if fresh != 1 {
				t.Errorf("%d answers are not marked replayed, want exactly 1", fresh)
			}
		})
	}
}

// TestCorrections retracts and replaces events and checks the state and the
// marks in the history, and refuses corrections that would make the
// history invalid.
func TestCorrections(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	// v2
	a.post(p, "/goals", obj{"goals": []any{"Nytt mål"}, "reason": "r", "occurred_at": "2024-03-02"}, http.StatusOK)
	goals := a.lastEventID(p)
	// v3
	a.post(p, "/funding", obj{"amount_nok": 1000, "source": "Fond", "period_from": "2024-01-01", "period_until": "2024-12-31", "occurred_at": "2024-03-03"}, http.StatusOK)
	funding := a.lastEventID(p)
	// v4
	a.post(p, "/partners", obj{"partner": obj{"partner_id": "idrett", "name": "Tøyen IL", "kind": "voluntary_organisation"}, "occurred_at": "2024-03-04"}, http.StatusOK)
	joined := a.lastEventID(p)
	// v5
	a.post(p, "/roles", obj{"roles": []any{obj{"partner_id": "idrett", "role": "host"}}, "occurred_at": "2024-03-05"}, http.StatusOK)
	// v6
	a.post(p, "/pause", obj{"reason": "r", "occurred_at": "2024-03-06"}, http.StatusOK)
	paused := a.lastEventID(p)
	// v7
	a.post(p, "/resume", obj{"reason": "r", "occurred_at": "2024-03-07"}, http.StatusOK)
	initiated := a.history(p, "").Items[0].EventID

	// Retract the goal change.
	// v8
	r := a.post(p, "/corrections", obj{"corrected_event_id": goals, "reason": "Feilregistrert"}, http.StatusOK)
	s := decodeBody[stateBody](t, r)
	if !slices.Equal(s.Goals, []string{"Flere møteplasser"}) || s.GoalChanges != 0 || s.Version != 8 || etagOf(t, r) != 8 {
		t.Errorf("after retracting the goal change: goals %q changes %d version %d", s.Goals, s.GoalChanges, s.Version)
	}
	retraction := a.lastEventID(p)

	// Replace the funding amount, twice: the latest correction is in force.
	// v9
	a.post(p, "/corrections", obj{"corrected_event_id": funding, "reason": "Feil beløp", "replacement": obj{"amount_nok": 2500, "source": "Fond", "period_from": "2024-01-01", "period_until": "2024-12-31"}}, http.StatusOK)
	// v10
	r = a.post(p, "/corrections", obj{"corrected_event_id": funding, "reason": "Fortsatt feil", "replacement": obj{"amount_nok": 3000, "source": "Fond", "period_from": "2024-01-01", "period_until": "2024-12-31"}}, http.StatusOK)
	replacement := a.lastEventID(p)
	if s := decodeBody[stateBody](t, r); s.FundingTotalNOK != 3000 {
		t.Errorf("funding_total_nok = %d, want the replacement's 3000", s.FundingTotalNOK)
	}

	// Replace the initiation's title: the id is kept.
	body := initiateBody()
	delete(body, "occurred_at")
	body["title"] = "Møteplass Tøyen og Grønland"
	// v11
	r = a.post(p, "/corrections", obj{"corrected_event_id": initiated, "reason": "Navnet", "replacement": body}, http.StatusOK)
	if s := decodeBody[stateBody](t, r); s.Title != "Møteplass Tøyen og Grønland" || s.ID != p.ID {
		t.Errorf("after replacing the initiation: title %q id %q", s.Title, s.ID)
	}

	h := a.history(p, "")
	if len(h.Items) != 11 {
		t.Fatalf("history has %d items, want 11 (corrected events are kept)", len(h.Items))
	}
	marks := map[string]string{}
	for _, it := range h.Items {
		if it.CorrectedBy != nil {
			marks[it.EventID] = fmt.Sprintf("%s/%v", it.CorrectedBy.EventID, it.CorrectedBy.Retracted)
		}
	}
	wantMarks := map[string]string{goals: retraction + "/true", funding: replacement + "/false", initiated: h.Items[10].EventID + "/false"}
	if !mapsEqual(marks, wantMarks) {
		t.Errorf("corrected_by marks = %v, want %v", marks, wantMarks)
	}

	// Corrections that would make the history invalid, or that point at
	// nothing correctable, are refused and write nothing.
	for _, c := range []struct {
		name string
		body obj
	}{
		{"retract the pause before a resume", obj{"corrected_event_id": paused, "reason": "r"}},
		{"retract a partner named in roles", obj{"corrected_event_id": joined, "reason": "r"}},
		{"replace the joined partner with another id", obj{"corrected_event_id": joined, "reason": "r", "replacement": obj{"partner": obj{"partner_id": "annet", "name": "Annet", "kind": "other"}}}},
		{"retract the initiation", obj{"corrected_event_id": initiated, "reason": "r"}},
		{"replace the initiation without external partners", obj{"corrected_event_id": initiated, "reason": "r", "replacement": with(body, "partners", []any{obj{"partner_id": "kommune", "name": "Bydel", "kind": "municipal_unit"}})}},
		{"correct a correction", obj{"corrected_event_id": retraction, "reason": "r"}},
		{"unknown event", obj{"corrected_event_id": uuid.NewString(), "reason": "r"}},
		{"another partnership's event", obj{"corrected_event_id": a.history(a.newPartnership(), "").Items[0].EventID, "reason": "r"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := a.bind(t)
			head := a.head()
			r := a.do("POST", p.path+"/corrections", c.body)
			if c.name == "replace the initiation without external partners" {
				// Invalid payload: a 400 naming the replacement's field.
				pr := wantProblem(t, r, http.StatusBadRequest, typeValidation)
				if !pr.hasField("replacement.partners", false) {
					t.Errorf("errors %q do not name replacement.partners", pr.fields())
				}
			} else {
				wantProblem(t, r, http.StatusConflict, typeRule)
			}
			if a.head() != head {
				t.Errorf("a refused correction wrote events")
			}
		})
	}
	if got := len(a.history(p, "").Items); got != 11 {
		t.Errorf("history has %d items after refused corrections, want 11", got)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestCorrectionAfterEnd: after the end only corrections are possible; a
// correction that retracts the end makes the partnership active again.
func TestCorrectionAfterEnd(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	a.post(p, "/end", obj{"reason": "dissolved", "occurred_at": "2024-05-01"}, http.StatusOK)
	ended := a.lastEventID(p)
	wantProblem(t, a.do("POST", p.path+"/milestones", obj{"kind": "meeting", "title": "Møte"}), http.StatusConflict, typeRule)
	r := a.post(p, "/corrections", obj{"corrected_event_id": ended, "reason": "Ble ikke avsluttet"}, http.StatusOK)
	if s := decodeBody[stateBody](t, r); s.Status != "active" || s.EndedAt != nil || s.EndReason != nil {
		t.Errorf("after retracting the end: %s %v %v", s.Status, s.EndedAt, s.EndReason)
	}
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Møte"}, http.StatusOK)
}

// TestRoutesAndOperations covers the routes that are not commands or
// partnership reads, and the problems for unknown routes and methods.
func TestRoutesAndOperations(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	r := a.do("GET", "/api/v1/openapi.json", nil)
	wantStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.Body, openAPIDocument) || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Errorf("GET /api/v1/openapi.json does not serve the document as JSON")
	}
	r = a.do("GET", "/healthz", nil)
	wantStatus(t, r, http.StatusOK)
	if b := decodeBody[obj](t, r); b["status"] != "ok" {
		t.Errorf("healthz = %s", r.Body)
	}
	a.newPartnership()
	r = a.do("GET", "/readyz", nil)
	wantStatus(t, r, http.StatusOK)
	if b := decodeBody[obj](t, r); b["status"] != "ready" || !jsonEqual(b["store"], obj{"head": 1}) {
		t.Errorf("readyz = %s", r.Body)
	}
	wantProblem(t, a.do("GET", "/api/v1/nothing", nil), http.StatusNotFound, typeNotFound)
	p := wantProblem(t, a.do("DELETE", "/api/v1/partnerships/"+uuid.NewString(), nil), http.StatusMethodNotAllowed, "")
	if p.Title != "Method not allowed" {
		t.Errorf("405 title = %q", p.Title)
	}
}

// TestStoreUnavailable closes the store under the server: commands, reads
// and readyz answer 503 with Retry-After.
func TestStoreUnavailable(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	p := a.newPartnership()
	if err := a.store.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/partnerships", initiateBody()},
		{"POST", p.path + "/milestones", obj{"kind": "meeting", "title": "Møte"}},
		{"GET", p.path, nil},
		{"GET", p.path + "/history", nil},
		{"GET", "/readyz", nil},
	} {
		r := a.do(c.method, c.path, c.body)
		wantProblem(t, r, http.StatusServiceUnavailable, typeUnavailable)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", c.method, c.path)
		}
	}
}

// TestMunicipalityValidOnOccurredAt checks that the code is judged on the
// date the partnership began, kept as given, and mapped to today's code.
func TestMunicipalityValidOnOccurredAt(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	for _, c := range []struct{ code, occurredAt, current string }{
		{"1702", "2016-05-01", "5006"}, // Steinkjer before the Trøndelag merger
		{"1702", "2017-12-31", "5006"},
		{"5006", "2020-06-01", "5006"},
		{"0906", "2019-12-31", "4203"}, // Arendal before 2020
		{"0301", "2024-03-01", "0301"},
	} {
		body := with(with(initiateBody(), "municipality", c.code), "occurred_at", c.occurredAt)
		r := a.do("POST", "/api/v1/partnerships", body)
		if r.Status != http.StatusCreated {
			t.Errorf("%s on %s: status %d: %s", c.code, c.occurredAt, r.Status, r.Body)
			continue
		}
		s := decodeBody[stateBody](t, r)
		if s.Municipality != c.code || s.CurrentMunicipality != c.current {
			t.Errorf("%s on %s: municipality %s current %s, want %s %s", c.code, c.occurredAt, s.Municipality, s.CurrentMunicipality, c.code, c.current)
		}
	}
}

// TestFieldErrorsCarryTheirCode: a field error found by the domain's rules
// names what is wrong in a stable code beside its English message.
func TestFieldErrorsCarryTheirCode(t *testing.T) {
	t.Parallel()
	a := newTestAPI(t)
	body := with(with(initiateBody(), "municipality", "1702"), "occurred_at", "2021-03-01")
	body = with(body, "service_area", "sailing")
	p := wantProblem(t, a.do("POST", "/api/v1/partnerships", body), http.StatusBadRequest, "urn:samspill:problem:validation")
	codes := map[string]string{}
	for _, e := range p.Errors {
		codes[e.Field] = e.Code
	}
	if codes["municipality"] != "kommune_not_valid_on" || codes["service_area"] != "not_in_list" {
		t.Errorf("codes %v, want municipality kommune_not_valid_on and service_area not_in_list", codes)
	}
}

func TestSecurityHeadersAndNoCORS(t *testing.T) {
	a := newTestAPI(t)
	for _, path := range []string{"/api/v1/partnerships", "/healthz", "/api/v1/nothing"} {
		r := a.do(http.MethodGet, path, nil, "Origin", "https://elsewhere.example")
		for name, want := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"} {
			if got := r.Header.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", path, name, got, want)
			}
		}
		if v := r.Header.Get("Access-Control-Allow-Origin"); v != "" {
			t.Errorf("%s: CORS header %q", path, v)
		}
	}
	pre := a.do(http.MethodOptions, "/api/v1/partnerships", nil, "Origin", "https://elsewhere.example", "Access-Control-Request-Method", "POST")
	if pre.Header.Get("Access-Control-Allow-Origin") != "" || pre.Header.Get("Access-Control-Allow-Methods") != "" {
		t.Errorf("a CORS preflight was answered: %v", pre.Header)
	}
	// Errors carry no internals.
	r := a.do(http.MethodGet, "/api/v1/partnerships", nil, "Authorization", "Bearer nonsense")
	if r.Status != http.StatusUnauthorized || r.Header.Get("WWW-Authenticate") == "" || strings.Contains(string(r.Body), "sql") {
		t.Errorf("bad token: %d %v %s", r.Status, r.Header, r.Body)
	}
}
