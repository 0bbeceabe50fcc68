package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/samspill/samspill/auth"
	authsqlite "github.com/samspill/samspill/auth/sqlite"
)

// steinkjerBody initiates a partnership in Steinkjer (5006).
var steinkjerBody = strings.Replace(initiateBody, `"municipality":"4203"`, `"municipality":"5006"`, 1)

// addToken makes one more token in the site's token store.
func (s *testSite) addToken(t *testing.T, who string, spec auth.Spec) {
	t.Helper()
	tokens, err := authsqlite.Open(context.Background(), filepath.Join(s.dir, tokensFile))
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()
	if s.tokens[who], err = tokens.Create(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
}

// initiationOf turns an initiation request body into the payload of the
// partnership's PartnershipInitiated (a correction's replacement).
func initiationOf(body, id string) string {
	return strings.Replace(body, `"occurred_at":"2024-03-01"`, `"partnership_id":"`+id+`"`, 1)
}

// historyItem is an event of a partnership's history as a client reads it.
type historyItem struct {
	EventID string          `json:"event_id"`
	Type    string          `json:"type"`
	Data    json.RawMessage `json:"data"`
}

// historyOf returns the partnership's events as the admin reads them.
func (s *testSite) historyOf(t *testing.T, id string) []historyItem {
	t.Helper()
	status, body := s.call(t, admin, http.MethodGet, "/api/v1/partnerships/"+id+"/history", "", "")
	if status != http.StatusOK {
		t.Fatalf("history: %d %s", status, body)
	}
	var h struct{ Items []historyItem }
	if err := json.Unmarshal([]byte(body), &h); err != nil {
		t.Fatal(err)
	}
	return h.Items
}

// TestScopeIsJudgedOnTheEffect sends every command as a coordinator of
// Arendal whose result lies outside Arendal: each is refused with 403 and
// writes nothing. A correction of the initiation that would move an
// Arendal partnership to Steinkjer (where Steinkjer's coordinators would
// then read its contact persons) is the hole this closes; a coordinator of
// both municipalities may make that move.
func TestScopeIsJudgedOnTheEffect(t *testing.T) {
	s := newTestSite(t)
	s.addToken(t, "both", auth.Spec{Name: "both", Role: auth.RoleCoordinator, Municipalities: []string{"4203", "5006"}})
	status, body := s.call(t, admin, http.MethodPost, "/api/v1/partnerships", "application/json", steinkjerBody)
	if status != http.StatusCreated {
		t.Fatalf("initiate in Steinkjer: %d %s", status, body)
	}
	var st struct {
		ID       string
		Partners []struct {
			PartnerID string `json:"partner_id"`
		}
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	steinkjer, partner := st.ID, st.Partners[0].PartnerID
	first := s.historyOf(t, steinkjer)[0].EventID

	// Every command on a Steinkjer partnership: its result is in
	// Steinkjer whatever it does.
	for _, c := range []struct{ path, body string }{
		{"/partners", `{"partner":{"name":"Idrettslaget","kind":"voluntary_organisation"}}`},
		{"/partners/" + partner + "/leave", `{"reason":"flytter"}`},
		{"/roles", `{"roles":[{"partner_id":"` + partner + `","role":"lead","responsibilities":[]}]}`},
		{"/goals", `{"goals":["Et nytt mål"],"reason":"revisjon"}`},
		{"/agreements", `{"agreement_type":"letter_of_intent","valid_from":"2024-03-01","reference":"sak 1"}`},
		{"/funding", `{"amount_nok":1000,"source":"tilskudd","period_from":"2024-03-01","period_until":"2024-12-31"}`},
		{"/anchoring", `{"level":"political","note":""}`},
		{"/milestones", `{"kind":"meeting","title":"Møte","note":""}`},
		{"/contacts", `{"partner_id":"` + partner + `","name":"Ola","email":"","phone":"+47 400 00 000"}`},
		{"/pause", `{"reason":"pause"}`},
		{"/resume", `{"reason":"videre"}`},
		{"/end", `{"reason":"completed","outcome":"ferdig"}`},
		// A replacement that would move it into Arendal, and a retraction.
		{"/corrections", `{"corrected_event_id":"` + first + `","reason":"feil","replacement":` + initiationOf(initiateBody, steinkjer) + `}`},
		{"/corrections", `{"corrected_event_id":"` + first + `","reason":"feil"}`},
	} {
		status, body := s.call(t, inScope, http.MethodPost, "/api/v1/partnerships/"+steinkjer+c.path, "application/json", c.body)
		if status != http.StatusForbidden {
			t.Errorf("POST %s on a Steinkjer partnership as Arendal's coordinator: %d %s, want 403", c.path, status, body)
		}
	}
	if n := len(s.historyOf(t, steinkjer)); n != 1 {
		t.Fatalf("the refused commands wrote: the history has %d events, want 1", n)
	}
	if status, body := s.call(t, inScope, http.MethodPost, "/api/v1/partnerships", "application/json", steinkjerBody); status != http.StatusForbidden {
		t.Errorf("initiate in Steinkjer as Arendal's coordinator: %d %s, want 403", status, body)
	}

	// A correction that moves an Arendal partnership to Steinkjer.
	status, body = s.call(t, inScope, http.MethodPost, "/api/v1/partnerships", "application/json", initiateBody)
	if status != http.StatusCreated {
		t.Fatalf("initiate in Arendal: %d %s", status, body)
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil {
		t.Fatal(err)
	}
	arendal := st.ID
	initiation := s.historyOf(t, arendal)[0]
	replacement := strings.Replace(string(initiation.Data), `"municipality":"4203"`, `"municipality":"5006"`, 1)
	move := `{"corrected_event_id":"` + initiation.EventID + `","reason":"feil kommune","replacement":` + replacement + `}`
	for _, who := range []string{inScope, outOfScope} {
		if status, body := s.call(t, who, http.MethodPost, "/api/v1/partnerships/"+arendal+"/corrections", "application/json", move); status != http.StatusForbidden {
			t.Errorf("move Arendal → Steinkjer as %s: %d %s, want 403", who, status, body)
		}
	}
	if n := len(s.historyOf(t, arendal)); n != 1 {
		t.Fatalf("the refused move wrote: the history has %d events, want 1", n)
	}
	if status, body := s.call(t, "both", http.MethodPost, "/api/v1/partnerships/"+arendal+"/corrections", "application/json", move); status != http.StatusOK ||
		!strings.Contains(body, `"current_municipality":"5006"`) {
		t.Fatalf("move Arendal → Steinkjer as a coordinator of both: %d %s", status, body)
	}
	// Now in Steinkjer: Arendal's coordinator may neither write to it nor
	// move it back.
	back := strings.Replace(move, `"municipality":"5006"`, `"municipality":"4203"`, 1)
	if status, body := s.call(t, inScope, http.MethodPost, "/api/v1/partnerships/"+arendal+"/corrections", "application/json", back); status != http.StatusForbidden {
		t.Errorf("move back as Arendal's coordinator: %d %s, want 403", status, body)
	}
}
