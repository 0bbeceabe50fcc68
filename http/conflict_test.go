package http

import (
	"net/http"
	"testing"
)

// conflictCase is a valid command that a domain rule refuses.
type conflictCase struct {
	name string
	// setup brings a new standard partnership into the state the rule
	// refuses in.
	setup func(a *testAPI, p ptn)
	sub   string
	body  obj
}

// TestConflicts checks that each domain rule is a 409 rule-refused problem
// and that nothing is written.
func TestConflicts(t *testing.T) {
	t.Parallel()
	pause := func(a *testAPI, p ptn) {
		a.t.Helper()
		a.post(p, "/pause", obj{"reason": "Ferie", "occurred_at": "2024-04-10"}, http.StatusOK)
	}
	end := func(a *testAPI, p ptn) {
		a.t.Helper()
		a.post(p, "/end", obj{"reason": "completed", "occurred_at": "2024-05-01"}, http.StatusOK)
	}
	join := func(a *testAPI, p ptn) {
		a.t.Helper()
		a.post(p, "/partners", obj{"partner": obj{"partner_id": "idrett", "name": "Tøyen IL", "kind": "voluntary_organisation", "org_no": orgIdrett}, "occurred_at": "2024-03-02"}, http.StatusOK)
	}
	cases := []conflictCase{
		{name: "pause when paused", setup: pause, sub: "/pause", body: obj{"reason": "Igjen", "occurred_at": "2024-04-11"}},
		{name: "resume when active", sub: "/resume", body: obj{"reason": "Tilbake"}},
		{name: "resume twice", setup: func(a *testAPI, p ptn) {
			pause(a, p)
			a.post(p, "/resume", obj{"reason": "Tilbake", "occurred_at": "2024-04-20"}, http.StatusOK)
		}, sub: "/resume", body: obj{"reason": "Igjen", "occurred_at": "2024-04-21"}},
		{name: "pause logged late into a pause", setup: func(a *testAPI, p ptn) {
			pause(a, p)
			a.post(p, "/resume", obj{"reason": "Tilbake", "occurred_at": "2024-04-20"}, http.StatusOK)
		}, sub: "/pause", body: obj{"reason": "Midt i", "occurred_at": "2024-04-15"}},
		{name: "resume logged late before the pause", setup: pause, sub: "/resume", body: obj{"reason": "Før", "occurred_at": "2024-04-05"}},
		{name: "pause logged late before a later pause", setup: pause, sub: "/pause", body: obj{"reason": "Før", "occurred_at": "2024-04-05"}},
		{name: "end twice", setup: end, sub: "/end", body: obj{"reason": "other"}},
		{name: "second partner with the same org_no", sub: "/partners", body: obj{"partner": obj{"name": "Samme lag", "kind": "voluntary_organisation", "org_no": orgLag}}},
		{name: "second partner with the same org_no, grouped", sub: "/partners", body: obj{"partner": obj{"name": "Samme lag", "kind": "voluntary_organisation", "org_no": "974 760 673"}}},
		{name: "second partner with the same partner_id", sub: "/partners", body: obj{"partner": obj{"partner_id": "lag", "name": "Annet lag", "kind": "other"}}},
		{name: "last external partner leaving", sub: "/partners/lag/leave", body: obj{"reason": "Trekker seg"}},
		{name: "last external partner leaving after the other left", setup: func(a *testAPI, p ptn) {
			join(a, p)
			a.post(p, "/partners/idrett/leave", obj{"reason": "Slutt", "occurred_at": "2024-03-03"}, http.StatusOK)
		}, sub: "/partners/lag/leave", body: obj{"reason": "Trekker seg"}},
		{name: "inactive partner leaving", sub: "/partners/ukjent/leave", body: obj{"reason": "Trekker seg"}},
		{name: "partner leaving twice", setup: func(a *testAPI, p ptn) {
			a.post(p, "/partners/kommune/leave", obj{"reason": "Slutt", "occurred_at": "2024-03-03"}, http.StatusOK)
		}, sub: "/partners/kommune/leave", body: obj{"reason": "Igjen"}},
		{name: "partner leaving before joining", setup: join, sub: "/partners/idrett/leave", body: obj{"reason": "Før", "occurred_at": "2024-03-01T12:00:00+01:00"}},
		{name: "goals unchanged", sub: "/goals", body: obj{"goals": []any{"Flere møteplasser"}, "reason": "Samme"}},
		{name: "goals unchanged after a change", setup: func(a *testAPI, p ptn) {
			a.post(p, "/goals", obj{"goals": []any{"A", "B"}, "reason": "Ny", "occurred_at": "2024-03-02"}, http.StatusOK)
		}, sub: "/goals", body: obj{"goals": []any{"A", "B"}, "reason": "Samme"}},
		{name: "anchoring unchanged (none)", sub: "/anchoring", body: obj{"level": "none"}},
		{name: "anchoring unchanged", setup: func(a *testAPI, p ptn) {
			a.post(p, "/anchoring", obj{"level": "service_unit", "occurred_at": "2024-03-02"}, http.StatusOK)
		}, sub: "/anchoring", body: obj{"level": "service_unit", "note": "Igjen"}},
		{name: "collaboration model unchanged (the initiation's)", sub: "/collaboration-model", body: obj{"collaboration_model": "co_governance", "reason": "Samme"}},
		{name: "collaboration model unchanged after a change", setup: func(a *testAPI, p ptn) {
			a.post(p, "/collaboration-model", obj{"collaboration_model": "network", "reason": "Nettverk", "occurred_at": "2024-03-02"}, http.StatusOK)
		}, sub: "/collaboration-model", body: obj{"collaboration_model": "network", "reason": "Igjen"}},
		{name: "roles naming an inactive partner", sub: "/roles", body: obj{"roles": []any{obj{"partner_id": "lag", "role": "lead"}, obj{"partner_id": "ukjent", "role": "host"}}}},
		{name: "roles naming a partner who left", setup: func(a *testAPI, p ptn) {
			a.post(p, "/partners/kommune/leave", obj{"reason": "Slutt", "occurred_at": "2024-03-03"}, http.StatusOK)
		}, sub: "/roles", body: obj{"roles": []any{obj{"partner_id": "kommune", "role": "funder"}}}},
		{name: "roles naming a partner before they joined", setup: join, sub: "/roles", body: obj{"roles": []any{obj{"partner_id": "idrett", "role": "host"}}, "occurred_at": "2024-03-01T12:00:00+01:00"}},
		{name: "contact for an inactive partner", sub: "/contacts", body: obj{"partner_id": "ukjent", "name": "Kari", "email": "kari@example.no"}},
	}
	// After the end, every command but a correction is refused.
	for _, e := range commandEndpoints() {
		if e.name == "initiate" || e.name == "corrections" {
			continue
		}
		body := e.body(fixture{})
		body["occurred_at"] = "2024-05-02"
		cases = append(cases, conflictCase{name: "after end: " + e.name, setup: end, sub: e.sub, body: body})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			a := newTestAPI(t)
			p := a.newPartnership()
			if c.setup != nil {
				c.setup(a, p)
			}
			before := a.head()
			beforeState := a.do("GET", p.path, nil).Body
			r := a.do("POST", p.path+c.sub, c.body)
			var failures []string
			if r.Status != http.StatusConflict {
				failures = append(failures, "status "+http.StatusText(r.Status)+": "+string(r.Body))
			}
			if a.head() != before {
				failures = append(failures, "the refused command wrote an event")
			}
			for _, f := range failures {
				t.Error(f)
			}
			if len(failures) > 0 {
				return
			}
			wantProblem(t, r, http.StatusConflict, typeRule)
			if after := a.do("GET", p.path, nil).Body; string(after) != string(beforeState) {
				t.Errorf("state changed:\n%s\n%s", beforeState, after)
			}
		})
	}
}
