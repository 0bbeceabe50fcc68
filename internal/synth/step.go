package synth

import (
	"fmt"
	"time"

	"github.com/samspill/samspill/domain/partnership"
)

var (
	titles   = []string{"Leksehjelp", "Turlag for seniorer", "Språkkafé", "Besøksvenn", "Fritidskort", "Nabolagshage", "Ungdomsklubb", "Beredskapsvakt", "Kor for alle", "Matutdeling"}
	orgNames = []string{"Frivilligsentralen", "Røde Kors", "Idrettslaget", "Sanitetsforeningen", "Turistforeningen", "Kirkens Bymisjon", "Speiderne", "Pensjonistforeningen"}
)

// step returns the partnership's next event and when it occurred; last is
// true for the final event of the data set, which ends some partnerships.
func (h *generated) step(last bool) (partnership.Event, time.Time) {
	if h.version == 0 {
		h.last = h.start
		return h.initiation(), h.start
	}
	at := h.last.Add(time.Duration(1+h.r.IntN(30*24)) * time.Hour)
	h.last = at
	pick := func(list []string) string { return list[h.r.IntN(len(list))] }
	if last && h.r.IntN(10) < 3 {
		h.ended = true
		return partnership.PartnershipEnded{Reason: pick(partnership.EndReasons), Outcome: "Avsluttet etter plan"}, at
	}
	switch x := h.r.IntN(100); {
	case x < 2 && h.version > 2:
		// Logged late: a meeting that happened some time ago.
		span := h.last.Sub(h.start)
		return partnership.MilestoneLogged{Kind: "meeting", Title: "Etterregistrert møte", Note: "Ført inn i ettertid"}, h.start.Add(time.Duration(h.r.Int64N(int64(span))))
	case x < 3 && h.milestone != "":
		c := partnership.EntryCorrected{CorrectedEventID: h.milestone, Reason: "Registrert på feil samarbeid"}
		h.milestone = ""
		return c, at
	case x < 13:
		return partnership.FundingRecorded{AmountNOK: int64(5000 + h.r.IntN(500000)), Source: "Kommunalt tilskudd", PeriodFrom: "2024-01-01", PeriodUntil: "2024-12-31"}, at
	case x < 21:
		return partnership.AgreementSigned{AgreementType: pick(partnership.AgreementTypes), ValidFrom: at.Format(time.DateOnly), Reference: fmt.Sprintf("Sak %d/%d", at.Year(), h.r.IntN(9999))}, at
	case x < 29:
		h.goals++
		return partnership.GoalChanged{Goals: []string{fmt.Sprintf("Mål, versjon %d: flere deltakere", h.goals), "Varig drift"}, Reason: "Årlig revisjon"}, at
	case x < 35:
		// Any level but the current one.
		levels := partnership.AnchoringLevels
		level := levels[(indexOf(levels, h.anchoring)+1+h.r.IntN(len(levels)-1))%len(levels)]
		h.anchoring = level
		return partnership.AnchoringChanged{Level: level, Note: "Vedtatt i utvalg"}, at
	case x < 41:
		h.nextID++
		id := fmt.Sprintf("p%d", h.nextID)
		h.joined = append(h.joined, id)
		h.external++
		return partnership.PartnerJoined{Partner: partnership.Partner{PartnerID: id, Name: fmt.Sprintf("%s %d", pick(orgNames), h.nextID), Kind: "voluntary_organisation"}}, at
	case x < 46:
		return partnership.RolesAgreed{Roles: []partnership.Role{
			{PartnerID: "p1", Role: "lead", Responsibilities: []string{"Drift", "Rekruttering"}},
			{PartnerID: "p2", Role: "host", Responsibilities: []string{"Lokaler"}},
		}}, at
	case x < 50:
		if h.paused {
			h.paused = false
			return partnership.PartnershipResumed{Reason: "Ny frivillig koordinator"}, at
		}
		h.paused = true
		return partnership.PartnershipPaused{Reason: "Mangler frivillige"}, at
	case x < 53:
		return partnership.ContactPersonAssigned{ContactID: fmt.Sprintf("c%d", h.version), PartnerID: "p1", Name: "Kari Nordmann", Email: "kari@example.org"}, at
	case x < 55 && len(h.joined) > 0 && h.external > 1:
		id := h.joined[len(h.joined)-1]
		h.joined = h.joined[:len(h.joined)-1]
		h.external--
		return partnership.PartnerLeft{PartnerID: id, Reason: "Flyttet aktiviteten"}, at
	case x >= 55 && x < 58:
		// Any model but the current one.
		models := partnership.CollaborationModels
		h.model = models[(indexOf(models, h.model)+1+h.r.IntN(len(models)-1))%len(models)]
		return partnership.CollaborationModelChanged{CollaborationModel: h.model, Reason: "Ny organisering av samarbeidet"}, at
	}
	h.milestone = h.newEventID()
	return partnership.MilestoneLogged{Kind: pick(partnership.MilestoneKinds), Title: "Samling for deltakere og frivillige", Note: "Godt oppmøte"}, at
}

func (h *generated) initiation() partnership.Event {
	h.external = 1
	h.nextID = 2
	h.anchoring = partnership.AnchoringNone
	// Drawn in the order the fields were always drawn, so that a seed
	// keeps giving the same data set.
	title := fmt.Sprintf("%s %s", titles[h.r.IntN(len(titles))], h.id[:8])
	area := partnership.ServiceAreas[h.r.IntN(len(partnership.ServiceAreas))]
	h.model = partnership.CollaborationModels[h.r.IntN(len(partnership.CollaborationModels))]
	return partnership.PartnershipInitiated{
		PartnershipID:      h.id,
		Municipality:       h.code,
		Title:              title,
		Description:        "Et samarbeid mellom kommunen og frivilligheten om et lavterskeltilbud for innbyggerne.",
		ServiceArea:        area,
		CollaborationModel: h.model,
		Partners: []partnership.Partner{
			{PartnerID: "p1", Name: orgNames[h.r.IntN(len(orgNames))], Kind: "voluntary_organisation", OrgNo: "974760673"},
			{PartnerID: "p2", Name: "Kommunens frivillighetskoordinator", Kind: partnership.KindMunicipalUnit},
		},
		Goals: []string{"Flere deltakere", "Varig drift"},
	}
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return 0
}
