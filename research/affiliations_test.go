package research_test

import (
	"testing"
	"time"

	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/history"
	"github.com/samspill/samspill/research"
)

// TestAffiliationsFollowEachOrganisation checks the spells of partners
// named at initiation, of one who joins and leaves, a role change that
// starts a new spell, roles agreed on a spell's first day (no spell of no
// length), the end of the partnership and spells still open at as_of.
func TestAffiliationsFollowEachOrganisation(t *testing.T) {
	clock := time.Date(2023, 1, 1, 12, 0, 0, 0, time.UTC)
	s := clockStore(t, &clock)
	historyA(t, s)
	record(t, s, "b1",
		"2022-11-01", partnership.PartnershipInitiated{PartnershipID: "b1", Municipality: "0906", Title: "Turlag", ServiceArea: "sport_and_outdoor",
			CollaborationModel: "grant", Goals: []string{"Tur"}, Partners: []partnership.Partner{orgC}},
		"2022-11-01", partnership.RolesAgreed{Roles: []partnership.Role{{PartnerID: "c", Role: "provider", Responsibilities: []string{"turer"}}, {PartnerID: "c", Role: "lead", Responsibilities: []string{"alt"}}}},
	)
	rows := exportRows(t, s, "affiliations", research.Options{AsOf: "2023-01-15"})
	keys := research.OneOffKeys(secret, "test")
	a, b1 := history.StreamID("a1"), history.StreamID("b1")
	want := []map[string]string{
		{"partnership_key": keys.Partnership(a), "partner_key": keys.Partner(a, "a"), "org_no": "974760673", "kind": "voluntary_organisation", "role": "",
			"municipality": "0301", "collaboration_model": "network", "joined": "2020-03-01", "left": "2020-06-01", "joined_day": "0", "left_day": "92", "left_reason": "role_changed"},
		{"partner_key": keys.Partner(a, "b"), "org_no": "", "kind": "municipal_unit", "role": "",
			"joined": "2020-03-01", "left": "2022-04-10", "joined_day": "0", "left_day": "770", "left_reason": "partnership_ended"},
		{"partner_key": keys.Partner(a, "a"), "org_no": "974760673", "role": "lead",
			"joined": "2020-06-01", "left": "2022-04-10", "joined_day": "92", "left_day": "770", "left_reason": "partnership_ended"},
		{"partner_key": keys.Partner(a, "c"), "kind": "voluntary_organisation", "role": "",
			"joined": "2020-08-01", "left": "2021-01-10", "joined_day": "153", "left_day": "315", "left_reason": "partner_left"},
		{"partnership_key": keys.Partnership(b1), "partner_key": keys.Partner(b1, "c"), "municipality": "4203", "collaboration_model": "grant",
			"role": "lead+provider", "joined": "2022-11-01", "left": "", "joined_day": "0", "left_day": "", "left_reason": ""},
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %v", len(rows), len(want), rows)
	}
	for i, w := range want {
		check(t, "row "+w["joined"], rows[i], w)
	}
	// No names leave the file.
	for _, r := range rows {
		for col, v := range r {
			for _, name := range []string{orgA.Name, unitB.Name, orgC.Name} {
				if v == name {
					t.Errorf("%s holds the name %q", col, name)
				}
			}
		}
	}
	// Before the role change, a's first spell is still open.
	early := exportRows(t, s, "affiliations", research.Options{AsOf: "2020-05-01"})
	if len(early) != 2 || early[0]["left"] != "" || early[0]["left_reason"] != "" {
		t.Errorf("as of 2020-05-01: %v", early)
	}
}
