package research

import (
	"slices"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
)

// The per-state covariates the panel (and the spells) share: pure
// functions of a partnership.State and, where validity depends on it, a
// day, so every export derives the same value the same way.

// roleLead is the role whose holder's kind LeadKind reports.
const roleLead = "lead"

// leadKind is the kind of the active partners holding the lead role: one
// kind, LeadShared for several, LeadNone for none.
func leadKind(s partnership.State) string {
	kind := LeadNone
	for _, role := range s.Roles {
		if role.Role != roleLead {
			continue
		}
		i := slices.IndexFunc(s.Partners, func(p partnership.Partner) bool { return p.PartnerID == role.PartnerID })
		if i < 0 {
			continue // roles of a partner who left go with it; kept safe here
		}
		switch k := s.Partners[i].Kind; kind {
		case LeadNone:
			kind = k
		case k:
		default:
			return LeadShared
		}
	}
	return kind
}

// partnersByKind counts the active partners of each kind, in the order of
// partnership.PartnerKinds (municipal_unit, voluntary_organisation,
// social_entrepreneur, private_business, public_agency, other; a kind
// outside it is not counted).
func partnersByKind(s partnership.State) []int {
	n := make([]int, len(partnership.PartnerKinds))
	for _, p := range s.Partners {
		if i := slices.Index(partnership.PartnerKinds, p.Kind); i >= 0 {
			n[i]++
		}
	}
	return n
}

// agreementInForce returns the signed agreement valid on day (YYYY-MM-DD:
// valid_from ≤ day and no valid_until or valid_until ≥ day) that took
// effect last, and whether there is one. Dates compare as text, which
// orders YYYY-MM-DD correctly.
func agreementInForce(s partnership.State, day string) (partnership.Agreement, bool) {
	var found partnership.Agreement
	ok := false
	for _, a := range s.Agreements {
		if a.ValidFrom > day || (a.ValidUntil != "" && a.ValidUntil < day) {
			continue
		}
		if !ok || a.ValidFrom >= found.ValidFrom {
			found, ok = a, true
		}
	}
	return found, ok
}

// rolesOf is the roles a partner holds under the roles in force, in the
// order of partnership.RoleNames joined by "+", "" when none.
func rolesOf(s partnership.State, partnerID string) string {
	var held []string
	for _, name := range partnership.RoleNames {
		for _, r := range s.Roles {
			if r.PartnerID == partnerID && r.Role == name {
				held = append(held, name)
				break
			}
		}
	}
	return strings.Join(held, "+")
}

// leadKindValues are the codes of lead_kind: the partner kinds, shared and
// none.
func leadKindValues() []Value {
	return append(codes(partnership.PartnerKinds),
		Value{Code: LeadShared, Label: "Shared lead", LabelNB: "Delt ledelse", LabelNN: "Delt leiing"},
		Value{Code: LeadNone, Label: "No lead", LabelNB: "Ingen leder", LabelNN: "Ingen leiar"})
}
