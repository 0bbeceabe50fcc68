package partnership

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/samspill/samspill/domain/calendar"
	"github.com/samspill/samspill/domain/kommune"
	"github.com/samspill/samspill/domain/orgnr"
)

// Event type names as stored. They are explicit constants, never derived
// from Go type names, so renaming a Go type cannot orphan stored history.
const (
	TypePartnershipInitiated = "PartnershipInitiated"
	TypePartnerJoined        = "PartnerJoined"
	TypePartnerLeft          = "PartnerLeft"
	TypeRolesAgreed          = "RolesAgreed"
	TypeGoalChanged          = "GoalChanged"
	TypeAgreementSigned      = "AgreementSigned"
	TypeFundingRecorded      = "FundingRecorded"
	TypeAnchoringChanged     = "AnchoringChanged"
	// TypeCollaborationModelChanged is the only event that changes the
	// collaboration model after the initiation: research treats the model
	// as a covariate that varies over a partnership's life.
	TypeCollaborationModelChanged = "CollaborationModelChanged"
	TypeMilestoneLogged           = "MilestoneLogged"
	TypeContactPersonAssigned     = "ContactPersonAssigned"
	TypePartnershipPaused         = "PartnershipPaused"
	TypePartnershipResumed        = "PartnershipResumed"
	TypePartnershipEnded          = "PartnershipEnded"
	TypeEntryCorrected            = "EntryCorrected"
)

// SchemaVersion is the payload schema version every event type is written
// with today. A changed shape gets a new version and an upcaster.
const SchemaVersion = 1

// Limits on free text and lists. They keep bodies sane and were chosen to
// fit what coordinators write, not any storage constraint.
const (
	maxTitle     = 200
	maxName      = 200
	maxText      = 2000
	maxLongText  = 10000
	maxGoal      = 500
	maxGoals     = 20
	maxPartners  = 50
	maxRoles     = 100
	maxResponsib = 20
	maxReference = 200
	maxPhone     = 32
	maxEmail     = 254
	maxPartnerID = 64
	// maxAmountNOK bounds one funding entry: ten billion kroner is more
	// than any municipality's yearly budget but Oslo's, so a larger amount
	// is a typo, and sums of bounded amounts stay far from overflowing.
	maxAmountNOK = 10_000_000_000
)

// Event is a partnership event payload.
type Event interface {
	// EventType is the stored type name.
	EventType() string
	// validate reports invalid fields; occurredAt is when the event happened.
	validate(f fieldErrors, occurredAt time.Time)
}

// Partner is an organisation taking part in a partnership.
type Partner struct {
	PartnerID string `json:"partner_id"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	OrgNo     string `json:"org_no,omitempty"`
}

// Role is a partner's agreed role and responsibilities.
type Role struct {
	PartnerID        string   `json:"partner_id"`
	Role             string   `json:"role"`
	Responsibilities []string `json:"responsibilities"`
}

// PartnershipInitiated starts a partnership; it is always the first event.
type PartnershipInitiated struct {
	PartnershipID      string    `json:"partnership_id"`
	Municipality       string    `json:"municipality"`
	Title              string    `json:"title"`
	Description        string    `json:"description"`
	ServiceArea        string    `json:"service_area"`
	CollaborationModel string    `json:"collaboration_model"`
	Partners           []Partner `json:"partners"`
	Goals              []string  `json:"goals"`
}

// PartnerJoined adds a partner.
type PartnerJoined struct {
	Partner Partner `json:"partner"`
}

// PartnerLeft removes an active partner.
type PartnerLeft struct {
	PartnerID string `json:"partner_id"`
	Reason    string `json:"reason"`
}

// RolesAgreed replaces the whole set of roles.
type RolesAgreed struct {
	Roles []Role `json:"roles"`
}

// GoalChanged replaces the whole list of goals.
type GoalChanged struct {
	Goals  []string `json:"goals"`
	Reason string   `json:"reason"`
}

// AgreementSigned records a signed agreement. Dates are YYYY-MM-DD;
// ValidUntil is optional.
type AgreementSigned struct {
	AgreementType string `json:"agreement_type"`
	ValidFrom     string `json:"valid_from"`
	ValidUntil    string `json:"valid_until,omitempty"`
	Reference     string `json:"reference"`
}

// FundingRecorded records funding in whole kroner for a period.
type FundingRecorded struct {
	AmountNOK   int64  `json:"amount_nok"`
	Source      string `json:"source"`
	PeriodFrom  string `json:"period_from"`
	PeriodUntil string `json:"period_until"`
}

// AnchoringChanged records a new level of anchoring in the administration.
type AnchoringChanged struct {
	Level string `json:"level"`
	Note  string `json:"note"`
}

// CollaborationModelChanged records that the partnership now works under
// another form of collaboration (a grant turned into co-governance, say).
// Reason is required: why the model changed is what researchers study.
type CollaborationModelChanged struct {
	CollaborationModel string `json:"collaboration_model"`
	Reason             string `json:"reason"`
}

// MilestoneLogged records a milestone.
type MilestoneLogged struct {
	Kind  string `json:"kind"`
	Title string `json:"title"`
	Note  string `json:"note"`
}

// ContactPersonAssigned names a partner's contact person. Name, Email and
// Phone are personal data.
type ContactPersonAssigned struct {
	ContactID string `json:"contact_id"`
	PartnerID string `json:"partner_id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
}

// PartnershipPaused pauses an active partnership.
type PartnershipPaused struct {
	Reason string `json:"reason"`
}

// PartnershipResumed resumes a paused partnership.
type PartnershipResumed struct {
	Reason string `json:"reason"`
}

// PartnershipEnded ends a partnership; after it only corrections follow.
type PartnershipEnded struct {
	Reason  string `json:"reason"`
	Outcome string `json:"outcome"`
}

// EntryCorrected retracts an earlier event of the same stream (no
// Replacement) or replaces its data with a payload of the same type.
type EntryCorrected struct {
	CorrectedEventID string          `json:"corrected_event_id"`
	Reason           string          `json:"reason"`
	Replacement      json.RawMessage `json:"replacement,omitempty"`
}

// EventType implementations.
func (PartnershipInitiated) EventType() string      { return TypePartnershipInitiated }
func (PartnerJoined) EventType() string             { return TypePartnerJoined }
func (PartnerLeft) EventType() string               { return TypePartnerLeft }
func (RolesAgreed) EventType() string               { return TypeRolesAgreed }
func (GoalChanged) EventType() string               { return TypeGoalChanged }
func (AgreementSigned) EventType() string           { return TypeAgreementSigned }
func (FundingRecorded) EventType() string           { return TypeFundingRecorded }
func (AnchoringChanged) EventType() string          { return TypeAnchoringChanged }
func (CollaborationModelChanged) EventType() string { return TypeCollaborationModelChanged }
func (MilestoneLogged) EventType() string           { return TypeMilestoneLogged }
func (ContactPersonAssigned) EventType() string     { return TypeContactPersonAssigned }
func (PartnershipPaused) EventType() string         { return TypePartnershipPaused }
func (PartnershipResumed) EventType() string        { return TypePartnershipResumed }
func (PartnershipEnded) EventType() string          { return TypePartnershipEnded }
func (EntryCorrected) EventType() string            { return TypeEntryCorrected }

func (e PartnershipInitiated) validate(f fieldErrors, occurredAt time.Time) {
	if e.PartnershipID == "" {
		f.add("partnership_id", FieldError{Code: FieldRequired}, "is required")
	}
	if _, err := kommune.ParseValidOn(e.Municipality, occurredAt); err != nil {
		municipalityError(f, e.Municipality, err)
	}
	text(f, "title", e.Title, 1, maxTitle)
	text(f, "description", e.Description, 0, maxLongText)
	vocabulary(f, "service_area", e.ServiceArea, ServiceAreas)
	vocabulary(f, "collaboration_model", e.CollaborationModel, CollaborationModels)
	validatePartners(f, e.Partners)
	validateGoals(f, e.Goals)
}

func validatePartners(f fieldErrors, partners []Partner) {
	switch {
	case len(partners) == 0:
		f.add("partners", FieldError{Code: FieldRequired}, "at least one partner is required")
		return
	case len(partners) > maxPartners:
		f.add("partners", FieldError{Code: FieldTooMany, Max: maxPartners}, "at most %d partners", maxPartners)
		return
	}
	external := false
	ids := map[string]bool{}
	orgs := map[string]bool{}
	for i, p := range partners {
		pf := f.at(fmt.Sprintf("partners[%d]", i))
		p.validate(pf)
		if p.Kind != KindMunicipalUnit {
			external = true
		}
		if p.PartnerID != "" && ids[p.PartnerID] {
			pf.add("partner_id", FieldError{Code: FieldDuplicate}, "appears twice")
		}
		ids[p.PartnerID] = true
		if p.OrgNo != "" {
			n, _ := orgnr.Parse(p.OrgNo)
			if n != "" && orgs[string(n)] {
				pf.add("org_no", FieldError{Code: FieldDuplicate}, "appears twice")
			}
			orgs[string(n)] = true
		}
	}
	if !external {
		f.add("partners", FieldError{Code: FieldNoExternal}, "at least one partner must be outside the municipality (kind other than %s)", KindMunicipalUnit)
	}
}

func (p Partner) validate(f fieldErrors) {
	if !validPartnerID(p.PartnerID) {
		f.add("partner_id", FieldError{Code: FieldPartnerID, Max: maxPartnerID}, "must be 1 to %d letters, digits, '-', '_' or '.', not starting with '.'", maxPartnerID)
	}
	text(f, "name", p.Name, 1, maxName)
	vocabulary(f, "kind", p.Kind, PartnerKinds)
	if p.OrgNo != "" {
		if _, err := orgnr.Parse(p.OrgNo); err != nil {
			orgNoError(f, "org_no", err)
		}
	}
}

// validPartnerID keeps client-chosen partner ids usable as a URL path
// segment (/partners/{partner_id}/leave).
func validPartnerID(id string) bool {
	if id == "" || len(id) > maxPartnerID || id[0] == '.' {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func validateGoals(f fieldErrors, goals []string) {
	if len(goals) == 0 || len(goals) > maxGoals {
		f.add("goals", FieldError{Code: FieldCount, Min: 1, Max: maxGoals}, "must hold 1 to %d goals", maxGoals)
		return
	}
	seen := map[string]bool{}
	for i, g := range goals {
		name := fmt.Sprintf("goals[%d]", i)
		text(f, name, g, 1, maxGoal)
		if seen[g] {
			f.add(name, FieldError{Code: FieldDuplicate}, "appears twice")
		}
		seen[g] = true
	}
}

func (e PartnerJoined) validate(f fieldErrors, _ time.Time) { e.Partner.validate(f.at("partner")) }

func (e PartnerLeft) validate(f fieldErrors, _ time.Time) {
	if e.PartnerID == "" {
		f.add("partner_id", FieldError{Code: FieldRequired}, "is required")
	}
	text(f, "reason", e.Reason, 1, maxText)
}

func (e RolesAgreed) validate(f fieldErrors, _ time.Time) {
	if len(e.Roles) == 0 || len(e.Roles) > maxRoles {
		f.add("roles", FieldError{Code: FieldCount, Min: 1, Max: maxRoles}, "must hold 1 to %d roles", maxRoles)
		return
	}
	seen := map[[2]string]bool{}
	for i, r := range e.Roles {
		rf := f.at(fmt.Sprintf("roles[%d]", i))
		if r.PartnerID == "" {
			rf.add("partner_id", FieldError{Code: FieldRequired}, "is required")
		}
		vocabulary(rf, "role", r.Role, RoleNames)
		key := [2]string{r.PartnerID, r.Role}
		if seen[key] {
			rf.add("role", FieldError{Code: FieldSameRoleTwice}, "this partner already has this role")
		}
		seen[key] = true
		if len(r.Responsibilities) > maxResponsib {
			rf.add("responsibilities", FieldError{Code: FieldTooMany, Max: maxResponsib}, "at most %d responsibilities", maxResponsib)
		}
		for j, s := range r.Responsibilities {
			text(rf, fmt.Sprintf("responsibilities[%d]", j), s, 1, maxGoal)
		}
	}
}

func (e GoalChanged) validate(f fieldErrors, _ time.Time) {
	validateGoals(f, e.Goals)
	text(f, "reason", e.Reason, 1, maxText)
}

func (e AgreementSigned) validate(f fieldErrors, _ time.Time) {
	vocabulary(f, "agreement_type", e.AgreementType, AgreementTypes)
	from, okFrom := requiredDate(f, "valid_from", e.ValidFrom)
	until, okUntil := optionalDate(f, "valid_until", e.ValidUntil)
	if okFrom && okUntil && e.ValidUntil != "" && until.Before(from) {
		f.add("valid_until", FieldError{Code: FieldEndsBeforeStart}, "must not be before valid_from")
	}
	text(f, "reference", e.Reference, 0, maxReference)
}

func (e FundingRecorded) validate(f fieldErrors, _ time.Time) {
	switch {
	case e.AmountNOK <= 0:
		f.add("amount_nok", FieldError{Code: FieldAmountNotPos}, "must be a positive whole number of kroner")
	case e.AmountNOK > maxAmountNOK:
		f.add("amount_nok", FieldError{Code: FieldAmountTooLarge, Max: maxAmountNOK}, "must be at most %d kroner", int64(maxAmountNOK))
	}
	text(f, "source", e.Source, 1, maxName)
	from, okFrom := requiredDate(f, "period_from", e.PeriodFrom)
	until, okUntil := requiredDate(f, "period_until", e.PeriodUntil)
	if okFrom && okUntil && until.Before(from) {
		f.add("period_until", FieldError{Code: FieldEndsBeforeStart}, "must not be before period_from")
	}
}

func (e AnchoringChanged) validate(f fieldErrors, _ time.Time) {
	vocabulary(f, "level", e.Level, AnchoringLevels)
	text(f, "note", e.Note, 0, maxText)
}

func (e CollaborationModelChanged) validate(f fieldErrors, _ time.Time) {
	vocabulary(f, "collaboration_model", e.CollaborationModel, CollaborationModels)
	text(f, "reason", e.Reason, 1, maxText)
}

func (e MilestoneLogged) validate(f fieldErrors, _ time.Time) {
	vocabulary(f, "kind", e.Kind, MilestoneKinds)
	text(f, "title", e.Title, 1, maxTitle)
	text(f, "note", e.Note, 0, maxText)
}

func (e ContactPersonAssigned) validate(f fieldErrors, _ time.Time) {
	if e.ContactID == "" {
		f.add("contact_id", FieldError{Code: FieldRequired}, "is required")
	}
	if e.PartnerID == "" {
		f.add("partner_id", FieldError{Code: FieldRequired}, "is required")
	}
	text(f, "name", e.Name, 1, maxName)
	if e.Email != "" {
		if a, err := mail.ParseAddress(e.Email); err != nil || a.Address != e.Email || len(e.Email) > maxEmail {
			f.add("email", FieldError{Code: FieldEmail}, "must be a plain e-mail address such as kari@example.no")
		}
	}
	if e.Phone != "" && !validPhone(e.Phone) {
		f.add("phone", FieldError{Code: FieldPhone, Max: maxPhone}, "must be digits, spaces and an optional leading +, at most %d characters", maxPhone)
	}
	if e.Email == "" && e.Phone == "" {
		f.add("email", FieldError{Code: FieldContactNeeded}, "give an e-mail address or a phone number")
	}
}

func validPhone(s string) bool {
	if len(s) > maxPhone {
		return false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ':
		case r == '+' && i == 0:
		default:
			return false
		}
	}
	return digits >= 3
}

func (e PartnershipPaused) validate(f fieldErrors, _ time.Time) {
	text(f, "reason", e.Reason, 1, maxText)
}

func (e PartnershipResumed) validate(f fieldErrors, _ time.Time) {
	text(f, "reason", e.Reason, 1, maxText)
}

func (e PartnershipEnded) validate(f fieldErrors, _ time.Time) {
	vocabulary(f, "reason", e.Reason, EndReasons)
	text(f, "outcome", e.Outcome, 0, maxText)
}

func (e EntryCorrected) validate(f fieldErrors, _ time.Time) {
	if e.CorrectedEventID == "" {
		f.add("corrected_event_id", FieldError{Code: FieldRequired}, "is required")
	}
	text(f, "reason", e.Reason, 1, maxText)
}

// text checks that s has between min and max characters and, when min > 0,
// is not blank.
func text(f fieldErrors, name, s string, min, max int) {
	n := utf8.RuneCountInString(s)
	switch {
	case !utf8.ValidString(s):
		f.add(name, FieldError{Code: FieldNotText}, "must be valid UTF-8")
	case min > 0 && strings.TrimSpace(s) == "":
		f.add(name, FieldError{Code: FieldRequired}, "is required")
	case n < min:
		f.add(name, FieldError{Code: FieldTooShort, Min: int64(min)}, "must have at least %d characters", min)
	case n > max:
		f.add(name, FieldError{Code: FieldTooLong, Max: int64(max)}, "must have at most %d characters", max)
	}
}

func vocabulary(f fieldErrors, name, v string, list []string) {
	if !inVocabulary(list, v) {
		f.add(name, FieldError{Code: FieldNotInList, Allowed: list}, "must be one of %s", strings.Join(list, ", "))
	}
}

// requiredDate parses a YYYY-MM-DD field that must be given.
func requiredDate(f fieldErrors, name, s string) (time.Time, bool) {
	if s == "" {
		f.add(name, FieldError{Code: FieldRequired}, "is required (YYYY-MM-DD)")
		return time.Time{}, false
	}
	return date(f, name, s)
}

// optionalDate parses a YYYY-MM-DD field that may be empty (the zero
// time).
func optionalDate(f fieldErrors, name, s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	return date(f, name, s)
}

// date parses a given YYYY-MM-DD field.
func date(f fieldErrors, name, s string) (time.Time, bool) {
	t, err := time.ParseInLocation(time.DateOnly, s, calendar.Oslo)
	if err != nil {
		f.add(name, FieldError{Code: FieldNotADate}, "must be a date YYYY-MM-DD")
		return time.Time{}, false
	}
	if t.Before(earliestDate) || t.After(latestDate) {
		f.add(name, FieldError{Code: FieldDateOutOfRange, Min: int64(earliestDate.Year()), Max: int64(latestDate.Year())}, "must be a date from %s to %s", calendar.Day(earliestDate), calendar.Day(latestDate))
		return time.Time{}, false
	}
	return t, true
}

// municipalityError records why code is not a municipality on the day of
// the initiation.
func municipalityError(f fieldErrors, code string, err error) {
	var notValid *kommune.NotValidOnError
	switch {
	case errors.As(err, &notValid):
		f.add("municipality", FieldError{Code: FieldKommuneNotValid, Value: string(notValid.Code), Date: notValid.Date, Other: string(notValid.Successor)}, "%s", notValid.Error())
	case errors.Is(err, kommune.ErrMalformed):
		f.add("municipality", FieldError{Code: FieldKommuneMalformed, Value: code}, "%q is not a kommunenummer (4 digits)", code)
	case errors.Is(err, kommune.ErrUnknown):
		f.add("municipality", FieldError{Code: FieldKommuneUnknown, Value: code}, "%q is not a municipality in SSB's classification 131", code)
	default:
		f.add("municipality", FieldError{Code: FieldKommuneUnknown, Value: code}, "%s", err.Error())
	}
}

// orgNoError records why orgnr.Parse refused an organisation number: the
// code orgnr_<reason>, with the character not allowed as Value, the
// digits given as Min, or the expected check digit as Other.
func orgNoError(f fieldErrors, name string, err error) {
	e := FieldError{Code: FieldOrgNrPrefix}
	var o *orgnr.Error
	if errors.As(err, &o) {
		e.Code += FieldCode(o.Reason)
		switch o.Reason {
		case orgnr.ReasonCharacter:
			e.Value = string(o.Char)
		case orgnr.ReasonDigitCount:
			e.Min = int64(o.Digits)
		case orgnr.ReasonCheckDigit:
			e.Other = strconv.Itoa(o.Want)
		}
	}
	f.add(name, e, "%v", err)
}
