package research

import (
	"slices"
	"strings"

	"github.com/samspill/samspill/domain/partnership"
)

// The per-state covariates the panel (and the spells) share: pure
// functions of a partnership.State and, where validity depends on it, a
// day, so every export derives the same value the same way.

// leadNone is lead_kind when no partner holds the role "lead".
const leadNone = "none"

// leadKind is the kind of the partner that holds the role "lead" under the
// roles in force (the first such role listed when several do), leadNone
// when no lead has been agreed.
func leadKind(s partnership.State) string {
	for _, r := range s.Roles {
		if r.Role != "lead" {
			continue
		}
		for _, p := range s.Partners {
			if p.PartnerID == r.PartnerID {
				return p.Kind
			}
		}
	}
	return leadNone
}

// partnersByKind counts the active partners of each kind, in the order of
// partnership.PartnerKinds (a kind outside it is not counted).
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
