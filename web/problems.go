package web

import (
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/samspill/samspill/auth"
	"github.com/samspill/samspill/describe"
	"github.com/samspill/samspill/domain/orgnr"
	"github.com/samspill/samspill/domain/partnership"
	"github.com/samspill/samspill/edge"
	"github.com/samspill/samspill/locale"
)

// The one place where what went wrong becomes words on a page: the
// domain's field and rule errors by their codes, and every other failure
// by its edge.Kind, in the reader's language (locale/messages/errors.*).
// The domain's English messages are the API's; the pages never show them.

// fieldMessage says in plain words what is wrong with a field and what to
// do about it.
func fieldMessage(l *locale.Localizer, fe partnership.FieldError) string {
	code := string(fe.Code)
	switch {
	case code == "":
		// An error without a code comes from outside the domain's rules;
		// none reaches the pages today.
		return l.T("errors.field.invalid")
	case fe.Code == partnership.FieldAmountTooLarge:
		return l.T("errors.field."+code, "Max", l.Kroner(fe.Max))
	case fe.Code == partnership.FieldDateOutOfRange:
		// Years are not grouped: 1900, not 1 900.
		return l.T("errors.field."+code, "Min", strconv.FormatInt(fe.Min, 10), "Max", strconv.FormatInt(fe.Max, 10))
	case fe.Code == partnership.FieldKommuneNotValid:
		return l.T("errors.field."+code, "Code", describe.Municipality(fe.Value), "Date", l.Date(fe.Date), "Today", describe.Municipality(fe.Other))
	case fe.Code == partnership.FieldCount && (strings.HasSuffix(fe.Field, "goals") || strings.HasSuffix(fe.Field, "roles")):
		// A list of goals or of roles: said in its own words.
		return l.T("errors.field."+code+"."+fe.Field[strings.LastIndex(fe.Field, ".")+1:], "Min", l.Number(fe.Min), "Max", l.Number(fe.Max))
	case fe.Code == partnership.FieldOrgNrPrefix+partnership.FieldCode(orgnr.ReasonDigitCount):
		return l.N("errors.field."+code, int(fe.Min))
	case strings.HasPrefix(code, string(partnership.FieldOrgNrPrefix)):
		return l.T("errors.field."+code, "Char", fe.Value)
	}
	return l.T("errors.field."+code, "Min", l.Number(fe.Min), "Max", l.Number(fe.Max), "Value", fe.Value, "Date", dateOf(l, fe.Date))
}

// ruleMessage says in plain words which rule refused a change; names are
// the partnership's partners by id, so a partner is named, not numbered.
func ruleMessage(l *locale.Localizer, r *partnership.RuleError, names map[string]string) string {
	if r.Code == "" {
		return l.T("errors.rule.other")
	}
	partner := r.Value
	if n, ok := names[r.Value]; ok {
		partner = n
	}
	var cause string
	if r.Cause != nil {
		cause = ruleMessage(l, r.Cause, names)
	}
	name := r.Name
	switch r.Code {
	case partnership.RuleNotActive, partnership.RuleNotPaused, partnership.RuleAnchoringUnchanged,
		partnership.RuleCollaborationModelUnchanged, partnership.RuleRolePartnerNotActive:
		name = describe.Label(l, r.Name) // a status, a level, a model or a role
	}
	return l.T("errors.rule."+string(r.Code), "Date", dateOf(l, r.Date), "Name", name, "Partner", partner,
		"Type", describe.Label(l, r.Value), "Cause", cause)
}

// dateOf is the day of t in full, "" for the zero time.
func dateOf(l *locale.Localizer, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return l.Date(t)
}

// failureMessage says what a failure means to the person at the page.
func failureMessage(c *gin.Context, f edge.Failure) string {
	l := loc(c)
	switch f.Kind {
	case edge.KindForbidden:
		return forbiddenMessage(l, principal(c))
	case edge.KindNotFound, edge.KindStorageFull, edge.KindUnavailable, edge.KindValidation,
		edge.KindTooLarge, edge.KindInternal, edge.KindErased, edge.KindRule, edge.KindPrecondition,
		edge.KindUnauthorized:
		return l.T("errors.kind." + string(f.Kind))
	}
	return l.T("errors.kind.other")
}

// forbiddenMessage says why the principal may not change a partnership
// here, and what it may do instead.
func forbiddenMessage(l *locale.Localizer, p auth.Principal) string {
	if p.Role != auth.RoleCoordinator && p.Role != auth.RoleAdmin {
		return l.T("errors.forbidden.reader", "Role", l.T("pages.role."+roleKey(p.Role)))
	}
	names := make([]string, len(p.Municipalities))
	for i, m := range p.Municipalities {
		names[i] = describe.Municipality(string(m))
	}
	return l.T("errors.forbidden.coordinator", "Municipalities", strings.Join(names, ", "))
}

// roleKey is a role's message key; a role the pages do not know is a
// reader's.
func roleKey(role string) string {
	switch role {
	case auth.RoleAdmin, auth.RoleCoordinator, auth.RoleResearcher, auth.RoleViewer:
		return role
	}
	return auth.RoleViewer
}
