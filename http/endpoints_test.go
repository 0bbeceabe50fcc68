package http

import (
	"net/http"
	"testing"
)

// endpoint is a command endpoint with a valid body: setup prepares a
// partnership on which body is accepted, so that tests can break one thing
// at a time.
type endpoint struct {
	name   string
	method string
	// route is the gin route, sub the path below /api/v1/partnerships/{id}
	// ("" for the initiation, which has no id yet).
	route string
	sub   string
	// status is the success status.
	status int
	setup  func(a *testAPI) fixture
	body   func(fx fixture) obj
}

// fixture is the state an endpoint's body refers to.
type fixture struct {
	p ptn
	// eventID is an event that a correction may correct (a milestone).
	eventID string
}

// path is where the endpoint's request goes for the fixture.
func (e endpoint) path(fx fixture) string {
	if e.sub == "" && e.route == "/api/v1/partnerships" {
		return e.route
	}
	return fx.p.path + e.sub
}

// pathFor is the endpoint's path for another partnership id.
func (e endpoint) pathFor(id string) string { return "/api/v1/partnerships/" + id + e.sub }

func plainSetup(a *testAPI) fixture {
	a.t.Helper()
	return fixture{p: a.newPartnership()}
}

// commandEndpoints lists every command endpoint of Server.Register (the OpenAPI
// test checks that none is missing).
func commandEndpoints() []endpoint {
	return []endpoint{
		{
			name: "initiate", method: "POST", route: "/api/v1/partnerships", status: http.StatusCreated,
			setup: plainSetup,
			body:  func(fixture) obj { return initiateBody() },
		},
		{
			name: "join", method: "POST", route: "/api/v1/partnerships/:id/partners", sub: "/partners", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{
					"partner":     obj{"partner_id": "idrett", "name": "Tøyen IL", "kind": "voluntary_organisation", "org_no": orgIdrett},
					"occurred_at": "2024-04-01",
				}
			},
		},
		{
			name: "leave", method: "POST", route: "/api/v1/partnerships/:id/partners/:partner_id/leave", sub: "/partners/kommune/leave", status: http.StatusOK,
			setup: plainSetup,
			body:  func(fixture) obj { return obj{"reason": "Bydelen trekker seg ut", "occurred_at": "2024-04-02"} },
		},
		{
			name: "roles", method: "POST", route: "/api/v1/partnerships/:id/roles", sub: "/roles", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{
					"roles": []any{
						obj{"partner_id": "lag", "role": "lead", "responsibilities": []any{"Drift av møteplassen"}},
						obj{"partner_id": "kommune", "role": "funder"},
					},
					"occurred_at": "2024-04-03",
				}
			},
		},
		{
			name: "goals", method: "POST", route: "/api/v1/partnerships/:id/goals", sub: "/goals", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{"goals": []any{"Flere møteplasser", "Flere frivillige"}, "reason": "Evaluering", "occurred_at": "2024-04-04"}
			},
		},
		{
			name: "agreements", method: "POST", route: "/api/v1/partnerships/:id/agreements", sub: "/agreements", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{"agreement_type": "cooperation_agreement", "valid_from": "2024-04-01", "valid_until": "2025-03-31", "reference": "SAK 24/123", "occurred_at": "2024-04-05"}
			},
		},
		{
			name: "funding", method: "POST", route: "/api/v1/partnerships/:id/funding", sub: "/funding", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{"amount_nok": 150000, "source": "Tilskudd fra bydelen", "period_from": "2024-01-01", "period_until": "2024-12-31", "occurred_at": "2024-04-06"}
			},
		},
		{
			name: "anchoring", method: "POST", route: "/api/v1/partnerships/:id/anchoring", sub: "/anchoring", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{"level": "political", "note": "Vedtatt i bydelsutvalget", "occurred_at": "2024-04-07"}
			},
		},
		{
			name: "collaboration-model", method: "POST", route: "/api/v1/partnerships/:id/collaboration-model", sub: "/collaboration-model", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{"collaboration_model": "service_contract", "reason": "Bydelen kjøper tjenesten etter anbud", "occurred_at": "2024-04-07"}
			},
		},
		{
			name: "milestones", method: "POST", route: "/api/v1/partnerships/:id/milestones", sub: "/milestones", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{"kind": "meeting", "title": "Oppstartsmøte", "note": "Alle partnere møtte", "occurred_at": "2024-04-08"}
			},
		},
		{
			name: "contacts", method: "POST", route: "/api/v1/partnerships/:id/contacts", sub: "/contacts", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{"partner_id": "lag", "name": "Kari Nordmann", "email": "kari@example.no", "phone": "+47 900 00 000", "occurred_at": "2024-04-09"}
			},
		},
		{
			name: "pause", method: "POST", route: "/api/v1/partnerships/:id/pause", sub: "/pause", status: http.StatusOK,
			setup: plainSetup,
			body:  func(fixture) obj { return obj{"reason": "Sommerferie", "occurred_at": "2024-04-10"} },
		},
		{
			name: "resume", method: "POST", route: "/api/v1/partnerships/:id/resume", sub: "/resume", status: http.StatusOK,
			setup: func(a *testAPI) fixture {
				a.t.Helper()
				fx := plainSetup(a)
				a.post(fx.p, "/pause", obj{"reason": "Sommerferie", "occurred_at": "2024-04-10"}, http.StatusOK)
				return fx
			},
			body: func(fixture) obj { return obj{"reason": "Ferien er over", "occurred_at": "2024-04-20"} },
		},
		{
			name: "end", method: "POST", route: "/api/v1/partnerships/:id/end", sub: "/end", status: http.StatusOK,
			setup: plainSetup,
			body: func(fixture) obj {
				return obj{"reason": "completed", "outcome": "Møteplassen drives videre av laget", "occurred_at": "2024-05-01"}
			},
		},
		{
			name: "corrections", method: "POST", route: "/api/v1/partnerships/:id/corrections", sub: "/corrections", status: http.StatusOK,
			setup: func(a *testAPI) fixture {
				a.t.Helper()
				fx := plainSetup(a)
				a.post(fx.p, "/milestones", obj{"kind": "meeting", "title": "Oppstartsmøte", "occurred_at": "2024-04-08"}, http.StatusOK)
				fx.eventID = a.lastEventID(fx.p)
				return fx
			},
			body: func(fx fixture) obj {
				return obj{
					"corrected_event_id": fx.eventID,
					"reason":             "Feil tittel",
					"replacement":        obj{"kind": "meeting", "title": "Oppstartsmøte med bydelen", "note": ""},
				}
			},
		},
	}
}

// TestCommandEndpointsAccept checks that every fixture body is accepted, so
// that the bad-input cases built from them each break exactly one thing.
func TestCommandEndpointsAccept(t *testing.T) {
	t.Parallel()
	for _, e := range commandEndpoints() {
		t.Run(e.name, func(t *testing.T) {
			t.Parallel()
			a := newTestAPI(t)
			fx := e.setup(a)
			before := a.head()
			r := a.do(e.method, e.path(fx), e.body(fx))
			wantStatus(t, r, e.status)
			if got := a.head(); got != before+1 {
				t.Errorf("head = %d after the command, want %d (one event)", got, before+1)
			}
		})
	}
}
