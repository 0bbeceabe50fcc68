package describe_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/locale"
)

// TestEveryValueHasALabel: every event type and vocabulary value has a
// label of its own in every language (not its message id, not the value).
func TestEveryValueHasALabel(t *testing.T) {
	t.Parallel()
	for _, lang := range locale.Langs {
		l := locale.For(lang)
		for _, list := range [][]string{
			partnership.EventTypes(), partnership.Statuses, partnership.ServiceAreas, partnership.CollaborationModels,
			partnership.PartnerKinds, partnership.RoleNames, partnership.AgreementTypes, partnership.AnchoringLevels,
			partnership.MilestoneKinds, partnership.EndReasons,
		} {
			for _, v := range list {
				if got := describe.Label(l, v); got == v || strings.HasPrefix(got, "describe.") || got == "" {
					t.Errorf("%s: %s has no label (%q)", lang, v, got)
				}
			}
		}
		if got := describe.Label(l, "no_such_value"); got != "no_such_value" {
			t.Errorf("%s: an unknown value is shown as %q, want it as it is", lang, got)
		}
	}
}

// TestEveryEventHasALine: every event type is described in a line of its
// own in every language, with its data and nothing left unfilled.
func TestEveryEventHasALine(t *testing.T) {
	t.Parallel()
	names := map[string]string{"p1": "Arendal frivilligsentral"}
	events := []partnership.Event{
		partnership.PartnershipInitiated{Municipality: "0906", Title: "Leksehjelp", ServiceArea: "education", CollaborationModel: "network",
			Partners: []partnership.Partner{{PartnerID: "p1", Name: "Arendal frivilligsentral", Kind: "voluntary_organisation"}}, Goals: []string{"Mål"}},
		partnership.PartnerJoined{Partner: partnership.Partner{PartnerID: "p2", Name: "Røde Kors", Kind: "voluntary_organisation", OrgNo: "974760673"}},
		partnership.PartnerLeft{PartnerID: "p1", Reason: "Flytter"},
		partnership.RolesAgreed{Roles: []partnership.Role{{PartnerID: "p1", Role: "lead"}}},
		partnership.GoalChanged{Goals: []string{"Nytt mål"}, Reason: "Revisjon"},
		partnership.AgreementSigned{AgreementType: "cooperation_agreement", ValidFrom: "2024-01-01", ValidUntil: "2025-12-31", Reference: "24/1234"},
		partnership.FundingRecorded{AmountNOK: 290000, Source: "Kommunen", PeriodFrom: "2024-01-01", PeriodUntil: "2024-12-31"},
		partnership.AnchoringChanged{Level: "political", Note: "Vedtak i kommunestyret"},
		partnership.MilestoneLogged{Kind: "meeting", Title: "Oppstartsmøte"},
		partnership.ContactPersonAssigned{PartnerID: "p1", Name: "Kari Nordmann", Email: "kari@example.no"},
		partnership.PartnershipPaused{Reason: "Sommer"},
		partnership.PartnershipResumed{Reason: "Høst"},
		partnership.PartnershipEnded{Reason: "completed", Outcome: "Ferdig"},
		partnership.EntryCorrected{CorrectedEventID: "e1", Reason: "Feil"},
		partnership.EntryCorrected{CorrectedEventID: "e1", Reason: "Feil", Replacement: json.RawMessage(`{}`)},
	}
	for _, lang := range locale.Langs {
		l := locale.For(lang)
		seen := map[string]bool{}
		for _, ev := range events {
			line := describe.Event(l, ev, names)
			if line == ev.EventType() || strings.Contains(line, "describe.") || strings.Contains(line, "<no value>") || seen[line] {
				t.Errorf("%s: %s is described as %q", lang, ev.EventType(), line)
			}
			seen[line] = true
		}
		if line := describe.Event(l, partnership.FundingRecorded{AmountNOK: 290000, Source: "Kommunen", PeriodFrom: "2024-01-01", PeriodUntil: "2024-12-31"}, nil); lang != locale.English &&
			(!strings.Contains(line, "290\u00a0000 kr") || !strings.Contains(line, "1. januar 2024")) {
			t.Errorf("%s: funding is %q, want 290 000 kr and 1. januar 2024", lang, line)
		}
	}
}
