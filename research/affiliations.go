package research

import (
	"context"
	"strconv"

	"github.com/samspill/samspill/domain/orgnr"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/eventstore"
)

// Why an affiliation spell ended (left_reason).
const (
	leftPartnerLeft      = "partner_left"
	leftPartnershipEnded = "partnership_ended"
	leftRoleChanged      = "role_changed"
)

// affiliation is one row of affiliations.csv: an organisation's spell in
// a partnership with one set of roles.
type affiliation struct {
	partnerID, orgNo, kind, role string
	municipality, model          string
	joinedDay                    int // day number (dayNumber)
	leftDay                      int // -1 while ongoing
	leftReason                   string
}

// affiliations derives a partnership's organisation spells under the
// view: a partner named at initiation joins on day 0, one that joins
// later on the day it joined; a spell ends when the partner leaves, when
// the partnership ends, or when the partner's roles change (a new spell
// with the new roles starts that day; a change on the day a spell began
// amends that spell instead of leaving one of no length). Spells are in
// the order they began; the ones still open at the end of the view are
// ongoing.
func affiliations(h []partnership.Entry, v partnership.View) (spells []affiliation, day0 int, err error) {
	open := map[string]int{} // partner id → index of its open spell
	day0 = -1
	begin := func(p partnership.Partner, s partnership.State, d int) {
		org := p.OrgNo
		if n, err := orgnr.Parse(p.OrgNo); err == nil {
			org = string(n)
		}
		open[p.PartnerID] = len(spells)
		spells = append(spells, affiliation{partnerID: p.PartnerID, orgNo: org, kind: p.Kind, role: rolesOf(s, p.PartnerID),
			municipality: s.CurrentMunicipality, model: s.CollaborationModel, joinedDay: d, leftDay: -1})
	}
	end := func(id string, d int, reason string) {
		if i, ok := open[id]; ok {
			spells[i].leftDay, spells[i].leftReason = d, reason
			delete(open, id)
		}
	}
	err = partnership.Steps(h, v, func(e partnership.Entry, s partnership.State) {
		d := dayNumber(e.OccurredAt)
		switch ev := e.Event.(type) {
		case partnership.PartnershipInitiated:
			day0 = d
			for _, p := range ev.Partners {
				begin(p, s, d)
			}
			return
		case partnership.PartnerJoined:
			begin(ev.Partner, s, d)
			return
		case partnership.PartnerLeft:
			end(ev.PartnerID, d, leftPartnerLeft)
			return
		case partnership.PartnershipEnded:
			for _, p := range s.Partners {
				end(p.PartnerID, d, leftPartnershipEnded)
			}
			return
		}
		for _, p := range s.Partners {
			i, ok := open[p.PartnerID]
			if !ok {
				continue
			}
			role := rolesOf(s, p.PartnerID)
			switch {
			case role == spells[i].role:
			case spells[i].joinedDay == d:
				spells[i].role = role
			default:
				end(p.PartnerID, d, leftRoleChanged)
				begin(spells[i].partner(), s, d)
			}
		}
	})
	return spells, day0, err
}

// partner is the organisation of the spell, for the spell that follows it.
func (a affiliation) partner() partnership.Partner {
	return partnership.Partner{PartnerID: a.partnerID, Kind: a.kind, OrgNo: a.orgNo}
}

// appendTo appends the row's cells in AffiliationsTable's column order.
func (a affiliation) appendTo(record []string, keys Keys, stream string, day0 int) []string {
	left, leftDay := "", ""
	if a.leftDay >= 0 {
		left, leftDay = dateOfDay(a.leftDay), strconv.Itoa(a.leftDay-day0)
	}
	return append(record, keys.Partnership(stream), keys.Partner(stream, a.partnerID), a.orgNo, a.kind, a.role,
		a.municipality, a.model, dateOfDay(a.joinedDay), left, strconv.Itoa(a.joinedDay-day0), leftDay, a.leftReason)
}

// affiliationsExport is affiliations.csv as an Export.
func affiliationsExport() Export {
	return Export{Table: AffiliationsTable(), Rows: func(ctx context.Context, store eventstore.Store, o Options) Rows {
		return func(ctx context.Context, emit func([]string) error) error {
			v, err := o.view()
			if err != nil {
				return err
			}
			type derived struct {
				spells []affiliation
				day0   int
			}
			record := make([]string, 0, len(AffiliationsTable().Columns))
			return eachHistory(ctx, store, o, func(_ string, h []partnership.Entry) (derived, error) {
				spells, day0, err := affiliations(h, v)
				return derived{spells, day0}, err
			}, func(stream string, d derived) error {
				for _, a := range d.spells {
					if err := emit(a.appendTo(record[:0], o.Keys, stream, d.day0)); err != nil {
						return err
					}
				}
				return nil
			})
		}
	}}
}
