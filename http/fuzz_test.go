package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/domain/partnership"
)

// fuzzNow is the clock of the fuzzed decisions.
var fuzzNow = time.Date(2024, 6, 1, 10, 0, 0, 0, time.UTC)

// fuzzHistory is a small valid history: initiated, a partner joined, paused
// and resumed, a milestone and funding. Event ids are ev-1 … ev-6.
func fuzzHistory() []partnership.Entry {
	at := func(day int) time.Time { return time.Date(2024, 3, day, 12, 0, 0, 0, time.UTC) }
	events := []partnership.Event{
		partnership.PartnershipInitiated{
			PartnershipID: "0190b6a2-7c00-7000-8000-000000000001", Municipality: "0301", Title: "Møteplass",
			ServiceArea: "culture", CollaborationModel: "co_governance",
			Partners: []partnership.Partner{
				{PartnerID: "kommune", Name: "Bydel", Kind: "municipal_unit"},
				{PartnerID: "lag", Name: "Lag", Kind: "voluntary_organisation", OrgNo: orgLag},
			},
			Goals: []string{"A"},
		},
		partnership.PartnerJoined{Partner: partnership.Partner{PartnerID: "idrett", Name: "IL", Kind: "voluntary_organisation", OrgNo: orgIdrett}},
		partnership.PartnershipPaused{Reason: "ferie"},
		partnership.PartnershipResumed{Reason: "tilbake"},
		partnership.MilestoneLogged{Kind: "meeting", Title: "Møte"},
		partnership.FundingRecorded{AmountNOK: 1000, Source: "Fond", PeriodFrom: "2024-01-01", PeriodUntil: "2024-12-31"},
	}
	out := make([]partnership.Entry, len(events))
	for i, e := range events {
		out[i] = partnership.Entry{EventID: fmt.Sprintf("ev-%d", i+1), Version: uint64(i + 1), OccurredAt: at(i + 1), RecordedAt: fuzzNow, Event: e}
	}
	return out
}

// fuzzParams are the path parameters of the fuzzed commands.
var fuzzParams = gin.Params{{Key: "id", Value: "0190b6a2-7c00-7000-8000-000000000001"}, {Key: "partner_id", Value: "idrett"}}

// decodeAs decodes body as request type R, as execute does, and turns it
// into a command.
func decodeAs[R commandRequest](body []byte) (partnership.Command, error) {
	var r R
	if err := decodeStrict(body, &r); err != nil {
		return partnership.Command{}, err
	}
	return r.command(fuzzParams)
}

// decodeInitiate decodes body as the initiate handler does.
func decodeInitiate(body []byte) (partnership.Command, error) {
	var req initiateRequest
	if err := decodeStrict(body, &req); err != nil {
		return partnership.Command{}, err
	}
	cmd, err := req.command(nil)
	if err != nil {
		return cmd, err
	}
	ev := cmd.Event.(partnership.PartnershipInitiated)
	ev.PartnershipID = "0190b6a2-7c00-7000-8000-0000000000ff" // app.Service sets it
	cmd.Event = ev
	return cmd, nil
}

var fuzzDecoders = []struct {
	name     string
	decode   func([]byte) (partnership.Command, error)
	initiate bool
}{
	{"initiate", decodeInitiate, true},
	{"join", decodeAs[joinPartnerRequest], false},
	{"leave", decodeAs[leavePartnerRequest], false},
	{"roles", decodeAs[agreeRolesRequest], false},
	{"goals", decodeAs[changeGoalsRequest], false},
	{"agreements", decodeAs[signAgreementRequest], false},
	{"funding", decodeAs[recordFundingRequest], false},
	{"anchoring", decodeAs[changeAnchoringRequest], false},
	{"collaboration-model", decodeAs[changeCollaborationModelRequest], false},
	{"milestones", decodeAs[logMilestoneRequest], false},
	{"contacts", decodeAs[assignContactRequest], false},
	{"pause", decodeAs[pauseRequest], false},
	{"resume", decodeAs[resumeRequest], false},
	{"end", decodeAs[endRequest], false},
	{"corrections", decodeAs[correctEntryRequest], false},
}

// FuzzDecodeCommand feeds arbitrary bodies to every command's decoding and
// then to the domain's decision. Nothing may panic, every refusal of
// client input must map to a 4xx problem (never a 500), and an accepted
// command's event must encode and replay.
func FuzzDecodeCommand(f *testing.F) {
	for _, e := range commandEndpoints() {
		b, _ := json.Marshal(e.body(fixture{eventID: "ev-5"}))
		f.Add(b)
	}
	for _, s := range []string{
		``, ` `, `null`, `{}`, `[]`, `"x"`, `0`, `{"reason":`, `{"reason":"r"} {}`, `{"reason":"r"}x`,
		`{"reason":"r","occurred_at":"2024-04-01"}`,
		`{"reason":"r","occurred_at":"2024-03-01T00:00:00+01:00"}`,
		`{"reason":"r","occurred_at":"9999-12-31T23:59:59Z"}`,
		`{"reason":"r","occurred_at":"0001-01-01T00:00:00Z"}`,
		`{"reason":"r","occurred_at":"2024-04-01T10:00:00.123456789-12:00"}`,
		`{"reason":"\ud800","occurred_at":3}`,
		`{"REASON":"r"}`,
		`{"amount_nok":9223372036854775807,"source":"s","period_from":"2024-01-01","period_until":"2024-12-31"}`,
		`{"amount_nok":-9223372036854775808,"source":"s","period_from":"2024-01-01","period_until":"2024-12-31"}`,
		`{"amount_nok":1e400}`,
		`{"partner":{"name":"n","kind":"other","org_no":"974 760 673"}}`,
		`{"partner":{"name":"n","kind":"other","partner_id":"lag"}}`,
		`{"roles":[{"partner_id":"lag","role":"lead","responsibilities":[""]}]}`,
		`{"goals":["A"],"reason":"r"}`,
		`{"corrected_event_id":"ev-1","reason":"r"}`,
		`{"corrected_event_id":"ev-3","reason":"r"}`,
		`{"corrected_event_id":"ev-2","reason":"r","replacement":{"partner":{"name":"n","kind":"other"}}}`,
		`{"corrected_event_id":"ev-1","reason":"r","replacement":{"municipality":"0301","title":"t","service_area":"culture","collaboration_model":"grant","partners":[{"name":"n","kind":"other"}],"goals":["g"]}}`,
		`{"corrected_event_id":"ev-6","reason":"r","replacement":{"amount_nok":5,"source":"s","period_from":"2024-01-01","period_until":"2024-12-31"}}`,
		`{"corrected_event_id":"ev-5","reason":"r","replacement":null}`,
		`{"corrected_event_id":"ev-5","reason":"r","replacement":"x"}`,
		`{"corrected_event_id":"ev-5","reason":"r","replacement":{"kind":"meeting","title":"t"} }`,
		`{"municipality":"1702","title":"t","service_area":"culture","collaboration_model":"grant","partners":[{"name":"n","kind":"other"}],"goals":["g"],"occurred_at":"2016-01-01"}`,
	} {
		f.Add([]byte(s))
	}
	history := fuzzHistory()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, d := range fuzzDecoders {
			cmd, err := d.decode(body)
			if err != nil {
				if p := problemFor(err); p.Status != http.StatusBadRequest {
					t.Fatalf("%s: decoding %q fails with %d (%v), want 400", d.name, body, p.Status, err)
				}
				continue
			}
			h := history
			if d.initiate {
				h = nil
			}
			n := 0
			env := partnership.Env{Now: fuzzNow, NewID: func() string {
				n++
				return fmt.Sprintf("0190b6a2-7c00-7000-9000-%012d", n)
			}}
			hist, err := partnership.NewHistory(h)
			if err != nil {
				t.Fatal(err)
			}
			dec, err := partnership.Decide(hist, cmd, env)
			if err != nil {
				if p := problemFor(err); p.Status != http.StatusBadRequest && p.Status != http.StatusConflict {
					t.Fatalf("%s: deciding %q fails with %d (%v), want 400 or 409", d.name, body, p.Status, err)
				}
				continue
			}
			data, err := partnership.Encode(dec.Event)
			if err != nil {
				t.Fatalf("%s: encode the decided event: %v", d.name, err)
			}
			if _, err := partnership.Decode(dec.Event.EventType(), partnership.SchemaVersion, data); err != nil {
				t.Fatalf("%s: decode the stored event %s: %v", d.name, data, err)
			}
			next := append(h[:len(h):len(h)], partnership.Entry{EventID: "new", Version: uint64(len(h) + 1), OccurredAt: dec.OccurredAt, RecordedAt: fuzzNow, Event: dec.Event})
			if _, err := partnership.Replay(next, partnership.View{}); err != nil {
				t.Fatalf("%s: replay after %q: %v", d.name, body, err)
			}
		}
	})
}

// FuzzParseETag checks that If-Match parsing never panics, refuses a weak
// tag with 412 (it never matches) and anything else malformed with 400, and
// reads back every ETag the server writes.
func FuzzParseETag(f *testing.F) {
	for _, s := range []string{`"1"`, `"0"`, `W/"3"`, ` "7" `, `"18446744073709551615"`, `"18446744073709551616"`, `"-1"`, `"+1"`, `"1`, `1"`, `1`, `""`, `"`, ``, `*`, `"1", "2"`, `W/`, `"0x1"`, `"١"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseETag(s)
		if err != nil {
			want := http.StatusBadRequest
			if strings.HasPrefix(strings.TrimSpace(s), "W/") {
				want = http.StatusPreconditionFailed
			}
			if p := problemFor(err); p.Status != want {
				t.Fatalf("parseETag(%q) fails with %d, want %d", s, p.Status, want)
			}
			return
		}
		back, err := parseETag(etag(v))
		if err != nil || back != v {
			t.Fatalf("parseETag(etag(%d)) = %d, %v", v, back, err)
		}
	})
}
