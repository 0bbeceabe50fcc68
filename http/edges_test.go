package http

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/samspill/samspill/eventstore"
)

// TestAmountsAreBoundedAndTotalsCannotWrap: one funding entry may be at
// most ten billion kroner, and a total over history stored before that
// bound saturates instead of wrapping to a negative number.
func TestAmountsAreBoundedAndTotalsCannotWrap(t *testing.T) {
	a := newTestAPI(t)
	p := a.newPartnership()
	funding := func(amount int64) obj {
		return obj{"amount_nok": amount, "source": "Fond", "period_from": "2024-01-01", "period_until": "2024-12-31", "occurred_at": "2024-04-01"}
	}
	for _, amount := range []int64{math.MaxInt64, 10_000_000_001} {
		pr := wantProblem(t, a.do("POST", p.path+"/funding", funding(amount)), http.StatusBadRequest, typeValidation)
		if !pr.hasField("amount_nok", false) {
			t.Errorf("amount %d: errors %v, want amount_nok", amount, pr.fields())
		}
	}
	a.post(p, "/funding", funding(10_000_000_000), http.StatusOK)
	a.post(p, "/funding", funding(10_000_000_000), http.StatusOK)
	if s := a.state(p, ""); s.FundingTotalNOK != 20_000_000_000 {
		t.Fatalf("funding_total_nok = %d", s.FundingTotalNOK)
	}

	// History written before the bound: two amounts of the largest int64.
	id := uuid.NewString()
	var initiated obj
	if err := json.Unmarshal([]byte(`{"partnership_id":"`+id+`","municipality":"0301","title":"Gammel","description":"","service_area":"culture","collaboration_model":"grant","partners":[{"partner_id":"lag","name":"Lag","kind":"voluntary_organisation"}],"goals":["Mål"]}`), &initiated); err != nil {
		t.Fatal(err)
	}
	raw := func(v any) json.RawMessage {
		b, _ := json.Marshal(v)
		return b
	}
	big := obj{"amount_nok": int64(math.MaxInt64), "source": "Fond", "period_from": "2024-01-01", "period_until": "2024-12-31"}
	var events []eventstore.NewEvent
	for i, e := range []struct {
		typ  string
		data json.RawMessage
	}{{"PartnershipInitiated", raw(initiated)}, {"FundingRecorded", raw(big)}, {"FundingRecorded", raw(big)}} {
		events = append(events, eventstore.NewEvent{EventID: uuid.NewString(), Type: e.typ, SchemaVersion: 1, OccurredAt: testNow.AddDate(0, -1, i), Metadata: eventstore.Metadata{Actor: eventstore.Actor{Subject: "old", Role: "admin"}}, Data: e.data})
	}
	if _, err := a.store.Append(context.Background(), eventstore.AppendRequest{StreamID: "partnership-" + id, Expected: eventstore.NoStream(), Events: events}); err != nil {
		t.Fatal(err)
	}
	if s := a.state(ptn{ID: id, path: "/api/v1/partnerships/" + id}, ""); s.FundingTotalNOK != math.MaxInt64 {
		t.Fatalf("funding_total_nok of two MaxInt64 amounts = %d, want it saturated at %d", s.FundingTotalNOK, int64(math.MaxInt64))
	}
}

// TestAZeroTimeIsAValue: 0001-01-01T00:00:00Z given as occurred_at, as_of,
// known_at or a timeline bound is judged as that instant, never taken for
// "not given".
func TestAZeroTimeIsAValue(t *testing.T) {
	a := newTestAPI(t)
	p := a.newPartnership()
	const zero = "0001-01-01T00:00:00Z"
	pr := wantProblem(t, a.do("POST", p.path+"/milestones", obj{"kind": "meeting", "title": "Møte", "note": "", "occurred_at": zero}), http.StatusBadRequest, typeValidation)
	if !pr.hasField("occurred_at", false) {
		t.Errorf("occurred_at %s: errors %v, want occurred_at", zero, pr.fields())
	}
	pr = wantProblem(t, a.do("POST", "/api/v1/partnerships", with(initiateBody(), "occurred_at", zero)), http.StatusBadRequest, typeValidation)
	if len(pr.Errors) == 0 {
		t.Errorf("an initiation in year 1 was not refused field by field: %+v", pr)
	}
	for _, q := range []string{"as_of", "known_at"} {
		wantProblem(t, a.do("GET", p.path+"?"+q+"="+zero, nil), http.StatusNotFound, typeNotFound)
		wantProblem(t, a.do("GET", p.path+"/history?"+q+"="+zero, nil), http.StatusNotFound, typeNotFound)
	}
	if s := a.state(p, ""); s.Version != 1 {
		t.Fatalf("refused commands wrote: version %d", s.Version)
	}
	tl := getJSON[struct {
		Partnerships []obj `json:"partnerships"`
		Entries      []obj `json:"entries"`
	}](a, withMinPosition("/api/v1/municipalities/0301/timeline?to="+zero, a.head()))
	if len(tl.Partnerships) != 0 || len(tl.Entries) != 0 {
		t.Fatalf("timeline up to year 1: %d partnerships, %d entries, want none", len(tl.Partnerships), len(tl.Entries))
	}
}

// TestSpellsAsOfAfterTodayIsRefused: the days after today have not been
// observed; counting them as survival would bias the estimates.
func TestSpellsAsOfAfterTodayIsRefused(t *testing.T) {
	a := startTestAPI(t, func(c *Config) {
		c.ResearchSecret = []byte("a test secret of 32 bytes length")
		c.Now = func() time.Time { return testNow } // 2024-06-01, 12:00 in Oslo
	}, nil)
	a.newPartnership()
	pr := wantProblem(t, a.do("GET", "/api/v1/research/spells.csv?as_of=2024-06-02", nil), http.StatusBadRequest, typeValidation)
	if !pr.hasField("as_of", false) {
		t.Errorf("errors %v, want as_of", pr.fields())
	}
	wantStatus(t, a.do("GET", "/api/v1/research/spells.csv?as_of=2024-06-01", nil), http.StatusOK)
}

// TestInvalidUTF8IsRefusedByName: bytes that are not UTF-8, in a body's
// keys or values at any depth or in a query parameter, are a 400 naming
// the field, never stored as U+FFFD.
func TestInvalidUTF8IsRefusedByName(t *testing.T) {
	a := newTestAPI(t)
	p := a.newPartnership()
	for _, c := range []struct {
		path, body, field string
	}{
		{p.path + "/milestones", "{\"kind\":\"meeting\",\"title\":\"M\xf8te\",\"note\":\"\"}", "title"},
		{p.path + "/goals", "{\"goals\":[\"ok\",\"b\xffd\"],\"reason\":\"x\"}", "goals[1]"},
		{p.path + "/partners", "{\"partner\":{\"name\":\"Lag \xc3\",\"kind\":\"other\"}}", "partner.name"},
		{p.path + "/milestones", "{\"kind\":\"meeting\",\"ti\xfftle\":\"Møte\",\"note\":\"\"}", "ti\ufffdtle"},
		{"/api/v1/partnerships", strings.Replace(string(mustMarshal(t, initiateBody())), "Tøyen frivilligsentral", "T\xf8yen", 1), "partners[1].name"},
	} {
		pr := wantProblem(t, a.do("POST", c.path, c.body), http.StatusBadRequest, typeValidation)
		if !pr.hasField(c.field, false) {
			t.Errorf("POST %s %q: errors %v, want %s", c.path, c.body, pr.fields(), c.field)
		}
	}
	if s := a.state(p, ""); s.Version != 1 {
		t.Fatalf("refused commands wrote: version %d", s.Version)
	}
	pr := wantProblem(t, a.do("GET", "/api/v1/partnerships?q=%FF", nil), http.StatusBadRequest, typeValidation)
	if !pr.hasField("q", false) {
		t.Errorf("q=%%FF: errors %v, want q", pr.fields())
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRecordersAreNamedOnlyToThoseWhoMaySeePersonalData: who recorded an
// event is personal data. Admins and coordinators of the partnership's
// municipality read the token's name; everyone else its role and a stable
// pseudonym, in the history and in the feed.
func TestRecordersAreNamedOnlyToThoseWhoMaySeePersonalData(t *testing.T) {
	a := newTestAPI(t)
	p := a.newPartnership() // Oslo, by the admin token "admin"
	a.post(p, "/milestones", obj{"kind": "meeting", "title": "Møte", "note": ""}, http.StatusOK, "X-Request-ID", "admin-request-1")
	actors := func(who string) []obj {
		h := decodeBody[historyBody](t, a.do("GET", p.path+"/history", nil, "Authorization", bearer(who)))
		var out []obj
		for _, e := range h.Items {
			out = append(out, e.Metadata)
		}
		return out
	}
	for _, m := range actors("admin") {
		if m["actor"].(obj)["subject"] != "admin" {
			t.Fatalf("the admin reads %v, want the name", m)
		}
	}
	for _, who := range []string{"viewer", "researcher", "arendal"} {
		got := actors(who)
		for _, m := range got {
			actor := m["actor"].(obj)
			if s := actor["subject"].(string); !strings.HasPrefix(s, "actor-") || actor["role"] != "admin" {
				t.Fatalf("%s reads the recorder %v, want the role and a pseudonym", who, actor)
			}
			if id, _ := m["correlation_id"].(string); id == "admin-request-1" {
				t.Fatalf("%s reads the request id a client chose: %v", who, m)
			}
		}
		if got[0]["actor"].(obj)["subject"] != got[1]["actor"].(obj)["subject"] {
			t.Fatalf("%s reads two pseudonyms for one recorder: %v", who, got)
		}
	}
	feed := a.do("GET", "/api/v1/events?after=0", nil, "Authorization", bearer("viewer"))
	if strings.Contains(string(feed.Body), `"subject":"admin"`) {
		t.Fatalf("the feed names the recorder to a viewer: %s", feed.Body)
	}
	// The research export names no one, whoever takes it.
	for _, who := range []string{"admin", "researcher"} {
		export := a.do("GET", "/api/v1/research/events.ndjson", nil, "Authorization", bearer(who))
		wantStatus(t, export, http.StatusOK)
		if body := string(export.Body); strings.Contains(body, `"subject":"admin"`) || strings.Contains(body, "admin-request-1") || !strings.Contains(body, `"subject":"actor-`) {
			t.Fatalf("the export for %s names the recorder or the request:\n%s", who, body)
		}
	}
}
